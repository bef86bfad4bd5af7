"""Wait for alerts to travel Prometheus → Alertmanager → sink, with a hook per poll."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from infra.config import Severity, StackConfig
from infra.local.observe import Snapshot
from infra.local.scenarios import WATCHDOG, Scenario


@dataclass(frozen=True, order=True)
class Delivery:
    """Alert ``alert`` of ``severity`` reaching ``receiver``."""

    alert: str
    severity: str
    receiver: str

    def __str__(self) -> str:
        return f"{self.alert} ({self.severity}) -> {self.receiver}"


def expected_deliveries(
    cfg: StackConfig, scenario: Scenario, *, watchdog: bool = True
) -> set[Delivery]:
    """Where the routing config sends each alert the scenario must raise (and Watchdog)."""
    wanted = {
        Delivery(e.alert, e.severity.value, r)
        for e in scenario.expects
        for r in cfg.routing.receivers_for(e.severity)
    }
    if watchdog:
        wanted |= {
            Delivery(WATCHDOG, Severity.info.value, r)
            for r in cfg.routing.receivers_for(Severity.info)
        }
    return wanted


def missing(snap: Snapshot, wanted: Iterable[Delivery], since: float) -> set[Delivery]:
    return {d for d in wanted if not snap.delivered(d.alert, d.severity, d.receiver, since)}


class DeliveryTimeout(AssertionError):
    def __init__(self, left: set[Delivery], snap: Snapshot, timeout: float) -> None:
        self.left, self.snapshot = left, snap
        firing = sorted(f"{a.name}/{a.severity}:{a.state}" for a in snap.prom_alerts)
        got = sorted(
            f"{n.receiver}<-{a.name}/{a.severity}:{a.status}"
            for n in snap.notifications
            for a in n.alerts
        )
        super().__init__(
            f"not delivered within {timeout:.0f}s: {', '.join(map(str, sorted(left)))}\n"
            f"  prometheus alerts: {firing}\n  sink received: {got}\n"
            f"  errors: {list(snap.errors)}"
        )


def wait_for(
    read: Callable[[], Snapshot],
    wanted: set[Delivery],
    *,
    since: float,
    timeout: float,
    on_poll: Callable[[Snapshot], None] | None = None,
    interval: float = 0.25,
) -> Snapshot:
    """Poll until every delivery in ``wanted`` was received after ``since`` (epoch seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        snap = read()
        if on_poll is not None:
            on_poll(snap)
        left = missing(snap, wanted, since)
        if not left:
            return snap
        if time.monotonic() > deadline:
            raise DeliveryTimeout(left, snap, timeout)
        time.sleep(interval)

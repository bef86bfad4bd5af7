"""Every fault scenario: its alert travels real Prometheus → real Alertmanager → sink and
reaches exactly the receivers the routing config names; a warning is inhibited while the
matching critical fires; ``normal`` raises only Watchdog.

Inhibition is checked inside the scenarios that cause it (``Scenario.inhibited``), so the
suite resets the stack once per scenario."""

from __future__ import annotations

import time

import pytest

from infra.config import Severity, StackConfig
from infra.config.types import parse_duration
from infra.local.observe import Snapshot
from infra.local.scenarios import FAULTS, SCENARIOS, WATCHDOG, Scenario
from infra.local.stack import LocalStack
from infra.local.waiting import expected_deliveries, wait_for

pytestmark = pytest.mark.e2e

DELIVERY_TIMEOUT = 60.0


def test_normal_traffic_raises_nothing_but_watchdog(
    local_stack: LocalStack, local_cfg: StackConfig
) -> None:
    local_stack.reset("normal")
    wait_for(
        local_stack.snapshot,
        expected_deliveries(local_cfg, SCENARIOS["normal"]),
        since=0,
        timeout=DELIVERY_TIMEOUT,
    )
    # Any other rule whose condition held would show as pending at once; watch long enough
    # for the rate() rules to have several samples.
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        snap = local_stack.snapshot()
        others = {a.name for a in snap.prom_alerts if a.name != WATCHDOG}
        assert not others, f"normal traffic raised {others}"
        time.sleep(0.5)
    notified = {a.name for n in snap.notifications for a in n.alerts}
    assert notified == {WATCHDOG}
    assert {n.receiver for n in snap.notifications} == set(
        local_cfg.routing.receivers_for(Severity.info)
    )


@pytest.mark.parametrize("name", FAULTS)
def test_fault_reaches_exactly_its_receivers(
    local_stack: LocalStack, local_cfg: StackConfig, name: str
) -> None:
    scenario = SCENARIOS[name]
    local_stack.reset(name)
    wanted = expected_deliveries(local_cfg, scenario)
    snap = wait_for(local_stack.snapshot, wanted, since=0, timeout=DELIVERY_TIMEOUT)
    for expectation in scenario.expects:
        got = snap.receivers_of(expectation.alert, expectation.severity.value)
        assert got == set(local_cfg.routing.receivers_for(expectation.severity)), (
            f"{expectation.alert} reached {got}"
        )
    _assert_labels(snap, local_cfg)
    if scenario.inhibited:  # redis-down, budget-burn: a warning must be inhibited meanwhile
        _assert_inhibited(local_stack, local_cfg, scenario)


def _assert_labels(snap: Snapshot, cfg: StackConfig) -> None:
    for n in snap.notifications:
        for a in n.alerts:
            assert a.labels["service"] == cfg.services[0].name
            assert a.labels["environment"] == cfg.environment
            assert a.labels["severity"] in {s.value for s in Severity}
            assert a.annotations["runbook_url"].endswith(f"/{a.name}.md")


def _assert_inhibited(stack: LocalStack, cfg: StackConfig, scenario: Scenario) -> None:
    """Each listed warning fires in Prometheus, is suppressed by Alertmanager (inhibitedBy
    the scenario's critical alert), and never reaches a receiver."""
    targets = {(e.alert, e.severity.value) for e in scenario.inhibited}

    def suppressed(snap: Snapshot) -> set[tuple[str, str]]:
        return {(a.name, a.severity) for a in snap.am_alerts if a.inhibited_by} & targets

    deadline = time.monotonic() + DELIVERY_TIMEOUT
    snap = stack.snapshot()
    while suppressed(snap) != targets:
        assert time.monotonic() < deadline, f"never inhibited in Alertmanager: {targets}"
        time.sleep(0.5)
        snap = stack.snapshot()
    firing = {(a.name, a.severity) for a in snap.prom_alerts if a.state == "firing"}
    assert targets <= firing, "the inhibited warning must be firing in Prometheus"
    # Give Alertmanager a full group_wait + group_interval to (wrongly) notify it.
    time.sleep(
        parse_duration(cfg.routing.group_wait) + parse_duration(cfg.routing.group_interval) + 1
    )
    leaked = {
        (n.receiver, a.name)
        for n in stack.snapshot().notifications
        for a in n.alerts
        if (a.name, a.severity) in targets and a.status == "firing"
    }
    assert not leaked, f"inhibited warning was notified: {leaked}"

"""``pipeline-down``: the dead-man's switch proved end to end on the local stack.

The sink plays UptimeRobot's heartbeat monitor for the receiver ``Watchdog`` is routed to
(see ``infra.local.sink``). Its compressed interval is the ``info`` route's repeat in the
rendered local ``alertmanager.yml`` (each repeat is one ping, as in production), and its grace
is half that, at least ``group_interval`` + evaluation interval + 5s: a healthy stack pings at
most every repeat + group_interval (+ one evaluation), well inside interval + grace, while a
dead Prometheus or Alertmanager is noticed within interval + grace of its last ping.

The scenario stops one component by PID (``state.json`` keeps its record, so ``status`` and
``down`` say it is stopped), waits for the sink to report ``missed``, restarts the component
with the same config, port and storage, and waits for a ping that brings ``up`` back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from infra.config import Severity, StackConfig
from infra.config.types import parse_duration
from infra.render.alertmanager import watchdog_repeat_interval

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

PIPELINE_DOWN = "pipeline-down"
COMPONENTS = ("prometheus", "alertmanager")


@dataclass(frozen=True)
class HeartbeatTiming:
    receiver: str
    interval: int
    grace: int

    @property
    def limit(self) -> int:
        return self.interval + self.grace

    def sink_args(self) -> list[str]:
        return [
            "--heartbeat-receiver", self.receiver,
            "--heartbeat-interval", str(self.interval),
            "--heartbeat-grace", str(self.grace),
        ]  # fmt: skip


def heartbeat_timing(cfg: StackConfig) -> HeartbeatTiming:
    """The compressed heartbeat monitor of ``cfg``'s local stack (see the module docstring)."""
    routing = cfg.routing
    interval = parse_duration(watchdog_repeat_interval(cfg) or routing.repeat_interval)
    floor = (
        parse_duration(routing.group_interval)
        + parse_duration(cfg.prometheus.evaluation_interval)
        + 5
    )
    return HeartbeatTiming(
        routing.receivers_for(Severity.info)[0], interval, max(interval // 2, floor)
    )


def read_heartbeat(sink_url: str) -> dict[str, Any]:
    with httpx.Client(trust_env=False, timeout=3.0) as client:
        response = client.get(f"{sink_url}/heartbeat")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def describe_heartbeat(hb: dict[str, Any], now: float | None = None) -> str:
    now = time.time() if now is None else now
    last = hb.get("last_ping")
    ago = "no ping yet" if last is None else f"last ping {now - last:.0f}s ago"
    missed = [e["missed_at"] for e in hb.get("events", ()) if "missed_at" in e]
    since = ""
    if hb["state"] == "missed" and missed:
        since = f", missed since {time.strftime('%H:%M:%S', time.localtime(missed[-1]))}"
    return (
        f"{hb['state']} ({ago}; missed after interval {hb['interval']:g}s + grace "
        f"{hb['grace']:g}s){since}"
    )


@dataclass(frozen=True)
class PipelineDownResult:
    component: str
    stopped_at: float
    missed_at: float
    restarted_at: float
    up_at: float

    @property
    def missed_after(self) -> float:
        return self.missed_at - self.stopped_at

    @property
    def up_after(self) -> float:
        return self.up_at - self.restarted_at


def _wait_state(
    sink_url: str,
    want: str,
    key: str,
    after: float,
    timeout: float,
    report: Callable[[str], None],
    t0: float,
) -> float:
    """Poll the sink until it logged a change to ``want`` after ``after``; its time."""
    deadline = time.monotonic() + timeout
    last_report = 0.0
    while True:
        hb = read_heartbeat(sink_url)
        hits = [e[key] for e in hb["events"] if key in e and e[key] >= after]
        if hb["state"] == want and hits:
            return float(hits[0])
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the sink did not report the heartbeat {want} within {timeout:.0f}s "
                f"(now: {describe_heartbeat(hb)})"
            )
        if time.monotonic() - last_report >= 5:
            last_report = time.monotonic()
            report(f"  +{time.time() - t0:5.1f}s  heartbeat {describe_heartbeat(hb)}")
        time.sleep(0.25)


def run_pipeline_down(
    stack: LocalStack,
    component: str,
    *,
    timeout: float,
    report: Callable[[str], None] = print,
) -> PipelineDownResult:
    """Stop ``component``, wait for ``missed``, restart it, wait for ``up``; the times."""
    timing = heartbeat_timing(stack.cfg)
    sink = stack.url("sink")
    t0 = time.time()
    report(
        f"scenario {PIPELINE_DOWN}: stop {component}, expect the heartbeat "
        f"({timing.receiver}) missed within {timing.limit}s "
        f"(interval {timing.interval}s + grace {timing.grace}s)"
    )
    hb = read_heartbeat(sink)
    if hb["state"] != "up":
        report(f"  waiting for a first ping ({describe_heartbeat(hb)})")
        _wait_state(sink, "up", "up_at", 0, timeout, report, t0)
    pid = stack.records[component].pid
    stack.stop_component(component)
    stopped = time.time()
    report(f"  +{stopped - t0:5.1f}s  stopped {component} (pid {pid})")
    missed = _wait_state(sink, "missed", "missed_at", stopped, timeout, report, t0)
    report(f"  +{missed - t0:5.1f}s  MISSED    the sink noticed it {missed - stopped:.1f}s after")
    stack.start_component(component)
    restarted = time.time()
    report(
        f"  +{restarted - t0:5.1f}s  restarted {component} "
        f"(pid {stack.records[component].pid}, same port and storage)"
    )
    up = _wait_state(sink, "up", "up_at", restarted, timeout, report, t0)
    report(f"  +{up - t0:5.1f}s  UP        a ping arrived {up - restarted:.1f}s after the restart")
    return PipelineDownResult(component, stopped, missed, restarted, up)

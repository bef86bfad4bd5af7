"""Restarting Alertmanager mid-scenario loses no firing alert.

Prometheus re-sends every firing alert each evaluation (resend delay = evaluation interval),
so an alert that starts firing while Alertmanager is down is delivered once it is back; and
Alertmanager keeps its notification log on disk, so an alert notified before a restart is
notified again after it, at the latest when the repeat interval has passed.
"""

from __future__ import annotations

import time

import pytest

from infra.config import StackConfig
from infra.config.types import parse_duration
from infra.local import procs
from infra.local.scenarios import SCENARIOS
from infra.local.stack import LocalStack
from infra.local.waiting import expected_deliveries, wait_for

pytestmark = pytest.mark.e2e

ALERT = "RedisUnavailable"


def _firing_in_prometheus(stack: LocalStack, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(a.name == ALERT and a.state == "firing" for a in stack.snapshot().prom_alerts):
        assert time.monotonic() < deadline, f"{ALERT} never fired in Prometheus"
        time.sleep(0.25)


def test_alertmanager_restarts_lose_no_firing_alert(
    local_stack: LocalStack, local_cfg: StackConfig
) -> None:
    local_stack.reset("normal")
    wait_for(
        local_stack.snapshot,
        expected_deliveries(local_cfg, SCENARIOS["normal"]),
        since=0,
        timeout=60,
    )
    wanted = expected_deliveries(local_cfg, SCENARIOS["redis-down"], watchdog=False)

    # 1. The alert starts firing while Alertmanager is down: delivered when it is back.
    first = local_stack.records["alertmanager"]
    local_stack.stop_component("alertmanager")
    assert not procs.is_running(first)
    local_stack.set_scenario("redis-down")
    _firing_in_prometheus(local_stack)
    back = time.time()
    local_stack.start_alertmanager()
    wait_for(local_stack.snapshot, wanted, since=back, timeout=60)

    # 2. Restart while it fires and was already notified: it is notified again.
    second = local_stack.records["alertmanager"]
    local_stack.restart_alertmanager()
    assert not procs.is_running(second)
    assert local_stack.records["alertmanager"].port == first.port
    restarted = time.time()
    timeout = parse_duration(local_cfg.routing.repeat_interval) + 30
    wait_for(local_stack.snapshot, wanted, since=restarted, timeout=timeout)
    assert any(a.name == ALERT and a.state == "active" for a in local_stack.snapshot().am_alerts)

"""``monitoring local scenario pipeline-down``: the dead-man's switch, end to end.

A stack of its own (the scenario restarts a component from a separate CLI process, which the
session stack's in-memory records would not know about), driven as a user drives it. The sink
plays the heartbeat monitor: stopping Prometheus or Alertmanager makes it record ``missed``
within interval + grace of the stop, plus SLACK; restarting it brings a ping and ``up`` back.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.config import StackConfig
from infra.local import procs
from infra.local.pipeline import heartbeat_timing

from .harness import kill_leftovers, local, recorded, spawn_local, stack_pids

pytestmark = pytest.mark.e2e

# After the stop, Alertmanager may still hold Watchdog as firing until its endsAt (4
# evaluation intervals, 4s) and send one more repeat in the next group_interval (2s); the
# sink's watcher looks every 0.2s. 10s covers all three with room for a busy machine.
SLACK = 10.0


def _heartbeat(sink: procs.ProcessRecord) -> dict[str, Any]:
    with httpx.Client(trust_env=False, timeout=3) as client:
        data: dict[str, Any] = client.get(f"{sink.url}/heartbeat").json()
        return data


@pytest.mark.parametrize("component", ["prometheus", "alertmanager"])
def test_pipeline_down_is_missed_then_cleared(
    tmp_path: Path, local_cfg: StackConfig, component: str
) -> None:
    state = tmp_path / "stack"
    timing = heartbeat_timing(local_cfg)
    # A healthy stack never looks dead: pings come every repeat + group_interval at most.
    assert timing.limit > 30 + 2 + 1 + 5
    try:
        up = local(state, "up")
        assert up.returncode == 0, up.stderr
        before = recorded(state)
        old = before[component]

        started = time.time()
        cli = spawn_local(state, "scenario", "pipeline-down", "--component", component)
        # While it is stopped, state.json still names it and `status` says it is not running.
        deadline = time.monotonic() + 120
        while procs.is_running(old):
            assert cli.poll() is None, f"the scenario ended first: {cli.communicate()}"
            assert time.monotonic() < deadline, f"{component} was never stopped"
            time.sleep(0.1)
        assert recorded(state)[component].pid == old.pid
        mid = local(state, "status")
        assert mid.returncode == 1
        assert f"{component} (pid {old.pid}) not running" in mid.stderr

        out, err = cli.communicate(timeout=300)
        assert cli.returncode == 0, f"{out}\n{err}"
        assert "MISSED" in out and "UP " in out, out
        summary = re.search(r"missed ([\d.]+)s after the stop, up again ([\d.]+)s", out)
        assert summary, out
        assert float(summary[1]) <= timing.limit + SLACK, out

        after = recorded(state)
        new = after[component]
        assert new.pid != old.pid and new.port == old.port
        assert not procs.is_running(old) and procs.is_running(new)

        hb = _heartbeat(after["sink"])
        assert hb["state"] == "up", hb
        assert (hb["interval"], hb["grace"]) == (timing.interval, timing.grace)
        events: list[dict[str, Any]] = hb["events"]
        missed = [e for e in events if e["heartbeat"] == "missed"]
        assert len(missed) == 1 and missed[0]["missed_at"] > started, events
        # missed means exactly: no ping for interval + grace (the watcher looks every 0.2s;
        # 2s allows for a busy machine)
        gap = missed[0]["missed_at"] - missed[0]["last_ping"]
        assert timing.limit < gap <= timing.limit + 2, events
        assert events[-1]["heartbeat"] == "up" and events[-1]["up_at"] > missed[0]["missed_at"]
        # the log file keeps the miss too
        log = (state / "notifications.jsonl").read_text()
        assert f'"missed_at": {missed[0]["missed_at"]}' in log

        status = local(state, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert "heartbeat (the sink as dead-man's switch): up" in status.stdout

        down = local(state, "down")
        assert down.returncode == 0, down.stderr
        every = [*before.values(), *after.values()]
        assert not [r for r in every if procs.is_running(r)]
        assert stack_pids(state) == []
    finally:
        kill_leftovers(state)

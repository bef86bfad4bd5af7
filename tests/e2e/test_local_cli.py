"""The CLI as a user runs it: ``up`` in one process, ``status``/``scenario``/``down`` in
others, so ``down`` must find and stop the processes by the PIDs in ``state.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.local import procs
from infra.local.stack import MissingTool, find_tools
from tests.e2e.harness import local, one_line, recorded

pytestmark = pytest.mark.e2e


def test_up_scenario_status_down_from_separate_processes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = local(state, "up")
    records = recorded(state)
    try:
        assert up.returncode == 0, up.stderr
        assert set(records) == {"sink", "exporter", "alertmanager", "prometheus"}
        assert all(procs.is_running(r) for r in records.values())
        assert all(f"127.0.0.1:{r.port}" in r.url for r in records.values())

        played = local(state, "scenario", "db-failing", "--wait", "--timeout", "60")
        assert played.returncode == 0, played.stdout + played.stderr
        assert "NOTIFIED  pagerduty-oncall <- DatabaseConnectionFailures" in played.stdout

        status = local(state, "status")
        assert status.returncode == 0, status.stderr
        assert "agenzia-ai-api" in status.stdout and "up" in status.stdout
        assert "firing   DatabaseConnectionFailures" in status.stdout
        assert "email-oncall" in status.stdout and "scenario: db-failing" in status.stdout
    finally:
        down = local(state, "down")
    assert down.returncode == 0, down.stderr
    assert not any(procs.is_running(r) for r in records.values())
    assert not (state / "state.json").exists()
    assert local(state, "down").stdout.startswith("no local stack is running")


def test_up_twice_refuses_and_keeps_the_first(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    # Recorded processes that are alive (this test) must not be replaced or stopped.
    stat = Path("/proc/self/stat").read_text()
    pid, ticks = int(stat.split()[0]), int(stat[stat.rindex(")") + 2 :].split()[19])
    processes = {
        name: procs.ProcessRecord(name, pid, ticks, 1, ("x",), "x").to_json()
        for name in ("sink", "exporter", "alertmanager", "prometheus")
    }
    (state / "state.json").write_text(
        json.dumps({"stack": "local", "complete": True, "owner": None, "processes": processes})
    )
    result = local(state, "up")
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"monitoring local up: a local stack is already running (pids in {state}/state.json); "
        "stop it with: monitoring local down"
    )
    (state / "state.json").unlink()  # never `down` here: it would signal this very process


def test_missing_tools_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(
        MissingTool, match=r"prometheus, prometheus-alertmanager; run ./scripts/setup"
    ):
        find_tools()

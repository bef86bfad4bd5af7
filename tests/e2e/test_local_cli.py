"""The CLI as a user runs it: ``up`` in one process, ``status``/``scenario``/``down`` in
others, so ``down`` must find and stop the processes by the PIDs in ``state.json``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local import procs
from infra.local.stack import MissingTool, find_tools, read_state

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def local(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # `python -m infra.local.cli` registers the same subcommands `monitoring local` does.
    return subprocess.run(
        [sys.executable, "-m", "infra.local.cli", "local", "--state-dir", str(state), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_up_scenario_status_down_from_separate_processes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = local(state, "up")
    records = read_state(state)
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
    assert local(state, "down").stdout.startswith("no local stack recorded")


def test_up_twice_refuses_and_keeps_the_first(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    # A recorded process that is alive (this test) must not be replaced or stopped.
    stat = Path("/proc/self/stat").read_text()
    me = procs.ProcessRecord(
        "sink", int(stat.split()[0]), int(stat[stat.rindex(")") + 2 :].split()[19]), 1, ("x",), "x"
    )
    (state / "state.json").write_text(
        json.dumps({"stack": "local", "processes": {"sink": me.to_json()}})
    )
    result = local(state, "up")
    assert result.returncode == 1
    assert "already running" in result.stderr
    (state / "state.json").unlink()  # never `down` here: it would signal this very process


def test_missing_tools_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(
        MissingTool, match=r"prometheus, prometheus-alertmanager; run ./scripts/setup"
    ):
        find_tools()

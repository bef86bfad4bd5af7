"""``status`` tells the truth, and every command words the state of a stack alike.

``status`` fails when Prometheus has not loaded exactly the rule groups of the rendered rule
files, or when a recorded process is dead; ``scenario`` says the same; ``up`` replaces a
broken stack; ``down`` says which processes it stopped and which were already gone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from infra.local import procs
from infra.local.stack import LocalStack
from tests.e2e.harness import kill_leftovers, local, one_line, recorded, stack_pids

pytestmark = pytest.mark.e2e

COMPONENTS = ("sink", "exporter", "alertmanager", "prometheus")


def _reload(prometheus: str) -> None:
    httpx.post(f"{prometheus}/-/reload", timeout=10).raise_for_status()


def test_status_fails_while_prometheus_lacks_a_rendered_rule_group(
    local_stack: LocalStack,
) -> None:
    state = local_stack.state_dir
    assert local(state, "status").returncode == 0
    files = sorted((state / "rules").glob("*.rules.yml"))
    total = sum(len(yaml.safe_load(f.read_text())["groups"]) for f in files)
    victim, text = files[0], files[0].read_text()
    groups = sorted(g["name"] for g in yaml.safe_load(text)["groups"])
    victim.unlink()
    try:
        _reload(local_stack.url("prometheus"))
        status = local(state, "status")
        assert status.returncode == 1
        assert one_line(status.stderr) == (
            f"monitoring local status: prometheus has loaded {total - len(groups)} rule groups, "
            f"the rendered rule files have {total} (missing {', '.join(groups)}); "
            "run: monitoring local down, then monitoring local up"
        )
    finally:
        victim.write_text(text)
        _reload(local_stack.url("prometheus"))
    assert local(state, "status").returncode == 0


def _alive_stand_in(state: Path) -> subprocess.Popen[bytes]:
    """A process that plays the sink: alive, recorded by its real PID and start time, and
    found by stack_pids() through its log file like the real ones."""
    log = state / "logs" / "sink.log"
    log.parent.mkdir(parents=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)"],
            stdout=out,
            start_new_session=True,
        )


def _record(name: str, pid: int) -> dict[str, object]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
    return procs.ProcessRecord(name, pid, ticks, 1, ("x",), "x").to_json()


def test_a_dead_process_is_reported_alike_by_every_command(tmp_path: Path) -> None:
    state = tmp_path / "state"
    sink = _alive_stand_in(state)
    finished = [subprocess.Popen(["true"]) for _ in COMPONENTS[1:]]
    dead = {name: _record(name, p.pid) for name, p in zip(COMPONENTS[1:], finished, strict=True)}
    for p in finished:
        p.wait()
    processes = {"sink": _record("sink", sink.pid), **dead}
    (state / "state.json").write_text(
        json.dumps({"stack": "local", "complete": True, "owner": None, "processes": processes})
    )
    gone = ", ".join(f"{n} (pid {r['pid']})" for n, r in dead.items())
    broken = (
        f"the stack in {state}/state.json is broken: {gone} not running; run: monitoring local down"
    )
    try:
        status = local(state, "status")
        assert status.returncode == 1
        assert status.stderr.rstrip().splitlines()[0] == f"monitoring local status: {broken}"
        assert f"{'exporter':<13} pid {dead['exporter']['pid']}" in status.stdout
        assert "NOT RUNNING" in status.stdout
        scenario = local(state, "scenario", "api-down")
        assert scenario.returncode == 1
        assert one_line(scenario.stderr) == f"monitoring local scenario: {broken}"

        up = local(state, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"{broken.split(';')[0]}; stopping what is left of it first" in up.stdout
        assert f"stopped {'sink':<13} pid {sink.pid}" in up.stdout
        for name, r in dead.items():
            assert f"{name:<13} pid {r['pid']} was already gone" in up.stdout
        assert sink.wait(timeout=10) is not None

        exporter = recorded(state)["exporter"]
        procs.stop(exporter)
        down = local(state, "down")
        assert down.returncode == 0, down.stderr
        assert f"{'exporter':<13} pid {exporter.pid} was already gone" in down.stdout
        for name in ("sink", "alertmanager", "prometheus"):
            assert f"stopped {name:<13} pid" in down.stdout
        assert stack_pids(state) == []

        nothing = f"no local stack is running (no {state}/state.json)"
        status = local(state, "status")
        assert (status.returncode, one_line(status.stderr)) == (
            1,
            f"monitoring local status: {nothing}; start one with: monitoring local up",
        )
        scenario = local(state, "scenario", "api-down")
        assert (scenario.returncode, one_line(scenario.stderr)) == (
            1,
            f"monitoring local scenario: {nothing}; start one with: monitoring local up",
        )
        assert local(state, "down").stdout == f"{nothing}; nothing to stop\n"
    finally:
        if sink.poll() is None:
            sink.kill()
        sink.wait()
        local(state, "down")
        assert kill_leftovers(state) == []

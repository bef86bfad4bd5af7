"""``monitoring local up`` is all or nothing, however it is interrupted.

Ctrl-C and SIGTERM: the interrupted ``up`` stops every process it had started (found here by
their log files, not by what ``up`` says) and removes ``state.json``. SIGKILL cannot be
caught: the processes stay, ``status`` names the half-started stack and the command to run,
and the next ``up`` stops them before starting afresh. In every case the next ``up`` works.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from infra.local import procs
from tests.e2e.harness import (
    kill_leftovers,
    local,
    one_line,
    recorded,
    spawn_local,
    stack_pids,
    wait_recorded,
)

pytestmark = pytest.mark.e2e


def _next_up_works_and_goes_down(state: Path) -> None:
    again = local(state, "up")
    assert again.returncode == 0, again.stdout + again.stderr
    status = local(state, "status")
    assert status.returncode == 0, status.stderr
    down = local(state, "down")
    assert down.returncode == 0, down.stderr
    assert stack_pids(state) == []


def _stop(cli: subprocess.Popen[str]) -> None:
    if cli.poll() is None:
        cli.kill()
    cli.communicate()


@pytest.mark.parametrize(
    ("sig", "after"),
    [
        # Ctrl-C once the first process is up; the next one may be mid-start, unready.
        (signal.SIGINT, "sink"),
        # `kill` while Prometheus waits for its first scrape, before any rule group is loaded.
        (signal.SIGTERM, "prometheus"),
    ],
    ids=["SIGINT-after-sink", "SIGTERM-after-prometheus"],
)
def test_interrupted_up_stops_everything_it_started(
    tmp_path: Path, sig: signal.Signals, after: str
) -> None:
    state = tmp_path / "state"
    cli = spawn_local(state, "up")
    try:
        seen = wait_recorded(state, after, cli)
        cli.send_signal(sig)
        _, err = cli.communicate(timeout=60)
        # 130/143, or death by the signal itself, which a shell reports as the same $?. Under
        # heavy CPU load (2 runs in about 25 here) the CLI has ended by SIGINT after its
        # cleanup and its message; why is not pinned down. The checks below hold either way.
        assert cli.returncode in (128 + sig, -sig), err
        assert one_line(err) == f"monitoring local up: interrupted by {sig.name}"
        assert stack_pids(state) == [], "processes of the interrupted stack are still running"
        assert not any(procs.is_running(r) for r in seen.values())
        assert not (state / "state.json").exists()

        status = local(state, "status")
        assert status.returncode == 1
        assert "no local stack is running" in one_line(status.stderr)
        _next_up_works_and_goes_down(state)
    finally:
        _stop(cli)
        local(state, "down")
        assert kill_leftovers(state) == []


def test_up_killed_outright_is_cleared_by_the_next_up(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cli = spawn_local(state, "up")
    try:
        wait_recorded(state, "prometheus", cli)
        cli.kill()
        cli.wait()
        left = recorded(state)  # nothing could run in the killed CLI: all of it is left
        assert set(left) == {"sink", "exporter", "alertmanager", "prometheus"}
        assert stack_pids(state) == sorted(r.pid for r in left.values())

        status = local(state, "status")
        assert status.returncode == 1
        assert one_line(status.stderr) == (
            f"monitoring local status: the stack in {state}/state.json was left half-started "
            f"by an interrupted `monitoring local up` (pid {cli.pid}); "
            "run: monitoring local down"
        )

        again = local(state, "up")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "left half-started by an interrupted `monitoring local up`" in again.stdout
        for record in left.values():
            assert f"stopped {record.name:<13} pid {record.pid}" in again.stdout
        assert not any(procs.is_running(r) for r in left.values())
        assert local(state, "status").returncode == 0
        assert local(state, "down").returncode == 0
        assert stack_pids(state) == []
    finally:
        _stop(cli)
        local(state, "down")
        assert kill_leftovers(state) == []

"""Run ``monitoring local`` as a user does (a separate process per command) and find every
process of a stack, recorded or not.

A stack's processes are found by their standard output: each one writes to
``<state dir>/logs/<name>.log``, so a process whose fd 1 points into a test's state directory
belongs to that test, whether or not ``state.json`` (or the code under test) knows about it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infra.local import procs

ROOT = Path(__file__).resolve().parents[2]


def _argv(state: Path, *args: str) -> list[str]:
    # `python -m infra.cli` is the `monitoring` entry point.
    return [sys.executable, "-m", "infra.cli", "local", "--state-dir", str(state), *args]


def local(state: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _argv(state, *args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_local(state: Path, *args: str) -> subprocess.Popen[str]:
    """Start a command to signal it midway; SIGINT acts as Ctrl-C even if this run ignores it."""
    return subprocess.Popen(
        _argv(state, *args),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def recorded(state: Path) -> dict[str, procs.ProcessRecord]:
    """The processes ``state.json`` lists now (read without the code under test's parser)."""
    try:
        data = json.loads((state / "state.json").read_text())
    except FileNotFoundError:
        return {}
    return {
        name: procs.ProcessRecord(
            r["name"], r["pid"], r["start_ticks"], r["port"], tuple(r["argv"]), r["log"]
        )
        for name, r in data["processes"].items()
    }


def wait_recorded(
    state: Path, name: str, cli: subprocess.Popen[str], timeout: float = 60
) -> dict[str, procs.ProcessRecord]:
    """Poll ``state.json`` until ``name`` is recorded and running; return what it lists."""
    deadline = time.monotonic() + timeout
    while True:
        records = recorded(state)
        if name in records and procs.is_running(records[name]):
            return records
        assert cli.poll() is None, f"the CLI ended first: {cli.communicate()}"
        assert time.monotonic() < deadline, f"{name} never recorded in {state}/state.json"
        time.sleep(0.02)


def stack_pids(state: Path) -> list[int]:
    """Live processes whose stdout is a log file in ``state`` (zombies have no fds)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            target = os.readlink(entry / "fd" / "1")
        except OSError:
            continue
        if target.startswith(f"{state.resolve()}/"):
            found.append(int(entry.name))
    return sorted(found)


def kill_leftovers(state: Path) -> list[int]:
    """Test cleanup: SIGKILL every process of ``state``'s stack by PID; return their PIDs."""
    pids = stack_pids(state)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while stack_pids(state) and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    return lines[0]

"""An unreadable ``state.json`` is one line naming the file and the fix, exit 2, from every
command; ``down --force`` stops what the file still identifies and deletes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import local, one_line

pytestmark = pytest.mark.e2e

RECORD = {"name": "sink", "pid": 1, "start_ticks": 1, "port": 1, "argv": ["x"], "log": "x"}


def _state(**changes: object) -> str:
    data: dict[str, object] = {
        "stack": "local",
        "complete": False,
        "owner": None,
        "processes": {"sink": RECORD},
    }
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v != "<absent>"})


CORRUPT = {
    "truncated JSON": _state()[:40],
    "empty file": "",
    "not an object": "[]",
    "missing key": _state(processes="<absent>"),
    "wrong type of a flag": _state(complete="yes"),
    "pid as text": _state(processes={"sink": {**RECORD, "pid": "1"}}),
    "record missing fields": _state(processes={"sink": {"pid": 1}}),
    "processes not an object": _state(processes=[RECORD]),
    "complete but missing processes": _state(complete=True),
}


FIX = (
    "run: monitoring local down --force (stops the processes it can still identify, "
    "then deletes the file)"
)


def _assert_refused(state: Path, *command: str) -> None:
    path = state / "state.json"
    before = path.read_text()
    result = local(state, *command)
    assert result.returncode == 2, (command, result.stdout, result.stderr)
    line = one_line(result.stderr)
    assert line.startswith(f"monitoring local {command[0]}: {path}: "), line
    assert line.endswith(FIX), line
    assert path.read_text() == before  # nothing acted on it


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_an_unreadable_state_file_is_one_line_naming_it_and_the_fix(
    tmp_path: Path, content: str
) -> None:
    (tmp_path / "state.json").write_text(content)
    _assert_refused(tmp_path, "status")
    forced = local(tmp_path, "down", "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.rstrip().endswith(f"removed {tmp_path / 'state.json'}")
    assert not (tmp_path / "state.json").exists()


def test_every_command_refuses_an_unreadable_state_file_alike(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(CORRUPT["truncated JSON"])
    for command in (["up"], ["scenario", "normal"], ["down"], ["demo"]):
        _assert_refused(tmp_path, *command)


def test_down_force_stops_the_processes_a_damaged_file_still_identifies(tmp_path: Path) -> None:
    alive = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    try:
        stat = Path(f"/proc/{alive.pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
        good = {**RECORD, "pid": alive.pid, "start_ticks": ticks}
        # The top level is damaged (no "stack"), one record lacks its start time.
        (tmp_path / "state.json").write_text(
            json.dumps({"processes": {"sink": good, "exporter": {"pid": 424242}}})
        )
        assert local(tmp_path, "down").returncode == 2
        forced = local(tmp_path, "down", "--force")
        assert forced.returncode == 0, forced.stderr
        assert f"stopped {'sink':<13} pid {alive.pid}" in forced.stdout
        assert "not signalled (no start time to verify them by): pids 424242" in forced.stdout
        assert alive.wait(timeout=10) is not None
        assert not (tmp_path / "state.json").exists()
    finally:
        if alive.poll() is None:
            alive.kill()
        alive.wait()

"""``state.json``: what the local stack's processes are, and whether it finished starting.

``up`` claims the file before starting anything (``complete: false``, ``owner``: its own PID
and start time) and records each process the moment it is spawned; only once Prometheus has
loaded every rendered rule group does it write ``complete: true``. So a file that says
``complete: false`` while its owner is gone was left by an ``up`` killed mid-way (SIGKILL
cannot be caught), and the next ``up`` stops what it lists before starting afresh.

Every command reads the file through :func:`load`, which parses it once into typed values or
raises :class:`StateFileError` naming the file and the fix, and judges it through
:func:`assess`, so ``up``, ``status``, ``scenario`` and ``down`` describe a stack alike.
"""

from __future__ import annotations

import enum
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import procs
from infra.local.procs import ProcessRecord

STATE_FILE = "state.json"
COMPONENTS = ("sink", "exporter", "alertmanager", "prometheus")
"""Start order: each one's consumers start after it. Stop order is the reverse."""

FORCE_FIX = (
    "run: monitoring local down --force (stops the processes it can still identify, "
    "then deletes the file)"
)


class StateFileError(RuntimeError):
    """``state.json`` cannot be read as a state file; the message names it and the fix."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}; {FORCE_FIX}")


class StackBusy(RuntimeError):
    """``up`` refused: a stack is running or being started; the message says what to run."""


@dataclass(frozen=True)
class Owner:
    """The ``monitoring local up`` process writing an incomplete state file."""

    pid: int
    start_ticks: int

    @classmethod
    def me(cls) -> Owner:
        return cls(os.getpid(), procs.pid_start_ticks(os.getpid()) or 0)

    def alive(self) -> bool:
        return procs.pid_start_ticks(self.pid) == self.start_ticks

    def as_record(self) -> ProcessRecord:
        return ProcessRecord("monitoring local up", self.pid, self.start_ticks, 0, (), "")


@dataclass
class State:
    stack: str
    complete: bool
    owner: Owner | None = None
    processes: dict[str, ProcessRecord] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        owner = None if self.owner is None else vars(self.owner)
        return {
            "stack": self.stack,
            "complete": self.complete,
            "owner": owner,
            "processes": {n: r.to_json() for n, r in self.processes.items()},
        }


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def load(state_dir: Path) -> State | None:
    """The recorded stack, or None when there is none; :class:`StateFileError` if unreadable."""
    path = state_path(state_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(path, f"cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateFileError(path, f"is not valid JSON ({exc})") from None
    try:
        return _parse(data)
    except ValueError as exc:
        raise StateFileError(
            path, f"is not a state file of `monitoring local up` ({exc})"
        ) from None


_KEYS = ("stack", "complete", "owner", "processes")


def _parse(data: object) -> State:
    if not isinstance(data, dict):
        raise ValueError(f"expected an object, got {type(data).__name__}")
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise ValueError(f"missing {', '.join(repr(k) for k in missing)}")
    stack, complete, owner, processes = (data[k] for k in _KEYS)
    if not isinstance(stack, str) or not stack:
        raise ValueError(f"'stack' must be a stack name (got {stack!r})")
    if not isinstance(complete, bool):
        raise ValueError(f"'complete' must be true or false (got {complete!r})")
    if not isinstance(processes, dict):
        raise ValueError(f"'processes' must be an object (got {type(processes).__name__})")
    state = State(stack, complete)
    if owner is not None:
        fields = owner if isinstance(owner, dict) else {}
        if not (_is_int(fields.get("pid")) and _is_int(fields.get("start_ticks"))):
            raise ValueError(f"'owner' must hold an integer pid and start_ticks (got {owner!r})")
        state.owner = Owner(owner["pid"], owner["start_ticks"])
    for name, raw in processes.items():
        if name not in COMPONENTS:
            raise ValueError(f"unknown process {name!r}")
        try:
            state.processes[name] = ProcessRecord.from_json(raw)
        except ValueError as exc:
            raise ValueError(f"process {name!r}: {exc}") from None
    if complete and set(state.processes) != set(COMPONENTS):
        raise ValueError(f"a complete stack records {', '.join(COMPONENTS)}")
    return state


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a PID


def save(state_dir: Path, state: State) -> None:
    """Replace the file atomically: `down` in another terminal never reads half a file."""
    path = state_path(state_dir)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2))
    tmp.replace(path)


def claim(state_dir: Path, state: State) -> bool:
    """Write ``state`` only if there is no state file yet (two ``up`` never share one)."""
    path = state_path(state_dir)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2))
    try:
        os.link(tmp, path)  # fails if the file exists, unlike a rename
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def remove(state_dir: Path) -> None:
    state_path(state_dir).unlink(missing_ok=True)


class Health(enum.Enum):
    RUNNING = "running"
    STARTING = "starting"  # an `up` is still at work
    INTERRUPTED = "interrupted"  # an `up` died before it finished
    BROKEN = "broken"  # it finished, but a recorded process has died since


@dataclass(frozen=True)
class Verdict:
    health: Health
    dead: tuple[ProcessRecord, ...]
    problem: str
    fix: str

    @property
    def message(self) -> str:
        """One line for the user: what is wrong and the command to run."""
        return f"{self.problem}; {self.fix}"


def not_running(state_dir: Path) -> str:
    return f"no local stack is running (no {state_path(state_dir)})"


def assess(state_dir: Path, state: State) -> Verdict:
    """Judge a recorded stack; every command words its answer from this verdict."""
    where = state_path(state_dir)
    dead = tuple(r for r in state.processes.values() if not procs.is_running(r))
    if not state.complete:
        owner = state.owner
        if owner is not None and owner.alive():
            return Verdict(
                Health.STARTING,
                dead,
                f"`monitoring local up` (pid {owner.pid}) is still starting the stack in {where}",
                f"wait for it, or stop it with: kill {owner.pid}",
            )
        by = f" (pid {owner.pid})" if owner is not None else ""
        return Verdict(
            Health.INTERRUPTED,
            dead,
            f"the stack in {where} was left half-started by an interrupted "
            f"`monitoring local up`{by}",
            "run: monitoring local down",
        )
    if dead:
        gone = ", ".join(f"{r.name} (pid {r.pid})" for r in dead)
        return Verdict(
            Health.BROKEN,
            dead,
            f"the stack in {where} is broken: {gone} not running",
            "run: monitoring local down",
        )
    return Verdict(
        Health.RUNNING,
        dead,
        f"a local stack is already running (pids in {where})",
        "stop it with: monitoring local down",
    )


@dataclass(frozen=True)
class Stopped:
    record: ProcessRecord
    was_running: bool

    def __str__(self) -> str:
        r = self.record
        if self.was_running:
            return f"stopped {r.name:<13} pid {r.pid}"
        return f"{r.name:<13} pid {r.pid} was already gone"


def stop_all(records: dict[str, ProcessRecord]) -> list[Stopped]:
    """Stop ``records`` by PID, each consumer before what it depends on."""
    return [
        Stopped(records[n], procs.stop(records[n])) for n in reversed(COMPONENTS) if n in records
    ]


def salvage(state_dir: Path) -> tuple[State | None, list[str]]:
    """For ``down --force``: whatever of an unreadable state file can still be trusted.

    Returns the parsed state if it parses, else a state holding only the process entries that
    parse on their own; plus the PIDs of entries that cannot be verified (no start time), which
    are reported and never signalled: a bare PID may belong to another program by now.
    """
    path = state_path(state_dir)
    try:
        return load(state_dir), []
    except StateFileError:
        pass
    text = path.read_text(errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return None, sorted(set(re.findall(r'"pid"\s*:\s*(\d+)', text)))
    state = State("unknown", complete=False)
    unverified: list[str] = []
    raw_processes = data.get("processes") if isinstance(data, dict) else None
    for name, raw in raw_processes.items() if isinstance(raw_processes, dict) else ():
        try:
            if name not in COMPONENTS:
                raise ValueError(name)
            state.processes[name] = ProcessRecord.from_json(raw)
        except ValueError:
            pid = raw.get("pid") if isinstance(raw, dict) else None
            if pid is not None:
                unverified.append(str(pid))
    return state, unverified

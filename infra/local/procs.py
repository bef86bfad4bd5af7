"""Start and stop the local stack's processes, by PID, and nothing else.

A PID alone is not an identity: after a reboot or a long pause the number may belong to
another program. Each record therefore keeps the process start time from
``/proc/<pid>/stat``, and :func:`stop` signals only a process whose start time still matches.

A process must be recorded before anything can interrupt its starter, or an interrupted
``up`` leaves it running unknown to ``down``: :func:`start` hands each record to ``on_spawn``
with SIGINT, SIGTERM and SIGHUP held back (:func:`deferred_signals`) from before the fork
until the record is saved. SIGTERM and SIGHUP would otherwise end Python without running any
``finally``; :func:`signals_raise` turns them into :class:`Terminated`, like Ctrl-C.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

_PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StartError(RuntimeError):
    """A process exited or never became ready; the message ends with its log tail."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the program is, so that cleanup code runs."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block SIGTERM and SIGHUP raise :class:`Terminated` (SIGINT already raises
    KeyboardInterrupt). Only the main thread may install handlers; elsewhere this is a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    previous = {s: signal.signal(s, terminate) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends; then they act as usual."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_ticks: int
    port: int
    argv: tuple[str, ...]
    log: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> ProcessRecord:
        """Parse a record written by :meth:`to_json`; ``ValueError`` names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {type(data).__name__}")
        fields = ("name", "pid", "start_ticks", "port", "argv", "log")
        missing = [f for f in fields if f not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        for key in ("pid", "start_ticks", "port"):
            # bool is an int subclass; a PID of `true` is as wrong as one of "12"
            if not isinstance(data[key], int) or isinstance(data[key], bool):
                raise ValueError(f"{key} must be an integer (got {data[key]!r})")
        if not isinstance(data["name"], str) or not isinstance(data["log"], str):
            raise ValueError("name and log must be strings")
        argv = data["argv"]
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise ValueError("argv must be a list of strings")
        return cls(
            data["name"], data["pid"], data["start_ticks"], data["port"], tuple(argv), data["log"]
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of ``pid``, or None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def is_running(record: ProcessRecord) -> bool:
    """True if ``record``'s process exists, is not a zombie, and is the same process."""
    stat = _stat(record.pid)
    return stat is not None and stat[0] != "Z" and stat[1] == record.start_ticks


def _reap(pid: int) -> None:
    # Our own children stay zombies until waited for; other processes' are not ours to reap.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def pid_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks (with the PID, its identity), if it runs."""
    stat = _stat(pid)
    return None if stat is None or stat[0] == "Z" else stat[1]


def _child_setup(tie_to_parent: bool) -> Callable[[], None]:
    def setup() -> None:
        # Runs in the child between fork and exec. The fork happened inside
        # deferred_signals(); a blocked mask survives exec, so unblock it.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if tie_to_parent:
            # If the test run that started this process is killed outright (no finalizers),
            # the kernel sends SIGTERM to the child too.
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return setup


def start(
    name: str,
    argv: Sequence[str],
    port: int,
    log: Path,
    ready_url: str,
    *,
    tie_to_parent: bool = False,
    cwd: Path | None = None,
    timeout: float = 20.0,
    on_spawn: Callable[[ProcessRecord], None] | None = None,
) -> ProcessRecord:
    """Start ``argv``, pass its record to ``on_spawn``, wait until ``ready_url`` answers 200.

    The process gets its own session, so a Ctrl-C in the terminal reaches only the CLI, which
    then stops its processes by PID; ``tie_to_parent`` additionally ends it with its parent.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with deferred_signals(), log.open("ab") as out:
        # argv is built by this package (never a shell); preexec_fn is safe here because the
        # CLI and the test fixtures start processes from their main thread.
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_child_setup(tie_to_parent),
        )
        record = ProcessRecord(
            name=name,
            pid=proc.pid,
            start_ticks=pid_start_ticks(proc.pid) or 0,
            port=port,
            argv=tuple(argv),
            log=str(log),
        )
        if on_spawn is not None:
            on_spawn(record)
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=1.0) as client:
        while True:
            if proc.poll() is not None:
                raise StartError(f"{name} exited with code {proc.returncode}\n{log_tail(log)}")
            try:
                if client.get(ready_url).status_code == 200:
                    return record
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                stop(record)
                raise StartError(f"{name} not ready after {timeout:.0f}s\n{log_tail(log)}")
            time.sleep(0.1)


def start_on_free_port(
    name: str,
    build: Callable[[int], tuple[list[str], str]],
    log: Path,
    **kwargs: Any,
) -> ProcessRecord:
    """Start on a free port; retry on another port if someone took it in between."""
    for attempt in range(3):
        port = free_port()
        argv, ready_url = build(port)
        try:
            return start(name, argv, port, log, ready_url, **kwargs)
        except StartError as exc:
            if "address already in use" not in str(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def stop(record: ProcessRecord, timeout: float = 10.0) -> bool:
    """SIGTERM ``record``'s process (only if it is still that process), SIGKILL after timeout.
    False when it was already gone (or its PID now belongs to another process)."""
    if not is_running(record):
        _reap(record.pid)
        return False
    with contextlib.suppress(ProcessLookupError):  # it may end between the check and here
        os.kill(record.pid, signal.SIGTERM)
    for sig_timeout, next_signal in ((timeout, signal.SIGKILL), (5.0, None)):
        deadline = time.monotonic() + sig_timeout
        while time.monotonic() < deadline:
            _reap(record.pid)
            if not is_running(record):
                return True
            time.sleep(0.05)
        if next_signal is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, next_signal)
    raise RuntimeError(f"{record.name} (pid {record.pid}) survived SIGKILL")


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(f"  | {line}" for line in text[-lines:])

"""Start and stop the local stack's processes, by PID, and nothing else.

A PID alone is not an identity: after a reboot or a long pause the number may belong to
another program. Each record therefore keeps the process start time from
``/proc/<pid>/stat``, and :func:`stop` signals only a process whose start time still matches.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

_PR_SET_PDEATHSIG = 1


class StartError(RuntimeError):
    """A process exited or never became ready; the message ends with its log tail."""


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
    def from_json(cls, data: dict[str, Any]) -> ProcessRecord:
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            port=int(data["port"]),
            argv=tuple(str(a) for a in data["argv"]),
            log=str(data["log"]),
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


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test run that started this process is
    # killed outright (no finalizers), the kernel sends SIGTERM to the child too.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


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
) -> ProcessRecord:
    """Start ``argv`` and wait until ``ready_url`` answers 200.

    The process gets its own session, so a Ctrl-C in the terminal reaches only the CLI, which
    then stops its processes by PID; ``tie_to_parent`` additionally ends it with its parent.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # argv is built by this package (never a shell); preexec_fn is safe here because the
        # CLI and the test fixtures start processes from their main thread.
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent if tie_to_parent else None,
        )
    stat = _stat(proc.pid)
    record = ProcessRecord(
        name=name,
        pid=proc.pid,
        start_ticks=stat[1] if stat else 0,
        port=port,
        argv=tuple(argv),
        log=str(log),
    )
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


def stop(record: ProcessRecord, timeout: float = 10.0) -> None:
    """SIGTERM ``record``'s process (only if it is still that process), SIGKILL after timeout."""
    if not is_running(record):
        _reap(record.pid)
        return
    os.kill(record.pid, signal.SIGTERM)
    for sig_timeout, next_signal in ((timeout, signal.SIGKILL), (5.0, None)):
        deadline = time.monotonic() + sig_timeout
        while time.monotonic() < deadline:
            _reap(record.pid)
            if not is_running(record):
                return
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

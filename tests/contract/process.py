"""Run a contract server script as a subprocess: every server prints ``READY <port>`` once it
listens on 127.0.0.1 (a free port it picked), and is always stopped by its PID."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 10


@contextmanager
def serve(script: Path, *args: str) -> Iterator[str]:
    """Start ``script ARGS``; yield its base URL; then terminate, wait, and kill if need be."""
    proc = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(proc.stdout.readline() if proc.stdout else "")
        )
        reader.start()
        reader.join(timeout=START_TIMEOUT_S)
        if not line or not line[0].startswith("READY "):
            raise RuntimeError(f"{script.name} did not start: {line!r}, exit {proc.poll()}")
        yield f"http://127.0.0.1:{int(line[0].split()[1])}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout:
            proc.stdout.close()

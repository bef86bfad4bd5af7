"""Start and stop the UptimeRobot contract server (``uptimerobot_server.py``) as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

SERVER = Path(__file__).with_name("uptimerobot_server.py")
ROOT = Path(__file__).resolve().parents[2]
API_KEY = "u1234567-0ab1c2d3e4f5a6b7c8d9e0f1"
ALERT_CONTACTS = ("123456", "789", "4242")  # the test account's contact ids


@contextmanager
def contract_server(api_key: str = API_KEY) -> Iterator[str]:
    """Run the server on 127.0.0.1 (a free port it picks); yield its base URL; always stop it
    by its PID: terminate, wait, then kill."""
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--api-key", api_key, "--port", "0",
         "--alert-contacts", ",".join(ALERT_CONTACTS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(proc.stdout.readline() if proc.stdout else "")
        )
        reader.start()
        reader.join(timeout=10)
        if not line or not line[0].startswith("READY "):
            raise RuntimeError(f"contract server did not start: {line!r}, exit {proc.poll()}")
        yield f"http://127.0.0.1:{int(line[0].split()[1])}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def admin(server: str, path: str, body: Any = None) -> Any:
    """Call a test-only admin endpoint (``/__faults``, ``/__config``, ``/__reset``…)."""
    method = "GET" if body is None and path in {"/__monitors", "/__requests"} else "POST"
    response = httpx.request(method, server + path, json=body, timeout=5)
    response.raise_for_status()
    return response.json() if response.content else None


def api(server: str, method: str, path: str, key: str = API_KEY, **kwargs: Any) -> httpx.Response:
    """A plain call to the public API, as a person with the key (or the dashboard) would make."""
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.request(method, server + path, headers=headers, timeout=5, **kwargs)


def vendor_specs_dir() -> Path:
    """``$VENDOR_SPECS_DIR``, else ``<repo>/../shared/vendor-specs`` (where CI has it)."""
    return Path(os.environ.get("VENDOR_SPECS_DIR") or ROOT.parent / "shared" / "vendor-specs")

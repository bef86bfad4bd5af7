"""Start and stop the UptimeRobot contract server (``uptimerobot_server.py``) as a subprocess."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.contract.process import serve

SERVER = Path(__file__).with_name("uptimerobot_server.py")
ROOT = Path(__file__).resolve().parents[2]
API_KEY = "u1234567-0ab1c2d3e4f5a6b7c8d9e0f1"
ALERT_CONTACTS = ("123456", "789", "4242")  # the test account's contact ids


@contextmanager
def contract_server(api_key: str = API_KEY, plan: str = "pro") -> Iterator[str]:
    """Run the server on 127.0.0.1 (a free port it picks); yield its base URL. ``plan``
    ``free`` makes it refuse heartbeat monitors, as a FREE-plan account does."""
    contacts = ",".join(ALERT_CONTACTS)
    args = ("--api-key", api_key, "--port", "0", "--alert-contacts", contacts, "--plan", plan)
    with serve(SERVER, *args) as url:
        yield url


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

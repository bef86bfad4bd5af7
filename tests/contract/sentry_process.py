"""Start and stop the Sentry contract server (``sentry_server.py``) as a subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.contract.process import serve

SERVER = Path(__file__).with_name("sentry_server.py")
TOKEN = "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_dr1ft-1nv3nt0ry-t0k3n"
ORG = PROJECT = "agenzia-ai"


@contextmanager
def contract_server(token: str = TOKEN, org: str = ORG, project: str = PROJECT) -> Iterator[str]:
    """Run the server on 127.0.0.1; yield its base URL (the API is under ``/api/0``)."""
    with serve(SERVER, "--token", token, "--org", org, "--project", project) as url:
        yield url


def admin(server: str, path: str, body: Any = None) -> Any:
    """Call a test-only admin endpoint (``/__faults``, ``/__reset``, ``/__requests``)."""
    method = "GET" if path == "/__requests" else "POST"
    response = httpx.request(method, server + path, json=body, timeout=5)
    response.raise_for_status()
    return response.json() if response.content else None


def api(server: str, method: str, path: str, token: str = TOKEN, **kwargs: Any) -> httpx.Response:
    """A plain call to the public API (``path`` under ``/api/0``), as a person would make."""
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{server}/api/0{path}", headers=headers, timeout=5, **kwargs)

"""Faults the contract servers inject on request, with one meaning in every server.

``POST /__faults`` with ``{"method": "POST" | "*", "path": "<part of the path>", "kind": K,
"times": 1, ...}`` (or a list of them) makes the next ``times`` matching requests fail as ``K``:

Before the work (nothing is stored):

- ``reset``: the connection is dropped unanswered;
- ``429``: Too Many Requests with the vendor's rate-limit headers; ``Retry-After`` is
  ``retry_after`` seconds (default 1), an HTTP date that far ahead with ``"retry_after_date":
  true``, or absent with ``"retry_after": null``; ``429_html``: the same with an HTML page;
- ``500``, ``502``, ``503``: that status with the vendor's error body.

The work is done, then:

- ``store_after_timeout``: waits ``seconds`` *before* the work, so the client has given up when
  the object is stored (a vendor finishing a request whose client timed out); the answer goes
  to nobody;
- ``reset_after_commit``: the connection is dropped instead of the answer;
- ``delay``: the answer comes ``seconds`` late;
- ``truncated``: the answer's JSON body is cut in half;
- ``html``: the answer's status with an HTML page as body;
- ``body``: ``body`` as given, with the answer's status or ``status`` (a reply that violates
  the documented schema: ``[]``, ``{"data": null}``, an object without ``id``…).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

Answer = tuple[int, Any, dict[str, str]]
HTML_PAGE = "<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"


class Faults:
    """The queue of faults a server still has to inject (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[dict[str, Any]] = []

    def add(self, body: Any) -> None:
        with self.lock:
            for fault in body if isinstance(body, list) else [body]:
                self.items.append({"times": 1, "method": "*", "path": "/", **fault})

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        """The first queued fault matching the request, used up once."""
        with self.lock:
            for fault in self.items:
                if (
                    fault["times"] > 0
                    and fault["method"] in {method, "*"}
                    and fault["path"] in path
                ):
                    fault["times"] -= 1
                    return dict(fault)
        return None


@dataclass(frozen=True)
class Wire:
    """How a server answers: ``send(status, body, headers, raw_text)``, ``drop()`` (a reset),
    its error body for a status and message, and its rate-limit headers for a 429."""

    send: Callable[[int, Any, dict[str, str], str], None]
    drop: Callable[[], None]
    error_body: Callable[[int, str], Any]
    rate_headers: Callable[[], dict[str, str]]


def answer(fault: dict[str, Any] | None, wire: Wire, work: Callable[[], Answer]) -> None:
    """Answer one request: ``work()`` does what the API does; ``fault`` changes how."""
    kind = str(fault["kind"]) if fault else None
    if fault and kind in {"reset", "429", "429_html", "500", "502", "503"}:
        _before(fault, wire)
        return
    if fault and kind == "store_after_timeout":
        time.sleep(float(fault.get("seconds", 1)))
        work()
        wire.drop()
        return
    status, body, headers = work()
    if not fault:
        wire.send(status, body, headers, "")
    elif kind == "reset_after_commit":
        wire.drop()
    elif kind == "delay":
        time.sleep(float(fault.get("seconds", 1)))
        wire.send(status, body, headers, "")
    elif kind == "truncated":
        text = json.dumps(body)
        wire.send(
            status, None, {**headers, "Content-Type": "application/json"}, text[: len(text) // 2]
        )
    elif kind == "html":
        wire.send(status, None, headers, HTML_PAGE.format(status=status))
    elif kind == "body":
        wire.send(int(fault.get("status", status)), fault.get("body"), headers, "")
    else:
        raise ValueError(f"unknown fault kind {kind!r}")


def _before(fault: dict[str, Any], wire: Wire) -> None:
    kind = str(fault["kind"])
    if kind == "reset":
        wire.drop()
        return
    if kind in {"500", "502", "503"}:
        status = int(kind)
        message = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable"}
        wire.send(status, wire.error_body(status, message[status]), {}, "")
        return
    headers = wire.rate_headers()
    delay = fault.get("retry_after", 1)
    if delay is not None:
        seconds = float(delay)
        when = formatdate(time.time() + seconds, usegmt=True)
        headers["Retry-After"] = when if fault.get("retry_after_date") else f"{seconds:g}"
    if kind == "429_html":
        page = "<html><body><h1>429 Too Many Requests</h1><p>Slow down.</p></body></html>"
        wire.send(429, None, headers, page)
    else:
        wire.send(429, wire.error_body(429, "Too Many Requests"), headers, "")

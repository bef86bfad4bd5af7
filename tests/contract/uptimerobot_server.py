"""A local UptimeRobot API v3 contract server, run as a subprocess by the provider tests.

Every endpoint follows UptimeRobot's published API v3 description, ``uptimerobot/openapi.yaml``
in ``vendor-specs`` (uptimerobot/uptimerobot-cli at 48cf89d, Apache-2.0, not copied here), by
``operationId``; paths are relative to the description's server ``https://api.uptimerobot.com/v3``:

=================================  =====================================
endpoint                           operation
=================================  =====================================
GET    /monitors                   MonitorsController_list
POST   /monitors                   MonitorsController_create
GET    /monitors/{id}              MonitorsController_get
PATCH  /monitors/{id}              MonitorsController_update
DELETE /monitors/{id}              MonitorsController_delete
GET    /maintenance-windows        MaintenanceWindowsController_list
POST   /maintenance-windows        MaintenanceWindowsController_create
GET    /maintenance-windows/{id}   MaintenanceWindowsController_get
PATCH  /maintenance-windows/{id}   MaintenanceWindowsController_update
DELETE /maintenance-windows/{id}   MaintenanceWindowsController_delete
=================================  =====================================

Behaviour taken from UptimeRobot's API page (https://uptimerobot.com/api/v3) and the notes in
``vendor-specs/README.md`` rather than from the description: bearer-key auth; rate limiting
with ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (epoch seconds) on every answer and 429
with ``Retry-After`` (sometimes with an HTML body); cursor-paged lists ``{nextLink, data}``;
names and URLs coming back HTML-escaped. The description documents no error bodies; the
operation ids name NestJS controllers, so errors use NestJS's shape
``{"statusCode": 400, "message": "..." | [...], "error": "Bad Request"}`` (an assumption).
Ids are numbers, as the description says; ``{"string_ids": true}`` on ``/__config`` makes the
server send ids as strings, as real answers sometimes do, to check that clients cope.
Alert-contact ids must name a contact of the account (``--alert-contacts``); a leading zero
in the number sent is harmless, as in any JSON number parser that accepts it as a string.

Test-only admin endpoints (not UptimeRobot):

- ``POST /__faults`` ``{"method": "POST", "path": "/monitors", "kind": ..., "times": 1}`` queues
  a fault for the next ``times`` matching requests (``method`` ``*`` matches any; ``path`` is a
  part of the path); the kinds and what they do are in ``faults.py``, shared by every server.
- ``POST /__config`` ``{"page_size": 2, "string_ids": true, "escape_html": false}``.
- ``GET /__monitors``: stored monitors as stored (not escaped); ``GET /__requests``: requests
  seen (method, path, query; never headers); ``POST /__reset``: forget everything.

Run: ``python tests/contract/uptimerobot_server.py --api-key K --alert-contacts 123456,789``;
it prints ``READY <port>`` once listening on 127.0.0.1 (``--port 0`` picks a free port).

Heartbeat monitors (``type: HEARTBEAT``, CreateHeartbeatMonitorDto: ``interval``,
``gracePeriod``, no ``url`` and no ``timeout``): the description gives MonitorDto a ``url``
and no other ping-URL field, so the server answers a heartbeat's ``url`` with its ping URL
(``https://heartbeat.uptimerobot.com/<random>``), set once at create and never patched.
Heartbeats are a paid-plan feature: started with ``--plan free``, the server refuses them
with 403 (the description documents 403 as "Forbidden"; the message is an assumption).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import secrets
import socket
import struct
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from faults import Faults, Wire, answer  # run as a script: this folder is on sys.path

RATE_LIMIT = 10  # FREE plan: 10 requests a minute
MAX_PAGE = 200
DEFAULT_PAGE = 50
HTTP_METHODS = {"HEAD", "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"}
MONITOR_TYPES = {"HTTP", "KEYWORD", "PING", "PORT", "HEARTBEAT", "DNS", "API", "UDP"}
WINDOW_INTERVALS = {"once", "daily", "weekly", "monthly"}
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
}


class ApiFailure(Exception):
    def __init__(self, status: int, message: str | list[str]) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class State:
    """Everything the server stores; one lock, since handler threads run concurrently."""

    def __init__(self, api_key: str, alert_contacts: set[int], plan: str = "pro") -> None:
        self.api_key = api_key
        self.alert_contacts = alert_contacts
        self.plan = plan
        self.lock = threading.RLock()  # admin answers are sent while holding it
        self.reset()

    def reset(self) -> None:
        self.next_id = 800_100_000
        self.monitors: dict[int, dict[str, Any]] = {}
        self.windows: dict[int, dict[str, Any]] = {}
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self.page_size_cap = MAX_PAGE
        self.string_ids = False
        self.escape_html = True
        self.remaining = RATE_LIMIT

    def new_id(self) -> int:
        self.next_id += 7
        return self.next_id


# --------------------------------------------------------------------------- validation


def _need(body: dict[str, Any], key: str, kind: type | tuple[type, ...], errors: list[str]) -> Any:
    value = body.get(key)
    if value is None:
        errors.append(f"{key} should not be empty")
    elif not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        errors.append(f"{key} must be a {getattr(kind, '__name__', 'valid value')}")
    return value


def _number(value: Any) -> int | None:
    """A JSON number, or a string of digits (leading zeros allowed)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def validate_monitor(state: State, body: Any, creating: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "request body must be a JSON object")
    errors: list[str] = []
    heartbeat = str(body.get("type", "")).upper() == "HEARTBEAT"
    if creating:
        for key, kind in (("friendlyName", str), ("type", str)):
            _need(body, key, kind, errors)
        _need(body, "interval", (int, float), errors)
        if not heartbeat:  # CreateHeartbeatMonitorDto has neither url nor timeout
            _need(body, "url", str, errors)
            _need(body, "timeout", (int, float), errors)
        elif state.plan == "free":
            raise ApiFailure(403, "Heartbeat monitors are not available in the FREE plan")
    grace = body.get("gracePeriod")
    if grace is not None and (
        not isinstance(grace, int | float) or isinstance(grace, bool) or not 0 <= grace <= 86400
    ):
        errors.append("gracePeriod must not be greater than 86400")
    if "type" in body and str(body["type"]).upper() not in MONITOR_TYPES:
        errors.append(f"type must be one of {sorted(MONITOR_TYPES)}")
    name = body.get("friendlyName")
    if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 250):
        errors.append("friendlyName must be shorter than or equal to 250 characters")
    interval = body.get("interval")
    if isinstance(interval, int | float) and interval < (30 if creating else 15):
        errors.append(f"interval must not be less than {30 if creating else 15}")
    timeout = body.get("timeout")
    if isinstance(timeout, int | float) and not 0 <= timeout <= 60:
        errors.append("timeout must not be greater than 60")
    method = body.get("httpMethodType")
    if method is not None and method not in HTTP_METHODS:
        errors.append(f"httpMethodType must be one of {sorted(HTTP_METHODS)}")
    codes = body.get("successHttpResponseCodes")
    if codes is not None and (
        not isinstance(codes, list) or not all(isinstance(c, str) for c in codes)
    ):
        errors.append("each value in successHttpResponseCodes must be a string")
    contacts = body.get("assignedAlertContacts")
    if contacts is not None:
        if not isinstance(contacts, list):
            errors.append("assignedAlertContacts must be an array")
        else:
            for item in contacts:
                _check_contact(state, item, errors)
    windows = body.get("maintenanceWindowsIds")
    if windows is not None:
        for window in windows if isinstance(windows, list) else [None]:
            if _number(window) not in state.windows:
                errors.append(f"maintenance window {window!r} does not exist")
    if errors:
        raise ApiFailure(400, errors)
    return body


def _check_contact(state: State, item: Any, errors: list[str]) -> None:
    if not isinstance(item, dict) or not {"alertContactId", "threshold", "recurrence"} <= set(item):
        errors.append("assignedAlertContacts items need alertContactId, threshold and recurrence")
        return
    contact = _number(item["alertContactId"])
    if contact is None or contact not in state.alert_contacts:
        errors.append(f"alert contact {item['alertContactId']!r} does not exist")
    for key in ("threshold", "recurrence"):
        if not isinstance(item[key], int | float) or isinstance(item[key], bool) or item[key] < 0:
            errors.append(f"{key} must not be less than 0")


def validate_window(body: Any, creating: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "request body must be a JSON object")
    errors: list[str] = []
    if creating:
        for key in ("name", "interval", "date", "time"):
            _need(body, key, str, errors)
        _need(body, "duration", (int, float), errors)
    if "interval" in body and body["interval"] not in WINDOW_INTERVALS:
        errors.append(f"interval must be one of {sorted(WINDOW_INTERVALS)}")
    if errors:
        raise ApiFailure(400, errors)
    return body


# --------------------------------------------------------------------------- shapes


class Shapes:
    """Stored objects → answers shaped like the description's DTOs."""

    def __init__(self, state: State) -> None:
        self.state = state

    def _id(self, value: int) -> int | str:
        return str(value) if self.state.string_ids else value

    def _text(self, value: str) -> str:
        return html.escape(value, quote=True) if self.state.escape_html else value

    def window(self, w: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self._id(w["id"]),
            "userId": 1_234_567,
            "name": self._text(w["name"]),
            "interval": w["interval"],
            "date": w.get("date"),
            "time": w["time"],
            "duration": w["duration"],
            "autoAddMonitors": bool(w.get("autoAddMonitors", False)),
            "monitorIds": [
                m["id"] for m in self.state.monitors.values() if w["id"] in m["windows"]
            ],
            "days": list(w.get("days") or []),
            "status": w.get("status", "active"),
            "created": w["created"],
        }

    def monitor(self, m: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": m["type"],
            "interval": m["interval"],
            "sslBrand": None,
            "sslExpiryDateTime": None,
            "domainExpireDate": None,
            "checkSSLErrors": bool(m.get("checkSSLErrors", False)),
            "sslExpirationReminder": False,
            "domainExpirationReminder": False,
            "followRedirections": bool(m.get("followRedirections", True)),
            "authType": "NONE",
            "customHttpHeaders": None,
            "httpMethodType": m.get("httpMethodType") or "HEAD",
            "successHttpResponseCodes": list(m.get("successHttpResponseCodes") or ["2xx", "3xx"]),
            "timeout": m.get("timeout"),
            "postValueData": None,
            "postValueType": None,
            "port": None,
            "gracePeriod": m.get("gracePeriod"),
            "keywordValue": None,
            "keywordCaseType": None,
            "keywordType": None,
            "responseTimeThreshold": 0,
            "config": {},
            "regionalData": {"REGION": ["na"]},
            "maintenanceWindows": [
                self.window(self.state.windows[w]) for w in m["windows"] if w in self.state.windows
            ],
            "psps": [],
            "id": self._id(m["id"]),
            "friendlyName": self._text(m["friendlyName"]),
            "status": m.get("status", "STARTED"),
            "url": self._text(m.get("url") or ""),
            "currentStateDuration": 0,
            "lastIncidentId": None,
            "userId": 1_234_567,
            "tags": [],
            "assignedAlertContacts": [
                {
                    "alertContactId": str(c["alertContactId"])
                    if self.state.string_ids
                    else c["alertContactId"],
                    "threshold": c["threshold"],
                    "recurrence": c["recurrence"],
                }
                for c in m["contacts"]
            ],
            "lastDayUptimes": {"bucketSize": 3600, "histogram": []},
            "createDateTime": m["created"],
            "apiKey": None,
        }


# --------------------------------------------------------------------------- handler


class Handler(BaseHTTPRequestHandler):
    server_version = "uptimerobot-contract/1"
    protocol_version = "HTTP/1.1"
    state: State  # set on the class by main()

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
        pass  # quiet: the tests read /__requests instead

    def _send(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None, raw: str = ""
    ) -> None:
        data = raw.encode() if raw else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", None) or (
            "text/html; charset=utf-8" if raw else "application/json; charset=utf-8"
        )
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        reset = int(time.time()) + 60
        with self.state.lock:
            remaining = self.state.remaining = max(0, self.state.remaining - 1)
            if remaining == 0:
                self.state.remaining = RATE_LIMIT  # a fresh minute: tests never wait for it
        rate = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        for name, value in {**rate, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _error(self, status: int, message: str | list[str]) -> None:
        self._send(status, self._error_body(status, message))

    @staticmethod
    def _error_body(status: int, message: str | list[str]) -> dict[str, Any]:
        return {"statusCode": status, "message": message, "error": REASONS.get(status, "Error")}

    def _wire(self) -> Wire:
        return Wire(
            send=lambda status, body, headers, raw: self._send(status, body, headers, raw),
            drop=self._drop,
            error_body=self._error_body,
            rate_headers=lambda: {"X-RateLimit-Remaining": "0"},
        )

    def _drop(self) -> None:
        # SO_LINGER 0: close with a TCP reset, as a crashing proxy would.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApiFailure(400, f"Unexpected token in JSON at position {exc.pos}") from None

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._body()
            if path.startswith("/__"):
                self._admin(method, path, body)
                return
            with self.state.lock:
                self.state.requests.append({"method": method, "path": path, "query": query})
            if self.headers.get("Authorization") != f"Bearer {self.state.api_key}":
                raise ApiFailure(401, "Unauthorized")

            def work() -> tuple[int, Any, dict[str, str]]:
                try:
                    status, reply = self._route(method, path, query, body)
                except ApiFailure as failure:
                    return failure.status, self._error_body(failure.status, failure.message), {}
                return status, reply, {}

            answer(self.state.faults.take(method, path), self._wire(), work)
        except ApiFailure as failure:
            self._error(failure.status, failure.message)

    def _admin(self, method: str, path: str, body: Any) -> None:
        state = self.state
        with state.lock:
            if method == "POST" and path == "/__faults":
                state.faults.add(body)
                self._send(204)
            elif method == "POST" and path == "/__config":
                state.page_size_cap = int(body.get("page_size", state.page_size_cap))
                state.string_ids = bool(body.get("string_ids", state.string_ids))
                state.escape_html = bool(body.get("escape_html", state.escape_html))
                self._send(204)
            elif method == "POST" and path == "/__reset":
                state.reset()
                self._send(204)
            elif method == "GET" and path == "/__monitors":
                self._send(200, list(state.monitors.values()))
            elif method == "GET" and path == "/__requests":
                self._send(200, state.requests)
            else:
                raise ApiFailure(404, f"Cannot {method} {path}")

    # ----------------------------------------------------------------------- API routes

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        state, shapes = self.state, Shapes(self.state)
        with state.lock:
            if parts[0] == "monitors" and len(parts) == 1:
                if method == "GET":
                    return 200, self._page(query, state.monitors, shapes.monitor, "/monitors")
                if method == "POST":
                    return 201, shapes.monitor(self._create_monitor(body))
            if parts[0] == "monitors" and len(parts) == 2:
                monitor = state.monitors.get(_number(parts[1]) or -1)
                if monitor is None:
                    raise ApiFailure(404, "Monitor not found")
                if method == "GET":
                    return 200, shapes.monitor(monitor)
                if method == "PATCH":
                    return 200, shapes.monitor(self._update_monitor(monitor, body))
                if method == "DELETE":
                    del state.monitors[monitor["id"]]
                    return 200, None
            if parts[0] == "maintenance-windows" and len(parts) == 1:
                if method == "GET":
                    return 200, self._page(query, state.windows, shapes.window, parts[0])
                if method == "POST":
                    return 201, shapes.window(self._create_window(body))
            if parts[0] == "maintenance-windows" and len(parts) == 2:
                window = state.windows.get(_number(parts[1]) or -1)
                if window is None:
                    raise ApiFailure(404, "Maintenance window not found")
                if method == "GET":
                    return 200, shapes.window(window)
                if method == "PATCH":
                    window.update(validate_window(body, creating=False))
                    return 200, shapes.window(window)
                if method == "DELETE":
                    del state.windows[window["id"]]
                    for m in state.monitors.values():
                        m["windows"] = [w for w in m["windows"] if w != window["id"]]
                    return 204, None
        raise ApiFailure(404, f"Cannot {method} {path}")

    def _page(
        self, query: dict[str, str], items: dict[int, dict[str, Any]], shape: Any, path: str
    ) -> dict[str, Any]:
        try:
            limit = int(float(query.get("limit", DEFAULT_PAGE)))
            cursor = int(float(query.get("cursor", 0)))
        except ValueError:
            raise ApiFailure(400, ["limit must be a number", "cursor must be a number"]) from None
        if not 1 <= limit <= MAX_PAGE:
            raise ApiFailure(400, f"limit must be between 1 and {MAX_PAGE}")
        limit = min(limit, self.state.page_size_cap)
        selected = []
        for key in sorted(k for k in items if k > cursor):
            item = items[key]
            wanted = [(q, item.get(f)) for q, f in (("name", "friendlyName"), ("url", "url"))]
            if all(query.get(q, "").lower() in str(v or "").lower() for q, v in wanted):
                selected.append(item)
        page, rest = selected[:limit], selected[limit:]
        next_link = None
        if rest:
            host = self.headers.get("Host", "127.0.0.1")
            params = {**query, "cursor": str(page[-1]["id"])}
            next_link = f"http://{host}/{path.strip('/')}?{urlencode(params)}"
        return {"nextLink": next_link, "data": [shape(i) for i in page]}

    def _create_monitor(self, body: Any) -> dict[str, Any]:
        body = validate_monitor(self.state, body, creating=True)
        monitor = {"id": self.state.new_id(), "created": _now(), "contacts": [], "windows": []}
        if str(body.get("type")).upper() == "HEARTBEAT":
            monitor["url"] = f"https://heartbeat.uptimerobot.com/{secrets.token_urlsafe(24)}"
        return self._update_monitor(monitor, body, creating=True)

    def _update_monitor(
        self, monitor: dict[str, Any], body: Any, creating: bool = False
    ) -> dict[str, Any]:
        body = validate_monitor(self.state, body, creating=creating)
        kind = str(body.get("type", monitor.get("type", ""))).upper()
        if not creating and kind != monitor["type"]:
            raise ApiFailure(400, "Monitor type cannot be changed; create a new monitor")
        for key in (
            "friendlyName", "url", "interval", "timeout", "httpMethodType",
            "successHttpResponseCodes", "followRedirections", "checkSSLErrors", "gracePeriod",
        ):  # fmt: skip
            if key == "url" and kind == "HEARTBEAT":
                continue  # a heartbeat's url is its ping URL: UptimeRobot's, never the client's
            if key in body:
                monitor[key] = body[key]
        monitor["type"] = kind
        if "assignedAlertContacts" in body:
            monitor["contacts"] = [
                {
                    "alertContactId": _number(c["alertContactId"]),
                    "threshold": int(c["threshold"]),
                    "recurrence": int(c["recurrence"]),
                }
                for c in body["assignedAlertContacts"]
            ]
        if "maintenanceWindowsIds" in body:
            monitor["windows"] = [_number(w) for w in body["maintenanceWindowsIds"]]
        self.state.monitors[monitor["id"]] = monitor
        return monitor

    def _create_window(self, body: Any) -> dict[str, Any]:
        body = validate_window(body, creating=True)
        window = {"id": self.state.new_id(), "created": _now(), "status": "active", **body}
        self.state.windows[window["id"]] = window
        return window


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--alert-contacts", default="", help="comma-separated contact ids")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--plan", choices=("free", "pro"), default="pro", help="account plan")
    args = parser.parse_args(argv)
    contacts = {int(c) for c in args.alert_contacts.split(",") if c.strip()}
    Handler.state = State(args.api_key, contacts, args.plan)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])

"""A local Sentry API contract server, run as a subprocess by the provider tests.

Every endpoint follows Sentry's published OpenAPI description, getsentry/sentry-api-schema
(``vendor-specs/sentry/openapi-derefed.json``, FSL-1.1-Apache-2.0, not copied here), by
``operationId``:

====================================================================  ===================================
endpoint (under ``/api/0``)                                            operation
====================================================================  ===================================
GET    /organizations/{org}/detectors/                                 listOrganizationDetectors
POST   /organizations/{org}/projects/{project}/detectors/              createOrganizationProjectDetector
GET    /organizations/{org}/detectors/{detector_id}/                   getOrganizationDetector
PUT    /organizations/{org}/detectors/{detector_id}/                   updateOrganizationDetector
DELETE /organizations/{org}/detectors/{detector_id}/                   deleteOrganizationDetector
GET    /organizations/{org}/workflows/                                 listOrganizationWorkflows
POST   /organizations/{org}/workflows/                                 createOrganizationWorkflow
GET    /organizations/{org}/workflows/{workflow_id}/                   getOrganizationWorkflow
PUT    /organizations/{org}/workflows/{workflow_id}/                   updateOrganizationWorkflow
DELETE /organizations/{org}/workflows/{workflow_id}/                   deleteOrganizationWorkflow
GET    /projects/{org}/{project}/keys/                                 listProjectKeys
POST   /projects/{org}/{project}/keys/                                 createProjectKey
GET    /projects/{org}/{project}/keys/{key_id}/                        getProjectKey
PUT    /projects/{org}/{project}/keys/{key_id}/                        updateProjectKey
DELETE /projects/{org}/{project}/keys/{key_id}/                        deleteProjectKey
GET    /organizations/{org}/stats_v2/                                  listOrganizationStatsV2
====================================================================  ===================================

Behaviour taken from Sentry's API docs rather than the description: bearer-token auth (401
``{"detail": ...}``), errors as ``{"detail": ...}``, cursor paging with a ``Link`` header
(``rel="next"; results="true|false"; cursor="…"``), request bodies in camelCase, ids as
strings, and rate limiting: 429 with ``Retry-After`` and the ``X-Sentry-Rate-Limit-Limit``,
``-Remaining``, ``-Reset`` (epoch seconds) and ``-ConcurrentLimit``/``-ConcurrentRemaining``
headers.

Test-only admin endpoints (not Sentry):

- ``POST /__faults`` ``{"method": "POST", "path": "/detectors/", "kind": ..., "times": 1}``:
  the next ``times`` matching requests fail that way; the kinds (429 with or without
  ``Retry-After``, 5xx, resets before and after storing, store-after-timeout, truncated, HTML
  and schema-violating bodies) are in ``faults.py``, shared by every contract server;
- ``POST /__usage`` ``{"accepted": 4200}``: accepted error events reported by stats_v2;
- ``GET /__requests``: the requests seen (method, path, query), without headers;
- ``POST /__reset``: forget everything.

Run: ``python tests/contract/sentry_server.py --token T --org agenzia-ai --project agenzia-ai``;
it prints ``READY <port>`` once listening on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from faults import Faults, Wire, answer  # run as a script: this folder is on sys.path

PREFIX = "/api/0"
PAGE_SIZE = 100
TIME_WINDOWS = {60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400}
NOT_FOUND = "The requested resource does not exist"


class ApiFailure(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class State:
    """Everything the server stores; one lock, since handler threads run concurrently."""

    def __init__(self, org: str, project: str) -> None:
        self.org = org
        self.project = project
        self.project_id = "4505281256090153"
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.next_id = 1000
        self.detectors: dict[str, dict[str, Any]] = {}
        self.workflows: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self.accepted_errors = 0

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)


# --------------------------------------------------------------------------- validation


def _require(body: Any, field: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(body, dict) or field not in body:
        raise ApiFailure(400, f"{field}: This field is required.")
    value = body[field]
    if not isinstance(value, kind):
        raise ApiFailure(400, f"{field}: Invalid value.")
    return value


def _check_detector(body: Any) -> None:
    name = _require(body, "name", str)
    if not 0 < len(name) <= 200:
        raise ApiFailure(400, "name: Ensure this field has no more than 200 characters.")
    if _require(body, "type", str) != "metric_issue":
        raise ApiFailure(400, "type: Only metric_issue monitors can be created here.")
    sources = _require(body, "dataSources", list)
    if len(sources) != 1:
        raise ApiFailure(400, "dataSources: A metric monitor takes exactly one data source.")
    source = sources[0]
    for field in ("aggregate", "dataset"):
        _require(source, field, str)
    if _require(source, "timeWindow", int) not in TIME_WINDOWS:
        raise ApiFailure(400, "timeWindow: Invalid time window.")
    group = _require(body, "conditionGroup", dict)
    if _require(group, "logicType", str) not in {"any", "any-short", "all", "none"}:
        raise ApiFailure(400, "conditionGroup.logicType: Invalid choice.")
    for condition in _require(group, "conditions", list):
        _require(condition, "type", str)
        _require(condition, "comparison", (int, float, dict))
        _require(condition, "conditionResult", int)


def _check_workflow(body: Any, state: State) -> None:
    name = _require(body, "name", str)
    if not 0 < len(name) <= 256:
        raise ApiFailure(400, "name: Ensure this field has no more than 256 characters.")
    for detector_id in body.get("detectorIds") or []:
        if not isinstance(detector_id, int) or str(detector_id) not in state.detectors:
            raise ApiFailure(400, f"detectorIds: Monitor {detector_id!r} does not exist.")
    for action_filter in body.get("actionFilters") or []:
        _require(action_filter, "logicType", str)
        for action in _require(action_filter, "actions", list):
            kind = _require(action, "type", str)
            if kind in {"slack", "pagerduty"} and not action.get("integrationId"):
                raise ApiFailure(400, f"actions: {kind} actions need an integrationId.")


# --------------------------------------------------------------------------- shapes


def _detector(state: State, id_: str, body: dict[str, Any], old: dict[str, Any] | None) -> Any:
    source = body["dataSources"][0]
    return {
        "id": id_,
        "projectId": "1",
        "name": body["name"],
        "description": body.get("description"),
        "type": body["type"],
        "workflowIds": old["workflowIds"] if old else [],
        "owner": None,
        "createdBy": None,
        "dateCreated": old["dateCreated"] if old else _now(),
        "dateUpdated": _now(),
        "dataSources": [
            {
                "id": state.new_id(),
                "organizationId": "1",
                "type": "snuba_query_subscription",
                "sourceId": state.new_id(),
                "queryObj": {
                    "id": state.new_id(),
                    "status": 1,
                    "subscription": None,
                    "snubaQuery": {
                        "id": state.new_id(),
                        "dataset": source["dataset"],
                        "query": source.get("query", ""),
                        "aggregate": source["aggregate"],
                        "timeWindow": source["timeWindow"],
                        "environment": source.get("environment"),
                        "eventTypes": source.get("eventTypes", []),
                        "extrapolationMode": source.get("extrapolationMode", "unknown"),
                    },
                },
            }
        ],
        "conditionGroup": {
            "id": state.new_id(),
            "organizationId": "1",
            "logicType": body["conditionGroup"]["logicType"],
            "conditions": [
                {"id": state.new_id(), **c} for c in body["conditionGroup"]["conditions"]
            ],
            "actions": [],
        },
        "config": body.get("config", {}),
        "enabled": body.get("enabled", True),
        "latestGroup": None,
    }


def _data_condition_group(state: State, group: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": state.new_id(),
        "organizationId": "1",
        "logicType": group.get("logicType", "any-short"),
        "conditions": [{"id": state.new_id(), **c} for c in group.get("conditions") or []],
        "actions": [
            {"id": state.new_id(), "status": "active", **a} for a in group.get("actions") or []
        ],
    }


def _workflow(state: State, id_: str, body: dict[str, Any], old: dict[str, Any] | None) -> Any:
    return {
        "id": id_,
        "name": body["name"],
        "organizationId": "1",
        "createdBy": None,
        "dateCreated": old["dateCreated"] if old else _now(),
        "dateUpdated": _now(),
        "triggers": _data_condition_group(state, body.get("triggers") or {}),
        "actionFilters": [_data_condition_group(state, f) for f in body.get("actionFilters") or []],
        "environment": body.get("environment"),
        "config": body.get("config", {}),
        "detectorIds": [str(i) for i in body.get("detectorIds") or []],
        "enabled": body.get("enabled", True),
        "lastTriggered": None,
        "owner": body.get("owner"),
    }


def _key(state: State, id_: str, name: str, active: bool, created: str | None) -> Any:
    public, secret = secrets.token_hex(16), secrets.token_hex(16)
    ingest = f"https://o1.ingest.sentry.io/api/{state.project_id}"
    return {
        "id": id_,
        "name": name,
        "label": name,
        "public": public,
        "secret": secret,
        "projectId": int(state.project_id),
        "isActive": active,
        "rateLimit": None,
        "dsn": {
            "secret": f"https://{public}:{secret}@o1.ingest.sentry.io/{state.project_id}",
            "public": f"https://{public}@o1.ingest.sentry.io/{state.project_id}",
            "csp": f"{ingest}/csp-report/?sentry_key={public}",
            "security": f"{ingest}/security/?sentry_key={public}",
            "minidump": f"{ingest}/minidump/?sentry_key={public}",
            "nel": f"{ingest}/nel/?sentry_key={public}",
            "unreal": f"{ingest}/unreal/{public}/",
            "crons": f"{ingest}/cron/___MONITOR_SLUG___/{public}/",
            "cdn": f"https://js.sentry-cdn.com/{public}.min.js",
            "playstation": f"{ingest}/playstation/?sentry_key={public}",
            "integration": f"{ingest}/integration/",
            "otlp_traces": f"{ingest}/integration/otlp/v1/traces",
            "otlp_logs": f"{ingest}/integration/otlp/v1/logs",
        },
        "browserSdkVersion": "latest",
        "browserSdk": {"choices": [["latest", "latest"], ["7.x", "7.x"]]},
        "dateCreated": created or _now(),
        "dynamicSdkLoaderOptions": {
            "hasReplay": True,
            "hasPerformance": False,
            "hasDebug": False,
            "hasFeedback": False,
            "hasLogsAndMetrics": False,
        },
        "useCase": "user",
    }


# --------------------------------------------------------------------------- handler


def _matches_name(item: dict[str, Any], query: str) -> bool:
    exact = re.fullmatch(r'name:"(.*)"', query)
    if exact:
        return bool(item["name"] == exact.group(1))
    return query.lower() in str(item["name"]).lower()


class Handler(BaseHTTPRequestHandler):
    server: SentryServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    # --- plumbing --------------------------------------------------------------------

    def _send(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None, raw: str = ""
    ) -> None:
        data = raw.encode() if raw else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", None) or (
            "text/html" if raw else "application/json"
        )
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    @staticmethod
    def _error_body(status: int, message: str) -> dict[str, Any]:
        if status == 429:
            message = (
                "You are attempting to use this endpoint too frequently. "
                "Limit is 40 requests in 1 seconds"
            )
        return {"detail": "Internal Error" if status == 500 else message}

    @staticmethod
    def _rate_headers() -> dict[str, str]:
        return {
            "X-Sentry-Rate-Limit-Limit": "40",
            "X-Sentry-Rate-Limit-Remaining": "0",
            "X-Sentry-Rate-Limit-Reset": str(int(time.time()) + 1),
            "X-Sentry-Rate-Limit-ConcurrentLimit": "25",
            "X-Sentry-Rate-Limit-ConcurrentRemaining": "24",
        }

    def _wire(self) -> Wire:
        return Wire(
            send=lambda status, body, headers, raw: self._send(status, body, headers, raw),
            drop=self._drop,
            error_body=self._error_body,
            rate_headers=self._rate_headers,
        )

    def _drop(self) -> None:
        # A reset: close without answering, so the client sees the connection break.
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may already have gone
            self.connection.shutdown(socket.SHUT_RDWR)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise ApiFailure(400, "Malformed request body.") from None

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        state = self.server.state
        body = self._body()
        if url.path.startswith("/__"):
            self._admin(method, url.path, body)
            return
        with state.lock:
            state.requests.append({"method": method, "path": url.path, "query": query})
        fault = state.faults.take(method, url.path)
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self._send(401, {"detail": "Invalid token"})
            return

        def work() -> tuple[int, Any, dict[str, str]]:
            try:
                with state.lock:
                    return self._route(method, url.path, query, body)
            except ApiFailure as exc:
                return exc.status, {"detail": exc.detail}, {}

        answer(fault, self._wire(), work)

    def _admin(self, method: str, path: str, body: Any) -> None:
        state = self.server.state
        with state.lock:
            if method == "POST" and path == "/__faults":
                state.faults.add(body)
                self._send(200, {"faults": state.faults.items})
            elif method == "POST" and path == "/__usage":
                state.accepted_errors = int(body["accepted"])
                self._send(200, {"accepted": state.accepted_errors})
            elif method == "GET" and path == "/__requests":
                self._send(200, state.requests)
            elif method == "POST" and path == "/__reset":
                state.reset()
                self._send(200, {})
            else:
                self._send(404, {"detail": NOT_FOUND})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- routes ----------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        if not path.startswith(PREFIX + "/"):
            raise ApiFailure(404, NOT_FOUND)
        parts = [p for p in path[len(PREFIX) :].split("/") if p]
        if parts[:1] == ["organizations"] and len(parts) >= 3:
            if parts[1] != state.org:
                raise ApiFailure(404, NOT_FOUND)
            rest = parts[2:]
            if rest == ["detectors"] and method == "GET":
                items = list(state.detectors.values())
                projects = query.get("project")
                if projects and not {state.project, "1", "-1"} & set(projects):
                    items = []
                return self._page(items, query)
            if len(rest) == 3 and rest[0] == "projects" and rest[2] == "detectors":
                if rest[1] != state.project:
                    raise ApiFailure(404, NOT_FOUND)
                if method != "POST":
                    raise ApiFailure(405, f'Method "{method}" not allowed.')
                _check_detector(body)
                id_ = state.new_id()
                state.detectors[id_] = _detector(state, id_, body, None)
                return 201, state.detectors[id_], {}
            if len(rest) == 2 and rest[0] == "detectors":
                return self._item(method, state.detectors, rest[1], body, "detector")
            if rest == ["workflows"]:
                if method == "GET":
                    return self._page(list(state.workflows.values()), query)
                if method == "POST":
                    _check_workflow(body, state)
                    id_ = state.new_id()
                    state.workflows[id_] = _workflow(state, id_, body, None)
                    self._link_detectors()
                    return 201, state.workflows[id_], {}
            if len(rest) == 2 and rest[0] == "workflows":
                return self._item(method, state.workflows, rest[1], body, "workflow")
            if rest == ["stats_v2"] and method == "GET":
                return self._stats(query)
        if parts[:1] == ["projects"] and len(parts) >= 4 and parts[3] == "keys":
            if parts[1] != state.org or parts[2] != state.project:
                raise ApiFailure(404, NOT_FOUND)
            if len(parts) == 4:
                if method == "GET":
                    return self._page(list(state.keys.values()), {})
                if method == "POST":
                    name = (body or {}).get("name") or "Default"
                    if not isinstance(name, str) or len(name) > 64:
                        raise ApiFailure(
                            400, "name: Ensure this field has no more than 64 characters."
                        )
                    id_ = secrets.token_hex(16)
                    state.keys[id_] = _key(state, id_, name, True, None)
                    return 201, state.keys[id_], {}
            if len(parts) == 5:
                return self._item(method, state.keys, parts[4], body, "key")
        raise ApiFailure(404, NOT_FOUND)

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, list[str]]
    ) -> tuple[int, Any, dict[str, str]]:
        wanted = (query.get("query") or [""])[0]
        if wanted:
            items = [i for i in items if _matches_name(i, wanted)]
        cursor = (query.get("cursor") or ["0:0:0"])[0]
        offset = int(cursor.split(":")[1])
        page = items[offset : offset + PAGE_SIZE]
        more = offset + PAGE_SIZE < len(items)
        base = f"http://127.0.0.1:{self.server.server_port}{urlsplit(self.path).path}"
        extra = "".join(f"&{k}={v}" for k, values in query.items() if k != "cursor" for v in values)
        next_cursor = f"0:{offset + PAGE_SIZE}:0"
        link = (
            f'<{base}?cursor=0:{max(offset - PAGE_SIZE, 0)}:1{extra}>; rel="previous"; '
            f'results="{str(offset > 0).lower()}"; cursor="0:{max(offset - PAGE_SIZE, 0)}:1", '
            f'<{base}?cursor={next_cursor}{extra}>; rel="next"; results="{str(more).lower()}"; '
            f'cursor="{next_cursor}"'
        )
        return 200, page, {"Link": link}

    def _item(
        self, method: str, table: dict[str, dict[str, Any]], id_: str, body: Any, kind: str
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        if kind in {"detector", "workflow"} and not id_.isdigit():
            raise ApiFailure(404, NOT_FOUND)
        if id_ not in table:
            raise ApiFailure(404, NOT_FOUND)
        if method == "GET":
            return 200, table[id_], {}
        if method == "DELETE":
            del table[id_]
            self._link_detectors()
            return 204, None, {}
        if method != "PUT":
            raise ApiFailure(405, f'Method "{method}" not allowed.')
        old = table[id_]
        if kind == "detector":
            _check_detector(body)
            table[id_] = _detector(state, id_, body, old)
        elif kind == "workflow":
            _check_workflow(body, state)
            table[id_] = _workflow(state, id_, body, old)
            self._link_detectors()
        else:
            body = body or {}
            name = body.get("name", old["name"])
            active = body.get("isActive", old["isActive"])
            if not isinstance(name, str) or not isinstance(active, bool):
                raise ApiFailure(400, "Invalid name or isActive.")
            table[id_] = {**old, "name": name, "label": name, "isActive": active}
        return 200, table[id_], {}

    def _link_detectors(self) -> None:
        state = self.server.state
        for detector_id, detector in state.detectors.items():
            detector["workflowIds"] = [
                w["id"] for w in state.workflows.values() if detector_id in w["detectorIds"]
            ]

    def _stats(self, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        if not query.get("field"):
            raise ApiFailure(400, "field: This field is required.")
        if not query.get("groupBy"):
            raise ApiFailure(400, "groupBy: This field is required.")
        if not query.get("statsPeriod") and not (query.get("start") and query.get("end")):
            raise ApiFailure(400, "Either statsPeriod or start and end are required.")
        field = query["field"][0]
        category = (query.get("category") or ["error"])[0]
        outcomes = query.get("outcome")
        outcome = outcomes[0] if outcomes else None
        rows = {"accepted": state.accepted_errors if category == "error" else 0}
        rows["rate_limited"] = 0
        groups = [
            {"by": {"outcome": name}, "totals": {field: count}, "series": {field: [count]}}
            for name, count in rows.items()
            if outcome in (None, name)
        ]
        day = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
        return 200, {"start": day, "end": _now(), "intervals": [day], "groups": groups}, {}


class SentryServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, token: str, state: State) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.token = token
        self.state = state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True)
    parser.add_argument("--org", default="agenzia-ai")
    parser.add_argument("--project", default="agenzia-ai")
    args = parser.parse_args(argv)
    server = SentryServer(args.port, args.token, State(args.org, args.project))
    print(f"READY {server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

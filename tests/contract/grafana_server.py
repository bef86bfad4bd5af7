"""A local Grafana HTTP API contract server, run as a subprocess by the tests.

Grafana publishes an OpenAPI file under AGPL-3.0; it is not used here. Every endpoint follows
Grafana's HTTP API documentation pages (grafana.com/docs/grafana/latest/developer-resources/
api-reference/http-api/…, the legacy ``/api`` routes that the Terraform/Pulumi provider uses):

===================================================================  ===========================
endpoint                                                             documentation page
===================================================================  ===========================
GET    /api/folders                  (limit, page)                   Folder HTTP API
POST   /api/folders                  {uid, title, parentUid}         Folder HTTP API
GET    /api/folders/{uid}                                            Folder HTTP API
GET    /api/search   (query, type, folderUIDs, dashboardUIDs,        Folder/Dashboard Search
                      tag, limit, page)                              HTTP API
POST   /api/dashboards/db            {dashboard, folderUid,          Dashboard HTTP API
                                      overwrite, message}            ("Create / Update")
GET    /api/dashboards/uid/{uid}                                     Dashboard HTTP API
DELETE /api/dashboards/uid/{uid}                                     Dashboard HTTP API
GET    /api/v1/provisioning/alert-rules                              Alerting Provisioning HTTP
POST   /api/v1/provisioning/alert-rules                              API ("Alert rules")
GET    /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}   Alerting Provisioning HTTP
PUT    /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}   API ("Rule groups")
===================================================================  ===========================

Behaviour from those pages: bearer-token auth (401 ``{"message": "Unauthorized"}``); errors as
``{"message": ...}`` (dashboard conflicts add ``"status": "version-mismatch" | "name-exists"``
with 412); search sorted by title, ``limit`` (default 1000, at most 5000; an invalid value
means 1000) and 1-based ``page``; a dashboard save bumps its ``version`` and answers ``{id, uid,
url, status: "success", version, slug}``; ``POST`` of an alert rule answers 201 with the rule
(``provenance: "api"`` unless the ``X-Disable-Provenance`` header is sent); a rule group's
``interval`` is in seconds and must be a positive multiple of the scheduler's 10s; ``PUT`` of a
rule group replaces its rules (rules left out are deleted, an empty list deletes the group).
Assumptions (the pages do not say): creating a folder whose uid exists answers 409; an unknown
folder in a dashboard save or a rule answers 400.

Test-only admin endpoints (not Grafana):

- ``POST /__faults`` ``{"method": "GET", "path": "/api/search", "kind": ..., "times": 1}``: the
  next ``times`` matching requests fail (``method`` ``*`` matches any; ``path`` is a prefix).
  Kinds: ``429`` (``Retry-After``: ``retry_after`` seconds, default 1), ``500``, ``502``
  (an HTML gateway page), ``503``, ``reset`` (drop the connection unanswered), and ``body``:
  answer ``status`` (default 200) with ``body`` as is (a string is sent raw as text/html, any
  other value as JSON), for malformed replies;
- ``GET /__requests``: the requests seen (method, path, query), never headers;
- ``POST /__reset``: forget everything.

Run: ``python tests/contract/grafana_server.py --token T``; it prints ``READY <port>`` once
listening on 127.0.0.1 (``--port 0`` picks a free port). From tests, use
:func:`contract_server`, which runs it as a subprocess and stops it by its PID.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000
SCHEDULER_SECONDS = 10
UID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
NO_DATA_STATES = {"Alerting", "NoData", "OK", "KeepLast"}
EXEC_ERR_STATES = {"Alerting", "Error", "OK", "KeepLast"}


class ApiFailure(Exception):
    def __init__(self, code: int, message: str, /, **extra: Any) -> None:
        super().__init__(message)
        self.status = code
        self.body = {"message": message, **extra}


class Reset(Exception):
    """Drop the connection without an answer."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _new_uid() -> str:
    return secrets.token_hex(7)


class State:
    """Everything the server stores; one lock, since handler threads run concurrently."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        self.next_id = 0
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self.intervals: dict[tuple[str, str], int] = {}
        self.faults: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


# --------------------------------------------------------------------------- shapes


def folder_shape(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f["id"],
        "uid": f["uid"],
        "orgId": 1,
        "title": f["title"],
        "url": f"/dashboards/f/{f['uid']}/{_slug(f['title'])}",
        "hasAcl": False,
        "canSave": True,
        "canEdit": True,
        "canAdmin": True,
        "canDelete": True,
        "createdBy": "Anonymous",
        "created": f["created"],
        "updatedBy": "Anonymous",
        "updated": f["updated"],
        "version": f["version"],
        "parentUid": f.get("parentUid"),
    }


def _folder_fields(state: State, folder_uid: str | None) -> dict[str, Any]:
    folder = state.folders.get(folder_uid or "")
    if folder is None:
        return {}
    return {
        "folderId": folder["id"],
        "folderUid": folder["uid"],
        "folderTitle": folder["title"],
        "folderUrl": f"/dashboards/f/{folder['uid']}/{_slug(folder['title'])}",
    }


def search_hit(state: State, d: dict[str, Any]) -> dict[str, Any]:
    title = d["model"]["title"]
    return {
        "id": d["id"],
        "uid": d["uid"],
        "orgId": 1,
        "title": title,
        "uri": f"db/{_slug(title)}",
        "url": f"/d/{d['uid']}/{_slug(title)}",
        "slug": "",
        "type": "dash-db",
        "tags": list(d["model"].get("tags") or []),
        "isStarred": False,
        "sortMeta": 0,
        **_folder_fields(state, d.get("folderUid")),
    }


def folder_hit(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f["id"],
        "uid": f["uid"],
        "orgId": 1,
        "title": f["title"],
        "uri": f"db/{_slug(f['title'])}",
        "url": f"/dashboards/f/{f['uid']}/{_slug(f['title'])}",
        "slug": "",
        "type": "dash-folder",
        "tags": [],
        "isStarred": False,
        "sortMeta": 0,
    }


def rule_group_shape(state: State, folder: str, group: str) -> dict[str, Any]:
    rules = [r for r in state.rules.values() if (r["folderUID"], r["ruleGroup"]) == (folder, group)]
    return {
        "title": group,
        "folderUid": folder,
        "interval": state.intervals.get((folder, group), 60),
        "rules": sorted(rules, key=lambda r: r["id"]),
    }


# --------------------------------------------------------------------------- validation


def _check_rule(state: State, body: Any, folder: str | None, group: str | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFailure(400, "invalid alert rule: the body must be a JSON object")
    rule = dict(body)
    if folder is not None:
        rule["folderUID"] = folder
    if group is not None:
        rule["ruleGroup"] = group
    for key in ("title", "folderUID", "ruleGroup"):
        if not isinstance(rule.get(key), str) or not rule[key]:
            raise ApiFailure(400, f"invalid alert rule: {key} is required")
    if len(rule["title"]) > 190:
        raise ApiFailure(400, "invalid alert rule: title is longer than 190 characters")
    if rule["folderUID"] not in state.folders:
        raise ApiFailure(400, f"invalid alert rule: folder {rule['folderUID']} does not exist")
    data = rule.get("data")
    if not isinstance(data, list) or not data:
        raise ApiFailure(400, "invalid alert rule: no queries or expressions are found")
    refs = set()
    for item in data:
        if not isinstance(item, dict) or not item.get("refId") or "model" not in item:
            raise ApiFailure(400, "invalid alert rule: every query needs refId and model")
        refs.add(item["refId"])
    record = rule.get("record")
    if record is None:
        if rule.get("condition") not in refs:
            raise ApiFailure(400, "invalid alert rule: condition must name the refId of a query")
        if rule.get("noDataState", "NoData") not in NO_DATA_STATES:
            raise ApiFailure(400, "invalid alert rule: unknown noDataState")
        if rule.get("execErrState", "Error") not in EXEC_ERR_STATES:
            raise ApiFailure(400, "invalid alert rule: unknown execErrState")
    elif not isinstance(record, dict) or not record.get("metric") or not record.get("from"):
        raise ApiFailure(400, "invalid alert rule: record needs metric and from")
    uid = rule.get("uid")
    if uid is not None and (not isinstance(uid, str) or not UID_RE.match(uid)):
        raise ApiFailure(400, "invalid alert rule: uid must be 1-40 letters, digits, - or _")
    return rule


def _stored_rule(
    state: State, rule: dict[str, Any], old: dict[str, Any] | None, prov: str
) -> dict[str, Any]:
    return {
        "id": old["id"] if old else state.new_id(),
        "uid": rule.get("uid") or (old["uid"] if old else _new_uid()),
        "orgID": 1,
        "folderUID": rule["folderUID"],
        "ruleGroup": rule["ruleGroup"],
        "title": rule["title"],
        "condition": rule.get("condition", ""),
        "data": rule["data"],
        "updated": _now(),
        "noDataState": rule.get("noDataState", "NoData"),
        "execErrState": rule.get("execErrState", "Error"),
        "for": rule.get("for", "0s"),
        "annotations": dict(rule.get("annotations") or {}),
        "labels": dict(rule.get("labels") or {}),
        "provenance": prov,
        "isPaused": bool(rule.get("isPaused", False)),
        "record": rule.get("record"),
    }


# --------------------------------------------------------------------------- handler


class Handler(BaseHTTPRequestHandler):
    server_version = "grafana-contract/1"
    protocol_version = "HTTP/1.1"
    state: State  # set on the class by main()

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
        pass  # quiet: the tests read /__requests instead

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = isinstance(body, str)
        data = body.encode() if raw else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            kind = "text/html; charset=utf-8" if raw else "application/json"
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _drop(self) -> None:
        # SO_LINGER 0: close with a TCP reset, as a crashing proxy would.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            return json.loads(self.rfile.read(length))
        except json.JSONDecodeError:
            raise ApiFailure(400, "bad request data") from None

    def _fault(self, method: str, path: str) -> dict[str, Any] | None:
        with self.state.lock:
            for fault in self.state.faults:
                if (
                    fault["times"] > 0
                    and fault.get("method", "*") in {method, "*"}
                    and path.startswith(fault.get("path", "/"))
                ):
                    fault["times"] -= 1
                    return dict(fault)
        return None

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query)
        try:
            body = self._body()
            if path.startswith("/__"):
                self._admin(method, path, body)
                return
            with self.state.lock:
                self.state.requests.append({"method": method, "path": path, "query": query})
            if self.headers.get("Authorization") != f"Bearer {self.state.token}":
                raise ApiFailure(401, "Unauthorized")
            fault = self._fault(method, path)
            if fault is not None:
                self._inject(fault)
                return
            with self.state.lock:
                status, answer = self._route(method, path, query, body)
            self._send(status, answer)
        except Reset:
            self._drop()
        except ApiFailure as failure:
            self._send(failure.status, failure.body)
        except Exception as exc:  # a bug here must fail the test loudly, not drop the connection
            self._send(500, {"message": f"contract server bug: {exc!r}"})

    def _inject(self, fault: dict[str, Any]) -> None:
        kind = str(fault["kind"])
        if kind == "reset":
            raise Reset
        if kind == "429":
            retry = {"Retry-After": str(fault.get("retry_after", 1))}
            self._send(429, {"message": "Too Many Requests"}, retry)
        elif kind == "502":
            self._send(502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
        elif kind in {"500", "503"}:
            self._send(int(kind), {"message": "Internal Server Error"})
        elif kind == "body":
            self._send(int(fault.get("status", 200)), fault.get("body"))
        else:
            raise ApiFailure(500, f"unknown fault kind {kind!r}")

    def _admin(self, method: str, path: str, body: Any) -> None:
        state = self.state
        with state.lock:
            if method == "POST" and path == "/__faults":
                for fault in body if isinstance(body, list) else [body]:
                    state.faults.append({"times": 1, "method": "*", **fault})
                self._send(204)
            elif method == "POST" and path == "/__reset":
                state.reset()
                self._send(204)
            elif method == "GET" and path == "/__requests":
                self._send(200, state.requests)
            else:
                raise ApiFailure(404, "Not found")

    # ----------------------------------------------------------------------- API routes

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["api", "folders"]:
            if method == "GET":
                folders = sorted(self.state.folders.values(), key=lambda f: f["title"].lower())
                page = _page(query, folders)
                return 200, [{"id": f["id"], "uid": f["uid"], "title": f["title"]} for f in page]
            if method == "POST":
                return 200, folder_shape(self._create_folder(body))
        if parts[:2] == ["api", "folders"] and len(parts) == 3 and method == "GET":
            folder = self.state.folders.get(parts[2])
            if folder is None:
                raise ApiFailure(404, "folder not found")
            return 200, folder_shape(folder)
        if parts == ["api", "search"] and method == "GET":
            return 200, self._search(query)
        if parts == ["api", "dashboards", "db"] and method == "POST":
            return 200, self._save_dashboard(body)
        if parts[:3] == ["api", "dashboards", "uid"] and len(parts) == 4:
            return self._dashboard(method, parts[3])
        if parts == ["api", "v1", "provisioning", "alert-rules"]:
            if method == "GET":
                return 200, sorted(self.state.rules.values(), key=lambda r: r["id"])
            if method == "POST":
                return 201, self._create_rule(body)
        if (
            parts[:4] == ["api", "v1", "provisioning", "folder"]
            and len(parts) == 7
            and parts[5] == "rule-groups"
        ):
            return self._rule_group(method, parts[4], parts[6], body)
        raise ApiFailure(404, "Not found")

    def _create_folder(self, body: Any) -> dict[str, Any]:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("title"), str)
            or not body["title"]
        ):
            raise ApiFailure(400, "folder title cannot be empty")
        uid = body.get("uid") or _new_uid()
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise ApiFailure(400, "uid contains illegal characters or is longer than 40")
        if uid in self.state.folders:
            raise ApiFailure(409, "a folder with the same uid already exists")
        now = _now()
        folder = {
            "id": self.state.new_id(), "uid": uid, "title": body["title"], "created": now,
            "updated": now, "version": 1, "parentUid": body.get("parentUid"),
        }  # fmt: skip
        self.state.folders[uid] = folder
        return folder

    def _search(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = self.state
        kind = (query.get("type") or [""])[-1]
        text = (query.get("query") or [""])[-1].lower()
        folder_uids = {u for v in query.get("folderUIDs", []) for u in v.split(",") if u}
        dash_uids = {u for v in query.get("dashboardUIDs", []) for u in v.split(",") if u}
        tags = set(query.get("tag", []))
        hits: list[dict[str, Any]] = []
        if kind in {"", "dash-folder"} and not dash_uids and not tags:
            for f in state.folders.values():
                parent = f.get("parentUid") or "general"
                if (not folder_uids or parent in folder_uids) and text in f["title"].lower():
                    hits.append(folder_hit(f))
        if kind in {"", "dash-db"}:
            for d in state.dashboards.values():
                where = d.get("folderUid") or "general"
                model = d["model"]
                if (
                    (not folder_uids or where in folder_uids)
                    and (not dash_uids or d["uid"] in dash_uids)
                    and tags <= set(model.get("tags") or [])
                    and text in model["title"].lower()
                ):
                    hits.append(search_hit(state, d))
        hits.sort(key=lambda h: (h["title"].lower(), h["uid"]))
        return _page(query, hits)

    def _save_dashboard(self, body: Any) -> dict[str, Any]:
        state = self.state
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            raise ApiFailure(400, "bad request data")
        model = dict(body["dashboard"])
        title = model.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiFailure(400, "Dashboard title cannot be empty")
        folder = body.get("folderUid") or None
        if folder is not None and folder not in state.folders:
            raise ApiFailure(400, "folder not found")
        uid = model.get("uid") or _new_uid()
        if not isinstance(uid, str) or not UID_RE.match(uid):
            raise ApiFailure(400, "uid contains illegal characters or is longer than 40")
        overwrite = bool(body.get("overwrite"))
        old = state.dashboards.get(uid)
        for other in state.dashboards.values():
            same_place = (other.get("folderUid") or None) == folder
            if (
                other["uid"] != uid
                and same_place
                and other["model"]["title"].lower() == title.lower()
                and not overwrite
            ):
                raise ApiFailure(
                    412, "A dashboard with the same name in the folder already exists",
                    status="name-exists",
                )  # fmt: skip
        if old is not None and not overwrite and model.get("version") != old["version"]:
            raise ApiFailure(
                412, "The dashboard has been changed by someone else", status="version-mismatch"
            )
        version = old["version"] + 1 if old else 1
        id_ = old["id"] if old else state.new_id()
        model.update(id=id_, uid=uid, version=version)
        state.dashboards[uid] = {
            "id": id_, "uid": uid, "model": model, "folderUid": folder, "version": version,
            "created": old["created"] if old else _now(), "updated": _now(),
        }  # fmt: skip
        return {
            "id": id_, "uid": uid, "url": f"/d/{uid}/{_slug(title)}", "status": "success",
            "version": version, "slug": _slug(title),
        }  # fmt: skip

    def _dashboard(self, method: str, uid: str) -> tuple[int, Any]:
        state = self.state
        stored = state.dashboards.get(uid)
        if stored is None:
            raise ApiFailure(404, "Dashboard not found")
        title = stored["model"]["title"]
        if method == "GET":
            meta = {
                "type": "db", "canSave": True, "canEdit": True, "canAdmin": True,
                "canStar": True, "canDelete": True, "slug": _slug(title),
                "url": f"/d/{uid}/{_slug(title)}", "expires": "0001-01-01T00:00:00Z",
                "created": stored["created"], "updated": stored["updated"],
                "updatedBy": "Anonymous", "createdBy": "Anonymous",
                "version": stored["version"], "hasAcl": False, "isFolder": False,
                "folderId": 0, "folderUid": "", "folderTitle": "General", "folderUrl": "",
                "provisioned": False, "provisionedExternalId": "",
                **_folder_fields(state, stored.get("folderUid")),
            }  # fmt: skip
            return 200, {"dashboard": stored["model"], "meta": meta}
        if method == "DELETE":
            del state.dashboards[uid]
            return 200, {
                "title": title,
                "message": f"Dashboard {title} deleted",
                "id": stored["id"],
            }
        raise ApiFailure(405, "Method Not Allowed")

    def _create_rule(self, body: Any) -> dict[str, Any]:
        state = self.state
        rule = _check_rule(state, body, None, None)
        if rule.get("uid") in state.rules:
            raise ApiFailure(409, f"an alert rule with uid {rule['uid']} already exists")
        stored = _stored_rule(state, rule, None, self._provenance())
        state.rules[stored["uid"]] = stored
        state.intervals.setdefault((stored["folderUID"], stored["ruleGroup"]), 60)
        return stored

    def _provenance(self) -> str:
        return "" if self.headers.get("X-Disable-Provenance") is not None else "api"

    def _rule_group(self, method: str, folder: str, group: str, body: Any) -> tuple[int, Any]:
        state = self.state
        key = (folder, group)
        exists = any((r["folderUID"], r["ruleGroup"]) == key for r in state.rules.values())
        if method == "GET":
            if not exists:
                raise ApiFailure(404, "rule group not found")
            return 200, rule_group_shape(state, folder, group)
        if method != "PUT":
            raise ApiFailure(405, "Method Not Allowed")
        if folder not in state.folders:
            raise ApiFailure(400, f"invalid rule group: folder {folder} does not exist")
        if not isinstance(body, dict) or not isinstance(body.get("rules"), list):
            raise ApiFailure(400, "invalid rule group: rules must be a list")
        interval = body.get("interval")
        if (
            not isinstance(interval, int)
            or isinstance(interval, bool)
            or interval <= 0
            or interval % SCHEDULER_SECONDS
        ):
            raise ApiFailure(
                400, f"invalid rule group: interval ({interval}) should be non-zero and "
                f"divided exactly by scheduler interval: {SCHEDULER_SECONDS}",
            )  # fmt: skip
        rules = [_check_rule(state, r, folder, group) for r in body["rules"]]
        uids = [r["uid"] for r in rules if r.get("uid")]
        if len(uids) != len(set(uids)):
            raise ApiFailure(400, "invalid rule group: a rule uid repeats")
        for uid in uids:
            other = state.rules.get(uid)
            if other is not None and (other["folderUID"], other["ruleGroup"]) != key:
                raise ApiFailure(400, f"invalid rule group: rule {uid} belongs to another group")
        prov = self._provenance()
        for old_uid in [
            u for u, r in state.rules.items() if (r["folderUID"], r["ruleGroup"]) == key
        ]:
            if old_uid not in uids:
                del state.rules[old_uid]
        for rule in rules:
            stored = _stored_rule(state, rule, state.rules.get(rule.get("uid") or ""), prov)
            state.rules[stored["uid"]] = stored
        if rules:
            state.intervals[key] = interval
        else:
            state.intervals.pop(key, None)
        return 200, rule_group_shape(state, folder, group)


def _page(query: dict[str, list[str]], items: list[Any]) -> list[Any]:
    """``limit`` (invalid: the default) and 1-based ``page``, as the search page documents."""
    try:
        limit = int((query.get("limit") or [str(DEFAULT_LIMIT)])[-1])
    except ValueError:
        limit = DEFAULT_LIMIT
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    try:
        page = max(1, int((query.get("page") or ["1"])[-1]))
    except ValueError:
        page = 1
    return items[(page - 1) * limit : page * limit]


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def contract_server(token: str) -> Iterator[str]:
    """Run this server as a subprocess on 127.0.0.1; yield its base URL; stop it by its PID."""
    from tests.contract.process import serve  # the server itself runs without the test tree

    with serve(Path(__file__), "--token", token, "--port", "0") as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    Handler.state = State(args.token)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])

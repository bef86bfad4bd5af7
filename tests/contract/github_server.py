"""A local GitHub REST API contract server for the issue calls of ``infra/github_issue.py``.

Only the endpoints that module calls, each following the GitHub REST API documentation page
named (docs.github.com/rest, API version ``2022-11-28``; paths relative to
``https://api.github.com``):

=====================================================  =======================================
endpoint                                               GitHub REST docs page
=====================================================  =======================================
GET   /repos/{owner}/{repo}/issues                     Issues > Issues > List repository issues
POST  /repos/{owner}/{repo}/issues                     Issues > Issues > Create an issue
PATCH /repos/{owner}/{repo}/issues/{issue_number}      Issues > Issues > Update an issue
POST  /repos/{owner}/{repo}/issues/{n}/comments        Issues > Comments > Create an issue comment
GET   /repos/{owner}/{repo}/issues/{n}/comments        Issues > Comments > List issue comments
PATCH /repos/{owner}/{repo}/issues/comments/{id}       Issues > Comments > Update an issue comment
=====================================================  =======================================

Pull requests are issues here, as in GitHub's REST API: their comments are issue comments
(the "Pull requests" note of "List issue comments"), listed oldest first, paged like issues.

Behaviour shared by all of them, from the docs page named:

- "Authenticating to the REST API": ``Authorization: Bearer T`` (or ``token T``); a wrong token
  is 401 ``{"message": "Bad credentials", "documentation_url": ..., "status": "401"}``, no
  token 401 ``Requires authentication``. Repositories are the ones given with ``--repo``
  (owner and name case-insensitive); any other is 404 ``Not Found``.
- "Getting started with the REST API": a request without ``User-Agent`` is refused (403).
- "API Versions": ``X-GitHub-Api-Version`` other than ``2022-11-28`` is 400.
- "Using pagination in the REST API": ``per_page`` (default 30, at most 100) and ``page``; a
  ``Link`` header with ``first``/``prev``/``next``/``last`` when there is more than one page.
  The list is sorted by ``created`` (or ``updated``/``comments``), ``desc`` unless ``direction``
  says ``asc``; ``labels`` is a comma-separated list that must all match; pull requests are
  listed too, with a ``pull_request`` key (the "List repository issues" note).
- "Rate limits for the REST API": ``x-ratelimit-limit``/``-remaining``/``-used``/``-reset``/
  ``-resource`` on every answer; secondary limits answer 403 or 429, with ``Retry-After``;
  a spent primary limit answers 403 or 429 with ``x-ratelimit-remaining: 0``.
- "Troubleshooting" / the endpoints' 422: ``{"message": "Validation Failed", "errors":
  [{"resource": "Issue", "field": ..., "code": "missing_field" | "invalid" | "custom"}]}``.
  An issue body or comment over 65,536 characters is refused that way, and a title over 256
  (limits as GitHub enforces them; the docs do not list them).
- Creating an issue with a label that does not exist creates the label, as GitHub does for a
  token with push access. Closing without ``state_reason`` records ``completed``.

Test-only admin endpoints (not GitHub):

- ``POST /__faults`` ``{"method": "POST", "path": "/repos/o/r/issues", "kind": ..., "times": 1}``
  queues a fault for the next ``times`` matching calls (``method`` ``*`` matches any; ``path`` is
  a prefix). Kinds: ``secondary_403`` and ``secondary_429`` (``retry_after`` seconds, default 1),
  ``primary_403`` (remaining 0, reset ``retry_after`` seconds ahead, no ``Retry-After``),
  ``500``/``502``/``503``/``504``, and ``reset_after_commit`` (does the work, then drops the
  connection unanswered).
- ``POST /__config`` ``{"max_per_page": 2}``: serve at most that many items a page whatever
  ``per_page`` asks, so that paging is exercised with a handful of issues;
  ``{"drop_labels": true}``: drop the labels of new issues, as GitHub silently does when the
  token may not set labels ("Create an issue").
- ``POST /__seed`` ``{"repo": "o/r", "items": [{"title", "body", "labels", "state",
  "pull_request": true, "created_at"}]}`` stores issues (and pull requests) as a person would
  have made them; answers their numbers.
- ``GET /__issues?repo=o/r``: everything stored, comments included; ``GET /__requests``: calls
  seen (method, path, query and which headers came; never the token); ``POST /__reset``.

Run: ``python tests/contract/github_server.py --token T --repo owner/name``; it prints
``READY <port>`` once listening on 127.0.0.1 (``--port 0`` picks a free port).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import struct
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest"
BODY_LIMIT = 65_536
TITLE_LIMIT = 256
DEFAULT_PAGE, MAX_PAGE = 30, 100
RATE_LIMIT = 5000
STATE_REASONS = {"completed", "not_planned", "duplicate", "reopened"}
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


class ApiFailure(Exception):
    def __init__(
        self, status: int, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class Reset(Exception):
    """Drop the connection without an answer."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(field: str, code: str, message: str = "") -> ApiFailure:
    error = {"resource": "Issue", "field": field, "code": code}
    if message:
        error["message"] = message
    return ApiFailure(422, "Validation Failed", [error])


class State:
    """Everything the server stores; one lock, since handler threads run concurrently."""

    def __init__(self, token: str, repos: list[str]) -> None:
        self.token = token
        self.initial_repos = [r.lower() for r in repos]
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        self.repos: dict[str, dict[str, Any]] = {}
        for name in self.initial_repos:
            self.add_repo(name)
        self.faults: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.max_per_page = MAX_PAGE
        self.drop_labels = False
        self.used = 0
        self.next_id = 1_000_000

    def add_repo(self, name: str) -> dict[str, Any]:
        key = name.lower()
        if key not in self.repos:
            self.repos[key] = {"name": name, "issues": {}, "labels": {}, "next_number": 1}
        return self.repos[key]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


# --------------------------------------------------------------------------- shapes


def _label(state: State, repo: dict[str, Any], name: str) -> dict[str, Any]:
    """The repository's label of that name (names are case-insensitive), created if new."""
    key = name.lower()
    if key not in repo["labels"]:
        repo["labels"][key] = {
            "id": state.new_id(),
            "node_id": f"LA_{uuid.uuid4().hex[:12]}",
            "url": f"https://api.github.com/repos/{repo['name']}/labels/{name}",
            "name": name,
            "description": None,
            "color": "ededed",
            "default": False,
        }
    return dict(repo["labels"][key])


def _issue_answer(repo: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A stored issue shaped like the docs' "Issue" schema (the fields a client may read)."""
    base = f"https://api.github.com/repos/{repo['name']}/issues/{item['number']}"
    answer = {
        "id": item["id"],
        "node_id": item["node_id"],
        "url": base,
        "repository_url": f"https://api.github.com/repos/{repo['name']}",
        "comments_url": f"{base}/comments",
        "html_url": f"https://github.com/{repo['name']}/issues/{item['number']}",
        "number": item["number"],
        "state": item["state"],
        "state_reason": item["state_reason"],
        "title": item["title"],
        "body": item["body"],
        "user": item["user"],
        "labels": [dict(label) for label in item["labels"]],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "active_lock_reason": None,
        "comments": len(item["comments"]),
        "closed_at": item["closed_at"],
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
        "author_association": "OWNER",
    }
    if item.get("pull_request"):
        pulls = f"https://github.com/{repo['name']}/pull/{item['number']}"
        answer["pull_request"] = {
            "url": f"https://api.github.com/repos/{repo['name']}/pulls/{item['number']}",
            "html_url": pulls,
            "diff_url": f"{pulls}.diff",
            "patch_url": f"{pulls}.patch",
            "merged_at": None,
        }
    return answer


# --------------------------------------------------------------------------- handler


class Handler(BaseHTTPRequestHandler):
    server_version = "github-contract/1"
    protocol_version = "HTTP/1.1"
    state: State  # set on the class by main()

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
        pass  # quiet: the tests read /__requests instead

    def _send(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        remaining: int | None = None,
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        with self.state.lock:
            self.state.used += 1
            used = self.state.used
        left = max(0, RATE_LIMIT - used) if remaining is None else remaining
        rate = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(left),
            "x-ratelimit-used": str(RATE_LIMIT - left),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": API_VERSION,
            "x-github-request-id": uuid.uuid4().hex[:20].upper(),
        }
        for name, value in {**rate, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _error(self, failure: ApiFailure, headers: dict[str, str] | None = None) -> None:
        body: dict[str, Any] = {"message": failure.message}
        if failure.errors:
            body["errors"] = failure.errors
        body |= {"documentation_url": DOCS, "status": str(failure.status)}
        self._send(failure.status, body, headers)

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
            raise ApiFailure(400, "Problems parsing JSON") from None

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

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _seen(self, method: str, path: str, query: dict[str, str]) -> None:
        auth = self.headers.get("Authorization", "")
        with self.state.lock:
            self.state.requests.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "auth_scheme": auth.partition(" ")[0].lower() or None,
                    "accept": self.headers.get("Accept"),
                    "api_version": self.headers.get("X-GitHub-Api-Version"),
                    "user_agent": self.headers.get("User-Agent"),
                }
            )

    def _check_headers(self) -> None:
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth:
            raise ApiFailure(401, "Requires authentication")
        if scheme.lower() not in {"bearer", "token"} or token.strip() != self.state.token:
            raise ApiFailure(401, "Bad credentials")
        if not self.headers.get("User-Agent"):
            raise ApiFailure(
                403,
                "Request forbidden by administrative rules. "
                "Please make sure your request has a User-Agent header",
            )
        version = self.headers.get("X-GitHub-Api-Version")
        if version is not None and version != API_VERSION:
            raise ApiFailure(400, f"API version {version!r} is not supported.")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            body = self._body()
            if path.startswith("/__"):
                self._admin(method, path, query, body)
                return
            self._seen(method, path, query)
            self._check_headers()
            fault = self._fault(method, path) or {}
            kind = str(fault.get("kind", ""))
            wait = str(fault.get("retry_after", 1))
            if kind in {"secondary_403", "secondary_429"}:
                status = 403 if kind == "secondary_403" else 429
                self._error(ApiFailure(status, SECONDARY), {"Retry-After": wait})
                return
            if kind == "primary_403":
                reset = str(int(time.time()) + int(float(wait)))
                message = "API rate limit exceeded for installation ID 4242."
                self._send(
                    403,
                    {"message": message, "documentation_url": DOCS, "status": "403"},
                    {"x-ratelimit-reset": reset},
                    remaining=0,
                )
                return
            if kind in {"500", "502", "503", "504"}:
                raise ApiFailure(int(kind), "Server Error")
            status, answer, headers = self._route(method, path, query, body)
            if kind == "reset_after_commit":
                raise Reset
            self._send(status, answer, headers)
        except Reset:
            self._drop()
        except ApiFailure as failure:
            self._error(failure)

    def _admin(self, method: str, path: str, query: dict[str, str], body: Any) -> None:
        state = self.state
        with state.lock:
            if method == "POST" and path == "/__faults":
                for fault in body if isinstance(body, list) else [body]:
                    state.faults.append({"times": 1, "method": "*", **fault})
                self._send(204)
            elif method == "POST" and path == "/__config":
                state.max_per_page = int(body.get("max_per_page", state.max_per_page))
                state.drop_labels = bool(body.get("drop_labels", state.drop_labels))
                self._send(204)
            elif method == "POST" and path == "/__reset":
                state.reset()
                self._send(204)
            elif method == "POST" and path == "/__seed":
                repo = state.add_repo(body["repo"])
                numbers = [self._store(repo, item)["number"] for item in body.get("items", [])]
                self._send(200, numbers)
            elif method == "GET" and path == "/__issues":
                repo = state.repos.get(query.get("repo", "").lower())
                self._send(200, list(repo["issues"].values()) if repo else [])
            elif method == "GET" and path == "/__requests":
                self._send(200, state.requests)
            else:
                raise ApiFailure(404, "Not Found")

    # ----------------------------------------------------------------------- API routes

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "repos" or parts[3] != "issues":
            raise ApiFailure(404, "Not Found")
        state = self.state
        with state.lock:
            repo = state.repos.get(f"{parts[1]}/{parts[2]}".lower())
            if repo is None:
                raise ApiFailure(404, "Not Found")
            if len(parts) == 4 and method == "GET":
                page, links = self._list(repo, query, path)
                return 200, page, {"Link": links} if links else {}
            if len(parts) == 4 and method == "POST":
                new = self._validated_new(body)
                if state.drop_labels:
                    new = {**new, "labels": []}
                item = self._store(repo, new)
                answer = _issue_answer(repo, item)
                return 201, answer, {"Location": answer["url"]}
            if len(parts) == 6 and parts[4] == "comments" and method == "PATCH":
                return 200, self._edit_comment(repo, parts[5], body), {}
            number = int(parts[4]) if len(parts) >= 5 and parts[4].isdigit() else -1
            item = repo["issues"].get(number)
            if item is None:
                raise ApiFailure(404, "Not Found")
            if len(parts) == 5 and method == "PATCH":
                return 200, _issue_answer(repo, self._update(repo, item, body)), {}
            if len(parts) == 6 and parts[5] == "comments" and method == "GET":
                page, links = self._page(item["comments"], query, path)
                return 200, page, {"Link": links} if links else {}
            if len(parts) == 6 and parts[5] == "comments" and method == "POST":
                comment = self._comment(repo, item, body)
                return 201, comment, {"Location": comment["url"]}
        raise ApiFailure(404, "Not Found")

    def _list(
        self, repo: dict[str, Any], query: dict[str, str], path: str
    ) -> tuple[list[dict[str, Any]], str]:
        wanted_state = query.get("state", "open")
        if wanted_state not in {"open", "closed", "all"}:
            raise _invalid("state", "invalid")
        try:
            per_page = min(MAX_PAGE, max(1, int(query.get("per_page", DEFAULT_PAGE))))
            page = max(1, int(query.get("page", 1)))
        except ValueError:
            raise ApiFailure(400, "Invalid request: per_page and page must be numbers") from None
        per_page = min(per_page, self.state.max_per_page)
        labels = {n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()}
        sort = query.get("sort", "created")
        key = {"updated": "updated_at", "comments": "comments"}.get(sort, "created_at")
        items = [
            i
            for i in repo["issues"].values()
            if wanted_state in {"all", i["state"]}
            and labels <= {label["name"].lower() for label in i["labels"]}
        ]
        items.sort(
            key=lambda i: (len(i["comments"]) if key == "comments" else i[key], i["number"]),
            reverse=query.get("direction", "desc") != "asc",
        )
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        host = self.headers.get("Host", "127.0.0.1")

        def link(number: int, rel: str) -> str:
            params = urlencode({**query, "page": str(number)})
            return f'<http://{host}{path}?{params}>; rel="{rel}"'

        rels = []
        if page > 1:
            rels += [link(min(page - 1, last), "prev")]
        if page < last:
            rels += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            rels += [link(1, "first")]
        return [_issue_answer(repo, i) for i in chunk], ", ".join(rels)

    def _validated_new(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, "Problems parsing JSON")
        title = body.get("title")
        if title is None or title == "":
            raise _invalid("title", "missing_field")
        if not isinstance(title, str | int) or isinstance(title, bool):
            raise _invalid("title", "invalid")
        self._check_text(body, "body")
        self._check_title(str(title))
        return body

    @staticmethod
    def _check_text(body: dict[str, Any], field: str) -> None:
        text = body.get(field)
        if text is not None and not isinstance(text, str):
            raise _invalid(field, "invalid")
        if isinstance(text, str) and len(text) > BODY_LIMIT:
            raise _invalid(
                field, "custom", f"{field} is too long (maximum is {BODY_LIMIT} characters)"
            )

    @staticmethod
    def _check_title(title: str) -> None:
        if len(title) > TITLE_LIMIT:
            raise _invalid(
                "title", "custom", f"title is too long (maximum is {TITLE_LIMIT} characters)"
            )

    def _labels(self, repo: dict[str, Any], names: Any) -> list[dict[str, Any]]:
        if not isinstance(names, list):
            raise _invalid("labels", "invalid")
        found = []
        for name in names:
            text = name.get("name") if isinstance(name, dict) else name
            if not isinstance(text, str) or not text.strip():
                raise _invalid("labels", "invalid")
            found.append(_label(self.state, repo, text.strip()))
        return found

    def _store(self, repo: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """A new issue (or, from ``/__seed``, pull request) with the repository's next number."""
        number = repo["next_number"]
        repo["next_number"] += 1
        created = str(body.get("created_at") or _now())
        closed = body.get("state") == "closed"
        item = {
            "id": self.state.new_id(),
            "node_id": f"I_{uuid.uuid4().hex[:12]}",
            "number": number,
            "title": str(body["title"]),
            "body": body.get("body"),
            "state": "closed" if closed else "open",
            "state_reason": "completed" if closed else None,
            "labels": self._labels(repo, body.get("labels") or []),
            "user": {"login": str(body.get("user") or "github-actions[bot]"), "type": "Bot"},
            "comments": [],
            "closed_at": created if closed else None,
            "created_at": created,
            "updated_at": created,
            "pull_request": bool(body.get("pull_request")),
        }
        repo["issues"][number] = item
        return item

    def _update(self, repo: dict[str, Any], item: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, "Problems parsing JSON")
        self._check_text(body, "body")
        if "title" in body:
            if not isinstance(body["title"], str | int) or not str(body["title"]):
                raise _invalid("title", "invalid")
            self._check_title(str(body["title"]))
        new_state = body.get("state", item["state"])
        if new_state not in {"open", "closed"}:
            raise _invalid("state", "invalid")
        reason = body.get("state_reason")
        if reason is not None and reason not in STATE_REASONS:
            raise _invalid("state_reason", "invalid")
        labels = self._labels(repo, body["labels"]) if "labels" in body else item["labels"]
        now = _now()
        if "title" in body:
            item["title"] = str(body["title"])
        if "body" in body:
            item["body"] = body["body"]
        item["labels"] = labels
        if new_state == "closed" and item["state"] == "open":
            item["closed_at"] = now
            item["state_reason"] = reason or "completed"
        elif new_state == "open" and item["state"] == "closed":
            item["closed_at"] = None
            item["state_reason"] = "reopened"
        elif reason is not None:
            item["state_reason"] = reason
        item["state"] = new_state
        item["updated_at"] = now
        return item

    def _page(
        self, items: list[dict[str, Any]], query: dict[str, str], path: str
    ) -> tuple[list[dict[str, Any]], str]:
        per_page = min(MAX_PAGE, max(1, int(query.get("per_page", DEFAULT_PAGE))))
        per_page = min(per_page, self.state.max_per_page)
        page = max(1, int(query.get("page", 1)))
        last = max(1, -(-len(items) // per_page))
        host = self.headers.get("Host", "127.0.0.1")
        rels = []
        if page < last:
            params = urlencode({**query, "page": str(page + 1)})
            rels.append(f'<http://{host}{path}?{params}>; rel="next"')
        return items[(page - 1) * per_page : page * per_page], ", ".join(rels)

    def _edit_comment(self, repo: dict[str, Any], comment_id: str, body: Any) -> dict[str, Any]:
        for item in repo["issues"].values():
            for comment in item["comments"]:
                if str(comment["id"]) == comment_id:
                    if not isinstance(body, dict) or not body.get("body"):
                        raise _invalid("body", "missing_field")
                    self._check_text(body, "body")
                    comment["body"] = body["body"]
                    comment["updated_at"] = _now()
                    return dict(comment)
        raise ApiFailure(404, "Not Found")

    def _comment(self, repo: dict[str, Any], item: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiFailure(400, "Problems parsing JSON")
        if not body.get("body"):
            raise ApiFailure(
                422, "Validation Failed", [{"resource": "IssueComment", "code": "missing_field",
                                            "field": "body"}]
            )  # fmt: skip
        self._check_text(body, "body")
        comment_id = self.state.new_id()
        now = _now()
        comment = {
            "id": comment_id,
            "node_id": f"IC_{uuid.uuid4().hex[:12]}",
            "url": f"https://api.github.com/repos/{repo['name']}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo['name']}/issues/{item['number']}"
            f"#issuecomment-{comment_id}",
            "issue_url": f"https://api.github.com/repos/{repo['name']}/issues/{item['number']}",
            "body": body["body"],
            "user": {"login": "github-actions[bot]", "type": "Bot"},
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE",
        }
        item["comments"].append(comment)
        item["updated_at"] = now
        return comment


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--token", required=True)
    parser.add_argument("--repo", action="append", default=[], help="owner/name (repeatable)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    Handler.state = State(args.token, args.repo)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])

"""GitHub's REST API as the project's workflow scripts use it: issues, their comments, and the
checks every call and every input needs. ``infra/github_issue.py`` (the drift issue per stack)
and ``infra/github_comment.py`` (the pull-request review comment) are built on it.

Calls go through ``infra.providers.http.request`` (429/5xx retried, ``Retry-After``
honoured). GitHub also answers rate limits with 403 (secondary limits, or a spent primary
limit): those are retried here after ``Retry-After``, the reset time, or a minute, as GitHub's
REST docs ("Rate limits for the REST API") ask. Next-page links are followed only to the API's
own host (the token goes with every call). The token is read from ``GITHUB_TOKEN`` only, is
never printed, and http.py redacts it from every message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from infra.providers.http import ApiError, RetryPolicy, request

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
BODY_LIMIT = 65_536
"""GitHub's maximum issue and comment body, in characters."""
POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=90.0, timeout=30.0)
RATE_LIMIT_WAIT = 60.0
"""GitHub's advice when a rate-limited answer says neither when nor how long to wait."""
MAX_PAGES = 50

REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: anything else breaks headers


class GitHubError(Exception):
    """A failure told to the user as one line (exit 2)."""


@dataclass(frozen=True)
class Issue:
    """An issue (or a comment) as far as the scripts care: its number (id) and body."""

    number: int
    body: str


def environment(environ: Mapping[str, str]) -> tuple[str, str]:
    """``(api_url, token)`` from ``GITHUB_API_URL`` and ``GITHUB_TOKEN``, checked."""
    token = environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise GitHubError("GITHUB_TOKEN is not set: pass the workflow's token in the step's env")
    if not _TOKEN.fullmatch(token):
        raise GitHubError("GITHUB_TOKEN holds spaces or non-ASCII characters: it is not a token")
    api_url = environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    try:
        parsed = httpx.URL(api_url) if re.match(r"https?://[^/\s]", api_url) else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.userinfo:
        raise GitHubError("GITHUB_API_URL must be an http(s) URL without credentials")
    return api_url, token


def run_url(environ: Mapping[str, str]) -> str | None:
    """The URL of the current Actions run, when GitHub Actions set the variables for it."""
    parts = [environ.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY")]
    run_id = environ.get("GITHUB_RUN_ID", "").strip()
    if not all(parts) or not run_id:
        return None
    return f"{parts[0].rstrip('/')}/{parts[1]}/actions/runs/{run_id}"


def cut_lines(report: str, budget: int) -> tuple[str, int]:
    """The longest run of whole lines of ``report`` within ``budget`` characters (a first line
    longer than that is cut inside), and how many lines that is; an open fence is closed."""
    kept: list[str] = []
    size = 0
    for line in report.splitlines(keepends=True):
        if size + len(line) > budget:
            break
        kept.append(line)
        size += len(line)
    if not kept:
        kept = [report[:budget]]
    text = "".join(kept)
    if not text.endswith("\n"):
        text += "\n"
    if sum(1 for line in kept if line.lstrip().startswith("```")) % 2:
        text += "```\n"  # else the notice would render inside the code block
    return text, len(kept)


class GitHub:
    """The five issue calls the sync makes, over one httpx client (GitHub REST, 2022-11-28)."""

    def __init__(
        self,
        client: httpx.Client,
        repo: str,
        *,
        policy: RetryPolicy = POLICY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.repo = repo
        self.policy = policy
        self.sleep = sleep

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        attempts = max(1, self.policy.max_attempts)
        for attempt in range(1, attempts + 1):
            try:
                return request(
                    self.client, method, url, policy=self.policy, sleep=self.sleep, **kwargs
                )
            except ApiError as exc:
                if not rate_limited(exc) or attempt == attempts:
                    raise
                wait = RATE_LIMIT_WAIT if exc.retry_after is None else exc.retry_after
                self.sleep(min(self.policy.max_delay, wait))
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def open_issues(self, label: str) -> list[Issue]:
        """Every open issue (not pull request) with ``label``, oldest first, across pages."""
        url: str | None = f"/repos/{self.repo}/issues"
        params: dict[str, str] | None = {"state": "open", "labels": label, "per_page": "100"}
        issues: list[Issue] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return sorted(issues, key=lambda i: i.number)
            response = self._call("GET", url, params=params)
            items = _json(response)
            if not isinstance(items, list):
                raise GitHubError(f"GET {response.url.path}: expected a JSON list of issues")
            issues += [_issue(item) for item in items if "pull_request" not in item]
            url, params = self._next_page(response), None  # the next link carries the query
        raise GitHubError(f"more than {MAX_PAGES} pages of open issues labelled {label!r}")

    def _next_page(self, response: httpx.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        here, there = self.client.base_url, httpx.URL(link)
        if (there.scheme, there.host, there.port) != (here.scheme, here.host, here.port):
            # The client sends the token with every call: never to another host.
            raise GitHubError(f"GitHub's next-page link points to another host ({there.host})")
        return link

    def create(self, title: str, body: str, label: str) -> tuple[int, bool]:
        """The new issue's number, and whether GitHub kept the label (it silently drops the
        labels of a token that may not set them)."""
        data = {"title": title, "body": body, "labels": [label]}
        answer = _json(self._call("POST", f"/repos/{self.repo}/issues", json=data))
        labels = answer.get("labels") if isinstance(answer, dict) else None
        names = {str(x.get("name", "")).lower() for x in labels or [] if isinstance(x, dict)}
        return _issue(answer).number, label.lower() in names

    def update_body(self, number: int, body: str) -> None:
        self._call("PATCH", f"/repos/{self.repo}/issues/{number}", json={"body": body})

    def close(self, number: int) -> None:
        data = {"state": "closed", "state_reason": "completed"}
        self._call("PATCH", f"/repos/{self.repo}/issues/{number}", json=data)

    def comment(self, number: int, body: str) -> None:
        self._call("POST", f"/repos/{self.repo}/issues/{number}/comments", json={"body": body})

    def comments(self, number: int) -> list[Issue]:
        """Every comment of issue or pull request ``number`` (its id and body), oldest first."""
        url: str | None = f"/repos/{self.repo}/issues/{number}/comments"
        params: dict[str, str] | None = {"per_page": "100"}
        found: list[Issue] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return found
            response = self._call("GET", url, params=params)
            items = _json(response)
            if not isinstance(items, list):
                raise GitHubError(f"GET {response.url.path}: expected a JSON list of comments")
            found += [_comment(item) for item in items]
            url, params = self._next_page(response), None
        raise GitHubError(f"more than {MAX_PAGES} pages of comments on #{number}")

    def add_comment(self, number: int, body: str) -> int:
        """Comment on issue or pull request ``number``; the new comment's id."""
        path = f"/repos/{self.repo}/issues/{number}/comments"
        return _comment(_json(self._call("POST", path, json={"body": body}))).number

    def update_comment(self, comment_id: int, body: str) -> None:
        path = f"/repos/{self.repo}/issues/comments/{comment_id}"
        self._call("PATCH", path, json={"body": body})


def rate_limited(exc: ApiError) -> bool:
    """A 403 that is GitHub's rate limit (retry later), not a missing permission."""
    return exc.status == 403 and (
        exc.retry_after is not None or "rate limit" in exc.vendor_message.lower()
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(f"{response.request.method} {response.url.path}: not JSON") from None


def _issue(item: Any) -> Issue:
    if not isinstance(item, dict) or not isinstance(item.get("number"), int):
        raise GitHubError("GitHub answered with an issue that has no number")
    body = item.get("body")
    return Issue(item["number"], body if isinstance(body, str) else "")


def client_for(api_url: str, token: str, policy: RetryPolicy = POLICY) -> httpx.Client:
    """An httpx client with the headers GitHub's REST docs ask for."""
    return httpx.Client(
        base_url=api_url.rstrip("/") + "/",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "agenzia-monitoring-drift",
        },
        timeout=policy.timeout,
    )


def explain(exc: ApiError, repo: str, permission: str = "issues: write") -> str:
    """One line for a failed call: what failed, GitHub's words, and the likely fix."""
    hints = {
        401: "check that GITHUB_TOKEN is valid and not expired",
        404: f"check --repo: {repo} does not exist or the token cannot see it",
        410: f"issues are disabled on {repo}",
        422: "GitHub refused the request as invalid",
    }
    hint = hints.get(exc.status or 0, "")
    if exc.status == 403:
        hint = (
            "still rate limited after retries; try again later"
            if rate_limited(exc)
            else f"the token needs the {permission} permission on {repo}"
        )
    return " ".join(f"{exc}{'; ' + hint if hint else ''}".split())


def _comment(item: Any) -> Issue:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise GitHubError("GitHub answered with a comment that has no id")
    body = item.get("body")
    return Issue(item["id"], body if isinstance(body, str) else "")

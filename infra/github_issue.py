"""Keep one GitHub issue per stack in step with ``monitoring drift`` (the scheduled workflow).

python -m infra.github_issue sync --repo OWNER/NAME --stack S --report FILE --status clean|drift
                                  [--label monitoring-drift]

Why it looks the way it does:

- The issue is found by a hidden marker line in its body (``<!-- monitoring-drift stack=S -->``),
  never by its title: people rename issues, and two stacks must never share one. The label only
  narrows the listing; pull requests come back from the issues endpoint too and are skipped.
  When a copied marker makes two open issues claim a stack, the oldest one is used.
- ``drift`` opens the issue, or rewrites its body when the report changed; ``clean`` comments
  and closes it as completed. The footer's run link is left out of the "changed?" comparison:
  an unchanged drift is not rewritten every day only to move a link, so the link names the run
  that last changed the report.
- GitHub caps an issue body at 65,536 characters: a longer report is cut at a line boundary and
  the body says so (an open code fence is closed), pointing at the run's log for the rest.
- Calls go through ``infra.providers.http.request`` (429/5xx retried, ``Retry-After`` honoured).
  GitHub also answers rate limits with 403 (secondary limits, or a spent primary limit): those
  are retried here after ``Retry-After``, the reset time, or a minute, as GitHub's REST docs
  ("Rate limits for the REST API") ask. An issue POST whose answer was lost is not repeated:
  the issue is looked for instead, so a flaky network cannot open two.
- Errors are one line on stderr and exit 2. The token is read from ``GITHUB_TOKEN`` only, is
  never printed, and http.py redacts it from every message.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx

from infra.providers.http import ApiError, RetryPolicy, redact, request

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
DEFAULT_LABEL = "monitoring-drift"
BODY_LIMIT = 65_536
"""GitHub's maximum issue body, in characters."""
POLICY = RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=90.0, timeout=30.0)
RATE_LIMIT_WAIT = 60.0
"""GitHub's advice when a rate-limited answer says neither when nor how long to wait."""
MAX_PAGES = 50  # 5,000 open issues with the label: more means something else is wrong
EXIT_OK, EXIT_ERROR = 0, 2
PROG = "python -m infra.github_issue"

_STACK = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: anything else breaks headers
_FOOTER = "\n\n<sub>Report from workflow run "


class SyncError(Exception):
    """A failure told to the user as one line (exit 2)."""


@dataclass(frozen=True)
class Issue:
    """An open issue as far as the sync cares: its number and body."""

    number: int
    body: str


# --------------------------------------------------------------------------- the body


def marker(stack: str) -> str:
    """The hidden line that ties an issue to a stack."""
    return f"<!-- monitoring-drift stack={stack} -->"


def carries_marker(body: str, stack: str) -> bool:
    """Whether a line of ``body`` is exactly the stack's marker (a quote of it is not)."""
    wanted = marker(stack)
    return any(line.strip() == wanted for line in body.splitlines())


def issue_title(stack: str) -> str:
    return f"Drift on stack {stack}: live resources differ from the config"


def run_url(environ: Mapping[str, str]) -> str | None:
    """The URL of the current Actions run, when GitHub Actions set the variables for it."""
    parts = [environ.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY")]
    run_id = environ.get("GITHUB_RUN_ID", "").strip()
    if not all(parts) or not run_id:
        return None
    return f"{parts[0].rstrip('/')}/{parts[1]}/actions/runs/{run_id}"


def _truncation_notice(shown_lines: int, total_lines: int, total_chars: int) -> str:
    return (
        f"\n> [!WARNING]\n> This report was cut to fit GitHub's limit of {BODY_LIMIT:,} characters"
        f" for an issue body: it shows {shown_lines:,} of its {total_lines:,} lines"
        f" ({total_chars:,} characters). The whole report is in the log of the workflow run"
        " that wrote this.\n"
    )


def _cut(report: str, budget: int) -> tuple[str, int]:
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


def issue_body(stack: str, report: str, url: str | None) -> str:
    """Marker, a line for people, the report (cut with a notice when too long), the run link."""
    head = (
        f"{marker(stack)}\n"
        f"The scheduled `monitoring drift` check found differences between stack `{stack}` and"
        " its config. This issue is kept up to date by that workflow and closed when the stack"
        " is clean again.\n\n"
    )
    footer = f"{_FOOTER}{url}</sub>\n" if url else ""
    report = report if report.endswith("\n") else report + "\n"
    if len(head) + len(report) + len(footer) <= BODY_LIMIT:
        return head + report + footer
    lines = report.count("\n")
    notice_room = len(_truncation_notice(lines, lines, len(report)))
    budget = BODY_LIMIT - len(head) - len(footer) - notice_room - len("```\n")
    shown, count = _cut(report, budget)
    return head + shown + _truncation_notice(count, lines, len(report)) + footer


def _content(body: str) -> str:
    """``body`` without its run-link footer: what a change of report changes."""
    text, sep, tail = body.rpartition(_FOOTER)
    return text if sep and "\n" not in tail.rstrip("\n") else body


def closing_comment(stack: str, url: str | None) -> str:
    where = f" ([run]({url}))" if url else ""
    return f"The scheduled drift check found stack `{stack}` clean again{where}; closing."


# --------------------------------------------------------------------------- the API


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
                raise SyncError(f"GET {response.url.path}: expected a JSON list of issues")
            issues += [_issue(item) for item in items if "pull_request" not in item]
            url, params = self._next_page(response), None  # the next link carries the query
        raise SyncError(f"more than {MAX_PAGES} pages of open issues labelled {label!r}")

    def _next_page(self, response: httpx.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        here, there = self.client.base_url, httpx.URL(link)
        if (there.scheme, there.host, there.port) != (here.scheme, here.host, here.port):
            # The client sends the token with every call: never to another host.
            raise SyncError(f"GitHub's next-page link points to another host ({there.host})")
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


def rate_limited(exc: ApiError) -> bool:
    """A 403 that is GitHub's rate limit (retry later), not a missing permission."""
    return exc.status == 403 and (
        exc.retry_after is not None or "rate limit" in exc.vendor_message.lower()
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise SyncError(f"{response.request.method} {response.url.path}: not JSON") from None


def _issue(item: Any) -> Issue:
    if not isinstance(item, dict) or not isinstance(item.get("number"), int):
        raise SyncError("GitHub answered with an issue that has no number")
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


# --------------------------------------------------------------------------- the sync


def sync(
    github: GitHub,
    *,
    stack: str,
    label: str,
    report: str,
    drift: bool,
    url: str | None,
    warn: Callable[[str], None],
) -> str:
    """Bring the stack's issue in line with the report; return the one line saying what was
    done."""
    mine = [i for i in github.open_issues(label) if carries_marker(i.body, stack)]
    if len(mine) > 1:
        numbers = ", ".join(f"#{i.number}" for i in mine)
        warn(
            f"warning: open issues {numbers} all carry the marker of stack {stack};"
            f" using the oldest, #{mine[0].number} (remove the marker from the others)"
        )
    current = mine[0] if mine else None
    if not drift:
        if current is None:
            return "no open drift issue; nothing to do"
        github.comment(current.number, closing_comment(stack, url))
        github.close(current.number)
        return f"closed #{current.number}"
    body = issue_body(stack, report, url)
    if current is None:
        try:
            number, labelled = github.create(issue_title(stack), body, label)
        except ApiError as exc:
            if exc.status is not None:
                raise
            # The POST went out but its answer was lost: GitHub may have stored it.
            stored = [i for i in github.open_issues(label) if carries_marker(i.body, stack)]
            if not stored:
                raise
            number, labelled = stored[0].number, True
        if not labelled:
            warn(
                f"warning: GitHub dropped the label {label!r} from #{number}, so the next run"
                " will not find it: give the token the issues: write permission"
            )
        return f"opened #{number}"
    if _content(current.body) == _content(body):
        return f"#{current.number} already shows this report; nothing to do"
    github.update_body(current.number, body)
    return f"updated #{current.number}"


# --------------------------------------------------------------------------- the CLI


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise SyncError(f"{message} (see {PROG} sync --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sync_cmd = commands.add_parser(
        "sync",
        help="open, update or close the stack's drift issue",
        description="Open, update or close the stack's drift issue. Token: env GITHUB_TOKEN;"
        f" API: env GITHUB_API_URL (default {DEFAULT_API_URL}).",
    )
    sync_cmd.add_argument("--repo", required=True, metavar="OWNER/NAME")
    sync_cmd.add_argument("--stack", required=True, metavar="S")
    sync_cmd.add_argument("--report", required=True, metavar="FILE", type=Path)
    sync_cmd.add_argument("--status", required=True, choices=("clean", "drift"))
    sync_cmd.add_argument("--label", default=DEFAULT_LABEL)
    return parser


def _checked_inputs(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[str, str, str]:
    """``(api_url, token, report)``, or a :class:`SyncError` naming the input and the fix."""
    if not _REPO.fullmatch(args.repo):
        raise SyncError(f"--repo must be OWNER/NAME (got {args.repo!r})")
    if not _STACK.fullmatch(args.stack):
        raise SyncError(f"--stack must be a stack name like production (got {args.stack!r})")
    if not args.label or "," in args.label or len(args.label) > 50:
        raise SyncError(f"--label must be one label name, without commas (got {args.label!r})")
    token = environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise SyncError("GITHUB_TOKEN is not set: pass the workflow's token in the step's env")
    if not _TOKEN.fullmatch(token):
        raise SyncError("GITHUB_TOKEN holds spaces or non-ASCII characters: it is not a token")
    api_url = environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    try:
        parsed = httpx.URL(api_url) if re.match(r"https?://[^/\s]", api_url) else None
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.userinfo:
        raise SyncError("GITHUB_API_URL must be an http(s) URL without credentials")
    try:
        report = args.report.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SyncError(f"--report {args.report}: cannot read it ({reason})") from None
    if args.status == "drift" and not report.strip():
        raise SyncError(f"--report {args.report} is empty: a drift issue needs the report")
    return api_url, token, report


def explain(exc: ApiError, repo: str) -> str:
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
            else f"the token needs the issues: write permission on {repo}"
        )
    return " ".join(f"{exc}{'; ' + hint if hint else ''}".split())


def run(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    policy: RetryPolicy = POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """The CLI without the process around it: print one line, return the exit code."""
    token = ""
    try:
        args = _parser().parse_args(argv)
        api_url, token, report = _checked_inputs(args, environ)
        with client_for(api_url, token, policy) as client:
            outcome = sync(
                GitHub(client, args.repo, policy=policy, sleep=sleep),
                stack=args.stack,
                label=args.label,
                report=report,
                drift=args.status == "drift",
                url=run_url(environ),
                warn=lambda line: print(line, file=sys.stderr),
            )
    except SyncError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ApiError as exc:
        print(f"{PROG}: {redact(explain(exc, args.repo), token)}", file=sys.stderr)
        return EXIT_ERROR
    except httpx.HTTPError as exc:  # e.g. a malformed URL in a Link header
        line = " ".join(redact(f"{type(exc).__name__}: {exc}", token).split())
        print(f"{PROG}: {line}", file=sys.stderr)
        return EXIT_ERROR
    print(outcome)
    return EXIT_OK


def main() -> None:
    sys.exit(run(sys.argv[1:], os.environ))


if __name__ == "__main__":
    main()

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
from pathlib import Path
from typing import NoReturn

import httpx

from infra.github_api import (
    BODY_LIMIT,
    DEFAULT_API_URL,
    POLICY,
    REPO,
    GitHub,
    GitHubError,
    client_for,
    cut_lines,
    environment,
    explain,
    run_url,
)
from infra.providers.http import ApiError, RetryPolicy, redact

__all__ = ["BODY_LIMIT", "issue_body", "marker", "run", "run_url", "sync"]

DEFAULT_LABEL = "monitoring-drift"
EXIT_OK, EXIT_ERROR = 0, 2
PROG = "python -m infra.github_issue"

_STACK = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_FOOTER = "\n\n<sub>Report from workflow run "


SyncError = GitHubError


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


def _truncation_notice(shown_lines: int, total_lines: int, total_chars: int) -> str:
    return (
        f"\n> [!WARNING]\n> This report was cut to fit GitHub's limit of {BODY_LIMIT:,} characters"
        f" for an issue body: it shows {shown_lines:,} of its {total_lines:,} lines"
        f" ({total_chars:,} characters). The whole report is in the log of the workflow run"
        " that wrote this.\n"
    )


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
    shown, count = cut_lines(report, budget)
    return head + shown + _truncation_notice(count, lines, len(report)) + footer


def _content(body: str) -> str:
    """``body`` without its run-link footer: what a change of report changes."""
    text, sep, tail = body.rpartition(_FOOTER)
    return text if sep and "\n" not in tail.rstrip("\n") else body


def closing_comment(stack: str, url: str | None) -> str:
    where = f" ([run]({url}))" if url else ""
    return f"The scheduled drift check found stack `{stack}` clean again{where}; closing."


# --------------------------------------------------------------------------- the API


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
    if not REPO.fullmatch(args.repo):
        raise SyncError(f"--repo must be OWNER/NAME (got {args.repo!r})")
    if not _STACK.fullmatch(args.stack):
        raise SyncError(f"--stack must be a stack name like production (got {args.stack!r})")
    if not args.label or "," in args.label or len(args.label) > 50:
        raise SyncError(f"--label must be one label name, without commas (got {args.label!r})")
    api_url, token = environment(environ)
    try:
        report = args.report.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SyncError(f"--report {args.report}: cannot read it ({reason})") from None
    if args.status == "drift" and not report.strip():
        raise SyncError(f"--report {args.report} is empty: a drift issue needs the report")
    return api_url, token, report


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

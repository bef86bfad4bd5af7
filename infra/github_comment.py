"""Keep one review comment on a pull request in step with ``monitoring diff`` (the PR workflow).

python -m infra.github_comment upsert --repo OWNER/NAME --pr N --body FILE [--marker NAME]

The comment is found by a hidden marker line (``<!-- monitoring-review:NAME -->``), never by
its author or text: every push rewrites the same comment instead of adding one. An unchanged
report is not rewritten. A report longer than GitHub's 65,536-character limit is cut at a line
boundary and the comment says so, pointing at the workflow run (the artifact holds it whole).
Errors are one line on stderr and exit 2; the token (``GITHUB_TOKEN``) is never printed.
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

PROG = "python -m infra.github_comment"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")


def marker(name: str) -> str:
    return f"<!-- monitoring-review:{name} -->"


def comment_body(name: str, report: str, url: str | None) -> str:
    """Marker, the report (cut with a notice when too long), and the run link."""
    head = f"{marker(name)}\n"
    footer = f"\n<sub>Updated by workflow run {url}</sub>\n" if url else ""
    report = report if report.endswith("\n") else report + "\n"
    if len(head) + len(report) + len(footer) <= BODY_LIMIT:
        return head + report + footer
    lines = report.count("\n")
    notice = (
        "\n> [!WARNING]\n> This report was cut to fit GitHub's limit of "
        f"{BODY_LIMIT:,} characters for a comment: it shows {{shown:,}} of its {lines:,} lines. "
        "The whole report is an artifact of the workflow run.\n"
    )
    budget = BODY_LIMIT - len(head) - len(footer) - len(notice) - 16
    shown, count = cut_lines(report, budget)
    return head + shown + notice.format(shown=count) + footer


def upsert(github: GitHub, pr: int, name: str, body: str) -> str:
    """Create or update the marked comment; return the one line saying what was done."""
    mine = [c for c in github.comments(pr) if marker(name) in c.body.splitlines()[:1]]
    if not mine:
        return f"commented on #{pr} (comment {github.add_comment(pr, body)})"
    current = mine[0]
    if _without_footer(current.body) == _without_footer(body):
        return f"comment {current.number} on #{pr} already shows this report; nothing to do"
    github.update_comment(current.number, body)
    return f"updated comment {current.number} on #{pr}"


def _without_footer(body: str) -> str:
    return body.split("\n<sub>Updated by workflow run ", 1)[0]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise GitHubError(f"{message} (see {PROG} upsert --help)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    cmd = commands.add_parser("upsert", help="create or update the marked review comment")
    cmd.add_argument("--repo", required=True, metavar="OWNER/NAME")
    cmd.add_argument("--pr", required=True, type=int, metavar="N")
    cmd.add_argument("--body", required=True, type=Path, metavar="FILE")
    cmd.add_argument("--marker", default="diff", metavar="NAME")
    return parser


def run(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    policy: RetryPolicy = POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """The CLI without the process around it: print one line, return the exit code."""
    token, repo = "", ""
    try:
        args = _parser().parse_args(argv)
        repo = args.repo
        if not REPO.fullmatch(repo):
            raise GitHubError(f"--repo must be OWNER/NAME (got {repo[:120]!r})")
        if args.pr < 1:
            raise GitHubError(f"--pr must be a pull request number (got {args.pr})")
        if not _NAME.fullmatch(args.marker):
            raise GitHubError(f"--marker must be a short lower-case name (got {args.marker!r})")
        api_url, token = environment(environ)
        try:
            report = args.body.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise GitHubError(f"--body {args.body}: cannot read it ({reason})") from None
        body = comment_body(args.marker, report, run_url(environ))
        with client_for(api_url, token, policy) as client:
            outcome = upsert(GitHub(client, repo, policy=policy, sleep=sleep), args.pr,
                             args.marker, body)  # fmt: skip
    except GitHubError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        line = explain(exc, repo, "pull-requests: write")
        print(f"{PROG}: {redact(line, token)}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"{PROG}: {redact(f'{type(exc).__name__}: {exc}', token)}", file=sys.stderr)
        return 2
    print(outcome)
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:], os.environ))


if __name__ == "__main__":
    main()

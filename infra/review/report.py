"""``monitoring diff`` reports as Markdown (a pull-request comment) and JSON.

Markdown: one heading per stack, one line per change, PromQL and query changes as small
```diff blocks, long sections folded in ``<details>``. A GitHub comment holds at most 65,536
characters: when the report is longer, the diffs are left out first, then the longest sections
are cut to their first lines; each cut says so, and what was left out, in the comment itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from infra.review.model import SECTIONS, Change, StackReport

COMMENT_LIMIT = 65_536
"""GitHub's limit for an issue or pull-request comment body, in characters."""

FOLD_AT_LINES = 8
FOLD_AT_CHARS = 1_500
NO_CHANGE = "No change in what is provisioned."


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _item(change: Change, with_diff: bool) -> str:
    line = f"- {change.text}"
    if with_diff and change.diff:
        fence = _fence(change.diff)
        body = "\n".join(f"  {row}" for row in change.diff.splitlines())
        line += f"\n  {fence}diff\n{body}\n  {fence}"
    return line


def _section(
    name: str, changes: list[Change], stack: str, with_diff: bool, cap: int | None, hint: str
) -> str:
    shown = changes if cap is None else changes[:cap]
    lines = [_item(c, with_diff) for c in shown]
    if len(shown) < len(changes):
        left = len(changes) - len(shown)
        lines.append(
            f"- … {left} more {name.lower()} change{'s' if left > 1 else ''} left out to fit "
            f"GitHub's {COMMENT_LIMIT:,}-character comment limit; "
            f"`{hint} --stack {stack}` lists them all"
        )
    body = "\n".join(lines)
    count = f"{len(changes)} change{'s' if len(changes) > 1 else ''}"
    if len(changes) > FOLD_AT_LINES or len(body) > FOLD_AT_CHARS:
        return f"<details><summary><b>{name}</b> ({count})</summary>\n\n{body}\n\n</details>"
    return f"**{name}**\n\n{body}"


def _stack(report: StackReport, with_diff: bool, cap: int | None, hint: str) -> str:
    total = len(report.changes)
    heading = f"### {report.stack}"
    if total:
        heading += f" ({total} change{'s' if total > 1 else ''})"
    parts = [heading]
    parts += [f"> **Not compared:** {why}" for why in report.not_compared]
    parts += [f"> {note}" for note in report.notes]
    if not report.changes:
        parts.append(NO_CHANGE if not report.not_compared else "No change in what was compared.")
    for name in [*SECTIONS, *sorted({c.section for c in report.changes} - set(SECTIONS))]:
        changes = report.section(name)
        if changes:
            parts.append(_section(name, changes, report.stack, with_diff, cap, hint))
    return "\n\n".join(parts)


def _summary(report: StackReport) -> str:
    count = len(report.changes)
    text = f"{count} change{'s' if count > 1 else ''}" if count else "no change"
    if report.not_compared:
        text += ", some parts not compared"
    return f"**{report.stack}**: {text}"


def _render(
    reports: Sequence[StackReport],
    title: str,
    with_diff: bool,
    cap: int | None,
    hint: str,
    backtest: str,
) -> str:
    parts = [f"## {title}"]
    if not with_diff:
        parts.append(
            f"_PromQL and query diffs are left out to fit GitHub's {COMMENT_LIMIT:,}-character "
            f"comment limit; `{hint}` prints them._"
        )
    if len(reports) > 1:
        parts.append(" · ".join(_summary(r) for r in reports))
    parts += [_stack(r, with_diff, cap, hint) for r in reports]
    if backtest:
        parts.append(f"### Backtest\n\n{backtest.strip()}")
    return "\n\n".join(parts) + "\n"


def markdown(
    reports: Sequence[StackReport],
    title: str,
    hint: str = "monitoring diff",
    backtest: str = "",
    limit: int = COMMENT_LIMIT,
) -> str:
    """The report as a pull-request comment of at most ``limit`` characters; ``hint`` is the
    command that prints everything (named wherever something was left out)."""
    if len(backtest) > limit // 2:
        cut = backtest[: limit // 2].rsplit("\n", 1)[0]
        backtest = (
            f"{cut}\n\n_The backtest is cut here ({len(backtest):,} characters) to fit the "
            f"comment limit; run `{hint} --prometheus …` to read all of it._"
        )
    text = _render(reports, title, True, None, hint, backtest)
    if len(text) <= limit:
        return text
    text = _render(reports, title, False, None, hint, backtest)
    most = max((len(r.section(s)) for r in reports for s in SECTIONS), default=0)
    cap = most
    while len(text) > limit and cap > 0:
        cap = cap // 2
        text = _render(reports, title, False, cap, hint, backtest)
    return text


def as_json(
    reports: Sequence[StackReport], base: str, head: str, backtest: dict[str, str] | None = None
) -> str:
    document: dict[str, Any] = {
        "base": base,
        "head": head,
        "changed": any(r.changes for r in reports),
        "stacks": [
            {
                "stack": r.stack,
                "changed": r.changed,
                "changes": [c.as_json() for c in r.changes],
                "not_compared": r.not_compared,
                "notes": r.notes,
            }
            for r in reports
        ],
    }
    if backtest:
        document["backtest"] = backtest
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

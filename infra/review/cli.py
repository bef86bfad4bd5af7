"""``monitoring diff --base REF [--head REF] [--stack S]... [--format markdown|json]``.

What two revisions provision, compared stack by stack, for a pull request's review: alerts
(threshold, ``for``, severity, labels, annotations, expression, and who each alert reaches),
SLOs, routing, UptimeRobot, Sentry, Grafana and dashboards. It reads each revision's committed
artifacts (``alert_rules/``, ``dashboards/``, ``provisioned/``) with git, never checking out or
importing that revision's code; ``--head`` defaults to the working tree.

Exit 0: no change in what is provisioned; 1: changes (or parts one revision lacks, which could
not be compared); 2: an error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.config import project_root
from infra.review.diff import DiffError, compare
from infra.review.model import StackReport
from infra.review.report import as_json, markdown
from infra.review.revisions import RevisionError, read_tree, resolve
from infra.review.routing import RoutingError
from infra.review.snapshot import ARTIFACT_FOLDERS, ArtifactError

WORKING_TREE = "working tree"


def register(sub: Any) -> None:
    """Add ``diff`` to the ``monitoring`` sub-commands (``sub`` from ``add_subparsers``)."""
    diff = sub.add_parser(
        "diff",
        help="what two revisions provision, compared (a pull request's change report)",
        description=(
            "What two revisions provision, compared stack by stack: alerts (threshold, for, "
            "severity, labels, annotations, expression, and who each alert reaches), SLOs, "
            "routing, UptimeRobot, Sentry, Grafana and dashboards, from each revision's "
            "committed artifacts. Exit 0 no change, 1 changes, 2 error."
        ),
    )
    diff.add_argument("--base", required=True, metavar="REF", help="git ref of the base")
    diff.add_argument(
        "--head", metavar="REF", default=None, help="git ref of the head (default: working tree)"
    )
    diff.add_argument(
        "--stack",
        action="append",
        metavar="S",
        help="compare only this stack (repeatable; default: every stack either revision has)",
    )
    diff.add_argument("--format", choices=("markdown", "json"), default="markdown")
    diff.add_argument(
        "--prometheus",
        metavar="URL",
        help="also backtest the changed alerts on this Prometheus-compatible API",
    )
    diff.set_defaults(func=cmd_diff)


def _check_repository(root: Path) -> None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise RevisionError("git is not installed; install it to compare revisions") from None
    if done.returncode != 0 or done.stdout.strip() != "true":
        raise RevisionError(f"{root} is not inside a git repository; run it in a clone")


def _read(root: Path, ref: str | None) -> dict[str, str]:
    files: dict[str, str] = {}
    for folder in ARTIFACT_FOLDERS:
        try:
            files.update(read_tree(root, ref, folder))
        except UnicodeDecodeError as exc:
            where = WORKING_TREE if ref is None else ref
            raise ArtifactError(
                f"a file under {folder}/ at {where} is not UTF-8 text ({exc.reason})"
            ) from None
    return files


def _name(root: Path, ref: str | None) -> str:
    if ref is None:
        return WORKING_TREE
    sha = resolve(root, ref)
    return f"`{ref}` ({sha[:10]})" if not sha.startswith(ref) else f"`{sha[:10]}`"


def _backtests(
    args: argparse.Namespace, root: Path, reports: list[StackReport]
) -> dict[str, str] | None:
    if not args.prometheus:
        return None
    try:
        # Written separately and imported only here: diff works without it.
        module = importlib.import_module("infra.review.backtest")
        run = module.backtest_markdown
    except (ImportError, AttributeError):
        raise DiffError("backtest is not available") from None
    out = {}
    for report in reports:
        alerts = report.alert_names()
        if not alerts:
            continue
        try:
            text = run(root, args.base, args.head, report.stack, args.prometheus, alerts=alerts)
        except Exception as exc:  # any failure of the backtest is one line, like ours
            raise DiffError(
                f"backtest of {report.stack} failed: {type(exc).__name__}: {exc}"
            ) from None
        out[report.stack] = str(text)
    return out


def cmd_diff(args: argparse.Namespace) -> int:
    root = project_root()
    try:
        _check_repository(root)
        base_name, head_name = _name(root, args.base), _name(root, args.head)
        base, head = _read(root, args.base), _read(root, args.head)
        reports = compare(base, head, args.stack, base_name, head_name)
        backtests = _backtests(args, root, reports)
    except (RevisionError, ArtifactError, DiffError, RoutingError) as exc:
        print(f"monitoring diff: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        sys.stdout.write(as_json(reports, base_name, head_name, backtests))
    else:
        hint = f"monitoring diff --base {args.base}" + (f" --head {args.head}" if args.head else "")
        bt = "\n\n".join(
            (f"**{stack}**\n\n{text}" if len(backtests or {}) > 1 else text)
            for stack, text in (backtests or {}).items()
        )
        if backtests is not None and not bt:
            bt = "No alert changed: nothing to backtest."
        title = f"Monitoring changes: {base_name} → {head_name}"
        sys.stdout.write(markdown(reports, title, hint, bt))
    return 1 if any(r.changes or r.not_compared for r in reports) else 0

"""``monitoring backtest``: replay the base and head versions of alerts over recorded data.

    monitoring backtest --prometheus URL --base REF [--alert NAME]... [--range 7d] [--end T]
                        [--stack production] [--format markdown|json] [--plot DIR]
    monitoring backtest --prometheus URL --alert NAME... (no --base: the alerts as they are)

Head is always the working tree. With ``--base REF`` the changed alerts (or the ``--alert``
ones) of both revisions are replayed side by side; without ``--base``, ``--alert`` names the
alerts to replay as the working tree has them (one revision). The Prometheus URL may come from
``PROMETHEUS_URL``; credentials only from the environment (see :mod:`infra.prometheus_api`).
Exit 0 with the report on stdout, 2 on an error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from infra.config import project_root
from infra.config.types import parse_duration
from infra.prometheus_api import PrometheusClient, PrometheusError
from infra.review.backtest import BacktestError, backtest, load_revision, routing
from infra.review.revisions import RevisionError

URL_ENV = "PROMETHEUS_URL"


def parse_end(text: str, now: float | None = None) -> int:
    """``now``, unix seconds, or an ISO 8601 / RFC 3339 time (UTC when it has no zone)."""
    if text == "now":
        return int(time.time() if now is None else now)
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--end {text!r} is not a time; write now, unix seconds or 2025-01-13T00:00:00Z"
        ) from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


class Progress:
    """Progress on stderr: every query chunk on one rewritten line on a terminal, one line
    per alert otherwise (CI logs)."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream, self.quiet = stream, quiet
        self.tty = stream.isatty()
        self.dirty = False

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K" + message[:150])
            self.dirty = True
        elif message.startswith("["):
            self.stream.write(message + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.dirty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def cmd_backtest(args: argparse.Namespace) -> int:
    progress = Progress(sys.stderr, args.quiet)
    try:
        code = _run(args, progress)
    except (BacktestError, PrometheusError, RevisionError, ValueError, OSError) as exc:
        progress.done()
        print(f"monitoring backtest: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        progress.done()
        print("monitoring backtest: interrupted", file=sys.stderr)
        return 130
    progress.done()
    return code


def _run(args: argparse.Namespace, progress: Progress) -> int:
    if args.base is None and not args.alert:
        raise BacktestError(
            "give --base REF (compare the changed alerts with the working tree) or "
            "--alert NAME (replay those alerts as the working tree has them)"
        )
    url = args.prometheus or os.environ.get(URL_ENV)
    if not url:
        raise BacktestError(f"give --prometheus URL (or export {URL_ENV})")
    seconds = parse_duration(args.range)
    end = parse_end(args.end)
    root = project_root()
    head = load_revision(root, None, args.stack)
    base = load_revision(root, args.base, args.stack) if args.base else None
    started = time.monotonic()
    with PrometheusClient(url, timeout=args.timeout) as client:
        report = backtest(
            base.groups if base else None,
            head.groups,
            client=client,
            start=end - seconds,
            end=end,
            alerts=args.alert or (),
            receivers_base=routing(base.alertmanager) if base else None,
            receivers_head=routing(head.alertmanager),
            progress=progress,
            values=bool(args.plot),
            base_name=base.name if base else None,
            head_name=head.name,
        )
    progress.done()
    if args.plot:
        from infra.review.backtest_plot import plot_report

        for path in plot_report(report, Path(args.plot)):
            print(f"wrote {path}", file=sys.stderr)
    if not args.quiet:
        took = time.monotonic() - started
        print(
            f"monitoring backtest: {len(report.alerts)} alert(s), {report.queries} queries, "
            f"{took:.1f}s",
            file=sys.stderr,
        )
    print(report.to_json() if args.format == "json" else report.to_markdown(), end="")
    if args.format == "json":
        print()
    return 0


def register(sub: Any) -> None:
    """Add ``backtest`` to the ``monitoring`` sub-commands."""
    p = sub.add_parser(
        "backtest",
        help="replay base and head versions of changed alerts over a Prometheus' history",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--prometheus", metavar="URL", help=f"API root (default: ${URL_ENV})")
    p.add_argument("--base", metavar="REF", help="git revision to compare the working tree with")
    p.add_argument(
        "--alert", action="append", metavar="NAME", help="alert name (repeatable; default: changed)"
    )
    p.add_argument("--stack", default="production", help="stack (default: production)")
    p.add_argument("--range", default="7d", help="how far back to replay (default: 7d)")
    p.add_argument("--end", default="now", help="end of the range (now, unix seconds or ISO 8601)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per query (default 120)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.add_argument("--plot", metavar="DIR", help="write one PNG per alert into DIR")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_backtest)

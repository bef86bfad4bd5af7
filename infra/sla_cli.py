"""``monitoring sla``: the seed's SLA table, "Current" column filled from a Prometheus.

    monitoring sla --prometheus URL [--stack production] [--range 30d] [--end now]
                   [--format markdown|json]

Uptime, p50 and p95 latency and error rate of every service of the stack over the range
(default: the service's ``slo.window``) ending at ``--end``, each against its target from the
stack config, with the error budget consumed and left, and a verdict per row
(:mod:`infra.sla`). ``URL`` is the API root of any Prometheus-compatible API (Grafana Cloud:
``https://prometheus-….grafana.net/api/prom``), else ``$PROMETHEUS_URL``; credentials come
only from the environment (``PROMETHEUS_USERNAME``/``PROMETHEUS_PASSWORD``, or
``PROMETHEUS_TOKEN``; see :mod:`infra.prometheus_api`).

Exit 0 when every target is met, 1 when any is missed (the report is printed either way),
2 on an error: unreachable, auth refused, an expression rejected, no data for a service, a
bad stack file or argument (one line on stderr, never a traceback or a credential).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from infra.config import ConfigError, ServiceConfig, load_stack
from infra.config.types import parse_duration
from infra.prometheus_api import (
    PASSWORD_ENV,
    TOKEN_ENV,
    USERNAME_ENV,
    PrometheusClient,
    PrometheusError,
)
from infra.sla import ServiceReport, SlaError, SlaReport, figures, queries, rows

URL_ENV = "PROMETHEUS_URL"
MIN_RANGE = 60


def parse_end(text: str, now: float | None = None) -> int:
    """``now`` (to the minute), unix seconds, or an ISO 8601 time (UTC when it has no zone)."""
    if text == "now":
        return int(time.time() if now is None else now) // 60 * 60
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(value) and value > 0:
            return int(value)
        raise ValueError(f"--end {text!r} is not a time after 1970")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--end {text!r} is not a time; write now, unix seconds or 2025-03-31T00:00:00Z"
        ) from None
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


def check_url(url: str) -> None:
    """Refuse credentials in the URL before anything repeats it: the client's own message for
    a non-http(s) URL quotes the URL as given, password included."""
    try:
        userinfo = httpx.URL(url).userinfo
    except httpx.InvalidURL:
        raise ValueError(
            "--prometheus is not a URL; give the API root, e.g. http://host:9090"
        ) from None
    if userinfo:
        raise ValueError(
            f"put no credentials in the URL; export {USERNAME_ENV}/{PASSWORD_ENV} or {TOKEN_ENV} "
            "instead"
        )


def shown_url(url: str) -> str:
    """``url`` as the report shows it: no query string or fragment (they may carry a key)."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(query=None, fragment=None)).rstrip("/")


def service_report(
    client: PrometheusClient, svc: ServiceConfig, end: int, seconds: int
) -> ServiceReport:
    """Query Prometheus for one service and judge its figures."""
    exprs = queries(svc, seconds)
    answers = {name: client.query(expr, end) for name, expr in exprs.items()}
    f = figures(svc, exprs, answers)
    return ServiceReport(
        service=svc.name,
        job=svc.job_name,
        slo_window=svc.slo.window,
        rows=tuple(rows(svc, f, seconds)),
        queries=exprs,
        data_since=f.data_since,
    )


def build_report(
    stack: str, url: str, end: int, range_text: str | None, timeout: float
) -> SlaReport:
    cfg = load_stack(stack)
    seconds = parse_duration(range_text or cfg.services[0].slo.window)
    if seconds < MIN_RANGE:
        raise ValueError(f"--range {range_text} is too short; give at least 1m (two scrapes)")
    with PrometheusClient(url, timeout=timeout) as client:
        services = tuple(service_report(client, svc, end, seconds) for svc in cfg.services)
    return SlaReport(stack, shown_url(url), end - seconds, end, services)


def cmd_sla(args: argparse.Namespace) -> int:
    try:
        url = args.prometheus or os.environ.get(URL_ENV)
        if not url:
            raise ValueError(f"give --prometheus URL (or export {URL_ENV})")
        check_url(url)
        report = build_report(args.stack, url, parse_end(args.end), args.range, args.timeout)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (PrometheusError, SlaError, ValueError) as exc:
        print(f"monitoring sla: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(report.to_json() if args.format == "json" else report.to_markdown(), end="")
    if args.format == "json":
        print()
    return report.exit_code()


def register(sub: Any) -> None:
    """Add ``sla`` to the ``monitoring`` sub-commands."""
    p = sub.add_parser(
        "sla",
        help="uptime, latency and error rate vs the SLA targets, from Prometheus (exit 1: missed)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--prometheus", metavar="URL", help=f"API root (default: ${URL_ENV})")
    p.add_argument("--stack", default="production", help="stack (default: production)")
    p.add_argument(
        "--range", metavar="DURATION", help="how far back from --end (default: slo.window, 30d)"
    )
    p.add_argument("--end", default="now", help="end of the range (now, unix seconds or ISO 8601)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per query (default 120)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.set_defaults(func=cmd_sla)

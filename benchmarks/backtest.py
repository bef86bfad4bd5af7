"""Benchmark: `monitoring backtest` over 7 and 30 days of 1-minute data, every production alert.

    .venv/bin/python benchmarks/backtest.py [--days 7 30]

Backfills a real Prometheus (Debian's, started on a free loopback port and stopped by PID at
the end) with the test scenario's traffic (tests/review/scenario.py, its week repeated) for the
longest range plus an hour, then replays the 11 alerts of production's working-tree rule files
(13 rules: the burn-rate alerts have a page and a ticket rule) as one revision, and prints the
wall time and the number of HTTP queries sent. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scenario and the backfill helpers live with the tests

from infra.local import procs  # noqa: E402 (after the path above)
from infra.prometheus_api import PrometheusClient  # noqa: E402
from infra.review.backtest import alert_rules, backtest, load_revision  # noqa: E402
from tests.review.prometheus_backfill import backfill, start_prometheus  # noqa: E402
from tests.review.scenario import T0, production_series  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--days", type=int, nargs="+", default=[7, 30])
    args = parser.parse_args()
    minutes = max(args.days) * 1440 + 60
    groups = load_revision(ROOT, None, "production").groups
    names = sorted({r.alertname for r in alert_rules(groups).values()})
    with tempfile.TemporaryDirectory(prefix="backtest-bench-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        tsdb = backfill(production_series(), minutes, folder)
        print(f"backfill: {minutes} minutes of {len(production_series())} series "
              f"in {time.perf_counter() - began:.1f}s")  # fmt: skip
        record = start_prometheus(tsdb, folder)
        try:
            end = T0 + minutes * 60
            print(f"{len(names)} alerts ({len(alert_rules(groups))} rules), one revision, "
                  "evaluated every 30s")  # fmt: skip
            for days in args.days:
                with PrometheusClient(record.url, timeout=600) as client:
                    began = time.perf_counter()
                    report = backtest(
                        None, groups, client=client, start=end - days * 86400, end=end,
                        alerts=names,
                    )  # fmt: skip
                    took = time.perf_counter() - began
                episodes = sum(len(a.head.episodes) for a in report.alerts if a.head)
                print(f"{days:>3}d: {took:6.1f}s wall, {report.queries:3d} queries, "
                      f"{episodes} episodes")  # fmt: skip
        finally:
            procs.stop(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the project's SLO burn-rate alerts against Sloth v0.16's for the same SLOs.

    .venv/bin/python benchmarks/slo_vs_sloth.py [--stack production] [--form warm|cold|both]
        [--only SUBSTRING] [--jobs N] [--promtool PATH] [--json]

Replays the same input series (benchmarks/slo_bench/scenarios.py) through both rule sets with
``promtool test rules`` and reads the firing state of each alert at every evaluation, then
prints one row per scenario and form: when each rule set paged and ticketed after the fault's
onset, and how long after the fault's end its page stopped; then what each rule set costs
Prometheus per minute. Builds Sloth (scripts/build-sloth) and, when no --promtool is given and
.tools/prom3/promtool is missing, Prometheus 3's promtool (scripts/build-promtool3).

Exit 1 when the project is behind Sloth on a gated row, 2 on bad input, 0 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root

from benchmarks.slo_bench.cli import main

if __name__ == "__main__":
    sys.exit(main())

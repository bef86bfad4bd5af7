"""The command line of ``benchmarks/slo_vs_sloth.py`` (see that script's docstring)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from benchmarks.slo_bench.cost import rule_set_cost
from benchmarks.slo_bench.probe import Outcome, ProbeError, run_scenario
from benchmarks.slo_bench.report import Row, footnotes, row_json, table
from benchmarks.slo_bench.rulesets import (
    RuleSetError,
    build_sloth,
    project_groups,
    sloth_groups,
)
from benchmarks.slo_bench.scenarios import FORMS, Form, Scenario, scenarios
from infra.config import ConfigError, ServiceConfig, StackConfig, load_stack

ROOT = Path(__file__).resolve().parents[2]
PROM3 = ROOT / ".tools" / "prom3" / "promtool"


class InputError(Exception):
    """Bad input: one line, exit 2."""


def _promtool(path: str | None) -> Path:
    if path:
        if not Path(path).is_file() or not os.access(path, os.X_OK):
            raise InputError(f"promtool not found or not executable: {path}")
        return Path(path)
    if not PROM3.is_file():
        print("building Prometheus 3's promtool (scripts/build-promtool3)…", file=sys.stderr)
        done = subprocess.run([str(ROOT / "scripts" / "build-promtool3")], check=False)
        if done.returncode != 0 or not PROM3.is_file():
            raise InputError("promtool missing: scripts/build-promtool3 failed; pass --promtool")
    return PROM3


def _stack(name: str) -> StackConfig:
    try:
        return load_stack(name, ROOT)
    except ConfigError as exc:
        raise InputError(f"cannot load stack {name!r}: {' '.join(str(exc).split())}") from None


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/slo_vs_sloth.py",
        description="Compare the project's SLO burn-rate alerts with Sloth v0.16's.",
    )
    parser.add_argument("--stack", default="production")
    parser.add_argument("--form", choices=["warm", "cold", "both"], default="both")
    parser.add_argument("--only", default="", help="run rows whose label contains this")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--promtool", help="promtool to use (default: .tools/prom3/promtool)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    return parser.parse_args(argv)


Task = tuple[ServiceConfig, Scenario, str, list[dict[str, Any]]]


def _run_all(
    tasks: list[Task], cfg: StackConfig, promtool: Path, jobs: int
) -> dict[tuple[str, str, str], Outcome]:
    """Every (service, scenario, rule set) through promtool, longest runs first."""
    results: dict[tuple[str, str, str], Outcome] = {}
    alerts = {svc.name: svc.alerts for svc, *_ in tasks}
    ordered = sorted(tasks, key=lambda t: -t[1].total)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {}
        for svc, s, which, groups in ordered:
            burn = alerts[svc.name].api_error_budget_burn
            if s.slo == "latency":
                burn = alerts[svc.name].api_latency_budget_burn
            future = pool.submit(
                run_scenario, groups, s, promtool, cfg.prometheus.evaluation_interval,
                svc=svc, page_severity=burn.page_severity.value,
                ticket_severity=burn.ticket_severity.value,
            )  # fmt: skip
            futures[future] = (svc.name, s.label, which)
        for done, future in enumerate(as_completed(futures), 1):
            key = futures[future]
            results[key] = future.result()
            print(
                f"[{done}/{len(futures)}] {key[1]} · {key[2]}: {results[key].seconds:.1f}s",
                file=sys.stderr,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    began = time.perf_counter()
    try:
        cfg = _stack(args.stack)
        promtool = _promtool(args.promtool)
        sloth = build_sloth()
        mine = project_groups(cfg, args.stack)
        theirs = sloth_groups(cfg, sloth)
    except (InputError, RuleSetError) as exc:
        print(f"slo_vs_sloth: {exc}", file=sys.stderr)
        return 2
    forms: tuple[Form, ...] = FORMS if args.form == "both" else (args.form,)
    rows_of = [(svc, s) for svc in cfg.services for s in scenarios(forms)]
    rows_of = [(svc, s) for svc, s in rows_of if args.only in s.label]
    if not rows_of:
        print(f"slo_vs_sloth: no scenario matches --only {args.only!r}", file=sys.stderr)
        return 2
    tasks: list[Task] = [
        (svc, s, which, groups)
        for svc, s in rows_of
        for which, groups in (("project", mine), ("sloth", theirs))
    ]
    try:
        results = _run_all(tasks, cfg, promtool, args.jobs)
    except ProbeError as exc:
        print(f"slo_vs_sloth: {exc}", file=sys.stderr)
        return 2
    rows = [
        Row(s, results[(svc.name, s.label, "project")], results[(svc.name, s.label, "sloth")])
        for svc, s in rows_of
    ]
    interval, scrape = cfg.prometheus.evaluation_interval, cfg.prometheus.scrape_interval
    costs = [
        rule_set_cost("project", mine, interval, scrape),
        rule_set_cost("Sloth v0.16", theirs, interval, scrape),
    ]
    wall = time.perf_counter() - began
    behind = [r for r in rows if r.status == "behind"]
    if args.json:
        document = {
            "stack": args.stack,
            "evaluation_interval": interval,
            "rows": [row_json(r) for r in rows],
            "cost": [c.as_dict() for c in costs],
            "wall_seconds": round(wall, 1),
            "behind": len(behind),
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(table(rows))
        print()
        for note in footnotes(rows):
            print(note)
        print()
        for cost in costs:
            print(cost.line())
        print()
        print(
            f"{len(rows)} rows ({len(tasks)} promtool runs, {args.jobs} jobs), "
            f"behind on {len(behind)} gated rows; wall time {wall:.0f}s"
        )
    return 1 if behind else 0

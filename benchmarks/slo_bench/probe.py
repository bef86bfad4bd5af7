"""Run one scenario through one rule set with ``promtool test rules`` and read back, for every
rule evaluation, whether the scenario's alert was firing, per severity.

promtool evaluates every group at every ``evaluation_interval`` over the whole test (it
ignores a group's own ``interval``) and stores the ``ALERTS`` series the rules write, stale
markers included. After the last evaluation its ``promql_expr_tests`` query that storage. Each
probe below covers :data:`PROBE_STEPS` consecutive evaluations ``(B, B + 52·I]`` and folds them
into one exact float: the sum of ``2^k`` over the evaluations ``B + k·I`` at which the alert was
firing (a subquery at the evaluation step, aligned with the evaluations since both start at 0).
Every probe expects no sample, so promtool prints each window that fired (``got: …``) and
nothing for silent ones; the bits give the firing evaluations back exactly.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.slo_bench.rulegraph import rules_for_alert
from benchmarks.slo_bench.scenarios import Scenario, input_series
from infra.config import ServiceConfig
from infra.config.types import parse_duration

PROBE_STEPS = 52
"""Evaluations per probe: 2^1 … 2^52 sum exactly in a float64 (53-bit mantissa)."""
LATE_MINUTES = 60
"""An episode starting this long after the fault ended is not the fault's: it fired late."""
_SAMPLE = re.compile(r"\{([^{}]*)\} ([^,\s]+)")
_PROMTOOL_LINES = ("Processing test file", "Unit Testing:", "FAILED:", "expr:", "exp:", "got:")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class ProbeError(RuntimeError):
    """promtool failed for another reason than the probes' expected mismatches."""


@dataclass(frozen=True)
class Episode:
    start: float
    """Minutes after the fault's onset of the first firing evaluation."""
    end: float
    """Minutes after the onset of the first evaluation at which it no longer fired."""


@dataclass(frozen=True)
class TierOutcome:
    """The firing episodes of one tier (page or ticket) of the scenario's alert."""

    episodes: tuple[Episode, ...]
    fault_minutes: int
    run_minutes: float
    """Minutes after the onset of the last evaluation probed."""

    @property
    def related(self) -> tuple[Episode, ...]:
        """Episodes that belong to the fault: not over before the onset, and starting at most
        :data:`LATE_MINUTES` after the fault ended."""
        last = self.fault_minutes + LATE_MINUTES
        return tuple(e for e in self.episodes if e.end > 0 and e.start <= last)

    @property
    def first(self) -> float | None:
        """Minutes after the onset it first fired, None when silent."""
        return self.related[0].start if self.related else None

    @property
    def reset(self) -> float | None:
        """Minutes from the fault's end until the last episode of the fault stopped firing."""
        return self.related[-1].end - self.fault_minutes if self.related else None

    @property
    def still_firing(self) -> bool:
        return bool(self.episodes) and self.episodes[-1].end > self.run_minutes

    @property
    def early(self) -> bool:
        """Fired before the fault's onset."""
        return any(e.start < 0 for e in self.episodes)

    @property
    def late(self) -> bool:
        """Fired long after the fault ended."""
        return any(e.start > self.fault_minutes + LATE_MINUTES for e in self.episodes)


@dataclass(frozen=True)
class Outcome:
    page: TierOutcome
    ticket: TierOutcome
    seconds: float = field(default=0.0, compare=False)
    """Wall time of the promtool run."""


def probe_expr(alertname: str, base: int, step: int) -> str:
    """One probe: the firing evaluations in ``(base, base + PROBE_STEPS·step]`` as bits."""
    firing = f'ALERTS{{alertstate="firing", alertname="{alertname}"}}'
    bits = f"max by (alertname, severity) ({firing}) * 0 + 2 ^ ((time() - {base}) / {step})"
    span = f"[{PROBE_STEPS * step}s:{step}s]"
    return f'label_replace(sum_over_time(({bits}){span}), "probe_base", "{base}", "", "")'


def probe_tests(alertname: str, last: int, step: int) -> list[dict[str, Any]]:
    """Probes covering every evaluation in ``(0, last]`` seconds."""
    width = PROBE_STEPS * step
    return [
        {"expr": probe_expr(alertname, base, step), "eval_time": f"{base + width}s",
         "exp_samples": []}
        for base in range(0, last, width)
    ]  # fmt: skip


def parse_firing(output: str, step: int) -> dict[str, list[int]]:
    """Firing evaluation times (seconds) by severity, from promtool's failure report."""
    firing: dict[str, set[int]] = {}
    for line in output.splitlines():
        text = line.strip()
        if not text.startswith("got:") or text == "got: nil":
            continue
        for labels_text, value in _SAMPLE.findall(text):
            labels = dict(_LABEL.findall(labels_text))
            base, bits = int(labels["probe_base"]), int(float(value))
            times = firing.setdefault(labels.get("severity", ""), set())
            for k in range(1, PROBE_STEPS + 1):
                if bits >> k & 1:
                    times.add(base + k * step)
    return {severity: sorted(times) for severity, times in firing.items()}


def episodes(times: Sequence[int], step: int, onset_s: int) -> tuple[Episode, ...]:
    """Runs of consecutive evaluations, in minutes relative to ``onset_s``."""
    out: list[Episode] = []
    start = prev = None
    for t in [*times, None]:
        if start is not None and prev is not None and (t is None or t - prev != step):
            out.append(Episode((start - onset_s) / 60, (prev + step - onset_s) / 60))
            start = None
        if t is not None and start is None:
            start = t
        prev = t
    return tuple(out)


def _check(output: str, rc: int) -> None:
    if rc not in (0, 1):
        raise ProbeError(f"promtool exited with {rc}: {output.strip()[-2000:]}")
    if rc == 1:
        lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
        odd = [ln for ln in lines if not ln.startswith(_PROMTOOL_LINES)]
        if odd or "got:" not in output:
            raise ProbeError("promtool failed: " + " | ".join(odd[:5] or [output.strip()[-500:]]))


def run_promtool(
    groups: list[dict[str, Any]],
    series: list[dict[str, str]],
    probes: list[dict[str, Any]],
    promtool: Path,
    evaluation_interval: str,
) -> str:
    """Write the rule file and test to a temp folder, run promtool, return its output."""
    with tempfile.TemporaryDirectory(prefix="slo-bench-") as tmp:
        folder = Path(tmp)
        (folder / "rules.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        test = {
            "rule_files": ["rules.yml"],
            "evaluation_interval": evaluation_interval,
            # Without an order promtool evaluates the groups in Go map order, which changes
            # from run to run; in file order recordings are fresh when the alerts read them.
            "group_eval_order": [g["name"] for g in groups],
            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": probes}],
        }
        (folder / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False, width=1 << 20))
        done = subprocess.run(
            [str(promtool), "test", "rules", "test.yml"],
            cwd=folder, capture_output=True, text=True, check=False,
            env={**os.environ, "GOGC": os.environ.get("GOGC", "400")},  # ~15% faster
        )  # fmt: skip
    output = done.stdout + done.stderr
    _check(output, done.returncode)
    return output


def outcome_from_times(
    firing: dict[str, list[int]],
    *,
    step: int,
    onset_s: int,
    last_s: int,
    fault_minutes: int,
    page_severity: str,
    ticket_severity: str,
) -> Outcome:
    def tier(severity: str) -> TierOutcome:
        times = [t for t in firing.get(severity, []) if t <= last_s]
        found = episodes(times, step, onset_s)
        return TierOutcome(found, fault_minutes, (last_s - onset_s) / 60)

    return Outcome(tier(page_severity), tier(ticket_severity))


def run_scenario(
    groups: list[dict[str, Any]],
    scenario: Scenario,
    promtool: Path,
    evaluation_interval: str,
    *,
    svc: ServiceConfig,
    page_severity: str = "critical",
    ticket_severity: str = "warning",
) -> Outcome:
    """Replay ``scenario`` through the rule ``groups`` and report when its alert fired.

    ``groups`` are rule groups as in a rule file (dicts). Alerts are told apart by their
    ``severity`` label: ``page_severity`` is the page tier, ``ticket_severity`` the ticket.
    Only the rules the alert depends on are evaluated (:func:`rules_for_alert`): promtool
    evaluates every group at every evaluation, whatever its ``interval``, and caps every
    query at 10,000 samples, so a 30-day budget rule would cost far more here than in
    Prometheus (and fail after 83 hours at 30s), and it cannot change the alert."""
    began = time.perf_counter()
    step = parse_duration(evaluation_interval)
    last_s = scenario.total * 60
    probes = probe_tests(scenario.alertname, last_s, step)
    needed = rules_for_alert(groups, scenario.alertname)
    output = run_promtool(
        needed, input_series(svc, scenario), probes, promtool, evaluation_interval
    )
    result = outcome_from_times(
        parse_firing(output, step),
        step=step,
        onset_s=scenario.onset * 60,
        last_s=last_s,
        fault_minutes=scenario.minutes,
        page_severity=page_severity,
        ticket_severity=ticket_severity,
    )
    return Outcome(result.page, result.ticket, time.perf_counter() - began)

"""What a rule set costs Prometheus each minute: range selections evaluated and samples read.

Per rule, every matrix selector (``x[5m]``) and subquery (``e[30d:5m]``) counts as one range
selection per evaluation of its group (60 / the group's ``interval`` per minute; a group
without one runs at the stack's evaluation interval). Samples read, per series a selector
matches: a matrix selector reads range / spacing samples, where the spacing is the scrape
interval for a scraped series and the recording group's interval for a recorded one; a
subquery evaluates its inner expression range / step times (default step: the evaluation
interval), an instant selector in it reading one sample each time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import promql_parser as pp

from benchmarks.slo_bench.rulegraph import children, rules_of, series_name
from infra.config.types import parse_duration


@dataclass(frozen=True)
class RuleSetCost:
    name: str
    recording_rules: int
    alerting_rules: int
    range_selections: int
    """Range selections in all rules (one evaluation of each group)."""
    range_selections_per_minute: float
    samples_per_minute: float
    """Estimated samples read per minute, per series each selector matches."""

    def line(self) -> str:
        return (
            f"{self.name}: {self.recording_rules} recording + {self.alerting_rules} alerting "
            f"rules, {self.range_selections} range selections = "
            f"{self.range_selections_per_minute:,.0f} per minute, ~"
            f"{self.samples_per_minute:,.0f} samples read per minute (per selected series)"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seconds(text: str | None, default: int) -> int:
    return parse_duration(text) if text else default


def expr_cost(
    node: Any, spacing: dict[str, int], scrape: int, default_step: int, steps: float = 0.0
) -> tuple[int, float]:
    """(range selections, samples read) of one evaluation of ``node``; ``steps`` is how many
    times enclosing subqueries evaluate it (0: not inside a subquery)."""
    selections, samples = 0, 0.0
    if isinstance(node, pp.MatrixSelector):
        gap = spacing.get(series_name(node.vector_selector), scrape)
        return 1, max(steps, 1.0) * node.range.total_seconds() / gap
    if isinstance(node, pp.VectorSelector):
        return 0, steps  # an instant selector outside a subquery is not a range read
    if isinstance(node, pp.SubqueryExpr):
        step = node.step.total_seconds() if node.step else default_step
        span = node.range.total_seconds() if node.range else 0.0
        inner_steps = max(steps, 1.0) * span / step
        inner = expr_cost(node.expr, spacing, scrape, default_step, inner_steps)
        return 1 + inner[0], inner[1]
    for child in children(node):
        n, s = expr_cost(child, spacing, scrape, default_step, steps)
        selections, samples = selections + n, samples + s
    return selections, samples


def rule_set_cost(
    name: str, groups: list[dict[str, Any]], evaluation_interval: str, scrape_interval: str
) -> RuleSetCost:
    default = parse_duration(evaluation_interval)
    scrape = parse_duration(scrape_interval)
    spacing = {
        str(rule["record"]): _seconds(group.get("interval"), default)
        for group, rule in rules_of(groups)
        if "record" in rule
    }
    count, per_minute, samples = 0, 0.0, 0.0
    for group, rule in rules_of(groups):
        evals = 60 / _seconds(group.get("interval"), default)
        n, s = expr_cost(pp.parse(str(rule["expr"])), spacing, scrape, default)
        count += n
        per_minute += n * evals
        samples += s * evals
    recording = sum(1 for _, rule in rules_of(groups) if "record" in rule)
    alerting = sum(1 for _, rule in rules_of(groups) if "alert" in rule)
    return RuleSetCost(name, recording, alerting, count, per_minute, samples)

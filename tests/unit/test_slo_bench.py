"""The pure parts of benchmarks/slo_vs_sloth.py (benchmarks/slo_bench), and its promtool probe
on a tiny rule file whose firing evaluations are known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.slo_bench.cost import rule_set_cost
from benchmarks.slo_bench.probe import (
    Episode,
    Outcome,
    TierOutcome,
    episodes,
    parse_firing,
    probe_tests,
    run_promtool,
)
from benchmarks.slo_bench.report import behind_reasons, first_cell, reset_cell
from benchmarks.slo_bench.rulegraph import rules_for_alert
from benchmarks.slo_bench.rulesets import sloth_spec
from benchmarks.slo_bench.scenarios import Scenario, encode_counter, per_minute, scenarios
from infra.config import load_stack

ROOT = Path(__file__).resolve().parents[2]
PROM3 = ROOT / ".tools" / "prom3" / "promtool"


def test_sloth_spec_has_the_stacks_two_slos() -> None:
    svc = load_stack("production", ROOT).services[0]
    spec = sloth_spec(svc)
    assert spec["version"] == "prometheus/v1"
    assert spec["service"] == "agenzia-ai-api"
    availability, latency = spec["slos"]
    assert availability["objective"] == 99.9
    assert availability["sli"]["events"] == {
        "error_query": 'sum(rate(http_requests_total{job="agenzia-ai-api",status=~"5.."}[{{.window}}]))',
        "total_query": 'sum(rate(http_requests_total{job="agenzia-ai-api"}[{{.window}}]))',
    }
    assert latency["objective"] == 95
    assert latency["sli"]["events"] == {
        "error_query": 'sum(rate(http_request_duration_seconds_count{job="agenzia-ai-api"}[{{.window}}])) - sum(rate(http_request_duration_seconds_bucket{job="agenzia-ai-api",le="0.2"}[{{.window}}]))',
        "total_query": 'sum(rate(http_request_duration_seconds_count{job="agenzia-ai-api"}[{{.window}}]))',
    }
    assert availability["alerting"] == {
        "name": "ApiErrorBudgetBurn",
        "page_alert": {"labels": {"severity": "critical"}},
        "ticket_alert": {"labels": {"severity": "warning"}},
    }
    assert latency["alerting"]["name"] == "ApiLatencyBudgetBurn"


GROUPS: list[dict[str, Any]] = [
    {
        "name": "a",
        "interval": "1m",
        "rules": [
            {"record": "r:5m", "expr": "sum(rate(x[5m]))"},
            {"alert": "A", "expr": "max_over_time(r:5m[10m]) > 0 and rate(y[1h]) > 0"},
        ],
    },
    {"name": "b", "rules": [{"record": "s", "expr": "sum_over_time(r:5m[1h:5m]) + z"}]},
]


def test_cost_counts_range_selections_and_samples() -> None:
    cost = rule_set_cost("t", GROUPS, "30s", "30s")
    assert (cost.recording_rules, cost.alerting_rules) == (2, 1)
    # a (1/min): x[5m], r:5m[10m], y[1h]; b (2/min, the default 30s): one subquery.
    assert cost.range_selections == 4
    assert cost.range_selections_per_minute == 3 * 1 + 1 * 2
    # a: 5m/30s scraped + 10m/1m recorded in a 1m group + 1h/30s = 10 + 10 + 120 per minute;
    # b: 1h/5m = 12 steps reading one sample of r:5m each, twice a minute; z is not a range.
    assert cost.samples_per_minute == 140 + 12 * 2


def test_rules_for_alert_keeps_what_the_alert_reads() -> None:
    assert [g["name"] for g in rules_for_alert(GROUPS, "A")] == ["a"]
    labelled: list[dict[str, Any]] = [
        {
            "name": "rec",
            "rules": [
                {"record": "ratio", "expr": "x", "labels": {"slo": "one"}},
                {"record": "ratio", "expr": "y", "labels": {"slo": "two"}},
                {"record": "unused", "expr": "ratio"},
            ],
        },
        {"name": "alerts", "rules": [{"alert": "B", "expr": 'ratio{slo="two"} > 1'}]},
    ]
    kept = rules_for_alert(labelled, "B")
    assert [[r["expr"] for r in g["rules"]] for g in kept] == [["y"], ['ratio{slo="two"} > 1']]


def test_encode_counter_is_exact_and_compact() -> None:
    assert encode_counter([0.0, 1.5, 1.5, 1.5, 0.1]) == "0 1.5+1.5x2 4.6+0.1x0"
    assert encode_counter([0.0]) == "0"


def test_latency_fault_moves_only_the_slow_share() -> None:
    svc = load_stack("production", ROOT).services[0]
    s = Scenario("t", "latency", 2, share=0.5, form="cold")
    series = per_minute(svc, s)
    fast = series['http_request_duration_seconds_bucket{job="agenzia-ai-api", le="0.2"}']
    total = series['http_request_duration_seconds_count{job="agenzia-ai-api"}']
    five = series[
        'http_requests_total{job="agenzia-ai-api", status="5xx", handler="/leads", method="POST"}'
    ]
    assert fast[s.onset] == pytest.approx(990) and fast[s.onset + 1] == pytest.approx(500)
    assert fast[s.end + 1] == pytest.approx(990) and total[s.onset + 1] == 1000
    assert set(five[1:]) == {0.5}


def test_scenarios_list_every_row_once_per_form() -> None:
    rows = scenarios()
    labels = [s.label for s in rows]
    assert len(labels) == len(set(labels))
    assert "availability normal 3d (warm)" in labels
    assert "availability normal 3d (cold)" not in labels  # no fault: the same in every form
    assert [s.gated for s in rows if "outage 2/min" in s.name] == [False] * 4


def test_parse_firing_reads_the_bits_back() -> None:
    out = (
        '  FAILED:\n    expr: "…", time: 26m,\n        exp: nil\n'
        '        got: {alertname="A", probe_base="0", severity="critical"} 6E+00, '
        '{alertname="A", probe_base="0", severity="warning"} 4.503599627370496E+15\n'
    )
    assert parse_firing(out, 30) == {"critical": [30, 60], "warning": [52 * 30]}
    assert episodes([30, 60, 120], 30, 60) == (Episode(-0.5, 0.5), Episode(1.0, 1.5))


def _tier(*spans: tuple[float, float], fault: int = 30) -> TierOutcome:
    return TierOutcome(tuple(Episode(a, b) for a, b in spans), fault, 500)


def test_behind_when_later_than_sloth_or_slow_to_reset() -> None:
    s = Scenario("outage", "availability", 30, share=1.0, page="alert")
    sloth = Outcome(_tier((1, 59)), _tier())
    assert behind_reasons(s, Outcome(_tier((1, 34)), _tier()), sloth) == []
    assert behind_reasons(s, Outcome(_tier((3, 34)), _tier()), sloth) == [
        "page 2 min later than Sloth"
    ]
    assert behind_reasons(s, Outcome(_tier((1, 40)), _tier()), sloth) == ["page reset 10 > 5 min"]
    quiet = Scenario("few", "availability", 3, bad_per_minute=1, page="silent")
    assert behind_reasons(quiet, Outcome(_tier(), _tier((1, 2))), sloth) == []
    assert behind_reasons(quiet, Outcome(_tier((1, 4), (6, 7)), _tier()), sloth)[0] == (
        "pages where silence is expected"
    )
    assert first_cell(_tier((1, 4), (6, 7))) == "1 (2 episodes)"
    assert reset_cell(_tier((1, 600))) == "≥570 (still firing)"


@pytest.mark.skipif(not PROM3.is_file(), reason="needs scripts/build-promtool3")
def test_probe_sees_every_evaluation_of_a_real_promtool_run() -> None:
    groups = [
        {
            "name": "g",
            "rules": [
                {"alert": "A", "expr": "x > 0", "labels": {"severity": "critical"}},
                {"alert": "A", "expr": "x > 1", "for": "1m", "labels": {"severity": "warning"}},
            ],
        }
    ]
    # x: 0 for minutes 0-10, 1 for 11-16, 2 for 17-22, 0 for 23-63, 1 at 64, then 0.
    series = [{"series": "x", "values": "0x10 1x5 2x5 0x40 1 0x100"}]
    output = run_promtool(groups, series, probe_tests("A", 120 * 60, 30), PROM3, "30s")
    firing = parse_firing(output, 30)
    assert episodes(firing["critical"], 30, 0) == (Episode(11, 23), Episode(64, 65))
    assert episodes(firing["warning"], 30, 0) == (Episode(18, 23),)  # pending 1m from 17

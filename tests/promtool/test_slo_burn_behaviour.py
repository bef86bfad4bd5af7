"""The SLO burn-rate alerts' three additions to the textbook rule, proven with the real
promtool (Prometheus 2.42 and 3.16) on the rendered production rules:

- a handful of bad requests at low traffic pages nobody (the ``min_bad_requests`` guard),
  while an outage at the same traffic still pages, and the unguarded textbook condition would
  have paged (so the guard, not the scenario, keeps it quiet);
- a page clears within the 5-minute reset window after recovery, while the textbook 6h/30m
  pair still burns;
- thresholds are ``>=``: a ratio exactly on ``burn_rate x budget`` fires.

The generated tests (``alert_rules/<stack>/tests``) keep every alert's exact onset; these
cases cover what they do not. ``benchmarks/slo_vs_sloth.py`` measures the same behaviour
against Sloth on many more scenarios.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import StackConfig
from infra.config.loader import validate_stack
from infra.render.rule_tests_traffic import cumulative, encode
from infra.render.rules import render_rule_artifacts
from infra.validate import Promtool
from tests.promtool.test_rules_promtool import _promtool

JOB = "agenzia-ai-api"
WARM = 7 * 60
"""Minutes of normal traffic before every fault: longer than the 6h page window."""


@pytest.fixture(params=["prometheus2", "prometheus3"])
def promtool(request: pytest.FixtureRequest) -> Promtool:
    return _promtool(request.param)


def _requests(ok: Sequence[float], bad: Sequence[float]) -> list[dict[str, str]]:
    labels = f'job="{JOB}", handler="/leads", method="POST"'
    return [
        {"series": f'http_requests_total{{{labels}, status="2xx"}}', "values": encode(cumulative(ok))},
        {"series": f'http_requests_total{{{labels}, status="5xx"}}', "values": encode(cumulative(bad))},
    ]  # fmt: skip


def _latency(fast: Sequence[float], slow: Sequence[float], le: str) -> list[dict[str, str]]:
    """A histogram with every fast request at or under ``le`` seconds, every slow one over."""
    labels = f'job="{JOB}"'
    total = cumulative([f + s for f, s in zip(fast, slow, strict=True)])
    return [
        {"series": f'http_request_duration_seconds_bucket{{{labels}, le="{le}"}}', "values": encode(cumulative(fast))},
        {"series": f'http_request_duration_seconds_bucket{{{labels}, le="+Inf"}}', "values": encode(total)},
        {"series": f'http_request_duration_seconds_count{{{labels}}}', "values": encode(total)},
    ]  # fmt: skip


def _count(expr: str, minute: int, expected: int) -> dict[str, Any]:
    return {
        "expr": f"count({expr}) or vector(0)",
        "eval_time": f"{minute}m",
        "exp_samples": [{"labels": "{}", "value": expected}],
    }


def _firing(alert: str, severity: str, minute: int, expected: bool) -> dict[str, Any]:
    selector = f'ALERTS{{alertname="{alert}", alertstate="firing", severity="{severity}"}}'
    return _count(selector, minute, int(expected))


def _run(
    cfg: StackConfig,
    promtool: Promtool,
    tmp_path: Path,
    series: list[dict[str, str]],
    checks: list[dict[str, Any]],
) -> None:
    files = render_rule_artifacts(cfg, cfg.environment)
    rule_files = []
    for rel, text in files.items():
        if "/slo-" in rel:
            path = tmp_path / Path(rel).name
            path.write_text(text, encoding="utf-8")
            rule_files.append(path.name)
    document = {
        "rule_files": rule_files,
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}],
    }
    (tmp_path / "slo.test.yml").write_text(yaml.safe_dump(document, width=1000), encoding="utf-8")
    result = subprocess.run(
        [promtool.command, "test", "rules", "slo.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def _timeline(
    rate: float, fault: Sequence[tuple[float, float]], after: int
) -> tuple[list[float], list[float]]:
    """Per-minute (good, bad) requests: ``WARM`` normal minutes at ``rate`` per minute with
    no bad request, then ``fault`` as (good, bad) per minute, then ``after`` normal minutes."""
    minutes = [(rate, 0.0)] * WARM + list(fault) + [(rate, 0.0)] * after
    return [g for g, _ in minutes], [b for _, b in minutes]  # fmt: skip


PAGE_1H = 'job:slo_errors:rate1h{job="agenzia-ai-api"} / job:slo_requests:rate1h{job="agenzia-ai-api"} >= 0.0144 and job:slo_errors:ratio_rate5m{job="agenzia-ai-api"} >= 0.0144'  # fmt: skip
"""The textbook fast-burn pair (1h and 5m at 14.4x) without the bad-request guard."""


@pytest.mark.parametrize("rate", [2.0, 3.0])
def test_a_handful_of_errors_at_low_traffic_pages_nobody(
    rate: float, production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    # three bad requests, one a minute: at 2 or 3 requests a minute, over 14.4 x 0.1% of an hour
    good, bad = _timeline(rate, [(rate - 1, 1.0)] * 3, 120)
    start = WARM + 1  # the first sample that counts a bad request
    checks = [
        _firing("ApiErrorBudgetBurn", "critical", m, False) for m in range(start - 1, start + 90)
    ]
    checks += [
        _firing("ApiErrorBudgetBurn", "warning", m, False) for m in range(start - 1, start + 90)
    ]
    checks.append(_count(PAGE_1H, start + 2, 1))  # what Sloth and the textbook rule page on
    _run(production, promtool, tmp_path, _requests(good, bad), checks)


@pytest.mark.parametrize(("rate", "pages_after"), [(5.0, 0), (2.0, 1)])
def test_an_outage_at_low_traffic_pages_once_it_has_more_than_a_handful(
    rate: float, pages_after: int, production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    """At 5 requests a minute the first minute holds 5 bad requests: it pages at once, as the
    textbook rule does. At 2 a minute the guard waits for a 4th bad request: one minute more."""
    good, bad = _timeline(rate, [(0.0, rate)] * 30, 60)
    start = WARM + 1
    checks = [
        _firing("ApiErrorBudgetBurn", "critical", start + pages_after - 1, False),
        _firing("ApiErrorBudgetBurn", "critical", start + pages_after, True),
        _firing("ApiErrorBudgetBurn", "critical", start + 29, True),
    ]
    _run(production, promtool, tmp_path, _requests(good, bad), checks)


def test_a_page_clears_within_five_minutes_of_recovery(
    production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    good, bad = _timeline(999.5, [(0.0, 1000.0)] * 30, 120)
    recovered = WARM + 31  # the first sample after the outage
    textbook_6h = 'job:slo_errors:rate6h{job="agenzia-ai-api"} / job:slo_requests:rate6h{job="agenzia-ai-api"} >= 0.006 and job:slo_errors:ratio_rate30m{job="agenzia-ai-api"} >= 0.006'  # fmt: skip
    checks = [
        _firing("ApiErrorBudgetBurn", "critical", WARM + 1, True),
        _firing("ApiErrorBudgetBurn", "critical", recovered - 1, True),
        _count(textbook_6h, recovered + 20, 1),  # the textbook page would still fire here
    ]
    checks += [
        _firing("ApiErrorBudgetBurn", "critical", m, False)
        for m in range(recovered + 5, recovered + 60)
    ]
    _run(production, promtool, tmp_path, _requests(good, bad), checks)


def test_a_ratio_exactly_on_the_threshold_fires(
    production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    """6 bad requests in 1000 is exactly 6 x 0.1%: from the moment every page window holds
    that ratio (cold start: every window reaches back to the first sample), the 6h pair's
    ``>=`` holds; with one bad request fewer per minute it does not."""
    checks = []
    for bad_per_minute, fires in ((6.0, True), (5.0, False)):
        good, bad = [1000 - bad_per_minute] * 400, [bad_per_minute] * 400
        equal = 'job:slo_errors:rate6h{job="agenzia-ai-api"} / job:slo_requests:rate6h{job="agenzia-ai-api"} == 0.006'  # fmt: skip
        checks = [
            _count(equal, 120, int(fires)),  # the ratio is the threshold, not a hair above
            _firing("ApiErrorBudgetBurn", "critical", 120, fires),
        ]
        folder = tmp_path / f"bad{int(bad_per_minute)}"
        folder.mkdir()
        _run(production, promtool, folder, _requests(good, bad), checks)
    assert checks


def test_slow_requests_at_low_traffic_page_nobody_until_a_latency_outage(
    production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    """The latency SLO's guard counts slow requests (all minus fast) in the long window. With
    the default 95% objective 3 slow requests never reach 14.4x; a 99.9% objective under 1 s
    makes them (3 of 120 in an hour) a textbook page, which the guard holds back."""
    data = production.model_dump(mode="json", by_alias=True)
    data["services"][0]["slo"].update(latency_objective=0.999, latency_threshold_seconds=1.0)
    cfg = validate_stack(data, "test")
    rate = 2.0
    fault = [(rate - 1, 1.0)] * 3 + [(rate, 0.0)] * 120 + [(0.0, rate)] * 30
    fast, slow = _timeline(rate, fault, 30)
    start = WARM + 1
    outage = start + 3 + 120  # the first sample with an outage minute in it
    burn = "ApiLatencyBudgetBurn"
    textbook = (
        f"1 - job:slo_fast_requests:rate1h{{job={JOB!r}}} / job:slo_timed_requests:rate1h{{job={JOB!r}}}"
        f" >= 0.0144 and job:slo_slow_requests:ratio_rate5m{{job={JOB!r}}} >= 0.0144"
    ).replace("'", '"')
    checks = [_firing(burn, "critical", m, False) for m in range(start - 1, outage)]
    checks += [_count(textbook, start + 2, 1), _firing(burn, "critical", outage + 1, True)]
    le = cfg.services[0].slo.latency_bucket
    _run(cfg, promtool, tmp_path, _latency(fast, slow, le), checks)


def test_budget_remaining_and_burn_rate_are_recorded_for_the_dashboard(
    production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    """A day at 0.03% errors and 4% slow requests spends 30% and 80% of the 0.1% and 5%
    budgets: the budget rules (every 5 minutes, hourly sums over 30d) and the 1h burn rates
    say so, as the API Health dashboard reads them."""
    minutes = 26 * 60
    bad, slow = 0.3, 40.0  # per 1000 requests a minute
    series = _requests([1000 - bad] * minutes, [bad] * minutes)
    series += _latency([1000 - slow] * minutes, [slow] * minutes, "0.2")

    def near(expr: str, value: float, minute: int) -> dict[str, Any]:
        return _count(f"abs({expr}{{job={JOB!r}}} - {value}) < 1e-9".replace("'", '"'), minute, 1)

    at = minutes - 5
    checks = [
        near("job:slo_errors:budget_remaining30d", 0.7, at),
        near("job:slo_slow_requests:budget_remaining30d", 0.2, at),
        near("job:slo_errors:burn_rate1h", 0.3, at),
        near("job:slo_slow_requests:burn_rate1h", 0.8, at),
    ]
    _run(production, promtool, tmp_path, series, checks)

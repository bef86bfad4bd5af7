"""The pure parts of ``monitoring sla`` (infra/sla.py, infra/sla_cli.py): budget arithmetic,
the queries, answers into figures, verdicts, and both report formats. The figures against a
real Prometheus are tests/sla/test_sla_prometheus.py."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from infra.config import ServiceConfig, StackConfig
from infra.config.types import format_duration
from infra.prometheus_api import Series
from infra.sla import (
    Budget,
    Figures,
    ServiceReport,
    SlaError,
    SlaReport,
    bucket_of,
    downtime_budget,
    figures,
    latency_row,
    queries,
    rows,
)
from infra.sla_cli import parse_end, register, shown_url

DAY = 86_400
END = 1_743_379_200  # 2025-03-31T00:00:00Z
# (le, cumulative count) of 10,000 requests: p50 in (0.05, 0.075], p95 in (0.1, 0.2].
BUCKETS = ((0.05, 3_000.0), (0.075, 6_000.0), (0.1, 8_500.0), (0.2, 9_700.0), (math.inf, 10_000.0))


@pytest.fixture
def svc(production: StackConfig) -> ServiceConfig:
    return production.services[0]


def _figures(**changes: object) -> Figures:
    base = Figures(
        scrapes=43_200,
        scrapes_up=43_179,
        requests=10_000,
        errors=5,
        buckets=BUCKETS,
        quantiles={0.5: 0.0583, 0.95: 0.179},
        data_since=END - 30 * DAY + 3600,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _report(svc: ServiceConfig, f: Figures, seconds: int = 30 * DAY) -> SlaReport:
    service = ServiceReport(
        svc.name, svc.job_name, svc.slo.window, tuple(rows(svc, f, seconds)), queries(svc, seconds),
        f.data_since,
    )  # fmt: skip
    return SlaReport("production", "https://prometheus.example/api/prom", END - seconds, END,
                     (service,))  # fmt: skip


# --------------------------------------------------------------------------- budgets


def test_availability_999_over_30_days_allows_43m12s_of_downtime() -> None:
    assert downtime_budget(0.999, 30 * DAY) == 2592
    assert format_duration(int(downtime_budget(0.999, 30 * DAY))) == "43m12s"
    assert downtime_budget(0.995, 30 * DAY) == 12_960  # 3h36m, as `monitoring diff` says
    assert downtime_budget(0.999, 7 * DAY) == pytest.approx(604.8)


def test_budget_consumed_and_remaining() -> None:
    half = Budget("seconds", 2592, 1296)
    assert (half.remaining, half.consumed_ratio, half.overspent) == (1296, 0.5, False)
    exactly = Budget("seconds", 2592, 2592)
    assert (exactly.remaining, exactly.consumed_ratio, exactly.overspent) == (0, 1.0, False)
    over = Budget("seconds", 2592, 3000)
    assert (over.remaining, over.overspent) == (-408, True)
    assert over.consumed_ratio == pytest.approx(3000 / 2592)


def test_uptime_row_downtime_and_budget(svc: ServiceConfig) -> None:
    up = rows(svc, _figures(), 30 * DAY)[0]
    assert (up.key, up.met, up.source) == ("uptime", True, "slo.availability")
    assert up.current == pytest.approx(43_179 / 43_200)
    assert up.detail["downtime_seconds"] == 21 * 60
    assert up.budget == Budget("seconds", 2592, 1260)
    missed = rows(svc, _figures(scrapes_up=43_150), 30 * DAY)[0]
    assert not missed.met and missed.budget is not None and missed.budget.remaining == -408


def test_error_rate_row_against_one_minus_availability(svc: ServiceConfig) -> None:
    err = rows(svc, _figures(), 30 * DAY)[3]
    assert (err.key, err.target, err.current, err.met) == ("error_rate", 0.001, 0.0005, True)
    assert err.budget == Budget("requests", 10, 5)
    at_budget = rows(svc, _figures(errors=10), 30 * DAY)[3]
    assert at_budget.met  # 0.1% exactly: the budget is spent, not overspent
    assert not rows(svc, _figures(errors=11), 30 * DAY)[3].met


# --------------------------------------------------------------------------- percentiles


def test_bucket_of_follows_histogram_quantile() -> None:
    assert bucket_of(BUCKETS, 0.5) == (0.05, 0.075)
    assert bucket_of(BUCKETS, 0.95) == (0.1, 0.2)
    assert bucket_of(BUCKETS, 0.3) == (0.0, 0.05)  # rank 3000 == count: the bucket it fills
    assert bucket_of(BUCKETS, 0.99) == (0.2, math.inf)


def test_latency_verdicts_count_requests_at_the_bucket_bound(svc: ServiceConfig) -> None:
    p50, p95 = rows(svc, _figures(), 30 * DAY)[1:3]
    assert (p50.key, p50.bucket, p50.met, p50.exact) == ("latency_p50", (0.05, 0.075), True, True)
    assert p50.budget == Budget("requests", 5_000, 1_500)  # 15% slower than 100 ms; 50% allowed
    assert (p95.key, p95.bucket, p95.met) == ("latency_p95", (0.1, 0.2), True)
    assert p95.budget == Budget("requests", 500, 300)  # 3% slower than 200 ms; 5% allowed
    slow = ((0.05, 3_000.0), (0.075, 6_000.0), (0.1, 8_500.0), (0.2, 9_400.0), (math.inf, 1e4))
    p95 = rows(svc, _figures(buckets=slow, quantiles={0.5: 0.06, 0.95: 0.4}), 30 * DAY)[2]
    assert (p95.met, p95.bucket) == (False, (0.2, math.inf))
    assert p95.budget is not None and p95.budget.consumed_ratio == pytest.approx(1.2)


def test_a_target_that_is_no_bucket_bound_is_judged_by_the_interpolation(
    svc: ServiceConfig,
) -> None:
    f = _figures()
    inside = latency_row(svc, f, 0.5, 0.06, "slo.latency_p50_seconds")  # in (0.05, 0.075]
    assert (inside.met, inside.exact, inside.budget) == (True, False, None)  # 58.3 ms < 60 ms
    assert not latency_row(svc, f, 0.5, 0.055, "x").met
    below = latency_row(svc, f, 0.5, 0.09, "x")  # the whole bucket is under 90 ms
    assert (below.met, below.exact, below.budget) == (True, True, None)
    above = latency_row(svc, f, 0.5, 0.04, "x")
    assert (above.met, above.exact) == (False, True)


# --------------------------------------------------------------------------- queries, answers


def test_queries_read_the_configured_names_over_the_range(svc: ServiceConfig) -> None:
    custom = svc.model_copy(
        update={
            "job": "api",
            "metrics": svc.metrics.model_copy(
                update={"requests": "app_requests_total", "status_label": "code"}
            ),
        }
    )
    q = queries(custom, 7 * DAY + 12 * 3600)
    assert q["errors"] == 'sum(increase(app_requests_total{job="api", code=~"5.."}[7d12h]))'
    assert q["scrapes"] == 'sum(count_over_time(up{job="api"}[7d12h]))'
    assert q["p95"] == (
        'histogram_quantile(0.95, sum by (le) (increase(http_request_duration_seconds_bucket{job="api"}[7d12h])))'
    )
    assert list(q) == [
        "scrapes", "scrapes_up", "data_since", "requests", "errors", "buckets", "p50", "p95",
    ]  # fmt: skip


def _answer(value: float | None, **labels: str) -> list[Series]:
    return [] if value is None else [Series(labels, ((float(END), value),))]


def _answers(**changes: Sequence[Series]) -> Mapping[str, Sequence[Series]]:
    out: dict[str, Sequence[Series]] = {
        "scrapes": _answer(43_200),
        "scrapes_up": _answer(43_179),
        "data_since": _answer(END - 30 * DAY + 3600),
        "requests": _answer(10_000),
        "errors": [],
        "buckets": [
            *_answer(3_000, le="0.05"),
            *_answer(9_000, le="1"),
            *_answer(700, le="1.0"),  # Go's and Python's client spell 1 second differently
            *_answer(10_000, le="+Inf"),
        ],
        "p50": _answer(0.0583),
        "p95": _answer(0.179),
    }
    out.update(changes)
    return out


def test_figures_from_answers(svc: ServiceConfig) -> None:
    f = figures(svc, queries(svc, 30 * DAY), _answers())
    assert f.errors == 0  # no 5xx series at all: no error
    assert f.buckets == ((0.05, 3000), (1.0, 9700), (math.inf, 10_000))
    assert f.quantiles == {0.5: 0.0583, 0.95: 0.179}


@pytest.mark.parametrize(
    ("missing", "says"),
    [
        ("scrapes", '`sum(count_over_time(up{job="agenzia-ai-api"}[30d]))` is empty'),
        ("requests", "`sum(increase(http_requests_total"),
        ("p95", "`histogram_quantile(0.95"),
    ],
)
def test_no_data_names_the_empty_query(svc: ServiceConfig, missing: str, says: str) -> None:
    with pytest.raises(SlaError, match=r"^no data for agenzia-ai-api: ") as err:
        figures(svc, queries(svc, 30 * DAY), _answers(**{missing: []}))
    assert says in str(err.value)
    assert "\n" not in str(err.value)


def test_no_requests_or_no_inf_bucket_is_no_data(svc: ServiceConfig) -> None:
    q = queries(svc, 30 * DAY)
    with pytest.raises(SlaError, match="no request was counted"):
        figures(svc, q, _answers(requests=_answer(0)))
    with pytest.raises(SlaError, match='no le="\\+Inf" bucket'):
        figures(svc, q, _answers(buckets=_answer(5, le="0.1")))


# --------------------------------------------------------------------------- the report


def test_report_verdicts_and_exit_code(svc: ServiceConfig) -> None:
    assert _report(svc, _figures()).exit_code() == 0
    missed = _report(svc, _figures(errors=20))
    assert missed.exit_code() == 1
    md = missed.to_markdown()
    assert "**Missed 1 of 4 targets: Error rate.**" in md
    assert (
        "| Error rate | < 0.1% | 0.2% (20 of 10,000) | ❌ missed | 200.0% (20 of 10 errors " in md
    )


def test_markdown_table(svc: ServiceConfig) -> None:
    md = _report(svc, _figures()).to_markdown()
    assert md.splitlines()[0] == (
        "## SLA report: production, last 30d (2025-03-01 00:00 UTC → 2025-03-31 00:00 UTC)"
    )
    assert "| Uptime | ≥ 99.9% | 99.951% (21m down) | ✅ met | 48.6% (21m of 43m12s) | " in md
    assert (
        "| API p95 latency | < 200 ms | 179 ms¹ (bucket 100 to 200 ms) | ✅ met | 60.0% (3%" in md
    )
    assert "²" not in md and "⚠" not in md
    assert "budgets are over the report's 30d (the SLO window)" in md
    assert "Evaluated at 2025-03-31 00:00 UTC on https://prometheus.example/api/prom." in md


def test_markdown_flags_an_approximate_verdict_and_a_short_history(svc: ServiceConfig) -> None:
    custom = svc.model_copy(
        update={"slo": svc.slo.model_copy(update={"latency_p50_seconds": 0.06})}
    )
    md = _report(custom, _figures(data_since=END - 10 * DAY)).to_markdown()
    assert (
        "| API p50 latency | < 60 ms | 58.3 ms¹ (bucket 50 to 75 ms) | ✅ met² | n/a² | n/a² |"
        in md
    )
    assert "² The target is not a bucket bound" in md
    assert (
        "⚠ Data for `agenzia-ai-api` starts 2025-03-21 00:00 UTC: the figures cover about 10d" in md
    )


def test_json_shape(svc: ServiceConfig) -> None:
    data = json.loads(_report(svc, _figures()).to_json())
    assert set(data) == {
        "stack", "prometheus", "start", "end", "range_seconds", "met", "services", "notes",
    }  # fmt: skip
    (service,) = data["services"]
    assert service["covers_range"] is True and service["data_since"] == "2025-03-01T01:00:00Z"
    p95 = service["rows"][2]
    assert p95["bucket"] == {"lower": 0.1, "upper": 0.2} and p95["interpolated"] is True
    assert p95["target"] == {
        "comparison": "<", "value": 0.2, "unit": "seconds",
        "source": "slo.latency_threshold_seconds",
    }  # fmt: skip
    assert set(p95["budget"]) == {
        "unit", "allowed", "consumed", "remaining", "consumed_ratio", "remaining_ratio",
    }  # fmt: skip
    slow = ((0.05, 3_000.0), (0.075, 6_000.0), (0.1, 8_500.0), (0.2, 9_400.0), (math.inf, 1e4))
    high = json.loads(_report(svc, _figures(buckets=slow)).to_json())
    assert high["services"][0]["rows"][2]["bucket"]["upper"] == "+Inf"


# --------------------------------------------------------------------------- the command


def test_parse_end() -> None:
    assert parse_end("now", now=END + 59.9) == END
    assert parse_end(str(END)) == END
    assert parse_end("2025-03-31T00:00:00Z") == END
    assert parse_end("2025-03-31T00:00:00") == END
    with pytest.raises(ValueError, match="is not a time"):
        parse_end("yesterday")


def test_the_report_shows_no_query_string() -> None:
    assert shown_url("https://p.example/api/prom/?api_key=x#y") == "https://p.example/api/prom"


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="monitoring")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "monitoring sla: give --prometheus URL (or export PROMETHEUS_URL)"),
        (["--prometheus", "ftp://x"], "monitoring sla: 'ftp://x' is not an http(s) URL"),
        (["--prometheus", "http://u:pw@h"], "monitoring sla: put no credentials in the URL"),
        (["--prometheus", "ftp://u:pw@h"], "monitoring sla: put no credentials in the URL"),
        (["--prometheus", "http://[::1"], "monitoring sla: --prometheus is not a URL"),
        (["--prometheus", "http://h", "--range", "3x"], "monitoring sla: '3x' is not a duration"),
        (
            ["--prometheus", "http://h", "--range", "30s"],
            "monitoring sla: --range 30s is too short",
        ),
        (
            ["--prometheus", "http://h", "--end", "soon"],
            "monitoring sla: --end 'soon' is not a time",
        ),
    ],
)
def test_bad_arguments_are_one_line(
    argv: list[str],
    says: str,
    repo_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(repo_root)
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    assert _cli(["sla", *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(says), err
    assert "pw" not in err[0]


def test_an_unknown_stack_is_one_config_error(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo_root)
    assert _cli(["sla", "--prometheus", "http://h", "--stack", "nope"]) == 2
    assert "Pulumi.nope.yaml" in capsys.readouterr().err

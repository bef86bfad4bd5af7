"""Backtest parts without a server: alert state semantics, inlining, the HTTP client (over
httpx's mock transport) and the CLI's argument errors. tests/review/test_backtest_prometheus.py
proves the same parts against a real Prometheus and promtool."""

from __future__ import annotations

import argparse
import json

import httpx
import promql_parser
import pytest

from infra.prometheus_api import PrometheusClient, PrometheusError
from infra.providers.http import RetryPolicy
from infra.review.backtest import BacktestError, alert_rules, backtest, select
from infra.review.backtest_cli import parse_end, register
from infra.review.backtest_eval import episodes, firing
from infra.review.promql_inline import InlineError, RecordingRule, first_comparison, inline

T = [float(30 * i) for i in range(12)]


def test_an_alert_fires_once_it_has_been_returned_for_its_whole_for() -> None:
    present = [False, True, True, True, True, False, True, False, False, False, False, False]
    assert firing(present, T, hold=60, keep=0) == [
        False, False, False, True, True, False, False, False, False, False, False, False,
    ]  # fmt: skip
    # No `for`: fires at the first evaluation that returns it.
    assert firing(present, T, hold=0, keep=0)[:3] == [False, True, True]


def test_keep_firing_for_holds_a_firing_alert_and_resets_when_it_returns() -> None:
    present = [True, True, False, False, True, False, False, False, False, False, False, False]
    got = firing(present, T, hold=30, keep=60)
    # fires at 30s; missing from 60s: kept at 60s and 90s (< 60s since), back at 120s; missing
    # from 150s: kept at 150s and 180s, resolved at 210s.
    assert got == [False, True, True, True, True, True, True, False, False, False, False, False]
    # A pending alert is not kept.
    assert firing([True, False, True], T[:3], hold=60, keep=600) == [False, False, False]


def test_episodes_start_with_the_state_built_before_the_range() -> None:
    labels = (("alertname", "A"),)
    found = episodes({labels: T[2:8]}, T, hold=60, keep=0, report_from=150, step=30)
    # Active from 60s, firing from 120s; reported from 150s, ended at 240s.
    assert [(e.start, e.end) for e in found] == [(150, 240)]


RULES = [
    RecordingRule("job:r", 'sum by (job) (rate(x{job="a"}[5m]))', interval=30),
    RecordingRule("job:r2", "job:r * 2", {"tier": "$1"}, 30),
]


def test_inlining_replaces_recorded_series_recursively_with_their_identity() -> None:
    text = inline('job:r2{tier="$1"} > 1', RULES)
    assert "job:r" not in text.replace('"job:r"', "").replace('"job:r2"', "")
    assert 'label_replace(vector(1), "tier", "$$1", "", "")' in text  # `$` is literal
    assert '"__name__"' in text and '"job:r2"' in text
    assert inline("rate(x[5m]) > 1", RULES) == "rate(x[5m]) > 1"


def test_absent_of_a_recorded_series_keeps_its_equality_labels() -> None:
    tree = promql_parser.parse(inline('absent(job:r{job="a", env=~"p.*"})', RULES))
    assert isinstance(tree, promql_parser.Call) and tree.func.name == "label_replace"
    assert [a.val for a in tree.args[1:]] == ["job", "a", "", ""]
    assert tree.args[0].func.name == "absent"
    ranged = inline("max_over_time(job:r[1h] offset 5m) > 1", RULES)
    assert "[1h:30s] offset 5m" in ranged


def test_inlining_refuses_what_it_cannot_do_exactly() -> None:
    with pytest.raises(InlineError, match="offset or @ on a recorded series"):
        inline("job:r offset 5m", RULES)
    with pytest.raises(InlineError, match="cycle: job:a"):
        inline("job:a", [RecordingRule("job:a", "job:b"), RecordingRule("job:b", "job:a + 1")])
    with pytest.raises(InlineError, match="cannot parse"):
        inline("sum(", RULES)


def test_first_comparison_is_what_a_plot_shows() -> None:
    c = first_comparison("(a > (14.4 * 0.001) and b > 1) or c")
    assert c is not None and (c.value, c.op) == ("a", ">") and c.threshold == pytest.approx(0.0144)
    c = first_comparison("0.8 > hit_rate")
    assert c is not None and (c.value, c.op, c.threshold) == ("hit_rate", "<", 0.8)
    assert first_comparison("vector(1)") is None


def _groups(threshold: str, extra: dict[str, str] | None = None) -> list[dict[str, object]]:
    rule = {"alert": "A", "expr": f"job:r > {threshold}", "for": "1m", **(extra or {})}
    return [{"name": "g", "interval": "30s", "rules": [{"record": "job:r", "expr": "up"}, rule]}]


def test_only_changed_alerts_are_selected_unless_named() -> None:
    base, same = alert_rules(_groups("1")), alert_rules(_groups("1"))
    assert select(base, same, []) == []
    assert select(base, alert_rules(_groups("2")), []) == ["A"]
    assert select(base, alert_rules(_groups("1", {"keep_firing_for": "5m"})), []) == ["A"]
    assert select(base, same, ["A"]) == ["A"]
    with pytest.raises(BacktestError, match="no alert named B in either revision; alerts: A"):
        select(base, same, ["B"])


def _prometheus(handler: httpx.MockTransport | None = None, **env: str) -> PrometheusClient:
    return PrometheusClient(
        "http://prom.test:9090/",
        env=env,
        transport=handler,
        policy=RetryPolicy(max_attempts=1, timeout=1),
    )


def _matrix(request: httpx.Request) -> httpx.Response:
    form = dict(httpx.QueryParams(request.content.decode()))
    start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
    values = [[start + i * step, "1"] for i in range(int((end - start) / step) + 1)]
    result = [{"metric": {"job": "a"}, "values": values}]
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})  # fmt: skip


def test_query_range_splits_under_the_points_limit_and_merges() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _matrix(request)

    client = _prometheus(httpx.MockTransport(handler), PROMETHEUS_TOKEN="tok")
    client.max_points = 100
    chunks: list[tuple[int, int]] = []
    series = client.query_range("up", 0, 30 * 249, 30, on_chunk=lambda d, t: chunks.append((d, t)))
    assert chunks == [(1, 3), (2, 3), (3, 3)] and client.queries_sent == 3
    assert len(series) == 1 and [t for t, _ in series[0].points] == [30.0 * i for i in range(250)]
    assert seen[0].headers["Authorization"] == "Bearer tok"
    assert seen[0].url.path == "/api/v1/query_range" and seen[0].method == "POST"


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"status": "error", "error": "no"}, "auth refused by http://prom.test:9090 (HTTP 401): set PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD (basic) or PROMETHEUS_TOKEN (bearer)"),
        (403, "denied for s3cret-pass", "auth refused"),
        (400, {"status": "error", "errorType": "bad_data", "error": '1:5: parse error: unexpected "("'}, 'the server rejects the expression: 1:5: parse error: unexpected "("'),
        (422, {"status": "error", "errorType": "execution", "error": "too many samples"}, "the server rejects the expression: too many samples"),
        (503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}, "query timeout on the server"),
    ],
)  # fmt: skip
def test_errors_are_one_line_without_the_password(status: int, body: object, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"].startswith("Basic ")
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    client = _prometheus(
        httpx.MockTransport(handler), PROMETHEUS_USERNAME="123", PROMETHEUS_PASSWORD="s3cret-pass"
    )
    with pytest.raises(PrometheusError) as info:
        client.query_range("up", 0, 60, 30)
    assert str(info.value).startswith(message)
    assert "s3cret-pass" not in str(info.value) and "\n" not in str(info.value)


def test_timeouts_and_unreachable_servers_are_named() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(PrometheusError, match=r"^query timeout: http://prom.test:9090 did not"):
        _prometheus(httpx.MockTransport(slow)).query("up", 0)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(PrometheusError, match=r"^cannot reach http://prom.test:9090: "):
        _prometheus(httpx.MockTransport(down)).query("up", 0)
    with pytest.raises(PrometheusError, match="put no credentials in the URL"):
        PrometheusClient("http://u:p@prom.test")
    with pytest.raises(
        PrometheusError, match="set both PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD"
    ):
        _prometheus(None, PROMETHEUS_USERNAME="u")


def test_backtest_reports_episodes_and_the_receivers_they_reach() -> None:
    client = _prometheus(httpx.MockTransport(_matrix))
    groups = _groups("1", {"labels": {"severity": "critical"}})  # type: ignore[dict-item]
    report = backtest(
        _groups("5"), groups, client=client, start=3600, end=7200,
        receivers_base=lambda labels: ("slack",),
        receivers_head=lambda labels: ("pager",) if labels.get("severity") == "critical" else (),
    )  # fmt: skip
    (alert,) = report.alerts
    assert alert.head is not None and alert.base is not None
    assert [(e.start, e.end) for e in alert.head.episodes] == [(3600, 7200)]
    assert alert.head.receivers == ("pager",) and alert.base.receivers == ("slack",)
    table = report.to_markdown()
    assert (
        "| `A` | 1 | 1970-01-01 01:00 UTC | 1h | 1h | slack | 1 | 1970-01-01 01:00 UTC | 1h | 1h | pager |"
        in table
    )
    assert json.loads(report.to_json())["alerts"][0]["head"]["episodes"][0]["labels"] == {
        "alertname": "A", "job": "a", "severity": "critical",
    }  # fmt: skip


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="monitoring")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--prometheus", "http://x"], "give --base REF (compare the changed alerts with the working tree) or --alert NAME"),
        (["--alert", "A"], "give --prometheus URL (or export PROMETHEUS_URL)"),
        (["--alert", "A", "--prometheus", "http://x", "--range", "7 days"], "'7 days' is not a duration"),
        (["--alert", "A", "--prometheus", "http://x", "--end", "yesterday"], "--end 'yesterday' is not a time"),
    ],
)  # fmt: skip
def test_cli_argument_errors_are_one_line_exit_2(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    assert _cli(["backtest", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("monitoring backtest: ") and message in err


def test_end_accepts_now_unix_and_iso_times() -> None:
    assert parse_end("now", now=100.7) == 100
    assert parse_end("1736121600") == 1736121600
    assert parse_end("2025-01-06T00:00:00Z") == parse_end("2025-01-06T00:00:00") == 1736121600


def test_a_url_with_credentials_is_refused_without_echoing_them() -> None:
    for url in (
        "ftp://reader:hunter2-DO-NOT-LEAK@prom.example",
        "http://u:hunter2-DO-NOT-LEAK@h:9090",
    ):
        with pytest.raises(PrometheusError) as refused:
            PrometheusClient(url)
        assert "hunter2" not in str(refused.value) and "no credentials" in str(refused.value)

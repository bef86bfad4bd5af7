"""The backtest against a real Prometheus (Debian's 2.42) serving a backfilled week, checked
against what ``promtool test rules`` computes from the same input series for the same rules.

One scenario (tests/review/scenario.py) is written twice: as OpenMetrics, backfilled with
``promtool tsdb create-blocks-from openmetrics`` into the TSDB the server reads, and as the
``input_series`` of a promtool test. promtool then evaluates the rules for real (recording rules
included, every group every 30s, as the groups' ``interval`` says) and writes ``ALERTS``; the
test asserts, at every evaluation from the range's start to its end (20,040 instants a week,
finer than minute for minute), that ``ALERTS{alertstate="firing"}`` is exactly the set of
label sets the backtest reports firing there. The same file asserts that every recorded series
(and selectors with ``=``, ``!=``, ``=~`` matchers and ``absent``) equals, value for value, its
inlined expression evaluated by the live server.

The range starts an hour after the history does: the backtest builds up each alert's state
from ``for`` + ``keep_firing_for`` before the range, where this history has no data yet.

The head revision is production plus ``keep_firing_for`` on RedisUnavailable and a fixture
group (nested recording rules with ``labels:``, regex and negative matchers, ``absent`` of a
recorded series); the base revision reads no ``job:http_request_errors:ratio_rate5m`` (head's
ApiHighErrorRate does: the backtest must inline it) and has other thresholds.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import PIL.Image
import promql_parser
import pytest
import yaml

from infra.local import procs
from infra.prometheus_api import PrometheusClient
from infra.review.backtest import alert_rules, backtest, backtest_markdown, load_revision
from infra.review.backtest_cli import register
from infra.review.backtest_report import BacktestReport
from infra.review.promql_inline import RecordingRule, inline
from tests.review.prometheus_backfill import (
    PROMTOOL,
    backfill,
    blocks,
    start_prometheus,
    tools_missing,
)
from tests.review.scenario import T0, WEEK, production_series, promtool_series

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
START, END, STEP = T0 + 3600, T0 + WEEK * 60, 30
RAW_ERROR_RATIO = (
    'sum by (job) (rate(http_requests_total{job="agenzia-ai-api", status=~"5.."}[5m]))\n/\n'
    'sum by (job) (rate(http_requests_total{job="agenzia-ai-api"}[5m]))'
)
FIXTURE_GROUP: dict[str, Any] = {
    "name": "backtest-fixture",
    "interval": "30s",
    "rules": [
        {
            "record": "job_channel:messages_failed:rate5m",
            "expr": "sum by (job, channel) (rate(messages_failed_total[5m]))",
        },
        {
            "record": "job_channel:messages_failed:ratio5m",
            "expr": "job_channel:messages_failed:rate5m / on (job, channel) "
            "(sum by (job, channel) (rate(messages_sent_total[5m])) "
            "+ job_channel:messages_failed:rate5m)",
            "labels": {"team": "messaging"},
        },
        {
            "alert": "MessageFailuresByChannel",
            "expr": 'job_channel:messages_failed:ratio5m{channel=~"sms|whats.*", '
            'job!="other", team="messaging"} > 0.08',
            "for": "5m",
            "keep_firing_for": "2m",
            "labels": {"severity": "warning"},
        },
        {
            "alert": "NoFaxFailuresRecorded",
            "expr": 'absent(job_channel:messages_failed:rate5m{channel="fax", job="agenzia-ai-api"})',
            "for": "1m",
            "labels": {"severity": "info"},
        },
    ],
}
# Selectors whose stored values (promtool) must equal their inlined expression (live server).
SELECTORS = (
    'job_channel:messages_failed:ratio5m{channel=~"sms|whats.*", job!="other"}',
    'job_channel:messages_failed:rate5m{channel!="sms"}',
    'job_channel:messages_failed:rate5m{channel!~"wh.*"}',
    'absent(job_channel:messages_failed:rate5m{channel="fax", job="agenzia-ai-api"})',
)
RECEIVERS = {"critical": ("email-oncall", "pagerduty-oncall"), "warning": ("slack-alerts",)}


def stub_receivers(labels: Mapping[str, str]) -> tuple[str, ...]:
    return RECEIVERS.get(labels.get("severity", ""), ("heartbeat",))


def _rule(groups: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for g in groups for r in g["rules"] if r.get("alert", r.get("record")) == name)


def head_groups() -> list[dict[str, Any]]:
    groups = copy.deepcopy(load_revision(ROOT, None, "production").groups)
    _rule(groups, "RedisUnavailable")["keep_firing_for"] = "5m"
    return [*groups, copy.deepcopy(FIXTURE_GROUP)]


def base_groups() -> list[dict[str, Any]]:
    groups = copy.deepcopy(load_revision(ROOT, None, "production").groups)
    for g in groups:
        g["rules"] = [
            r for r in g["rules"] if r.get("record") != "job:http_request_errors:ratio_rate5m"
        ]
    _rule(groups, "ApiHighErrorRate").update({"expr": f"{RAW_ERROR_RATIO} > 0.02", "for": "10m"})
    cache = _rule(groups, "CacheHitRateLow")
    cache["expr"] = cache["expr"].replace("< 0.8", "< 0.5")
    return groups


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if missing := tools_missing():
        pytest.fail(missing)  # fail, not skip: the test command includes this suite
    folder = tmp_path_factory.mktemp("backtest-prometheus")
    tsdb = backfill(production_series(), WEEK, folder)
    written = blocks(tsdb)
    record = start_prometheus(tsdb, folder)
    try:
        yield record.url
    finally:
        procs.stop(record)
    assert blocks(tsdb) == written, "Prometheus compacted or deleted the backfilled blocks"


def _names(groups: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({r.alertname for r in alert_rules(groups).values()})


def _firing_at(reports: Sequence[BacktestReport]) -> dict[float, list[dict[str, str]]]:
    """Every evaluation of the range → the label sets of ALERTS{alertstate="firing"}."""
    at: dict[float, list[dict[str, str]]] = {t: [] for t in range(START, END, STEP)}
    for report in reports:
        for alert in report.alerts:
            assert alert.head is not None
            for e in alert.head.episodes:
                for t in range(int(e.start), int(e.end), STEP):
                    at[t].append({**dict(e.labels), "alertstate": "firing"})
    return at


def _series(labels: Mapping[str, str], name: str = "ALERTS") -> str:
    inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()) if k != "__name__")
    return f"{labels.get('__name__', name)}{{{inner}}}"


def _promtool_file(
    folder: Path, groups: list[dict[str, Any]], reports: Sequence[BacktestReport],
    values: Sequence[dict[str, Any]] = (),
) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    alertnames = "|".join(_names(groups))
    checks = [
        {
            "expr": f'ALERTS{{alertstate="firing", alertname=~"{alertnames}"}}',
            "eval_time": f"{t - T0}s",
            "exp_samples": [{"labels": _series(s), "value": 1} for s in firing],
        }
        for t, firing in sorted(_firing_at(reports).items())
    ]
    doc = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": f"{STEP}s",
        "tests": [
            {
                "interval": "1m",
                "input_series": promtool_series(production_series(), WEEK),
                "promql_expr_test": [*checks, *values],
            }
        ],
    }
    path = folder / "backtest.test.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1000))
    return path


def _recorded_value_checks(url: str, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """promtool checks: each recorded series (and SELECTORS) as stored by the rule evaluation
    == its inlined expression, as the live server evaluates it, at sampled evaluations."""
    rules = [
        RecordingRule(r["record"], r["expr"], r.get("labels") or {}, 30)
        for g in groups for r in g["rules"] if "record" in r
    ]  # fmt: skip
    exprs = sorted({r.record for r in rules}) + list(SELECTORS)
    incidents = (9 * 60 + 20, 3 * 1440 + 13 * 60 + 30, 4 * 1440 + 2 * 60 + 20)
    minutes = sorted({*range(61, WEEK, 6 * 60 + 7), *incidents})
    checks = []
    with PrometheusClient(url) as client:
        for expr in exprs:
            inlined = inline(expr, rules)
            for m in minutes:
                got = client.query(inlined, T0 + 60 * m)
                checks.append({
                    "expr": expr,
                    "eval_time": f"{m}m",
                    "exp_samples": [
                        {"labels": _series(s.labels, name="") or "{}", "value": s.points[0][1]}
                        for s in got
                    ],
                })  # fmt: skip
    return checks


def _run_promtool(paths: Sequence[Path]) -> None:
    runs = [
        subprocess.Popen(
            [PROMTOOL, "test", "rules", p.name],
            cwd=p.parent,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for p in paths
    ]
    failures = []
    for path, run in zip(paths, runs, strict=True):
        out, _ = run.communicate(timeout=1200)
        if run.returncode != 0:
            failures.append(f"{path}:\n{out[:4000]}")
    assert not failures, "\n".join(failures)


def test_firing_equals_promtool_alerts_at_every_evaluation(prometheus: str, tmp_path: Path) -> None:
    head = head_groups()
    changed_groups = {"agenzia-ai-api.api-availability.rules", "agenzia-ai-api.cache.rules",
                      "agenzia-ai-api.dependencies.rules"}  # fmt: skip
    base = [g for g in base_groups() if g["name"] in changed_groups]
    with PrometheusClient(prometheus) as client:
        head_report = backtest(None, head, client=client, start=START, end=END, alerts=_names(head))
        base_report = backtest(None, base, client=client, start=START, end=END, alerts=_names(base))
    # Every production alert and the fixture's fire at least once: nothing passes vacuously.
    fired = {a.key.split(" ")[0] for a in head_report.alerts if a.head and a.head.episodes}
    assert fired == set(_names(head))
    values = _recorded_value_checks(prometheus, head)
    _run_promtool([
        _promtool_file(tmp_path / "head", head, [head_report], values),
        _promtool_file(tmp_path / "base", base, [base_report]),
    ])  # fmt: skip


def _selected(expr: str) -> set[str]:
    """Metric names the expression selects (``vector`` for ``vector(…)``)."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name or "?")
        elif isinstance(node, promql_parser.Call) and node.func.name == "vector":
            names.add("vector")

    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return names


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _write_revision(repo: Path, groups: list[dict[str, Any]]) -> None:
    folder = repo / "alert_rules" / "production"
    for old in folder.glob("*.rules.yml"):
        old.unlink()
    for i, g in enumerate(groups):
        (folder / f"{i:02d}.rules.yml").write_text(yaml.safe_dump({"groups": [g]}, sort_keys=False))


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="monitoring")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose last commit is the base revision and whose working tree is head."""
    repo = tmp_path / "repo"
    (repo / "alert_rules" / "production").mkdir(parents=True)
    (repo / "Pulumi.yaml").write_text("name: fixture\nruntime: python\n")
    am = (ROOT / "alert_rules" / "production" / "alertmanager.yml").read_text()
    (repo / "alert_rules" / "production" / "alertmanager.yml").write_text(am)
    _write_revision(repo, base_groups())
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    _write_revision(repo, head_groups())
    monkeypatch.chdir(repo)
    return repo


def test_cli_replays_the_changed_alerts_of_two_revisions_and_plots_them(
    prometheus: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plots = tmp_path / "plots"
    argv = ["backtest", "--prometheus", prometheus, "--base", "HEAD", "--range", "6d23h",
            "--end", str(END), "--format", "json", "--plot", str(plots)]  # fmt: skip
    assert _cli(argv) == 0
    out = json.loads(capsys.readouterr().out)
    by_key = {a["alert"]: a for a in out["alerts"]}
    assert set(by_key) == {
        "ApiHighErrorRate", "CacheHitRateLow", "RedisUnavailable",
        "MessageFailuresByChannel", "NoFaxFailuresRecorded",
    }  # fmt: skip
    high = by_key["ApiHighErrorRate"]
    # Inlined: the query reads only raw series, since the recorded one has no history.
    assert _selected(high["head"]["expr"]) == {"http_requests_total", "vector"}
    assert len(high["base"]["episodes"]) == 1 and len(high["head"]["episodes"]) == 2
    assert high["head"]["receivers"] == ["email-oncall", "pagerduty-oncall"]  # alertmanager.yml
    assert by_key["CacheHitRateLow"]["base"]["episodes"] == []
    assert by_key["CacheHitRateLow"]["base"]["receivers"] == []
    assert by_key["CacheHitRateLow"]["head"]["receivers"] == ["slack-alerts"]
    assert by_key["NoFaxFailuresRecorded"]["base"] is None
    # keep_firing_for 5m merges the flapping Redis into one episode at head.
    redis = by_key["RedisUnavailable"]
    assert len(redis["base"]["episodes"]) == 4 and len(redis["head"]["episodes"]) == 2
    for key in by_key:
        png = plots / (key + ".png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", key
        with PIL.Image.open(png) as picture:  # decodes: a valid PNG, of the size drawn
            picture.load()
            assert picture.size == (1100, 450), key
    assert _cli([*argv[:-4], "--format", "markdown"]) == 0
    table = capsys.readouterr().out
    assert (
        "| `ApiHighErrorRate` | 1 | 2025-01-06 09:13 UTC | 18m30s | 18m30s | email-oncall, pagerduty-oncall | 2 |"
        in table
    )
    # What `monitoring diff --prometheus` embeds: the same table.
    assert (
        backtest_markdown(
            repo, "HEAD", None, "production", prometheus, [], range_seconds=END - START, end=END
        )
        == table
    )


def test_server_errors_are_one_line(
    prometheus: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = head_groups()
    groups[-1]["rules"].append(
        {"alert": "Broken", "expr": 'label_replace(up, "1-bad", "x", "", "")', "for": "1m"}
    )
    _write_revision(repo, groups)
    base = ["backtest", "--range", "1h", "--end", str(END), "--alert"]
    assert _cli([*base, "Broken", "--prometheus", prometheus]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("monitoring backtest: the server rejects the expression: ")
    assert "1-bad" in err
    port = procs.free_port()
    assert _cli([*base, "Watchdog", "--prometheus", f"http://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"monitoring backtest: cannot reach http://127.0.0.1:{port}")

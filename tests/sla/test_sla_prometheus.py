"""``monitoring sla`` against a real Prometheus (Debian's 2.42) serving 30 backfilled days
whose uptime, error rate and percentiles are known by construction (tests/sla/traffic.py).

Two months in one TSDB, each under its own job: the healthy one through the production stack
file, the degraded one through a copy whose service reads the other job. Every figure is
checked against the truth computed from the traffic's definition: uptime and downtime to the
scrape (the minute), the error rate exactly, each percentile's bucket bounds exactly and its
interpolated value inside them (equal to Prometheus' linear interpolation), every budget, every
verdict and the exit code. Errors (unreachable, auth refused, an expression rejected, no data)
end as one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.config import load_stack
from infra.local import procs
from infra.sla_cli import register
from tests.review.prometheus_backfill import blocks, start_prometheus, tools_missing
from tests.sla.traffic import (
    DEGRADED,
    DEGRADED_JOB,
    END,
    HEALTHY,
    MONTHS,
    T0,
    Truth,
    backfill,
    truth,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = load_stack("production", ROOT)
SVC = PRODUCTION.services[0]
BOUNDS = SVC.latency_buckets
DAY = 86_400


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if missing := tools_missing():
        pytest.fail(missing)  # fail, not skip: the test command includes this suite
    folder = tmp_path_factory.mktemp("sla-prometheus")
    tsdb = backfill(MONTHS, BOUNDS, folder)
    written = blocks(tsdb)
    record = start_prometheus(tsdb, folder)
    try:
        yield record.url
    finally:
        procs.stop(record)
    assert blocks(tsdb) == written, "Prometheus compacted or deleted the backfilled blocks"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the production stack file and ``degraded``: the same with the service
    reading the degraded month's job."""
    (tmp_path / "Pulumi.yaml").write_text("name: fixture\nruntime: python\n")
    text = (ROOT / "Pulumi.production.yaml").read_text()
    (tmp_path / "Pulumi.production.yaml").write_text(text)
    service = "    - name: agenzia-ai-api\n"
    assert service in text
    degraded = text.replace(service, f"{service}      job: {DEGRADED_JOB}\n")
    (tmp_path / "Pulumi.degraded.yaml").write_text(degraded)
    for var in ("PROMETHEUS_URL", "PROMETHEUS_USERNAME", "PROMETHEUS_PASSWORD", "PROMETHEUS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="monitoring")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def _report(
    url: str, stack: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = _cli(["sla", "--prometheus", url, "--stack", stack, "--end", str(END),
                 "--format", "json", *extra])  # fmt: skip
    out = capsys.readouterr()
    assert out.err == ""
    return code, json.loads(out.out)


def _rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (service,) = report["services"]
    return {r["key"]: r for r in service["rows"]}


def _check_figures(rows: dict[str, dict[str, Any]], t: Truth) -> None:
    # Uptime: exact to the scrape (one a minute), downtime to the minute.
    up = rows["uptime"]
    assert up["detail"]["scrapes"] == 43_200
    assert up["detail"]["scrapes_up"] == 43_200 - t.down_minutes
    assert up["current"] == pytest.approx(float(t.uptime), abs=1e-15)
    assert up["detail"]["downtime_seconds"] == t.down_minutes * 60
    assert up["budget"] == {
        "unit": "seconds",
        "allowed": 2592.0,  # 0.1% of 30 days: 43m12s
        "consumed": t.down_minutes * 60,
        "remaining": 2592.0 - t.down_minutes * 60,
        "consumed_ratio": pytest.approx(t.down_minutes * 60 / 2592),
        "remaining_ratio": pytest.approx(1 - t.down_minutes * 60 / 2592),
    }
    # Error rate: exact.
    err = rows["error_rate"]
    assert err["detail"] == {"requests": t.requests, "errors": t.errors}
    assert err["current"] == pytest.approx(float(t.error_ratio), rel=1e-12)
    assert err["budget"]["allowed"] == pytest.approx(t.requests / 1000, rel=1e-12)
    assert err["budget"]["consumed"] == t.errors
    # Percentiles: the bucket exactly, the interpolated value inside it.
    for key, q, target in (("latency_p50", 0.5, 0.1), ("latency_p95", 0.95, 0.2)):
        row = rows[key]
        lower, upper = t.bucket_of(q)
        assert (row["bucket"]["lower"], row["bucket"]["upper"]) == (lower, upper), key
        assert lower < row["current"] <= upper, key
        assert row["current"] == pytest.approx(t.interpolate(q), rel=1e-12), key
        assert row["interpolated"] is True and row["exact"] is True
        assert row["target"] == {
            "comparison": "<",
            "value": target,
            "unit": "seconds",
            "source": "slo.latency_p50_seconds" if q == 0.5 else "slo.latency_threshold_seconds",
        }
        assert row["detail"]["slower_than_target"] == t.slower_than(target), key
        assert row["budget"]["allowed"] == pytest.approx((1 - q) * t.requests, rel=1e-12), key


def test_a_healthy_month_meets_every_target(
    prometheus: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = truth(HEALTHY, BOUNDS)
    # What the traffic was built to be, so that a change to it cannot pass unnoticed.
    assert (t.down_minutes, t.errors, t.requests) == (21, 46_149, 86_358_000)
    assert (t.bucket_of(0.5), t.bucket_of(0.95)) == ((0.05, 0.075), (0.1, 0.2))
    code, report = _report(prometheus, "production", capsys)
    assert code == 0
    assert report["met"] is True
    assert (report["start"], report["end"]) == ("2025-03-01T00:00:00Z", "2025-03-31T00:00:00Z")
    assert report["range_seconds"] == 30 * DAY
    rows = _rows(report)
    assert list(rows) == ["uptime", "latency_p50", "latency_p95", "error_rate"]
    _check_figures(rows, t)
    assert {k: r["verdict"] for k, r in rows.items()} == dict.fromkeys(rows, "met")
    assert report["services"][0]["covers_range"] is True


def test_a_degraded_month_misses_three_targets_and_exits_1(
    prometheus: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = truth(DEGRADED, BOUNDS)
    assert (t.down_minutes, float(t.error_ratio)) == (50, 0.002)
    assert (t.bucket_of(0.5), t.bucket_of(0.95)) == ((0.075, 0.1), (0.2, 0.25))
    code, report = _report(prometheus, "degraded", capsys)
    assert code == 1
    assert report["met"] is False
    assert report["services"][0]["job"] == DEGRADED_JOB
    rows = _rows(report)
    _check_figures(rows, t)
    assert {k: r["verdict"] for k, r in rows.items()} == {
        "uptime": "missed",
        "latency_p50": "met",
        "latency_p95": "missed",
        "error_rate": "missed",
    }
    assert rows["uptime"]["budget"]["remaining"] == 2592 - 3000  # 6m48s overspent
    assert rows["error_rate"]["budget"]["consumed_ratio"] == pytest.approx(2.0)


def test_the_markdown_fills_the_seed_table(
    prometheus: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["sla", "--prometheus", prometheus, "--end", str(END)]
    assert _cli([*base, "--stack", "production"]) == 0
    healthy = capsys.readouterr().out
    assert healthy.startswith(
        "## SLA report: production, last 30d (2025-03-01 00:00 UTC → 2025-03-31 00:00 UTC)\n"
    )
    table = [line for line in healthy.splitlines() if line.startswith("| ")]
    assert table == [
        "| Metric | Target | Current | Verdict | Error budget consumed | Remaining |",
        "| Uptime | ≥ 99.9% | 99.951% (21m down) | ✅ met | 48.6% (21m of 43m12s) "
        "| 51.4% (22m12s) |",
        "| API p50 latency | < 100 ms | 61.22 ms¹ (bucket 50 to 75 ms) | ✅ met "
        "| 31.1% (15.6% of requests > 100 ms; 50% allowed) | 68.9% |",
        "| API p95 latency | < 200 ms | 184.4 ms¹ (bucket 100 to 200 ms) | ✅ met "
        "| 61.1% (3.06% of requests > 200 ms; 5% allowed) | 38.9% |",
        "| Error rate | < 0.1% | 0.0534% (46,149 of 86,358,000) | ✅ met "
        "| 53.4% (46,149 of 86,358 errors allowed) | 46.6% (40,209 errors) |",
    ]
    assert "**All 4 targets met.**" in healthy
    assert "interpolates linearly inside the histogram bucket" in healthy
    assert "<details><summary>PromQL</summary>" in healthy
    assert _cli([*base, "--stack", "degraded"]) == 1
    degraded = capsys.readouterr().out
    assert "**Missed 3 of 4 targets: Uptime, API p95 latency, Error rate.**" in degraded
    assert (
        "| Uptime | ≥ 99.9% | 99.884% (50m down) | ❌ missed | 115.7% (50m of 43m12s) "
        "| -15.7% (-6m48s) (overspent) |"
    ) in degraded
    assert "| API p95 latency | < 200 ms | 243.3 ms¹ (bucket 200 to 250 ms) | ❌ missed" in degraded


def test_a_range_longer_than_the_data_says_so(
    prometheus: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _report(prometheus, "production", capsys, "--range", "35d")
    assert code == 0
    service = report["services"][0]
    assert service["covers_range"] is False
    assert service["data_since"] == "2025-03-01T01:00:00Z"  # first hourly step with an `up`
    assert _cli(["sla", "--prometheus", prometheus, "--end", str(END), "--range", "35d"]) == 0
    out = capsys.readouterr().out
    assert "⚠ Data for `agenzia-ai-api` starts 2025-03-01 01:00 UTC" in out


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in out.err, out.err
    return lines[0]


def test_no_data_for_the_service_is_one_line(
    prometheus: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = str(T0 - 40 * DAY)
    assert _cli(["sla", "--prometheus", prometheus, "--end", before]) == 2
    line = _one_line(capsys)
    assert line.startswith("monitoring sla: no data for agenzia-ai-api: ")
    assert 'up{job="agenzia-ai-api"}' in line


def test_an_unreachable_server_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{procs.free_port()}"
    assert _cli(["sla", "--prometheus", url, "--end", str(END)]) == 2
    assert _one_line(capsys).startswith(f"monitoring sla: cannot reach {url}")


class _Stub(BaseHTTPRequestHandler):
    """Answers every query with the status and body of the server's ``answer``."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_auth_refused_and_a_rejected_expression_are_one_line_without_the_password(
    project: Path,
    stub: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    password = "glc_s3cr3t-Passw0rd"
    monkeypatch.setenv("PROMETHEUS_USERNAME", "123456")
    monkeypatch.setenv("PROMETHEUS_PASSWORD", password)
    url = f"http://127.0.0.1:{stub.server_address[1]}/api/prom"
    refused = b'{"status":"error","error":"invalid token ' + password.encode() + b'"}'
    stub.answer = (401, refused)  # type: ignore[attr-defined]
    assert _cli(["sla", "--prometheus", url]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"monitoring sla: auth refused by {url} (HTTP 401)")
    assert password not in line
    body = b'{"status":"error","errorType":"bad_data","error":"1:8: parse error: unexpected"}'
    stub.answer = (400, body)  # type: ignore[attr-defined]
    assert _cli(["sla", "--prometheus", url]) == 2
    line = _one_line(capsys)
    assert line == "monitoring sla: the server rejects the expression: 1:8: parse error: unexpected"

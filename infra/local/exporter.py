"""The demo exporter: every series of DESIGN.md's metric table, driven by a scenario.

Run as its own process (``python -m infra.local.exporter --port N``). Counters advance with
wall-clock time at the rates of the current :class:`~infra.local.scenarios.Traffic`, without
randomness, so that ratios are exact and alerts fire for the scenario's reason only.
``POST /scenario`` with ``{"scenario": NAME}`` switches it at runtime.
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from infra.config.types import format_le as format_bucket
from infra.local.scenarios import SCENARIOS, Scenario, scenario

# Prometheus client defaults plus 0.3; the config's SLO threshold (le="0.2") and p95 alert
# threshold are added at start-up so the rules always find their bucket.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)

HANDLERS = (
    ("/api/leads", "POST", 0.3),
    ("/api/appraisals", "POST", 0.2),
    ("/api/market", "GET", 0.5),
)
CLIENT_ERROR_RATIO = 0.01  # 404s: not server errors, must not count against the SLO
MESSAGE_ATTEMPTS_PER_S = {"whatsapp": 2.0, "sms": 0.5}
BUSINESS_RATES = {
    "leads_created_total": 0.5,
    "lead_conversions_total": 0.05,
    "appraisal_requests_total": 0.1,
    "perplexity_api_calls_total": 0.3,
}
# (share, seconds) latency profiles of the dependencies; not scenario-driven.
DB_QUERY_LATENCY = ((0.9, 0.008), (0.1, 0.04))
REDIS_LATENCY = ((0.95, 0.001), (0.05, 0.004))

Labels = tuple[tuple[str, str], ...]


def format_le(bound: float) -> str:
    """``le`` label text, spelled exactly as the rules spell their bucket (``types.format_le``)."""
    return "+Inf" if math.isinf(bound) else format_bucket(bound)


class Histogram:
    """Cumulative buckets, sum and count fed with (share, seconds) profiles."""

    def __init__(self, buckets: Iterable[float]) -> None:
        self.bounds = (*sorted(set(buckets)), math.inf)
        self.counts = [0.0] * len(self.bounds)
        self.sum = 0.0
        self.count = 0.0

    def observe_many(self, total: float, profile: Sequence[tuple[float, float]]) -> None:
        for share, seconds in profile:
            n = total * share
            for i, bound in enumerate(self.bounds):
                if seconds <= bound:
                    self.counts[i] += n
            self.sum += n * seconds
            self.count += n


def _fmt_labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"


class Family:
    """One metric family in exposition format."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name, self.kind, self.help = name, kind, help_text
        self.values: dict[Labels, float] = {}
        self.histograms: dict[Labels, Histogram] = {}

    def add(self, labels: Labels, amount: float) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def set(self, labels: Labels, value: float) -> None:
        self.values[labels] = value

    def lines(self) -> list[str]:
        out = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in sorted(self.values.items()):
            out.append(f"{self.name}{_fmt_labels(labels)} {value!r}")
        for labels, hist in sorted(self.histograms.items()):
            for bound, count in zip(hist.bounds, hist.counts, strict=True):
                le = (*labels, ("le", format_le(bound)))
                out.append(f"{self.name}_bucket{_fmt_labels(le)} {count!r}")
            out.append(f"{self.name}_sum{_fmt_labels(labels)} {hist.sum!r}")
            out.append(f"{self.name}_count{_fmt_labels(labels)} {hist.count!r}")
        return out


class SimulatedService:
    """agenzia-ai-api as its /metrics would show it under the current scenario."""

    def __init__(
        self,
        storage_limit_bytes: int,
        latency_buckets: Iterable[float] = DEFAULT_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage_limit_bytes = storage_limit_bytes
        self.clock = clock
        self.lock = threading.Lock()
        self.current: Scenario = SCENARIOS["normal"]
        self.since = time.time()
        self.last = clock()
        f = self.families = {
            name: Family(name, kind, help_text)
            for name, kind, help_text in (
                ("http_requests_total", "counter", "HTTP requests by handler, method, status."),
                ("http_request_duration_seconds", "histogram", "HTTP request latency."),
                ("dependency_up", "gauge", "1 when the /ready check of a dependency passes."),
                ("db_connection_errors_total", "counter", "Failed database connections."),
                ("cache_hit_rate", "gauge", "Share of cache lookups that hit."),
                ("cache_evictions_total", "counter", "Cache evictions."),
                ("messages_sent_total", "counter", "Messages accepted by Twilio."),
                ("messages_failed_total", "counter", "Messages Twilio failed to send."),
                ("leads_created_total", "counter", "Leads created."),
                ("lead_conversions_total", "counter", "Leads converted."),
                ("appraisal_requests_total", "counter", "Appraisal requests."),
                ("perplexity_api_calls_total", "counter", "Calls to the Perplexity API."),
                ("db_query_duration_seconds", "histogram", "Supabase query latency."),
                ("redis_command_duration_seconds", "histogram", "Redis command latency."),
                ("external_api_requests_total", "counter", "External API calls by status."),
                ("supabase_database_size_bytes", "gauge", "Supabase database size."),
            )
        }
        buckets = tuple(latency_buckets)
        for handler, method, _ in HANDLERS:
            labels = (("handler", handler), ("method", method))
            f["http_request_duration_seconds"].histograms[labels] = Histogram(buckets)
            for status in ("200", "404", "500", "503"):
                f["http_requests_total"].add((*labels, ("status", status)), 0.0)
        f["db_query_duration_seconds"].histograms[()] = Histogram(DEFAULT_BUCKETS)
        f["redis_command_duration_seconds"].histograms[()] = Histogram(DEFAULT_BUCKETS)

    def switch(self, name: str) -> Scenario:
        with self.lock:
            self._advance()
            self.current = scenario(name)
            self.since = time.time()
            return self.current

    def _advance(self) -> None:
        now = self.clock()
        dt, self.last = max(0.0, now - self.last), now
        t = self.current.traffic
        f = self.families
        if t.api_up:  # a dead API serves no traffic
            for handler, method, weight in HANDLERS:
                n = t.request_rate * weight * dt
                labels = (("handler", handler), ("method", method))
                ok = n * (1 - t.error_ratio - CLIENT_ERROR_RATIO)
                f["http_requests_total"].add((*labels, ("status", "200")), ok)
                f["http_requests_total"].add((*labels, ("status", "404")), n * CLIENT_ERROR_RATIO)
                # 500 and 503 both match status=~"5..": the rules must count either.
                for status, share in (("500", 0.7), ("503", 0.3)):
                    f["http_requests_total"].add(
                        (*labels, ("status", status)), n * t.error_ratio * share
                    )
                f["http_request_duration_seconds"].histograms[labels].observe_many(n, t.latency)
            queries = t.request_rate * 0.5 * dt
            if t.database_up:
                f["db_query_duration_seconds"].histograms[()].observe_many(
                    queries, DB_QUERY_LATENCY
                )
            if t.cache_up:
                f["redis_command_duration_seconds"].histograms[()].observe_many(
                    t.request_rate * dt, REDIS_LATENCY
                )
            for channel, rate in MESSAGE_ATTEMPTS_PER_S.items():
                attempts = rate * dt
                failed = attempts * t.message_failure_ratio
                f["messages_sent_total"].add((("channel", channel),), attempts - failed)
                f["messages_failed_total"].add((("channel", channel),), failed)
                f["external_api_requests_total"].add(
                    (("api", "twilio"), ("status", "201")), attempts - failed
                )
                f["external_api_requests_total"].add((("api", "twilio"), ("status", "500")), failed)
            for api, rate in (
                ("mistral", 0.4),
                ("perplexity", BUSINESS_RATES["perplexity_api_calls_total"]),
            ):
                f["external_api_requests_total"].add((("api", api), ("status", "200")), rate * dt)
            for name, rate in BUSINESS_RATES.items():
                f[name].add((), rate * dt)
        f["db_connection_errors_total"].add((), t.db_connection_errors_per_s * dt)
        f["cache_evictions_total"].add((), t.cache_evictions_per_s * dt)
        f["dependency_up"].set((("dependency", "cache"),), float(t.cache_up))
        f["dependency_up"].set((("dependency", "database"),), float(t.database_up))
        # The seed's example labels this gauge with the cache's user, not the API.
        f["cache_hit_rate"].set((("service", "market-intelligence"),), t.cache_hit_rate)
        f["supabase_database_size_bytes"].set((), round(self.storage_limit_bytes * t.storage_ratio))

    def exposition(self) -> str | None:
        """The /metrics body, or ``None`` while the scenario has the API down."""
        with self.lock:
            self._advance()
            if not self.current.traffic.api_up:
                return None
            lines: list[str] = []
            for family in self.families.values():
                lines.extend(family.lines())
            return "\n".join(lines) + "\n"

    def describe(self) -> dict[str, object]:
        with self.lock:
            return {
                "scenario": self.current.name,
                "description": self.current.description,
                "since": self.since,
            }


def make_handler(service: SimulatedService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/metrics":
                body = service.exposition()
                if body is None:
                    self._send(503, "service unavailable (scenario api-down)\n", "text/plain")
                else:
                    self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
            elif self.path == "/scenario":
                self._send(200, json.dumps(service.describe()), "application/json")
            elif self.path == "/-/ready":
                self._send(200, "ready\n", "text/plain")
            else:
                self._send(404, "not found\n", "text/plain")

        def do_POST(self) -> None:
            if self.path != "/scenario":
                self._send(404, "not found\n", "text/plain")
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                name = json.loads(self.rfile.read(length))["scenario"]
                service.switch(str(name))
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, json.dumps({"error": str(exc)}), "application/json")
                return
            self._send(200, json.dumps(service.describe()), "application/json")

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per scrape every second would bury the useful log lines

    return Handler


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scenario", default="normal", choices=sorted(SCENARIOS))
    parser.add_argument("--storage-limit-bytes", type=int, default=8 * 1024**3)
    parser.add_argument(
        "--bucket",
        type=float,
        action="append",
        default=[],
        help="extra latency bucket (the SLO and p95 thresholds)",
    )
    args = parser.parse_args(argv)
    service = SimulatedService(args.storage_limit_bytes, (*DEFAULT_BUCKETS, *args.bucket))
    service.switch(args.scenario)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(service))
    server.serve_forever()


if __name__ == "__main__":
    main()

"""The input series of the generated promtool tests: a service's normal traffic, minute by
minute, which a fault scenario changes from some minute on.

Counters start at 0 at minute 0 and are described by their per-minute increments; gauges by
their per-minute values. ``encode`` writes them in promtool's expanding notation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from infra.config import ServiceConfig
from infra.config.types import format_le

# A normal minute of traffic (seed and issue 2): 1000 req/min, 0.05% 5xx, p95 ≈ 120 ms,
# cache hit 0.92, 0.2% message failures, all dependencies up.
REQS_OK, REQS_5XX = 999.5, 0.5
MSG_SENT, MSG_FAILED = 49.9, 0.1
CACHE_HIT = 0.92
DB_SIZE_RATIO = 0.25
# Cumulative share of requests at or below each latency (p95 ≈ 0.12 s).
NORMAL_LATENCY = ((0.05, 0.30), (0.1, 0.94), (0.2, 0.99), (0.25, 0.993), (0.5, 0.998), (1.0, 1.0))
BASE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
INSTANCE = "api-0:8000"


def cumulative(per_minute: Sequence[float]) -> list[float]:
    """A counter's samples (0 at minute 0) from its per-minute increments."""
    out, total = [0.0], 0.0
    for inc in per_minute[:-1]:
        total += inc
        out.append(total)
    return out


@dataclass
class Series:
    """One input series: per-minute values of a gauge, or per-minute increments of a counter."""

    labels: str
    per_minute: list[float]
    counter: bool

    def values(self) -> list[float]:
        return cumulative(self.per_minute) if self.counter else list(self.per_minute)


def _fmt(value: float) -> str:
    return f"{value:.12g}"


def encode(values: Sequence[float]) -> str:
    """promtool's expanding notation: runs of equal steps become ``a+bxn``."""
    parts, i = [], 0
    while i < len(values):
        j = i
        if i + 1 < len(values):
            step = values[i + 1] - values[i]
            j = i + 1
            while j + 1 < len(values) and abs((values[j + 1] - values[j]) - step) < 1e-9:
                j += 1
            sign = "+" if step >= 0 else "-"
            parts.append(f"{_fmt(values[i])}{sign}{_fmt(abs(step))}x{j - i}")
        else:
            parts.append(_fmt(values[i]))
        i = j + 1
    return " ".join(parts)


def latency_buckets(svc: ServiceConfig) -> list[float]:
    """The finite ``le`` bounds of the latency histogram: the usual ones, both configured
    thresholds, and a top bucket well above them (where a "slow" request lands)."""
    extra = {svc.slo.latency_threshold_seconds, svc.alerts.api_high_latency_p95.threshold_seconds}
    top = max(extra) * 4
    return sorted({*BASE_BUCKETS, *extra, top})


def share_at_or_below(le: float) -> float:
    """Share of normal requests that take at most ``le`` seconds."""
    share = 0.0
    for bound, cumulative_share in NORMAL_LATENCY:
        if bound <= le:
            share = cumulative_share
    return share


@dataclass
class Traffic:
    """Per-minute shape of every series of one service, normal unless a fault changes it."""

    svc: ServiceConfig
    minutes: int
    storage_limit: int
    up: list[float] = field(default_factory=list)
    ok: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    slow_share: list[float] = field(default_factory=list)  # share of requests above every bucket
    db_up: list[float] = field(default_factory=list)
    db_errors: list[float] = field(default_factory=list)
    cache_up: list[float] = field(default_factory=list)
    hit_rate: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)
    db_size: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.minutes + 1
        self.up, self.db_up, self.cache_up = [1.0] * n, [1.0] * n, [1.0] * n
        self.ok, self.errors = [REQS_OK] * n, [REQS_5XX] * n
        self.slow_share = [0.0] * n
        self.db_errors = [0.0] * n
        self.hit_rate = [CACHE_HIT] * n
        self.sent, self.failed = [MSG_SENT] * n, [MSG_FAILED] * n
        self.db_size = [self.storage_limit * DB_SIZE_RATIO] * n

    def set_from(self, name: str, start: int, value: float) -> None:
        series: list[float] = getattr(self, name)
        for i in range(start, len(series)):
            series[i] = value

    def total(self, i: int) -> float:
        return self.ok[i] + self.errors[i]

    def requests_at_or_below(self, le: float) -> list[float]:
        """Per-minute increments of the latency bucket ``le``."""
        return [
            self.total(i) * (1 - self.slow_share[i]) * share_at_or_below(le)
            for i in range(len(self.ok))
        ]

    def series(self) -> list[Series]:
        m, job = self.svc.metrics, json.dumps(self.svc.job_name)
        sel = f'job={job}, instance="{INSTANCE}"'
        out = [
            Series(f"{m.up}{{{sel}}}", self.up, False),
            Series(f'{m.requests}{{{sel}, {m.status_label}="200"}}', self.ok, True),
            Series(f'{m.requests}{{{sel}, {m.status_label}="500"}}', self.errors, True),
            Series(f'{m.dependency_up}{{{sel}, dependency="database"}}', self.db_up, False),
            Series(f'{m.dependency_up}{{{sel}, dependency="cache"}}', self.cache_up, False),
            Series(f"{m.db_connection_errors}{{{sel}}}", self.db_errors, True),
            Series(
                f'{m.cache_hit_rate}{{{sel}, service="market-intelligence"}}', self.hit_rate, False
            ),
            Series(f"{m.database_size}{{{sel}}}", self.db_size, False),
        ]
        for channel in self.svc.alerts.twilio_message_failure_rate_high.channels:
            out.append(Series(f'{m.messages_sent}{{{sel}, channel="{channel}"}}', self.sent, True))
            out.append(
                Series(f'{m.messages_failed}{{{sel}, channel="{channel}"}}', self.failed, True)
            )
        totals = [self.total(i) for i in range(len(self.ok))]
        for le in latency_buckets(self.svc):
            below = self.requests_at_or_below(le)
            bucket = f'{m.request_duration}_bucket{{{sel}, le="{format_le(le)}"}}'
            out.append(Series(bucket, below, True))
        out.append(Series(f'{m.request_duration}_bucket{{{sel}, le="+Inf"}}', totals, True))
        out.append(Series(f"{m.request_duration}_count{{{sel}}}", totals, True))
        return out

"""The SLA report: the seed's "SLA Targets" table with its "Current" column filled from a
Prometheus, each figure against its target from the stack config, with the error budget it
consumed and what is left, and a verdict per row.

Pure: the queries to send (:func:`queries`), their answers turned into figures
(:func:`figures`), figures into rows (:func:`rows`), rows into Markdown or JSON
(:class:`SlaReport`). The I/O is in :mod:`infra.sla_cli`.

Why it computes what it computes:

- Every figure is one instant query over the whole range at its end (``sum_over_time``,
  ``increase(…[30d])``): no step to choose, and any Prometheus-compatible API gives the same.
- Uptime is the share of successful scrapes of ``up``, summed and counted rather than
  ``avg_over_time`` (integer sums keep it exact to the scrape); downtime = (1 - uptime) x range.
- ``histogram_quantile`` over the range's bucket increases interpolates linearly inside the
  bucket the percentile falls in: the true percentile lies somewhere in that bucket, whose bounds
  the report shows. The latency verdicts do not rest on the interpolation when the target is a
  bucket bound (``latency_threshold_seconds`` always is): they count the requests at or below
  it, which is exact.
- A target is met while its error budget is not overspent: at least 95% of requests within
  200 ms, at most 0.1% errors, at most 43m12s down in 30 days. (A histogram cannot tell "<"
  from "<=" at a bucket bound, so the seed's "<" reads as "at most".)
- Targets come from the service's ``slo``: uptime >= ``availability``, error rate <=
  1 - ``availability``, p95 (``latency_objective``) under ``latency_threshold_seconds``, p50
  under ``latency_p50_seconds``. Their defaults are the seed's SLA table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.config import ServiceConfig
from infra.config.types import format_duration
from infra.prometheus_api import Series
from infra.render.rules import promql_str

COVERAGE_STEP = 3600
"""Resolution (seconds) of the query that finds the first ``up`` sample of the range."""
LOOKBACK = 300
"""Prometheus' default lookback: how late a sample may be for an instant to see it."""


class SlaError(Exception):
    """The report cannot be made (no data for the service); one line, no secret."""


# --------------------------------------------------------------------------- queries


def quantiles(svc: ServiceConfig) -> tuple[float, ...]:
    """The percentiles the report shows: p50 and the latency objective's (p95)."""
    return tuple(sorted({0.5, svc.slo.latency_objective}))


def queries(svc: ServiceConfig, seconds: int) -> dict[str, str]:
    """Every expression the report of ``svc`` needs, by name, over the ``seconds`` before the
    instant they are evaluated at."""
    m, window = svc.metrics, format_duration(seconds)
    job = f"job={promql_str(svc.job_name)}"
    up = f"{m.up}{{{job}}}"
    buckets = f"sum by (le) (increase({m.request_duration}_bucket{{{job}}}[{window}]))"
    out = {
        "scrapes": f"sum(count_over_time({up}[{window}]))",
        "scrapes_up": f"sum(sum_over_time({up}[{window}]))",
        "data_since": f"min(min_over_time(timestamp({up})[{window}:{COVERAGE_STEP}s]))",
        "requests": f"sum(increase({m.requests}{{{job}}}[{window}]))",
        "errors": f'sum(increase({m.requests}{{{job}, {m.status_label}=~"5.."}}[{window}]))',
        "buckets": buckets,
    }
    for q in quantiles(svc):
        out[_quantile_key(q)] = f"histogram_quantile({q:g}, {buckets})"
    return out


def _quantile_key(q: float) -> str:
    return f"p{q * 100:g}"


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figures:
    """What Prometheus says about one service over the range."""

    scrapes: float
    scrapes_up: float
    requests: float
    errors: float
    buckets: tuple[tuple[float, float], ...]
    """(upper bound, cumulative count), increasing, ``inf`` last."""
    quantiles: Mapping[float, float]
    """``histogram_quantile``'s answer per percentile."""
    data_since: float | None = None
    """Time of the first ``up`` sample in the range (to the hour)."""


def _scalar(answer: Sequence[Series]) -> float | None:
    values = [s.points[-1][1] for s in answer if s.points]
    return values[0] if values else None


def figures(
    svc: ServiceConfig, exprs: Mapping[str, str], answers: Mapping[str, Sequence[Series]]
) -> Figures:
    """The figures in ``answers`` (the results of :func:`queries`, by the same names).

    Raises :class:`SlaError` when a series the report needs has no data in the range."""

    def need(name: str, what: str) -> float:
        value = _scalar(answers[name])
        if value is None or math.isnan(value):
            raise SlaError(
                f"no data for {svc.name}: `{exprs[name]}` is empty; is job "
                f"{svc.job_name!r} scraped into this Prometheus and is {what} kept for the range?"
            )
        return value

    scrapes = need("scrapes", f"`{svc.metrics.up}`")
    requests = need("requests", f"`{svc.metrics.requests}`")
    if requests <= 0:
        raise SlaError(f"no data for {svc.name}: no request was counted in the range")
    by_le: dict[float, float] = {}
    for s in answers["buckets"]:
        try:
            le = float(s.labels.get("le", ""))
        except ValueError:
            continue
        if s.points:  # "1" (Go) and "1.0" (Python) are one bucket
            by_le[le] = by_le.get(le, 0.0) + s.points[-1][1]
    if math.inf not in by_le:
        hist = f"`{svc.metrics.request_duration}_bucket`"
        raise SlaError(
            f'no data for {svc.name}: {hist} has no le="+Inf" bucket in the range '
            f"(`{exprs['buckets']}`)"
        )
    return Figures(
        scrapes=scrapes,
        scrapes_up=need("scrapes_up", f"`{svc.metrics.up}`"),
        requests=requests,
        errors=_scalar(answers["errors"]) or 0.0,  # no 5xx series yet: no error
        buckets=tuple(sorted(by_le.items())),
        quantiles={q: need(_quantile_key(q), "the histogram") for q in quantiles(svc)},
        data_since=_scalar(answers["data_since"]),
    )


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Budget:
    """An error budget over the range: how much bad is allowed, and how much there was."""

    unit: str  # "seconds" (of downtime) or "requests" (failed or slow ones)
    allowed: float
    consumed: float

    @property
    def remaining(self) -> float:
        return self.allowed - self.consumed

    @property
    def consumed_ratio(self) -> float:
        return self.consumed / self.allowed if self.allowed else math.inf

    @property
    def overspent(self) -> bool:
        return self.consumed > self.allowed * (1 + 1e-12)


def downtime_budget(availability: float, seconds: float) -> float:
    """Seconds of downtime ``availability`` allows in ``seconds`` (99.9% of 30d: 2592 = 43m12s)."""
    return round((1 - availability) * seconds, 6)


@dataclass(frozen=True)
class Row:
    """One line of the SLA table."""

    key: str  # "uptime", "latency_p50", "latency_p95", "error_rate"
    metric: str
    comparison: str  # ">=" or "<"
    target: float
    unit: str  # "ratio" or "seconds"
    source: str  # where the target comes from (the config key)
    current: float
    met: bool
    budget: Budget | None
    bucket: tuple[float, float] | None = None
    """(lower, upper] bounds of the bucket a percentile falls in."""
    exact: bool = True
    """False: the verdict rests on the interpolated percentile (the target is no bucket bound)."""
    detail: Mapping[str, float] = field(default_factory=dict)


def uptime_row(svc: ServiceConfig, f: Figures, seconds: int) -> Row:
    availability = svc.slo.availability
    uptime = f.scrapes_up / f.scrapes
    budget = Budget(
        "seconds", downtime_budget(availability, seconds), round((1 - uptime) * seconds, 6)
    )
    return Row(
        "uptime", "Uptime", ">=", availability, "ratio", "slo.availability", uptime,
        not budget.overspent, budget,
        detail={
            "scrapes": f.scrapes, "scrapes_up": f.scrapes_up, "downtime_seconds": budget.consumed,
        },
    )  # fmt: skip


def error_rate_row(svc: ServiceConfig, f: Figures) -> Row:
    allowed = svc.slo.error_budget
    budget = Budget("requests", round(allowed * f.requests, 6), f.errors)
    return Row(
        "error_rate", "Error rate", "<", allowed, "ratio", "1 - slo.availability",
        f.errors / f.requests, not budget.overspent, budget,
        detail={"requests": f.requests, "errors": f.errors},
    )  # fmt: skip


def bucket_of(buckets: Sequence[tuple[float, float]], q: float) -> tuple[float, float]:
    """The (lower, upper] bounds of the bucket the q-quantile falls in, as
    ``histogram_quantile`` picks it: the first whose cumulative count reaches q x total."""
    rank = q * buckets[-1][1]
    lower = 0.0
    for upper, count in buckets:
        if count >= rank:
            return lower, upper
        lower = upper
    return lower, math.inf  # counts that decrease: not a histogram Prometheus would answer


def latency_row(svc: ServiceConfig, f: Figures, q: float, target: float, source: str) -> Row:
    total = f.buckets[-1][1]
    bucket = bucket_of(f.buckets, q)
    current = f.quantiles[q]
    at_target = [count for le, count in f.buckets if math.isclose(le, target, rel_tol=1e-9)]
    budget, exact = None, True
    if at_target:
        budget = Budget("requests", round((1 - q) * total, 6), total - at_target[0])
        met = not budget.overspent
    elif bucket[1] <= target or bucket[0] >= target:
        met = bucket[1] <= target  # the whole bucket is on one side of the target
    else:
        met, exact = current < target, False
    detail = {"requests": total}
    if budget is not None:
        detail["slower_than_target"] = budget.consumed
    return Row(
        f"latency_{_quantile_key(q)}", f"API {_quantile_key(q)} latency", "<", target, "seconds",
        source, current, met, budget, bucket, exact, detail,
    )  # fmt: skip


def rows(svc: ServiceConfig, f: Figures, seconds: int) -> list[Row]:
    """The seed's four rows, in its order: uptime, p50, p95 (the latency objective's), errors."""
    slo = svc.slo
    return [
        uptime_row(svc, f, seconds),
        latency_row(svc, f, 0.5, slo.latency_p50_seconds, "slo.latency_p50_seconds"),
        latency_row(svc, f, slo.latency_objective, slo.latency_threshold_seconds,
                    "slo.latency_threshold_seconds"),
        error_rate_row(svc, f),
    ]  # fmt: skip


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class ServiceReport:
    service: str
    job: str
    slo_window: str
    rows: tuple[Row, ...]
    queries: Mapping[str, str]
    data_since: float | None = None

    @property
    def met(self) -> bool:
        return all(r.met for r in self.rows)


@dataclass(frozen=True)
class SlaReport:
    stack: str
    source: str
    """The Prometheus API the figures come from (no credentials, no query string)."""
    start: float
    end: float
    services: tuple[ServiceReport, ...]

    @property
    def seconds(self) -> int:
        return int(self.end - self.start)

    @property
    def met(self) -> bool:
        return all(s.met for s in self.services)

    def exit_code(self) -> int:
        """0 when every target is met, 1 when any is missed."""
        return 0 if self.met else 1

    def coverage_gap(self, s: ServiceReport) -> bool:
        """Whether the service's data starts later than the range (short retention, new job)."""
        return s.data_since is not None and s.data_since > self.start + COVERAGE_STEP + LOOKBACK

    # ----------------------------------------------------------------- markdown

    def to_markdown(self) -> str:
        span = f"{_when(self.start)} → {_when(self.end)}"
        lines = [f"## SLA report: {self.stack}, last {_duration(self.seconds)} ({span})", ""]
        approximate = False
        for s in self.services:
            missed = [r.metric for r in s.rows if not r.met]
            lines += [
                f"### `{s.service}`" + ("" if s.service == s.job else f" (job `{s.job}`)"), "",
                "| Metric | Target | Current | Verdict | Error budget consumed | Remaining |",
                "|---|---|---|---|---|---|",
            ]  # fmt: skip
            for r in s.rows:
                approximate |= not r.exact
                lines.append("| " + " | ".join(_cells(r)) + " |")
            lines.append("")
            if missed:
                lines.append(
                    f"**Missed {len(missed)} of {len(s.rows)} targets: {', '.join(missed)}.**"
                )
            else:
                lines.append(f"**All {len(s.rows)} targets met.**")
            lines.append("")
            if self.coverage_gap(s):
                assert s.data_since is not None
                covered = _duration(int(self.end - s.data_since))
                lines += [
                    f"⚠ Data for `{s.job}` starts {_when(s.data_since)}: the figures cover about "
                    f"{covered} of the {_duration(self.seconds)} asked for (the Prometheus keeps "
                    "less history, or the job is newer); the budgets still assume the whole range.",
                    "",
                ]
        lines += self._notes(approximate)
        return "\n".join(lines)

    def _notes(self, approximate: bool) -> list[str]:
        objective = next(
            r for r in self.services[0].rows if r.source == "slo.latency_threshold_seconds"
        )
        windows = sorted({s.slo_window for s in self.services})
        rng = _duration(self.seconds)
        same = windows == [rng]
        budget_span = f"{rng} ({'the SLO window' if same else 'SLO window: ' + ', '.join(windows)})"
        scrapes = ", ".join(
            f"{_count(r.detail['scrapes'])} scrapes of `{s.job}`"
            for s in self.services
            for r in s.rows
            if r.key == "uptime"
        )
        notes = [
            "¹ Percentiles are `histogram_quantile` over the range: it interpolates linearly "
            "inside the histogram bucket the percentile falls in, so the true value lies "
            "somewhere in the bucket shown (lower bound excluded, upper included); that is the "
            "histogram's resolution. Latency verdicts and budgets count the requests at or below "
            "the target, which is exact when the target is a bucket bound.",
            "",
            f"Uptime is the share of successful scrapes of `up` ({scrapes}); downtime is "
            f"the failed share of the {rng}. Error rate is the share of requests answered 5xx. "
            f"Targets are the stack's `slo` (Pulumi.{self.stack}.yaml): uptime ≥ `availability`, "
            "error rate ≤ 1 - `availability`, "
            f"{objective.metric.split()[1]} (`latency_objective`) under "
            "`latency_threshold_seconds`, p50 under `latency_p50_seconds`; their defaults are the "
            "seed's SLA table. A target is met while its error budget is not overspent; "
            f"budgets are over the report's {budget_span}.",
        ]
        if approximate:
            notes += [
                "",
                "² The target is not a bucket bound of the histogram, so no bucket count decides "
                "it: the verdict compares the interpolated percentile and may be wrong within "
                "the bucket. Add the target to the service's `latency_buckets` (and to its "
                "instrumentation) to make it exact.",
            ]
        notes += ["", "<details><summary>PromQL</summary>", ""]
        for s in self.services:
            notes.append("```promql")
            notes += [f"# {name}\n{expr}" for name, expr in s.queries.items()]
            notes += ["```", ""]
        notes += [
            f"Evaluated at {_when(self.end)} on {self.source}.",
            "</details>",
            "",
        ]
        return notes

    # ----------------------------------------------------------------- json

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "prometheus": self.source,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "range_seconds": self.seconds,
            "met": self.met,
            "services": [
                {
                    "service": s.service,
                    "job": s.job,
                    "slo_window": s.slo_window,
                    "met": s.met,
                    "data_since": None if s.data_since is None else _iso(s.data_since),
                    "covers_range": not self.coverage_gap(s),
                    "rows": [_row_dict(r) for r in s.rows],
                    "queries": dict(s.queries),
                }
                for s in self.services
            ],
            "notes": {
                "percentiles": "interpolated linearly inside (bucket.lower, bucket.upper], "
                "where the true value lies",
                "verdict": "met while the budget is not overspent; exact: false when a latency "
                "target is no bucket bound and the interpolated value decided",
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, allow_nan=False, default=str)


def _row_dict(r: Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": r.key,
        "metric": r.metric,
        "target": {"comparison": r.comparison, "value": r.target, "unit": r.unit,
                   "source": r.source},
        "current": r.current,
        "met": r.met,
        "verdict": "met" if r.met else "missed",
        "exact": r.exact,
        "budget": None,
        "detail": dict(r.detail),
    }  # fmt: skip
    if r.bucket is not None:
        upper = "+Inf" if math.isinf(r.bucket[1]) else r.bucket[1]
        out["bucket"] = {"lower": r.bucket[0], "upper": upper}
        out["interpolated"] = True
    if r.budget is not None:
        b = r.budget
        out["budget"] = {
            "unit": b.unit, "allowed": b.allowed, "consumed": b.consumed,
            "remaining": b.remaining, "consumed_ratio": b.consumed_ratio,
            "remaining_ratio": 1 - b.consumed_ratio,
        }  # fmt: skip
    return out


# --------------------------------------------------------------------------- formatting


def _cells(r: Row) -> list[str]:
    if r.key == "uptime":
        down = r.detail["downtime_seconds"]
        target = f"≥ {_pct(r.target, 6)}"
        current = f"{_pct(r.current, 5)} ({_duration(down)} down)"
    elif r.key == "error_rate":
        target = f"< {_pct(r.target, 3)}"
        current = (
            f"{_pct(r.current, 3)} ({_count(r.detail['errors'])} of {_count(r.detail['requests'])})"
        )
    else:
        assert r.bucket is not None
        target = f"< {_seconds(r.target)}"
        current = f"{_seconds(r.current, 4)}¹ (bucket {_bucket(r.bucket)})"
    verdict = ("✅ met" if r.met else "❌ missed") + ("" if r.exact else "²")
    consumed, remaining = _budget_cells(r)
    return [r.metric, target, current, verdict, consumed, remaining]


def _budget_cells(r: Row) -> tuple[str, str]:
    b = r.budget
    if b is None:
        return "n/a²", "n/a²"
    used = f"{b.consumed_ratio * 100:.1f}%"
    left = f"{(1 - b.consumed_ratio) * 100:.1f}%"
    over = " (overspent)" if b.overspent else ""
    if b.unit == "seconds":
        return (
            f"{used} ({_duration(b.consumed)} of {_duration(b.allowed)})",
            f"{left} ({_duration(b.remaining)}){over}",
        )
    if r.key == "error_rate":
        return (
            f"{used} ({_count(b.consumed)} of {_count(b.allowed)} errors allowed)",
            f"{left} ({_count(b.remaining)} errors){over}",
        )
    total = r.detail["requests"]
    return (
        f"{used} ({_pct(b.consumed / total, 3)} of requests > {_seconds(r.target)}; "
        f"{_pct(b.allowed / total, 3)} allowed)",
        f"{left}{over}",
    )


def _pct(ratio: float, digits: int) -> str:
    return f"{ratio * 100:.{digits}g}%"


def _seconds(value: float, digits: int = 6) -> str:
    if math.isinf(value):
        return "+Inf"
    if abs(value) < 1:
        return f"{value * 1000:.{digits}g} ms"
    return f"{value:.{digits}g} s"


def _bucket(bucket: tuple[float, float]) -> str:
    lower, upper = bucket
    if math.isinf(upper):
        return f"{_seconds(lower)} to +Inf"
    low, high = _seconds(lower), _seconds(upper)
    if low.endswith(" ms") and high.endswith(" ms"):
        low = low.removesuffix(" ms")
    return f"{low} to {high}"


def _duration(seconds: float) -> str:
    text = format_duration(round(abs(seconds)))
    return f"-{text}" if seconds < 0 and text != "0s" else text


def _count(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-6 else f"{value:,.1f}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Thirty days of `agenzia-ai-api` traffic, minute by minute, whose SLA figures are known by
construction, written as OpenMetrics for ``promtool tsdb create-blocks-from openmetrics``.

Two variants, each under its own ``job``: a *healthy* month that meets every seed target and a
*degraded* one that misses all but p50. Each minute of the window is either down (``up`` is 0
and, as when a scrape fails, no other series has a sample; nobody is served) or serves a fixed
mix per handler: requests per status code and per latency bucket. So the truth is plain
integer arithmetic (:func:`truth`), independent of the code under test:

- uptime = up minutes / 43,200, downtime = the down minutes;
- error rate = 5xx / all requests (404s are requests, not errors);
- each percentile lies in the bucket where the cumulative count first reaches q x total, and
  ``histogram_quantile`` interpolates linearly inside it (:func:`interpolate`).

The window is ``(T0, END]``: minute m is the traffic between the samples at minutes m-1 and m.
Counters are also sampled at minute 0, the scrape just before the window opens, so that
``increase(…[30d])`` at END needs no extrapolation (Prometheus 2 ranges include their start);
``up`` is not, so the window holds exactly 43,200 ``up`` samples under either range semantics.
Every sample of every series shares one timestamp grid (a 1m scrape).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from infra.config.types import format_le
from tests.review.prometheus_backfill import create_blocks

T0 = 1_740_787_200
"""2025-03-01T00:00:00Z: minute 0, the last scrape before the window."""
MINUTES = 30 * 24 * 60
END = T0 + MINUTES * 60
"""2025-03-31T00:00:00Z: the report's ``--end``."""
HEALTHY_JOB, DEGRADED_JOB = "agenzia-ai-api", "agenzia-ai-api-degraded"
INF = float("inf")


@dataclass(frozen=True)
class Handler:
    """What one handler serves in one minute: requests per status, and per latency bucket
    (non-cumulative, by the bucket's upper bound); both add up to the same total."""

    handler: str
    method: str
    statuses: Mapping[str, int]
    latency: Mapping[float, int]

    def __post_init__(self) -> None:
        assert sum(self.statuses.values()) == sum(self.latency.values()), self.handler


@dataclass(frozen=True)
class Period:
    """Minutes ``first`` … ``first + minutes - 1`` of the window serve ``handlers`` instead of
    the month's normal mix (or nothing, when ``handlers`` is None: the service is down)."""

    first: int
    minutes: int
    handlers: tuple[Handler, ...] | None


@dataclass(frozen=True)
class Month:
    job: str
    normal: tuple[Handler, ...]
    periods: tuple[Period, ...] = field(default_factory=tuple)

    def mix(self) -> list[tuple[Handler, ...] | None]:
        """The mix served in each minute, index 0 (before the window) to MINUTES."""
        out: list[tuple[Handler, ...] | None] = [self.normal] * (MINUTES + 1)
        for p in self.periods:
            assert p.first >= 1 and p.first + p.minutes - 1 <= MINUTES
            for m in range(p.first, p.first + p.minutes):
                out[m] = p.handlers
        out[0] = self.normal  # the scrape before the window always succeeded
        return out


def _minute(day: int, hour: int, minute: int = 0) -> int:
    """The window minute of day ``day`` (0-based) at ``hour:minute`` (the traffic just before)."""
    return day * 1440 + hour * 60 + minute + 1


def _properties(ok: int, not_found: int, unavailable: int, latency: dict[float, int]) -> Handler:
    statuses = {"200": ok, "404": not_found, "503": unavailable}
    return Handler("/properties", "GET", statuses, latency)


def _leads(created: int, failed: int, latency: dict[float, int]) -> Handler:
    return Handler("/leads", "POST", {"201": created, "500": failed}, latency)


PROPERTIES = _properties(
    1580, 20, 0, {0.025: 200, 0.05: 500, 0.075: 500, 0.1: 250, 0.2: 120, 0.25: 20, 0.5: 10}
)
LEADS = _leads(399, 1, {0.05: 40, 0.075: 80, 0.1: 120, 0.2: 130, 0.25: 20, 0.5: 10})
LEADS_ERROR_SPIKE = _leads(300, 100, dict(LEADS.latency))
LEADS_SLOW = _leads(399, 1, {0.2: 100, 0.25: 100, 0.5: 150, 1.0: 50})

HEALTHY = Month(
    HEALTHY_JOB,
    (PROPERTIES, LEADS),
    (
        Period(_minute(3, 3, 10), 12, None),  # 12 minutes down
        Period(_minute(18, 14, 45), 9, None),  # 9 more: 21 of the 43m12s budget
        Period(_minute(10, 9), 30, (PROPERTIES, LEADS_ERROR_SPIKE)),  # 25% of /leads fail
        Period(_minute(22, 13), 180, (PROPERTIES, LEADS_SLOW)),  # /leads slow for 3 hours
    ),
)
"""Meets every seed target: 21 minutes down, 0.053% errors, p50 in (50, 75] ms, p95 in
(100, 200] ms."""

DEGRADED = Month(
    DEGRADED_JOB,
    (
        _properties(
            1579, 20, 1, {0.025: 100, 0.05: 300, 0.075: 400, 0.1: 400, 0.2: 250, 0.25: 100, 0.5: 50}
        ),
        _leads(397, 3, {0.05: 20, 0.075: 40, 0.1: 100, 0.2: 160, 0.25: 50, 0.5: 30}),
    ),
    (
        Period(_minute(1, 22), 20, None),
        Period(_minute(15, 7, 30), 30, None),  # 50 minutes down: past the 43m12s budget
    ),
)
"""Misses uptime (50 minutes down), error rate (0.2%) and p95 (in (200, 250] ms); meets p50
(in (75, 100] ms)."""

MONTHS = (HEALTHY, DEGRADED)


# --------------------------------------------------------------------------- the truth


@dataclass(frozen=True)
class Truth:
    """What the report must say about one month, computed from the definition alone."""

    down_minutes: int
    requests: int
    errors: int
    buckets: tuple[tuple[float, int], ...]
    """(upper bound, cumulative count) for every bucket of the stack, +Inf last."""

    @property
    def uptime(self) -> Fraction:
        return Fraction(MINUTES - self.down_minutes, MINUTES)

    @property
    def error_ratio(self) -> Fraction:
        return Fraction(self.errors, self.requests)

    def bucket_of(self, q: float) -> tuple[float, float]:
        """The (lower, upper] bounds of the bucket the q-quantile falls in."""
        rank = Fraction(q) * self.buckets[-1][1]
        lower = 0.0
        for upper, count in self.buckets:
            if count >= rank:
                return lower, upper
            lower = upper
        raise AssertionError("unreachable: the +Inf bucket holds every request")

    def interpolate(self, q: float) -> float:
        """``histogram_quantile(q, …)`` as Prometheus computes it: linear inside the bucket."""
        rank = q * self.buckets[-1][1]
        lower, below = 0.0, 0
        for upper, count in self.buckets:
            if count >= rank:
                return lower + (upper - lower) * (rank - below) / (count - below)
            lower, below = upper, count
        raise AssertionError("unreachable")

    def slower_than(self, seconds: float) -> int:
        """Requests slower than ``seconds`` (a bucket bound)."""
        return self.buckets[-1][1] - dict(self.buckets)[seconds]


def truth(month: Month, bounds: Sequence[float]) -> Truth:
    down = requests = errors = 0
    per_bucket = dict.fromkeys([*bounds, INF], 0)
    for mix in month.mix()[1:]:
        if mix is None:
            down += 1
            continue
        for h in mix:
            requests += sum(h.statuses.values())
            errors += sum(n for s, n in h.statuses.items() if s.startswith("5"))
            for le in per_bucket:
                per_bucket[le] += sum(n for b, n in h.latency.items() if b <= le)
    return Truth(down, requests, errors, tuple(per_bucket.items()))


# --------------------------------------------------------------------------- OpenMetrics


def _selector(name: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _counters(month: Month, bounds: Sequence[float]) -> Iterator[tuple[str, str, list[int | None]]]:
    """(metric, selector, per-minute increments; None where not scraped) for every counter."""
    mix = month.mix()
    keys = [(h.handler, h.method) for h in month.normal]
    for i, (handler, method) in enumerate(keys):
        base = {"job": month.job, "handler": handler, "method": method}

        def pick(m: int, i: int = i) -> Handler | None:
            served = mix[m]
            return None if served is None else served[i]

        statuses = sorted({s for hs in mix if hs for s in hs[i].statuses})
        for status in statuses:
            sel = _selector("http_requests_total", {**base, "status": status})
            yield (
                "http_requests_total",
                sel,
                [
                    None if (h := pick(m)) is None else h.statuses.get(status, 0)
                    for m in range(MINUTES + 1)
                ],
            )
        for le in [*bounds, INF]:
            label = "+Inf" if le == INF else format_le(le)
            sel = _selector("http_request_duration_seconds_bucket", {**base, "le": label})
            yield (
                "http_request_duration_seconds_bucket",
                sel,
                [
                    None
                    if (h := pick(m)) is None
                    else sum(n for b, n in h.latency.items() if b <= le)
                    for m in range(MINUTES + 1)
                ],
            )


def write_openmetrics(months: Sequence[Month], bounds: Sequence[float], path: Path) -> int:
    """Write every month's series; return the number of samples."""
    by_metric: dict[str, list[tuple[str, list[int | None]]]] = {}
    for month in months:
        for metric, sel, incs in _counters(month, bounds):
            by_metric.setdefault(metric, []).append((sel, incs))
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for metric in sorted(by_metric):
            out.write(f"# TYPE {metric} unknown\n")
            for sel, incs in by_metric[metric]:
                total = 1_000_000  # the counters did not start with the window
                lines = []
                for m, inc in enumerate(incs):
                    if inc is None:
                        continue
                    if m:
                        total += inc
                    lines.append(f"{sel} {total} {T0 + 60 * m}\n")
                out.write("".join(lines))
                count += len(lines)
        out.write("# TYPE up unknown\n")
        for month in months:
            sel = _selector("up", {"job": month.job, "instance": "api-0:8000"})
            mix = month.mix()
            lines = [
                f"{sel} {0 if mix[m] is None else 1} {T0 + 60 * m}\n" for m in range(1, MINUTES + 1)
            ]
            out.write("".join(lines))
            count += len(lines)
        out.write("# EOF\n")
    return count


def backfill(months: Sequence[Month], bounds: Sequence[float], folder: Path) -> Path:
    """Write the months as TSDB blocks under ``folder/tsdb`` (``promtool tsdb
    create-blocks-from openmetrics``); return it. Blocks of up to 31 days: promtool reads the
    whole input once per block, so one-day blocks take five times as long (80 s, not 15 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "traffic.om"
    write_openmetrics(months, bounds, source)
    return create_blocks(source, folder, "744h")

"""One week of `agenzia-ai-api` traffic, minute by minute, with known incidents; written both as
OpenMetrics (for ``promtool tsdb create-blocks-from openmetrics``, a real Prometheus' history)
and as promtool ``input_series`` (for ``promtool test rules``), from the same definition.

Every value is exact in both forms: counters are integers with integer increments, and gauges
that are not integers only ever hold a constant run (promtool's expanding notation adds the step
again and again, which is exact for integers and for a step of 0). The week repeats for longer
ranges (the benchmark's 30 days).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

T0 = 1_736_121_600
"""2025-01-06T00:00:00Z, minute 0 of the history (a multiple of every evaluation interval)."""
WEEK = 7 * 24 * 60
JOB = "agenzia-ai-api"
DAY, HOUR = 24 * 60, 60


@dataclass(frozen=True)
class Change:
    """From minute ``start`` (inclusive) to ``end`` (exclusive) of each week, the series'
    per-minute increment (counter) or value (gauge) is ``value``; ``None``: not scraped."""

    start: int
    end: int
    value: float | None


@dataclass(frozen=True)
class Series:
    name: str
    labels: tuple[tuple[str, str], ...]
    counter: bool
    normal: float
    changes: tuple[Change, ...] = ()

    def per_minute(self, minutes: int) -> list[float | None]:
        out: list[float | None] = [self.normal] * minutes
        for week in range(0, minutes, WEEK):
            for c in self.changes:
                for m in range(week + c.start, min(week + c.end, minutes)):
                    out[m] = c.value
        return out

    def values(self, minutes: int) -> list[float | None]:
        """The samples, minute 0 first; a counter starts at 0 and keeps counting while it is
        not scraped."""
        if not self.counter:
            return self.per_minute(minutes)
        out: list[float | None] = []
        total = 0
        for inc in self.per_minute(minutes):
            out.append(None if inc is None else total)
            total += int(inc or 0)
        return out

    def selector(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"


def _job(**labels: str) -> tuple[tuple[str, str], ...]:
    return (("job", JOB), *sorted(labels.items()))


def _at(day: int, hour: int, minute: int = 0) -> int:
    return day * DAY + hour * HOUR + minute


# The incidents of the week (minute of the week, duration in minutes), each meant for an alert.
ERROR_SPIKE = (_at(0, 9), 30)  # 3% 5xx: ApiHighErrorRate, ApiErrorBudgetBurn (fast)
SHORT_SPIKE = (_at(0, 14), 6)  # 3% 5xx for 6 minutes: pending, fires only with a short `for`
API_DOWN = (_at(1, 3), 20)  # up == 0: ApiHealthCheckDown
UP_MISSING = (_at(1, 15), 15)  # no `up` sample at all: absent(up) after the 5m lookback
DB_DOWN = (_at(2, 10), 10)  # dependency_up{database} == 0: DatabaseConnectionFailures
DB_ERRORS = (_at(2, 22), 8)  # 3 connection errors a minute: DatabaseConnectionFailures
REDIS_DOWN = (_at(3, 4), 6)  # dependency_up{cache} == 0: RedisUnavailable
REDIS_FLAP = (_at(3, 20), 14)  # down 3, up 2, down 4, up 1, down 4: episodes, keep_firing_for
SLOW = (_at(3, 13), 90)  # p95 ≈ 0.9 s: ApiHighLatencyP95, ApiLatencyBudgetBurn (fast)
CACHE_COLD = (_at(4, 8), 45)  # hit rate 0.6: CacheHitRateLow
TWILIO = (_at(4, 18), 30)  # 10% of WhatsApp messages fail: TwilioMessageFailureRateHigh
SMS_FAILING = (_at(4, 2), 30)  # 20% of SMS fail (a channel the production rules do not read)
SLOW_BURN = (_at(5, 0), DAY)  # 0.5% 5xx for a day: ApiErrorBudgetBurn (slow)
STORAGE = (_at(6, 6), 3 * HOUR)  # database at 7.8 GB of 8 GiB: SupabaseStorageNearLimit

REQUESTS = 6000
NORMAL_5XX = 3
# Requests per minute at or below each bucket bound: normal (p95 ≈ 0.1 s) and slow (p95 ≈ 0.9 s).
BUCKETS = ("0.05", "0.1", "0.2", "0.25", "0.5", "1", "+Inf")
NORMAL_LATENCY = (1800, 5640, 5940, 5958, 5988, 6000, 6000)
SLOW_LATENCY = (300, 600, 1200, 1500, 2400, 5400, 6000)


def _during(window: tuple[int, int], value: float | None) -> Change:
    return Change(window[0], window[0] + window[1], value)


def _flap(start: int, pattern: Sequence[tuple[int, float]]) -> tuple[Change, ...]:
    out, at = [], start
    for length, value in pattern:
        out.append(Change(at, at + length, value))
        at += length
    return tuple(out)


def production_series() -> list[Series]:
    """Every series the production rules read, with the week's incidents."""
    errors = (
        _during(ERROR_SPIKE, 180),
        _during(SHORT_SPIKE, 180),
        _during(SLOW_BURN, 30),
    )
    ok = tuple(_during((c.start, c.end - c.start), REQUESTS - c.value) for c in errors if c.value)
    series = [
        Series("up", _job(instance="api-0:8000"), False, 1, (
            _during(API_DOWN, 0), _during(UP_MISSING, None),
        )),
        Series("http_requests_total", _job(handler="/leads", method="POST", status="2xx"),
               True, REQUESTS - NORMAL_5XX, ok),
        Series("http_requests_total", _job(handler="/leads", method="POST", status="5xx"),
               True, NORMAL_5XX, errors),
    ]  # fmt: skip
    for i, le in enumerate(BUCKETS):
        labels = _job(handler="/leads", le=le)
        slow = (_during(SLOW, SLOW_LATENCY[i]),)
        series.append(
            Series("http_request_duration_seconds_bucket", labels, True, NORMAL_LATENCY[i], slow)
        )
    series += [
        Series("http_request_duration_seconds_count", _job(handler="/leads"), True, REQUESTS),
        Series("dependency_up", _job(dependency="database"), False, 1, (_during(DB_DOWN, 0),)),
        Series("dependency_up", _job(dependency="cache"), False, 1, (
            _during(REDIS_DOWN, 0),
            *_flap(REDIS_FLAP[0], ((3, 0), (2, 1), (4, 0), (1, 1), (4, 0))),
        )),
        Series("db_connection_errors_total", _job(), True, 0, (_during(DB_ERRORS, 3),)),
        Series("cache_hit_rate", _job(service="redis"), False, 0.92, (_during(CACHE_COLD, 0.6),)),
        Series("messages_sent_total", _job(channel="whatsapp"), True, 50, (_during(TWILIO, 45),)),
        Series("messages_failed_total", _job(channel="whatsapp"), True, 0, (_during(TWILIO, 5),)),
        Series("messages_sent_total", _job(channel="sms"), True, 20, (_during(SMS_FAILING, 16),)),
        Series("messages_failed_total", _job(channel="sms"), True, 0, (_during(SMS_FAILING, 4),)),
        Series("supabase_database_size_bytes", _job(), False, 2_147_483_648, (
            _during(STORAGE, 7_800_000_000),
        )),
    ]  # fmt: skip
    return series


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_openmetrics(series: Sequence[Series], minutes: int, path: Path) -> int:
    """Write ``minutes`` of samples from :data:`T0` on; return the number of samples."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        names = sorted({s.name for s in series})
        for name in names:
            out.write(f"# TYPE {name} unknown\n")
            for s in (s for s in series if s.name == name):
                sel = s.selector()
                for m, v in enumerate(s.values(minutes)):
                    if v is not None:
                        out.write(f"{sel} {_number(v)} {T0 + 60 * m}\n")
                        count += 1
        out.write("# EOF\n")
    return count


def _runs(values: Sequence[float | None]) -> Iterator[str]:
    i = 0
    while i < len(values):
        v = values[i]
        if v is None:
            j = i
            while j < len(values) and values[j] is None:
                j += 1
            yield f"_x{j - i}"
            i = j
            continue
        j = i + 1
        step = None
        while j < len(values) and values[j] is not None:
            d = values[j] - v if step is None else step  # type: ignore[operator]
            if values[j] != values[j - 1] + d:  # type: ignore[operator]
                break
            step, j = d, j + 1
        step = step or 0
        if not (float(v).is_integer() and float(step).is_integer()) and step != 0:
            raise ValueError("only integer runs or constant runs are exact in promtool notation")
        sign = "-" if step < 0 else "+"
        yield f"{_number(v)}{sign}{_number(abs(step))}x{j - i - 1}"
        i = j


def promtool_series(series: Sequence[Series], minutes: int) -> list[dict[str, str]]:
    """``input_series`` of a promtool test (``interval: 1m``) holding the same samples."""
    return [{"series": s.selector(), "values": " ".join(_runs(s.values(minutes)))} for s in series]

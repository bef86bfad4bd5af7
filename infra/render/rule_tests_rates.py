"""What ``rate()`` returns in a promtool test, under Prometheus 2 and under Prometheus 3.

The generated tests sample every series once a minute from minute 0 and evaluate once a
minute, so every range selector's start lands on a sample. The two engines disagree about
that sample: Prometheus 2 selects ``[t - range, t]`` and includes it; Prometheus 3 selects
``(t - range, t]``, drops it and extrapolates from the next one instead. While a window
straddles a fault's start the two therefore compute different ratios; once it holds only the
fault's constant rates (or reaches back past the series' first sample) they agree.

:func:`rate` is ``extrapolatedRate`` of ``promql/functions.go`` for a counter sampled on that
grid: Prometheus 2.42 (the Debian promtool) and 3.16 (``scripts/build-promtool3``), including
the zero-point rule that stops extrapolation below zero. It is exact up to floating-point
rounding (engines sum in their own order), which is why :func:`above` refuses a comparison
that rounding could decide either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import Enum

MINUTE = 60.0
ROUNDING = 1e-9
"""Relative distance under which two engines' floating-point results may differ."""


class Engine(Enum):
    """A PromQL engine whose range-selector semantics the generated tests must hold under."""

    PROMETHEUS_2 = "Prometheus 2"  # [t - range, t]
    PROMETHEUS_3 = "Prometheus 3"  # (t - range, t]


ENGINES = tuple(Engine)

Condition = Callable[[int, Engine], bool]
"""Whether an alert's expression holds at a minute, under an engine."""
Valuation = Callable[[int, Engine], float]
"""An alert's ``$value`` at a minute, under an engine."""


def rate(samples: Sequence[float], minute: int, window: int, engine: Engine) -> float:
    """``rate(counter[<window>m])`` at ``minute``; ``samples[i]`` is the counter at minute i.

    NaN when the window holds fewer than two samples (Prometheus returns no series).
    """
    first_i = max(0, minute - window + (1 if engine is Engine.PROMETHEUS_3 else 0))
    last_i = min(minute, len(samples) - 1)
    if last_i - first_i < 1:
        return math.nan
    first, last = samples[first_i], samples[last_i]
    result = last - first  # the generated counters never reset
    to_start = (first_i - (minute - window)) * MINUTE
    to_end = (minute - last_i) * MINUTE
    sampled = (last_i - first_i) * MINUTE
    average = sampled / (last_i - first_i)
    threshold = average * 1.1
    range_seconds = window * MINUTE
    if engine is Engine.PROMETHEUS_2:
        if result > 0 and first >= 0:
            to_start = min(to_start, sampled * (first / result))
        extrapolated = sampled
        extrapolated += to_start if to_start < threshold else average / 2
        extrapolated += to_end if to_end < threshold else average / 2
        return result * (extrapolated / sampled) / range_seconds
    if to_start >= threshold:
        to_start = average / 2
    if result > 0 and first >= 0:
        to_start = min(to_start, sampled * (first / result))
    if to_end >= threshold:
        to_end = average / 2
    factor = (sampled + to_start + to_end) / sampled
    factor /= range_seconds
    return result * factor


def ratio(
    bad: Sequence[Sequence[float]],
    total: Sequence[Sequence[float]],
    minute: int,
    window: int,
    engine: Engine,
) -> float:
    """``sum(rate(bad[w])) / sum(rate(total[w]))``: the ratio every ratio rule records."""
    numerator = sum(rate(s, minute, window, engine) for s in bad)
    denominator = sum(rate(s, minute, window, engine) for s in total)
    return numerator / denominator if denominator else math.nan


class TooCloseToCall(ValueError):
    """A generated series puts a value on its threshold at an evaluation."""


def above(value: float, limit: float) -> bool:
    """``value > limit`` as every engine decides it; :class:`TooCloseToCall` when rounding
    could flip it."""
    if math.isnan(value):
        return False
    _refuse_tie(value, limit)
    return value > limit


def at_or_above(value: float, limit: float) -> bool:
    """``value >= limit`` as every engine decides it; :class:`TooCloseToCall` when rounding
    could flip it."""
    if math.isnan(value):
        return False
    _refuse_tie(value, limit)
    return value >= limit


def _refuse_tie(value: float, limit: float) -> None:
    if abs(value - limit) <= ROUNDING * max(abs(limit), abs(value)):
        raise TooCloseToCall(
            f"a generated series puts an alert's value ({value!r}) on its threshold ({limit!r}); "
            "floating-point rounding could decide the comparison either way"
        )


def first_minute(condition: Callable[[int], bool], start: int, end: int) -> int:
    """The first minute in ``[start, end]`` at which ``condition`` holds."""
    for minute in range(start, end + 1):
        if condition(minute):
            return minute
    raise ValueError(
        "the fault scenario never meets the alert's condition; make the fault stronger"
    )

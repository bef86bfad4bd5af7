"""The fault scenarios (data) and the input series each one replays, minute by minute.

A scenario changes one SLO's bad share for ``minutes`` minutes, starting at the onset: after
three days of normal traffic (``warm``, as in production) or ten minutes after the first
sample (``cold``). Traffic is normal before and after (at the row's request rate), and at
least :data:`AFTER_MINUTES` of it follow the fault so that the resets show.

Samples are one minute apart; sample ``i`` counts the requests of minute ``(i-1, i]``, so a
fault of ``minutes`` minutes from onset ``F`` changes the increments of samples ``F+1`` to
``F+minutes``: the first sample that shows it is one minute after the onset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from infra.config import ServiceConfig
from infra.config.baseline import NORMAL_ERROR_RATIO, normal_slow_share
from infra.config.types import format_le
from infra.render.rule_tests_traffic import latency_buckets, share_at_or_below
from infra.render.rules import error_budget, latency_budget

Slo = Literal["availability", "latency"]
Form = Literal["warm", "cold"]
Expect = Literal["alert", "silent", "any"]
"""What a row expects of a tier: an alert, silence, or either (not judged)."""

FORMS: tuple[Form, ...] = ("warm", "cold")
WARM_MINUTES = 3 * 1440
COLD_MINUTES = 10
AFTER_MINUTES = 8 * 60
NORMAL_MINUTES = 3 * 1440
NORMAL_RATE = 1000.0
"""Requests per minute of production-like traffic."""
HANDLER = 'handler="/leads", method="POST"'
ALERT_NAMES: dict[Slo, str] = {
    "availability": "ApiErrorBudgetBurn",
    "latency": "ApiLatencyBudgetBurn",
}


@dataclass(frozen=True)
class Scenario:
    """One row of the table: a fault on one SLO, in one form."""

    name: str
    slo: Slo
    minutes: int
    """How long the fault lasts (0: no fault)."""
    share: float | None = None
    """Share of the row's requests that are bad during the fault (1.0: an outage)."""
    burn: float | None = None
    """Bad share as a multiple of the SLO's budget (1 - objective)."""
    bad_per_minute: float | None = None
    """Bad requests per minute during the fault (the row's rate stays the same)."""
    rate: float = NORMAL_RATE
    page: Expect = "any"
    ticket: Expect = "any"
    gated: bool = True
    """False: informational (a known trade-off), left out of the exit code."""
    form: Form = "warm"

    @property
    def label(self) -> str:
        return f"{self.slo} {self.name} ({self.form})"

    @property
    def alertname(self) -> str:
        return ALERT_NAMES[self.slo]

    @property
    def onset(self) -> int:
        """Minute the fault starts (samples from ``onset + 1`` show it); 0 without a fault."""
        if not self.minutes:
            return 0
        return WARM_MINUTES if self.form == "warm" else COLD_MINUTES

    @property
    def end(self) -> int:
        """Minute the fault ends."""
        return self.onset + self.minutes

    @property
    def total(self) -> int:
        """Minute of the last sample."""
        return self.end + (AFTER_MINUTES if self.minutes else NORMAL_MINUTES)


TRADE_OFF = (
    "trade-off: at 2 req/min a 100% outage has only 2 bad requests after its first minute; a "
    "guard that stays quiet on 3 bad requests (the low-traffic rows) must wait for the 4th, "
    "i.e. a second minute, so this row is informational and left out of the exit code."
)


def _rows(slo: Slo) -> list[Scenario]:
    rows = [
        Scenario("normal 3d", slo, 0, page="silent", ticket="silent"),
        Scenario("outage 30m", slo, 30, share=1.0, page="alert"),
        Scenario("blip 4m", slo, 4, share=1.0, page="alert"),
    ]
    for k, hold in ((14.4, 120), (6.0, 8 * 60), (3.0, 36 * 60), (1.0, 3 * 1440)):
        page: Expect = "alert" if k >= 6 else "silent"
        ticket: Expect = "any" if k >= 6 else "alert"
        for extra, suffix in ((1.0, ""), (1.05, "+5%")):
            name = f"burn {k:g}x{suffix}"
            rows.append(Scenario(name, slo, hold, burn=k * extra, page=page, ticket=ticket))
    for rate, bad, minutes in ((2.0, 1.0, 3), (5.0, 1.0, 3), (5.0, 2.0, 1)):
        count = round(bad * minutes)
        name = f"low traffic {rate:g}/min, {count} bad in {minutes} min"
        rows.append(
            Scenario(
                name, slo, minutes, bad_per_minute=bad, rate=rate, page="silent", ticket="silent"
            )
        )
    for rate in (5.0, 2.0):
        name = f"low-traffic outage {rate:g}/min"
        rows.append(Scenario(name, slo, 30, share=1.0, rate=rate, page="alert", gated=rate > 2))
    return rows


def scenarios(
    forms: Iterable[Form] = FORMS, slos: Sequence[Slo] = ("availability", "latency")
) -> list[Scenario]:
    """Every row, for each SLO and form (grouped by SLO, then row, then form). A row without
    a fault is the same in every form: it is listed once, in the first form."""
    forms = tuple(forms)
    return [
        replace(row, form=form)
        for slo in slos
        for row in _rows(slo)
        for form in (forms if row.minutes else forms[:1])
    ]


# --------------------------------------------------------------------------- input series


def budget(svc: ServiceConfig, slo: Slo) -> float:
    return error_budget(svc) if slo == "availability" else latency_budget(svc)


def normal_bad_share(svc: ServiceConfig, slo: Slo) -> float:
    if slo == "availability":
        return NORMAL_ERROR_RATIO
    return normal_slow_share(svc.slo.latency_threshold_seconds)


def bad_shares(svc: ServiceConfig, s: Scenario, slo: Slo) -> list[float]:
    """Share of bad requests of ``slo`` in each sample's minute (index 0: no requests)."""
    normal = normal_bad_share(svc, slo)
    shares = [normal] * (s.total + 1)
    if slo != s.slo:
        return shares
    if s.share is not None:
        fault = s.share
    elif s.burn is not None:
        fault = s.burn * budget(svc, slo)
    elif s.bad_per_minute is not None:
        fault = s.bad_per_minute / s.rate
    else:
        return shares
    for i in range(s.onset + 1, s.end + 1):
        shares[i] = fault
    return shares


def _repr(value: float) -> str:
    text = repr(float(value))
    return text.removesuffix(".0")


def encode_counter(increments: Sequence[float]) -> str:
    """A counter from 0 whose sample ``i`` adds ``increments[i]`` (``increments[0]`` is
    ignored), in promtool's expanding notation. promtool expands ``a+bxn`` by adding ``b`` to
    ``a`` n times, which is how the values are summed here: the series are exact."""
    parts: list[str] = []
    value, i, n = 0.0, 1, len(increments)
    while i < n:
        step, j = increments[i], i
        while j + 1 < n and increments[j + 1] == step:
            j += 1
        count = j - i + 1
        parts.append(f"{_repr(value + step)}+{_repr(step)}x{count - 1}")
        for _ in range(count):
            value += step
        i = j + 1
    return "0 " + " ".join(parts) if parts else "0"


def per_minute(svc: ServiceConfig, s: Scenario) -> dict[str, list[float]]:
    """Per-minute increments of every input series, by its series text."""
    m, job = svc.metrics, f"job={json.dumps(svc.job_name)}"
    errors = bad_shares(svc, s, "availability")
    slow = bad_shares(svc, s, "latency")
    total = [0.0] + [s.rate] * s.total
    bad = [t * e for t, e in zip(total, errors, strict=True)]
    out = {
        f'{m.requests}{{{job}, {m.status_label}="2xx", {HANDLER}}}': [
            t - b for t, b in zip(total, bad, strict=True)
        ],
        f'{m.requests}{{{job}, {m.status_label}="5xx", {HANDLER}}}': bad,
    }
    threshold = svc.slo.latency_threshold_seconds
    fast_normal = share_at_or_below(threshold)
    for le in latency_buckets(svc):
        below = share_at_or_below(le)
        if le <= threshold:
            fast = min(below / fast_normal, 1.0) if fast_normal > 0 else 1.0
            shares = [(1 - x) * fast for x in slow]
        else:
            tail = (below - fast_normal) / (1 - fast_normal) if fast_normal < 1 else 1.0
            shares = [(1 - x) + x * tail for x in slow]
        key = f'{m.request_duration}_bucket{{{job}, le="{format_le(le)}"}}'
        out[key] = [t * x for t, x in zip(total, shares, strict=True)]
    out[f'{m.request_duration}_bucket{{{job}, le="+Inf"}}'] = total
    out[f"{m.request_duration}_count{{{job}}}"] = total
    return out


def input_series(svc: ServiceConfig, s: Scenario) -> list[dict[str, str]]:
    """The scenario's ``input_series`` for a promtool test (1m interval)."""
    return [
        {"series": series, "values": encode_counter(increments)}
        for series, increments in per_minute(svc, s).items()
    ]

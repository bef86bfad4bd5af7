"""One fault scenario per alert of a service: normal traffic for an hour, then a fault that
must make exactly that alert fire, derived from the same config as the rule.

Each scenario states the alert's condition and value the way the rule computes them (ratios
of ``rate()`` through :mod:`infra.render.rule_tests_rates`, gauges directly), so that the
onset is computed, not guessed, and :mod:`infra.render.rule_tests_timeline` can check it
against both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from infra.config import ServiceConfig, StackConfig
from infra.config.models import BurnRateAlert
from infra.config.types import parse_duration
from infra.render.rule_model import Rule, RuleFile
from infra.render.rule_tests_rates import (
    ENGINES,
    Condition,
    Engine,
    TooCloseToCall,
    Valuation,
    above,
    at_or_above,
    rate,
    ratio,
)
from infra.render.rule_tests_timeline import Expectation, Timeline, for_minutes, timeline
from infra.render.rule_tests_traffic import (
    INSTANCE,
    MSG_SENT,
    REQS_5XX,
    REQS_OK,
    Traffic,
    cumulative,
    latency_buckets,
    share_at_or_below,
)
from infra.render.rules import ROUNDING_SLACK, error_budget, latency_budget, num

T0 = 60
"""Minute at which every fault starts (after an hour of normal traffic)."""
RATIO_WINDOW = 5
"""Window (minutes) of the error-rate and message-failure ratios the alerts read."""

WindowRatio = Callable[[int, int, Engine], float]
"""A ratio the rules record for several windows: ``(minute, window, engine) -> ratio``."""
WindowRate = Callable[[int, int, Engine], float]
"""A per-second rate the rules record for several windows: ``(minute, window, engine)``."""
Build = Callable[[Traffic], tuple[dict[str, str], Condition, Valuation]]
"""Turns normal traffic into a fault: the alert's series labels, condition and value."""


@dataclass
class Scenario:
    name: str
    traffic: Traffic
    expected: Expectation
    timeline: Timeline
    silent: list[Rule] = field(default_factory=list)  # alerts that must stay quiet throughout


def _alerts(files: Sequence[RuleFile], service: str) -> dict[tuple[str, str], Rule]:
    out = {}
    for f in files:
        for g in f.groups:
            for r in g.alerts:
                if r.labels.get("service") == service and r.alert:
                    out[(r.alert, r.labels["severity"])] = r
    return out


def _fault_volume(threshold: float, normal: float) -> float:
    """Per-minute failures that push a 5-minute failure ratio past ``threshold`` at once."""
    return normal * min(19.0, 10 * threshold / (1 - threshold) + 1)


def _from(minute: int) -> Condition:
    """A gauge's condition: holds from ``minute`` on, whatever the engine."""
    return lambda m, _engine: m >= minute


def _constant(value: float) -> Valuation:
    return lambda _m, _engine: value


def _above(window_ratio: WindowRatio, window: int, threshold: float) -> Condition:
    return lambda m, engine: above(window_ratio(m, window, engine), threshold)


def _ratio_value(window_ratio: WindowRatio) -> Valuation:
    return lambda m, engine: window_ratio(m, RATIO_WINDOW, engine)


def service_scenarios(
    cfg: StackConfig, svc: ServiceConfig, files: Sequence[RuleFile]
) -> list[Scenario]:
    """Every fault scenario of ``svc`` whose alert is enabled in ``files``."""
    alerts = _alerts(files, svc.name)
    job = {"job": svc.job_name}
    limit = cfg.costs.supabase_storage_limit_bytes
    a = svc.alerts
    scenarios: list[Scenario] = []

    def add(name: str, alert: str, severity: str, build: Build) -> None:
        rule = alerts.get((alert, severity))
        if rule is None:
            return  # disabled in config
        t = Traffic(svc, T0 + for_minutes(rule) + 40, limit)
        labels, condition, value = build(t)
        expected = Expectation(rule, labels, condition, value)
        scenarios.append(Scenario(name, t, expected, timeline(expected, T0, t.minutes)))

    def health(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
        t.set_from("up", T0, 0.0)
        return {**job, "instance": INSTANCE}, _from(T0), _constant(0.0)

    def error_rate(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
        t.set_from("errors", T0, _fault_volume(a.api_high_error_rate.threshold, REQS_OK))
        errors, ok = cumulative(t.errors), cumulative(t.ok)

        def error_ratio(m: int, window: int, engine: Engine) -> float:
            return ratio([errors], [ok, errors], m, window, engine)

        condition = _above(error_ratio, RATIO_WINDOW, a.api_high_error_rate.threshold)
        return job, condition, _ratio_value(error_ratio)

    def gauge_down(series: str) -> Build:
        def build(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
            t.set_from(series, T0, 0.0)
            return job, _from(T0), _constant(0.0)

        return build

    def slow(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
        # Every request from T0 on is slower than every finite bucket: from the first such
        # minute on, at least a fifth of any 5-minute window sits in the +Inf bucket, so the
        # p95 is the top finite bucket's bound under both engines.
        t.set_from("slow_share", T0, 1.0)
        return job, _from(T0 + 1), _constant(latency_buckets(svc)[-1])

    def cache_cold(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
        low = a.cache_hit_rate_low.threshold / 2
        t.set_from("hit_rate", T0, low)
        return {**job, "cache": "market-intelligence"}, _from(T0), _constant(low)

    def twilio(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
        threshold = a.twilio_message_failure_rate_high.threshold
        # every configured channel fails, so each has its own alert; check the first
        t.set_from("failed", T0, _fault_volume(threshold, MSG_SENT))
        failed, sent = cumulative(t.failed), cumulative(t.sent)

        def failure_ratio(m: int, window: int, engine: Engine) -> float:
            return ratio([failed], [sent, failed], m, window, engine)

        channel = a.twilio_message_failure_rate_high.channels[0]
        condition = _above(failure_ratio, RATIO_WINDOW, threshold)
        return {**job, "channel": channel}, condition, _ratio_value(failure_ratio)

    def storage(t: Traffic) -> tuple[dict[str, str], Condition, Valuation]:
        threshold = a.supabase_storage_near_limit.threshold
        size = limit * (threshold + (1 - threshold) / 2)
        t.set_from("db_size", T0, size)
        return job, _from(T0), _constant(size / limit)

    add("api-down", "ApiHealthCheckDown", a.api_health_check_down.severity, health)
    add("error-spike", "ApiHighErrorRate", a.api_high_error_rate.severity, error_rate)
    db_severity = a.database_connection_failures.severity
    add("db-down", "DatabaseConnectionFailures", db_severity, gauge_down("db_up"))
    add("redis-down", "RedisUnavailable", a.redis_unavailable.severity, gauge_down("cache_up"))
    add("slow", "ApiHighLatencyP95", a.api_high_latency_p95.severity, slow)
    add("cache-cold", "CacheHitRateLow", a.cache_hit_rate_low.severity, cache_cold)
    twilio_severity = a.twilio_message_failure_rate_high.severity
    add("twilio-failing", "TwilioMessageFailureRateHigh", twilio_severity, twilio)
    storage_severity = a.supabase_storage_near_limit.severity
    add("storage-full", "SupabaseStorageNearLimit", storage_severity, storage)

    scenarios.extend(_burn_scenarios(cfg, svc, alerts))
    return scenarios


# --------------------------------------------------------------------------- burn rates


@dataclass(frozen=True)
class _Pair:
    """One window pair of a tier as its rule compares it: windows in minutes (long first,
    then short and, when the pair has one, reset), thresholds as PromQL computes them."""

    windows: tuple[int, ...]
    threshold: float  # ``<decimal product> - <slack>``, as the rule writes it
    min_count: float | None  # ``<min_bad_requests> - <slack>``; None: no guard

    @property
    def long(self) -> int:
        return self.windows[0]

    def holds(self, bad: _Bad, m: int, e: Engine) -> bool:
        """The pair's ``and`` chain: every window at or above the threshold, and at least
        ``min_bad_requests`` bad requests in the long window."""
        if not all(at_or_above(bad.ratio(m, w, e), self.threshold) for w in self.windows):
            return False
        if self.min_count is None:
            return True
        return at_or_above(bad.rate(m, self.long, e) * self.long * 60, self.min_count)


def _pairs(alert: BurnRateAlert, tier: str, budget: float) -> list[_Pair]:
    """The tier's pairs, computed once per scenario (conditions run every minute)."""
    slack = float(ROUNDING_SLACK)
    min_count = alert.min_bad_requests - slack if alert.min_bad_requests else None
    out = []
    for p in alert.page if tier == "page" else alert.ticket:
        windows = alert.pair_windows(p, tier)
        threshold = float(num(p.burn_rate * budget)) - slack
        out.append(_Pair(tuple(parse_duration(w) // 60 for w in windows), threshold, min_count))
    return out


@dataclass(frozen=True)
class _Bad:
    """The bad requests of a burn scenario: their ratio and per-second rate, per window."""

    ratio: WindowRatio
    rate: WindowRate


def _burn_condition(alert: BurnRateAlert, tier: str, bad: _Bad, budget: float) -> Condition:
    pairs = _pairs(alert, tier, budget)

    def holds(minute: int, engine: Engine) -> bool:
        return any(p.holds(bad, minute, engine) for p in pairs)

    return holds


def _burn_value(alert: BurnRateAlert, tier: str, bad: _Bad, budget: float) -> Valuation:
    """The alert's value: PromQL's ``or`` keeps the first window pair that holds, and the
    pair's first operand is its long-window ratio."""
    pairs = _pairs(alert, tier, budget)

    def value(minute: int, engine: Engine) -> float:
        for p in pairs:
            if p.holds(bad, minute, engine):
                return bad.ratio(minute, p.long, engine)
        raise ValueError("the burn-rate alert does not hold at its check time")

    return value


def _burn_scenarios(
    cfg: StackConfig, svc: ServiceConfig, alerts: dict[tuple[str, str], Rule]
) -> list[Scenario]:
    out = []
    for name, cfg_alert, budget, kind in (
        ("ApiErrorBudgetBurn", svc.alerts.api_error_budget_burn, error_budget(svc), "errors"),
        (
            "ApiLatencyBudgetBurn",
            svc.alerts.api_latency_budget_burn,
            latency_budget(svc),
            "latency",
        ),
    ):
        page = alerts.get((name, cfg_alert.page_severity))
        ticket = alerts.get((name, cfg_alert.ticket_severity))
        if page is None or ticket is None:
            continue
        tiers = _BurnTiers(cfg_alert, budget, page, ticket)
        for tier in ("page", "ticket"):
            t = Traffic(svc, T0 + 6 * 60, cfg.costs.supabase_storage_limit_bytes)
            out.append(tiers.scenario(t, kind, tier))
    return out


@dataclass(frozen=True)
class _BurnTiers:
    """The page and ticket rules of one burn-rate alert."""

    config: BurnRateAlert
    budget: float
    page: Rule
    ticket: Rule

    def expect(self, tier: str, bad: _Bad, job: dict[str, str]) -> Expectation:
        return Expectation(
            self.page if tier == "page" else self.ticket,
            job,
            _burn_condition(self.config, tier, bad, self.budget),
            _burn_value(self.config, tier, bad, self.budget),
        )

    def scenario(self, t: Traffic, kind: str, tier: str) -> Scenario:
        """Fast burn: every request bad. Slow burn: halfway between the slowest ticket rate
        and the slowest page rate, so the page tier must stay silent.

        A slow burn's ratio creeps up to its threshold; when it would land on it exactly at an
        evaluation (round numbers do that), rounding decides, so the share moves by 1%."""
        share = 1.0
        if tier == "ticket":
            slowest_ticket = min(w.burn_rate for w in self.config.ticket)
            slowest_page = min(w.burn_rate for w in self.config.page)
            share = min(1.0, self.budget * (slowest_ticket + slowest_page) / 2)
        # A fault on a threshold, or crossing it between the two engines' window edges, is
        # moved a little; the nudges are distinct even when the share is capped at 1.
        for nudge in (1.0, 0.99, 1.01, 0.98, 1.02, 0.97, 0.96, 0.95, 0.93, 0.9):
            tried = min(1.0, share * nudge)
            if nudge > 1 and tried == min(1.0, share):
                continue
            try:
                return self._scenario(t, kind, tier, tried)
            except TooCloseToCall:
                continue
        raise ValueError(
            f"{self.page.alert}: every {tier} scenario puts a ratio on a threshold; "
            "check the burn rates"
        )

    def _scenario(self, t: Traffic, kind: str, tier: str, share: float) -> Scenario:
        bad = _bad(t, kind, share)
        job = {"job": t.svc.job_name}
        silent: list[Rule] = []
        companions: tuple[Expectation, ...] = ()
        if tier == "ticket":
            page = self.expect("page", bad, job)
            if any(page.condition(m, e) for m in range(T0, t.minutes + 1) for e in ENGINES):
                raise ValueError(
                    f"{page.name}: the slow-burn scenario would page; check the burn rates"
                )
            expected, silent = self.expect("ticket", bad, job), [self.page]
        else:
            expected = self.expect("page", bad, job)
            companions = (self.expect("ticket", bad, job),)
        found = timeline(expected, T0, t.minutes, companions)
        t.minutes = min(t.minutes, max(found.fires_at + 30, found.pinned_at))
        return Scenario(f"{kind}-budget-burn-{tier}", t, expected, found, silent)


def _bad(t: Traffic, kind: str, share: float) -> _Bad:
    """Turn ``share`` of the requests from T0 on bad (5xx, or slower than the latency SLO),
    and return the bad requests as the SLO's recording rules compute them."""
    if kind == "errors":
        t.set_from("errors", T0, (REQS_OK + REQS_5XX) * share)
        t.set_from("ok", T0, (REQS_OK + REQS_5XX) * (1 - share))
        errors, ok = cumulative(t.errors), cumulative(t.ok)
        return _Bad(
            lambda m, window, engine: ratio([errors], [ok, errors], m, window, engine),
            lambda m, window, engine: rate(errors, m, window, engine),
        )
    normal_bad = 1 - share_at_or_below(t.svc.slo.latency_threshold_seconds)
    t.set_from("slow_share", T0, max(0.0, (share - normal_bad) / (1 - normal_bad)))
    fast = cumulative(t.requests_at_or_below(t.svc.slo.latency_threshold_seconds))
    count = cumulative([t.total(i) for i in range(len(t.ok))])
    return _Bad(
        lambda m, window, engine: 1 - ratio([fast], [count], m, window, engine),
        lambda m, window, engine: rate(count, m, window, engine) - rate(fast, m, window, engine),
    )

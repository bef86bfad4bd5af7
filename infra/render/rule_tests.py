"""Generate promtool unit tests for every alert of a stack, from the same config as the rules.

For each alert: a fault scenario after one hour of normal traffic; the alert is silent one
minute before its ``for`` boundary and firing at it (checked on the ``ALERTS`` series), and
when firing it carries the exact labels and annotations (checked with ``alert_rule_test``).
A six-hour "normal day" must produce nothing but ``Watchdog``.

Series are sampled every minute. Counters start at 0, and every evaluation lands on a
sample, so Prometheus' ``rate`` over a window is exactly (last - first) / window: the onset
of ratio alerts is computed here the same way, not guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from infra.config import ServiceConfig, StackConfig
from infra.config.models import BurnRateAlert
from infra.config.types import parse_duration
from infra.render.rule_model import Rule, RuleFile
from infra.render.rules import (
    error_budget,
    latency_budget,
    render_rule_files,
)

T0 = 60
"""Minute at which every fault starts (after an hour of normal traffic)."""
NORMAL_DAY = 360
"""Length of the normal-day scenario, in minutes."""

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


# --------------------------------------------------------------------------- series


@dataclass
class Series:
    """One input series: per-minute values of a gauge, or per-minute increments of a counter."""

    labels: str
    per_minute: list[float]
    counter: bool

    def values(self) -> list[float]:
        if not self.counter:
            return list(self.per_minute)
        out, total = [0.0], 0.0
        for inc in self.per_minute[:-1]:
            total += inc
            out.append(total)
        return out


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


def _buckets(svc: ServiceConfig) -> list[float]:
    extra = {svc.slo.latency_threshold_seconds, svc.alerts.api_high_latency_p95.threshold_seconds}
    top = max(extra) * 4
    return sorted({*BASE_BUCKETS, *extra, top})


def _share_at_or_below(le: float) -> float:
    share = 0.0
    for bound, cumulative in NORMAL_LATENCY:
        if bound <= le:
            share = cumulative
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

    def bad_latency(self, i: int) -> float:
        """Requests slower than the latency SLO threshold in minute ``i``."""
        le = self.svc.slo.latency_threshold_seconds
        return self.total(i) * (
            self.slow_share[i] + (1 - self.slow_share[i]) * (1 - _share_at_or_below(le))
        )

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
        for le in _buckets(self.svc):
            below = [
                totals[i] * (1 - self.slow_share[i]) * _share_at_or_below(le)
                for i in range(len(totals))
            ]
            out.append(Series(f'{m.request_duration}_bucket{{{sel}, le="{le:g}"}}', below, True))
        out.append(Series(f'{m.request_duration}_bucket{{{sel}, le="+Inf"}}', totals, True))
        out.append(Series(f"{m.request_duration}_count{{{sel}}}", totals, True))
        return out


# --------------------------------------------------------------------------- exact rates


def window_ratio(bad: Sequence[float], total: Sequence[float], minute: int, window: int) -> float:
    """``rate(bad[w]) / rate(total[w])`` at ``minute`` for per-minute increments: the same
    arithmetic Prometheus does when samples sit on evaluation times and counters start at 0."""
    start = max(0, minute - window)
    b, t = sum(bad[start:minute]), sum(total[start:minute])
    return b / t if t else float("nan")


def first_minute(condition: Callable[[int], bool], start: int, end: int) -> int:
    for minute in range(start, end + 1):
        if condition(minute):
            return minute
    raise ValueError(
        "the fault scenario never meets the alert's condition; make the fault stronger"
    )


def burn_condition(
    alert: BurnRateAlert, tier: str, bad: Sequence[float], total: Sequence[float], budget: float
) -> Callable[[int], bool]:
    pairs = alert.page if tier == "page" else alert.ticket

    def holds(minute: int) -> bool:
        for pair in pairs:
            limit = pair.burn_rate * budget
            long_w = parse_duration(pair.long_window) // 60
            short_w = parse_duration(pair.short_window) // 60
            if (
                window_ratio(bad, total, minute, long_w) > limit
                and window_ratio(bad, total, minute, short_w) > limit
            ):
                return True
        return False

    return holds


# --------------------------------------------------------------------------- annotations


def _go_g(value: float, digits: int) -> str:
    """Go's ``%.<digits>g`` (Python's matches it, two-digit exponent included)."""
    return f"{value:.{digits}g}"


def _go_value(value: float) -> str:
    """Go's ``%v`` of a float64: shortest digits, exponent from 1e+21 or below 1e-4."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def humanize_duration(seconds: float) -> str:
    """Prometheus' ``humanizeDuration`` (template_funcs in the prometheus/template package)."""
    if seconds == 0:
        return "0s"
    sign, v = ("-", -seconds) if seconds < 0 else ("", seconds)
    if v >= 1:
        whole = int(v)
        days, hours = whole // 86400, (whole // 3600) % 24
        minutes, secs = (whole // 60) % 60, whole % 60
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {secs}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {secs}s"
        if minutes:
            return f"{sign}{minutes}m {secs}s"
        return f"{sign}{_go_g(v, 4)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if v >= 1:
            break
        prefix, v = p, v * 1000
    return f"{sign}{_go_g(v, 4)}{prefix}s"


def expand(template: str, value: float, labels: dict[str, str]) -> str:
    """Prometheus' annotation templating, for the few forms the rule templates use."""
    forms: dict[str, Callable[[], str]] = {
        "{{ $value | humanizePercentage }}": lambda: f"{_go_g(value * 100, 4)}%",
        "{{ $value | humanizeDuration }}": lambda: humanize_duration(value),
        "{{ $value }}": lambda: _go_value(value),
    }
    text = template
    for form, render in forms.items():
        if form in text:
            text = text.replace(form, render())
    for name, label_value in labels.items():
        text = text.replace(f"{{{{ $labels.{name} }}}}", label_value)
    if "{{" in text:
        raise ValueError(
            f"annotation uses a template form the test generator cannot expand: {template}"
        )
    return text


# --------------------------------------------------------------------------- scenarios


@dataclass
class Expectation:
    """When and how one alert (one severity tier) fires in one scenario."""

    alert: Rule
    onset: int  # first minute the condition holds
    series_labels: dict[str, str]
    value: Callable[[int], float]

    @property
    def for_minutes(self) -> int:
        return _minutes(self.alert)

    @property
    def fires_at(self) -> int:
        return self.onset + self.for_minutes


@dataclass
class Scenario:
    name: str
    traffic: Traffic
    expectations: list[Expectation]
    silent: list[Rule] = field(default_factory=list)  # alerts that must stay quiet throughout
    # Alerts of the same name (another severity tier) that are also firing at the check time.
    companions: list[Expectation] = field(default_factory=list)


def _alerts(files: Sequence[RuleFile], service: str) -> dict[tuple[str, str], Rule]:
    out = {}
    for f in files:
        for g in f.groups:
            for r in g.alerts:
                if r.labels.get("service") == service and r.alert:
                    out[(r.alert, r.labels["severity"])] = r
    return out


def _minutes(rule: Rule) -> int:
    """Whole test steps (minutes) an alert waits: the tests evaluate once a minute, so a
    sub-minute ``for`` (the local stack's compressed time) fires one step after its onset."""
    return -(-parse_duration(rule.for_) // 60) if rule.for_ else 0


def service_scenarios(
    cfg: StackConfig, svc: ServiceConfig, files: Sequence[RuleFile]
) -> list[Scenario]:
    alerts = _alerts(files, svc.name)
    job = {"job": svc.job_name}
    limit = cfg.costs.supabase_storage_limit_bytes
    scenarios: list[Scenario] = []

    def traffic(minutes: int) -> Traffic:
        return Traffic(svc, minutes, limit)

    def length(*rules: Rule) -> int:
        return T0 + max(_minutes(r) for r in rules) + 40

    def add(
        name: str,
        key: tuple[str, str],
        build: Callable[[Traffic], tuple[int, dict[str, str], Callable[[int], float]]],
    ) -> None:
        rule = alerts.get(key)
        if rule is None:
            return  # disabled in config
        t = traffic(length(rule))
        onset, labels, value = build(t)
        scenarios.append(Scenario(name, t, [Expectation(rule, onset, labels, value)]))

    a = svc.alerts

    def health(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        t.set_from("up", T0, 0.0)
        return T0, {**job, "instance": INSTANCE}, lambda _m: 0.0

    add("api-down", ("ApiHealthCheckDown", a.api_health_check_down.severity), health)

    def error_rate(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        threshold = a.api_high_error_rate.threshold
        t.set_from("errors", T0, REQS_OK * min(19.0, 10 * threshold / (1 - threshold) + 1))
        totals = [t.total(i) for i in range(len(t.ok))]

        def ratio(m: int) -> float:
            return window_ratio(t.errors, totals, m, 5)

        return first_minute(lambda m: ratio(m) > threshold, T0, len(totals) - 1), job, ratio

    add("error-spike", ("ApiHighErrorRate", a.api_high_error_rate.severity), error_rate)

    def db_down(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        t.set_from("db_up", T0, 0.0)
        return T0, job, lambda _m: 0.0

    add("db-down", ("DatabaseConnectionFailures", a.database_connection_failures.severity), db_down)

    def redis_down(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        t.set_from("cache_up", T0, 0.0)
        return T0, job, lambda _m: 0.0

    add("redis-down", ("RedisUnavailable", a.redis_unavailable.severity), redis_down)

    def slow(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        t.set_from("slow_share", T0, 1.0)
        return T0 + 1, job, lambda _m: _buckets(svc)[-1]

    add("slow", ("ApiHighLatencyP95", a.api_high_latency_p95.severity), slow)

    def cache_cold(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        low = a.cache_hit_rate_low.threshold / 2
        t.set_from("hit_rate", T0, low)
        return T0, {**job, "cache": "market-intelligence"}, lambda _m: low

    add("cache-cold", ("CacheHitRateLow", a.cache_hit_rate_low.severity), cache_cold)

    def twilio(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        threshold = a.twilio_message_failure_rate_high.threshold
        t.set_from("failed", T0, MSG_SENT * min(19.0, 10 * threshold / (1 - threshold) + 1))
        attempts = [t.sent[i] + t.failed[i] for i in range(len(t.sent))]

        def ratio(m: int) -> float:
            return window_ratio(t.failed, attempts, m, 5)

        onset = first_minute(lambda m: ratio(m) > threshold, T0, len(attempts) - 1)
        channel = a.twilio_message_failure_rate_high.channels[0]
        return onset, {**job, "channel": channel}, ratio

    rule = alerts.get(("TwilioMessageFailureRateHigh", a.twilio_message_failure_rate_high.severity))
    if rule is not None:
        t = traffic(length(rule))
        onset, labels, value = twilio(t)
        # every configured channel fails, so each has its own alert; check the first
        scenarios.append(Scenario("twilio-failing", t, [Expectation(rule, onset, labels, value)]))

    def storage(t: Traffic) -> tuple[int, dict[str, str], Callable[[int], float]]:
        threshold = a.supabase_storage_near_limit.threshold
        size = limit * (threshold + (1 - threshold) / 2)
        t.set_from("db_size", T0, size)
        return T0, job, lambda _m: size / limit

    add(
        "storage-full",
        ("SupabaseStorageNearLimit", a.supabase_storage_near_limit.severity),
        storage,
    )

    scenarios.extend(_burn_scenarios(svc, alerts, traffic))
    return scenarios


def _burn_value(
    alert: BurnRateAlert, tier: str, bad: Sequence[float], total: Sequence[float], budget: float
) -> Callable[[int], float]:
    """The alert's value: PromQL's ``or`` keeps the first window pair that holds, and the
    pair's first operand is its long-window ratio."""
    pairs = alert.page if tier == "page" else alert.ticket

    def value(minute: int) -> float:
        for pair in pairs:
            limit = pair.burn_rate * budget
            long_w = parse_duration(pair.long_window) // 60
            short_w = parse_duration(pair.short_window) // 60
            long_ratio = window_ratio(bad, total, minute, long_w)
            if long_ratio > limit and window_ratio(bad, total, minute, short_w) > limit:
                return long_ratio
        raise ValueError("the burn-rate alert does not hold at its check time")

    return value


def _burn_scenarios(
    svc: ServiceConfig, alerts: dict[tuple[str, str], Rule], traffic: Callable[[int], Traffic]
) -> list[Scenario]:
    job = {"job": svc.job_name}
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
        for tier, rule, strength in (("page", page, 1.0), ("ticket", ticket, None)):
            # Fast burn: every request bad. Slow burn: just above the slowest ticket rate,
            # below every page rate, so the page tier must stay silent.
            t = traffic(T0 + 6 * 60)
            slowest_ticket = min(w.burn_rate for w in cfg_alert.ticket)
            fastest_page = min(w.burn_rate for w in cfg_alert.page)
            share = 1.0 if strength else min(1.0, budget * (slowest_ticket + fastest_page) / 2)
            if kind == "errors":
                t.set_from("errors", T0, (REQS_OK + REQS_5XX) * share)
                t.set_from("ok", T0, (REQS_OK + REQS_5XX) * (1 - share))
                bad = t.errors
            else:
                normal_bad = 1 - _share_at_or_below(svc.slo.latency_threshold_seconds)
                t.set_from("slow_share", T0, max(0.0, (share - normal_bad) / (1 - normal_bad)))
                bad = [t.bad_latency(i) for i in range(len(t.ok))]
            totals = [t.total(i) for i in range(len(t.ok))]
            holds = burn_condition(cfg_alert, tier, bad, totals, budget)
            onset = first_minute(holds, T0, len(totals) - 1 - _minutes(rule))
            value = _burn_value(cfg_alert, tier, bad, totals, budget)
            expectation = Expectation(rule, onset, job, value)
            silent, companions = [], []
            if tier == "ticket":
                page_holds = burn_condition(cfg_alert, "page", bad, totals, budget)
                if any(page_holds(m) for m in range(T0, len(totals))):
                    raise ValueError(
                        f"{name}: the slow-burn scenario would page; check the burn rates"
                    )
                silent.append(page)
            else:
                ticket_holds = burn_condition(cfg_alert, "ticket", bad, totals, budget)
                at, wait = expectation.fires_at, _minutes(ticket)
                if all(ticket_holds(m) for m in range(at - wait, at + 1)):
                    ticket_value = _burn_value(cfg_alert, "ticket", bad, totals, budget)
                    companions.append(Expectation(ticket, at - wait, job, ticket_value))
            t.minutes = min(len(totals) - 1, onset + _minutes(rule) + 30)
            out.append(Scenario(f"{kind}-budget-burn-{tier}", t, [expectation], silent, companions))
    return out


# --------------------------------------------------------------------------- test files


def _alert_labels(exp: Expectation) -> dict[str, str]:
    return {**exp.series_labels, **exp.alert.labels}


def _alerts_series(rule: Rule, state: str) -> str:
    return (
        f'ALERTS{{alertname="{rule.alert}", alertstate="{state}", '
        f'severity="{rule.labels["severity"]}", service="{rule.labels["service"]}"}}'
    )


def _scenario_test(scenario: Scenario) -> dict[str, Any]:
    t = scenario.traffic
    n = t.minutes + 1
    series = [{"series": s.labels, "values": encode(s.values()[:n])} for s in t.series()]
    promql: list[dict[str, Any]] = []
    rule_tests: list[dict[str, Any]] = []
    for exp in scenario.expectations:
        labels = _alert_labels(exp)
        sample = {"alertname": exp.alert.alert or "", "alertstate": "firing", **labels}
        sample_labels = (
            "ALERTS{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(sample.items())) + "}"
        )
        # Just before the `for` boundary: not firing (pending, or not yet active).
        promql.append(
            {
                "expr": _alerts_series(exp.alert, "firing"),
                "eval_time": f"{exp.fires_at - 1}m",
                "exp_samples": [],
            }
        )
        promql.append(
            {
                "expr": _alerts_series(exp.alert, "firing"),
                "eval_time": f"{exp.fires_at}m",
                "exp_samples": [{"labels": sample_labels, "value": 1}],
            }
        )
        # Before the fault: quiet.
        promql.append(
            {
                "expr": _alerts_series(exp.alert, "firing"),
                "eval_time": f"{T0 - 1}m",
                "exp_samples": [],
            }
        )
        at = exp.fires_at
        annotations = {
            k: expand(v, exp.value(at), labels) for k, v in exp.alert.annotations.items()
        }
        expected = [{"exp_labels": labels, "exp_annotations": annotations}]
        for other in scenario.companions:
            other_labels = _alert_labels(other)
            expected.append(
                {
                    "exp_labels": other_labels,
                    "exp_annotations": {
                        k: expand(v, other.value(at), other_labels)
                        for k, v in other.alert.annotations.items()
                    },
                }
            )
        rule_tests.append(
            {"eval_time": f"{at}m", "alertname": exp.alert.alert, "exp_alerts": expected}
        )
    for rule in scenario.silent:
        for minute in range(T0, t.minutes + 1, 30):
            promql.append(
                {
                    "expr": _alerts_series(rule, "firing"),
                    "eval_time": f"{minute}m",
                    "exp_samples": [],
                }
            )
    names = [e.alert.alert or "" for e in scenario.expectations]
    return {
        "name": f"{scenario.name}: {', '.join(names)} fires at its for boundary",
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": promql,
        "alert_rule_test": rule_tests,
    }


def _normal_day_test(
    cfg: StackConfig, svc: ServiceConfig, files: Sequence[RuleFile]
) -> dict[str, Any]:
    t = Traffic(svc, NORMAL_DAY, cfg.costs.supabase_storage_limit_bytes)
    names = sorted({r.alert for f in files for g in f.groups for r in g.alerts if r.alert})
    checks: list[dict[str, Any]] = []
    for minute in (10, 60, 180, NORMAL_DAY):
        for name in names:
            if name == "Watchdog":
                continue
            checks.append({"eval_time": f"{minute}m", "alertname": name, "exp_alerts": []})
    watchdog = next(
        (
            r
            for f in files
            for g in f.groups
            for r in g.alerts
            if r.alert == "Watchdog" and r.labels.get("service") == svc.name
        ),
        None,
    )
    if watchdog is not None:
        checks.append(
            {
                "eval_time": f"{NORMAL_DAY}m",
                "alertname": "Watchdog",
                "exp_alerts": [
                    {
                        "exp_labels": dict(watchdog.labels),
                        "exp_annotations": dict(watchdog.annotations),
                    }
                ],
            }
        )
    return {
        "name": f"normal day for {svc.name}: 6h of healthy traffic fires nothing but Watchdog",
        "interval": "1m",
        "input_series": [{"series": s.labels, "values": encode(s.values())} for s in t.series()],
        "alert_rule_test": checks,
    }


def render_rule_test_files(cfg: StackConfig, stack: str) -> dict[str, str]:
    """``{alert_rules/<stack>/tests/<name>.test.yml: text}``: promtool unit tests."""
    files = render_rule_files(cfg, stack)
    rule_files = [f"../{f.filename}" for f in files]
    out: dict[str, str] = {}
    banner = (
        f"# Generated by `monitoring render --stack {stack}` from Pulumi.{stack}.yaml "
        "(infra/render/rule_tests.py) - do not edit.\n"
    )
    for svc in cfg.services:
        scenarios = service_scenarios(cfg, svc, files)
        tests = [_normal_day_test(cfg, svc, files)] + [_scenario_test(s) for s in scenarios]
        document = {"rule_files": rule_files, "evaluation_interval": "1m", "tests": tests}
        text = banner + yaml.safe_dump(document, sort_keys=False, width=200, allow_unicode=True)
        out[f"alert_rules/{stack}/tests/{svc.name}.test.yml"] = text
    return out

"""Typed stack configuration: one strict model for everything that watches a service.

Defaults come from the team's monitoring spec (seed); every value can be overridden in
``Pulumi.<stack>.yaml``. Models are strict (``extra="forbid"``, no string-to-number coercion)
so that a typo or a ``"5%"`` fails at load time, with the path, before anything is rendered
or any API is called.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from infra.config.baseline import NORMAL_ERROR_RATIO, normal_slow_share
from infra.config.grafana import DashboardsConfig, GrafanaConfig
from infra.config.routing import RoutingConfig, never_page_outside_production
from infra.config.sentry import SentryConfig
from infra.config.types import (
    ForDuration,
    HttpUrl,
    LabelName,
    MetricName,
    PositiveDuration,
    Ratio,
    Seconds,
    Severity,
    Slug,
    Strict,
    UrlPath,
    WindowDuration,
    duration_between,
    format_le,
    parse_duration,
    shown,
)
from infra.config.uptimerobot import UptimeRobotConfig

# --------------------------------------------------------------------------- metrics


class MetricNames(Strict):
    """Series names the service exposes; override when the instrumentation differs."""

    requests: MetricName = "http_requests_total"
    request_duration: MetricName = "http_request_duration_seconds"
    status_label: LabelName = "status"
    up: MetricName = "up"
    dependency_up: MetricName = "dependency_up"
    db_connection_errors: MetricName = "db_connection_errors_total"
    cache_hit_rate: MetricName = "cache_hit_rate"
    cache_evictions: MetricName = "cache_evictions_total"
    messages_sent: MetricName = "messages_sent_total"
    messages_failed: MetricName = "messages_failed_total"
    leads_created: MetricName = "leads_created_total"
    lead_conversions: MetricName = "lead_conversions_total"
    appraisal_requests: MetricName = "appraisal_requests_total"
    perplexity_api_calls: MetricName = "perplexity_api_calls_total"
    db_query_duration: MetricName = "db_query_duration_seconds"
    redis_command_duration: MetricName = "redis_command_duration_seconds"
    external_api_requests: MetricName = "external_api_requests_total"
    database_size: MetricName = "supabase_database_size_bytes"


# --------------------------------------------------------------------------- alerts


class AlertBase(Strict):
    enabled: bool = True
    for_: Annotated[ForDuration, Field(alias="for")]
    severity: Severity


class HealthCheckDown(AlertBase):
    """``/health`` down (scrape target down) for more than ``for``."""

    for_: Annotated[ForDuration, Field(alias="for")] = "5m"
    severity: Severity = Severity.critical


def _at_most_half(value: float) -> float:
    if value > 0.5:
        raise ValueError(
            f"must be at most 0.5 (got {value:g}): with more than half of all attempts failing "
            "the service is down, which the down and burn-rate alerts already page on"
        )
    return value


FailureRatio = Annotated[Ratio, AfterValidator(_at_most_half)]
"""A failure-rate threshold: a ratio of at most 0.5."""


class HighErrorRate(AlertBase):
    """Share of 5xx answers above ``threshold``."""

    threshold: FailureRatio = 0.01
    for_: Annotated[ForDuration, Field(alias="for")] = "5m"
    severity: Severity = Severity.critical


class DatabaseConnectionFailures(AlertBase):
    """Database check down, or more than ``max_errors`` connection errors in ``window``."""

    max_errors: Annotated[int, Field(ge=0, le=1_000_000)] = 5
    window: Annotated[WindowDuration, duration_between("1m", "1d")] = "5m"
    for_: Annotated[ForDuration, Field(alias="for")] = "2m"
    severity: Severity = Severity.critical


class RedisUnavailable(AlertBase):
    """The cache dependency check reports Redis completely unavailable."""

    for_: Annotated[ForDuration, Field(alias="for")] = "2m"
    severity: Severity = Severity.critical


class HighLatencyP95(AlertBase):
    """p95 request latency above ``threshold_seconds``."""

    threshold_seconds: Seconds = 0.5
    for_: Annotated[ForDuration, Field(alias="for")] = "10m"
    severity: Severity = Severity.warning


class CacheHitRateLow(AlertBase):
    """Cache hit rate below ``threshold``."""

    threshold: Ratio = 0.8
    for_: Annotated[ForDuration, Field(alias="for")] = "15m"
    severity: Severity = Severity.warning


class MessageFailureRateHigh(AlertBase):
    """Failed / attempted (sent + failed) Twilio messages above ``threshold``."""

    threshold: FailureRatio = 0.05
    channels: Annotated[tuple[Slug, ...], Field(min_length=1, max_length=20)] = ("whatsapp",)
    for_: Annotated[ForDuration, Field(alias="for")] = "10m"
    severity: Severity = Severity.warning

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({c for c in value if value.count(c) > 1})
        if dupes:
            raise ValueError(f"{dupes} listed more than once; list each channel once")
        return value


class StorageNearLimit(AlertBase):
    """Supabase database size above ``threshold`` of the plan limit (``costs``)."""

    threshold: Ratio = 0.9
    for_: Annotated[ForDuration, Field(alias="for")] = "30m"
    severity: Severity = Severity.warning


BURN_RATE_LIMIT = 0.8
"""The most ``burn_rate`` times the budget may be: the share of bad requests a window fires at.
Above it the window fires only in an outage, and so late that the generated test's outage
(six hours) cannot show it firing."""


def _percent(value: float) -> str:
    return f"; write {value / 100:g} for {value:g}%" if 1 <= value <= 100 else ""


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.4g}%"


_TWO_SCRAPES = "; rate() needs at least two scrapes in its window"


class BurnRateWindow(Strict):
    """One multiwindow burn-rate condition (SRE Workbook, "Alerting on SLOs", table 5-8)."""

    # Below 1 the budget outlasts the SLO window: there is nothing to alert on.
    burn_rate: Annotated[float, Field(ge=1, le=1000)]
    long_window: Annotated[WindowDuration, duration_between("1m", "90d", _TWO_SCRAPES)]
    short_window: Annotated[WindowDuration, duration_between("1m", "90d", _TWO_SCRAPES)]

    @model_validator(mode="after")
    def _short_inside_long(self) -> BurnRateWindow:
        if parse_duration(self.short_window) >= parse_duration(self.long_window):
            raise ValueError(
                f"short_window {self.short_window} must be shorter than long_window "
                f"{self.long_window}: the short window confirms the long one still burns"
            )
        return self


BurnFor = Annotated[
    PositiveDuration,
    duration_between(
        "1s",
        "1h",
        "; a burn-rate alert already averages over its windows, so its for only debounces",
    ),
]


def _page_windows() -> tuple[BurnRateWindow, ...]:
    return (
        BurnRateWindow(burn_rate=14.4, long_window="1h", short_window="5m"),
        BurnRateWindow(burn_rate=6, long_window="6h", short_window="30m"),
    )


def _ticket_windows() -> tuple[BurnRateWindow, ...]:
    return (
        BurnRateWindow(burn_rate=3, long_window="1d", short_window="2h"),
        BurnRateWindow(burn_rate=1, long_window="3d", short_window="6h"),
    )


class BurnRateAlert(Strict):
    """Multiwindow multi-burn-rate alerting on one SLO: fast burn pages, slow burn tickets.

    A window pair fires when the bad-request ratio is at or above ``burn_rate`` times the
    budget (``>=``) over its long and its short window, and the long window holds at least
    ``min_bad_requests`` bad requests. A page pair also needs ``page_reset_window`` (when
    shorter than its short window) to burn, so that a page clears that soon after recovery.
    """

    enabled: bool = True
    page: tuple[BurnRateWindow, ...] = Field(
        default_factory=_page_windows, min_length=1, max_length=5
    )
    # No ``for`` by default: the windows already average; a ``for`` only delays the page.
    page_for: BurnFor | None = None
    page_severity: Severity = Severity.critical
    page_reset_window: (
        Annotated[WindowDuration, duration_between("1m", "1h", _TWO_SCRAPES)] | None
    ) = "5m"
    ticket: tuple[BurnRateWindow, ...] = Field(
        default_factory=_ticket_windows, min_length=1, max_length=5
    )
    ticket_for: BurnFor | None = None
    ticket_severity: Severity = Severity.warning
    # At low traffic a handful of bad requests is a high ratio: below this count no pair fires.
    min_bad_requests: Annotated[int, Field(ge=0, le=100_000)] = 4

    def pair_windows(self, pair: BurnRateWindow, tier: str) -> tuple[str, ...]:
        """The windows a pair compares, in the rule's order: long, short and, for a page pair
        whose short window is longer than ``page_reset_window``, the reset window."""
        windows = (pair.long_window, pair.short_window)
        reset = self.page_reset_window if tier == "page" else None
        if reset is None or parse_duration(reset) >= parse_duration(pair.short_window):
            return windows
        return (*windows, reset)

    @model_validator(mode="after")
    def _tiers_apart(self) -> BurnRateAlert:
        if self.page_severity == self.ticket_severity:
            raise ValueError(
                f"page_severity and ticket_severity are both {self.page_severity.value!r}; "
                "the fast and slow burn tiers need different severities"
            )
        fastest_ticket = max(w.burn_rate for w in self.ticket)
        slowest_page = min(w.burn_rate for w in self.page)
        if fastest_ticket * 2 > slowest_page:
            raise ValueError(
                f"ticket burn rate {fastest_ticket:g} must be at most half the slowest page "
                f"burn rate {slowest_page:g}, or a slow burn pages too (SRE Workbook: "
                "page at 14.4 and 6, ticket at 3 and 1)"
            )
        return self

    def windows(self) -> tuple[tuple[str, int, BurnRateWindow], ...]:
        """Every window pair with its config key (``page``/``ticket``) and index."""
        return tuple(
            (tier, i, w)
            for tier, pairs in (("page", self.page), ("ticket", self.ticket))
            for i, w in enumerate(pairs)
        )


class AlertsConfig(Strict):
    """Per-alert thresholds, ``for`` durations and severities (alert catalog, DESIGN.md)."""

    api_health_check_down: HealthCheckDown = HealthCheckDown()
    api_high_error_rate: HighErrorRate = HighErrorRate()
    database_connection_failures: DatabaseConnectionFailures = DatabaseConnectionFailures()
    redis_unavailable: RedisUnavailable = RedisUnavailable()
    api_high_latency_p95: HighLatencyP95 = HighLatencyP95()
    cache_hit_rate_low: CacheHitRateLow = CacheHitRateLow()
    twilio_message_failure_rate_high: MessageFailureRateHigh = MessageFailureRateHigh()
    api_error_budget_burn: BurnRateAlert = BurnRateAlert()
    api_latency_budget_burn: BurnRateAlert = BurnRateAlert()
    supabase_storage_near_limit: StorageNearLimit = StorageNearLimit()


# --------------------------------------------------------------------------- SLOs


class SloConfig(Strict):
    """SLA targets from the seed: uptime 99.9%, error rate < 0.1%, p95 < 200 ms, p50 < 100 ms."""

    availability: float = 0.999
    latency_objective: float = 0.95
    latency_threshold_seconds: Seconds = 0.2
    latency_p50_seconds: Seconds = 0.1
    window: Annotated[PositiveDuration, duration_between("1d", "90d")] = "30d"

    @field_validator("availability")
    @classmethod
    def _availability(cls, value: float) -> float:
        if not 0.9 <= value <= 0.99999:
            raise ValueError(
                f"must be a ratio between 0.9 and 0.99999 (got {value:g}){_percent(value)}: "
                "below 90% the fast-burn alerts could never fire; above five nines the 30-day "
                "budget is under a minute, finer than the rules' per-minute rates"
            )
        return value

    @field_validator("latency_objective")
    @classmethod
    def _latency_objective(cls, value: float) -> float:
        if not 0.5 <= value <= 0.9999:
            raise ValueError(
                f"must be a ratio between 0.5 (a median objective) and 0.9999 (got {value:g})"
                f"{_percent(value) or '; write 0.95 for 95% of requests under the threshold'}"
            )
        return value

    @property
    def latency_bucket(self) -> str:
        """The ``le`` label value of the histogram bucket at the latency threshold, written
        exactly as Prometheus clients write it (``0.2`` → ``"0.2"``)."""
        return format_le(self.latency_threshold_seconds)

    @property
    def error_budget(self) -> float:
        return round(1 - self.availability, 12)

    @property
    def latency_budget(self) -> float:
        return round(1 - self.latency_objective, 12)


DEFAULT_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
"""The Prometheus clients' default request-duration buckets plus 0.2 (the seed's p95 SLO)."""


# --------------------------------------------------------------------------- services


class ServiceConfig(Strict):
    """One watched service. A stack may hold several."""

    name: Slug
    job: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    base_url: HttpUrl
    health_path: UrlPath = "/health"
    ready_path: UrlPath = "/ready"
    metrics: MetricNames = MetricNames()
    latency_buckets: Annotated[tuple[Seconds, ...], Field(min_length=1, max_length=50)] = (
        DEFAULT_LATENCY_BUCKETS
    )
    """The ``le`` bounds of the service's request-duration histogram, in seconds."""
    alerts: AlertsConfig = AlertsConfig()
    slo: SloConfig = SloConfig()

    @field_validator("latency_buckets")
    @classmethod
    def _increasing(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("list each bucket once, in increasing order, such as [0.1, 0.2, 0.5]")
        return value

    @field_validator("slo")
    @classmethod
    def _threshold_is_a_bucket(cls, slo: SloConfig, info: ValidationInfo) -> SloConfig:
        buckets = info.data.get("latency_buckets")  # absent when it failed validation
        if buckets is not None and slo.latency_threshold_seconds not in buckets:
            listed = ", ".join(format_le(b) for b in buckets)
            raise ValueError(
                f"latency_threshold_seconds {format_le(slo.latency_threshold_seconds)} is not "
                f"one of the service's histogram buckets (latency_buckets: {listed}), so the "
                "latency SLO would match no series; use one of them, or add it to "
                "latency_buckets if the service exposes that bucket"
            )
        return slo

    @model_validator(mode="after")
    def _slo_alerts_can_fire(self) -> ServiceConfig:
        slo, alerts = self.slo, self.alerts
        for key, alert, budget, what in (
            ("api_error_budget_burn", alerts.api_error_budget_burn, slo.error_budget, "error"),
            (
                "api_latency_budget_burn",
                alerts.api_latency_budget_burn,
                slo.latency_budget,
                "latency",
            ),
        ):
            for tier, i, w in alert.windows():
                if parse_duration(w.long_window) > parse_duration(slo.window):
                    raise ValueError(
                        f"alerts.{key}.{tier}[{i}].long_window {w.long_window} is longer than "
                        f"slo.window {slo.window}; burn-rate windows lie inside the SLO window"
                    )
                if alert.enabled and w.burn_rate * budget > BURN_RATE_LIMIT:
                    raise ValueError(
                        f"alerts.{key}.{tier}[{i}].burn_rate {w.burn_rate:g} times the {what} "
                        f"budget {_pct(budget)} fires only when over {_pct(w.burn_rate * budget)} "
                        f"of requests are bad; the most allowed is {_pct(BURN_RATE_LIMIT)} (an "
                        "outage, which the other alerts catch sooner); lower the burn rate or "
                        "the objective's strictness"
                    )
        self._normal_traffic_within_budget()
        return self

    def _normal_traffic_within_budget(self) -> None:
        """Reject an SLO that the tests' normal traffic (``infra/config/baseline.py``) burns."""
        slo, alerts = self.slo, self.alerts
        errors = alerts.api_error_budget_burn
        if errors.enabled:
            slowest = min(w.burn_rate for w in errors.ticket)
            if slowest * slo.error_budget <= NORMAL_ERROR_RATIO:
                raise ValueError(
                    f"slo.availability {slo.availability:g} leaves an error budget of "
                    f"{_pct(slo.error_budget)}; normal traffic ({_pct(NORMAL_ERROR_RATIO)} errors, "
                    "the generated tests' normal day) already burns it at the slowest ticket "
                    f"burn rate ({slowest:g}x), so validate could never pass; write an "
                    f"availability below {1 - NORMAL_ERROR_RATIO / slowest:.6g} or raise the "
                    "ticket burn rates"
                )
        latency = alerts.api_latency_budget_burn
        if latency.enabled:
            slowest = min(w.burn_rate for w in latency.ticket)
            slow = normal_slow_share(slo.latency_threshold_seconds)
            if slowest * slo.latency_budget <= slow:
                raise ValueError(
                    f"slo.latency_threshold_seconds {format_le(slo.latency_threshold_seconds)} "
                    f"with latency_objective {slo.latency_objective:g}: {_pct(slow)} of normal "
                    "requests are slower than that (the generated tests' normal day, p95 about "
                    f"120 ms), more than the budget of {_pct(slo.latency_budget)} allows at the "
                    f"slowest ticket burn rate ({slowest:g}x), so validate could never pass; "
                    "raise the threshold or lower latency_objective"
                )

    @field_validator("job")
    @classmethod
    def _job(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
            raise ValueError(
                f"{shown(value)} is not a usable Prometheus job name; use letters, digits, "
                "'_', '.', ':' and '-'"
            )
        return value

    @property
    def job_name(self) -> str:
        """The ``job`` label Prometheus scrapes this service under (default: the name)."""
        return self.job or self.name

    @property
    def health_url(self) -> str:
        return self.base_url + self.health_path

    @property
    def ready_url(self) -> str:
        return self.base_url + self.ready_path


class CostConfig(Strict):
    """Budget facts used by the capacity and quota alerts (seed: Cost Monitoring)."""

    # 1 MiB to 1 PiB: Supabase plans are sized in GiB and TiB.
    supabase_storage_limit_bytes: Annotated[int, Field(ge=1024**2, le=1024**5)] = 8 * 1024**3
    sentry_monthly_error_quota: Annotated[int, Field(gt=0, le=1_000_000_000)] = 5000
    monthly_budget_eur: Annotated[float, Field(gt=0, le=10_000_000)] = 55.0


class PrometheusConfig(Strict):
    """How often rules are evaluated (and, for the local stack, scraped)."""

    evaluation_interval: Annotated[PositiveDuration, duration_between("1s", "5m")] = "30s"
    scrape_interval: Annotated[PositiveDuration, duration_between("1s", "5m")] = "30s"
    for_scale: Annotated[float, Field(ge=0.001, le=1)] = 1.0


class RunbookConfig(Strict):
    base_url: HttpUrl = "https://github.com/agenzia-ai/agenzia-monitoring/blob/main/runbooks"


# --------------------------------------------------------------------------- the stack


MAX_SERVICES = 3


class StackConfig(Strict):
    """Everything one environment (Pulumi stack) declares."""

    environment: Slug
    # Each service renders four dashboards and its promtool tests: 0.1-0.25 s of CPU; three
    # keep ``monitoring render`` of a stack under 2 s on a busy two-core machine.
    services: Annotated[tuple[ServiceConfig, ...], Field(min_length=1, max_length=MAX_SERVICES)]
    routing: RoutingConfig
    uptimerobot: UptimeRobotConfig = UptimeRobotConfig()
    sentry: SentryConfig
    grafana: GrafanaConfig
    dashboards: DashboardsConfig = DashboardsConfig()
    costs: CostConfig = CostConfig()
    prometheus: PrometheusConfig = PrometheusConfig()
    runbooks: RunbookConfig = RunbookConfig()

    _staging_never_pages = field_validator("routing")(never_page_outside_production)

    @model_validator(mode="after")
    def _unique_services(self) -> StackConfig:
        for attr in ("name", "job_name"):
            values = [getattr(s, attr) for s in self.services]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"service {attr}s must be unique; {dupes} repeat")
        return self

"""Typed stack configuration: one strict model for everything that watches a service.

Defaults come from the team's monitoring spec (seed); every value can be overridden in
``Pulumi.<stack>.yaml``. Models are strict (``extra="forbid"``, no string-to-number coercion)
so that a typo or a ``"5%"`` fails at load time, with the path, before anything is rendered
or any API is called.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from infra.config.grafana import DashboardsConfig, GrafanaConfig
from infra.config.routing import RoutingConfig, never_page_outside_production
from infra.config.sentry import SentryConfig
from infra.config.types import (
    Duration,
    HttpUrl,
    LabelName,
    MetricName,
    PositiveFloat,
    Ratio,
    Severity,
    Slug,
    Strict,
    UrlPath,
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
    for_: Annotated[Duration, Field(alias="for")]
    severity: Severity


class HealthCheckDown(AlertBase):
    """``/health`` down (scrape target down) for more than ``for``."""

    for_: Annotated[Duration, Field(alias="for")] = "5m"
    severity: Severity = Severity.critical


class HighErrorRate(AlertBase):
    """Share of 5xx answers above ``threshold``."""

    threshold: Ratio = 0.01
    for_: Annotated[Duration, Field(alias="for")] = "5m"
    severity: Severity = Severity.critical


class DatabaseConnectionFailures(AlertBase):
    """Database check down, or more than ``max_errors`` connection errors in ``window``."""

    max_errors: Annotated[int, Field(ge=0)] = 5
    window: Duration = "5m"
    for_: Annotated[Duration, Field(alias="for")] = "2m"
    severity: Severity = Severity.critical


class RedisUnavailable(AlertBase):
    """The cache dependency check reports Redis completely unavailable."""

    for_: Annotated[Duration, Field(alias="for")] = "2m"
    severity: Severity = Severity.critical


class HighLatencyP95(AlertBase):
    """p95 request latency above ``threshold_seconds``."""

    threshold_seconds: PositiveFloat = 0.5
    for_: Annotated[Duration, Field(alias="for")] = "10m"
    severity: Severity = Severity.warning


class CacheHitRateLow(AlertBase):
    """Cache hit rate below ``threshold``."""

    threshold: Ratio = 0.8
    for_: Annotated[Duration, Field(alias="for")] = "15m"
    severity: Severity = Severity.warning


class MessageFailureRateHigh(AlertBase):
    """Failed / attempted (sent + failed) Twilio messages above ``threshold``."""

    threshold: Ratio = 0.05
    channels: Annotated[tuple[Slug, ...], Field(min_length=1)] = ("whatsapp",)
    for_: Annotated[Duration, Field(alias="for")] = "10m"
    severity: Severity = Severity.warning


class StorageNearLimit(AlertBase):
    """Supabase database size above ``threshold`` of the plan limit (``costs``)."""

    threshold: Ratio = 0.9
    for_: Annotated[Duration, Field(alias="for")] = "30m"
    severity: Severity = Severity.warning


class BurnRateWindow(Strict):
    """One multiwindow burn-rate condition (SRE Workbook, "Alerting on SLOs", table 5-8)."""

    burn_rate: PositiveFloat
    long_window: Duration
    short_window: Duration


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
    """Multiwindow multi-burn-rate alerting on one SLO: fast burn pages, slow burn tickets."""

    enabled: bool = True
    page: tuple[BurnRateWindow, ...] = Field(default_factory=_page_windows, min_length=1)
    page_for: Duration = "2m"
    page_severity: Severity = Severity.critical
    ticket: tuple[BurnRateWindow, ...] = Field(default_factory=_ticket_windows, min_length=1)
    ticket_for: Duration = "15m"
    ticket_severity: Severity = Severity.warning


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

    availability: Ratio = 0.999
    latency_objective: Ratio = 0.95
    latency_threshold_seconds: PositiveFloat = 0.2
    latency_p50_seconds: PositiveFloat = 0.1
    window: Duration = "30d"

    @property
    def latency_bucket(self) -> str:
        """The ``le`` label value of the histogram bucket at the latency threshold."""
        return f"{self.latency_threshold_seconds:g}"


# --------------------------------------------------------------------------- services


class ServiceConfig(Strict):
    """One watched service. A stack may hold several."""

    name: Slug
    job: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    base_url: HttpUrl
    health_path: UrlPath = "/health"
    ready_path: UrlPath = "/ready"
    metrics: MetricNames = MetricNames()
    alerts: AlertsConfig = AlertsConfig()
    slo: SloConfig = SloConfig()

    @field_validator("job")
    @classmethod
    def _job(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
            raise ValueError(
                f"{value!r} is not a usable Prometheus job name; use letters, digits, "
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

    supabase_storage_limit_bytes: Annotated[int, Field(gt=0)] = 8 * 1024**3
    sentry_monthly_error_quota: Annotated[int, Field(gt=0)] = 5000
    monthly_budget_eur: Annotated[float, Field(gt=0)] = 55.0


class PrometheusConfig(Strict):
    """How often rules are evaluated (and, for the local stack, scraped)."""

    evaluation_interval: Duration = "30s"
    scrape_interval: Duration = "30s"
    for_scale: Annotated[float, Field(gt=0, le=1)] = 1.0


class RunbookConfig(Strict):
    base_url: HttpUrl = "https://github.com/agenzia-ai/agenzia-monitoring/blob/main/runbooks"


# --------------------------------------------------------------------------- the stack


class StackConfig(Strict):
    """Everything one environment (Pulumi stack) declares."""

    environment: Slug
    services: Annotated[tuple[ServiceConfig, ...], Field(min_length=1)]
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

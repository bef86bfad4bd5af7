"""What each dashboard shows, as plain data: panels, PromQL, units and threshold lines.

Kept apart from the Grafana SDK (``dashboards_panels``) so that the queries and thresholds can
be read, reviewed and tested without building any JSON. Every series name comes from the
service's ``metrics`` config, every selector from ``service.job_name``, and every threshold line
from the same config value the matching alert reads, so a dashboard line and an alert cannot
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infra.config import ServiceConfig
from infra.render.rules import error_budget, job_selector, latency_budget, long_windows, num

WINDOW = "5m"
"""Rate window of every panel. Fixed (not ``$__rate_interval``) because the alerts evaluate 5m
windows: a panel compared against an alert's threshold line must show what the alert sees."""

EXTERNAL_API_SUCCESS = "2..|success|ok"
"""``status`` values of ``external_api_requests_total`` that count as a success; anything else
(HTTP 4xx/5xx, ``error``, ``timeout``…) counts as a failure."""

PanelKind = Literal["timeseries", "stat"]
Direction = Literal["above", "below"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Threshold:
    """A threshold line: red on the bad side of ``value``.

    ``source`` names the config value it comes from, so that a reviewer (and the tests) can
    trace every line back to an alert.
    """

    value: float
    bad: Direction
    source: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: PanelKind
    queries: tuple[Query, ...]
    unit: str
    description: str = ""
    threshold: Threshold | None = None
    target: float | None = None
    """An objective drawn as an orange step before the red threshold (e.g. the SLO p95)."""
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class DashboardSpec:
    key: str
    """Stable slug: part of the file name and of the uid. Never change it (links break)."""
    title: str
    panels: tuple[PanelSpec, ...]


def _sel(svc: ServiceConfig, *matchers: str) -> str:
    return "{" + ", ".join((job_selector(svc), *matchers)) + "}"


def _quantiles(metric_bucket: str, sel: str) -> tuple[Query, ...]:
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by (le) (rate({metric_bucket}{sel}[{WINDOW}])))",
            f"p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    )


def _rate(metric: str, sel: str, by: str = "") -> str:
    grouping = f" by ({by}) " if by else ""
    return f"sum{grouping}(rate({metric}{sel}[{WINDOW}]))"


def _failure_ratio(failed: str, total: str) -> str:
    """``failed / total`` per ``by``, 0 (not a gap) when no failure series exist yet.

    Counters such as ``status="5xx"`` appear only after the first failure; ``or 0 * total``
    fills the gap with a zero carrying the same labels.
    """
    return f"({failed} or 0 * {total}) / {total}"


def api_health(svc: ServiceConfig) -> DashboardSpec:
    m, alerts, slo = svc.metrics, svc.alerts, svc.slo
    sel = _sel(svc)
    errors = _sel(svc, f'{m.status_label}=~"5.."')
    err_rate = _failure_ratio(_rate(m.requests, errors), _rate(m.requests, sel))
    budget_panels = _budget_panels(svc, errors)
    return DashboardSpec(
        key="api-health",
        title="API Health",
        panels=(
            PanelSpec(
                "Request rate by handler",
                "timeseries",
                (Query(_rate(m.requests, sel, "handler"), "{{handler}}"),),
                unit="reqps",
            ),
            PanelSpec(
                "Error rate (5xx share of requests)",
                "timeseries",
                (Query(err_rate, "5xx share"),),
                unit="percentunit",
                threshold=Threshold(
                    alerts.api_high_error_rate.threshold, "above", "alerts.api_high_error_rate"
                ),
                min_value=0,
            ),
            PanelSpec(
                "Latency p50 / p95 / p99",
                "timeseries",
                _quantiles(f"{m.request_duration}_bucket", sel),
                unit="s",
                description=(
                    f"Orange: SLO p95 objective ({num(slo.latency_threshold_seconds)}s). "
                    "Red: the ApiHighLatencyP95 alert threshold."
                ),
                threshold=Threshold(
                    alerts.api_high_latency_p95.threshold_seconds,
                    "above",
                    "alerts.api_high_latency_p95",
                ),
                target=slo.latency_threshold_seconds,
                min_value=0,
            ),
            *budget_panels,
            PanelSpec(
                "Scrape targets up",
                "stat",
                (Query(f"sum({m.up}{sel})", "up"),),
                unit="short",
                threshold=Threshold(1, "below", "alerts.api_health_check_down"),
            ),
        ),
    )


def _budget_panels(svc: ServiceConfig, errors: str) -> tuple[PanelSpec, ...]:
    """Budget remaining and burn rate per SLO, read from the SLO rules' recorded series (the
    budget rules run every 5 minutes). Without the burn-rate alert there are no such series:
    the availability panel then falls back to counting the SLO window from the raw counters."""
    m, slo, alerts = svc.metrics, svc.slo, svc.alerts
    sel = _sel(svc)
    budget = error_budget(svc)
    errors_burn, latency_burn = alerts.api_error_budget_burn, alerts.api_latency_budget_burn
    remaining, burn = [], []
    if errors_burn.enabled:
        remaining.append(Query(f"job:slo_errors:budget_remaining{slo.window}{sel}", "availability"))
        window = long_windows(errors_burn)[0]
        burn.append(Query(f"job:slo_errors:burn_rate{window}{sel}", f"availability ({window})"))
    else:
        bad_share = (
            f"(sum(increase({m.requests}{errors}[{slo.window}])) or vector(0))"
            f" / sum(increase({m.requests}{sel}[{slo.window}]))"
        )
        remaining.append(Query(f"1 - ({bad_share}) / {num(budget)}", "availability"))
    if latency_burn.enabled:
        remaining.append(
            Query(f"job:slo_slow_requests:budget_remaining{slo.window}{sel}", "latency")
        )
        window = long_windows(latency_burn)[0]
        burn.append(Query(f"job:slo_slow_requests:burn_rate{window}{sel}", f"latency ({window})"))
    panels = [
        PanelSpec(
            f"Error budget remaining ({slo.window} SLO window)",
            "stat",
            tuple(remaining),
            unit="percentunit",
            description=(
                f"Share of each SLO's budget left over the last {slo.window}: availability "
                f"{num(slo.availability * 100)}% (budget {num(budget * 100)}% of requests), "
                f"latency {num(slo.latency_objective * 100)}% under "
                f"{num(slo.latency_threshold_seconds)}s (budget "
                f"{num(latency_budget(svc) * 100)}%)."
            ),
            threshold=Threshold(0, "below", "slo.availability (budget exhausted)"),
        )
    ]
    if burn:
        fast = errors_burn if errors_burn.enabled else latency_burn
        panels.append(
            PanelSpec(
                "SLO burn rate",
                "timeseries",
                tuple(burn),
                unit="short",
                description=(
                    "How many times faster than the SLO allows each budget burns (1 = the "
                    "budget lasts exactly the SLO window). Red: the fast-burn page rate."
                ),
                threshold=Threshold(
                    fast.page[0].burn_rate,
                    "above",
                    "alerts.api_error_budget_burn.page"
                    if errors_burn.enabled
                    else "alerts.api_latency_budget_burn.page",
                ),
                min_value=0,
            )
        )
    return tuple(panels)


def lead_flow(svc: ServiceConfig) -> DashboardSpec:
    m = svc.metrics
    sel = _sel(svc)
    twilio = svc.alerts.twilio_message_failure_rate_high
    failed = _rate(m.messages_failed, sel, "channel")
    sent = _rate(m.messages_sent, sel, "channel")
    filled_failed = f"({failed} or 0 * {sent})"

    def hourly(metric: str) -> str:
        return f"sum(increase({metric}{sel}[1h]))"

    return DashboardSpec(
        key="lead-flow",
        title="Lead Flow",
        panels=(
            PanelSpec(
                "Leads created (per hour)",
                "timeseries",
                (Query(hourly(m.leads_created), "leads"),),
                unit="short",
            ),
            PanelSpec(
                "Lead conversions (per hour)",
                "timeseries",
                (Query(hourly(m.lead_conversions), "conversions"),),
                unit="short",
            ),
            PanelSpec(
                "Messages sent by channel",
                "timeseries",
                (Query(sent, "{{channel}}"),),
                unit="cps",
            ),
            PanelSpec(
                "Messages failed by channel",
                "timeseries",
                (Query(failed, "{{channel}}"),),
                unit="cps",
            ),
            PanelSpec(
                "Message failure ratio by channel",
                "timeseries",
                (Query(f"{filled_failed} / ({sent} + {filled_failed})", "{{channel}}"),),
                unit="percentunit",
                description="Failed / attempted (sent + failed), as TwilioMessageFailureRateHigh.",
                threshold=Threshold(
                    twilio.threshold, "above", "alerts.twilio_message_failure_rate_high"
                ),
                min_value=0,
            ),
            PanelSpec(
                "Appraisal requests (per hour)",
                "timeseries",
                (Query(hourly(m.appraisal_requests), "appraisals"),),
                unit="short",
            ),
        ),
    )


def cache_performance(svc: ServiceConfig) -> DashboardSpec:
    m = svc.metrics
    sel = _sel(svc)
    low = svc.alerts.cache_hit_rate_low
    line = Threshold(low.threshold, "below", "alerts.cache_hit_rate_low")
    return DashboardSpec(
        key="cache",
        title="Cache Performance",
        panels=(
            PanelSpec(
                "Cache hit rate by cache",
                "timeseries",
                # The exporter's own `service` label names the cache (e.g. market-intelligence).
                (Query(f"min by (service) ({m.cache_hit_rate}{sel})", "{{service}}"),),
                unit="percentunit",
                threshold=line,
                min_value=0,
                max_value=1,
            ),
            PanelSpec(
                "Lowest cache hit rate now",
                "stat",
                (Query(f"min({m.cache_hit_rate}{sel})", "lowest"),),
                unit="percentunit",
                threshold=line,
            ),
            PanelSpec(
                "Cache evictions",
                "timeseries",
                (Query(_rate(m.cache_evictions, sel), "evictions"),),
                unit="cps",
            ),
        ),
    )


def external_dependencies(svc: ServiceConfig) -> DashboardSpec:
    m = svc.metrics
    sel = _sel(svc)
    calls = _rate(m.external_api_requests, sel, "api")
    failures = _rate(m.external_api_requests, _sel(svc, f'status!~"{EXTERNAL_API_SUCCESS}"'), "api")
    return DashboardSpec(
        key="dependencies",
        title="External Dependencies",
        panels=(
            PanelSpec(
                "Supabase query latency",
                "timeseries",
                _quantiles(f"{m.db_query_duration}_bucket", sel),
                unit="s",
                min_value=0,
            ),
            PanelSpec(
                "Redis command latency",
                "timeseries",
                _quantiles(f"{m.redis_command_duration}_bucket", sel),
                unit="s",
                min_value=0,
            ),
            PanelSpec(
                "Dependency checks (/ready)",
                "timeseries",
                (Query(f"min by (dependency) ({m.dependency_up}{sel})", "{{dependency}}"),),
                unit="short",
                description="1 = up, 0 = down, as the /ready endpoint reports it.",
                threshold=Threshold(
                    1, "below", "alerts.redis_unavailable, alerts.database_connection_failures"
                ),
                min_value=0,
                max_value=1,
            ),
            PanelSpec(
                "External API calls by API (Perplexity, Twilio, Mistral)",
                "timeseries",
                (Query(calls, "{{api}}"),),
                unit="reqps",
            ),
            PanelSpec(
                "External API failure ratio by API",
                "timeseries",
                (Query(_failure_ratio(failures, calls), "{{api}}"),),
                unit="percentunit",
                description=f'Failure: any status not matching "{EXTERNAL_API_SUCCESS}".',
                min_value=0,
            ),
            PanelSpec(
                "Perplexity API calls",
                "timeseries",
                (Query(_rate(m.perplexity_api_calls, sel), "perplexity"),),
                unit="reqps",
            ),
        ),
    )


DASHBOARDS = (api_health, lead_flow, cache_performance, external_dependencies)
"""The seed's four dashboards, in display order."""


def dashboard_specs(svc: ServiceConfig) -> tuple[DashboardSpec, ...]:
    return tuple(build(svc) for build in DASHBOARDS)

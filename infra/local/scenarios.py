"""Fault scenarios: what the demo exporter serves, and which alerts each one must raise.

A scenario is plain data. The exporter turns its :class:`Traffic` into counters, gauges and
histograms; the demo, the e2e tests and the benchmark read :attr:`Scenario.expects` to know
which alert must reach which receiver. Numbers are chosen with margin against the seed's
thresholds, so that an alert fires because of the fault and never by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config import Severity

WATCHDOG = "Watchdog"


@dataclass(frozen=True)
class Traffic:
    """The simulated state of agenzia-ai-api and its dependencies."""

    api_up: bool = True
    request_rate: float = 40.0  # requests/s over all handlers
    error_ratio: float = 0.0005  # share of 5xx answers; the SLO allows 0.1%
    # (share, seconds) pairs; 1% of requests above the 200ms SLO threshold uses a fifth of
    # the 5% latency budget, so a normal day burns it at 0.2x.
    latency: tuple[tuple[float, float], ...] = ((0.96, 0.04), (0.03, 0.12), (0.01, 0.3))
    database_up: bool = True
    db_connection_errors_per_s: float = 0.0
    cache_up: bool = True
    cache_hit_rate: float = 0.92  # the seed's example value
    cache_evictions_per_s: float = 0.5
    message_failure_ratio: float = 0.002  # failed / attempted WhatsApp + SMS messages
    storage_ratio: float = 0.35  # Supabase database size / plan limit


@dataclass(frozen=True)
class Expectation:
    """Alert ``alert`` with label ``severity`` must be notified (or inhibited)."""

    alert: str
    severity: Severity


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    traffic: Traffic
    expects: tuple[Expectation, ...]
    # Warnings that fire in Prometheus during the scenario but must be inhibited in
    # Alertmanager by one of the scenario's critical alerts (same service and environment).
    inhibited: tuple[Expectation, ...] = ()
    # Burn-rate windows (1h ... 3d) are not compressed: minutes of normal history before the
    # fault would dilute it for minutes, so this scenario starts on a fresh Prometheus.
    needs_fresh_history: bool = False


def _critical(alert: str) -> Expectation:
    return Expectation(alert, Severity.critical)


def _warning(alert: str) -> Expectation:
    return Expectation(alert, Severity.warning)


NORMAL = Traffic()

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "normal",
            "healthy traffic: 0.05% errors, p95 ~0.1s, cache 92%, no dependency down",
            NORMAL,
            expects=(),
        ),
        Scenario(
            "api-down",
            "the API stops answering: /metrics returns 503, so up == 0",
            Traffic(api_up=False),
            expects=(_critical("ApiHealthCheckDown"),),
        ),
        Scenario(
            "error-spike",
            "8% of requests answer 5xx (threshold 1%; the error budget burns 80x)",
            Traffic(error_ratio=0.08),
            expects=(_critical("ApiHighErrorRate"), _critical("ApiErrorBudgetBurn")),
        ),
        Scenario(
            "slow",
            "12% of requests take 0.8s: p95 ~0.8s, above the 500ms warning threshold",
            Traffic(latency=((0.88, 0.05), (0.12, 0.8))),
            expects=(_warning("ApiHighLatencyP95"),),
        ),
        Scenario(
            "cache-cold",
            "cache hit rate drops to 55% (threshold 80%), evictions x10",
            Traffic(cache_hit_rate=0.55, cache_evictions_per_s=5.0),
            expects=(_warning("CacheHitRateLow"),),
        ),
        Scenario(
            "twilio-failing",
            "20% of WhatsApp/SMS messages fail at Twilio (threshold 5%)",
            Traffic(message_failure_ratio=0.2),
            expects=(_warning("TwilioMessageFailureRateHigh"),),
        ),
        Scenario(
            "redis-down",
            "Redis completely unavailable: the cache check is down and nothing hits the cache",
            Traffic(cache_up=False, cache_hit_rate=0.0, cache_evictions_per_s=0.0),
            expects=(_critical("RedisUnavailable"),),
            # The cold cache is a consequence of Redis being down: nobody needs that warning.
            inhibited=(_warning("CacheHitRateLow"),),
        ),
        Scenario(
            "db-failing",
            "the database check is down and connections fail 2/s",
            Traffic(database_up=False, db_connection_errors_per_s=2.0),
            expects=(_critical("DatabaseConnectionFailures"),),
        ),
        Scenario(
            "budget-burn",
            "80% of requests take 0.3s: p95 stays under 500ms, but the 200ms latency SLO "
            "budget (5%) burns 16x",
            Traffic(latency=((0.2, 0.05), (0.8, 0.3))),
            expects=(_critical("ApiLatencyBudgetBurn"),),
            # Fast burn pages; the slow-burn ticket for the same SLO is redundant meanwhile.
            inhibited=(_warning("ApiLatencyBudgetBurn"),),
            needs_fresh_history=True,
        ),
        Scenario(
            "storage-near-limit",
            "the Supabase database reaches 95% of the plan limit (threshold 90%)",
            Traffic(storage_ratio=0.95),
            expects=(_warning("SupabaseStorageNearLimit"),),
        ),
    )
}

FAULTS = tuple(name for name in SCENARIOS if name != "normal")


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; the error lists the valid names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(
            f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        ) from None

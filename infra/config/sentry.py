"""Sentry detector thresholds, notification targets and project settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from infra.config.types import (
    Duration,
    HttpUrl,
    Ratio,
    Seconds,
    SecretRef,
    Slug,
    Strict,
    parse_duration,
    shown,
)

SENTRY_TIME_WINDOWS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400)
"""Detector ``timeWindow`` values (seconds) Sentry's metric monitors accept; any other is a 400."""

SentryId = Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]
"""A numeric Sentry id, as a string (Sentry's API returns ids as strings)."""


class SentryNotifyTarget(Strict):
    """How Sentry reaches one routing receiver.

    Sentry cannot use the receivers' own secrets (PagerDuty integration key, Slack webhook):
    it notifies through the PagerDuty and Slack integrations installed in the Sentry
    organization (by hand, through OAuth), and it emails Sentry users or teams, not addresses.
    So each routing receiver that Sentry alerts should reach is mapped here to its Sentry side:

    - pagerduty receiver: ``integration_id`` (Sentry's PagerDuty integration) and
      ``target_identifier`` (the PagerDuty service id in that integration), optional
      ``target_display`` (the service name);
    - slack receiver: ``integration_id`` (Sentry's Slack integration); the channel is the
      receiver's ``channel``; ``target_identifier`` may hold the Slack channel id;
    - email receiver: ``target_type`` ``team`` or ``user`` and ``target_identifier`` (the Sentry
      team or user id whose members get the mail).
    """

    integration_id: SentryId | None = None
    target_type: Literal["specific", "user", "team"] = "specific"
    target_identifier: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    target_display: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class SentryConfig(Strict):
    """Sentry detectors (error rate, p95, DB query time, external API failures) and the DSN."""

    enabled: bool = True
    api_url: HttpUrl = "https://sentry.io/api/0"
    auth_token: SecretRef = SecretRef(secret="sentryAuthToken")
    organization: Slug
    project: Slug
    traces_sample_rate: Annotated[float, Field(gt=0, le=1)]
    error_rate_threshold: Ratio = 0.001
    p95_threshold_seconds: Seconds = 0.2
    db_query_p95_threshold_seconds: Seconds = 0.1
    external_api_failures_per_window: Annotated[int, Field(gt=0, le=1_000_000)] = 10
    external_apis: Annotated[tuple[Slug, ...], Field(min_length=1, max_length=20)] = (
        "twilio",
        "mistral",
    )
    window: Duration = "5m"
    quota_alert_ratio: Ratio = 0.8
    notify: Annotated[dict[Slug, SentryNotifyTarget], Field(max_length=20)] = Field(
        default_factory=dict
    )
    """Routing receiver name → how Sentry reaches it (see :class:`SentryNotifyTarget`). Every
    PagerDuty, email and Slack receiver that a critical or warning route reaches needs one."""
    dsn_key_name: Annotated[str, Field(min_length=1, max_length=64)] = "agenzia-ai-api"
    """Name of the project client key whose DSN the stack exports (adopted if it exists)."""

    @field_validator("window")
    @classmethod
    def _sentry_window(cls, value: str) -> str:
        seconds = parse_duration(value)
        if seconds not in SENTRY_TIME_WINDOWS:
            allowed = ", ".join(f"{s // 60}m" for s in SENTRY_TIME_WINDOWS)
            raise ValueError(
                f"{shown(value)} is not a window Sentry detectors accept; use one of {allowed} "
                "(1440m is 1d)"
            )
        return value

    @field_validator("external_apis")
    @classmethod
    def _unique_apis(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({a for a in value if value.count(a) > 1})
        if dupes:
            raise ValueError(f"{dupes} listed more than once; list each external API once")
        return value

    @property
    def time_window_seconds(self) -> int:
        """``window`` as Sentry's ``timeWindow`` (seconds)."""
        return parse_duration(self.window)

"""Sentry detector thresholds and project settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from infra.config.types import Duration, HttpUrl, PositiveFloat, Ratio, SecretRef, Slug, Strict


class SentryConfig(Strict):
    """Sentry detectors (error rate, p95, DB query time, external API failures) and the DSN."""

    enabled: bool = True
    api_url: HttpUrl = "https://sentry.io/api/0"
    auth_token: SecretRef = SecretRef(secret="sentryAuthToken")
    organization: Slug
    project: Slug
    traces_sample_rate: Annotated[float, Field(gt=0, le=1)]
    error_rate_threshold: Ratio = 0.001
    p95_threshold_seconds: PositiveFloat = 0.2
    db_query_p95_threshold_seconds: PositiveFloat = 0.1
    external_api_failures_per_window: Annotated[int, Field(gt=0)] = 10
    external_apis: Annotated[tuple[Slug, ...], Field(min_length=1)] = ("twilio", "mistral")
    window: Duration = "5m"
    quota_alert_ratio: Ratio = 0.8

"""Grafana Cloud folder, data source and dashboard settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from infra.config.types import (
    HttpUrl,
    PositiveDuration,
    Slug,
    Strict,
    duration_between,
)


class GrafanaConfig(Strict):
    """Where dashboards and Grafana-managed rules go. The token is the Grafana provider's own
    secret config, ``grafana:auth`` (README, "Secrets"), not a key of this model.

    ``enabled: false`` registers no Grafana resource and no Grafana provider: the stack then
    deploys only UptimeRobot and Sentry, and the rendered rule files, ``alertmanager.yml`` and
    dashboard JSON serve a self-hosted Prometheus, Alertmanager and Grafana. The other keys
    stay required: the dashboards are rendered with the data source uid either way.

    ``org_id`` is the Grafana organization every Grafana resource goes to (unset: the
    provider's, which is the token's). Grafana keeps one notification policy per organization,
    so two stacks with the same ``url`` need different ``org_id`` values; ``monitoring
    validate`` fails when they would share one (:func:`infra.validate.shared_grafana_policies`)."""

    enabled: bool = True
    url: HttpUrl
    org_id: Annotated[int, Field(gt=0, lt=2**63)] | None = None  # Grafana ids are int64
    folder_title: Annotated[str, Field(min_length=1, max_length=100)]
    prometheus_datasource_uid: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,40}$")]


class DashboardsConfig(Strict):
    enabled: bool = True
    refresh: Annotated[PositiveDuration, duration_between("5s", "1d")] = "1m"
    time_from: Annotated[PositiveDuration, duration_between("1m", "90d")] = "6h"
    uid_prefix: Slug = "agenzia"

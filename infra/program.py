"""The Pulumi program: every component that watches the stack's services.

``infra/__main__.py`` calls :func:`run`; importing this module registers nothing, so the
tests can import it and run it under the SDK's mocks.
"""

from __future__ import annotations

import pulumi

from infra.components.sentry import SentryAlerts
from infra.components.uptimerobot import UptimeMonitors
from infra.config import StackConfig, load_from_pulumi


def run(cfg: StackConfig | None = None) -> None:
    """Register everything for the current stack and export its outputs.

    The config is loaded and validated first: a bad ``Pulumi.<stack>.yaml`` stops here, with
    the path and the fix, before any resource is registered.
    """
    cfg = cfg or load_from_pulumi()
    pulumi.export("environment", cfg.environment)
    heartbeat_url: pulumi.Output[str] | None = None
    if cfg.uptimerobot.enabled:
        uptime = UptimeMonitors("uptime", cfg)
        pulumi.export("uptimerobot_monitor_ids", uptime.monitor_ids)
        pulumi.export("uptimerobot_dashboard_urls", uptime.dashboard_urls)
        # The dead-man's switch: its (secret) ping URL feeds the Watchdog's contact point.
        heartbeat_url = uptime.heartbeat_url
        if heartbeat_url is not None:
            # Secret; a self-hosted Alertmanager reads it from a file (README, "Secrets").
            pulumi.export("uptimerobot_heartbeat_url", heartbeat_url)
    if cfg.grafana.enabled:
        # Imported here: a stack without Grafana loads no Grafana SDK and needs no plugin.
        from infra.components.grafana import GrafanaMonitoring
        from infra.components.routing import AlertRouting

        routing = AlertRouting("routing", cfg, heartbeat_url=heartbeat_url)
        grafana = GrafanaMonitoring("grafana", cfg, pulumi.ResourceOptions(depends_on=[routing]))
        pulumi.export("grafana_folder_uid", grafana.folder_uid)
        pulumi.export("grafana_dashboard_urls", grafana.dashboard_urls)
        pulumi.export("grafana_rule_groups", grafana.rule_group_names)
        pulumi.export("grafana_contact_points", list(routing.contact_points))
    if cfg.sentry.enabled:
        sentry = SentryAlerts("sentry", cfg)
        pulumi.export("sentry_dsn", sentry.dsn)
        pulumi.export("sentry_traces_sample_rate", sentry.traces_sample_rate)
        pulumi.export("sentry_detector_ids", getattr(sentry, "detector_ids", {}))
        pulumi.export("sentry_workflow_ids", getattr(sentry, "workflow_ids", {}))

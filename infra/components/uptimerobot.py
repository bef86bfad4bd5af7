"""UptimeMonitors: the ``/health`` and ``/ready`` UptimeRobot monitors of every service.

Thin on purpose: it maps ``cfg.uptimerobot`` onto the dynamic resources of
``infra/providers/uptimerobot.py``, which hold all the I/O.
"""

from __future__ import annotations

import re

import pulumi

from infra.config import ServiceConfig, StackConfig
from infra.config.loader import NAMESPACE
from infra.config.types import parse_duration
from infra.config.uptimerobot import UptimeCheck, UptimeRobotConfig
from infra.providers.uptimerobot import (
    DASHBOARD_URL,
    AlertContact,
    ConnectionArgs,
    MaintenanceWindowArgs,
    MonitorArgs,
    UptimeRobotMaintenanceWindow,
    UptimeRobotMonitor,
)

TYPE_TOKEN = "monitoring:uptimerobot:Monitors"


class UptimeRobotKeyMissing(Exception):
    """The stack has no UptimeRobot API key; the message says how to set it."""


def _api_key(ur: UptimeRobotConfig) -> pulumi.Output[str]:
    name = ur.api_key.secret
    key = pulumi.Config(NAMESPACE).get_secret(name)
    if key is None:
        stack = pulumi.get_stack()
        raise UptimeRobotKeyMissing(
            f"{NAMESPACE}:{name} is not set; run: pulumi config set --secret {name} "
            f"<UptimeRobot main API key> -s {stack}  (or set uptimerobot.enabled: false)"
        )
    return key


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def contacts_for(ur: UptimeRobotConfig, check: UptimeCheck) -> list[AlertContact]:
    """The alert contacts of a check's severity, with the consecutive-failures delay."""
    return [
        AlertContact(id=c, threshold=ur.alert_threshold_minutes, recurrence=ur.recurrence_minutes)
        for c in ur.alert_contacts.get(check.severity, ())
    ]


class UptimeMonitors(pulumi.ComponentResource):
    """Per service, an UptimeRobot monitor for ``/health`` and one for ``/ready``.

    Outputs: ``monitor_ids`` and ``dashboard_urls``, keyed ``<service>-health`` /
    ``<service>-ready``.
    """

    monitor_ids: dict[str, pulumi.Output[str]]
    dashboard_urls: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        ur = cfg.uptimerobot
        self.monitor_ids = {}
        self.dashboard_urls = {}
        if ur.enabled:
            connection = ConnectionArgs(
                api_key=_api_key(ur), api_url=ur.api_url, api_key_name=ur.api_key.secret
            )
            windows = [
                UptimeRobotMaintenanceWindow(
                    f"{name}-window-{_slug(w.name)}",
                    MaintenanceWindowArgs(
                        name=f"{w.name} ({cfg.environment})",
                        interval=w.interval,
                        date=w.date or "",
                        time=w.time,
                        duration=w.duration_minutes,
                        days=w.days,
                    ),
                    connection,
                    pulumi.ResourceOptions(parent=self),
                )
                for w in ur.maintenance_windows
            ]
            window_ids = pulumi.Output.all(*(w.id for w in windows))  # the id is the window id
            for service in cfg.services:
                for kind, check in (("health", ur.health), ("ready", ur.ready)):
                    if check.enabled:
                        self._monitor(name, cfg, service, kind, check, connection, window_ids)
        self.register_outputs(
            {"monitor_ids": self.monitor_ids, "dashboard_urls": self.dashboard_urls}
        )

    def _monitor(
        self,
        name: str,
        cfg: StackConfig,
        service: ServiceConfig,
        kind: str,
        check: UptimeCheck,
        connection: ConnectionArgs,
        window_ids: pulumi.Output[list[str]],
    ) -> None:
        ur = cfg.uptimerobot
        path = service.health_path if kind == "health" else service.ready_path
        contacts = contacts_for(ur, check)
        if not contacts:
            pulumi.log.warn(
                f"uptimerobot.alert_contacts has no ids for severity {check.severity.value!r}: "
                f"the {service.name} {path} monitor will notify nobody",
                self,
            )
        monitor = UptimeRobotMonitor(
            f"{name}-{service.name}-{kind}",
            MonitorArgs(
                # The name (with the URL) is what create() adopts by: keep it stable.
                friendly_name=f"{service.name} {path} ({cfg.environment})",
                url=service.health_url if kind == "health" else service.ready_url,
                interval=parse_duration(ur.interval),
                timeout=parse_duration(ur.timeout),
                success_codes=[str(code) for code in check.expected_status],
                alert_contacts=contacts,
                maintenance_window_ids=window_ids,
            ),
            connection,
            pulumi.ResourceOptions(parent=self),
        )
        key = f"{service.name}-{kind}"
        # From the resource id (the monitor id), so the links exist as soon as the id does.
        self.monitor_ids[key] = monitor.id
        self.dashboard_urls[key] = monitor.id.apply(lambda i: DASHBOARD_URL.format(id=i))

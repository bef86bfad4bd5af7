"""UptimeMonitors: the ``/health`` and ``/ready`` UptimeRobot monitors of every service.

Thin on purpose: it maps ``cfg.uptimerobot`` onto the dynamic resources of
``infra/providers/uptimerobot.py``, which hold all the I/O. The config → properties mapping is
pure (:func:`monitor_plans`, :func:`window_plans`), so ``provisioned/<stack>.json`` is written
from the same code; :class:`UptimeMonitors` only registers it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pulumi

from infra.config import StackConfig
from infra.config.loader import NAMESPACE
from infra.config.routing import PRODUCTION_ENVIRONMENTS
from infra.config.types import Severity, parse_duration
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
from infra.providers.uptimerobot_heartbeat import HeartbeatArgs, UptimeRobotHeartbeat

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


@dataclass(frozen=True)
class WindowPlan:
    """A maintenance window: ``key`` names its resource (``<component>-window-<key>``)."""

    key: str
    args: MaintenanceWindowArgs


@dataclass(frozen=True)
class MonitorPlan:
    """A monitor: ``key`` is ``<service>-<kind>`` (``health``/``ready``). ``args`` carry no
    maintenance window ids: those exist once the windows do, and every monitor gets all."""

    key: str
    service: str
    path: str
    severity: str
    args: MonitorArgs


def window_plans(cfg: StackConfig) -> list[WindowPlan]:
    """The stack's maintenance windows as the provider's properties (empty when disabled)."""
    if not cfg.uptimerobot.enabled:
        return []
    return [
        WindowPlan(
            _slug(w.name),
            MaintenanceWindowArgs(
                name=f"{w.name} ({cfg.environment})",
                interval=w.interval,
                date=w.date or "",
                time=w.time,
                duration=w.duration_minutes,
                days=w.days,
            ),
        )
        for w in cfg.uptimerobot.maintenance_windows
    ]


def monitor_plans(cfg: StackConfig) -> list[MonitorPlan]:
    """Per service, the enabled ``/health`` and ``/ready`` monitors as the provider's
    properties (empty when UptimeRobot is disabled)."""
    ur = cfg.uptimerobot
    if not ur.enabled:
        return []
    plans = []
    for service in cfg.services:
        for kind, check in (("health", ur.health), ("ready", ur.ready)):
            if not check.enabled:
                continue
            path = service.health_path if kind == "health" else service.ready_path
            args = MonitorArgs(
                # The name (with the URL) is what create() adopts by: keep it stable.
                friendly_name=f"{service.name} {path} ({cfg.environment})",
                url=service.health_url if kind == "health" else service.ready_url,
                interval=parse_duration(ur.interval),
                timeout=parse_duration(ur.timeout),
                success_codes=[str(code) for code in check.expected_status],
                alert_contacts=contacts_for(ur, check),
            )
            key = f"{service.name}-{kind}"
            plans.append(MonitorPlan(key, service.name, path, check.severity.value, args))
    return plans


def heartbeat_severity(cfg: StackConfig) -> Severity:
    """Whose contacts hear of a dead pipeline: the critical ones in production, else warning."""
    production = cfg.environment in PRODUCTION_ENVIRONMENTS
    return Severity.critical if production else Severity.warning


def heartbeat_plan(cfg: StackConfig) -> HeartbeatArgs | None:
    """The stack's dead-man's switch as the provider's properties (``None`` when off).

    UptimeRobot sends the monitor's name in its alerts, so the name says what is dead and
    where the runbook is. The grace period already is the delay, so contacts hear at once
    (threshold 0)."""
    ur = cfg.uptimerobot
    if not (ur.enabled and ur.heartbeat.enabled):
        return None
    runbook = f"{cfg.runbooks.base_url.rstrip('/')}/Watchdog.md"
    contacts = tuple(
        AlertContact(id=c, threshold=0, recurrence=ur.recurrence_minutes)
        for c in ur.alert_contacts.get(heartbeat_severity(cfg), ())
    )
    return HeartbeatArgs(
        friendly_name=(
            f"alert pipeline ({cfg.environment}): no Watchdog heartbeat, Prometheus/ruler, "
            f"Alertmanager or notifications dead; runbook {runbook}"
        )[:250],
        interval=ur.heartbeat.interval_seconds,
        grace_period=ur.heartbeat.grace_seconds,
        alert_contacts=contacts,
    )


class UptimeMonitors(pulumi.ComponentResource):
    """Per service, an UptimeRobot monitor for ``/health`` and one for ``/ready``.

    Outputs: ``monitor_ids`` and ``dashboard_urls``, keyed ``<service>-health`` /
    ``<service>-ready`` (and ``heartbeat``); ``heartbeat_url``, the secret ping URL of the
    dead-man's switch (``None`` when ``uptimerobot.heartbeat.enabled`` is false).
    """

    monitor_ids: dict[str, pulumi.Output[str]]
    dashboard_urls: dict[str, pulumi.Output[str]]
    heartbeat_url: pulumi.Output[str] | None

    def __init__(
        self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        ur = cfg.uptimerobot
        self.monitor_ids = {}
        self.dashboard_urls = {}
        self.heartbeat_url = None
        if ur.enabled:
            connection = ConnectionArgs(
                api_key=_api_key(ur), api_url=ur.api_url, api_key_name=ur.api_key.secret
            )
            windows = [
                UptimeRobotMaintenanceWindow(
                    f"{name}-window-{w.key}",
                    w.args,
                    connection,
                    pulumi.ResourceOptions(parent=self),
                )
                for w in window_plans(cfg)
            ]
            window_ids = pulumi.Output.all(*(w.id for w in windows))  # the id is the window id
            for plan in monitor_plans(cfg):
                self._monitor(name, plan, connection, window_ids)
            beat = heartbeat_plan(cfg)
            if beat is not None:
                self._heartbeat(name, beat, connection, heartbeat_severity(cfg))
        self.register_outputs(
            {"monitor_ids": self.monitor_ids, "dashboard_urls": self.dashboard_urls}
        )

    def _monitor(
        self,
        name: str,
        plan: MonitorPlan,
        connection: ConnectionArgs,
        window_ids: pulumi.Output[list[str]],
    ) -> None:
        if not plan.args.alert_contacts:
            pulumi.log.warn(
                f"uptimerobot.alert_contacts has no ids for severity {plan.severity!r}: "
                f"the {plan.service} {plan.path} monitor will notify nobody",
                self,
            )
        monitor = UptimeRobotMonitor(
            f"{name}-{plan.key}",
            dataclasses.replace(plan.args, maintenance_window_ids=window_ids),
            connection,
            pulumi.ResourceOptions(parent=self),
        )
        # From the resource id (the monitor id), so the links exist as soon as the id does.
        self.monitor_ids[plan.key] = monitor.id
        self.dashboard_urls[plan.key] = monitor.id.apply(lambda i: DASHBOARD_URL.format(id=i))

    def _heartbeat(
        self, name: str, args: HeartbeatArgs, connection: ConnectionArgs, severity: Severity
    ) -> None:
        if not args.alert_contacts:
            pulumi.log.warn(
                f"uptimerobot.alert_contacts has no ids for severity {severity.value!r}: "
                "a dead alert pipeline will notify nobody",
                self,
            )
        beat = UptimeRobotHeartbeat(
            f"{name}-heartbeat", args, connection, pulumi.ResourceOptions(parent=self)
        )
        self.monitor_ids["heartbeat"] = beat.id
        self.dashboard_urls["heartbeat"] = beat.id.apply(lambda i: DASHBOARD_URL.format(id=i))
        self.heartbeat_url = pulumi.Output.secret(beat.heartbeat_url)

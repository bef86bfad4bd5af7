"""Pulumi dynamic provider for an UptimeRobot heartbeat monitor: the dead-man's switch.

A heartbeat monitor (API v3 ``type: HEARTBEAT``, ``CreateHeartbeatMonitorDto``) checks
nothing itself: it expects a ping every ``interval`` seconds and alerts its contacts when none
came for ``interval + grace_period``. Alertmanager (or Grafana) pings it on every repeat of
the always-firing ``Watchdog`` alert, so a dead Prometheus, ruler, Alertmanager or
notification path is noticed by a third party.

The ping URL is UptimeRobot's, made at create: the description gives a heartbeat no other
URL field, so MonitorDto's ``url`` is taken as the ping URL. It is the ``heartbeat_url``
output, always a secret (``additional_secret_outputs``): whoever has it can mark the
pipeline healthy. It is never put in an error message.

Heartbeats are a paid-plan feature; a FREE-plan account's refusal (403, or a 400 naming the
plan) becomes one error naming the config switch that turns the heartbeat off.
Connection, key handling, pickling and duplicate-safe creates are the monitor provider's
(``infra/providers/uptimerobot.py``, ``rest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.engine_values import is_unknown
from infra.providers.http import ApiError
from infra.providers.uptimerobot import (
    ConnectionArgs,
    UptimeRobotError,
    _connection_props,
    _monitor,
    _Provider,
)
from infra.providers.uptimerobot_payloads import (
    AlertContact,
    Props,
    check_monitor,
    monitor_outs,
    text,
)

__all__ = [
    "HEARTBEAT_SWITCH",
    "HeartbeatArgs",
    "HeartbeatProvider",
    "UptimeRobotHeartbeat",
]

HEARTBEAT_SWITCH = "monitoring:uptimerobot.heartbeat.enabled"
"""The stack config switch that turns the heartbeat monitor off (named in the plan error)."""
HEARTBEAT_FIELDS = ("friendly_name", "interval", "grace_period", "alert_contacts")
MAX_GRACE_S = 86_400  # CreateHeartbeatMonitorDto.gracePeriod maximum


def check_heartbeat(news: Props) -> list[CheckFailure]:
    """The monitor checks that apply (name, interval, contacts) plus the grace period."""
    failures = [
        f
        for f in check_monitor({**news, "url": "https://heartbeat.invalid/", "timeout": 30})
        if f.property in ("friendly_name", "interval") or f.property.startswith("alert_contacts")
    ]
    grace = news.get("grace_period")
    if not is_unknown(grace) and (
        not isinstance(grace, int | float) or not 0 <= grace <= MAX_GRACE_S or grace % 1
    ):
        failures.append(
            CheckFailure("grace_period", f"must be whole seconds, 0-{MAX_GRACE_S} ({grace!r})")
        )
    return failures


def heartbeat_body(props: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The body of MonitorsController_create (CreateHeartbeatMonitorDto) or _update."""
    body: dict[str, Any] = {
        "friendlyName": props["friendly_name"],
        "interval": int(props["interval"]),
        "gracePeriod": int(props["grace_period"]),
        "assignedAlertContacts": [
            {
                "alertContactId": int(c["id"]),
                "threshold": int(c["threshold"]),
                "recurrence": int(c["recurrence"]),
            }
            for c in props.get("alert_contacts") or []
        ],
    }
    if creating:
        body["type"] = "HEARTBEAT"
    return body


def heartbeat_outs(monitor: Mapping[str, Any], props: Mapping[str, Any]) -> Props:
    """Outputs from a MonitorDto answer; ``heartbeat_url`` is its ``url`` (the ping URL)."""
    outs = monitor_outs(monitor, props)
    return {
        "monitor_id": outs["monitor_id"],
        "friendly_name": outs["friendly_name"],
        "interval": outs["interval"],
        "grace_period": int(monitor.get("gracePeriod") or 0),
        "alert_contacts": outs["alert_contacts"],
        "heartbeat_url": outs["url"],
        "status": outs["status"],
        "dashboard_url": outs["dashboard_url"],
        "api_url": outs["api_url"],
        "api_key_name": outs["api_key_name"],
    }


def _is_heartbeat(monitor: Mapping[str, Any], name: Any) -> bool:
    kind = str(monitor.get("type") or "").upper()
    return kind == "HEARTBEAT" and text(monitor.get("friendlyName")) == name


def _plan_refusal(exc: ApiError) -> bool:
    message = (exc.vendor_message or "").lower()
    return exc.status == 403 or (exc.status == 400 and ("plan" in message or "upgrade" in message))


class HeartbeatProvider(_Provider):
    """One UptimeRobot heartbeat monitor."""

    noun = "heartbeat monitor"

    def check(self, _olds: Props, news: Props) -> CheckResult:
        inputs = {"alert_contacts": [], **{k: v for k, v in news.items() if v is not None}}
        return CheckResult(inputs, check_heartbeat(inputs))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        return self._diff(HEARTBEAT_FIELDS, (), olds, {"alert_contacts": [], **news})

    def create(self, props: Props) -> CreateResult:
        conn = self._connection(props)
        name = props.get("friendly_name")
        what = f"heartbeat monitor {str(name)[:80]!r}"
        with self.errors(conn, f"creating {what}"), conn.client(self.policy) as client:

            def find() -> Any:
                # MonitorsController_list: adopt a heartbeat of the same name (no URL yet)
                return next(
                    (m for m in self._list(client, "monitors") if _is_heartbeat(m, name)), None
                )

            try:  # MonitorsController_create (or the adopted heartbeat)
                body = heartbeat_body(props, creating=True)
                reply = self.create_once(client, "monitors", body, find, what)
            except ApiError as exc:
                if not _plan_refusal(exc):
                    raise
                raise UptimeRobotError(
                    f"UptimeRobot refused to create {what} (HTTP {exc.status}): heartbeat "
                    "monitors need a paid (PRO) UptimeRobot plan; upgrade the account, or set "
                    f"{HEARTBEAT_SWITCH}: false in the stack config"
                ) from None
            outs = heartbeat_outs(_monitor(reply), props)
            if self._diff(HEARTBEAT_FIELDS, (), outs, {"alert_contacts": [], **props}).changes:
                path = f"monitors/{outs['monitor_id']}"  # MonitorsController_update
                reply = self.call(client, "PATCH", path, json=heartbeat_body(props, creating=False))
                outs = heartbeat_outs(_monitor(reply), props)
        return CreateResult(outs["monitor_id"], outs)

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = self._connection(props)
        with self.errors(conn, f"reading heartbeat {id_}"), conn.client(self.policy) as client:
            reply = self.get_or_none(client, f"monitors/{id_}")  # MonitorsController_get
            if reply is None:
                return ReadResult("", {})  # gone: Pulumi drops it and recreates it
            outs = heartbeat_outs(_monitor(reply), props)
        return ReadResult(outs["monitor_id"], outs)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        conn = self._connection(news)
        with self.errors(conn, f"updating heartbeat {id_}"), conn.client(self.policy) as client:
            body = heartbeat_body(news, creating=False)  # MonitorsController_update
            reply = self.change(client, "PATCH", f"monitors/{id_}", body, f"heartbeat {id_}")
            outs = heartbeat_outs(_monitor(reply), news)
        return UpdateResult(outs)

    def delete(self, id_: str, props: Props) -> None:
        conn = self._connection(props)
        with self.errors(conn, f"deleting heartbeat {id_}"), conn.client(self.policy) as client:
            self.delete_path(client, f"monitors/{id_}")  # MonitorsController_delete


@dataclass(frozen=True)
class HeartbeatArgs:
    """A heartbeat monitor as the provider's properties spell it (seconds; minutes)."""

    friendly_name: str
    interval: int
    grace_period: int
    alert_contacts: tuple[AlertContact, ...] = ()


class UptimeRobotHeartbeat(Resource, module="uptimerobot", name="Heartbeat"):
    """An UptimeRobot heartbeat monitor; ``heartbeat_url`` (the ping URL) is a secret output."""

    monitor_id: pulumi.Output[str]
    heartbeat_url: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: HeartbeatArgs,
        connection: ConnectionArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: Props = {
            **_connection_props(connection),
            "friendly_name": args.friendly_name,
            "interval": args.interval,
            "grace_period": args.grace_period,
            "alert_contacts": [dict(c) for c in args.alert_contacts],
            "monitor_id": None,
            "heartbeat_url": None,
            "dashboard_url": None,
            "status": None,
        }
        # The state holds the ping URL encrypted; the attribute is a secret Output too, so
        # nothing downstream (the Grafana contact point, an export) can show it in plain text.
        secret = pulumi.ResourceOptions(additional_secret_outputs=["api_key", "heartbeat_url"])
        opts = pulumi.ResourceOptions.merge(opts, secret)
        super().__init__(HeartbeatProvider(), name, props, opts)
        self.heartbeat_url = pulumi.Output.secret(self.heartbeat_url)

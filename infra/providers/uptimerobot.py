"""Pulumi dynamic providers for UptimeRobot: one monitor, one maintenance window.

UptimeRobot has no Pulumi provider, so these speak its REST API v3 (the version UptimeRobot
recommends; v2 is frozen) with httpx. Every call follows an operation of UptimeRobot's
published API v3 description (``vendor-specs/uptimerobot/openapi.yaml``), named by its
``operationId`` at the call. Paths are relative to ``api_url`` (``https://api.uptimerobot.com/v3``).
The payloads (checks, bodies, replies, outputs) are pure and live in ``uptimerobot_payloads``;
calls, reply checks, errors and duplicate-safe creates are shared with the Sentry provider in
``rest``.

Why the code looks the way it does:

- Pulumi pickles providers (dill) into the state, so they hold no client and no key: each
  method builds its own ``httpx.Client``, and ``__getstate__`` drops the stack config that
  :meth:`configure` hands over in the provider process.
- The API key comes from the ``api_key`` property (a secret input), else the stack config key
  named by ``api_key_name`` (``monitoring:uptimerobotApiKey``; Pulumi passes the stack config
  to ``configure``), else the ``UPTIMEROBOT_API_KEY`` environment variable. It is never
  written to outputs, and it is redacted from every error message. ``read`` and ``delete`` only
  see outputs, so they use the stack config or the environment.
- ``read`` asks UptimeRobot for the live monitor, so ``pulumi refresh`` and ``pulumi preview
  --refresh`` show edits made by hand; a 404 means the monitor is gone (Pulumi recreates it).
- ``create`` never duplicates: it adopts a monitor with the same type, URL and name, and a
  create whose answer was lost is looked for, never posted again (``rest.RestProvider``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pulumi
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from infra.providers.engine_values import is_unknown
from infra.providers.rest import Connection, ProviderError, RestProvider, expect
from infra.providers.uptimerobot_payloads import (
    DASHBOARD_URL,
    DEFAULT_API_URL,
    DEFAULT_KEY_NAME,
    MONITOR_DEFAULTS,
    MONITOR_FIELDS,
    MONITOR_REPLACE_ON,
    WINDOW_FIELDS,
    AlertContact,
    MonitorReply,
    PageReply,
    Props,
    WindowReply,
    check_monitor,
    check_window,
    monitor_body,
    monitor_outs,
    norm,
    same_monitor,
    text,
    window_body,
    window_outs,
)

__all__ = [
    "API_KEY_ENV",
    "API_URL_ENV",
    "DASHBOARD_URL",
    "DEFAULT_API_URL",
    "AlertContact",
    "ConnectionArgs",
    "MaintenanceWindowArgs",
    "MaintenanceWindowProvider",
    "MonitorArgs",
    "MonitorProvider",
    "UptimeRobotError",
    "UptimeRobotMaintenanceWindow",
    "UptimeRobotMonitor",
]

API_KEY_ENV = "UPTIMEROBOT_API_KEY"
API_URL_ENV = "UPTIMEROBOT_API_URL"
"""Overrides every resource's ``api_url`` (tests point it at the local contract server)."""
PAGE_LIMIT = 200  # the most MonitorsController_list returns per page
MAX_PAGES = 100


class UptimeRobotError(ProviderError):
    """An UptimeRobot call failed. The message names the operation and never holds the key."""


class _Provider(RestProvider):
    """Connection, configuration, lists and diffs shared by the UptimeRobot providers."""

    vendor = "UptimeRobot"
    error = UptimeRobotError

    # The stack config holds secrets in plain text; it must never reach a pickle (the state).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_stack_config"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def configure(self, req: ConfigureRequest) -> None:
        self._stack_config = req.config

    def _connection(self, props: Mapping[str, Any]) -> Connection:
        api_url = str(os.environ.get(API_URL_ENV) or props.get("api_url") or DEFAULT_API_URL)
        if not re.match(r"https?://[^\s/]+", api_url):
            raise UptimeRobotError(f"api_url must be an http(s) URL (got {api_url[:80]!r})")
        name = str(props.get("api_key_name") or DEFAULT_KEY_NAME)
        stack_config = getattr(self, "_stack_config", None)
        configured = stack_config.get(name) if stack_config is not None else None
        key = props.get("api_key") or configured or os.environ.get(API_KEY_ENV)
        if not key or is_unknown(key):
            raise UptimeRobotError(
                f"no UptimeRobot API key: set it with `pulumi config set --secret {name} <key>` "
                f"or export {API_KEY_ENV}"
            )
        return Connection(api_url.rstrip("/"), str(key))

    def _list(self, client: httpx.Client, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paged ``{nextLink, data}`` list.

        Only the ``cursor`` of ``nextLink`` is used: following the link itself would send the
        key to whatever host the link names."""
        params: dict[str, Any] = {"limit": PAGE_LIMIT} if path == "monitors" else {}
        for _ in range(MAX_PAGES):
            page = expect(
                PageReply, self.call(client, "GET", path, params=params), f"a page of {path}"
            )
            yield from page.data
            link = page.nextLink
            cursor = parse_qs(urlsplit(link).query).get("cursor") if link else None
            if not cursor:
                return
            params = {**params, "cursor": cursor[-1]}
        raise UptimeRobotError(f"UptimeRobot: more than {MAX_PAGES} pages of {path}; giving up")

    def _diff(
        self, fields: Sequence[str], replace_on: Sequence[str], olds: Props, news: Props
    ) -> DiffResult:
        changed = [
            f for f in fields if is_unknown(news.get(f)) or norm(olds.get(f)) != norm(news.get(f))
        ]
        return DiffResult(
            changes=bool(changed),
            replaces=[f for f in changed if f in replace_on],
            stables=[f for f in fields if f not in changed],
            delete_before_replace=False,
        )


def _monitor(reply: Any) -> dict[str, Any]:
    return expect(MonitorReply, reply, "a monitor").model_dump()


def _window(reply: Any) -> dict[str, Any]:
    return expect(WindowReply, reply, "a maintenance window").model_dump()


# --------------------------------------------------------------------------- monitors


class MonitorProvider(_Provider):
    """One UptimeRobot monitor (``/health`` or ``/ready`` of a service)."""

    noun = "monitor"

    def check(self, _olds: Props, news: Props) -> CheckResult:
        inputs = {**MONITOR_DEFAULTS, **{k: v for k, v in news.items() if v is not None}}
        return CheckResult(inputs, check_monitor(inputs))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        news = {**MONITOR_DEFAULTS, **news}
        return self._diff(MONITOR_FIELDS, MONITOR_REPLACE_ON, olds, news)

    def create(self, props: Props) -> CreateResult:
        conn = self._connection(props)
        name = props.get("friendly_name")
        what = f"monitor {str(name)[:80]!r}"
        with self.errors(conn, f"creating {what}"), conn.client(self.policy) as client:

            def find() -> Any:
                # MonitorsController_list, every page: is it there already?
                return next(
                    (m for m in self._list(client, "monitors") if same_monitor(m, props)), None
                )

            # MonitorsController_create (or the adopted monitor)
            body = monitor_body(props, creating=True)
            monitor = _monitor(self.create_once(client, "monitors", body, find, what))
            outs = monitor_outs(monitor, props)
            if self._diff(MONITOR_FIELDS, (), outs, {**MONITOR_DEFAULTS, **props}).changes:
                # An adopted monitor is made to match the config: MonitorsController_update.
                body = monitor_body(props, creating=False)
                path = f"monitors/{outs['monitor_id']}"
                monitor = _monitor(self.call(client, "PATCH", path, json=body))
                outs = monitor_outs(monitor, props)
        return CreateResult(outs["monitor_id"], outs)

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = self._connection(props)
        with self.errors(conn, f"reading monitor {id_}"), conn.client(self.policy) as client:
            reply = self.get_or_none(client, f"monitors/{id_}")  # MonitorsController_get
            if reply is None:
                return ReadResult("", {})  # gone: Pulumi drops it from state and recreates it
            outs = monitor_outs(_monitor(reply), props)
        return ReadResult(outs["monitor_id"], outs)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        conn = self._connection(news)
        with self.errors(conn, f"updating monitor {id_}"), conn.client(self.policy) as client:
            body = monitor_body(news, creating=False)  # MonitorsController_update
            reply = self.change(client, "PATCH", f"monitors/{id_}", body, f"monitor {id_}")
            monitor = _monitor(reply)
        return UpdateResult(monitor_outs(monitor, news))

    def delete(self, id_: str, props: Props) -> None:
        conn = self._connection(props)
        with self.errors(conn, f"deleting monitor {id_}"), conn.client(self.policy) as client:
            self.delete_path(client, f"monitors/{id_}")  # MonitorsController_delete


# --------------------------------------------------------------------------- maintenance windows


class MaintenanceWindowProvider(_Provider):
    """One UptimeRobot maintenance window; monitors join it through ``maintenanceWindowsIds``."""

    noun = "maintenance window"

    def check(self, _olds: Props, news: Props) -> CheckResult:
        inputs = {"days": [], **{k: v for k, v in news.items() if v is not None}}
        return CheckResult(inputs, [] if is_unknown(inputs) else check_window(inputs))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        return self._diff(WINDOW_FIELDS, (), olds, {"days": [], **news})

    def create(self, props: Props) -> CreateResult:
        conn = self._connection(props)
        name = props.get("name")
        what = f"maintenance window {str(name)[:80]!r}"
        with self.errors(conn, f"creating {what}"), conn.client(self.policy) as client:

            def find() -> Any:
                # MaintenanceWindowsController_list: adopt a window of the same name
                windows = self._list(client, "maintenance-windows")
                return next((w for w in windows if text(w.get("name")) == name), None)

            # MaintenanceWindowsController_create (or the adopted window)
            body = window_body(props)
            window = _window(self.create_once(client, "maintenance-windows", body, find, what))
            outs = window_outs(window, props)
            if self._diff(WINDOW_FIELDS, (), outs, {"days": [], **props}).changes:
                path = f"maintenance-windows/{outs['window_id']}"
                # MaintenanceWindowsController_update
                window = _window(self.call(client, "PATCH", path, json=window_body(props)))
                outs = window_outs(window, props)
        return CreateResult(outs["window_id"], outs)

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = self._connection(props)
        with self.errors(conn, f"reading window {id_}"), conn.client(self.policy) as client:
            # MaintenanceWindowsController_get
            reply = self.get_or_none(client, f"maintenance-windows/{id_}")
            if reply is None:
                return ReadResult("", {})
            outs = window_outs(_window(reply), props)
        return ReadResult(outs["window_id"], outs)

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        conn = self._connection(news)
        with self.errors(conn, f"updating window {id_}"), conn.client(self.policy) as client:
            path = f"maintenance-windows/{id_}"  # MaintenanceWindowsController_update
            reply = self.change(client, "PATCH", path, window_body(news), f"window {id_}")
            window = _window(reply)
        return UpdateResult(window_outs(window, news))

    def delete(self, id_: str, props: Props) -> None:
        conn = self._connection(props)
        with self.errors(conn, f"deleting window {id_}"), conn.client(self.policy) as client:
            self.delete_path(client, f"maintenance-windows/{id_}")  # ..._delete


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class ConnectionArgs:
    """Where and as whom to call UptimeRobot. ``api_key`` should be a secret Output."""

    api_key: pulumi.Input[str] | None = None
    api_url: pulumi.Input[str] = DEFAULT_API_URL
    api_key_name: str = DEFAULT_KEY_NAME


@dataclass(frozen=True)
class MonitorArgs:
    """A monitor as the provider's properties spell it (snake_case; seconds; minutes)."""

    friendly_name: pulumi.Input[str]
    url: pulumi.Input[str]
    interval: pulumi.Input[int]
    timeout: pulumi.Input[int]
    success_codes: Sequence[str] = ("2xx", "3xx")
    alert_contacts: Sequence[AlertContact] = ()
    maintenance_window_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = ()
    http_method: str = "GET"
    monitor_type: str = "HTTP"


@dataclass(frozen=True)
class MaintenanceWindowArgs:
    name: str
    interval: str
    date: str
    time: str
    duration: int
    days: Sequence[int] = ()


def _secret_opts(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    # The key is never an output, but if a future change echoed it, it would still be secret.
    extra = pulumi.ResourceOptions(additional_secret_outputs=["api_key"])
    return pulumi.ResourceOptions.merge(opts, extra)


def _connection_props(conn: ConnectionArgs) -> Props:
    return {"api_key": conn.api_key, "api_url": conn.api_url, "api_key_name": conn.api_key_name}


class UptimeRobotMonitor(Resource, module="uptimerobot", name="Monitor"):
    """An UptimeRobot monitor managed by :class:`MonitorProvider`."""

    monitor_id: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: MonitorArgs,
        connection: ConnectionArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: Props = {
            **_connection_props(connection),
            "friendly_name": args.friendly_name,
            "url": args.url,
            "interval": args.interval,
            "timeout": args.timeout,
            "success_codes": list(args.success_codes),
            "alert_contacts": [dict(c) for c in args.alert_contacts],
            "maintenance_window_ids": args.maintenance_window_ids,
            "http_method": args.http_method,
            "monitor_type": args.monitor_type,
            "monitor_id": None,
            "dashboard_url": None,
            "status": None,
        }
        super().__init__(MonitorProvider(), name, props, _secret_opts(opts))


class UptimeRobotMaintenanceWindow(Resource, module="uptimerobot", name="MaintenanceWindow"):
    """An UptimeRobot maintenance window managed by :class:`MaintenanceWindowProvider`."""

    window_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: MaintenanceWindowArgs,
        connection: ConnectionArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: Props = {
            **_connection_props(connection),
            "name": args.name,
            "interval": args.interval,
            "date": args.date,
            "time": args.time,
            "duration": args.duration,
            "days": list(args.days),
            "window_id": None,
            "status": None,
        }
        super().__init__(MaintenanceWindowProvider(), name, props, _secret_opts(opts))

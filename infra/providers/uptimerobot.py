"""Pulumi dynamic providers for UptimeRobot: one monitor, one maintenance window.

UptimeRobot has no Pulumi provider, so these speak its REST API v3 (the version UptimeRobot
recommends; v2 is frozen) with httpx. Every call follows an operation of UptimeRobot's
published API v3 description (``vendor-specs/uptimerobot/openapi.yaml``), named by its
``operationId`` at the call. Paths are relative to ``api_url`` (``https://api.uptimerobot.com/v3``).

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
- ``create`` is idempotent: it adopts a monitor with the same type, URL and name instead of
  posting a duplicate, and looks again after a create that failed without a clear answer
  (reset, timeout, 5xx, 429), because UptimeRobot may have stored it before the failure.
- UptimeRobot may answer names and URLs HTML-escaped (``&amp;``) and ids as numbers or strings;
  alert-contact ids are compared as numbers, so ``"0123"`` in config equals ``123`` in answers.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypedDict
from urllib.parse import parse_qs, urlsplit

import httpx
import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from infra.providers.engine_values import is_unknown
from infra.providers.http import ApiError, RetryPolicy, bearer_client, redact, request, retry_delay

API_KEY_ENV = "UPTIMEROBOT_API_KEY"
API_URL_ENV = "UPTIMEROBOT_API_URL"
"""Overrides every resource's ``api_url`` (tests point it at the local contract server)."""
DEFAULT_API_URL = "https://api.uptimerobot.com/v3"
DEFAULT_KEY_NAME = "uptimerobotApiKey"
DASHBOARD_URL = "https://dashboard.uptimerobot.com/monitors/{id}"
PAGE_LIMIT = 200  # the most MonitorsController_list returns per page
MAX_PAGES = 100

Sleep = Callable[[float], None]
Props = dict[str, Any]


class UptimeRobotError(Exception):
    """An UptimeRobot call failed. The message names the operation and never holds the key."""


class AlertContact(TypedDict):
    """One ``assignedAlertContacts`` item: notify ``id`` after ``threshold`` minutes down,
    repeating every ``recurrence`` minutes (0: once)."""

    id: str
    threshold: int
    recurrence: int


# --------------------------------------------------------------------------- connection


@dataclass(frozen=True)
class _Connection:
    api_url: str
    api_key: str

    def client(self, policy: RetryPolicy) -> httpx.Client:
        return bearer_client(self.api_url, self.api_key, policy)


def _text(value: Any) -> str:
    """UptimeRobot may escape ``&<>"'`` in names and URLs; compare and store them unescaped."""
    return html.unescape(str(value)) if value is not None else ""


def _id(value: Any) -> str:
    """Ids arrive as numbers or strings; Pulumi ids are strings (``800100007``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class _Provider(ResourceProvider):
    """Connection, errors and configuration shared by the UptimeRobot providers."""

    noun: ClassVar[str] = "object"

    def __init__(self, policy: RetryPolicy | None = None, sleep: Sleep = time.sleep) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._stack_config: Any = None

    # The stack config holds secrets in plain text; it must never reach a pickle (the state).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_stack_config"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def configure(self, req: ConfigureRequest) -> None:
        self._stack_config = req.config

    def _connection(self, props: Mapping[str, Any]) -> _Connection:
        api_url = str(os.environ.get(API_URL_ENV) or props.get("api_url") or DEFAULT_API_URL)
        if not re.match(r"https?://[^\s/]+", api_url):
            raise UptimeRobotError(f"api_url must be an http(s) URL (got {api_url!r})")
        name = str(props.get("api_key_name") or DEFAULT_KEY_NAME)
        configured = self._stack_config.get(name) if self._stack_config is not None else None
        key = props.get("api_key") or configured or os.environ.get(API_KEY_ENV)
        if not key or is_unknown(key):
            raise UptimeRobotError(
                f"no UptimeRobot API key: set it with `pulumi config set --secret {name} <key>` "
                f"or export {API_KEY_ENV}"
            )
        return _Connection(api_url.rstrip("/"), str(key))

    @contextmanager
    def _errors(self, conn: _Connection, doing: str) -> Iterator[None]:
        """Turn client errors into one clear message, with the key redacted."""
        try:
            yield
        except ApiError as exc:
            detail = redact(exc.vendor_message or str(exc), conn.api_key)
            status = f"HTTP {exc.status}" if exc.status is not None else "no answer"
            raise UptimeRobotError(f"UptimeRobot: {doing} failed ({status}): {detail}") from None
        except httpx.HTTPError as exc:
            detail = redact(f"{type(exc).__name__}: {exc}", conn.api_key)
            raise UptimeRobotError(f"UptimeRobot: {doing} failed: {detail}") from None

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
        response = request(client, method, path, policy=self.policy, sleep=self.sleep, **kwargs)
        return response.json() if response.content else None

    def _list(self, client: httpx.Client, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paged ``{nextLink, data}`` list.

        Only the ``cursor`` of ``nextLink`` is used: following the link itself would send the
        key to whatever host the link names."""
        params: dict[str, Any] = {"limit": PAGE_LIMIT} if path == "monitors" else {}
        for _ in range(MAX_PAGES):
            page = self._call(client, "GET", path, params=params)
            yield from page.get("data") or []
            link = page.get("nextLink")
            cursor = parse_qs(urlsplit(link).query).get("cursor") if link else None
            if not cursor:
                return
            params = {**params, "cursor": cursor[-1]}
        raise UptimeRobotError(f"UptimeRobot: more than {MAX_PAGES} pages of {path}; giving up")

    def _create(
        self, client: httpx.Client, path: str, body: dict[str, Any], find: Callable[[], Any]
    ) -> Any:
        """POST once at a time, adopting what ``find`` returns before each try.

        A POST that died without a clear answer may have been stored; posting again blindly
        would duplicate it, so every retry starts by looking for it."""
        single = replace(self.policy, max_attempts=1)
        attempts = max(1, self.policy.max_attempts)
        for attempt in range(1, attempts + 1):
            found = find()
            if found is not None:
                return found
            try:
                response = request(client, "POST", path, json=body, policy=single)
                return response.json()
            except ApiError as exc:
                retryable = exc.status is None or exc.status == 429 or exc.status >= 500
                if not retryable or attempt == attempts:
                    raise
                self.sleep(retry_delay(self.policy, attempt, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_or_none(self, client: httpx.Client, path: str) -> Any:
        try:
            return self._call(client, "GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def _delete(self, client: httpx.Client, path: str) -> None:
        try:
            self._call(client, "DELETE", path)
        except ApiError as exc:
            if exc.status != 404:  # already gone is what delete wants
                raise

    def _diff(
        self, fields: Sequence[str], replace_on: Sequence[str], olds: Props, news: Props
    ) -> DiffResult:
        changed = [
            f for f in fields if is_unknown(news.get(f)) or _norm(olds.get(f)) != _norm(news.get(f))
        ]
        return DiffResult(
            changes=bool(changed),
            replaces=[f for f in changed if f in replace_on],
            stables=[f for f in fields if f not in changed],
            delete_before_replace=False,
        )


def _norm(value: Any) -> Any:
    """Comparable form: whole floats as ints, ids by numeric value, lists order-free."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _id_value(v) if k == "id" else _norm(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(sorted((_norm(v) for v in value), key=repr))
    return value


def _id_value(value: Any) -> Any:
    """Alert-contact ids may carry leading zeros in config (``"0123"``) and none in answers."""
    text = _id(value)
    return int(text) if text.isdigit() else text


# --------------------------------------------------------------------------- monitors

MONITOR_FIELDS = (
    "monitor_type",
    "friendly_name",
    "url",
    "http_method",
    "interval",
    "timeout",
    "success_codes",
    "alert_contacts",
    "maintenance_window_ids",
)
MONITOR_DEFAULTS: Props = {
    "monitor_type": "HTTP",
    # UptimeRobot defaults HTTP monitors to HEAD, which many frameworks answer with 405.
    "http_method": "GET",
    "success_codes": ["2xx", "3xx"],
    "alert_contacts": [],
    "maintenance_window_ids": [],
}
# The type selects the whole shape of a monitor (CreateHttpMonitorDto, CreatePingMonitorDto…);
# every other field is patched in place by MonitorsController_update.
MONITOR_REPLACE_ON = ("monitor_type",)
SUPPORTED_TYPES = ("HTTP",)
HTTP_METHODS = ("HEAD", "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_STATUS_CODE_RE = re.compile(r"^[1-5](\d\d|xx)$")


def _check_monitor(news: Props) -> list[CheckFailure]:
    failures: list[CheckFailure] = []

    def fail(prop: str, reason: str) -> None:
        failures.append(CheckFailure(prop, reason))

    def known(prop: str) -> Any:
        value = news.get(prop)
        return None if is_unknown(value) else value

    name = known("friendly_name")
    if "friendly_name" not in news or (name is not None and not 0 < len(str(name)) <= 250):
        fail("friendly_name", "must be 1-250 characters (UptimeRobot's limit)")
    url = known("url")
    if "url" not in news or (url is not None and not re.match(r"https?://[^\s]+$", str(url))):
        fail("url", f"must be an http(s) URL such as https://api.example.com/health (got {url!r})")
    if known("monitor_type") not in (*SUPPORTED_TYPES, None):
        fail("monitor_type", f"only {', '.join(SUPPORTED_TYPES)} monitors are supported")
    if known("http_method") not in (*HTTP_METHODS, None):
        fail("http_method", f"must be one of {', '.join(HTTP_METHODS)}")
    for prop, low, high, hint in (
        ("interval", 30, 2_678_400, "seconds between checks; UptimeRobot's minimum is 30"),
        ("timeout", 1, 60, "seconds UptimeRobot waits for an answer, 1-60"),
    ):
        value = known(prop)
        if prop not in news or (
            value is not None
            and (not isinstance(value, int | float) or not low <= value <= high or value % 1)
        ):
            fail(prop, f"must be a whole number of {hint} (got {value!r})")
    codes = known("success_codes")
    if codes is not None and (
        not isinstance(codes, list | tuple)
        or not codes
        or not all(isinstance(c, str) and _STATUS_CODE_RE.match(c) for c in codes)
    ):
        fail("success_codes", f"must list codes or ranges such as '200' or '2xx' ({codes!r})")
    for index, contact in enumerate(known("alert_contacts") or []):
        if not isinstance(contact, Mapping) or not re.fullmatch(r"\d+", str(contact.get("id"))):
            fail(f"alert_contacts[{index}].id", "must be an alert-contact id of digits")
            continue
        for key in ("threshold", "recurrence"):
            value = contact.get(key)
            if not isinstance(value, int | float) or value < 0 or value % 1:
                fail(f"alert_contacts[{index}].{key}", f"must be whole minutes >= 0 ({value!r})")
    for index, window in enumerate(known("maintenance_window_ids") or []):
        if not is_unknown(window) and not re.fullmatch(r"\d+", _id(window)):
            fail(f"maintenance_window_ids[{index}]", f"must be a window id of digits ({window!r})")
    return failures


def monitor_body(props: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The request body of MonitorsController_create (CreateHttpMonitorDto) or _update."""
    body: dict[str, Any] = {
        "friendlyName": props["friendly_name"],
        "url": props["url"],
        "interval": int(props["interval"]),
        "timeout": int(props["timeout"]),
        "httpMethodType": props.get("http_method") or MONITOR_DEFAULTS["http_method"],
        "successHttpResponseCodes": list(props.get("success_codes") or ["2xx", "3xx"]),
        # AlertContactSettings: alertContactId is a number; threshold and recurrence minutes.
        "assignedAlertContacts": [
            {
                "alertContactId": int(c["id"]),
                "threshold": int(c["threshold"]),
                "recurrence": int(c["recurrence"]),
            }
            for c in props.get("alert_contacts") or []
        ],
        "maintenanceWindowsIds": [int(w) for w in props.get("maintenance_window_ids") or []],
    }
    if creating:
        body["type"] = props.get("monitor_type") or "HTTP"
    return body


def monitor_outs(monitor: Mapping[str, Any], props: Mapping[str, Any]) -> Props:
    """Outputs from a MonitorDto answer: what UptimeRobot holds now, never the key."""
    wanted = {_id_value(c["id"]): c["id"] for c in props.get("alert_contacts") or []}
    contacts: list[AlertContact] = []
    for item in monitor.get("assignedAlertContacts") or []:
        value = _id_value(item["alertContactId"])
        # Keep the config's spelling ("0123") when the number matches, so no false drift.
        contacts.append(
            AlertContact(
                id=str(wanted.get(value, _id(item["alertContactId"]))),
                threshold=int(item.get("threshold") or 0),
                recurrence=int(item.get("recurrence") or 0),
            )
        )
    monitor_id = _id(monitor["id"])
    return {
        "monitor_id": monitor_id,
        "monitor_type": str(monitor.get("type") or "").upper(),
        "friendly_name": _text(monitor.get("friendlyName")),
        "url": _text(monitor.get("url")),
        "http_method": monitor.get("httpMethodType"),
        "interval": int(monitor.get("interval") or 0),
        "timeout": int(monitor.get("timeout") or 0),
        "success_codes": list(monitor.get("successHttpResponseCodes") or []),
        "alert_contacts": contacts,
        "maintenance_window_ids": [_id(w["id"]) for w in monitor.get("maintenanceWindows") or []],
        "status": monitor.get("status"),
        "dashboard_url": DASHBOARD_URL.format(id=monitor_id),
        "api_url": props.get("api_url") or DEFAULT_API_URL,
        "api_key_name": props.get("api_key_name") or DEFAULT_KEY_NAME,
    }


def _same_monitor(monitor: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    return (
        _text(monitor.get("friendlyName")) == props["friendly_name"]
        and _text(monitor.get("url")) == props["url"]
        and str(monitor.get("type") or "").upper() == (props.get("monitor_type") or "HTTP")
    )


class MonitorProvider(_Provider):
    """One UptimeRobot monitor (``/health`` or ``/ready`` of a service)."""

    noun = "monitor"

    def check(self, _olds: Props, news: Props) -> CheckResult:
        inputs = {**MONITOR_DEFAULTS, **{k: v for k, v in news.items() if v is not None}}
        return CheckResult(inputs, _check_monitor(inputs))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        news = {**MONITOR_DEFAULTS, **news}
        return self._diff(MONITOR_FIELDS, MONITOR_REPLACE_ON, olds, news)

    def create(self, props: Props) -> CreateResult:
        conn = self._connection(props)
        name = props.get("friendly_name")
        with self._errors(conn, f"creating monitor {name!r}"), conn.client(self.policy) as client:

            def find() -> Any:
                # MonitorsController_list, every page: is it there already?
                return next(
                    (m for m in self._list(client, "monitors") if _same_monitor(m, props)), None
                )

            # MonitorsController_create (or the adopted monitor)
            monitor = self._create(client, "monitors", monitor_body(props, creating=True), find)
            outs = monitor_outs(monitor, props)
            if self._diff(MONITOR_FIELDS, (), outs, {**MONITOR_DEFAULTS, **props}).changes:
                # An adopted monitor is made to match the config: MonitorsController_update.
                body = monitor_body(props, creating=False)
                monitor = self._call(client, "PATCH", f"monitors/{outs['monitor_id']}", json=body)
                outs = monitor_outs(monitor, props)
        return CreateResult(outs["monitor_id"], outs)

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = self._connection(props)
        with self._errors(conn, f"reading monitor {id_}"), conn.client(self.policy) as client:
            monitor = self._get_or_none(client, f"monitors/{id_}")  # MonitorsController_get
        if monitor is None:
            return ReadResult("", {})  # gone: Pulumi drops it from state and recreates it
        return ReadResult(_id(monitor["id"]), monitor_outs(monitor, props))

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        conn = self._connection(news)
        with self._errors(conn, f"updating monitor {id_}"), conn.client(self.policy) as client:
            try:
                monitor = self._call(
                    client, "PATCH", f"monitors/{id_}", json=monitor_body(news, creating=False)
                )  # MonitorsController_update
            except ApiError as exc:
                if exc.status == 404:
                    raise UptimeRobotError(
                        f"UptimeRobot: monitor {id_} no longer exists (deleted by hand?); run "
                        "`pulumi refresh` and then `pulumi up` to create it again"
                    ) from None
                raise
        return UpdateResult(monitor_outs(monitor, news))

    def delete(self, id_: str, props: Props) -> None:
        conn = self._connection(props)
        with self._errors(conn, f"deleting monitor {id_}"), conn.client(self.policy) as client:
            self._delete(client, f"monitors/{id_}")  # MonitorsController_delete


# --------------------------------------------------------------------------- maintenance windows

WINDOW_FIELDS = ("name", "interval", "date", "time", "duration", "days")
WINDOW_INTERVALS = ("once", "daily", "weekly", "monthly")


def _check_window(news: Props) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    name, interval = news.get("name"), news.get("interval")
    if not isinstance(name, str) or not 3 <= len(name) <= 255:
        failures.append(CheckFailure("name", "must be 3-255 characters"))
    if interval not in WINDOW_INTERVALS:
        failures.append(CheckFailure("interval", f"must be one of {', '.join(WINDOW_INTERVALS)}"))
    if not re.fullmatch(r"(19|20)\d\d-\d\d-\d\d", str(news.get("date"))):
        failures.append(CheckFailure("date", "must be the start date as YYYY-MM-DD"))
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", str(news.get("time"))):
        failures.append(CheckFailure("time", "must be the start time as HH:MM:SS"))
    duration = news.get("duration")
    if not isinstance(duration, int | float) or duration < 1 or duration % 1:
        failures.append(CheckFailure("duration", "must be whole minutes >= 1"))
    return failures


def window_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """The body of MaintenanceWindowsController_create / _update."""
    return {
        "name": props["name"],
        "interval": props["interval"],
        "date": props["date"],
        "time": props["time"],
        "duration": int(props["duration"]),
        "days": [int(d) for d in props.get("days") or []],
    }


def window_outs(window: Mapping[str, Any], props: Mapping[str, Any]) -> Props:
    return {
        "window_id": _id(window["id"]),
        "name": _text(window.get("name")),
        "interval": window.get("interval"),
        "date": window.get("date"),
        "time": window.get("time"),
        "duration": int(window.get("duration") or 0),
        "days": [int(d) for d in window.get("days") or []],
        "status": window.get("status"),
        "api_url": props.get("api_url") or DEFAULT_API_URL,
        "api_key_name": props.get("api_key_name") or DEFAULT_KEY_NAME,
    }


class MaintenanceWindowProvider(_Provider):
    """One UptimeRobot maintenance window; monitors join it through ``maintenanceWindowsIds``."""

    noun = "maintenance window"

    def check(self, _olds: Props, news: Props) -> CheckResult:
        inputs = {"days": [], **{k: v for k, v in news.items() if v is not None}}
        return CheckResult(inputs, [] if is_unknown(inputs) else _check_window(inputs))

    def diff(self, _id: str, olds: Props, news: Props) -> DiffResult:
        return self._diff(WINDOW_FIELDS, (), olds, {"days": [], **news})

    def create(self, props: Props) -> CreateResult:
        conn = self._connection(props)
        name = props.get("name")
        with self._errors(conn, f"creating window {name!r}"), conn.client(self.policy) as client:

            def find() -> Any:
                # MaintenanceWindowsController_list: adopt a window of the same name
                windows = self._list(client, "maintenance-windows")
                return next((w for w in windows if _text(w.get("name")) == name), None)

            # MaintenanceWindowsController_create (or the adopted window)
            window = self._create(client, "maintenance-windows", window_body(props), find)
            outs = window_outs(window, props)
            if self._diff(WINDOW_FIELDS, (), outs, {"days": [], **props}).changes:
                window = self._call(  # MaintenanceWindowsController_update
                    client, "PATCH", f"maintenance-windows/{outs['window_id']}",
                    json=window_body(props),
                )  # fmt: skip
                outs = window_outs(window, props)
        return CreateResult(outs["window_id"], outs)

    def read(self, id_: str, props: Props) -> ReadResult:
        conn = self._connection(props)
        with self._errors(conn, f"reading window {id_}"), conn.client(self.policy) as client:
            # MaintenanceWindowsController_get
            window = self._get_or_none(client, f"maintenance-windows/{id_}")
        if window is None:
            return ReadResult("", {})
        return ReadResult(_id(window["id"]), window_outs(window, props))

    def update(self, id_: str, _olds: Props, news: Props) -> UpdateResult:
        conn = self._connection(news)
        with self._errors(conn, f"updating window {id_}"), conn.client(self.policy) as client:
            window = self._call(  # MaintenanceWindowsController_update
                client, "PATCH", f"maintenance-windows/{id_}", json=window_body(news)
            )
        return UpdateResult(window_outs(window, news))

    def delete(self, id_: str, props: Props) -> None:
        conn = self._connection(props)
        with self._errors(conn, f"deleting window {id_}"), conn.client(self.policy) as client:
            self._delete(client, f"maintenance-windows/{id_}")  # ..._delete


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

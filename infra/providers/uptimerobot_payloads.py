"""UptimeRobot API v3 payloads, pure: the provider properties checked, turned into request
bodies, and replies turned back into outputs. No I/O; ``infra/providers/uptimerobot.py`` calls.

Replies are validated (:class:`MonitorReply`, :class:`WindowReply`, :class:`PageReply`: the
fields read here, typed as ``vendor-specs/uptimerobot/openapi.yaml`` describes them) before
they are read. UptimeRobot may answer names and URLs HTML-escaped (``&amp;``) and ids as
numbers or strings; alert-contact ids are compared as numbers, so ``"0123"`` in config equals
``123`` in answers.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, TypedDict

from pulumi.dynamic import CheckFailure

from infra.providers.engine_values import is_unknown
from infra.providers.rest import Reply

DEFAULT_API_URL = "https://api.uptimerobot.com/v3"
DEFAULT_KEY_NAME = "uptimerobotApiKey"
DASHBOARD_URL = "https://dashboard.uptimerobot.com/monitors/{id}"

Props = dict[str, Any]
Id = int | str


class AlertContact(TypedDict):
    """One ``assignedAlertContacts`` item: notify ``id`` after ``threshold`` minutes down,
    repeating every ``recurrence`` minutes (0: once)."""

    id: str
    threshold: int
    recurrence: int


# --------------------------------------------------------------------------- replies


class ContactReply(Reply):
    """AlertContactSettings (field names are UptimeRobot's camelCase)."""

    alertContactId: Id
    threshold: int | None = None
    recurrence: int | None = None


class IdReply(Reply):
    id: Id


class MonitorReply(Reply):
    """MonitorDto: the fields the provider reads."""

    id: Id
    friendlyName: str
    url: str | None = None
    type: str
    interval: int
    timeout: int | None = None
    httpMethodType: str | None = None
    successHttpResponseCodes: list[str] | None = None
    assignedAlertContacts: list[ContactReply] | None = None
    maintenanceWindows: list[IdReply] | None = None
    status: str | None = None


class WindowReply(Reply):
    """MaintenanceWindowDto: the fields the provider reads."""

    id: Id
    name: str
    interval: str
    date: str | None = None
    time: str | None = None
    duration: int
    days: list[int] | None = None
    status: str | None = None


class PageReply(Reply):
    """One page of a cursor-paged list: ``{data: [...], nextLink}``."""

    data: list[dict[str, Any]]
    nextLink: str | None = None


# --------------------------------------------------------------------------- values


def text(value: Any) -> str:
    """UptimeRobot may escape ``&<>"'`` in names and URLs; compare and store them unescaped."""
    return html.unescape(str(value)) if value is not None else ""


def vendor_id(value: Any) -> str:
    """Ids arrive as numbers or strings; Pulumi ids are strings (``800100007``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def norm(value: Any) -> Any:
    """Comparable form: whole floats as ints, ids by numeric value, lists order-free."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, id_value(v) if k == "id" else norm(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(sorted((norm(v) for v in value), key=repr))
    return value


def id_value(value: Any) -> Any:
    """Alert-contact ids may carry leading zeros in config (``"0123"``) and none in answers."""
    spelled = vendor_id(value)
    return int(spelled) if spelled.isdigit() else spelled


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


def check_monitor(news: Props) -> list[CheckFailure]:
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
        if not is_unknown(window) and not re.fullmatch(r"\d+", vendor_id(window)):
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
    wanted = {id_value(c["id"]): c["id"] for c in props.get("alert_contacts") or []}
    contacts: list[AlertContact] = []
    for item in monitor.get("assignedAlertContacts") or []:
        value = id_value(item["alertContactId"])
        # Keep the config's spelling ("0123") when the number matches, so no false drift.
        contacts.append(
            AlertContact(
                id=str(wanted.get(value, vendor_id(item["alertContactId"]))),
                threshold=int(item.get("threshold") or 0),
                recurrence=int(item.get("recurrence") or 0),
            )
        )
    monitor_id = vendor_id(monitor["id"])
    return {
        "monitor_id": monitor_id,
        "monitor_type": str(monitor.get("type") or "").upper(),
        "friendly_name": text(monitor.get("friendlyName")),
        "url": text(monitor.get("url")),
        "http_method": monitor.get("httpMethodType"),
        "interval": int(monitor.get("interval") or 0),
        "timeout": int(monitor.get("timeout") or 0),
        "success_codes": list(monitor.get("successHttpResponseCodes") or []),
        "alert_contacts": contacts,
        "maintenance_window_ids": [
            vendor_id(w["id"]) for w in monitor.get("maintenanceWindows") or []
        ],
        "status": monitor.get("status"),
        "dashboard_url": DASHBOARD_URL.format(id=monitor_id),
        "api_url": props.get("api_url") or DEFAULT_API_URL,
        "api_key_name": props.get("api_key_name") or DEFAULT_KEY_NAME,
    }


def same_monitor(monitor: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    return (
        text(monitor.get("friendlyName")) == props["friendly_name"]
        and text(monitor.get("url")) == props["url"]
        and str(monitor.get("type") or "").upper() == (props.get("monitor_type") or "HTTP")
    )


# --------------------------------------------------------------------------- maintenance windows

WINDOW_FIELDS = ("name", "interval", "date", "time", "duration", "days")
WINDOW_INTERVALS = ("once", "daily", "weekly", "monthly")


def check_window(news: Props) -> list[CheckFailure]:
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
        "window_id": vendor_id(window["id"]),
        "name": text(window.get("name")),
        "interval": window.get("interval"),
        "date": window.get("date"),
        "time": window.get("time"),
        "duration": int(window.get("duration") or 0),
        "days": [int(d) for d in window.get("days") or []],
        "status": window.get("status"),
        "api_url": props.get("api_url") or DEFAULT_API_URL,
        "api_key_name": props.get("api_key_name") or DEFAULT_KEY_NAME,
    }

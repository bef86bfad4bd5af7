"""UptimeRobot monitors and maintenance windows that watch the stack's services but that the
stack's state does not manage.

Calls follow UptimeRobot's API v3 description (``vendor-specs/uptimerobot/openapi.yaml``) by
``operationId``; paths are relative to ``api_url`` (``https://api.uptimerobot.com/v3``).

Which objects count as the stack's:

- a monitor whose URL is under one of the services' ``base_url``: same scheme, host and port,
  and a path under the base path on a segment boundary, so ``https://api.agenzia.ai`` does not
  claim ``https://api.agenzia.ai.evil.com`` nor ``https://api.agenzia.ai@evil.com``;
- a monitor whose URL is a bare host name equal to a service's host (ping and port monitors);
- a monitor named ``<service name> … (<environment>)`` (heartbeat monitors have no URL);
- a maintenance window named ``… (<environment>)``, as the stack names its own.

UptimeRobot may answer names and URLs HTML-escaped (``&amp;``): they are unescaped first.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from infra.config import StackConfig
from infra.drift.inventory import (
    ManagedIds,
    VendorApi,
    expect_list,
    expect_object,
    items_with_id,
    managed_ids,
    normal_id,
    paged,
    sorted_report,
    text_field,
)
from infra.drift.model import Unmanaged
from infra.providers.http import DEFAULT_POLICY, RetryPolicy

VENDOR = "UptimeRobot"
PAGE_LIMIT = 200  # the most MonitorsController_list returns per page
MAX_PAGES = 500
_DEFAULT_PORTS = {"http": 80, "https": 443}


def unmanaged_uptimerobot(
    cfg: StackConfig,
    state: Mapping[str, Any],
    *,
    api_url: str,
    api_key: str,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[Unmanaged]:
    """Monitors and maintenance windows that look like the stack's and are not in ``state``
    (the parsed ``pulumi stack export``). Raises ``InventoryError`` when UptimeRobot cannot be
    read."""
    managed = managed_ids(state)
    with VendorApi(VENDOR, api_url, api_key, policy) as api:
        # MonitorsController_list, MaintenanceWindowsController_list
        monitors = _list(api, "monitors", "listing monitors", {"limit": PAGE_LIMIT})
        windows = _list(api, "maintenance-windows", "listing maintenance windows", {})
        found = [
            *_monitors(api, cfg, managed, monitors),
            *_windows(api, cfg, managed, windows),
        ]
    return sorted_report(found)


# --------------------------------------------------------------------------- matching (pure)


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int
    path: str


def _origin(url: str) -> _Origin | None:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number
        return None
    return _Origin(scheme, parts.hostname.rstrip("."), port, parts.path.rstrip("/"))


def url_is_under(url: str, base_url: str) -> bool:
    """``url`` is on ``base_url``'s scheme, host and port, at or below its path (whole path
    segments only: ``/api`` covers ``/api/health``, not ``/api2``)."""
    target, base = _origin(url), _origin(base_url)
    if target is None or base is None:
        return False
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return False
    return target.path == base.path or target.path.startswith(base.path + "/")


def bare_host(url: str) -> str | None:
    """The host of a scheme-less monitor target (``api.agenzia.ai``, ``api.agenzia.ai:5432``)."""
    text = url.strip()
    if not text or "://" in text or "/" in text or "@" in text:
        return None
    try:
        host = urlsplit("//" + text).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None


def named_for(name: str, services: Sequence[str], environment: str) -> str | None:
    """The service a monitor's name starts with, if it also ends with ``(<environment>)``."""
    if not name.rstrip().endswith(f"({environment})"):
        return None
    for service in services:
        if re.match(re.escape(service) + r"(?![A-Za-z0-9_-])", name):
            return service
    return None


def monitor_reason(cfg: StackConfig, name: str, url: str) -> str | None:
    """Why a monitor counts as the stack's, or ``None`` when it does not."""
    for service in cfg.services:
        if url and url_is_under(url, service.base_url):
            return f"checks {url}"
    host = bare_host(url)
    if host is not None:
        for service in cfg.services:
            base = _origin(service.base_url)
            if base is not None and base.host == host:
                return f"checks host {host} of service {service.name}"
    service_name = named_for(name, [s.name for s in cfg.services], cfg.environment)
    if service_name is not None:
        return f"named for service {service_name} in {cfg.environment}"
    return None


def window_reason(cfg: StackConfig, name: str) -> str | None:
    suffix = f" ({cfg.environment})"
    return f"name ends with {suffix.strip()}" if name.rstrip().endswith(suffix) else None


# --------------------------------------------------------------------------- reading


def next_cursor(link: Any) -> str | None:
    """The ``cursor`` of a ``nextLink``. Only the cursor is used: following the link itself
    would send the key to whatever host the link names."""
    if link is None or link == "":
        return None
    if not isinstance(link, str):
        raise TypeError(f"nextLink should be a string or null, got {type(link).__name__}")
    cursor = parse_qs(urlsplit(link).query).get("cursor")
    if not cursor:
        raise ValueError(f"nextLink {link!r} carries no cursor")
    return cursor[-1]


def _list(api: VendorApi, path: str, doing: str, params: dict[str, Any]) -> list[Mapping[str, Any]]:
    """Every item of a cursor-paged ``{nextLink, data}`` list."""

    def read(response: httpx.Response) -> tuple[list[Mapping[str, Any]], str | None]:
        page = expect_object(api, api.json(response, doing), doing, "the reply")
        if "data" not in page:
            api.fail(doing, "the reply has no 'data' list")
        data = expect_list(api, page["data"], doing, "data")
        try:
            cursor = next_cursor(page.get("nextLink"))
        except (TypeError, ValueError) as exc:
            api.fail(doing, str(exc))
        return list(items_with_id(api, data, doing, "data")), cursor

    return paged(api, path, doing, params, read, MAX_PAGES)


def _monitors(
    api: VendorApi, cfg: StackConfig, managed: ManagedIds, monitors: list[Mapping[str, Any]]
) -> list[Unmanaged]:
    doing = "listing monitors"
    found = []
    for monitor in monitors:
        id_ = normal_id(monitor["id"])
        name = html.unescape(text_field(api, monitor, "friendlyName", doing, "monitor") or "")
        url = html.unescape(text_field(api, monitor, "url", doing, "monitor") or "")
        reason = monitor_reason(cfg, name, url)
        if reason is not None and id_ not in managed.uptimerobot_monitors:
            found.append(Unmanaged("uptimerobot", "monitor", id_, name, reason))
    return found


def _windows(
    api: VendorApi, cfg: StackConfig, managed: ManagedIds, windows: list[Mapping[str, Any]]
) -> list[Unmanaged]:
    doing = "listing maintenance windows"
    found = []
    for window in windows:
        id_ = normal_id(window["id"])
        name = html.unescape(text_field(api, window, "name", doing, "maintenance window") or "")
        reason = window_reason(cfg, name)
        if reason is not None and id_ not in managed.uptimerobot_windows:
            found.append(Unmanaged("uptimerobot", "maintenance window", id_, name, reason))
    return found

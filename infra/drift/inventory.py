"""What the unmanaged-object inventories share: the stack's managed ids, read from its Pulumi
state, and one checked way to read a vendor's list API.

The vendor modules (``uptimerobot_inventory``, ``sentry_inventory``, ``grafana_inventory``) each
list a vendor's objects, keep those that look like the stack's (its service URLs, its environment,
its Sentry project, its Grafana folder) and report the ones no resource of the state manages.

Why it looks the way it does:

- The state is the parsed JSON of ``pulumi stack export``. Dynamic-provider resources carry the
  type ``pulumi-python:dynamic/<module>:<Name>`` (pulumi >= 3.1xx, from the ``module=``/``name=``
  of ``Resource`` subclasses); an older SDK writes ``pulumi-python:dynamic:Resource`` for all of
  them, so those are told apart by their parent component in the URN and by their outputs.
  A resource's ``id`` is the vendor's id.
- Every reply is checked for the shape the code reads before it is read: a vendor answering
  ``[]`` where an object is due, or an HTML page with status 200, is an :class:`InventoryError`
  naming the vendor and the call, never a ``KeyError`` half-way through a report.
- Errors never hold the credential: every message passes through :func:`redact`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from infra.drift.model import Unmanaged
from infra.providers.http import ApiError, RetryPolicy, bearer_client, redact, request

DYNAMIC_UNTYPED = "pulumi-python:dynamic:Resource"
_DYNAMIC_KINDS = {
    "/uptimerobot:Monitor": "uptimerobot_monitors",
    "/uptimerobot:MaintenanceWindow": "uptimerobot_windows",
    "/sentry:Detector": "sentry_detectors",
    "/sentry:Workflow": "sentry_workflows",
}
_GRAFANA_TYPE = re.compile(r"^grafana:[A-Za-z0-9_/]+:(?P<name>Folder|Dashboard|RuleGroup)$")
_SHOWN_LIMIT = 120


class InventoryError(Exception):
    """Listing a vendor's objects failed, or the vendor (or the state) answered in a shape the
    inventory cannot read. The message names the vendor and the operation, never a credential."""


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class ManagedIds:
    """The vendor ids of every object the stack's state manages."""

    uptimerobot_monitors: frozenset[str] = frozenset()
    uptimerobot_windows: frozenset[str] = frozenset()
    sentry_detectors: frozenset[str] = frozenset()
    sentry_workflows: frozenset[str] = frozenset()
    grafana_folders: frozenset[str] = frozenset()
    grafana_dashboards: frozenset[str] = frozenset()
    grafana_rule_groups: frozenset[tuple[str, str]] = frozenset()
    """``(folder uid, group title)`` pairs."""


def normal_id(value: Any) -> str:
    """Ids arrive as numbers or strings (``800100007``, ``"800100007"``, ``8.001e8``): one form."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return str(int(text)) if text.isdigit() else text


def managed_ids(state: Mapping[str, Any]) -> ManagedIds:
    """Read ``pulumi stack export`` output: which vendor objects the stack manages."""
    resources = _state_resources(state)
    found: dict[str, set[Any]] = {f: set() for f in ManagedIds.__dataclass_fields__}
    for index, resource in enumerate(resources):
        if not isinstance(resource, Mapping):
            raise InventoryError(f"Pulumi state: deployment.resources[{index}] is not an object")
        type_ = resource.get("type")
        if not isinstance(type_, str):
            continue
        props = _props(resource)
        raw_id = resource.get("id")
        id_ = normal_id(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else None
        grafana = _GRAFANA_TYPE.match(type_)
        if grafana:
            _add_grafana(found, grafana.group("name"), props, id_)
            continue
        kind = _dynamic_kind(type_, str(resource.get("urn") or ""), props)
        if kind is not None and id_ is not None:
            found[kind].add(id_)
    return ManagedIds(**{k: frozenset(v) for k, v in found.items()})


def _state_resources(state: Mapping[str, Any]) -> list[Any]:
    if not isinstance(state, Mapping):
        raise InventoryError("Pulumi state: expected the JSON object of `pulumi stack export`")
    deployment = state.get("deployment")
    if not isinstance(deployment, Mapping):
        raise InventoryError(
            "Pulumi state: no `deployment` object (is this `pulumi stack export`?)"
        )
    resources = deployment.get("resources")
    if resources is None:
        return []  # a stack that has never been deployed
    if not isinstance(resources, list):
        raise InventoryError("Pulumi state: deployment.resources is not a list")
    return resources


def _props(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs over inputs: both are in the export, outputs are what the provider last read."""
    props: dict[str, Any] = {}
    for key in ("inputs", "outputs"):
        value = resource.get(key)
        if isinstance(value, Mapping):
            props.update(value)
    return props


def _plain(value: Any) -> str | None:
    """A plain, non-empty string; a secret (``{"4dabf18193072939515e22adb298388d": …}``) or
    anything else is ``None``."""
    return value if isinstance(value, str) and value else None


def _add_grafana(found: dict[str, set[Any]], name: str, props: Mapping[str, Any], id_: Any) -> None:
    # The provider's ids are "<orgId>:<uid>" (folder, dashboard); uids hold no ':'.
    id_uid = id_.rsplit(":", 1)[-1] if isinstance(id_, str) else None
    if name == "Folder":
        uid = _plain(props.get("uid")) or id_uid
        if uid:
            found["grafana_folders"].add(uid)
    elif name == "Dashboard":
        uid = _plain(props.get("uid")) or id_uid
        if uid:
            found["grafana_dashboards"].add(uid)
    else:
        folder = _plain(props.get("folderUid")) or _plain(props.get("folder_uid"))
        title = _plain(props.get("name"))
        if folder and title:
            found["grafana_rule_groups"].add((folder, title))


def _dynamic_kind(type_: str, urn: str, props: Mapping[str, Any]) -> str | None:
    if type_.startswith("pulumi-python:dynamic/"):
        for suffix, kind in _DYNAMIC_KINDS.items():
            if type_.endswith(suffix):
                return kind
        return None
    if type_ != DYNAMIC_UNTYPED:
        return None
    # An untyped dynamic resource: its parent component (in the URN's type chain), its outputs
    # and its name say what it is.
    parts = urn.split("::")
    chain = parts[2] if len(parts) >= 4 else ""
    name = parts[-1] if len(parts) >= 4 else ""
    spec = props.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if ":uptimerobot:" in chain or "friendly_name" in props or "window_id" in props:
        if "window_id" in props or "-window-" in name:
            return "uptimerobot_windows"
        if "monitor_id" in props or "friendly_name" in props or "url" in props:
            return "uptimerobot_monitors"
        return None
    if ":sentry:" in chain or "sentry_id" in props:
        if "dataSources" in spec or "conditionGroup" in spec:
            return "sentry_detectors"
        if "actionFilters" in spec or "triggers" in spec or "detectorIds" in spec:
            return "sentry_workflows"
    return None


# --------------------------------------------------------------------------- vendor replies


class VendorApi:
    """One vendor's read API: retried calls, errors as :class:`InventoryError` naming the vendor
    and what was being done, the credential redacted from every message."""

    def __init__(self, vendor: str, api_url: str, token: str, policy: RetryPolicy) -> None:
        if not re.match(r"https?://[^\s/]+", api_url or ""):
            raise InventoryError(f"{vendor}: the API URL must be an http(s) URL (got {api_url!r})")
        if not token:
            raise InventoryError(f"{vendor}: no API token given")
        self.vendor = vendor
        self.token = token
        self.policy = policy
        self._base = api_url.rstrip("/") + "/"
        self._client = bearer_client(api_url.rstrip("/"), token, policy)

    def __enter__(self) -> VendorApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def get(self, path: str, doing: str, params: Any = None) -> httpx.Response:
        """``GET path`` (relative to the API URL), retried per the policy."""
        try:
            # The whole URL, so that errors name the whole path (``GET /api/0/organizations/…``).
            url = self._base + path.lstrip("/")
            return request(self._client, "GET", url, policy=self.policy, params=params)
        except ApiError as exc:  # names the call, the status, the attempts and the vendor's words
            self.fail(doing, str(exc))
        except httpx.HTTPError as exc:  # e.g. an invalid URL: not a transport error
            self.fail(doing, f"failed ({type(exc).__name__}): {exc}")

    def json(self, response: httpx.Response, doing: str) -> Any:
        """The reply's JSON body; a body that is not JSON is an :class:`InventoryError`."""
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = response.headers.get("Content-Type", "no content type")
            self.fail(doing, f"the reply is not JSON ({kind}): {shorten(response.text)!r}")

    def fail(self, doing: str, detail: str) -> NoReturn:
        """Raise the one-line error for ``doing``, credential redacted."""
        raise InventoryError(redact(f"{self.vendor}: {doing}: {detail}", self.token)) from None


def shorten(text: str, limit: int = _SHOWN_LIMIT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expect_list(api: VendorApi, value: Any, doing: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        api.fail(doing, f"expected {what} to be a JSON array, got {_kind(value)}")
    return value


def expect_object(api: VendorApi, value: Any, doing: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        api.fail(doing, f"expected {what} to be a JSON object, got {_kind(value)}")
    return value


def items_with_id(
    api: VendorApi, values: list[Any], doing: str, what: str, id_key: str = "id"
) -> Iterator[Mapping[str, Any]]:
    """Each item of a list reply, checked to be an object with a usable ``id_key``."""
    for index, item in enumerate(values):
        obj = expect_object(api, item, doing, f"{what}[{index}]")
        value = obj.get(id_key)
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
            api.fail(doing, f"{what}[{index}] has no usable {id_key!r} (got {value!r})")
        yield obj


def text_field(
    api: VendorApi, obj: Mapping[str, Any], key: str, doing: str, what: str
) -> str | None:
    """An optional string field; a number or object where text is due is malformed."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    api.fail(doing, f"{what}.{key} should be a string, got {_kind(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    for type_, name in names.items():
        if isinstance(value, type_):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__


def sorted_report(items: list[Unmanaged]) -> list[Unmanaged]:
    """One order for every run: by kind, then name, then id (numeric ids by value)."""

    def key(u: Unmanaged) -> tuple[str, str, int, str]:
        return (u.kind, u.name.casefold(), len(u.id) if u.id.isdigit() else 0, u.id)

    return sorted(items, key=key)


PageReader = Callable[[httpx.Response], tuple[list[Mapping[str, Any]], str | None]]
"""Reads one page of a list reply: its items and the cursor of the next page (or None)."""


def paged(
    api: VendorApi, path: str, doing: str, params: dict[str, Any], read: PageReader, pages: int
) -> list[Mapping[str, Any]]:
    """Every item of a cursor-paged list, at most ``pages`` pages; a cursor sent twice (a loop)
    or too many pages is an :class:`InventoryError`, not an endless listing."""
    items: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    for _ in range(pages):
        page, cursor = read(api.get(path, doing, params))
        items.extend(page)
        if cursor is None:
            return items
        if cursor in seen:
            api.fail(doing, f"the API sent cursor {cursor!r} twice; stopping")
        seen.add(cursor)
        params = {**params, "cursor": cursor}
    api.fail(doing, f"more than {pages} pages; giving up")

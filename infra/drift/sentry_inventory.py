"""Sentry detectors and workflows that look like the stack's but that its state does not manage.

Calls follow Sentry's published description (``vendor-specs/sentry/openapi-derefed.json``) by
``operationId``; paths are relative to ``api_url`` (``https://sentry.io/api/0``).

Which objects count as the stack's:

- a detector of the stack's project (``listOrganizationDetectors`` filtered with
  ``?project=<slug>``), unless it belongs to another environment: both stacks may share one
  project, so a detector whose query names another environment is that stack's business. The
  detectors Sentry creates by itself for every project (types ``error`` and ``issue_stream``)
  are not counted: nobody declares them, and they cannot be deleted;
- a workflow of the organization whose ``environment`` is the stack's, or whose name starts
  with ``<project> (<environment>)``, as the stack names its own.

Lists are cursor-paged with a ``Link`` header; only its ``cursor`` is used, never the link's
host, so the token goes nowhere but ``api_url``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from infra.config import StackConfig
from infra.drift.inventory import (
    ManagedIds,
    VendorApi,
    expect_list,
    items_with_id,
    managed_ids,
    normal_id,
    paged,
    sorted_report,
    text_field,
)
from infra.drift.model import Unmanaged
from infra.providers.http import DEFAULT_POLICY, RetryPolicy

VENDOR = "Sentry"
MAX_PAGES = 200
SYSTEM_DETECTOR_TYPES = frozenset({"error", "issue_stream"})
"""Detectors Sentry creates for every project on its own."""

_LINK = re.compile(r'<(?P<url>[^>]*)>(?P<attrs>(?:\s*;\s*[A-Za-z-]+\s*=\s*"[^"]*")*)')
_ATTR = re.compile(r'([A-Za-z-]+)\s*=\s*"([^"]*)"')


def unmanaged_sentry(
    cfg: StackConfig,
    state: Mapping[str, Any],
    *,
    api_url: str,
    token: str,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> list[Unmanaged]:
    """Detectors of the stack's project and workflows of its environment that are not in
    ``state`` (the parsed ``pulumi stack export``). Raises ``InventoryError`` when Sentry
    cannot be read."""
    managed = managed_ids(state)
    org = quote(cfg.sentry.organization, safe="")
    with VendorApi(VENDOR, api_url, token, policy) as api:
        # listOrganizationDetectors, listOrganizationWorkflows
        detectors = _list(
            api, f"organizations/{org}/detectors/", "listing detectors",
            {"project": cfg.sentry.project},
        )  # fmt: skip
        workflows = _list(api, f"organizations/{org}/workflows/", "listing workflows", {})
        found = [
            *_detectors(api, cfg, managed, detectors),
            *_workflows(api, cfg, managed, workflows),
        ]
    return sorted_report(found)


# --------------------------------------------------------------------------- matching (pure)


def title_prefix(cfg: StackConfig) -> str:
    """How the stack starts the names of its detectors and workflows."""
    return f"{cfg.sentry.project} ({cfg.environment})"


def detector_environment(detector: Mapping[str, Any]) -> str | None:
    """The environment a metric detector's query is limited to (``None``: every one)."""
    sources = detector.get("dataSources")
    for source in sources if isinstance(sources, list) else []:
        query_obj = source.get("queryObj") if isinstance(source, Mapping) else None
        query = query_obj.get("snubaQuery") if isinstance(query_obj, Mapping) else None
        env = query.get("environment") if isinstance(query, Mapping) else None
        if isinstance(env, str) and env:
            return env
    return None


def detector_reason(cfg: StackConfig, name: str, type_: str, environment: str | None) -> str | None:
    """Why a detector of the stack's project counts as the stack's, or ``None``."""
    where = f"in project {cfg.sentry.project}"
    if type_ in SYSTEM_DETECTOR_TYPES:
        return None
    if name.startswith(title_prefix(cfg)):
        return f"{where}, named {title_prefix(cfg)} …"
    if environment == cfg.environment:
        return f"{where}, environment {environment}"
    if environment is None:
        return f"{where}, every environment"
    return None


def workflow_reason(cfg: StackConfig, name: str, environment: str | None) -> str | None:
    if environment == cfg.environment:
        return f"environment {environment}"
    if name.startswith(title_prefix(cfg)):
        return f"named {title_prefix(cfg)} …"
    return None


def next_cursor(link_header: str) -> str | None:
    """The cursor of the ``rel="next"`` link when it says ``results="true"``."""
    for link in _LINK.finditer(link_header):
        attrs = dict(_ATTR.findall(link.group("attrs")))
        if attrs.get("rel") != "next":
            continue
        if attrs.get("results") != "true":
            return None
        cursor = (
            attrs.get("cursor")
            or (parse_qs(urlsplit(link.group("url")).query).get("cursor") or [""])[-1]
        )
        if not cursor:
            raise ValueError(f"the next link {link.group('url')!r} carries no cursor")
        return cursor
    return None


# --------------------------------------------------------------------------- reading


def _list(api: VendorApi, path: str, doing: str, params: dict[str, Any]) -> list[Mapping[str, Any]]:
    def read(response: httpx.Response) -> tuple[list[Mapping[str, Any]], str | None]:
        page = expect_list(api, api.json(response, doing), doing, "the reply")
        try:
            cursor = next_cursor(response.headers.get("Link", ""))
        except ValueError as exc:
            api.fail(doing, str(exc))
        return list(items_with_id(api, page, doing, "the reply")), cursor

    return paged(api, path, doing, params, read, MAX_PAGES)


def _detectors(
    api: VendorApi, cfg: StackConfig, managed: ManagedIds, detectors: list[Mapping[str, Any]]
) -> list[Unmanaged]:
    doing = "listing detectors"
    found = []
    for detector in detectors:
        id_ = normal_id(detector["id"])
        name = text_field(api, detector, "name", doing, "detector") or ""
        type_ = text_field(api, detector, "type", doing, "detector") or ""
        reason = detector_reason(cfg, name, type_, detector_environment(detector))
        if reason is not None and id_ not in managed.sentry_detectors:
            found.append(Unmanaged("sentry", "detector", id_, name, reason))
    return found


def _workflows(
    api: VendorApi, cfg: StackConfig, managed: ManagedIds, workflows: list[Mapping[str, Any]]
) -> list[Unmanaged]:
    doing = "listing workflows"
    found = []
    for workflow in workflows:
        id_ = normal_id(workflow["id"])
        name = text_field(api, workflow, "name", doing, "workflow") or ""
        environment = text_field(api, workflow, "environment", doing, "workflow")
        reason = workflow_reason(cfg, name, environment)
        if reason is not None and id_ not in managed.sentry_workflows:
            found.append(Unmanaged("sentry", "workflow", id_, name, reason))
    return found

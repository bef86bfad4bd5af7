"""Grafana dashboards and alert rule groups in the stack's folder that its state does not manage.

Calls follow Grafana's HTTP API documentation: "Folder/Dashboard Search HTTP API"
(``GET /api/search``) and "Alerting Provisioning HTTP API" (``GET
/api/v1/provisioning/alert-rules``); ``url`` is the Grafana root (``https://agenzia.grafana.net``).

The stack's folder is the one its state holds (the ``uid`` of its ``grafana:oss/folder:Folder``),
else the uid the stack would give it (:func:`infra.render.dashboards.folder_uid`). Everything in
that folder is the stack's: a dashboard whose uid no ``Dashboard`` resource has, and a rule group
whose (folder, title) no ``RuleGroup`` resource has, is reported. A rule group's id is written
``<folder uid>:<title>``, the form ``pulumi import`` takes for a rule group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from infra.config import StackConfig
from infra.drift.inventory import (
    ManagedIds,
    VendorApi,
    expect_list,
    items_with_id,
    managed_ids,
    shorten,
    sorted_report,
    text_field,
)
from infra.drift.model import Unmanaged
from infra.providers.http import DEFAULT_POLICY, RetryPolicy

VENDOR = "Grafana"
SEARCH_PAGE_SIZE = 1000  # Grafana's default; it allows up to 5000
MAX_PAGES = 100


def unmanaged_grafana(
    cfg: StackConfig,
    state: Mapping[str, Any],
    *,
    url: str,
    token: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    page_size: int = SEARCH_PAGE_SIZE,
) -> list[Unmanaged]:
    """Dashboards and rule groups of the stack's folder that are not in ``state`` (the parsed
    ``pulumi stack export``). Raises ``InventoryError`` when Grafana cannot be read."""
    managed = managed_ids(state)
    folders = sorted(managed.grafana_folders) or [_planned_folder(cfg)]
    with VendorApi(VENDOR, url, token, policy) as api:
        found = [d for folder in folders for d in _dashboards(api, managed, folder, page_size)]
        found += _rule_groups(api, managed, folders)
    return sorted_report(found)


def _planned_folder(cfg: StackConfig) -> str:
    # Imported here: the dashboard renderer pulls in the Grafana SDK, which only this needs.
    from infra.render.dashboards import folder_uid

    return folder_uid(cfg)


def _dashboards(
    api: VendorApi, managed: ManagedIds, folder: str, page_size: int
) -> list[Unmanaged]:
    doing = f"searching dashboards in folder {folder}"
    found = []
    limit = max(1, page_size)
    for page in range(1, MAX_PAGES + 1):
        params = {"type": "dash-db", "folderUIDs": folder, "limit": limit, "page": page}
        hits = expect_list(
            api, api.json(api.get("api/search", doing, params), doing), doing, "the reply"
        )
        for hit in items_with_id(api, hits, doing, "the reply", id_key="uid"):
            in_folder = text_field(api, hit, "folderUid", doing, "search hit")
            if in_folder not in (None, folder):  # answered for another folder: not ours
                continue
            uid = str(hit["uid"])
            if uid not in managed.grafana_dashboards:
                title = text_field(api, hit, "title", doing, "search hit") or ""
                found.append(Unmanaged("grafana", "dashboard", uid, title, f"in folder {folder}"))
        if len(hits) < limit:
            return found
    api.fail(doing, f"more than {MAX_PAGES} pages of {limit}; giving up")


def _rule_groups(api: VendorApi, managed: ManagedIds, folders: list[str]) -> list[Unmanaged]:
    doing = "listing alert rules"
    rules = expect_list(
        api, api.json(api.get("api/v1/provisioning/alert-rules", doing), doing), doing, "the reply"
    )
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rule in items_with_id(api, rules, doing, "the reply", id_key="uid"):
        folder = text_field(api, rule, "folderUID", doing, "alert rule")
        group = text_field(api, rule, "ruleGroup", doing, "alert rule")
        if not folder or not group:
            api.fail(doing, f"alert rule {rule['uid']!r} has no folderUID or ruleGroup")
        if folder in folders and (folder, group) not in managed.grafana_rule_groups:
            groups[(folder, group)].append(
                text_field(api, rule, "title", doing, "alert rule") or ""
            )
    found = []
    for (folder, group), titles in groups.items():
        rules_shown = shorten(", ".join(sorted(titles)), 80)
        reason = f"in folder {folder}; {len(titles)} rule(s): {rules_shown}"
        found.append(Unmanaged("grafana", "rule group", f"{folder}:{group}", group, reason))
    return found

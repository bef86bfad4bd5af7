"""Unmanaged-object inventories (infra/drift/*_inventory.py): the real code, over real HTTP, against
the UptimeRobot, Sentry and Grafana contract servers (tests/contract/), each run as a subprocess.

Objects are seeded through each vendor's public API, as a person would by hand; the state is a
small dict in the shape of ``pulumi stack export``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from infra.config import StackConfig
from infra.drift.grafana_inventory import unmanaged_grafana
from infra.drift.inventory import InventoryError, managed_ids
from infra.drift.model import Unmanaged
from infra.drift.sentry_inventory import detector_reason, next_cursor, unmanaged_sentry
from infra.drift.uptimerobot_inventory import unmanaged_uptimerobot, url_is_under
from infra.providers.http import RetryPolicy
from infra.render.dashboards import folder_uid
from tests.contract import grafana_server, sentry_process, uptimerobot_process

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, timeout=5.0)
UR_KEY = uptimerobot_process.API_KEY
SENTRY_TOKEN = sentry_process.TOKEN
GRAFANA_TOKEN = "glsa_c0ntr4ctT0k3nF0rDr1ft_0123abcd"
STACK_URN = "urn:pulumi:production::agenzia-monitoring"


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def ur_server() -> Iterator[str]:
    with uptimerobot_process.contract_server() as url:
        yield url


@pytest.fixture(scope="module")
def sentry_server() -> Iterator[str]:
    with sentry_process.contract_server() as url:
        yield url


@pytest.fixture(scope="module")
def grafana() -> Iterator[str]:
    with grafana_server.contract_server(GRAFANA_TOKEN) as url:
        yield url


@pytest.fixture
def ur(ur_server: str) -> str:
    uptimerobot_process.admin(ur_server, "/__reset")
    return ur_server


@pytest.fixture
def sentry(sentry_server: str) -> str:
    sentry_process.admin(sentry_server, "/__reset")
    return sentry_server


@pytest.fixture
def gf(grafana: str) -> str:
    httpx.post(f"{grafana}/__reset", timeout=5).raise_for_status()
    return grafana


# --------------------------------------------------------------------------- state


def export(*resources: dict[str, Any]) -> dict[str, Any]:
    """A ``pulumi stack export`` document holding ``resources`` (and the stack itself)."""
    stack = {"urn": f"{STACK_URN}::pulumi:pulumi:Stack::agenzia-monitoring-production",
             "custom": False, "type": "pulumi:pulumi:Stack"}  # fmt: skip
    return {"version": 3, "deployment": {"manifest": {}, "resources": [stack, *resources]}}


def dynamic(module: str, name: str, res: str, id_: str, typed: bool = True, /, **outs: Any) -> Any:
    """A dynamic-provider resource as the engine records it (typed by pulumi >= 3.1xx, or the
    older untyped ``pulumi-python:dynamic:Resource``)."""
    type_ = f"pulumi-python:dynamic/{module}:{name}" if typed else "pulumi-python:dynamic:Resource"
    parent = {
        "uptimerobot": "monitoring:uptimerobot:Monitors",
        "sentry": "monitoring:sentry:Alerts",
    }
    return {
        "urn": f"{STACK_URN}::{parent[module]}${type_}::{res}",
        "custom": True, "id": id_, "type": type_,
        "inputs": {"api_url": "https://api.example", "__provider": "gASV…"},
        "outputs": {"api_url": "https://api.example", **outs},
    }  # fmt: skip


def grafana_resource(kind: str, name: str, id_: str, /, **outs: Any) -> dict[str, Any]:
    type_ = {
        "Folder": "grafana:oss/folder:Folder",
        "Dashboard": "grafana:oss/dashboard:Dashboard",
        "RuleGroup": "grafana:alerting/ruleGroup:RuleGroup",
    }[kind]
    urn = f"{STACK_URN}::monitoring:grafana:Monitoring${type_}::{name}"
    return {"urn": urn, "custom": True, "id": id_, "type": type_, "inputs": {}, "outputs": outs}


# --------------------------------------------------------------------------- UptimeRobot


def ur_monitor(server: str, name: str, url: str, type_: str = "HTTP") -> str:
    body = {"friendlyName": name, "url": url, "type": type_, "interval": 300, "timeout": 30}
    response = uptimerobot_process.api(server, "POST", "/monitors", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def ur_window(server: str, name: str) -> str:
    body = {"name": name, "interval": "weekly", "date": "2026-01-05", "time": "02:00:00",
            "duration": 30, "days": [1]}  # fmt: skip
    response = uptimerobot_process.api(server, "POST", "/maintenance-windows", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("typed", [True, False], ids=["typed-dynamic", "untyped-dynamic"])
def test_uptimerobot_reports_exactly_the_unmanaged_objects_of_the_stack(
    ur: str, production: StackConfig, typed: bool
) -> None:
    managed = ur_monitor(ur, "agenzia-ai-api /health (production)", "https://api.agenzia.ai/health")
    by_hand = ur_monitor(ur, "health by hand", "https://api.agenzia.ai/health?probe=1")
    escaped = ur_monitor(ur, "Tom & Jerry <ready>", "https://api.agenzia.ai/ready?a=1&b=2")
    heartbeat = ur_monitor(ur, "agenzia-ai-api cron heartbeat (production)", "", "HEARTBEAT")
    ping = ur_monitor(ur, "ping the API host", "api.agenzia.ai", "PING")
    ur_monitor(ur, "another host", "https://example.com/health")
    ur_monitor(ur, "look-alike host", "https://api.agenzia.ai.evil.com/health")
    ur_monitor(ur, "user-info trick", "https://api.agenzia.ai@evil.com/health")
    ur_monitor(ur, "plain http", "http://api.agenzia.ai/health")
    ur_monitor(ur, "agenzia-ai-api cron heartbeat (staging)", "", "HEARTBEAT")
    ur_monitor(ur, "agenzia-ai-api-v2 heartbeat (production)", "", "HEARTBEAT")
    window = ur_window(ur, "Weekly deploy (production)")
    hand_window = ur_window(ur, "DB upgrade (production)")
    ur_window(ur, "Weekly deploy (staging)")
    uptimerobot_process.admin(ur, "/__config", {"page_size": 2})  # 11 monitors: 6 pages
    state = export(
        dynamic("uptimerobot", "Monitor", "uptime-agenzia-ai-api-health", managed, typed,
                monitor_id=managed, friendly_name="agenzia-ai-api /health (production)"),
        dynamic("uptimerobot", "MaintenanceWindow", "uptime-window-weekly-deploy", window, typed,
                window_id=window, name="Weekly deploy (production)"),
    )  # fmt: skip

    found = unmanaged_uptimerobot(production, state, api_url=ur, api_key=UR_KEY, policy=FAST)

    assert found == [
        Unmanaged("uptimerobot", "maintenance window", hand_window, "DB upgrade (production)",
                  "name ends with (production)"),
        Unmanaged("uptimerobot", "monitor", heartbeat, "agenzia-ai-api cron heartbeat (production)",
                  "named for service agenzia-ai-api in production"),
        Unmanaged("uptimerobot", "monitor", by_hand, "health by hand",
                  "checks https://api.agenzia.ai/health?probe=1"),
        Unmanaged("uptimerobot", "monitor", ping, "ping the API host",
                  "checks host api.agenzia.ai of service agenzia-ai-api"),
        Unmanaged("uptimerobot", "monitor", escaped, "Tom & Jerry <ready>",
                  "checks https://api.agenzia.ai/ready?a=1&b=2"),
    ]  # fmt: skip
    pages = [r for r in uptimerobot_process.admin(ur, "/__requests")
             if (r["method"], r["path"]) == ("GET", "/monitors")]  # fmt: skip
    assert len(pages) == 6
    assert [p["query"].get("cursor") for p in pages][:2] == [None, pages[1]["query"]["cursor"]]


def test_uptimerobot_rides_out_429_and_fails_clearly_when_500_persists(
    ur: str, production: StackConfig
) -> None:
    by_hand = ur_monitor(ur, "health by hand", "https://api.agenzia.ai/health")
    uptimerobot_process.admin(
        ur, "/__faults", {"method": "GET", "path": "/monitors", "kind": "429", "retry_after": 0,
                          "times": 2},
    )  # fmt: skip
    found = unmanaged_uptimerobot(production, export(), api_url=ur, api_key=UR_KEY, policy=FAST)
    assert [u.id for u in found] == [by_hand]
    seen = uptimerobot_process.admin(ur, "/__requests")
    assert sum((r["method"], r["path"]) == ("GET", "/monitors") for r in seen) == 3

    uptimerobot_process.admin(ur, "/__faults", {"path": "/maintenance-windows", "kind": "500",
                                                "times": 10})  # fmt: skip
    with pytest.raises(InventoryError) as err:
        unmanaged_uptimerobot(production, export(), api_url=ur, api_key=UR_KEY, policy=FAST)
    assert str(err.value) == (
        "UptimeRobot: listing maintenance windows: GET /maintenance-windows failed with HTTP 500 "
        "after 4 attempts: Internal server error"
    )
    assert UR_KEY not in str(err.value)


def test_uptimerobot_rejected_key_is_one_line_without_the_key(
    ur: str, production: StackConfig
) -> None:
    wrong = UR_KEY[:-4] + "dead"
    with pytest.raises(
        InventoryError, match=r"^UptimeRobot: listing monitors: .*HTTP 401: Unauthorized$"
    ) as err:
        unmanaged_uptimerobot(production, export(), api_url=ur, api_key=wrong, policy=FAST)
    assert wrong not in str(err.value)


# --------------------------------------------------------------------------- Sentry


def sentry_detector(client: httpx.Client, name: str, env: str | None) -> str:
    source: dict[str, Any] = {"aggregate": "p95(transaction.duration)", "dataset": "events",
                              "timeWindow": 300, "query": ""}  # fmt: skip
    if env is not None:
        source["environment"] = env
    body = {"name": name, "type": "metric_issue", "dataSources": [source],
            "conditionGroup": {"logicType": "any", "conditions": [
                {"type": "gt", "comparison": 200, "conditionResult": 75}]}}  # fmt: skip
    response = client.post("/organizations/agenzia-ai/projects/agenzia-ai/detectors/", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def sentry_workflow(client: httpx.Client, name: str, env: str | None) -> str:
    response = client.post(
        "/organizations/agenzia-ai/workflows/", json={"name": name, "environment": env}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@contextmanager
def sentry_client(server: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {SENTRY_TOKEN}"}
    with httpx.Client(base_url=f"{server}/api/0", headers=headers, timeout=5) as client:
        yield client


def test_sentry_reports_detectors_of_the_project_and_workflows_of_the_environment(
    sentry: str, production: StackConfig
) -> None:
    with sentry_client(sentry) as client, ThreadPoolExecutor(8) as pool:
        # 100 managed detectors: the list takes two pages of the server's 100. Seeded in
        # parallel: each call on one connection waits out a delayed ACK (~40 ms).
        names = [f"agenzia-ai (production) - check {i}" for i in range(100)]
        managed = list(pool.map(lambda n: sentry_detector(client, n, "production"), names))
        by_hand = sentry_detector(client, "p95 by hand", "production")
        every_env = sentry_detector(client, "errors in every environment", None)
        sentry_detector(client, "agenzia-ai (staging) - p95", "staging")
        managed_wf = sentry_workflow(
            client, "agenzia-ai (production) - critical alerts", "production"
        )
        hand_wf = sentry_workflow(client, "page me too", "production")
        named_wf = sentry_workflow(client, "agenzia-ai (production) - extra", None)
        sentry_workflow(client, "agenzia-ai (staging) - critical alerts", "staging")
        sentry_workflow(client, "someone else's", None)
    state = export(
        *(dynamic("sentry", "Detector", f"sentry-check-{i}", d, sentry_id=d)
          for i, d in enumerate(managed)),
        dynamic("sentry", "Workflow", "sentry-critical", managed_wf, sentry_id=managed_wf),
    )  # fmt: skip

    found = unmanaged_sentry(production, state, api_url=f"{sentry}/api/0", token=SENTRY_TOKEN,
                             policy=FAST)  # fmt: skip

    assert found == [
        Unmanaged("sentry", "detector", every_env, "errors in every environment",
                  "in project agenzia-ai, every environment"),
        Unmanaged("sentry", "detector", by_hand, "p95 by hand",
                  "in project agenzia-ai, environment production"),
        Unmanaged("sentry", "workflow", named_wf, "agenzia-ai (production) - extra",
                  "named agenzia-ai (production) …"),
        Unmanaged("sentry", "workflow", hand_wf, "page me too", "environment production"),
    ]  # fmt: skip
    seen = [r for r in sentry_process.admin(sentry, "/__requests")
            if r["method"] == "GET" and r["path"].endswith("/detectors/")]  # fmt: skip
    assert [r["query"].get("project") for r in seen] == [["agenzia-ai"], ["agenzia-ai"]]
    assert seen[1]["query"]["cursor"] == ["0:100:0"]


def test_sentry_detectors_of_another_project_are_not_the_stacks(
    sentry: str, production: StackConfig
) -> None:
    with sentry_client(sentry) as client:
        sentry_detector(client, "p95 by hand", "production")
        hand_wf = sentry_workflow(client, "page me too", "production")
    other = production.model_copy(
        update={"sentry": production.sentry.model_copy(update={"project": "agenzia-web"})}
    )
    found = unmanaged_sentry(other, export(), api_url=f"{sentry}/api/0", token=SENTRY_TOKEN,
                             policy=FAST)  # fmt: skip
    assert [(u.kind, u.id) for u in found] == [("workflow", hand_wf)]


def test_sentry_rides_out_429_and_fails_clearly_when_500_persists(
    sentry: str, production: StackConfig
) -> None:
    with sentry_client(sentry) as client:
        by_hand = sentry_detector(client, "p95 by hand", "production")
    sentry_process.admin(
        sentry, "/__faults", {"method": "GET", "path": "/detectors/", "kind": "429"}
    )
    url = f"{sentry}/api/0"
    found = unmanaged_sentry(production, export(), api_url=url, token=SENTRY_TOKEN, policy=FAST)
    assert [u.id for u in found] == [by_hand]

    sentry_process.admin(sentry, "/__faults", {"path": "/workflows/", "kind": "500", "times": 10})
    with pytest.raises(InventoryError) as err:
        unmanaged_sentry(production, export(), api_url=url, token=SENTRY_TOKEN, policy=FAST)
    assert str(err.value) == (
        "Sentry: listing workflows: GET /api/0/organizations/agenzia-ai/workflows/ failed with "
        "HTTP 500 after 4 attempts: Internal Error"
    )
    assert SENTRY_TOKEN not in str(err.value)


# --------------------------------------------------------------------------- Grafana


def gf_call(server: str, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {GRAFANA_TOKEN}"}
    response = httpx.request(method, server + path, json=body, headers=headers, timeout=5)
    assert response.status_code < 300, response.text
    return response.json()


def gf_folder(server: str, uid: str, title: str) -> None:
    gf_call(server, "POST", "/api/folders", {"uid": uid, "title": title})


def gf_dashboard(server: str, uid: str, title: str, folder: str | None) -> None:
    body = {"dashboard": {"uid": uid, "title": title, "panels": [], "schemaVersion": 39},
            "folderUid": folder, "overwrite": False, "message": "by hand"}  # fmt: skip
    gf_call(server, "POST", "/api/dashboards/db", body)


def gf_rule(server: str, folder: str, group: str, title: str) -> None:
    body = {"folderUID": folder, "ruleGroup": group, "title": title, "condition": "A",
            "data": [{"refId": "A", "datasourceUid": "grafanacloud-prom",
                      "relativeTimeRange": {"from": 300, "to": 0},
                      "model": {"refId": "A", "expr": "up == 0"}}],
            "noDataState": "OK", "execErrState": "Error", "for": "5m", "orgID": 1}  # fmt: skip
    gf_call(server, "POST", "/api/v1/provisioning/alert-rules", body)


def seed_grafana(server: str, folder: str) -> None:
    gf_folder(server, folder, "agenzia-ai-api (production)")
    gf_folder(server, "someone-else", "Someone else")
    gf_dashboard(server, "agenzia-prod-api-overview", "API overview", folder)
    gf_dashboard(server, "agenzia-prod-api-slo", "API SLO", folder)
    gf_dashboard(server, "by-hand-1", "Copy of API overview", folder)
    gf_dashboard(server, "elsewhere", "Someone else's board", "someone-else")
    gf_dashboard(server, "at-root", "Root board", None)
    gf_rule(server, folder, "agenzia-ai-api-alerts", "ApiHealthCheckDown")
    gf_rule(server, folder, "manual", "Disk almost full")
    gf_rule(server, folder, "manual", "CPU hot")
    gf_rule(server, "someone-else", "theirs", "Their alert")


def grafana_state(folder: str, with_folder: bool = True) -> dict[str, Any]:
    """The state of a stack managing two dashboards and one rule group in ``folder`` (and the
    folder itself, unless ``with_folder`` is false)."""
    resources = [
        grafana_resource("Dashboard", "grafana-dashboard-api-overview", "1:agenzia-prod-api-overview",
                         uid="agenzia-prod-api-overview", folder=folder),
        grafana_resource("Dashboard", "grafana-dashboard-api-slo", "1:agenzia-prod-api-slo",
                         uid="agenzia-prod-api-slo", folder=folder),
        grafana_resource("RuleGroup", "grafana-rules-alerts", f"1:{folder}:agenzia-ai-api-alerts",
                         name="agenzia-ai-api-alerts", folderUid=folder),
    ]  # fmt: skip
    if with_folder:
        resources.insert(0, grafana_resource("Folder", "grafana-folder", f"1:{folder}", uid=folder))
    return export(*resources)


@pytest.mark.parametrize(
    "folder_in_state", [True, False], ids=["folder-from-state", "planned-folder"]
)
def test_grafana_reports_dashboards_and_rule_groups_of_the_stack_folder(
    gf: str, production: StackConfig, folder_in_state: bool
) -> None:
    folder = folder_uid(production)
    seed_grafana(gf, folder)
    state = grafana_state(folder, with_folder=folder_in_state)

    found = unmanaged_grafana(production, state, url=gf, token=GRAFANA_TOKEN, policy=FAST,
                              page_size=2)  # fmt: skip

    assert found == [
        Unmanaged("grafana", "dashboard", "by-hand-1", "Copy of API overview",
                  f"in folder {folder}"),
        Unmanaged("grafana", "rule group", f"{folder}:manual", "manual",
                  f"in folder {folder}; 2 rule(s): CPU hot, Disk almost full"),
    ]  # fmt: skip
    searches = [r for r in httpx.get(f"{gf}/__requests").json() if r["path"] == "/api/search"]
    assert [(s["query"]["folderUIDs"], s["query"]["page"]) for s in searches] == [
        ([folder], ["1"]),
        ([folder], ["2"]),
    ]


def test_grafana_folder_uid_in_state_wins_over_the_planned_one(
    gf: str, production: StackConfig
) -> None:
    gf_folder(gf, "adopted", "agenzia-ai-api (production)")
    gf_dashboard(gf, "in-adopted", "Hand-made", "adopted")
    state = export(grafana_resource("Folder", "grafana-folder", "1:adopted", uid="adopted"))
    found = unmanaged_grafana(production, state, url=gf, token=GRAFANA_TOKEN, policy=FAST)
    assert [(u.kind, u.id, u.reason) for u in found] == [
        ("dashboard", "in-adopted", "in folder adopted")
    ]


def test_grafana_rides_out_429_and_fails_clearly_without_the_token(
    gf: str, production: StackConfig
) -> None:
    folder = folder_uid(production)
    seed_grafana(gf, folder)
    faults = [{"method": "GET", "path": "/api/search", "kind": "429", "retry_after": 0},
              {"method": "GET", "path": "/api/v1/provisioning", "kind": "502"}]  # fmt: skip
    httpx.post(f"{gf}/__faults", json=faults, timeout=5).raise_for_status()
    found = unmanaged_grafana(production, grafana_state(folder), url=gf, token=GRAFANA_TOKEN,
                              policy=FAST)  # fmt: skip
    assert [u.id for u in found] == ["by-hand-1", f"{folder}:manual"]

    echo = {"path": "/api/v1/provisioning/alert-rules", "kind": "body", "status": 500, "times": 10,
            "body": {"message": f"token {GRAFANA_TOKEN} is not allowed here"}}  # fmt: skip
    httpx.post(f"{gf}/__faults", json=echo, timeout=5).raise_for_status()
    with pytest.raises(InventoryError) as err:
        unmanaged_grafana(production, export(), url=gf, token=GRAFANA_TOKEN, policy=FAST)
    assert str(err.value) == (
        "Grafana: listing alert rules: GET /api/v1/provisioning/alert-rules failed with HTTP 500 "
        "after 4 attempts: token *** is not allowed here"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body>Grafana is starting</body></html>",
         r"^Grafana: searching dashboards in folder agenzia-production: the reply is not JSON "
         r"\(text/html; charset=utf-8\): '<html><body>Grafana is starting</body></html>'$"),
        ({"dashboards": []},
         r"^Grafana: searching dashboards in folder agenzia-production: expected the reply to be "
         r"a JSON array, got an object$"),
        ([{"title": "no uid"}],
         r"^Grafana: searching dashboards in folder agenzia-production: the reply\[0\] has no "
         r"usable 'uid' \(got None\)$"),
    ],
    ids=["html", "object-for-array", "item-without-uid"],
)  # fmt: skip
def test_grafana_malformed_reply_is_an_inventory_error(
    gf: str, production: StackConfig, body: Any, message: str
) -> None:
    fault = {"method": "GET", "path": "/api/search", "kind": "body", "status": 200, "body": body}
    httpx.post(f"{gf}/__faults", json=fault, timeout=5).raise_for_status()
    with pytest.raises(InventoryError, match=message):
        unmanaged_grafana(production, export(), url=gf, token=GRAFANA_TOKEN, policy=FAST)


def test_grafana_contract_server_follows_the_documented_api(gf: str) -> None:
    """The server itself: auth, 404s, dashboard versions, and rule-group replacement."""
    anonymous = httpx.get(f"{gf}/api/search", timeout=5)
    assert (anonymous.status_code, anonymous.json()) == (401, {"message": "Unauthorized"})
    headers = {"Authorization": f"Bearer {GRAFANA_TOKEN}"}
    missing = httpx.get(f"{gf}/api/dashboards/uid/nope", headers=headers, timeout=5)
    assert (missing.status_code, missing.json()) == (404, {"message": "Dashboard not found"})
    gf_folder(gf, "f1", "Folder one")
    saved = gf_call(gf, "POST", "/api/dashboards/db",
                    {"dashboard": {"uid": "d1", "title": "Board"}, "folderUid": "f1"})  # fmt: skip
    assert saved == {"id": saved["id"], "uid": "d1", "url": "/d/d1/board", "status": "success",
                     "version": 1, "slug": "board"}  # fmt: skip
    stale = httpx.post(f"{gf}/api/dashboards/db", headers=headers, timeout=5,
                       json={"dashboard": {"uid": "d1", "title": "Board", "version": 0}})  # fmt: skip
    assert (stale.status_code, stale.json()["status"]) == (412, "version-mismatch")
    got = gf_call(gf, "GET", "/api/dashboards/uid/d1")
    assert (got["dashboard"]["version"], got["meta"]["folderUid"]) == (1, "f1")
    gf_rule(gf, "f1", "g", "First")
    group = gf_call(gf, "GET", "/api/v1/provisioning/folder/f1/rule-groups/g")
    assert (group["title"], group["folderUid"], group["interval"]) == ("g", "f1", 60)
    second = {**group["rules"][0], "uid": "second", "title": "Second"}
    bad = httpx.put(f"{gf}/api/v1/provisioning/folder/f1/rule-groups/g", headers=headers,
                    json={"interval": 15, "rules": [second]}, timeout=5)  # fmt: skip
    assert (
        bad.status_code == 400 and "divided exactly by scheduler interval" in bad.json()["message"]
    )
    put = gf_call(gf, "PUT", "/api/v1/provisioning/folder/f1/rule-groups/g",
                  {"interval": 120, "rules": [second]})  # fmt: skip
    assert ([r["title"] for r in put["rules"]], put["interval"]) == (["Second"], 120)
    deleted = gf_call(gf, "DELETE", "/api/dashboards/uid/d1")
    assert deleted["message"] == "Dashboard Board deleted"


# --------------------------------------------------------------------------- malformed replies


@contextmanager
def canned(respond: Callable[[str, dict[str, list[str]]], tuple[int, Any]]) -> Iterator[str]:
    """A throw-away HTTP server on 127.0.0.1 answering ``respond(path, query)``; a string body
    is sent as text/html. Shut down on exit."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            seen.append(self.path)
            status, body = respond(url.path, parse_qs(url.query))
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            kind = "text/html" if isinstance(body, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("monitors", "message"),
    [
        ([], r"^UptimeRobot: listing monitors: expected the reply to be a JSON object, got an array$"),
        ({"nextLink": None}, r"^UptimeRobot: listing monitors: the reply has no 'data' list$"),
        ({"data": {"id": 1}}, r"expected data to be a JSON array, got an object$"),
        ({"data": [{"friendlyName": "x"}]}, r"data\[0\] has no usable 'id' \(got None\)$"),
        ({"data": [{"id": 1, "url": 5}]}, r"monitor\.url should be a string, got a number$"),
        ({"data": [], "nextLink": "https://x.example/monitors?limit=200"},
         r"nextLink 'https://x.example/monitors\?limit=200' carries no cursor$"),
        ("<h1>Bad gateway</h1>", r"the reply is not JSON \(text/html\): '<h1>Bad gateway</h1>'$"),
    ],
    ids=["array", "no-data", "data-object", "no-id", "url-number", "link-without-cursor", "html"],
)  # fmt: skip
def test_uptimerobot_malformed_reply_is_an_inventory_error(
    production: StackConfig, monitors: Any, message: str
) -> None:
    with (
        canned(lambda path, q: (200, monitors)) as url,
        pytest.raises(InventoryError, match=message),
    ):
        unmanaged_uptimerobot(production, export(), api_url=url, api_key=UR_KEY, policy=FAST)


def test_uptimerobot_follows_only_the_cursor_of_next_link(production: StackConfig) -> None:
    def respond(path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/maintenance-windows":
            return 200, {"data": [], "nextLink": None}
        if query.get("cursor") == ["41"]:
            return 200, {"data": [{"id": 42, "friendlyName": "b", "url": "https://api.agenzia.ai/b"}],
                         "nextLink": None}  # fmt: skip
        # The link names another host: only its cursor may be used.
        return 200, {"data": [{"id": 41, "friendlyName": "a", "url": "https://api.agenzia.ai/a"}],
                     "nextLink": "https://evil.example/v3/monitors?cursor=41&limit=200"}  # fmt: skip

    with canned(respond) as url:
        found = unmanaged_uptimerobot(
            production, export(), api_url=url, api_key=UR_KEY, policy=FAST
        )
    assert [u.id for u in found] == ["41", "42"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"detail": "ok"},
            r"^Sentry: listing detectors: expected the reply to be a JSON array, got an object$",
        ),
        ("Service Unavailable", r"^Sentry: listing detectors: the reply is not JSON"),
        ([{"id": "7", "name": ["x"]}], r"detector\.name should be a string, got an array$"),
    ],
    ids=["object", "text", "name-array"],
)
def test_sentry_malformed_reply_is_an_inventory_error(
    production: StackConfig, body: Any, message: str
) -> None:
    with canned(lambda path, q: (200, body)) as url, pytest.raises(InventoryError, match=message):
        unmanaged_sentry(production, export(), api_url=url, token=SENTRY_TOKEN, policy=FAST)


def test_grafana_rule_without_folder_is_an_inventory_error(production: StackConfig) -> None:
    def respond(path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        return 200, [] if path == "/api/search" else [{"uid": "r1", "title": "t"}]

    with (
        canned(respond) as url,
        pytest.raises(
            InventoryError,
            match=r"^Grafana: listing alert rules: alert rule 'r1' has no folderUID or ruleGroup$",
        ),
    ):
        unmanaged_grafana(production, export(), url=url, token=GRAFANA_TOKEN, policy=FAST)


# --------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("url", "under"),
    [
        ("https://api.agenzia.ai/health", True),
        ("https://API.agenzia.ai:443/ready?x=1", True),
        ("https://api.agenzia.ai", True),
        ("https://api.agenzia.ai.evil.com/health", False),
        ("https://api.agenzia.ai@evil.com/health", False),
        ("https://evil.com/https://api.agenzia.ai/health", False),
        ("http://api.agenzia.ai/health", False),
        ("https://api.agenzia.ai:8443/health", False),
        ("https://api.agenzia.ai:notaport/health", False),
        ("api.agenzia.ai", False),
    ],
)
def test_url_is_under_compares_origin_exactly(url: str, under: bool) -> None:
    assert url_is_under(url, "https://api.agenzia.ai") is under


@pytest.mark.parametrize(
    ("url", "under"),
    [("https://x.example/api", True), ("https://x.example/api/health", True),
     ("https://x.example/api2/health", False), ("https://x.example/", False)],
)  # fmt: skip
def test_url_is_under_a_base_path_on_segment_boundaries(url: str, under: bool) -> None:
    assert url_is_under(url, "https://x.example/api/") is under


def test_managed_ids_reads_typed_untyped_and_grafana_resources() -> None:
    state = export(
        dynamic("uptimerobot", "Monitor", "uptime-api-health", "800100007"),
        dynamic("uptimerobot", "MaintenanceWindow", "uptime-window-deploy", "800100014", False,
                window_id="800100014"),
        dynamic("uptimerobot", "Monitor", "uptime-api-ready", "800100021", False,
                monitor_id="800100021", friendly_name="agenzia-ai-api /ready (production)"),
        dynamic("sentry", "Detector", "sentry-p95", "1001", False, spec={"dataSources": []}),
        dynamic("sentry", "Workflow", "sentry-critical", "1002", False, spec={"triggers": {}}),
        dynamic("sentry", "ProjectKey", "sentry-dsn", "abc123", False, spec={"name": "dsn"}),
        grafana_resource("Folder", "f", "1:agenzia-production", uid="agenzia-production"),
        grafana_resource("Dashboard", "d", "1:board"),  # no uid output: from the id
        grafana_resource("RuleGroup", "r", "1:x:y", folderUid="agenzia-production", name="alerts"),
    )  # fmt: skip
    ids = managed_ids(state)
    assert ids.uptimerobot_monitors == {"800100007", "800100021"}
    assert ids.uptimerobot_windows == {"800100014"}
    assert ids.sentry_detectors == {"1001"}
    assert ids.sentry_workflows == {"1002"}
    assert ids.grafana_folders == {"agenzia-production"}
    assert ids.grafana_dashboards == {"board"}
    assert ids.grafana_rule_groups == {("agenzia-production", "alerts")}


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([], r"^Pulumi state: expected the JSON object of `pulumi stack export`$"),
        ({"version": 3}, r"^Pulumi state: no `deployment` object"),
        ({"deployment": {"resources": {}}}, r"^Pulumi state: deployment.resources is not a list$"),
        ({"deployment": {"resources": ["x"]}}, r"^Pulumi state: deployment.resources\[0\] is not an object$"),
    ],
)  # fmt: skip
def test_malformed_state_is_an_inventory_error(state: Any, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        managed_ids(state)


def test_an_empty_stack_manages_nothing() -> None:
    assert managed_ids({"deployment": {}}) == managed_ids(export())


def test_sentry_next_cursor_reads_only_a_next_link_with_results() -> None:
    link = ('<https://sentry.io/api/0/x/?cursor=0:0:1>; rel="previous"; results="false"; '
            'cursor="0:0:1", <https://evil.example/x/?cursor=0:100:0>; rel="next"; '
            'results="true"; cursor="0:100:0"')  # fmt: skip
    assert next_cursor(link) == "0:100:0"
    assert next_cursor(link.replace('results="true"', 'results="false"')) is None
    assert next_cursor("") is None


def test_sentry_system_detectors_are_not_reported(production: StackConfig) -> None:
    assert detector_reason(production, "Error Monitor", "error", None) is None
    assert detector_reason(production, "Issue Stream", "issue_stream", None) is None
    assert detector_reason(production, "p95", "metric_issue", "staging") is None
    assert detector_reason(production, "p95", "metric_issue", "production") is not None


def test_an_unreachable_vendor_is_one_clear_line(production: StackConfig) -> None:
    with canned(lambda path, q: (200, [])) as url:
        pass  # the port is free again: nothing listens there now
    with pytest.raises(
        InventoryError, match=r"^Sentry: listing detectors: GET /organizations/agenzia-ai/"
        r"detectors/: no answer after 4 attempt\(s\) \(ConnectError"
    ):  # fmt: skip
        unmanaged_sentry(production, export(), api_url=url, token=SENTRY_TOKEN, policy=FAST)

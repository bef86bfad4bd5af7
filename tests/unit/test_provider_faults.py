"""Every vendor create, read, update and delete under every fault the contract servers inject:
0 duplicates, 0 lost objects, 0 raw exceptions, no credential in any message.

The same matrix runs for the five dynamic resources (UptimeRobot monitors and maintenance
windows; Sentry detectors, workflows and project keys) against their contract servers over real
HTTP; the faults and what they mean are in ``tests/contract/faults.py``. After a faulted
operation, the same operation runs once more without a fault (what the next ``pulumi up``
does), and the server must hold exactly one object (none after a delete).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from infra.components.sentry import detector_plans
from infra.config import load_stack
from infra.providers.http import RetryPolicy
from infra.providers.rest import ProviderError, RestProvider
from infra.providers.sentry import (
    API_URL_ENV as SENTRY_URL_ENV,
)
from infra.providers.sentry import (
    DetectorProvider,
    ProjectKeyProvider,
    WorkflowProvider,
)
from infra.providers.uptimerobot import API_URL_ENV as UR_URL_ENV
from infra.providers.uptimerobot import MaintenanceWindowProvider, MonitorProvider
from tests.conftest import ROOT
from tests.contract import sentry_process, uptimerobot_process

POLICY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, timeout=0.5)
SETTLE_S = 3.0
LATE_S = 1.0  # store_after_timeout: stored this long after the request, past the 0.5 s timeout
SCHEMA_BODIES = {"empty-list": [], "data-null": {"data": None}, "no-id": {"name": "x"}}

FAULTS: dict[str, dict[str, Any]] = {
    "store-after-timeout": {"kind": "store_after_timeout", "seconds": LATE_S},
    "reset-before-storing": {"kind": "reset"},
    "reset-after-storing": {"kind": "reset_after_commit"},
    "429-seconds": {"kind": "429", "retry_after": 0.01},
    "429-http-date": {"kind": "429", "retry_after": 0, "retry_after_date": True},
    "429-no-retry-after": {"kind": "429", "retry_after": None},
    "500": {"kind": "500"},
    "502": {"kind": "502"},
    "503": {"kind": "503"},
    "truncated-body": {"kind": "truncated"},
    "html-body": {"kind": "html"},
    **{f"schema-{k}": {"kind": "body", "body": v} for k, v in SCHEMA_BODIES.items()},
}


@dataclass
class Target:
    """One dynamic resource type: how to make its provider and props, where its faults
    apply, and how many objects of the test's name the vendor holds (via its public API)."""

    provider: Callable[[], RestProvider]
    props: Callable[[], dict[str, Any]]
    create_path: str
    item_path: str  # with {id}
    count: Callable[[], int]
    changed: Callable[[dict[str, Any]], dict[str, Any]]
    secret: str


@pytest.fixture(scope="module")
def ur_server() -> Iterator[str]:
    with uptimerobot_process.contract_server() as url:
        yield url


@pytest.fixture(scope="module")
def sentry_server() -> Iterator[str]:
    with sentry_process.contract_server() as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(ur_server: str, sentry_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for server in (ur_server, sentry_server):
        httpx.post(f"{server}/__reset", json={}, timeout=5).raise_for_status()
    monkeypatch.setenv(UR_URL_ENV, ur_server)
    monkeypatch.setenv(SENTRY_URL_ENV, f"{sentry_server}/api/0")


def _ur_count(server: str, path: str, name: str, field: str) -> int:
    items = uptimerobot_process.api(server, "GET", f"/{path}").json()["data"]
    return sum(1 for i in items if i[field] == name)


def _sentry_count(server: str, path: str, name: str) -> int:
    items = sentry_process.api(server, "GET", path).json()
    return sum(1 for i in items if i["name"] == name)


def _sentry_props(spec: dict[str, Any]) -> dict[str, Any]:
    return {"api_url": "https://sentry.io/api/0", "organization": sentry_process.ORG,
            "project": sentry_process.PROJECT, "auth_token": sentry_process.TOKEN,
            "spec": spec}  # fmt: skip


def _detector_spec() -> dict[str, Any]:
    plans = detector_plans(load_stack("production", ROOT))
    return next(p.spec for p in plans if p.key == "error-rate")


def _workflow_spec(server: str) -> dict[str, Any]:
    detector = DetectorProvider(policy=POLICY).create(_sentry_props(_detector_spec()))
    return {
        "name": "faults (production) - critical alerts", "enabled": True,
        "environment": "production", "config": {"frequency": 60},
        "detectorIds": [detector.id],
        "triggers": {"logicType": "any-short", "conditions": [], "actions": []},
        "actionFilters": [{"logicType": "any-short", "conditions": [], "actions": []}],
    }  # fmt: skip


def _with_spec(props: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**props, "spec": {**props["spec"], **changes}}


def _target(name: str, ur: str, sentry: str) -> Target:
    org, project = sentry_process.ORG, sentry_process.PROJECT
    fast = {"policy": POLICY, "settle": SETTLE_S}
    if name == "uptimerobot-monitor":
        props = {"api_key": uptimerobot_process.API_KEY, "friendly_name": "faults /health",
                 "url": "https://faults.example.com/health", "interval": 300, "timeout": 30,
                 "success_codes": ["200"], "alert_contacts": [], "maintenance_window_ids": []}  # fmt: skip
        return Target(
            lambda: MonitorProvider(**fast), lambda: dict(MonitorProvider().check({}, props).inputs),
            "/monitors", "/monitors/{id}",
            lambda: _ur_count(ur, "monitors", "faults /health", "friendlyName"),
            lambda p: {**p, "interval": 600}, uptimerobot_process.API_KEY,
        )  # fmt: skip
    if name == "uptimerobot-window":
        props = {"api_key": uptimerobot_process.API_KEY, "name": "faults window",
                 "interval": "weekly", "date": "2026-12-01", "time": "03:00:00",
                 "duration": 30, "days": [2]}  # fmt: skip
        return Target(
            lambda: MaintenanceWindowProvider(**fast), lambda: dict(props),
            "/maintenance-windows", "/maintenance-windows/{id}",
            lambda: _ur_count(ur, "maintenance-windows", "faults window", "name"),
            lambda p: {**p, "duration": 45}, uptimerobot_process.API_KEY,
        )  # fmt: skip
    if name == "sentry-detector":
        spec = _detector_spec()
        return Target(
            lambda: DetectorProvider(**fast), lambda: _sentry_props(spec),
            f"/projects/{project}/detectors/", f"/organizations/{org}/detectors/{{id}}/",
            lambda: _sentry_count(sentry, f"/organizations/{org}/detectors/", spec["name"]),
            lambda p: _with_spec(p, description="changed"), sentry_process.TOKEN,
        )  # fmt: skip
    if name == "sentry-workflow":
        holder: dict[str, Any] = {}

        def props_() -> dict[str, Any]:
            holder.setdefault("spec", _workflow_spec(sentry))
            return _sentry_props(holder["spec"])

        return Target(
            lambda: WorkflowProvider(**fast), props_,
            f"/organizations/{org}/workflows/", f"/organizations/{org}/workflows/{{id}}/",
            lambda: _sentry_count(sentry, f"/organizations/{org}/workflows/",
                                  "faults (production) - critical alerts"),
            lambda p: _with_spec(p, config={"frequency": 30}), sentry_process.TOKEN,
        )  # fmt: skip
    spec = {"name": "faults-dsn", "isActive": True}
    return Target(
        lambda: ProjectKeyProvider(**fast), lambda: _sentry_props(spec),
        f"/projects/{org}/{project}/keys/", f"/projects/{org}/{project}/keys/{{id}}/",
        lambda: _sentry_count(sentry, f"/projects/{org}/{project}/keys/", "faults-dsn"),
        lambda p: _with_spec(p, isActive=False), sentry_process.TOKEN,
    )  # fmt: skip


TARGETS = ["uptimerobot-monitor", "uptimerobot-window", "sentry-detector", "sentry-workflow",
           "sentry-project-key"]  # fmt: skip


def _fault(server: str, method: str, path: str, fault: dict[str, Any]) -> None:
    body = {"method": method, "path": path, **fault}
    httpx.post(f"{server}/__faults", json=body, timeout=5).raise_for_status()


def _server_for(name: str, ur: str, sentry: str) -> str:
    return ur if name.startswith("uptimerobot") else sentry


def _outcome(run: Callable[[], Any], secret: str) -> Any:
    """The result of ``run``, or ``None`` when it failed the only allowed way: one provider
    error line without the credential."""
    try:
        return run()
    except ProviderError as exc:
        message = str(exc)
        assert secret not in message and "\n" not in message, message
        return None


def _after_late_stores(since: float, fault: str) -> None:
    """Wait until a store the fault delays has certainly landed, so that counting sees it."""
    if FAULTS[fault]["kind"] == "store_after_timeout":
        time.sleep(max(0.0, since + LATE_S + 0.5 - time.monotonic()))


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
@pytest.mark.parametrize("name", TARGETS)
def test_create_under_fault_makes_exactly_one(
    name: str, fault: str, ur_server: str, sentry_server: str
) -> None:
    target = _target(name, ur_server, sentry_server)
    props = target.props()
    server = _server_for(name, ur_server, sentry_server)
    _fault(server, "POST", target.create_path, FAULTS[fault])
    since = time.monotonic()
    first = _outcome(lambda: target.provider().create(props), target.secret)
    _after_late_stores(since, fault)
    assert target.count() <= 1, "a faulted create made two objects"
    again = target.provider().create(props)  # the next `pulumi up`: adopts, never duplicates
    assert target.count() == 1, "lost or duplicated"
    if first is not None:
        assert again.id == first.id


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
@pytest.mark.parametrize("op", ["read", "update", "delete"])
@pytest.mark.parametrize("name", TARGETS)
def test_read_update_delete_under_fault(
    name: str, op: str, fault: str, ur_server: str, sentry_server: str
) -> None:
    target = _target(name, ur_server, sentry_server)
    props = target.props()
    provider = target.provider()
    created = provider.create(props)
    outs = {**props, **(created.outs or {})}
    server = _server_for(name, ur_server, sentry_server)
    method = {"read": "GET", "update": "PATCH" if name.startswith("uptimerobot") else "PUT",
              "delete": "DELETE"}[op]  # fmt: skip
    _fault(server, method, target.item_path.format(id=created.id), FAULTS[fault])
    since = time.monotonic()
    actions: dict[str, Callable[[], Any]] = {
        "read": lambda: target.provider().read(created.id, outs),
        "update": lambda: target.provider().update(created.id, outs, target.changed(props)),
        "delete": lambda: target.provider().delete(created.id, outs),
    }
    result = _outcome(actions[op], target.secret)
    if op == "read" and result is not None:
        assert result.id == created.id
    _after_late_stores(since, fault)
    actions[op]()  # the next run, without the fault
    assert target.count() == (0 if op == "delete" else 1)


@pytest.mark.parametrize("name", TARGETS)
def test_an_object_deleted_between_create_and_read_is_gone_not_an_error(
    name: str, ur_server: str, sentry_server: str
) -> None:
    target = _target(name, ur_server, sentry_server)
    props = target.props()
    created = target.provider().create(props)
    outs = {**props, **(created.outs or {})}
    target.provider().delete(created.id, outs)  # as a person in the UI would
    assert not target.provider().read(created.id, outs).id
    with pytest.raises(ProviderError, match=r"no longer exists.*pulumi refresh"):
        target.provider().update(created.id, outs, target.changed(props))
    target.provider().delete(created.id, outs)  # already gone is fine
    assert target.count() == 0


@pytest.mark.parametrize("name", TARGETS)
def test_a_create_whose_outcome_stays_unknown_says_the_next_up_adopts_it(
    name: str, ur_server: str, sentry_server: str
) -> None:
    target = _target(name, ur_server, sentry_server)
    props = target.props()
    server = _server_for(name, ur_server, sentry_server)
    late = {"kind": "store_after_timeout", "seconds": SETTLE_S + 1.5}
    _fault(server, "POST", target.create_path, late)
    with pytest.raises(ProviderError, match=r"no answer came.*run `pulumi up` again.*adopts it"):
        target.provider().create(props)
    deadline = time.monotonic() + 5
    while target.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.count() == 1, "the late create never landed"
    target.provider().create(props)
    assert target.count() == 1, "the next up must adopt, not duplicate"

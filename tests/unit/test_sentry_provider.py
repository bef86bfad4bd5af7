"""Sentry dynamic providers (infra/providers/sentry.py) over real HTTP against the contract
server (tests/contract/sentry_server.py), run as a subprocess on 127.0.0.1."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dill  # type: ignore[import-untyped]  # dill ships no type hints
import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from pulumi.output import Unknown
from werkzeug.datastructures import Headers, ImmutableMultiDict

from infra.components.sentry import DetectorPlan, detector_plans
from infra.config import load_stack
from infra.providers.engine_values import UNKNOWN
from infra.providers.http import RetryPolicy
from infra.providers.sentry import (
    API_URL_ENV,
    TOKEN_ENV,
    DetectorProvider,
    ProjectKeyProvider,
    SentryProvider,
    SentryProviderError,
    WorkflowProvider,
)
from infra.providers.sentry_quota import error_quota_usage
from tests.contract.sentry_process import contract_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_c0ntr4ct-t0k3n-9f2a"
ORG = PROJECT = "agenzia-ai"
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, timeout=5.0)


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """Start the contract server on a free port; stop it by its PID, whatever happens."""
    with contract_server(token=TOKEN, org=ORG, project=PROJECT) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    httpx.post(f"{server}/__reset").raise_for_status()
    monkeypatch.setenv(API_URL_ENV, f"{server}/api/0")
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def admin(server: str, path: str, body: Any = None) -> Any:
    response = httpx.post(f"{server}{path}", json=body)
    response.raise_for_status()
    return response.json()


def sentry(server: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Change Sentry behind the provider's back, as a person in the UI would."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.request(method, f"{server}/api/0{path}", headers=headers, **kwargs)


# --------------------------------------------------------------------------- helpers


def sleeps() -> list[float]:
    return []


def provider(cls: type[SentryProvider], slept: list[float] | None = None) -> Any:
    return cls(policy=FAST, sleep=(slept if slept is not None else []).append)


def props(spec: dict[str, Any], token: str = TOKEN) -> dict[str, Any]:
    return {
        "api_url": "https://sentry.io/api/0",  # overridden by SENTRY_API_URL
        "organization": ORG,
        "project": PROJECT,
        "auth_token": token,
        "spec": spec,
    }


@pytest.fixture(scope="module")
def plans() -> list[DetectorPlan]:
    return detector_plans(load_stack("production", ROOT))


def error_rate(plans: list[DetectorPlan]) -> dict[str, Any]:
    return next(p.spec for p in plans if p.key == "error-rate")


def named(server: str, name: str) -> list[dict[str, Any]]:
    found = sentry(server, "GET", f"/organizations/{ORG}/detectors/").json()
    return [d for d in found if d["name"] == name]


# --------------------------------------------------------------------------- detectors


def test_every_planned_detector_is_accepted_and_reads_back_without_diff(
    plans: list[DetectorPlan],
) -> None:
    p = provider(DetectorProvider)
    for plan in plans:
        created = p.create(props(plan.spec))
        read = p.read(created.id, created.outs)
        assert read.id == created.id
        assert not p.diff(created.id, read.outs, props(plan.spec)).changes, plan.key


def test_detector_create_read_update_delete(server: str, plans: list[DetectorPlan]) -> None:
    p = provider(DetectorProvider)
    spec = error_rate(plans)
    created = p.create(props(spec))
    assert created.outs is not None and created.outs["sentry_id"] == created.id

    changed = json.loads(json.dumps(spec))
    changed["conditionGroup"]["conditions"][0]["comparison"] = 0.002
    assert p.diff(created.id, created.outs, props(changed)).changes
    updated = p.update(created.id, created.outs, props(changed))
    assert updated.outs is not None
    live = sentry(server, "GET", f"/organizations/{ORG}/detectors/{created.id}/").json()
    assert live["conditionGroup"]["conditions"][0]["comparison"] == 0.002

    p.delete(created.id, updated.outs)
    assert p.read(created.id, updated.outs).id is None
    p.delete(created.id, updated.outs)  # already gone is fine


def test_out_of_band_change_shows_as_drift(server: str, plans: list[DetectorPlan]) -> None:
    p = provider(DetectorProvider)
    spec = error_rate(plans)
    created = p.create(props(spec))
    tampered = json.loads(json.dumps(spec))
    tampered["conditionGroup"]["conditions"][0]["comparison"] = 0.5  # someone edits the UI
    sentry(server, "PUT", f"/organizations/{ORG}/detectors/{created.id}/", json=tampered)

    read = p.read(created.id, created.outs)
    assert read.outs["spec"]["conditionGroup"]["conditions"][0]["comparison"] == 0.5
    diff = p.diff(created.id, read.outs, props(spec))
    assert diff.changes and not diff.replaces


def test_object_deleted_in_sentry_reads_as_gone(server: str, plans: list[DetectorPlan]) -> None:
    p = provider(DetectorProvider)
    created = p.create(props(error_rate(plans)))
    sentry(server, "DELETE", f"/organizations/{ORG}/detectors/{created.id}/")
    assert p.read(created.id, created.outs).id is None


def test_create_adopts_an_existing_detector_of_the_same_name(
    server: str, plans: list[DetectorPlan]
) -> None:
    spec = error_rate(plans)
    first = provider(DetectorProvider).create(props(spec))
    second = provider(DetectorProvider).create(props(spec))
    assert second.id == first.id
    assert len(named(server, spec["name"])) == 1


def test_create_is_idempotent_when_the_connection_resets_after_sentry_stored_it(
    server: str, plans: list[DetectorPlan]
) -> None:
    spec = error_rate(plans)
    admin(
        server, "/__faults", {"method": "POST", "path": "/detectors/", "kind": "reset_after_commit"}
    )
    created = provider(DetectorProvider).create(props(spec))
    stored = named(server, spec["name"])
    assert [d["id"] for d in stored] == [created.id]


def test_rate_limited_calls_are_retried_after_the_advertised_delay(
    server: str, plans: list[DetectorPlan]
) -> None:
    slept: list[float] = []
    p = provider(DetectorProvider, slept)
    created = p.create(props(error_rate(plans)))
    admin(server, "/__faults", {"method": "GET", "path": "/detectors/", "kind": "429", "times": 2})
    assert p.read(created.id, created.outs).id == created.id
    assert len(slept) == 2, "each 429 should cost one (injected) sleep"


def test_server_errors_are_retried(server: str, plans: list[DetectorPlan]) -> None:
    admin(server, "/__faults", {"method": "POST", "path": "/detectors/", "kind": "500"})
    created = provider(DetectorProvider).create(props(error_rate(plans)))
    assert len(named(server, error_rate(plans)["name"])) == 1
    assert created.id


def test_token_never_appears_in_errors(server: str, plans: list[DetectorPlan]) -> None:
    wrong = TOKEN + "-wrong"
    with pytest.raises(SentryProviderError, match="HTTP 401") as denied:
        provider(DetectorProvider).create(props(error_rate(plans), token=wrong))
    admin(server, "/__faults", {"method": "*", "path": "/detectors/", "kind": "500", "times": 50})
    with pytest.raises(SentryProviderError, match="HTTP 500") as failed:
        provider(DetectorProvider).create(props(error_rate(plans)))
    for exc, secret in ((denied.value, wrong), (failed.value, TOKEN)):
        assert exc.__cause__ is None and exc.__suppress_context__
        assert secret not in str(exc) and secret not in repr(exc.args)


def test_missing_token_says_how_to_set_it(plans: list[DetectorPlan]) -> None:
    with pytest.raises(SentryProviderError, match="pulumi config set --secret sentryAuthToken"):
        provider(DetectorProvider).create(props(error_rate(plans), token=""))


def test_token_from_environment(monkeypatch: pytest.MonkeyPatch, plans: list[DetectorPlan]) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert provider(DetectorProvider).create(props(error_rate(plans), token="")).id


def test_invalid_spec_fails_check_without_a_call() -> None:
    result = provider(DetectorProvider).check({}, props({"name": ""}))
    assert [f.property for f in result.failures] == ["spec"]


def _as_engine_sends(value: Any) -> Any:
    """Every number as the engine hands it back after a state round trip: a double."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _as_engine_sends(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_engine_sends(v) for v in value]
    return value


def test_numbers_that_came_back_as_floats_are_sent_as_integers(
    server: str, plans: list[DetectorPlan]
) -> None:
    p = provider(DetectorProvider)
    spec = _as_engine_sends(error_rate(plans))
    assert spec["dataSources"][0]["timeWindow"] == 300.0
    created = p.create(props(spec))  # the contract server rejects a float timeWindow (400)
    live = sentry(server, "GET", f"/organizations/{ORG}/detectors/{created.id}/").json()
    window = live["dataSources"][0]["queryObj"]["snubaQuery"]["timeWindow"]
    assert window == 300 and isinstance(window, int)
    changed = json.loads(json.dumps(spec))
    changed["conditionGroup"]["conditions"][0]["comparison"] = 0.002
    p.update(created.id, created.outs, props(changed))  # PUT too
    assert not p.diff(created.id, p.read(created.id, created.outs).outs, props(changed)).changes


@pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["sentinel", "Unknown"])
@pytest.mark.parametrize("cls", [DetectorProvider, WorkflowProvider, ProjectKeyProvider])
def test_preview_unknowns_pass_check_and_diff_as_changes(
    cls: type[SentryProvider], unknown: Any
) -> None:
    # A fresh stack's preview: the workflow spec waits for detector ids that do not exist yet.
    p = provider(cls)
    assert p.check({}, props(unknown)).failures == []
    partly = props({"name": "wf", "detectorIds": [unknown]})
    assert p.check({}, partly).failures == []
    olds = props({"name": "wf", "detectorIds": ["1"]})
    assert p.diff("1", olds, props(unknown)).changes
    assert p.diff("1", olds, partly).changes


# --------------------------------------------------------------------------- workflows and keys


def _workflow_spec(detector_ids: list[str]) -> dict[str, Any]:
    return {
        "name": "agenzia-ai (production) - critical alerts",
        "enabled": True,
        "environment": "production",
        "config": {"frequency": 180},
        "detectorIds": detector_ids,
        "triggers": {"logicType": "any-short", "conditions": [], "actions": []},
        "actionFilters": [
            {
                "logicType": "any-short",
                "conditions": [
                    {
                        "type": "issue_priority_greater_or_equal",
                        "comparison": 75,
                        "conditionResult": True,
                    }
                ],
                "actions": [
                    {
                        "type": "slack",
                        "integrationId": "12",
                        "config": {
                            "targetType": "specific",
                            "targetIdentifier": "",
                            "targetDisplay": "alerts",
                        },
                        "data": {},
                    }
                ],
            }
        ],
    }


def test_workflow_lifecycle_links_detectors_and_shows_drift(
    server: str, plans: list[DetectorPlan]
) -> None:
    detector = provider(DetectorProvider).create(props(error_rate(plans)))
    p = provider(WorkflowProvider)
    spec = _workflow_spec([detector.id])
    created = p.create(props(spec))
    live = sentry(server, "GET", f"/organizations/{ORG}/detectors/{detector.id}/").json()
    assert live["workflowIds"] == [created.id]
    assert not p.diff(created.id, p.read(created.id, created.outs).outs, props(spec)).changes
    assert p.create(props(spec)).id == created.id  # adopted, not duplicated

    tampered = {**spec, "detectorIds": [], "config": {"frequency": 1440}}
    sentry(server, "PUT", f"/organizations/{ORG}/workflows/{created.id}/", json=tampered)
    assert p.diff(created.id, p.read(created.id, created.outs).outs, props(spec)).changes
    p.update(created.id, created.outs, props(spec))
    assert not p.diff(created.id, p.read(created.id, created.outs).outs, props(spec)).changes
    p.delete(created.id, created.outs)
    assert p.read(created.id, created.outs).id is None


def test_project_key_dsn_and_adoption(server: str) -> None:
    p = provider(ProjectKeyProvider)
    created = p.create(props({"name": "agenzia-ai-api", "isActive": True}))
    assert created.outs is not None
    assert (
        created.outs["dsn"].startswith("https://")
        and "@o1.ingest.sentry.io/" in created.outs["dsn"]
    )
    assert p.create(props({"name": "agenzia-ai-api", "isActive": True})).id == created.id
    path = f"/projects/{ORG}/{PROJECT}/keys/{created.id}/"
    sentry(server, "PUT", path, json={"isActive": False})
    read = p.read(created.id, created.outs)
    assert read.outs["dsn"] == created.outs["dsn"]
    assert p.diff(
        created.id, read.outs, props({"name": "agenzia-ai-api", "isActive": True})
    ).changes
    p.delete(created.id, created.outs)
    assert p.read(created.id, created.outs).id is None


# --------------------------------------------------------------------------- pickling


@pytest.mark.parametrize("cls", [DetectorProvider, WorkflowProvider, ProjectKeyProvider])
def test_provider_survives_a_dill_round_trip(cls: type[SentryProvider]) -> None:
    # Pulumi pickles the provider into the state with dill (recurse=True) and unpickles it in
    # another process: it must carry no client or token, and still work afterwards.
    clone = dill.loads(dill.dumps(cls(policy=FAST), recurse=True))
    assert TOKEN.encode() not in dill.dumps(cls(policy=FAST), recurse=True)
    spec = {"name": "agenzia-ai-api", "isActive": True} if cls is ProjectKeyProvider else None
    if spec is None:
        result = clone.check({}, props({"name": "x" * 10}))
        assert not result.failures
    else:
        created = clone.create(props(spec))
        assert clone.read(created.id, created.outs).id == created.id


# --------------------------------------------------------------------------- quota


def test_quota_usage_reads_accepted_errors_from_stats_v2(server: str) -> None:
    admin(server, "/__usage", {"accepted": 4200})
    usage = error_quota_usage(
        api_url="https://sentry.io/api/0",
        token=TOKEN,
        organization=ORG,
        quota=5000,
        alert_ratio=0.8,
        now=datetime(2026, 8, 20, tzinfo=UTC),
        policy=FAST,
        sleep=sleeps().append,
    )
    assert usage.accepted == 4200 and usage.over_alert_ratio
    assert usage.period_start == datetime(2026, 8, 1, tzinfo=UTC)
    assert "84.0%" in usage.summary()


# --------------------------------------------------------------------------- contract


def _spec_path() -> Path:
    base = Path(os.environ.get("VENDOR_SPECS_DIR") or ROOT.parent / "shared" / "vendor-specs")
    return base / "sentry" / "openapi-derefed.json"


class _Request:
    """openapi-core's request protocol over an httpx request, as Sentry's host would see it."""

    def __init__(self, request: httpx.Request) -> None:
        self.host_url = "https://us.sentry.io"  # the description's server
        self.path = request.url.path
        self.full_url_pattern = self.host_url + self.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
        )
        self.content_type = request.headers.get("content-type", "application/json")
        self.body = request.content or None


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.headers = Headers(dict(response.headers))
        self.content_type = response.headers.get("content-type", "application/json")
        self.data = response.content or None


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    path = _spec_path()
    if not path.is_file():
        pytest.skip(f"Sentry API description not found at {path}; set VENDOR_SPECS_DIR")
    # The 3.8 MB description is trusted data; skipping its self-validation saves seconds.
    return OpenAPI.from_dict(json.loads(path.read_text()), config=Config(spec_validator_cls=None))


def test_server_answers_follow_the_sentry_description(
    server: str, openapi: OpenAPI, plans: list[DetectorPlan]
) -> None:
    exchanges: list[httpx.Response] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=f"{server}/api/0", headers=headers) as client:

        def call(method: str, path: str, **kwargs: Any) -> Any:
            response = client.request(method, path, **kwargs)
            exchanges.append(response)
            return response.json() if response.content else None

        detector = call(
            "POST", f"/organizations/{ORG}/projects/{PROJECT}/detectors/", json=error_rate(plans)
        )
        call("GET", f"/organizations/{ORG}/detectors/", params={"project": PROJECT})
        call("GET", f"/organizations/{ORG}/detectors/{detector['id']}/")
        call("PUT", f"/organizations/{ORG}/detectors/{detector['id']}/", json=error_rate(plans))
        workflow = call(
            "POST",
            f"/organizations/{ORG}/workflows/",
            json=_workflow_spec([detector["id"]]) | {"detectorIds": [int(detector["id"])]},
        )
        call("GET", f"/organizations/{ORG}/workflows/")
        call("GET", f"/organizations/{ORG}/workflows/{workflow['id']}/")
        key = call("POST", f"/projects/{ORG}/{PROJECT}/keys/", json={"name": "agenzia-ai-api"})
        call("GET", f"/projects/{ORG}/{PROJECT}/keys/")
        call("GET", f"/projects/{ORG}/{PROJECT}/keys/{key['id']}/")
        call("PUT", f"/projects/{ORG}/{PROJECT}/keys/{key['id']}/", json={"isActive": True})
        call(
            "GET",
            f"/organizations/{ORG}/stats_v2/",
            params={
                "field": "sum(quantity)",
                "groupBy": "outcome",
                "category": "error",
                "statsPeriod": "30d",
            },
        )
        call("DELETE", f"/organizations/{ORG}/workflows/{workflow['id']}/")
        call("DELETE", f"/organizations/{ORG}/detectors/{detector['id']}/")
        call("DELETE", f"/projects/{ORG}/{PROJECT}/keys/{key['id']}/")
        call("GET", f"/organizations/{ORG}/detectors/{detector['id']}/")  # 404

    assert [r.status_code for r in exchanges][-4:] == [204, 204, 204, 404]
    for response in exchanges:
        openapi.validate_response(_Request(response.request), _Response(response))
        # Request schemas are written in snake_case for a serializer that "allows parameters
        # to be defined in snake case, but passed as camel case" (the description's words);
        # its nested ``triggers`` schema then requires ``logic_type`` where clients send the
        # documented ``logicType``. Workflow request bodies are checked by the server instead.
        sent = response.request
        if sent.content and sent.method in {"POST", "PUT"} and "/workflows/" not in sent.url.path:
            openapi.validate_request(_Request(sent))


def test_rate_limit_answer_carries_sentry_headers(server: str) -> None:
    admin(server, "/__faults", {"method": "GET", "path": "/workflows/", "kind": "429"})
    response = sentry(server, "GET", f"/organizations/{ORG}/workflows/")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert int(response.headers["X-Sentry-Rate-Limit-Reset"]) > 0
    assert response.headers["X-Sentry-Rate-Limit-Remaining"] == "0"
    assert "detail" in response.json()

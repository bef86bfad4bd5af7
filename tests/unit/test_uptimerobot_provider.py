"""The UptimeRobot dynamic providers, called directly, over real HTTP to the contract server."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import dill  # type: ignore[import-untyped]  # dill ships no type hints
import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from pulumi.dynamic import Config, ConfigureRequest
from werkzeug.datastructures import Headers, ImmutableMultiDict

from infra.providers.http import RetryPolicy
from infra.providers.uptimerobot import (
    API_KEY_ENV,
    API_URL_ENV,
    MaintenanceWindowProvider,
    MonitorProvider,
    UptimeRobotError,
)
from tests.contract.uptimerobot_process import (
    API_KEY,
    admin,
    api,
    contract_server,
    vendor_specs_dir,
)

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=5.0, timeout=5.0)
NAME = "agenzia-ai-api /health (production) & <co>"
URL = "https://api.agenzia.ai/health?probe=uptimerobot&v=1"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with contract_server() as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    admin(server, "/__reset", {})
    monkeypatch.setenv(API_URL_ENV, server)
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "api_key": API_KEY,
        "friendly_name": NAME,
        "url": URL,
        "interval": 300,
        "timeout": 30,
        "success_codes": ["200"],
        # "0123456" is how the config spells contact 123456: ids may carry leading zeros.
        "alert_contacts": [{"id": "0123456", "threshold": 5, "recurrence": 0}],
        "maintenance_window_ids": [],
    }
    return {**base, **overrides}


STACK_CONFIG = ConfigureRequest(Config({"monitoring:uptimerobotApiKey": API_KEY}, "monitoring"))


def monitor_provider(slept: list[float] | None = None, **kw: Any) -> MonitorProvider:
    """A provider as the engine runs it: configured with the stack config (which holds the
    key that ``read`` and ``delete`` need, since they only see outputs)."""
    provider = MonitorProvider(
        policy=kw.get("policy", FAST), sleep=(slept if slept is not None else []).append
    )
    provider.configure(STACK_CONFIG)
    return provider


def checked(p: MonitorProvider, values: dict[str, Any]) -> dict[str, Any]:
    result = p.check({}, values)
    assert not result.failures, [(f.property, f.reason) for f in result.failures]
    return dict(result.inputs)


def stored(server: str) -> list[dict[str, Any]]:
    return list(admin(server, "/__monitors"))


def requests_seen(server: str, method: str) -> list[dict[str, Any]]:
    return [r for r in admin(server, "/__requests") if r["method"] == method]


# --------------------------------------------------------------------------- lifecycle


def test_create_read_update_delete(server: str) -> None:
    p = monitor_provider()
    inputs = checked(p, props())
    created = p.create(inputs)
    [monitor] = stored(server)
    assert created.id == str(monitor["id"])
    assert monitor["friendlyName"] == NAME and monitor["url"] == URL
    assert monitor["httpMethodType"] == "GET"
    assert monitor["contacts"] == [{"alertContactId": 123456, "threshold": 5, "recurrence": 0}]
    outs = created.outs or {}
    assert outs["friendly_name"] == NAME, "HTML-escaped answers must be unescaped"
    assert outs["alert_contacts"] == [{"id": "0123456", "threshold": 5, "recurrence": 0}]
    assert outs["dashboard_url"] == f"https://dashboard.uptimerobot.com/monitors/{created.id}"

    read = p.read(created.id, outs)
    assert read.id == created.id and read.outs == outs
    assert not p.diff(created.id, outs, inputs).changes, "a fresh monitor must show no drift"

    news = checked(p, props(interval=60, success_codes=["200", "204"]))
    diff = p.diff(created.id, outs, news)
    assert diff.changes and not diff.replaces
    assert set(diff.stables or []) >= {"url", "friendly_name", "alert_contacts"}
    updated = p.update(created.id, outs, news)
    assert (updated.outs or {})["interval"] == 60
    assert stored(server)[0]["successHttpResponseCodes"] == ["200", "204"]

    p.delete(created.id, updated.outs or {})
    assert stored(server) == []
    gone = p.read(created.id, updated.outs or {})
    assert not gone.id and gone.outs == {}
    p.delete(created.id, updated.outs or {})  # already gone: no error


def test_changing_the_monitor_type_replaces_it(server: str) -> None:
    p = monitor_provider()
    outs = p.create(checked(p, props())).outs or {}
    diff = p.diff("1", outs, {**outs, "monitor_type": "KEYWORD"})
    assert diff.replaces == ["monitor_type"]
    assert p.diff("1", outs, {**outs, "interval": 120}).replaces == []


# --------------------------------------------------------------------------- idempotent create


def test_create_adopts_an_existing_monitor_instead_of_duplicating(server: str) -> None:
    p = monitor_provider()
    first = p.create(checked(p, props()))
    again = p.create(checked(p, props(interval=120)))  # a retried run, with a changed setting
    assert again.id == first.id
    [monitor] = stored(server)
    assert monitor["interval"] == 120, "the adopted monitor is brought in line with the config"


def test_adoption_follows_every_page_of_the_list(server: str) -> None:
    admin(server, "/__config", {"page_size": 2})
    p = monitor_provider()
    for index in range(5):
        p.create(checked(p, props(friendly_name=f"other {index}", url=f"https://x.test/{index}")))
    target = p.create(checked(p, props()))
    assert p.create(checked(p, props())).id == target.id
    assert len(stored(server)) == 6
    assert any("cursor" in r["query"] for r in requests_seen(server, "GET"))


def test_a_monitor_of_another_type_is_not_adopted(server: str) -> None:
    response = api(
        server, "POST", "/monitors",
        json={"friendlyName": NAME, "url": URL, "type": "KEYWORD", "interval": 300, "timeout": 30},
    )  # fmt: skip
    assert response.status_code == 201
    p = monitor_provider()
    created = p.create(checked(p, props()))
    assert created.id != str(response.json()["id"])
    assert len(stored(server)) == 2


# --------------------------------------------------------------------------- drift


def test_read_reports_a_monitor_changed_by_hand(server: str) -> None:
    p = monitor_provider()
    inputs = checked(p, props())
    created = p.create(inputs)
    edited = api(
        server, "PATCH", f"/monitors/{created.id}",
        json={"interval": 60, "friendlyName": "renamed in the dashboard", "assignedAlertContacts": []},
    )  # fmt: skip
    assert edited.status_code == 200
    read = p.read(created.id, created.outs or {})
    outs = read.outs or {}
    assert outs["interval"] == 60 and outs["friendly_name"] == "renamed in the dashboard"
    assert outs["alert_contacts"] == []
    diff = p.diff(created.id, outs, inputs)
    assert diff.changes
    assert not {"interval", "friendly_name", "alert_contacts"} & set(diff.stables or [])


def test_read_reports_a_monitor_deleted_by_hand_as_gone(server: str) -> None:
    p = monitor_provider()
    created = p.create(checked(p, props()))
    assert api(server, "DELETE", f"/monitors/{created.id}").status_code == 200
    read = p.read(created.id, created.outs or {})
    assert read.id == "" and read.outs == {}
    with pytest.raises(UptimeRobotError, match=r"no longer exists .*pulumi refresh"):
        p.update(created.id, created.outs or {}, checked(p, props(interval=60)))


def test_string_ids_in_answers_are_understood(server: str) -> None:
    admin(server, "/__config", {"string_ids": True, "escape_html": False})
    p = monitor_provider()
    created = p.create(checked(p, props()))
    outs = p.read(created.id, created.outs or {}).outs or {}
    assert outs["monitor_id"] == created.id
    assert outs["alert_contacts"] == [{"id": "0123456", "threshold": 5, "recurrence": 0}]


# --------------------------------------------------------------------------- faults


def test_rate_limited_reads_wait_for_retry_after(server: str) -> None:
    p = monitor_provider()
    created = p.create(checked(p, props()))
    admin(
        server,
        "/__faults",
        {"method": "GET", "path": "/monitors/", "kind": "429", "retry_after": 3, "times": 2},
    )
    slept: list[float] = []
    assert monitor_provider(slept).read(created.id, created.outs or {}).id == created.id
    assert len(slept) == 2 and all(3 <= s <= 3.011 for s in slept), slept


def test_server_error_then_success_creates_exactly_one(server: str) -> None:
    admin(server, "/__faults", {"method": "POST", "path": "/monitors", "kind": "500"})
    slept: list[float] = []
    created = monitor_provider(slept).create(checked(monitor_provider(), props()))
    assert [str(m["id"]) for m in stored(server)] == [created.id]
    assert len(slept) == 1


def test_a_read_that_times_out_is_retried(server: str) -> None:
    p = monitor_provider(policy=RetryPolicy(max_attempts=3, base_delay=0.01, timeout=0.3))
    created = p.create(checked(p, props()))
    admin(
        server, "/__faults", {"method": "GET", "path": "/monitors/", "kind": "delay", "seconds": 1}
    )
    assert p.read(created.id, created.outs or {}).id == created.id


def test_a_create_that_times_out_after_storing_is_not_duplicated(server: str) -> None:
    p = monitor_provider(policy=RetryPolicy(max_attempts=3, base_delay=0.01, timeout=0.3))
    admin(
        server, "/__faults", {"method": "POST", "path": "/monitors", "kind": "delay", "seconds": 1}
    )
    created = p.create(checked(p, props()))
    assert [str(m["id"]) for m in stored(server)] == [created.id]


def test_a_connection_reset_after_the_monitor_was_stored_adopts_it(server: str) -> None:
    admin(
        server, "/__faults", {"method": "POST", "path": "/monitors", "kind": "reset_after_commit"}
    )
    created = monitor_provider().create(checked(monitor_provider(), props()))
    assert [str(m["id"]) for m in stored(server)] == [created.id], "none lost, none duplicated"
    assert len(requests_seen(server, "POST")) == 1


def test_a_connection_reset_before_storing_is_never_posted_twice(server: str) -> None:
    # The client cannot tell this from a reset after storing: it must not post again, and it
    # says the next `pulumi up` adopts whatever was stored; that run then creates the one.
    admin(server, "/__faults", {"method": "POST", "path": "/monitors", "kind": "reset"})
    with pytest.raises(UptimeRobotError, match=r"no answer came .* run `pulumi up` again"):
        monitor_provider().create(checked(monitor_provider(), props()))
    assert stored(server) == [] and len(requests_seen(server, "POST")) == 1
    created = monitor_provider().create(checked(monitor_provider(), props()))
    assert [str(m["id"]) for m in stored(server)] == [created.id]


def test_a_final_failure_carries_the_api_message(server: str) -> None:
    admin(
        server,
        "/__faults",
        {"method": "GET", "path": "/monitors", "kind": "429_html", "retry_after": 0, "times": 20},
    )
    with pytest.raises(
        UptimeRobotError, match=r"creating monitor .*HTTP 429.*429 Too Many Requests Slow down"
    ):
        monitor_provider().create(checked(monitor_provider(), props()))
    admin(server, "/__reset", {})
    with pytest.raises(UptimeRobotError, match=r"HTTP 400.*alert contact 999 does not exist"):
        p = monitor_provider()
        p.create(checked(p, props(alert_contacts=[{"id": "999", "threshold": 0, "recurrence": 0}])))


# --------------------------------------------------------------------------- the key


def test_the_api_key_never_appears_in_errors_or_outputs(server: str) -> None:
    wrong = API_KEY + "-revoked"
    with pytest.raises(UptimeRobotError, match="HTTP 401") as denied:
        monitor_provider().create(checked(monitor_provider(), props(api_key=wrong)))
    admin(server, "/__faults", {"method": "*", "path": "/monitors", "kind": "500", "times": 50})
    with pytest.raises(UptimeRobotError, match="HTTP 500") as failed:
        monitor_provider().create(checked(monitor_provider(), props()))
    for exc, secret in ((denied.value, wrong), (failed.value, API_KEY)):
        assert exc.__cause__ is None and exc.__suppress_context__
        assert secret not in str(exc) and secret not in repr(exc.args)
    admin(server, "/__reset", {})
    created = monitor_provider().create(checked(monitor_provider(), props()))
    assert "api_key" not in (created.outs or {}) and API_KEY not in repr(created.outs)


def test_read_and_delete_take_the_key_from_stack_config_or_environment(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = monitor_provider()
    outs = p.create(checked(p, props())).outs or {}
    assert "api_key" not in outs  # delete and read only see outputs
    bare = MonitorProvider(policy=FAST)
    with pytest.raises(UptimeRobotError, match="pulumi config set --secret uptimerobotApiKey"):
        bare.read(outs["monitor_id"], outs)
    bare.configure(
        ConfigureRequest(Config({"monitoring:uptimerobotApiKey": API_KEY}, "monitoring"))
    )
    assert bare.read(outs["monitor_id"], outs).id == outs["monitor_id"]
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    MonitorProvider(policy=FAST).delete(outs["monitor_id"], outs)
    assert stored(server) == []


def test_check_names_each_bad_property() -> None:
    result = MonitorProvider().check(
        {},
        props(
            url="ftp://nope", interval=10, timeout=90, success_codes=["ok"], monitor_type="PING",
            alert_contacts=[{"id": "abc", "threshold": 0, "recurrence": 0}],
        ),
    )  # fmt: skip
    assert sorted(f.property for f in result.failures) == [
        "alert_contacts[0].id", "interval", "monitor_type", "success_codes", "timeout", "url",
    ]  # fmt: skip
    assert any("minimum is 30" in f.reason for f in result.failures)


# --------------------------------------------------------------------------- serialization


def test_the_provider_survives_the_engines_dill_round_trip(server: str) -> None:
    configured = monitor_provider()
    configured.configure(
        ConfigureRequest(Config({"monitoring:uptimerobotApiKey": API_KEY}, "monitoring"))
    )
    pickled = dill.dumps(configured, recurse=True)
    assert API_KEY.encode() not in pickled, "the stack config must not reach the state"
    clone = dill.loads(pickled)
    clone.configure(STACK_CONFIG)  # what the engine does after loading it
    created = clone.create(checked(clone, props()))
    assert clone.read(created.id, created.outs).id == created.id


# --------------------------------------------------------------------------- windows


def test_maintenance_windows_are_created_adopted_and_joined(server: str) -> None:
    no_sleep: list[float] = []
    w = MaintenanceWindowProvider(policy=FAST, sleep=no_sleep.append)
    w.configure(STACK_CONFIG)
    window = {"api_key": API_KEY, "name": "Friday deploys", "interval": "weekly",
              "date": "2026-01-02", "time": "22:00:00", "duration": 30, "days": [5]}  # fmt: skip
    assert not w.check({}, window).failures
    created = w.create(window)
    assert w.create(window).id == created.id
    p = monitor_provider()
    monitor = p.create(checked(p, props(maintenance_window_ids=[created.id])))
    assert (monitor.outs or {})["maintenance_window_ids"] == [created.id]
    assert w.read(created.id, created.outs or {}).outs == created.outs
    w.delete(created.id, created.outs or {})
    assert not w.read(created.id, created.outs or {}).id
    assert p.read(monitor.id, monitor.outs or {}).outs["maintenance_window_ids"] == []  # type: ignore[index]
    bad = w.check({}, {**window, "date": None, "interval": "hourly"})
    assert sorted(f.property for f in bad.failures) == ["date", "interval"]


# --------------------------------------------------------------------------- contract


def _readable(node: Any) -> Any:
    """The description with two generator artefacts read the way the API means them, in memory
    (the file stays unmodified): date fields are ``oneOf: [{}, {type: string}]``, which no
    string can satisfy (it matches both branches), so ``oneOf`` is read as ``anyOf``; and
    ``nullable`` enums/unions are read as admitting ``null``, as OpenAPI 3.0 intends."""
    if isinstance(node, list):
        return [_readable(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _readable(v) for k, v in node.items()}
    if "oneOf" in node and {} in node["oneOf"]:
        node["anyOf"] = node.pop("oneOf")
    if node.get("nullable") and "enum" in node and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    if node.get("nullable") and ("oneOf" in node or "anyOf" in node):
        key = "oneOf" if "oneOf" in node else "anyOf"
        node[key] = [*node[key], {"nullable": True, "enum": [None]}]
    return node


class _Request:
    """openapi-core's request protocol over an httpx request, as UptimeRobot's host sees it."""

    def __init__(self, request: httpx.Request) -> None:
        self.host_url = "https://api.uptimerobot.com"  # the description's server is …/v3
        self.path = "/v3" + request.url.path
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
        self.content_type = response.headers.get("content-type", "application/json").split(";")[0]
        self.data = response.content or None


def test_the_server_and_the_provider_follow_the_uptimerobot_description(server: str) -> None:
    path = vendor_specs_dir() / "uptimerobot" / "openapi.yaml"
    if not path.is_file():
        pytest.skip(f"UptimeRobot API description not found at {path}; set VENDOR_SPECS_DIR")
    openapi = OpenAPI.from_dict(_readable(yaml.safe_load(path.read_text())))
    exchanges: list[httpx.Response] = []

    def record(response: httpx.Response) -> None:
        response.read()
        exchanges.append(response)

    # The provider's own calls, recorded on the wire by a client hook of the test's client.
    p = monitor_provider()
    created = p.create(checked(p, props()))
    with httpx.Client(
        base_url=server, headers={"Authorization": f"Bearer {API_KEY}"},
        event_hooks={"response": [record]},
    ) as client:  # fmt: skip
        body = {"friendlyName": html.unescape(NAME), "url": URL, "type": "HTTP", "interval": 300,
                "timeout": 30, "httpMethodType": "GET", "successHttpResponseCodes": ["200"],
                "assignedAlertContacts": [{"alertContactId": 789, "threshold": 5, "recurrence": 0}]}  # fmt: skip
        other = client.post("/monitors", json={**body, "friendlyName": "second"}).json()
        client.get("/monitors", params={"limit": 1})
        client.get(f"/monitors/{created.id}")
        client.patch(f"/monitors/{other['id']}", json={"interval": 600})
        window = client.post(
            "/maintenance-windows",
            json={
                "name": "nightly",
                "interval": "daily",
                "date": "2026-01-01",
                "time": "02:00:00",
                "duration": 15,
            },
        ).json()
        client.get("/maintenance-windows")
        client.get(f"/maintenance-windows/{window['id']}")
        client.delete(f"/maintenance-windows/{window['id']}")
        client.delete(f"/monitors/{other['id']}")
    assert [r.status_code for r in exchanges] == [201, 200, 200, 200, 201, 200, 200, 204, 200]
    for response in exchanges:
        openapi.validate_response(_Request(response.request), _Response(response))
        if response.request.content and "/monitors" in response.request.url.path:
            openapi.validate_request(_Request(response.request))

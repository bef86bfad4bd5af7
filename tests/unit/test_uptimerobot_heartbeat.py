"""The UptimeRobot heartbeat provider, called directly, over real HTTP to the contract server
(a PRO account, and a FREE one that refuses heartbeats)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.providers.http import RetryPolicy
from infra.providers.uptimerobot import API_KEY_ENV, API_URL_ENV, ConnectionArgs, UptimeRobotError
from infra.providers.uptimerobot_heartbeat import (
    HeartbeatArgs,
    HeartbeatProvider,
    UptimeRobotHeartbeat,
)
from tests.contract.uptimerobot_process import API_KEY, admin, api, contract_server
from tests.pulumi_mocks import RecordingMocks

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=1.0, timeout=5.0)
NAME = "agenzia-ai-api alert pipeline (production)"
PING_URL = re.compile(r"^https://heartbeat\.uptimerobot\.com/[A-Za-z0-9_-]{16,}$")
STACK_CONFIG = ConfigureRequest(Config({"monitoring:uptimerobotApiKey": API_KEY}, "monitoring"))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with contract_server() as url:
        yield url


@pytest.fixture(autouse=True)
def fresh(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    admin(server, "/__reset", {})
    monkeypatch.setenv(API_URL_ENV, server)
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def provider() -> HeartbeatProvider:
    p = HeartbeatProvider(policy=FAST, sleep=lambda _s: None)
    p.configure(STACK_CONFIG)
    return p


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "api_key": API_KEY,
        "friendly_name": NAME,
        "interval": 300,
        "grace_period": 120,
        "alert_contacts": [{"id": "0123456", "threshold": 0, "recurrence": 0}],
    }
    checked = provider().check({}, {**base, **overrides})
    assert not checked.failures, checked.failures
    return dict(checked.inputs or {})


def stored(server: str) -> list[dict[str, Any]]:
    return list(admin(server, "/__monitors"))


def test_create_read_update_delete_with_the_ping_url_as_output(server: str) -> None:
    p = provider()
    inputs = props()
    created = p.create(inputs)
    [monitor] = stored(server)
    assert monitor["type"] == "HEARTBEAT" and monitor["gracePeriod"] == 120
    assert monitor["contacts"] == [{"alertContactId": 123456, "threshold": 0, "recurrence": 0}]
    outs = created.outs or {}
    assert created.id == str(monitor["id"])
    assert PING_URL.match(outs["heartbeat_url"]) and outs["heartbeat_url"] == monitor["url"]
    assert outs["alert_contacts"] == [{"id": "0123456", "threshold": 0, "recurrence": 0}]
    assert "api_key" not in outs and API_KEY not in repr(outs)

    read = p.read(created.id, outs)
    assert read.outs == outs
    assert not p.diff(created.id, outs, inputs).changes, "a fresh heartbeat must show no drift"

    news = props(interval=600, grace_period=300)
    diff = p.diff(created.id, outs, news)
    assert diff.changes and not diff.replaces
    updated = p.update(created.id, outs, news).outs or {}
    assert (updated["interval"], updated["grace_period"]) == (600, 300)
    assert updated["heartbeat_url"] == outs["heartbeat_url"], "an update keeps the ping URL"

    p.delete(created.id, updated)
    assert stored(server) == []
    assert p.read(created.id, updated).outs == {}
    p.delete(created.id, updated)  # already gone: no error


def test_read_reports_a_heartbeat_changed_by_hand(server: str) -> None:
    p = provider()
    inputs = props()
    created = p.create(inputs)
    edited = api(server, "PATCH", f"/monitors/{created.id}", json={"gracePeriod": 3600})
    assert edited.status_code == 200
    outs = p.read(created.id, created.outs or {}).outs or {}
    assert outs["grace_period"] == 3600
    diff = p.diff(created.id, outs, inputs)
    assert diff.changes and "grace_period" not in (diff.stables or [])


def test_create_adopts_a_heartbeat_of_the_same_name(server: str) -> None:
    p = provider()
    first = p.create(props())
    again = p.create(props(grace_period=60))
    assert again.id == first.id and len(stored(server)) == 1
    assert stored(server)[0]["gracePeriod"] == 60, "the adopted heartbeat is made to match"


def test_check_names_each_bad_property() -> None:
    bad = {"friendly_name": "", "interval": 10, "grace_period": 90_000}
    failures = {f.property for f in HeartbeatProvider().check({}, bad).failures or []}
    assert failures == {"friendly_name", "interval", "grace_period"}


def test_a_free_plan_refusal_is_one_error_naming_the_switch() -> None:
    with contract_server(plan="free") as free, pytest.MonkeyPatch.context() as env:
        env.setenv(API_URL_ENV, free)
        with pytest.raises(UptimeRobotError) as refused:
            provider().create(props())
        assert admin(free, "/__monitors") == []
    message = str(refused.value)
    assert "\n" not in message and API_KEY not in message
    assert re.search(
        r"HTTP 403\): heartbeat monitors need a paid \(PRO\) UptimeRobot plan; .*set "
        r"monitoring:uptimerobot\.heartbeat\.enabled: false",
        message,
    )


def test_the_ping_url_is_a_secret_output(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[pulumi.ResourceOptions] = []
    original = pulumi.dynamic.Resource.__init__

    def spy(self: Any, provider: Any, name: str, props: Any, opts: Any = None) -> None:
        registered.append(opts)
        original(self, provider, name, props, opts)

    monkeypatch.setattr(pulumi.dynamic.Resource, "__init__", spy)
    pulumi.runtime.set_mocks(RecordingMocks(), project="monitoring", stack="production")
    seen: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the Pulumi SDK leaves it untyped
    def register() -> pulumi.Output[Any]:
        beat = UptimeRobotHeartbeat(
            "hb", HeartbeatArgs(NAME, 300, 120), ConnectionArgs(api_key=API_KEY)
        )
        return pulumi.Output.from_input(beat.heartbeat_url.is_secret()).apply(
            lambda secret: seen.update(secret=secret)
        )

    register()
    assert seen == {"secret": True}
    [opts] = registered
    assert set(opts.additional_secret_outputs or []) == {"api_key", "heartbeat_url"}

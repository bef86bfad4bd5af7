"""UptimeMonitors (infra/components/uptimerobot.py) under Pulumi mocks, for both stacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from infra.components.uptimerobot import TYPE_TOKEN, UptimeMonitors, UptimeRobotKeyMissing
from infra.config import StackConfig, load_stack
from infra.config.loader import validate_stack
from tests.pulumi_mocks import RecordingMocks, Registered

STACKS = ("production", "staging")
MONITOR = "pulumi-python:dynamic/uptimerobot:Monitor"
WINDOW = "pulumi-python:dynamic/uptimerobot:MaintenanceWindow"
KEY = "u7654321-mock0key0value"
CONTACTS = {"critical": ["0123456", "789"], "warning": ["4242"]}


def with_uptimerobot(stack: str, **uptimerobot: Any) -> StackConfig:
    """The stack file's config with ``uptimerobot`` keys overridden, validated like the loader."""
    data = load_stack(stack).model_dump(mode="json", by_alias=True)
    data["uptimerobot"] = {**data["uptimerobot"], **uptimerobot}
    return validate_stack(data, f"Pulumi.{stack}.yaml")


def build(
    stack: str, cfg: StackConfig, key: str | None = KEY
) -> tuple[RecordingMocks, dict[str, Any]]:
    """Register UptimeMonitors under fresh mocks and wait for every output."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="monitoring", stack=stack, preview=False)
    secret_keys = ["monitoring:uptimerobotApiKey"] if key else []
    pulumi.runtime.set_all_config({k: key for k in secret_keys if key}, secret_keys)
    seen: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the Pulumi SDK leaves it untyped
    def register() -> pulumi.Output[Any]:
        monitors = UptimeMonitors("uptime", cfg)
        seen["component"] = monitors
        ids = pulumi.Output.all(*monitors.monitor_ids.values())
        links = pulumi.Output.all(*monitors.dashboard_urls.values())
        return pulumi.Output.all(ids, links).apply(
            lambda values: seen.update(ids=values[0], links=values[1])
        )

    register()
    return mocks, seen


@pytest.fixture(scope="module")
def registered() -> Iterator[dict[str, tuple[RecordingMocks, dict[str, Any]]]]:
    built = {
        stack: build(stack, with_uptimerobot(stack, alert_contacts=CONTACTS)) for stack in STACKS
    }
    yield built
    pulumi.runtime.set_all_config({})


def by_name(mocks: RecordingMocks, type_: str) -> dict[str, Registered]:
    return {r.name: r for r in mocks.of_type(type_)}


def plain(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


@pytest.mark.parametrize("stack", STACKS)
def test_health_and_ready_monitors_are_registered(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    mocks, seen = registered[stack]
    assert mocks.resources, "nothing was registered: the component never ran"
    assert [r.name for r in mocks.of_type(TYPE_TOKEN)] == ["uptime"]
    monitors = by_name(mocks, MONITOR)
    assert set(monitors) == {"uptime-agenzia-ai-api-health", "uptime-agenzia-ai-api-ready"}
    base = load_stack(stack).services[0].base_url
    health = monitors["uptime-agenzia-ai-api-health"].inputs
    assert health["url"] == f"{base}/health"
    assert health["friendly_name"] == f"agenzia-ai-api /health ({stack})"
    assert (health["interval"], health["timeout"]) == (300, 30)
    assert health["success_codes"] == ["200"]
    assert monitors["uptime-agenzia-ai-api-ready"].inputs["url"] == f"{base}/ready"
    assert seen["ids"] == [
        "uptime-agenzia-ai-api-health-id",
        "uptime-agenzia-ai-api-ready-id",
        "uptime-heartbeat-id",  # the dead-man's switch (uptimerobot.heartbeat)
    ]
    assert seen["links"] == [f"https://dashboard.uptimerobot.com/monitors/{i}" for i in seen["ids"]]


@pytest.mark.parametrize("stack", STACKS)
def test_two_consecutive_failures_become_a_five_minute_threshold_per_severity(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    monitors = by_name(registered[stack][0], MONITOR)
    health = monitors["uptime-agenzia-ai-api-health"].inputs["alert_contacts"]
    ready = monitors["uptime-agenzia-ai-api-ready"].inputs["alert_contacts"]
    assert health == [
        {"id": "0123456", "threshold": 5, "recurrence": 0},
        {"id": "789", "threshold": 5, "recurrence": 0},
    ], "critical /health: leading zeros kept, alert after the 2nd failed 5-minute check"
    assert ready == [{"id": "4242", "threshold": 5, "recurrence": 0}]


@pytest.mark.parametrize("stack", STACKS)
def test_the_api_key_is_a_secret_input_and_never_an_output(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    for monitor in registered[stack][0].of_type(MONITOR):
        assert rpc.is_rpc_secret(monitor.inputs["api_key"]), "the key must travel as a secret"
        assert plain(monitor.inputs["api_key"]) == KEY
        assert monitor.inputs["api_key_name"] == "uptimerobotApiKey"


def test_maintenance_windows_are_created_and_joined() -> None:
    window = {"name": "Friday deploys", "interval": "weekly", "date": "2026-01-02",
              "time": "22:00:00", "duration_minutes": 30, "days": [5]}  # fmt: skip
    mocks, _ = build("production", with_uptimerobot("production", maintenance_windows=[window]))
    [registered] = mocks.of_type(WINDOW)
    assert registered.name == "uptime-window-friday-deploys"
    assert registered.inputs["name"] == "Friday deploys (production)"
    assert (registered.inputs["duration"], registered.inputs["days"]) == (30, [5])
    for monitor in mocks.of_type(MONITOR):
        assert monitor.inputs["maintenance_window_ids"] == ["uptime-window-friday-deploys-id"]


def test_a_missing_key_says_how_to_set_it() -> None:
    with pytest.raises(
        Exception, match=r"pulumi config set --secret uptimerobotApiKey .* -s staging"
    ) as err:
        build("staging", load_stack("staging"), key=None)
    assert isinstance(err.value, UptimeRobotKeyMissing) or "UptimeRobotKeyMissing" in repr(
        err.value
    )


def test_disabled_uptimerobot_registers_no_monitors() -> None:
    mocks, seen = build("staging", with_uptimerobot("staging", enabled=False))
    assert [r.type_ for r in mocks.resources] == [TYPE_TOKEN]
    assert seen["ids"] == []


def test_config_rejects_what_uptimerobot_would() -> None:
    with pytest.raises(Exception, match="above UptimeRobot's 60s maximum timeout"):
        with_uptimerobot("production", timeout="90s")
    with pytest.raises(Exception, match="needs date"):
        with_uptimerobot("production", maintenance_windows=[
            {"name": "nightly", "interval": "daily", "time": "02:00:00", "duration_minutes": 15}
        ])  # fmt: skip


HEARTBEAT = "pulumi-python:dynamic/uptimerobot:Heartbeat"


@pytest.mark.parametrize(
    ("stack", "contacts"), [("production", ["0123456", "789"]), ("staging", ["4242"])]
)
def test_the_heartbeat_alerts_critical_contacts_in_production_and_warning_ones_elsewhere(
    registered: dict[str, tuple[RecordingMocks, dict[str, Any]]], stack: str, contacts: list[str]
) -> None:
    mocks, _ = registered[stack]
    [beat] = mocks.of_type(HEARTBEAT)
    assert beat.name == "uptime-heartbeat"
    assert (beat.inputs["interval"], beat.inputs["grace_period"]) == (300, 300)
    assert [c["id"] for c in beat.inputs["alert_contacts"]] == contacts
    name = beat.inputs["friendly_name"]
    assert f"({stack})" in name and name.endswith("/runbooks/Watchdog.md")
    assert rpc.is_rpc_secret(beat.inputs["api_key"])


def test_the_heartbeat_switch_turns_it_off() -> None:
    mocks, _ = build("production", with_uptimerobot("production", heartbeat={"enabled": False}))
    assert mocks.of_type(HEARTBEAT) == [] and mocks.of_type(MONITOR)

"""SentryAlerts (infra/components/sentry.py) under Pulumi mocks, for both stacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from infra.components.sentry import TYPE_TOKEN, SentryAlerts, action_frequency
from infra.config import ConfigError, StackConfig, load_stack
from infra.config.loader import validate_stack
from tests.pulumi_mocks import RecordingMocks, Registered

STACKS = ("production", "staging")
DETECTOR = "pulumi-python:dynamic/sentry:Detector"
WORKFLOW = "pulumi-python:dynamic/sentry:Workflow"
KEY = "pulumi-python:dynamic/sentry:ProjectKey"
TOKEN = "sntrys_mock-token-value-7d1e"

# What the README tells each stack to add: the Sentry side of every routing receiver.
NOTIFY: dict[str, dict[str, Any]] = {
    "production": {
        "pagerduty-oncall": {"integration_id": "2345", "target_identifier": "PX1Y2Z3"},
        "email-oncall": {"target_type": "team", "target_identifier": "456789"},
        "slack-alerts": {"integration_id": "12"},
    },
    "staging": {"slack-staging": {"integration_id": "12"}},
}


def with_sentry(stack: str, **sentry: Any) -> StackConfig:
    """The stack file's config with ``sentry`` keys overridden, validated like the loader."""
    data = load_stack(stack).model_dump(mode="json", by_alias=True)
    data["sentry"] = {**data["sentry"], **sentry}
    return validate_stack(data, f"Pulumi.{stack}.yaml")


def configured(stack: str) -> StackConfig:
    return with_sentry(stack, notify=NOTIFY[stack])


def build(
    stack: str, cfg: StackConfig, token: str | None = TOKEN
) -> tuple[RecordingMocks, dict[str, Any]]:
    """Register SentryAlerts under fresh mocks and wait for every output."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="monitoring", stack=stack, preview=False)
    secret_keys = ["monitoring:sentryAuthToken"] if token else []
    pulumi.runtime.set_all_config({k: token for k in secret_keys if token}, secret_keys)
    seen: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the Pulumi SDK leaves it untyped
    def register() -> pulumi.Output[Any]:
        alerts = SentryAlerts("sentry", cfg)
        seen["alerts"] = alerts
        dsn_secret: pulumi.Output[bool] = pulumi.Output.from_input(alerts.dsn.is_secret())
        return pulumi.Output.all(
            dsn_secret, *alerts.detector_ids.values(), *alerts.workflow_ids.values()
        ).apply(lambda values: seen.update(dsn_secret=values[0], ids=values[1:]))

    register()
    return mocks, seen


@pytest.fixture(scope="module")
def registered() -> Iterator[dict[str, tuple[RecordingMocks, dict[str, Any]]]]:
    built = {stack: build(stack, configured(stack)) for stack in STACKS}
    yield built
    pulumi.runtime.set_all_config({})


def spec(resource: Registered) -> dict[str, Any]:
    value = resource.inputs["spec"]
    result: dict[str, Any] = rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value
    return result


def by_name(mocks: RecordingMocks, type_: str) -> dict[str, Registered]:
    return {r.name: r for r in mocks.of_type(type_)}


# --------------------------------------------------------------------------- registration


@pytest.mark.parametrize("stack", STACKS)
def test_expected_resources_are_registered(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    mocks, seen = registered[stack]
    assert mocks.resources, "nothing was registered: the component never ran"
    assert [r.name for r in mocks.of_type(TYPE_TOKEN)] == ["sentry"]
    assert set(by_name(mocks, DETECTOR)) == {
        "sentry-error-rate",
        "sentry-p95-latency",
        "sentry-db-query-duration",
        "sentry-external-api-twilio",
        "sentry-external-api-mistral",
    }
    assert set(by_name(mocks, WORKFLOW)) == {"sentry-critical", "sentry-warning"}
    assert set(by_name(mocks, KEY)) == {"sentry-dsn"}
    assert len(seen["ids"]) == 7 and all(seen["ids"])
    assert seen["alerts"].traces_sample_rate == {"production": 0.1, "staging": 1.0}[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_names_are_unique(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    mocks, _ = registered[stack]
    names = [r.name for r in mocks.resources]
    assert len(names) == len(set(names))
    sentry_names = [spec(r)["name"] for r in mocks.resources if r.type_ in {DETECTOR, WORKFLOW}]
    assert len(sentry_names) == len(set(sentry_names))
    assert all(f"({stack})" in n for n in sentry_names), "stacks sharing a project must not collide"


@pytest.mark.parametrize("stack", STACKS)
def test_detector_thresholds_come_from_config(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    detectors = by_name(registered[stack][0], DETECTOR)

    def threshold(name: str) -> Any:
        conditions = spec(detectors[name])["conditionGroup"]["conditions"]
        assert conditions[0]["comparison"] == conditions[1]["comparison"]
        return conditions[0]["comparison"]

    assert threshold("sentry-error-rate") == 0.001  # 0.1%
    assert threshold("sentry-p95-latency") == 200  # ms
    assert threshold("sentry-db-query-duration") == 100  # ms
    assert threshold("sentry-external-api-twilio") == 10
    error_rate = spec(detectors["sentry-error-rate"])
    source = error_rate["dataSources"][0]
    assert (source["aggregate"], source["timeWindow"], source["environment"]) == (
        "failure_rate()",
        300,
        stack,
    )
    assert error_rate["conditionGroup"]["conditions"][0]["conditionResult"] == 75
    twilio = spec(detectors["sentry-external-api-twilio"])["dataSources"][0]
    assert "*twilio*" in twilio["query"]
    assert detectors["sentry-error-rate"].inputs["organization"] == "agenzia-ai"


def test_workflows_notify_the_routing_models_receivers(
    registered: dict[str, tuple[RecordingMocks, dict[str, Any]]],
) -> None:
    def actions(stack: str, name: str) -> list[tuple[str, Any]]:
        workflow = spec(by_name(registered[stack][0], WORKFLOW)[name])
        return [
            (a["type"], a["config"]["targetIdentifier"] or a["config"]["targetDisplay"])
            for a in workflow["actionFilters"][0]["actions"]
        ]

    assert actions("production", "sentry-critical") == [
        ("pagerduty", "PX1Y2Z3"),
        ("email", "456789"),
    ]
    assert actions("production", "sentry-warning") == [("slack", "alerts-production")]
    assert actions("staging", "sentry-critical") == [("slack", "alerts-staging")]
    critical = spec(by_name(registered["production"][0], WORKFLOW)["sentry-critical"])
    assert critical["config"] == {"frequency": 180}  # routing repeat_interval 4h, rounded down
    assert len(critical["detectorIds"]) == 1  # the error-rate detector
    assert critical["actionFilters"][0]["conditions"][0]["comparison"] == 75


# --------------------------------------------------------------------------- secrets


def _plain_strings(value: Any) -> Iterator[str]:
    if rpc.is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _plain_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _plain_strings(item)


@pytest.mark.parametrize("stack", STACKS)
def test_token_and_dsn_are_secret(
    stack: str, registered: dict[str, tuple[RecordingMocks, dict[str, Any]]]
) -> None:
    mocks, seen = registered[stack]
    sentry_resources = [r for r in mocks.resources if r.type_ in {DETECTOR, WORKFLOW, KEY}]
    for resource in sentry_resources:
        assert rpc.is_rpc_secret(resource.inputs["auth_token"]), resource.name
        assert rpc.unwrap_rpc_secret(resource.inputs["auth_token"]) == TOKEN
        assert TOKEN not in " ".join(_plain_strings(resource.inputs)), resource.name
    assert seen["dsn_secret"] is True


def test_the_sentry_notification_frequency_follows_routing() -> None:
    assert action_frequency(configured("production")) == 180


# --------------------------------------------------------------------------- bad config


def test_unmapped_receivers_stop_before_anything_is_registered() -> None:
    cfg = load_stack("production")
    unmapped = cfg.model_copy(update={"sentry": cfg.sentry.model_copy(update={"notify": {}})})
    with pytest.raises(ConfigError) as raised:
        build("production", unmapped)
    text = str(raised.value)
    assert "monitoring:sentry.notify.pagerduty-oncall: the routing model sends alerts" in text
    assert "monitoring:sentry.notify.email-oncall" in text
    assert "monitoring:sentry.notify.heartbeat" not in text  # null receivers need nothing


def test_wrong_target_shape_is_named_with_its_fix() -> None:
    notify = {**NOTIFY["production"], "email-oncall": {"integration_id": "3"}, "ghost": {}}
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="monitoring", stack="production", preview=False)
    with pytest.raises(ConfigError) as raised:
        SentryAlerts("sentry", with_sentry("production", notify=notify))
    assert raised.value.problems == [
        "monitoring:sentry.notify.ghost: no routing receiver has this name; use one of "
        "['email-oncall', 'heartbeat', 'pagerduty-oncall', 'slack-alerts']",
        "monitoring:sentry.notify.email-oncall: Sentry emails its users or teams, not "
        "addresses; set target_type 'team' (or 'user') and target_identifier to the Sentry "
        "team (or user) id",
    ]
    assert mocks.resources == []


def test_a_window_sentry_rejects_fails_at_load() -> None:
    with pytest.raises(ConfigError, match=r"monitoring:sentry\.window: '7m' is not a window"):
        with_sentry("staging", window="7m")


def test_missing_token_stops_before_anything_is_registered() -> None:
    with pytest.raises(Exception, match="sentryAuthToken"):
        build("staging", configured("staging"), token=None)
    pulumi.runtime.set_all_config({})

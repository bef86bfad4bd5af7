"""The whole Pulumi program under the SDK's mocks, for both real stacks: every component
registers, names are unique, secrets stay secret, and bad config registers nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
import yaml

from infra.config import ConfigError
from infra.config.loader import split_stack_file, stack_file
from tests.conftest import ROOT
from tests.pulumi_mocks import RecordingMocks

SECRETS = {
    "monitoring:pagerdutyIntegrationKey": "pd-key-DO-NOT-LEAK",
    "monitoring:smtpPassword": "smtp-pass-DO-NOT-LEAK",
    "monitoring:slackWebhookUrl": "https://hooks.example.invalid/DO-NOT-LEAK",
    "monitoring:uptimerobotApiKey": "ur-key-DO-NOT-LEAK",
    "monitoring:sentryAuthToken": "sentry-token-DO-NOT-LEAK",
}


def _stack_config(stack: str) -> dict[str, str]:
    document = yaml.safe_load(stack_file(stack, ROOT).read_text(encoding="utf-8"))
    settings, _ = split_stack_file(document)
    config = {
        f"monitoring:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()
    }
    config["grafana:url"] = document["config"]["grafana:url"]
    return {**config, **SECRETS}


@pytest.fixture
def mocks_for() -> Iterator[Any]:
    def install(stack: str, config: dict[str, str]) -> RecordingMocks:
        mocks = RecordingMocks()
        pulumi.runtime.set_mocks(mocks, project="monitoring", stack=stack, preview=False)
        pulumi.runtime.set_all_config(config, list(SECRETS))
        return mocks

    yield install
    pulumi.runtime.set_all_config({})


def _run() -> None:
    from infra.program import run

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        run()
        return pulumi.Output.from_input(None)

    program()


def test_importing_the_program_registers_nothing(mocks_for: Any) -> None:
    mocks = mocks_for("production", _stack_config("production"))
    import infra.program  # noqa: F401

    assert mocks.resources == []


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_every_component_registers_for_the_stack(stack: str, mocks_for: Any) -> None:
    mocks = mocks_for(stack, _stack_config(stack))
    _run()
    assert mocks.resources, "no resource was recorded: an apply never ran"
    types = {r.type_ for r in mocks.resources}
    for expected in (
        "monitoring:grafana:AlertRouting",
        "monitoring:grafana:Monitoring",
        "grafana:oss/folder:Folder",
        "grafana:oss/dashboard:Dashboard",
        "grafana:alerting/ruleGroup:RuleGroup",
        "grafana:alerting/contactPoint:ContactPoint",
        "grafana:alerting/notificationPolicy:NotificationPolicy",
        "monitoring:sentry:Alerts",
    ):
        assert expected in types, f"{expected} not registered; got {sorted(types)}"
    assert any("uptimerobot" in t.lower() for t in types)
    names = [(r.type_, r.name) for r in mocks.resources]
    assert len(names) == len(set(names)), "resource names must be unique per type"
    dashboards = [r for r in mocks.resources if r.type_ == "grafana:oss/dashboard:Dashboard"]
    assert len(dashboards) == 4


def test_bad_config_stops_before_any_resource(mocks_for: Any) -> None:
    config = _stack_config("production")
    services = json.loads(config["monitoring:services"])
    services[0]["alerts"]["api_high_error_rate"]["threshold"] = "5%"
    config["monitoring:services"] = json.dumps(services)
    mocks = mocks_for("production", config)
    with pytest.raises(ConfigError, match=r"api_high_error_rate\.threshold"):
        from infra.program import run

        run()
    assert mocks.resources == []


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_grafana_disabled_registers_no_grafana_resource(stack: str, mocks_for: Any) -> None:
    config = _stack_config(stack)
    grafana = json.loads(config["monitoring:grafana"])
    config["monitoring:grafana"] = json.dumps({**grafana, "enabled": False})
    mocks = mocks_for(stack, config)
    _run()
    types = {r.type_ for r in mocks.resources}
    assert "monitoring:sentry:Alerts" in types, f"the rest must still register; got {types}"
    assert any("uptimerobot" in t.lower() for t in types)
    grafana_types = sorted(t for t in types if "grafana" in t.lower())
    assert grafana_types == [], f"grafana.enabled: false still registered {grafana_types}"


PING = "https://heartbeat.uptimerobot.com/PING-DO-NOT-LEAK"


class _HeartbeatMocks(RecordingMocks):
    """As UptimeRobot does, the heartbeat monitor answers with its ping URL."""

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        id_, outs = super().new_resource(args)
        if args.typ.endswith("uptimerobot:Heartbeat"):
            outs = {**outs, "heartbeat_url": PING}
        return id_, outs


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_the_watchdog_contact_point_pings_the_heartbeats_url_as_a_secret(stack: str) -> None:
    from pulumi.runtime import rpc

    mocks = _HeartbeatMocks()
    pulumi.runtime.set_mocks(mocks, project="monitoring", stack=stack, preview=False)
    pulumi.runtime.set_all_config(_stack_config(stack), list(SECRETS))
    try:
        _run()
    finally:
        pulumi.runtime.set_all_config({})
    [point] = [r for r in mocks.resources if r.name == "routing-heartbeat"]
    webhooks = point.inputs["webhooks"]
    assert rpc.is_rpc_secret(webhooks), "the ping URL must reach Grafana as a secret"
    [webhook] = rpc.unwrap_rpc_secret(webhooks)
    assert webhook["url"] == PING
    [policy] = [r for r in mocks.resources if r.type_.endswith("NotificationPolicy")]
    [info] = [p for p in policy.inputs["policies"] if p["matchers"][0]["value"] == "info"]
    assert info["repeatInterval"] == "300s", "a ping at least every heartbeat interval"
    others = [r for r in mocks.resources if r.name != "routing-heartbeat"]
    assert PING not in repr([r.inputs for r in others if "Heartbeat" not in r.type_])

"""Grafana contact points and notification policy (infra/components/routing.py) under mocks.

The central check: for every stack, severity and service, the receivers amtool resolves on
the rendered alertmanager.yml equal the contact points reached by walking the Grafana
notification policy that the component registered.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from infra.components.routing import TYPE_TOKEN, AlertRouting, notification_policy_args
from infra.config import Severity, StackConfig, load_stack
from infra.render.alertmanager import alertmanager_path, render_alertmanager_artifacts
from infra.validate_routing import resolve_receivers
from tests.pulumi_mocks import RecordingMocks, Registered

STACKS = ("production", "staging")
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
needs_amtool = pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")


def _secret_value(stack: str, name: str) -> str:
    return f"SECRET-{stack}-{name}-c41d"


def _build(stack: str, cfg: StackConfig | None = None) -> RecordingMocks:
    """Register the component for ``stack`` (its stack file, or ``cfg``) under fresh mocks and
    wait for every resource."""
    cfg = cfg or load_stack(stack)
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="monitoring", stack=stack, preview=False)
    keys = [f"monitoring:{ref.secret}" for ref in cfg.routing.secret_refs()]
    pulumi.runtime.set_all_config(
        {key: _secret_value(stack, key.partition(":")[2]) for key in keys}, keys
    )

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the Pulumi SDK leaves it untyped
    def register() -> pulumi.Output[Any]:
        routing = AlertRouting("routing", cfg)
        ids = [cp.id for cp in routing.contact_points.values()]
        return pulumi.Output.all(routing.policy.id, *ids)

    register()
    assert mocks.resources, "nothing was registered: the component never ran"
    return mocks


@pytest.fixture(scope="module")
def registered() -> Iterator[dict[str, RecordingMocks]]:
    yield {stack: _build(stack) for stack in STACKS}
    pulumi.runtime.set_all_config({})


# --------------------------------------------------------------------------- policy walk


def _matches(matcher: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    value = labels.get(str(matcher["label"]), "")
    if matcher["match"] == "=":
        return value == str(matcher["value"])
    if matcher["match"] == "!=":
        return value != str(matcher["value"])
    if matcher["match"] == "=~":  # Alertmanager/Grafana regexes are anchored
        return re.fullmatch(str(matcher["value"]), value) is not None
    raise AssertionError(f"walker does not handle match {matcher['match']!r}")


def walk_policy(
    node: Mapping[str, Any], labels: Mapping[str, str], inherited: str = ""
) -> list[str]:
    """Contact points an alert reaches: Alertmanager semantics (depth first, first match
    wins unless ``continue``; a node without a matching child uses its own contact point)."""
    own = str(node.get("contactPoint") or inherited)
    reached: list[str] = []
    for child in node.get("policies") or []:
        if all(_matches(m, labels) for m in child.get("matchers") or []):
            reached.extend(walk_policy(child, labels, own))
            if not child.get("continue"):
                break
    return reached or [own]


def _policy(mocks: RecordingMocks) -> Registered:
    (policy,) = mocks.of_type(POLICY)
    return policy


# --------------------------------------------------------------------------- the table


def _label_sets() -> list[tuple[str, Severity, str]]:
    table = []
    for stack in STACKS:
        services = [s.name for s in load_stack(stack).services] + ["another-service"]
        table += [(stack, sev, service) for sev in Severity for service in services]
    return table


@needs_amtool
@pytest.mark.parametrize(("stack", "severity", "service"), _label_sets())
def test_amtool_and_the_grafana_policy_choose_the_same_receivers(
    stack: str,
    severity: Severity,
    service: str,
    registered: dict[str, RecordingMocks],
    tmp_path: Path,
) -> None:
    cfg = load_stack(stack)
    path = tmp_path / "alertmanager.yml"
    path.write_text(render_alertmanager_artifacts(cfg, stack)[alertmanager_path(stack)])
    labels = {"severity": severity.value, "service": service, "environment": cfg.environment}

    from_amtool = resolve_receivers(path, [f"{k}={v}" for k, v in labels.items()])
    from_grafana = walk_policy(_policy(registered[stack]).inputs, labels)

    assert from_amtool is not None
    assert list(from_amtool) == from_grafana
    assert set(from_grafana) == set(cfg.routing.receivers_for(severity))
    contact_points = {r.inputs["name"] for r in registered[stack].of_type(CONTACT_POINT)}
    assert set(from_grafana) <= contact_points


# --------------------------------------------------------------------------- resources


@pytest.mark.parametrize("stack", STACKS)
def test_one_contact_point_per_receiver_and_one_policy_inside_the_component(
    stack: str, registered: dict[str, RecordingMocks]
) -> None:
    mocks, cfg = registered[stack], load_stack(stack)
    assert [r.name for r in mocks.of_type(TYPE_TOKEN)] == ["routing"]
    assert sorted(r.inputs["name"] for r in mocks.of_type(CONTACT_POINT)) == sorted(
        r.name for r in cfg.routing.receivers
    )
    assert [r.name for r in mocks.of_type(POLICY)] == ["routing-policy"]


@pytest.mark.parametrize("stack", STACKS)
def test_contact_points_and_policy_go_to_the_stacks_organization(
    stack: str, registered: dict[str, RecordingMocks]
) -> None:
    org_id = load_stack(stack).grafana.org_id
    assert org_id is not None, f"Pulumi.{stack}.yaml must set monitoring:grafana.org_id"
    resources = registered[stack].of_type(CONTACT_POINT) + registered[stack].of_type(POLICY)
    assert {r.name: r.inputs.get("orgId") for r in resources} == {
        r.name: str(org_id) for r in resources
    }


def test_without_an_org_id_contact_points_and_policy_leave_it_to_the_provider() -> None:
    cfg = load_stack("staging")
    mocks = _build(
        "staging",
        cfg.model_copy(update={"grafana": cfg.grafana.model_copy(update={"org_id": None})}),
    )
    pulumi.runtime.set_all_config({})
    resources = mocks.of_type(CONTACT_POINT) + mocks.of_type(POLICY)
    assert len(resources) == len(cfg.routing.receivers) + 1
    assert [r.name for r in resources if "orgId" in r.inputs] == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_policy_carries_the_model_grouping_and_timings(
    stack: str, registered: dict[str, RecordingMocks]
) -> None:
    routing = load_stack(stack).routing
    inputs = _policy(registered[stack]).inputs
    assert inputs["contactPoint"] == routing.default_receiver
    assert inputs["groupBies"] == list(routing.group_by)
    assert (inputs["groupWait"], inputs["groupInterval"], inputs["repeatInterval"]) == (
        routing.group_wait,
        routing.group_interval,
        routing.repeat_interval,
    )


def test_production_contact_points_use_the_right_integrations(
    registered: dict[str, RecordingMocks],
) -> None:
    points = {r.inputs["name"]: r.inputs for r in registered["production"].of_type(CONTACT_POINT)}
    pagerduty = rpc.unwrap_rpc_secret(points["pagerduty-oncall"]["pagerduties"])
    assert pagerduty[0]["integrationKey"] == _secret_value("production", "pagerdutyIntegrationKey")
    assert points["email-oncall"]["emails"][0]["addresses"] == ["oncall@agenzia.ai"]
    slack = rpc.unwrap_rpc_secret(points["slack-alerts"]["slacks"])
    assert slack[0]["recipient"] == "#alerts-production"
    assert slack[0]["url"] == _secret_value("production", "slackWebhookUrl")
    assert points["heartbeat"]["webhooks"][0]["url"].startswith("http://127.0.0.1:9/")


def _plain_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in ``value`` that is NOT inside a Pulumi secret wrapper, with its path."""
    if rpc.is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _plain_strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _plain_strings(item, f"{path}[{i}]")


def _secret_strings(value: Any) -> Iterator[str]:
    if rpc.is_rpc_secret(value):
        yield from (s for _, s in _plain_strings(rpc.unwrap_rpc_secret(value), ""))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _secret_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_strings(item)


@pytest.mark.parametrize("stack", STACKS)
def test_every_secret_input_is_marked_secret(
    stack: str, registered: dict[str, RecordingMocks]
) -> None:
    cfg: StackConfig = load_stack(stack)
    # smtpPassword serves Alertmanager only: Grafana Cloud mails with its own SMTP.
    used_by_grafana = [r for r in cfg.routing.secret_refs() if r.secret != "smtpPassword"]
    values = {_secret_value(stack, ref.secret) for ref in used_by_grafana}
    assert values, "the stack references no secret: nothing to check"
    secret_seen: set[str] = set()
    for resource in registered[stack].resources:
        for path, text in _plain_strings(resource.inputs, resource.name):
            assert not any(v in text for v in values), f"{path} holds a secret in plain text"
        secret_seen.update(_secret_strings(resource.inputs))
    assert values <= secret_seen, f"secrets never sent as secret inputs: {values - secret_seen}"


@pytest.mark.parametrize("stack", STACKS)
def test_no_pulumi_secret_value_appears_in_the_rendered_file(stack: str) -> None:
    cfg = load_stack(stack)
    text = render_alertmanager_artifacts(cfg, stack)[alertmanager_path(stack)]
    for ref in cfg.routing.secret_refs():
        assert _secret_value(stack, ref.secret) not in text


def test_the_policy_args_are_pure_and_mirror_the_alertmanager_tree() -> None:
    routing = load_stack("production").routing
    policies = [
        p
        for p in notification_policy_args(routing)["policies"]
        if p["matchers"][0]["label"] == "severity"
    ]
    assert [(p["contact_point"], p["continue_"]) for p in policies] == [
        (r.receiver, r.continue_) for r in routing.tree()
    ]


def test_grafana_datasource_errors_of_a_critical_rule_never_page() -> None:
    args = notification_policy_args(load_stack("production").routing)
    spec = {
        "contactPoint": args["contact_point"],
        "policies": [
            {
                "contactPoint": p["contact_point"],
                "continue": p["continue_"],
                "matchers": p["matchers"],
            }
            for p in args["policies"]
        ],
    }
    labels = {"alertname": "DatasourceError", "severity": "critical", "service": "agenzia-ai-api"}
    reached = walk_policy(spec, labels)
    assert set(reached) == {"slack-alerts"}

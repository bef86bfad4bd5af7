"""The routing model (infra/config/routing.py): stack routing, validation and the paging guard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError, field_validator

from infra.config import ConfigError, Severity, StackConfig, load_stack
from infra.config.loader import validate_stack
from infra.config.routing import (
    FlatRoute,
    InhibitRule,
    RoutingConfig,
    check_paging,
    never_page_outside_production,
    paging_receivers,
)
from infra.config.types import SecretRef


def _routing(**overrides: Any) -> RoutingConfig:
    data: dict[str, Any] = {
        "receivers": [
            {"type": "pagerduty", "name": "pd", "integration_key": {"secret": "pagerdutyKey"}},
            {"type": "slack", "name": "slack", "channel": "#a", "webhook_url": {"secret": "hook"}},
            {"type": "null", "name": "heartbeat"},
        ],
        "routes": [
            {"severity": "critical", "receivers": ["pd", "slack"]},
            {"severity": "warning", "receivers": ["slack"]},
            {"severity": "info", "receivers": ["heartbeat"]},
        ],
        "default_receiver": "slack",
    }
    data.update(overrides)
    # JSON mode, as the loader uses: strict models read JSON lists as tuples.
    return RoutingConfig.model_validate_json(json.dumps(data))


def test_production_pages_and_mails_critical_and_slacks_warnings() -> None:
    routing = load_stack("production").routing
    assert routing.receivers_for(Severity.critical) == ("pagerduty-oncall", "email-oncall")
    assert routing.receivers_for(Severity.warning) == ("slack-alerts",)
    assert routing.receivers_for(Severity.info) == ("heartbeat",)


def test_staging_sends_critical_to_slack_only() -> None:
    cfg = load_stack("staging")
    assert cfg.routing.receivers_for(Severity.critical) == ("slack-staging",)
    assert paging_receivers(cfg.routing) == {}
    check_paging(cfg.environment, cfg.routing)


def test_a_route_with_two_receivers_becomes_two_siblings_that_continue() -> None:
    assert _routing().tree()[:2] == (
        FlatRoute(Severity.critical, "pd", continue_=True),
        FlatRoute(Severity.critical, "slack", continue_=False),
    )


def test_default_inhibition_silences_warnings_of_the_same_service_and_environment() -> None:
    (rule,) = _routing().inhibit_rules
    assert (rule.source_severity, rule.target_severity) == (Severity.critical, Severity.warning)
    assert rule.equal == ("service", "environment")


def test_secret_refs_lists_each_referenced_secret_once() -> None:
    assert load_stack("production").routing.secret_refs() == (
        SecretRef(secret="pagerdutyIntegrationKey"),
        SecretRef(secret="smtpPassword"),
        SecretRef(secret="slackWebhookUrl"),
    )


def test_an_inline_secret_is_rejected_with_its_path_and_the_fix() -> None:
    production = load_stack("production").model_dump(mode="json", by_alias=True)
    production["routing"]["receivers"][0]["integration_key"] = "0123456789abcdef"
    with pytest.raises(
        ConfigError,
        match=r"routing\.receivers\[0\]\.integration_key: .*"
        r"must be a secret reference.*pulumi config set --secret",
    ):
        validate_stack(production, "Pulumi.production.yaml")


def test_an_smtp_password_without_a_username_is_rejected() -> None:
    receiver = {
        "type": "email",
        "name": "mail",
        "to": ["a@example.com"],
        "from": "am@example.com",
        "smarthost": "smtp.example.com:587",
        "smtp_password": {"secret": "smtpPassword"},
    }
    with pytest.raises(ValidationError, match="add auth_username"):
        _routing(receivers=[*_routing().model_dump(mode="json")["receivers"], receiver])


def test_a_receiver_listed_twice_in_one_route_is_rejected() -> None:
    with pytest.raises(ValidationError, match="listed more than once"):
        _routing(routes=[{"severity": "critical", "receivers": ["pd", "pd"]}])


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("critical", "critical", "would silence itself"),
        ("critical", "info", "Watchdog heartbeat"),
    ],
)
def test_inhibit_rules_that_would_hide_the_wrong_alerts_are_rejected(
    source: str, target: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        InhibitRule.model_validate_json(
            json.dumps({"source_severity": source, "target_severity": target})
        )


def test_a_relative_secrets_dir_is_rejected() -> None:
    with pytest.raises(ValidationError, match="secrets_dir"):
        _routing(secrets_dir="secrets")


# --------------------------------------------------------------------------- paging guard


def test_staging_reaching_pagerduty_is_rejected_naming_the_route_and_the_fix() -> None:
    with pytest.raises(
        ValueError,
        match=r"environment 'staging' must never page anyone.*'pd' from "
        r"monitoring:routing\.routes\[0\] \(severity critical\).*allow_paging: true",
    ):
        check_paging("staging", _routing())


def test_a_pagerduty_default_receiver_counts_as_reachable() -> None:
    routing = _routing(
        routes=[{"severity": "info", "receivers": ["heartbeat"]}], default_receiver="pd"
    )
    assert paging_receivers(routing) == {"pd": "routing.default_receiver"}
    with pytest.raises(ValueError, match=r"monitoring:routing\.default_receiver"):
        check_paging("staging", routing)


def test_an_unreachable_pagerduty_receiver_is_allowed_outside_production() -> None:
    check_paging("staging", _routing(routes=[{"severity": "critical", "receivers": ["slack"]}]))


def test_production_may_page_and_other_stacks_may_when_explicitly_allowed() -> None:
    check_paging("production", _routing())
    check_paging("staging", _routing(allow_paging=True))


# --------------------------------------------------------------------------- wiring in StackConfig


class _WiredStackConfig(StackConfig):
    """StackConfig with the one line infra/config/models.py needs (owned by the lead)."""

    _staging_never_pages = field_validator("routing")(never_page_outside_production)


def _staging_with_pagerduty() -> dict[str, Any]:
    data = load_stack("staging").model_dump(mode="json", by_alias=True)
    data["routing"]["receivers"].append(
        {"type": "pagerduty", "name": "pd", "integration_key": {"secret": "pagerdutyKey"}}
    )
    data["routing"]["routes"][0]["receivers"] = ["pd"]
    return data


def test_the_stack_validator_line_reports_paging_at_monitoring_routing() -> None:
    with pytest.raises(ValidationError) as caught:
        _WiredStackConfig.model_validate_json(json.dumps(_staging_with_pagerduty()))
    (error,) = caught.value.errors()
    assert error["loc"] == ("routing",)
    assert "environment 'staging' must never page anyone" in error["msg"]


def test_the_stack_validator_line_accepts_both_stack_files() -> None:
    for stack in ("production", "staging"):
        data = load_stack(stack).model_dump(mode="json", by_alias=True)
        _WiredStackConfig.model_validate_json(json.dumps(data))


def test_loading_a_staging_stack_that_pages_fails_with_the_config_path() -> None:
    with pytest.raises(ConfigError, match=r"monitoring:routing: environment 'staging' must never"):
        validate_stack(_staging_with_pagerduty(), "Pulumi.staging.yaml")

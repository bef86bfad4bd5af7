"""Bounds of the config: what is physically meaningful loads, the rest fails with one line
naming the key and the bound; messages never repeat a long value or a secret."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ConfigError
from infra.config.baseline import NORMAL_ERROR_RATIO, NORMAL_LATENCY
from infra.config.errors import MAX_PROBLEMS, SECRET_FIELDS
from infra.config.loader import load_stack_text, split_stack_file, validate_stack
from infra.config.models import DEFAULT_LATENCY_BUCKETS, MAX_SERVICES
from infra.config.types import SecretRef, format_le
from infra.render.rules import render_rule_files
from tests.conftest import ROOT

BASE, _ = split_stack_file(
    yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text(encoding="utf-8"))
)


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[parts[-1]] = value
    return data


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_stack(data, "Pulumi.t.yaml")
    return caught.value.problems


def test_the_baseline_is_the_one_the_test_generator_replays() -> None:
    try:
        traffic = importlib.import_module("infra.render.rule_tests_traffic")
    except ModuleNotFoundError:
        traffic = importlib.import_module("infra.render.rule_tests")
    assert traffic.REQS_5XX / (traffic.REQS_OK + traffic.REQS_5XX) == NORMAL_ERROR_RATIO
    assert tuple(traffic.NORMAL_LATENCY) == NORMAL_LATENCY


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("services.0.alerts.api_high_error_rate.for", "2d", "'2d' is longer than 1d"),
        ("services.0.alerts.api_error_budget_burn.page_for", "2h", "'2h' is longer than 1h"),
        ("services.0.slo.window", "1000d", "'1000d' is longer than 90d"),
        ("routing.repeat_interval", "6d", "notification log for 5 days"),
        ("uptimerobot.interval", "2d", "'2d' is longer than 1d"),
        ("prometheus.evaluation_interval", "10m", "'10m' is longer than 5m"),
        ("services.0.alerts.api_high_error_rate.threshold", 0.6, "must be at most 0.5 (got 0.6)"),
        ("services.0.alerts.cache_hit_rate_low.threshold", 1e-9, "one in a million (got 1e-09)"),
        ("services.0.alerts.api_high_latency_p95.threshold_seconds", 1e-4, "between 0.001 (1 ms)"),
        ("services.0.slo.latency_objective", 99.0, "write 0.99 for 99%"),
        ("costs.supabase_storage_limit_bytes", 2**55, "less than or equal to 1125899906842624"),
        ("services.0.alerts.twilio_message_failure_rate_high.channels", ["a"] * 21, "at most 20"),
        ("routing.group_by", ["alertname"] * 11, "at most 10"),
    ],
)
def test_a_value_past_its_bound_names_the_bound(path: str, value: Any, expected: str) -> None:
    problems = _problems(_with(path, value))
    key = "monitoring:" + path.replace(".0.", "[0].").replace(".1.", "[1].")
    assert any(p.startswith(key) and expected in p for p in problems), problems


def test_values_at_their_bounds_load() -> None:
    data = _with("services.0.alerts.api_high_error_rate.for", "1d")
    data["services"][0]["alerts"]["api_high_error_rate"]["threshold"] = 0.5
    data["services"][0]["slo"]["availability"] = 0.99
    data["routing"]["repeat_interval"] = "5d"
    validate_stack(data, "Pulumi.t.yaml")


def test_burn_rate_tiers_must_stay_apart() -> None:
    windows = {
        "page": [{"burn_rate": 4, "long_window": "1h", "short_window": "5m"}],
        "ticket": [{"burn_rate": 3, "long_window": "1d", "short_window": "2h"}],
    }
    problems = _problems(_with("services.0.alerts.api_error_budget_burn", windows))
    assert "ticket burn rate 3 must be at most half the slowest page burn rate 4" in problems[0]


def test_a_short_window_must_be_shorter_than_its_long_window() -> None:
    windows = {"page": [{"burn_rate": 14.4, "long_window": "5m", "short_window": "1h"}]}
    problems = _problems(_with("services.0.alerts.api_error_budget_burn", windows))
    assert "short_window 1h must be shorter than long_window 5m" in problems[0]


def test_more_services_than_the_bound_are_rejected() -> None:
    services = [
        {**BASE["services"][0], "name": f"svc-{i}", "job": f"svc_{i}"}
        for i in range(MAX_SERVICES + 1)
    ]
    problems = _problems(_with("services", services))
    assert problems == [
        f"monitoring:services: Tuple should have at most {MAX_SERVICES} items after "
        f"validation, not {MAX_SERVICES + 1}"
    ]


# --------------------------------------------------------------------------- the le bucket


def test_bucket_bounds_are_written_as_clients_write_them() -> None:
    assert [format_le(b) for b in (0.2, 0.1234567, 1.0, 0.005, 2.5, 10.0)] == [
        "0.2",
        "0.1234567",
        "1",
        "0.005",
        "2.5",
        "10",
    ]


def test_the_default_buckets_hold_the_seed_thresholds() -> None:
    assert 0.2 in DEFAULT_LATENCY_BUCKETS and 0.5 in DEFAULT_LATENCY_BUCKETS


def test_a_declared_seven_digit_bucket_is_rendered_exactly() -> None:
    data = _with("services.0.latency_buckets", [0.1, 0.2345678, 0.5, 1])
    data["services"][0]["slo"]["latency_threshold_seconds"] = 0.2345678
    cfg = validate_stack(data, "Pulumi.t.yaml")
    text = "".join(f.text for f in render_rule_files(cfg, "t"))
    assert 'le="0.2345678"' in text and 'le="0.234568"' not in text


def test_buckets_must_increase() -> None:
    problems = _problems(_with("services.0.latency_buckets", [0.2, 0.1]))
    assert problems[0].startswith("monitoring:services[0].latency_buckets: list each bucket once")


# --------------------------------------------------------------------------- messages


def test_a_long_value_is_cut_in_the_message() -> None:
    problems = _problems(_with("services.0.base_url", "https://" + "a" * 100_000 + " x"))
    assert len(problems[0]) < 300
    assert "(100010 characters)" in problems[0]


def test_a_wrongly_typed_secret_name_is_not_repeated() -> None:
    token = 31415926535897932
    problems = _problems(_with("routing.receivers.0.integration_key", {"secret": token}))
    assert problems and all(str(token) not in p for p in problems)


def test_a_key_inside_a_secret_reference_is_not_repeated() -> None:
    ref = {"secret": "slackWebhookUrl", "https://hooks.slack.com/services/T0/B0/abc": 1}
    problems = _problems(_with("routing.receivers.2.webhook_url", ref))
    assert problems == [
        "monitoring:routing.receivers[2].webhook_url.<key not shown>: unknown key; "
        "remove it or check its spelling against the documented keys"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "https://hooks.slack.com/services/T0FUZZ000/B0FUZZ000/NotARealWebhookToken1",
        "e93facc04764012d7bfb002500d5d1a6",
        "xoxb-123456789012-abcdef",
        "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9",
        "glsa_abc_def",
        "a",
        "x" * 49,
    ],
)
def test_a_secret_looking_name_is_rejected_without_echo(value: str) -> None:
    problems = _problems(_with("routing.receivers.2.webhook_url", {"secret": value}))
    assert problems[0].startswith("monitoring:routing.receivers[2].webhook_url.secret: is not a")
    assert len(value) < 8 or value[:8] not in problems[0]


@pytest.mark.parametrize(
    "name",
    [
        "pagerdutyIntegrationKey",
        "smtpPassword",
        "slackWebhookUrl",
        "uptimerobotApiKey",
        "sentryAuthToken",
        "slackWebhookUrl2",
    ],
)
def test_the_secret_names_in_use_are_names(name: str) -> None:
    assert SecretRef(secret=name).secret == name


def test_every_secret_reference_field_is_known_to_the_loader() -> None:
    assert {"integration_key", "smtp_password", "webhook_url", "auth_token", "api_key"} <= set(
        SECRET_FIELDS
    )


@pytest.mark.parametrize(
    ("receiver", "field"),
    [
        ({"to": ["{{ .CommonLabels.team }}@agenzia.ai"]}, "to[0]"),
        ({"from": "alerts-{{ .Status }}@agenzia.ai"}, "from"),
        ({"auth_username": "{{ .ExternalURL }}"}, "auth_username"),
    ],
)
def test_template_syntax_in_a_sent_field_is_rejected(receiver: dict[str, Any], field: str) -> None:
    data = copy.deepcopy(BASE)
    data["routing"]["receivers"][1].update(receiver)
    problems = _problems(data)
    assert any(
        p.startswith(f"monitoring:routing.receivers[1].{field}:") and "template syntax" in p
        for p in problems
    ), problems


def test_one_error_lists_at_most_its_limit_of_problems() -> None:
    data = _with("costs", {f"unknown{i}": i for i in range(100)})
    problems = _problems(data)
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == "monitoring: … and 80 more problems; fix those above first"


def _utf8(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False  # not-utf8.yaml: load_stack reads it as bytes (test_config_loader)
    return True


BAD_TEXT_FIXTURES = [
    p for p in sorted((ROOT / "tests/fixtures/config/bad").glob("*.yaml")) if _utf8(p)
]


@pytest.mark.parametrize("fixture", BAD_TEXT_FIXTURES, ids=lambda p: p.stem)
def test_every_bad_fixture_is_a_short_message_one_line_per_problem(fixture: Path) -> None:
    text = fixture.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_stack_text(text, "Pulumi.t.yaml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 + len(caught.value.problems) <= 1 + MAX_PROBLEMS + 1
    assert all(len(line) < 600 for line in lines), max(lines, key=len)
    assert "hooks.slack.com" not in str(caught.value)
    assert "e93facc04764012d7bfb002500d5d1a6" not in str(caught.value)


# --------------------------------------------------------------------------- YAML text


def test_yaml_aliases_within_the_bound_still_work() -> None:
    text = (ROOT / "Pulumi.production.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  monitoring:routing:",
        "  monitoring:dashboards: &dash {refresh: 1m}\n  monitoring:routing:",
    ).replace("  monitoring:costs:", "  monitoring:x-unused: *dash\n  monitoring:costs:")
    with pytest.raises(ConfigError, match=r"monitoring:x-unused: unknown key"):
        load_stack_text(text, "Pulumi.t.yaml")


def test_a_file_over_the_size_bound_is_rejected_before_parsing() -> None:
    with pytest.raises(ConfigError, match="a stack file is at most 1 MiB"):
        load_stack_text("#" * (1024 * 1024 + 1), "Pulumi.t.yaml")

"""The stack loader: good and bad fixture files, and error messages that name path and fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from infra.config import ConfigError, load_stack
from infra.config.loader import split_stack_file
from infra.config.types import format_duration, parse_duration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "config"
GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def _as_stack(fixture: Path, tmp_path: Path) -> str:
    shutil.copy(fixture, tmp_path / "Pulumi.t.yaml")
    return "t"


def _expected(fixture: Path) -> str:
    first = fixture.read_bytes().split(b"\n")[0].decode("utf-8")  # a fixture may not be UTF-8
    assert first.startswith("# expect: "), f"{fixture.name} must start with '# expect: …'"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("fixture", GOOD, ids=lambda p: p.stem)
def test_good_fixture_loads(fixture: Path, tmp_path: Path) -> None:
    cfg = load_stack(_as_stack(fixture, tmp_path), tmp_path)
    assert cfg.services, "a valid stack has at least one service"


@pytest.mark.parametrize("fixture", BAD, ids=lambda p: p.stem)
def test_bad_fixture_names_the_path_and_the_fix(fixture: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack(_as_stack(fixture, tmp_path), tmp_path)
    message = str(caught.value)
    assert message.startswith("Pulumi.t.yaml: invalid monitoring config:")
    assert _expected(fixture) in message


def test_both_real_stacks_load_with_seed_defaults(production, staging) -> None:  # type: ignore[no-untyped-def]
    api = production.services[0]
    assert api.alerts.api_high_error_rate.threshold == 0.01
    assert api.alerts.api_high_latency_p95.threshold_seconds == 0.5
    assert api.alerts.cache_hit_rate_low.threshold == 0.8
    assert api.alerts.twilio_message_failure_rate_high.threshold == 0.05
    assert api.alerts.supabase_storage_near_limit.threshold == 0.9
    assert api.slo.availability == 0.999 and api.slo.latency_threshold_seconds == 0.2
    assert (
        production.uptimerobot.interval == "5m" and production.uptimerobot.consecutive_failures == 2
    )
    assert production.sentry.traces_sample_rate == 0.1
    assert staging.sentry.traces_sample_rate == 1.0


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (FIXTURES / "bad" / "negative-duration.yaml").read_text(encoding="utf-8")
    text = text.replace(
        'alerts: {api_health_check_down: {for: "-5m"}}',
        'alerts: {api_health_check_down: {for: "-5m"}, cache_hit_rate_low: {threshold: 2}}',
    )
    (tmp_path / "Pulumi.t.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_stack("t", tmp_path)
    assert len(caught.value.problems) == 2


def test_secret_values_are_never_read(tmp_path: Path) -> None:
    document = {
        "config": {
            "monitoring:environment": "production",
            "monitoring:slackWebhookUrl": {"secure": "v1:ZW5jcnlwdGVk"},
            "grafana:url": "https://example.grafana.net",
        }
    }
    settings, secrets = split_stack_file(document)
    assert settings == {"environment": "production"}
    assert secrets == {"slackWebhookUrl"}


def test_missing_stack_file_lists_the_stacks(tmp_path: Path) -> None:
    shutil.copy(GOOD[0], tmp_path / "Pulumi.staging.yaml")
    with pytest.raises(ConfigError, match=re.escape("use one of: staging")):
        load_stack("prod", tmp_path)


def test_malformed_yaml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text("config: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_stack("t", tmp_path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("3d", 259200), ("1d2h3m4s", 93784)],
)
def test_durations_round_trip(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "-5m", "5m-", "1.5h"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)

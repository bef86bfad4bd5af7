"""The rendered rules, checked and unit-tested by the real promtool.

Each stack is rendered from its config into a temporary folder (so these tests do not depend
on the committed files; `test_committed_artifacts_are_fresh` covers those), then
``promtool check rules`` and ``promtool test rules`` run on it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import StackConfig
from infra.config.loader import validate_stack
from infra.render.artifacts import render_stack
from infra.render.rule_tests import render_rule_test_files
from infra.render.rules import render_rule_artifacts
from infra.validate import check_rules, run_rule_tests

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None, reason="run ./scripts/setup")


def _write(files: dict[str, str], root: Path) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _render(cfg: StackConfig, stack: str, root: Path) -> Path:
    _write(render_stack(cfg, stack), root)
    return root / "alert_rules" / stack


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_promtool_check_rules_passes(
    stack: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    cfg: StackConfig = request.getfixturevalue(stack)
    result = check_rules(_render(cfg, stack, tmp_path))
    assert result.ok, result.output
    assert result.output.count("SUCCESS") == 9


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_promtool_unit_tests_pass_for_every_alert(
    stack: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    cfg: StackConfig = request.getfixturevalue(stack)
    stack_dir = _render(cfg, stack, tmp_path)
    result = run_rule_tests(stack_dir)
    assert result.ok, result.output
    document = yaml.safe_load(
        (stack_dir / "tests" / "agenzia-ai-api.test.yml").read_text(encoding="utf-8")
    )
    tested = {
        t["alertname"]
        for case in document["tests"]
        for t in case.get("alert_rule_test", [])
        if t["exp_alerts"]
    }
    assert tested == {
        "ApiHealthCheckDown",
        "ApiHighErrorRate",
        "DatabaseConnectionFailures",
        "RedisUnavailable",
        "ApiHighLatencyP95",
        "CacheHitRateLow",
        "TwilioMessageFailureRateHigh",
        "ApiErrorBudgetBurn",
        "ApiLatencyBudgetBurn",
        "SupabaseStorageNearLimit",
        "Watchdog",
    }


def test_every_scenario_checks_both_sides_of_the_for_boundary(production: StackConfig) -> None:
    text = render_rule_test_files(production, "production")[
        "alert_rules/production/tests/agenzia-ai-api.test.yml"
    ]
    for case in yaml.safe_load(text)["tests"]:
        if case["name"].startswith("normal day"):
            continue
        checks = case["promql_expr_test"]
        silent = {c["eval_time"] for c in checks if not c["exp_samples"]}
        firing = {c["eval_time"] for c in checks if c["exp_samples"]}
        assert len(firing) == 1, case["name"]
        (fires_at,) = firing
        assert f"{int(fires_at[:-1]) - 1}m" in silent, case["name"]


def _data(cfg: StackConfig) -> dict[str, Any]:
    return json.loads(cfg.model_dump_json(by_alias=True))


def _run_tests(
    rules_cfg: StackConfig, tests_cfg: StackConfig, root: Path
) -> subprocess.CompletedProcess[str]:
    """Rules from one config, promtool tests from another: a stale or wrong rule must fail."""
    _write(render_rule_artifacts(rules_cfg, "production"), root)
    _write(render_rule_test_files(tests_cfg, "production"), root)
    tests_dir = root / "alert_rules" / "production" / "tests"
    return subprocess.run(
        ["promtool", "test", "rules", "agenzia-ai-api.test.yml"],
        cwd=tests_dir,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("alert", "field", "value"),
    [
        ("api_high_error_rate", "for", "6m"),  # fires a minute late
        ("cache_hit_rate_low", "threshold", 0.3),  # the fault no longer crosses it
        ("api_health_check_down", "for", "4m"),  # fires a minute early
    ],
)
def test_the_rule_tests_catch_a_rule_that_drifts_from_config(
    production: StackConfig, tmp_path: Path, alert: str, field: str, value: object
) -> None:
    data = _data(production)
    data["services"][0]["alerts"][alert][field] = value
    drifted = validate_stack(data, "x")
    result = _run_tests(drifted, production, tmp_path)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_the_rule_tests_follow_a_changed_threshold(production: StackConfig, tmp_path: Path) -> None:
    data = _data(production)
    data["services"][0]["alerts"]["api_high_error_rate"]["threshold"] = 0.2
    data["services"][0]["alerts"]["twilio_message_failure_rate_high"]["threshold"] = 0.3
    data["services"][0]["slo"]["availability"] = 0.99
    changed = validate_stack(data, "x")
    result = _run_tests(changed, changed, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stack_of_several_services_passes_its_rule_tests(
    production: StackConfig, tmp_path: Path
) -> None:
    data = _data(production)
    worker = json.loads(json.dumps(data["services"][0]))
    worker.update(name="lead-worker", job="lead_worker", base_url="https://worker.agenzia.ai")
    worker["alerts"]["api_high_error_rate"]["threshold"] = 0.05
    data["services"].append(worker)
    cfg = validate_stack(data, "x")
    stack_dir = _render(cfg, "production", tmp_path)
    assert sorted(p.name for p in (stack_dir / "tests").iterdir()) == [
        "agenzia-ai-api.test.yml",
        "lead-worker.test.yml",
    ]
    result = run_rule_tests(stack_dir)
    assert result.ok, result.output
    assert result.output.count("SUCCESS") == 2

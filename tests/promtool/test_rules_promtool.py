"""The rendered rules, checked and unit-tested by the real promtool, under Prometheus 2 and 3.

Each stack is rendered from its config into a temporary folder (so these tests do not depend
on the committed files; `test_committed_artifacts_are_fresh` covers those), then
``promtool check rules`` and ``promtool test rules`` run on it, once with Debian's promtool
(Prometheus 2.42) and once with a Prometheus 3 one (``$PROMTOOL3``, else
``.tools/prom3/promtool``, built by ``./scripts/build-promtool3``). Without a Prometheus 3
promtool its cases are skipped, except under ``CI``, where they fail.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cli import main
from infra.config import StackConfig
from infra.config.loader import validate_stack
from infra.render.artifacts import render_stack
from infra.render.rule_tests import render_rule_test_files
from infra.render.rule_tests_rates import Engine, rate
from infra.render.rule_tests_traffic import cumulative, encode
from infra.render.rules import render_rule_artifacts
from infra.validate import (
    PROMTOOL3_HINT,
    Check,
    Promtool,
    PromtoolMissing,
    check_rules,
    debian_promtool,
    in_ci,
    prometheus3_promtool,
    run_rule_tests,
)

ROOT = Path(__file__).resolve().parents[2]


def _promtool(which: str) -> Promtool:
    if which == "prometheus2":
        if shutil.which("promtool") is None:
            pytest.skip("Debian's promtool is not installed; run ./scripts/setup")
        return debian_promtool()
    try:
        return prometheus3_promtool(ROOT)
    except PromtoolMissing as exc:
        if in_ci():
            pytest.fail(f"{exc}; {PROMTOOL3_HINT} (CI is set: the Prometheus 3 cases must run)")
        pytest.skip(f"{exc}; {PROMTOOL3_HINT}")


@pytest.fixture(params=["prometheus2", "prometheus3"])
def promtool(request: pytest.FixtureRequest) -> Promtool:
    """Each promtool in turn: Debian's (Prometheus 2.42), then the Prometheus 3 one."""
    return _promtool(request.param)


def _engine(promtool: Promtool) -> Engine:
    return (
        Engine.PROMETHEUS_2 if promtool.label.startswith("Prometheus 2.") else Engine.PROMETHEUS_3
    )


def _write(files: dict[str, str], root: Path) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _render(cfg: StackConfig, stack: str, root: Path) -> Path:
    _write(render_stack(cfg, stack), root)
    return root / "alert_rules" / stack


def test_each_promtool_names_its_prometheus_version(
    promtool: Promtool, request: pytest.FixtureRequest
) -> None:
    major = request.node.callspec.params["promtool"].removeprefix("prometheus")
    assert re.fullmatch(rf"Prometheus {major}\.\d+", promtool.label), promtool


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_promtool_check_rules_passes(
    stack: str, promtool: Promtool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    cfg: StackConfig = request.getfixturevalue(stack)
    result = check_rules(_render(cfg, stack, tmp_path), promtool)
    assert result.ok, result.output
    assert result.output.count("SUCCESS") == 9
    assert result.name == f"promtool check rules ({promtool.label})"


@pytest.mark.parametrize("stack", ["production", "staging"])
def test_promtool_unit_tests_pass_for_every_alert(
    stack: str, promtool: Promtool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    cfg: StackConfig = request.getfixturevalue(stack)
    stack_dir = _render(cfg, stack, tmp_path)
    result = run_rule_tests(stack_dir, promtool)
    assert result.ok, result.output
    assert result.name == f"promtool test rules ({promtool.label})"
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
        # labels and annotations are pinned at the boundary or after it, never before
        (pinned,) = case["alert_rule_test"]
        assert int(pinned["eval_time"][:-1]) >= int(fires_at[:-1]), case["name"]


def test_the_rate_model_matches_each_promtool(promtool: Promtool, tmp_path: Path) -> None:
    """The generator computes onsets and values with a model of each engine's ``rate()``;
    every value it predicts is what that engine's promtool computes (to 1e-9), across a
    fault's start, where Prometheus 2 and 3 disagree."""
    engine = _engine(promtool)
    errors = cumulative([0.5] * 60 + [1000.0] * 100)
    ok = cumulative([999.5] * 60 + [0.0] * 100)
    checks = []
    for minute in (1, 5, 60, 61, 62, 63, 65, 100, 119, 120, 121):
        for window in (5, 60, 120):
            for name, samples in (("errors", errors), ("ok", ok)):
                expected = rate(samples, minute, window, engine)
                if math.isnan(expected):  # fewer than two samples: no result at all
                    continue
                checks.append(
                    {
                        "expr": f"abs(rate({name}[{window}m]) - {expected!r}) <= bool 1e-9",
                        "eval_time": f"{minute}m",
                        "exp_samples": [{"labels": "{}", "value": 1}],
                    }
                )
    document = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": "errors", "values": encode(errors)},
                    {"series": "ok", "values": encode(ok)},
                ],
                "promql_expr_test": checks,
            }
        ],
    }
    (tmp_path / "model.test.yml").write_text(yaml.safe_dump(document), encoding="utf-8")
    result = subprocess.run(
        [promtool.command, "test", "rules", "model.test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(checks) > 50


def _data(cfg: StackConfig) -> dict[str, Any]:
    return json.loads(cfg.model_dump_json(by_alias=True))


def _run_tests(
    rules_cfg: StackConfig, tests_cfg: StackConfig, root: Path, promtool: Promtool
) -> subprocess.CompletedProcess[str]:
    """Rules from one config, promtool tests from another: a stale or wrong rule must fail."""
    _write(render_rule_artifacts(rules_cfg, "production"), root)
    _write(render_rule_test_files(tests_cfg, "production"), root)
    tests_dir = root / "alert_rules" / "production" / "tests"
    return subprocess.run(
        [promtool.command, "test", "rules", "agenzia-ai-api.test.yml"],
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
    production: StackConfig,
    promtool: Promtool,
    tmp_path: Path,
    alert: str,
    field: str,
    value: object,
) -> None:
    data = _data(production)
    data["services"][0]["alerts"][alert][field] = value
    drifted = validate_stack(data, "x")
    result = _run_tests(drifted, production, tmp_path, promtool)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_the_rule_tests_follow_a_changed_threshold(
    production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    data = _data(production)
    data["services"][0]["alerts"]["api_high_error_rate"]["threshold"] = 0.2
    data["services"][0]["alerts"]["twilio_message_failure_rate_high"]["threshold"] = 0.3
    data["services"][0]["slo"]["availability"] = 0.99
    changed = validate_stack(data, "x")
    result = _run_tests(changed, changed, tmp_path, promtool)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stack_of_several_services_passes_its_rule_tests(
    production: StackConfig, promtool: Promtool, tmp_path: Path
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
    result = run_rule_tests(stack_dir, promtool)
    assert result.ok, result.output
    assert result.output.count("SUCCESS") == 2


def test_a_single_14x_latency_page_window_passes_under_both_engines(
    production: StackConfig, promtool: Promtool, tmp_path: Path
) -> None:
    # The textbook page tier alone: its full-outage fault crosses the threshold between the two
    # engines' window edges (onset minute 104 vs 103); the generator must move the fault until
    # both engines agree, instead of giving up (found by the config fuzz test).
    data = _data(production)
    burn = data["services"][0]["alerts"]["api_latency_budget_burn"]
    burn["page"] = burn["page"][:1]
    cfg = validate_stack(data, "x")
    stack_dir = _render(cfg, "production", tmp_path)
    result = run_rule_tests(stack_dir, promtool)
    assert result.ok, result.output


# A service name is a slug: 1-40 lowercase letters, digits and '-'. "1e3" is one, yet a YAML
# 1.2 reader (Go's included) takes it for a float; the other is 39 characters, starts with a
# digit, and comes with a job name using every other character a job may hold.
UNUSUAL_NAMES = [("1e3", None), ("9-" + "a1-" * 12 + "z", "Lead_Worker.v2:api-0")]


@pytest.mark.parametrize(("name", "job"), UNUSUAL_NAMES, ids=[n for n, _ in UNUSUAL_NAMES])
def test_an_unusual_service_name_passes_its_rule_tests(
    production: StackConfig, promtool: Promtool, tmp_path: Path, name: str, job: str | None
) -> None:
    data = _data(production)
    data["services"][0].update(name=name, job=job)
    cfg = validate_stack(data, "x")
    stack_dir = _render(cfg, "production", tmp_path)
    assert [p.name for p in (stack_dir / "tests").iterdir()] == [f"{name}.test.yml"]
    result = run_rule_tests(stack_dir, promtool)
    assert result.ok, result.output


# --------------------------------------------------------------------------- monitoring validate


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's production stack, rendered, with no Prometheus 3 promtool."""
    for name in ("Pulumi.yaml", "Pulumi.production.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROMTOOL3", raising=False)
    assert main(["render", "--stack", "production"]) == 0
    return tmp_path


def _checks_named_for(
    cfg: StackConfig, stack: str, root: Path, promtools: Sequence[Promtool]
) -> list[Check]:
    """Stands in for the real checks: one passing check per promtool it is given."""
    return [Check(f"promtool test rules ({p.label})", True, "") for p in promtools]


def test_validate_skips_prometheus3_with_a_notice_when_it_is_missing(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("infra.cli.validate_stack_files", _checks_named_for)
    capsys.readouterr()
    assert main(["validate", "--stack", "production"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "skip no Prometheus 3 promtool at .tools/prom3/promtool (PROMTOOL3 is not set); "
        f"skipping the Prometheus 3 checks ({PROMTOOL3_HINT})",
        f"[production] ok   promtool test rules ({debian_promtool().label})",
        "monitoring validate: all checks passed",
    ]


@pytest.mark.parametrize(
    ("environ", "why"),
    [
        ({"CI": "true"}, "CI is set"),
        ({"CI": "1", "PROMTOOL3": "/nonexistent/promtool"}, "CI is set"),
        ({"PROMTOOL3": "/nonexistent/promtool"}, "PROMTOOL3 is set"),
    ],
)
def test_validate_fails_without_a_prometheus3_promtool_under_ci_or_a_wrong_promtool3(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str],
    why: str,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("infra.cli.validate_stack_files", _checks_named_for)
    capsys.readouterr()
    assert main(["validate", "--stack", "production"]) == 1
    where = (
        f"PROMTOOL3={environ['PROMTOOL3']}"
        if "PROMTOOL3" in environ
        else ".tools/prom3/promtool (PROMTOOL3 is not set)"
    )
    assert capsys.readouterr().out.splitlines() == [
        f"FAIL no Prometheus 3 promtool at {where}; required because {why}: {PROMTOOL3_HINT}",
        f"[production] ok   promtool test rules ({debian_promtool().label})",
        "monitoring validate: FAILED",
    ]


def test_validate_runs_every_check_under_both_promtools(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prometheus3 = _promtool("prometheus3")
    _promtool("prometheus2")
    monkeypatch.setenv("PROMTOOL3", prometheus3.command)
    capsys.readouterr()
    assert main(["validate", "--stack", "production"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "[production] ok   promtool check rules (Prometheus 2.42)",
        "[production] ok   promtool test rules (Prometheus 2.42)",
        "[production] ok   promtool check rules (Prometheus 3.16)",
        "[production] ok   promtool test rules (Prometheus 3.16)",
        "[production] ok   amtool check-config + config routes test",
        "monitoring validate: all checks passed",
    ]


def test_promtool3_must_name_a_prometheus3_promtool(tmp_path: Path) -> None:
    debian = _promtool("prometheus2")
    with pytest.raises(PromtoolMissing, match=r"^no Prometheus 3 promtool at PROMTOOL3=/"):
        prometheus3_promtool(tmp_path, {"PROMTOOL3": str(tmp_path / "promtool")})
    with pytest.raises(
        PromtoolMissing, match=r"is not a Prometheus 3 promtool \(its --version says 2\.42\)"
    ) as excinfo:
        prometheus3_promtool(tmp_path, {"PROMTOOL3": shutil.which(debian.command) or ""})
    assert excinfo.value.explicit

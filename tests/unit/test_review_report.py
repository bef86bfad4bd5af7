"""`monitoring diff` around the comparison: errors, revisions without some artifacts, the
comment-size limit, the backtest hook, the command line, and the `provisioned/` artifact."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main as monitoring
from infra.render.artifacts import render_stack
from infra.render.provisioned import provisioned_path
from infra.review.model import Change, StackReport
from infra.review.report import COMMENT_LIMIT, markdown
from tests.conftest import ROOT
from tests.review_repo import PRODUCTION_TEXT, Repo, change_lines, edited, production

Capsys = pytest.CaptureFixture[str]
THRESHOLD_2 = edited(
    "api_high_error_rate: {threshold: 0.01", "api_high_error_rate: {threshold: 0.02"
)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


# --------------------------------------------------------------------------- errors


def test_an_unknown_ref_is_one_line_and_exit_2(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    code, out, err = repo.diff(monkeypatch, capsys, "--base", "no-such-branch")
    assert (code, out) == (2, "")
    assert err == (
        "monitoring diff: git cannot find revision 'no-such-branch'; fetch it first "
        "(e.g. `git fetch origin no-such-branch`)\n"
    )


def test_outside_a_git_repository_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    repo = Repo.__new__(Repo)
    repo.root = tmp_path
    code, out, err = repo.diff(monkeypatch, capsys, "--base", "main")
    assert (code, out) == (2, "")
    assert err.startswith("monitoring diff: ") and "is not inside a git repository" in err
    assert err.count("\n") == 1


def test_an_unknown_stack_is_one_line_and_exit_2(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    code, _out, err = repo.diff(monkeypatch, capsys, "--base", "main", "--stack", "qa")
    assert code == 2
    assert "no artifacts for stack 'qa'" in err and "(stacks with artifacts: production)" in err


def test_a_base_made_before_provisioned_existed_compares_the_rest_and_says_so(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    (repo.root / provisioned_path("production")).unlink()
    base = repo.commit("before provisioned/")
    repo.render(production(THRESHOLD_2), text=THRESHOLD_2)
    repo.commit("head")
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", base, "--head", "HEAD")
    assert code == 1
    assert (
        "> **Not compared:** UptimeRobot monitors, Sentry detectors and workflows, Grafana "
        f"routing and SLOs: `{base[:10]}` has no provisioned/production.json (it was made "
        "before `monitoring render` wrote provisioned/)"
    ) in out
    assert change_lines(out)[0].startswith("ApiHighErrorRate: threshold 1% → 2%")
    assert "### production (2 changes)" in out


def test_a_stack_only_the_head_has_is_reported_as_new(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    staging = (ROOT / "Pulumi.staging.yaml").read_text(encoding="utf-8")
    from infra.config.loader import load_stack_text

    repo.render(load_stack_text(staging, "Pulumi.staging.yaml"), "staging", staging)
    repo.commit("add staging")
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1
    assert "**production**: no change · **staging**:" in out
    assert "> new stack: `HEAD~1`" in out
    assert (
        "ApiHighErrorRate: new alert (critical, threshold 1%, for 5m); notifies slack-staging"
        in out
    )


def test_with_several_services_each_line_names_its_service(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    from infra.config.loader import load_stack_text

    base = (ROOT / "tests/fixtures/config/good/two-services.yaml").read_text(encoding="utf-8")
    head = edited(
        "api_high_error_rate: {threshold: 0.02, for: 10m, severity: warning}",
        "api_high_error_rate: {threshold: 0.03, for: 10m, severity: critical}",
        base,
    )
    for text in (base, head):
        repo.render(load_stack_text(text, "Pulumi.production.yaml"), text=text)
        repo.commit("render")
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1
    assert change_lines(out) == [
        "lead-worker/ApiHighErrorRate: severity warning → critical; threshold 2% → 3%: "
        "now pages pagerduty (was slack)",
        "dashboard `lead-worker · API Health (production)`: panel "
        "`Error rate (5xx share of requests)`: threshold 2% → 3%",
    ]


# --------------------------------------------------------------------------- comment size


def _many(count: int, diff_lines: int) -> StackReport:
    diff = "\n".join(
        f"-old line {i} {'x' * 60}\n+new line {i} {'y' * 60}" for i in range(diff_lines)
    )
    changes = [
        Change("Alerts", f"Alert{i}", "changed", f"Alert{i}: expression changed", diff)
        for i in range(count)
    ]
    return StackReport("production", changes)


def test_long_sections_are_folded() -> None:
    text = markdown([_many(9, 1)], "t")
    assert "<details><summary><b>Alerts</b> (9 changes)</summary>" in text
    assert "<details>" not in markdown([_many(3, 1)], "t")


def test_a_report_past_the_comment_limit_leaves_out_diffs_first_and_says_so() -> None:
    text = markdown([_many(200, 3)], "t", hint="monitoring diff --base main")
    assert len(text) <= COMMENT_LIMIT
    assert "```diff" not in text
    assert "PromQL and query diffs are left out" in text and "`monitoring diff --base main`" in text
    assert len(change_lines(text)) == 200


def test_a_report_still_too_long_cuts_sections_with_a_line_saying_what_is_left_out() -> None:
    text = markdown([_many(3000, 1)], "t", hint="monitoring diff --base main")
    assert len(text) <= COMMENT_LIMIT
    lines = change_lines(text)
    kept = [line for line in lines if line.startswith("Alert")]
    assert 0 < len(kept) < 3000
    assert lines[-1] == (
        f"… {3000 - len(kept)} more alerts changes left out to fit GitHub's 65,536-character "
        "comment limit; `monitoring diff --base main --stack production` lists them all"
    )


# --------------------------------------------------------------------------- backtest hook


def test_prometheus_without_the_backtest_module_is_exit_2(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    monkeypatch.setitem(sys.modules, "infra.review.backtest", None)  # import fails
    code, _out, err = repo.diff(monkeypatch, capsys, "--base", "main", "--prometheus", "http://p")
    assert (code, err) == (2, "monitoring diff: backtest is not available\n")


def test_prometheus_appends_the_backtest_of_the_changed_alerts(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    calls: list[tuple[Any, ...]] = []

    def backtest_markdown(*args: Any, alerts: list[str]) -> str:
        calls.append((*args, alerts))
        return "ApiHighErrorRate would have fired 2 times (was 5)."

    fake = types.ModuleType("infra.review.backtest")
    fake.backtest_markdown = backtest_markdown  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "infra.review.backtest", fake)
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    repo.render(production(THRESHOLD_2), text=THRESHOLD_2)
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", "main", "--prometheus", "http://p")
    assert code == 1
    assert calls == [(repo.root, "main", None, "production", "http://p", ["ApiHighErrorRate"])]
    assert out.endswith("### Backtest\n\nApiHighErrorRate would have fired 2 times (was 5).\n")


# --------------------------------------------------------------------------- the command line


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `monitoring diff` once infra/cli.py registers it; until then the same
    sub-command through a parser that `infra.review.cli.register` builds."""
    monitoring_bin = str(ROOT / ".venv/bin/monitoring")
    probe = subprocess.run([monitoring_bin, "diff", "--help"], capture_output=True, timeout=60)
    registered = probe.returncode == 0
    if registered:
        argv = [monitoring_bin, "diff", *args]
    else:
        code = (
            "import argparse, sys; from infra.review.cli import register; "
            "p = argparse.ArgumentParser(prog='monitoring'); "
            "register(p.add_subparsers(dest='command', required=True)); "
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
        )
        argv = [sys.executable, "-c", code, "diff", *args]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_line_exits_0_1_2(repo: Repo) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    repo.write("Pulumi.production.yaml", "# a comment\n" + PRODUCTION_TEXT)
    repo.commit("comment only")
    same = _cli(repo.root, "--base", "HEAD~1", "--head", "HEAD")
    assert (same.returncode, same.stderr) == (0, "")
    assert "No change in what is provisioned." in same.stdout
    repo.render(production(THRESHOLD_2), text=THRESHOLD_2)
    changed = _cli(repo.root, "--base", "HEAD", "--format", "json")
    assert changed.returncode == 1
    assert json.loads(changed.stdout)["stacks"][0]["changes"][0]["subject"] == "ApiHighErrorRate"
    bad = _cli(repo.root, "--base", "nope")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1


# --------------------------------------------------------------------------- provisioned/


def test_the_provisioned_file_says_it_is_generated_and_holds_only_secret_names() -> None:
    text = (ROOT / "Pulumi.production.yaml").read_text(encoding="utf-8")
    text += "  monitoring:pagerdutyIntegrationKey:\n    secure: v1:U0VDUkVULVZBTFVF\n"
    files = render_stack(production(text), "production")
    body = files["provisioned/production.json"]
    assert body.startswith('{\n  "generated": "Generated by `monitoring render --stack production`')
    assert "U0VDUkVULVZBTFVF" not in body and "secure" not in body
    state = json.loads(body)
    points = {p["name"]: p for p in state["grafana"]["contact_points"]}
    assert points["pagerduty-oncall"]["pagerduties"][0]["integration_key"] == {
        "secret": "pagerdutyIntegrationKey"
    }
    assert points["slack-alerts"]["slacks"][0]["url"] == {"secret": "slackWebhookUrl"}
    assert [m["key"] for m in state["uptimerobot"]["monitors"]] == [
        "agenzia-ai-api-health",
        "agenzia-ai-api-ready",
    ]
    assert state["slos"][0]["error_budget"] == {"ratio": 0.001, "per_window": "43m12s"}


def test_render_check_covers_provisioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    for name in ("Pulumi.yaml", "Pulumi.production.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    assert monitoring(["render", "--stack", "production"]) == 0
    path = tmp_path / "provisioned/production.json"
    path.write_text(path.read_text().replace('"interval": 300', '"interval": 60'))
    capsys.readouterr()
    assert monitoring(["render", "--check", "--stack", "production"]) == 1
    assert "provisioned/production.json" in capsys.readouterr().err
    assert monitoring(["render", "--stack", "production"]) == 0
    assert monitoring(["render", "--check", "--stack", "production"]) == 0

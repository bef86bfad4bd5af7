"""`monitoring diff` on real git histories: a base commit and a head commit, each holding the
stack file and what `monitoring render` writes for it, and the report between them.

Each case is one kind of pull request from issue 13; the report lines are pinned exactly,
because they are what a reviewer reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.config import StackConfig
from tests.review_repo import PRODUCTION_TEXT, Repo, change_lines, edited, production

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


def _pr(
    repo: Repo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capsys,
    head_text: str,
    *,
    base_text: str = PRODUCTION_TEXT,
    head_cfg: StackConfig | None = None,
) -> tuple[int, str]:
    """Commit base and head renders, then `monitoring diff --base <base> --head <head>`."""
    repo.render(production(base_text), text=base_text)
    base = repo.commit("base")
    repo.render(head_cfg or production(head_text), text=head_text)
    head = repo.commit("head")
    code, out, err = repo.diff(monkeypatch, capsys, "--base", base, "--head", head)
    assert err == ""
    return code, out


def test_a_threshold_change_names_the_threshold_and_who_it_still_pages(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited("api_high_error_rate: {threshold: 0.01", "api_high_error_rate: {threshold: 0.02")
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 1
    assert change_lines(out) == [
        "ApiHighErrorRate: threshold 1% → 2%; still pages pagerduty-oncall, email-oncall",
        # the dashboard's threshold line follows the alert's
        "dashboard `agenzia-ai-api · API Health (production)`: panel "
        "`Error rate (5xx share of requests)`: threshold 1% → 2%",
    ]
    assert "### production (2 changes)" in out
    assert "```diff" not in out  # a threshold is a number, not an expression change


def test_a_for_change(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys) -> None:
    head = edited(
        "cache_hit_rate_low: {threshold: 0.8, for: 15m}",
        "cache_hit_rate_low: {threshold: 0.8, for: 30m}",
    )
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 1
    assert change_lines(out) == ["CacheHitRateLow: for 15m → 30m; still notifies slack-alerts"]


def test_a_severity_change_says_who_it_now_pages(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited(
        "cache_hit_rate_low: {threshold: 0.8, for: 15m}",
        "cache_hit_rate_low: {threshold: 0.8, for: 15m, severity: critical}",
    )
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 1
    assert change_lines(out) == [
        "CacheHitRateLow: severity warning → critical: now pages pagerduty-oncall, "
        "email-oncall (was slack-alerts)"
    ]


TWILIO = "twilio_message_failure_rate_high: {threshold: 0.05, for: 10m}"
TWILIO_OFF = "twilio_message_failure_rate_high: {threshold: 0.05, for: 10m, enabled: false}"
TWILIO_RECORDING = (
    "sum by (job, channel) (rate(messages_failed_total"
    '{job="agenzia-ai-api", channel=~"whatsapp"}[5m]))'
)


def test_a_new_alert_shows_its_expression_and_receivers(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    code, out = _pr(
        repo, monkeypatch, capsys, PRODUCTION_TEXT, base_text=edited(TWILIO, TWILIO_OFF)
    )
    assert code == 1
    assert change_lines(out) == [
        "TwilioMessageFailureRateHigh: new alert (warning, threshold 5%, for 10m); "
        "notifies slack-alerts",
        "rule group agenzia-ai-api.messaging.rules: new",
        "job_channel:messages_failed:ratio_rate5m: new recording rule",
    ]
    assert '  +job_channel:messages_failed:ratio_rate5m{job="agenzia-ai-api"} > 0.05' in out
    assert f"  +{TWILIO_RECORDING}" in out


def test_a_removed_alert_says_who_it_used_to_reach(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    code, out = _pr(repo, monkeypatch, capsys, edited(TWILIO, TWILIO_OFF))
    assert code == 1
    assert change_lines(out) == [
        "TwilioMessageFailureRateHigh: removed (was warning, for 10m; notified slack-alerts)",
        "rule group agenzia-ai-api.messaging.rules: removed",
        "job_channel:messages_failed:ratio_rate5m: removed",
    ]
    assert f"  -{TWILIO_RECORDING}" in out


def test_a_routing_change_shows_the_routes_and_every_alert_it_moves(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited(
        "- {severity: warning, receivers: [slack-alerts]}",
        "- {severity: warning, receivers: [slack-alerts, email-oncall]}",
    )
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 1
    lines = change_lines(out)
    moved = "now notifies slack-alerts, email-oncall (was slack-alerts)"
    assert lines[:6] == [
        f"ApiHighLatencyP95: {moved}",
        f"CacheHitRateLow: {moved}",
        f"SupabaseStorageNearLimit: {moved}",
        f"TwilioMessageFailureRateHigh: {moved}",
        f"ApiErrorBudgetBurn [warning]: {moved}",
        f"ApiLatencyBudgetBurn [warning]: {moved}",
    ]
    assert lines[6:9] == [
        'route removed: `severity="warning" → slack-alerts`',
        'route added: `severity="warning" → slack-alerts (continue)`',
        'route added: `severity="warning" → email-oncall`',
    ]
    # the same model feeds Sentry's workflow and Grafana's policy: both follow
    assert (
        "workflow `agenzia-ai (production) - warning alerts`: notifies slack alerts-production "
        "(integration 100002), email team 200001 (was slack alerts-production (integration "
        "100002))"
    ) in lines
    assert 'notification policy route added: `severity="warning" → email-oncall`' in lines
    assert "<details><summary><b>Grafana</b> (6 changes)</summary>" not in out  # 6 fit


def test_an_uptimerobot_interval_change(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited(
        "  monitoring:uptimerobot:\n    interval: 5m", "  monitoring:uptimerobot:\n    interval: 1m"
    )
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 1
    assert change_lines(out) == [
        "monitor `agenzia-ai-api /health (production)`: interval 5m → 1m",
        "monitor `agenzia-ai-api /ready (production)`: interval 5m → 1m",
    ]


def test_a_sentry_threshold_change(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited(
        "    traces_sample_rate: 0.1\n",
        "    traces_sample_rate: 0.1\n    error_rate_threshold: 0.005\n",
    )
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 1
    assert change_lines(out) == [
        "detector `agenzia-ai (production) - Error rate`: threshold 0.1% → 0.5%"
    ]


def test_an_slo_change_says_what_budget_it_leaves(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    code, out = _pr(repo, monkeypatch, capsys, edited("availability: 0.999", "availability: 0.995"))
    assert code == 1
    lines = change_lines(out)
    assert "availability 99.9% → 99.5%: error budget 43m12s → 3h36m per 30d" in lines
    assert (
        "ApiErrorBudgetBurn [critical]: thresholds 1.44% → 7.2%, 0.6% → 3%; "
        "description changed; still pages pagerduty-oncall, email-oncall"
    ) in lines


def test_a_dashboard_panel_change(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """A change in the dashboard code (infra/render/dashboards_specs.py), with no stack file
    change: the head commit's rendered JSON has one query and one threshold moved and one
    panel more."""
    path = "dashboards/production/agenzia-ai-api-cache.json"
    repo.render(production(), text=PRODUCTION_TEXT)
    base = repo.commit("base")
    model = repo.read_json(path)
    lowest = model["panels"][1]
    lowest["targets"][0]["expr"] = 'min(cache_hit_rate{job="agenzia-ai-api", cache!=""})'
    lowest["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = 0.85
    model["panels"].append({**model["panels"][2], "id": 4, "title": "Cache size"})
    repo.write(path, json.dumps(model, indent=2, sort_keys=True) + "\n")
    repo.commit("dashboards: a cache size panel")
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", base, "--head", "HEAD")
    assert code == 1
    assert change_lines(out) == [
        "dashboard `agenzia-ai-api · Cache Performance (production)`: panel `Lowest cache hit rate now`: "
        "query changed; threshold 80% → 85%",
        "dashboard `agenzia-ai-api · Cache Performance (production)`: panel `Cache size` added (timeseries)",
    ]
    assert (
        '  -A: min(cache_hit_rate{job="agenzia-ai-api"})\n'
        '  +A: min(cache_hit_rate{job="agenzia-ai-api", cache!=""})'
    ) in out


def test_a_comment_and_key_order_change_is_no_change(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited(
        "# Production monitoring for agenzia-ai-api.", "# Production monitoring (paying customers)."
    )
    head = edited(
        "api_high_error_rate: {threshold: 0.01, for: 5m}",
        "api_high_error_rate: {for: 5m, threshold: 0.01}",
        head,
    )
    code, out = _pr(repo, monkeypatch, capsys, head)
    assert code == 0
    assert repo.git("diff", "--name-only", "HEAD~1", "HEAD").split() == ["Pulumi.production.yaml"]
    assert change_lines(out) == []
    assert "No change in what is provisioned." in out


def test_a_renamed_template_that_renders_the_same_is_no_change(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    base = repo.commit("base")
    old = repo.root / "alert_rules/production/cache.rules.yml"
    text = old.read_text(encoding="utf-8").replace(
        "templates/cache.yml.j2", "templates/hit_rate.yml.j2"
    )
    old.unlink()
    repo.write("alert_rules/production/hit-rate.rules.yml", text)
    repo.commit("rename the cache template")
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", base, "--head", "HEAD")
    assert (code, change_lines(out)) == (0, [])


def test_a_changed_config_default_moves_the_threshold_with_no_stack_file_change(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    """Production does not set database_connection_failures.max_errors, so it takes the
    model's default (5). Head renders as if infra/config changed that default to 10."""
    assert "database_connection_failures" not in PRODUCTION_TEXT
    cfg = production()
    svc = cfg.services[0]
    db = svc.alerts.database_connection_failures.model_copy(update={"max_errors": 10})
    alerts = svc.alerts.model_copy(update={"database_connection_failures": db})
    head_cfg = cfg.model_copy(update={"services": (svc.model_copy(update={"alerts": alerts}),)})
    code, out = _pr(repo, monkeypatch, capsys, PRODUCTION_TEXT, head_cfg=head_cfg)
    assert code == 1
    assert "Pulumi.production.yaml" not in repo.git("diff", "--name-only", "HEAD~1", "HEAD")
    assert change_lines(out) == [
        "DatabaseConnectionFailures: threshold 5 → 10; still pages pagerduty-oncall, email-oncall"
    ]


def test_head_defaults_to_the_working_tree(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    head = edited("api_high_error_rate: {threshold: 0.01", "api_high_error_rate: {threshold: 0.02")
    repo.render(production(head), text=head)  # not committed
    code, out, _ = repo.diff(monkeypatch, capsys, "--base", "main")
    assert code == 1
    assert "→ working tree" in out
    assert change_lines(out)[0].startswith("ApiHighErrorRate: threshold 1% → 2%")


def test_json_lists_the_same_changes_as_data(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Capsys
) -> None:
    head = edited(
        "cache_hit_rate_low: {threshold: 0.8, for: 15m}",
        "cache_hit_rate_low: {threshold: 0.8, for: 15m, severity: critical}",
    )
    repo.render(production(), text=PRODUCTION_TEXT)
    repo.commit("base")
    repo.render(production(head), text=head)
    repo.commit("head")
    code, out, _ = repo.diff(
        monkeypatch, capsys, "--base", "HEAD~1", "--head", "HEAD", "--format", "json"
    )
    assert code == 1
    report = json.loads(out)
    assert report["changed"] is True
    [stack] = report["stacks"]
    assert stack["stack"] == "production"
    [change] = stack["changes"]
    assert change["section"] == "Alerts" and change["subject"] == "CacheHitRateLow"
    assert change["fields"] == [{"field": "severity", "before": "warning", "after": "critical"}]
    assert change["receivers"] == {
        "before": ["slack-alerts"],
        "after": ["pagerduty-oncall", "email-oncall"],
    }

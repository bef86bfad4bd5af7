"""Grafana folder, dashboards and rule groups (infra/components/grafana*.py) under mocks.

Every rule group must be the rendered rule file's group, rule for rule: same PromQL, labels,
``for``; dashboards must be the rendered JSON, byte for byte.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from infra.components.grafana_rules import (
    GrafanaRuleError,
    grafana_rule_groups,
    largest_range_seconds,
    translate_template,
)
from infra.config import ConfigError, StackConfig, load_from_pulumi, load_stack
from infra.config.types import parse_duration
from infra.render.dashboards import render_dashboard_artifacts
from infra.render.rule_model import Rule, RuleFile, RuleGroup
from infra.render.rules import render_rule_files
from tests.pulumi_mocks import RecordingMocks, Registered

STACKS = ("production", "staging")
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
COMPONENT = "monitoring:grafana:Monitoring"
GRAFANA_URL = "https://agenzia.grafana.net"


def _install(stack: str, config: dict[str, str] | None = None) -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="monitoring", stack=stack, preview=False)
    pulumi.runtime.set_all_config(config or {"grafana:url": GRAFANA_URL}, [])
    return mocks


def _register(cfg: StackConfig | None = None, **kwargs: Any) -> None:
    from infra.components.grafana import GrafanaMonitoring

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the Pulumi SDK leaves it untyped
    def register() -> pulumi.Output[Any]:
        g = GrafanaMonitoring("grafana", cfg or load_from_pulumi(), **kwargs)
        return pulumi.Output.all(g.folder_uid, *g.dashboard_urls.values(), *g.rule_group_names)

    register()


def _build(stack: str) -> RecordingMocks:
    mocks = _install(stack)
    _register(load_stack(stack))
    assert mocks.resources, "nothing was registered: the component never ran"
    return mocks


@pytest.fixture(scope="module")
def registered() -> Iterator[dict[str, RecordingMocks]]:
    yield {stack: _build(stack) for stack in STACKS}
    pulumi.runtime.set_all_config({})


def _rules(group: Registered) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = group.inputs["rules"]
    return rules


def _model(rule: dict[str, Any], ref_id: str) -> dict[str, Any]:
    data = next(d for d in rule["datas"] if d["refId"] == ref_id)
    model: dict[str, Any] = json.loads(data["model"])
    return model


def _find(mocks: RecordingMocks, title: str, severity: str | None = None) -> dict[str, Any]:
    found = [
        r
        for g in mocks.of_type(RULE_GROUP)
        for r in _rules(g)
        if r["name"] == title and (severity is None or r["labels"]["severity"] == severity)
    ]
    assert len(found) == 1, f"{title}/{severity}: {len(found)} rules"
    return found[0]


# --------------------------------------------------------------------------- registration


@pytest.mark.parametrize("stack", STACKS)
def test_every_expected_resource_is_registered_once(
    registered: dict[str, RecordingMocks], stack: str
) -> None:
    mocks = registered[stack]
    cfg = load_stack(stack)
    groups = [g.name for f in render_rule_files(cfg, stack) for g in f.groups]
    assert len(mocks.of_type(COMPONENT)) == 1
    assert len(mocks.of_type(FOLDER)) == 1
    assert len(mocks.of_type(DASHBOARD)) == 4 * len(cfg.services)
    assert sorted(g.inputs["name"] for g in mocks.of_type(RULE_GROUP)) == sorted(groups)
    names = [(r.type_, r.name) for r in mocks.resources]
    assert len(names) == len(set(names)), "resource names must be unique"
    assert {r.type_ for r in mocks.resources} == {COMPONENT, FOLDER, DASHBOARD, RULE_GROUP}


@pytest.mark.parametrize("stack", STACKS)
def test_every_grafana_resource_goes_to_the_stacks_organization(
    registered: dict[str, RecordingMocks], stack: str
) -> None:
    org_id = load_stack(stack).grafana.org_id
    assert org_id is not None, f"Pulumi.{stack}.yaml must set monitoring:grafana.org_id"
    resources = [r for r in registered[stack].resources if r.type_ != COMPONENT]
    assert {r.type_ for r in resources} == {FOLDER, DASHBOARD, RULE_GROUP}
    assert {r.name: r.inputs.get("orgId") for r in resources} == {
        r.name: str(org_id) for r in resources
    }


def test_without_an_org_id_the_resources_leave_the_organization_to_the_provider() -> None:
    mocks = _install("staging")
    cfg = load_stack("staging")
    _register(cfg.model_copy(update={"grafana": cfg.grafana.model_copy(update={"org_id": None})}))
    resources = [r for r in mocks.resources if r.type_ != COMPONENT]
    assert resources
    assert [r.name for r in resources if "orgId" in r.inputs] == []


@pytest.mark.parametrize("stack", STACKS)
def test_folder_and_dashboards_carry_the_rendered_json(
    registered: dict[str, RecordingMocks], stack: str
) -> None:
    mocks = registered[stack]
    cfg = load_stack(stack)
    (folder,) = mocks.of_type(FOLDER)
    assert folder.inputs == {
        "uid": f"agenzia-{stack}",
        "title": cfg.grafana.folder_title,
        "orgId": str(cfg.grafana.org_id),
    }
    rendered = sorted(render_dashboard_artifacts(cfg, stack).values())
    dashboards = mocks.of_type(DASHBOARD)
    assert sorted(d.inputs["configJson"] for d in dashboards) == rendered
    assert {d.inputs["folder"] for d in dashboards} == {f"agenzia-{stack}"}
    for d in dashboards:
        model = json.loads(d.inputs["configJson"])
        targets = [t for p in model["panels"] for t in p["targets"]]
        assert {t["datasource"]["uid"] for t in targets} == {cfg.grafana.prometheus_datasource_uid}


@pytest.mark.parametrize("stack", STACKS)
def test_rule_groups_are_the_rendered_rules_rule_for_rule(
    registered: dict[str, RecordingMocks], stack: str
) -> None:
    mocks = registered[stack]
    cfg = load_stack(stack)
    by_name = {g.inputs["name"]: g for g in mocks.of_type(RULE_GROUP)}
    for file in render_rule_files(cfg, stack):
        for group in file.groups:
            registered_group = by_name[group.name]
            assert registered_group.inputs["folderUid"] == f"agenzia-{stack}"
            interval = parse_duration(group.interval or cfg.prometheus.evaluation_interval)
            assert registered_group.inputs["intervalSeconds"] == interval
            got = _rules(registered_group)
            assert [r["name"] for r in got] == [r.alert or r.record for r in group.rules]
            for rule, args in zip(group.rules, got, strict=True):
                query = _model(args, "A")
                assert query["expr"] == rule.expr
                assert query["datasource"]["uid"] == cfg.grafana.prometheus_datasource_uid
                assert query["instant"] is True
                assert args.get("labels", {}) == rule.labels
                assert len(args["uid"]) <= 40
                if rule.alert:
                    assert args["for"] == rule.for_ or (rule.for_ is None and args["for"] == "0s")
                    assert args["condition"] == "C"
                    assert (args["noDataState"], args["execErrState"]) == ("OK", "Error")
                    assert {"severity", "service", "environment"} <= set(args["labels"])
                    assert "record" not in args
                else:
                    assert args["record"] == {
                        "metric": rule.record,
                        "from": "A",
                        "targetDatasourceUid": cfg.grafana.prometheus_datasource_uid,
                    }
                    assert "noDataState" not in args and "for" not in args


@pytest.mark.parametrize("stack", STACKS)
def test_spot_check_thresholds_and_the_condition_pipeline(
    registered: dict[str, RecordingMocks], stack: str
) -> None:
    mocks = registered[stack]
    alerts = load_stack(stack).services[0].alerts
    error_rate = _find(mocks, "ApiHighErrorRate")
    assert _model(error_rate, "A")["expr"].endswith(f"> {alerts.api_high_error_rate.threshold:g}")
    cache = _find(mocks, "CacheHitRateLow")
    assert _model(cache, "A")["expr"].endswith(f"< {alerts.cache_hit_rate_low.threshold:g}")
    down = _find(mocks, "ApiHealthCheckDown")
    assert "absent(up{" in _model(down, "A")["expr"]
    assert down["for"] == alerts.api_health_check_down.for_
    assert _model(down, "B")["expression"] == "is_number($A) || is_nan($A) || is_inf($A)"
    threshold = _model(down, "C")
    assert threshold["type"] == "threshold" and threshold["expression"] == "B"
    b_stage = next(d for d in down["datas"] if d["refId"] == "B")
    assert b_stage["datasourceUid"] == "__expr__"
    slow = _find(mocks, "ApiErrorBudgetBurn", "warning")
    three_days = _find(mocks, "job:slo_errors:rate3d")
    assert three_days["datas"][0]["relativeTimeRange"] == {"from": 3 * 86400, "to": 0}
    assert "$values.A.Value | humanizePercentage" in slow["annotations"]["description"]
    assert "$value " not in slow["annotations"]["description"]


# --------------------------------------------------------------------------- safety


def test_importing_the_component_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    mocks = _install("staging")
    names = ("infra.components.grafana", "infra.components.grafana_rules")
    for name in names:  # a fresh import runs module code again; the originals come back after
        monkeypatch.delitem(sys.modules, name, raising=False)
    for name in names:
        importlib.import_module(name)
    assert mocks.resources == []


def test_a_provider_url_that_disagrees_with_the_config_stops_before_any_resource() -> None:
    from infra.components.grafana import GrafanaConfigError

    mocks = _install("staging", {"grafana:url": "https://other.grafana.net"})
    with pytest.raises(GrafanaConfigError, match=r"grafana:url is 'https://other.grafana.net'"):
        _register(load_stack("staging"))
    assert mocks.resources == []


def test_an_interval_grafana_cannot_schedule_stops_before_any_resource() -> None:
    mocks = _install("staging")
    cfg = load_stack("staging")
    bad = cfg.model_copy(
        update={"prometheus": cfg.prometheus.model_copy(update={"evaluation_interval": "15s"})}
    )
    files = [
        RuleFile(
            f.family,
            f.filename,
            tuple(RuleGroup(g.name, g.rules, None, g.service) for g in f.groups),
            f.text,
        )
        for f in render_rule_files(cfg, "staging")
    ]
    with pytest.raises(GrafanaRuleError, match=r"evaluation_interval to 10s"):
        _register(bad, rule_files=files)
    assert mocks.resources == []


def test_invalid_stack_config_stops_with_the_config_path_before_any_resource() -> None:
    mocks = _install(
        "staging",
        {
            "grafana:url": GRAFANA_URL,
            # load_from_pulumi reads every key with get_object, so strings go in as JSON.
            "monitoring:environment": json.dumps("staging"),
            "monitoring:services": json.dumps([{"name": "api", "base_url": "https://x.example"}]),
            "monitoring:routing": json.dumps({"receivers": [], "routes": []}),
            "monitoring:sentry": json.dumps({"organization": "a", "project": "b"}),
            "monitoring:grafana": json.dumps({"url": GRAFANA_URL, "folder_title": "x"}),
        },
    )
    with pytest.raises(ConfigError, match=r"monitoring:grafana.prometheus_datasource_uid"):
        _register()
    assert mocks.resources == []
    pulumi.runtime.set_all_config({})


# --------------------------------------------------------------------------- pure mapping


def _hand_rule_file(annotation: str) -> RuleFile:
    alert = Rule(
        expr='rate(x_total{job="a"}[10m] offset 5m) > 1',
        alert="XHigh",
        for_="5m",
        labels={"severity": "warning", "service": "a", "environment": "test"},
        annotations={"description": annotation},
    )
    record = Rule(expr="max_over_time(x[1h:5m])", record="job:x:max1h")
    return RuleFile(
        "fam", "fam.rules.yml", (RuleGroup("a.fam.rules", (record, alert), "1m", "a"),), ""
    )


def test_hand_built_rules_map_to_grafana_rules() -> None:
    (group,) = grafana_rule_groups(
        [_hand_rule_file("x is {{ $value }} on {{ $labels.job }}")],
        folder_uid="f",
        datasource_uid="prom",
        default_interval="30s",
        stack="test",
    )
    assert group.interval_seconds == 60
    record, alert = group.rules
    assert record.record_metric == "job:x:max1h" and record.stages[0].range_seconds == 3600
    assert alert.stages[0].range_seconds == 900
    assert alert.annotations["description"] == "x is {{ $values.A.Value }} on {{ $labels.job }}"
    assert alert.for_ == "5m" and alert.labels["severity"] == "warning"


def test_templates_grafana_cannot_evaluate_are_refused_with_the_reason() -> None:
    with pytest.raises(GrafanaRuleError, match="cannot run PromQL"):
        translate_template('{{ with query "up" }}{{ . }}{{ end }}', "here")
    with pytest.raises(GrafanaRuleError, match="no external labels"):
        translate_template("{{ $externalLabels.cluster }}", "here")
    assert translate_template("query latency is {{ .Value }}", "w") == (
        "query latency is {{ $values.A.Value }}"
    )


def test_largest_range_reads_ranges_subqueries_and_offsets() -> None:
    assert largest_range_seconds("vector(1)") == 0
    assert largest_range_seconds("rate(a[5m]) / rate(b[1h30m])") == 5400
    assert largest_range_seconds("max_over_time(a[3d:5m])") == 3 * 86400
    assert largest_range_seconds("rate(a[5m] offset 1h)") == 3900

"""Grafana Cloud: one folder per environment, the rendered dashboards, and Grafana-managed
alert and recording rule groups built from the same rule objects as the rule files.

Thin: everything is decided by pure functions (:func:`plan_grafana`, ``grafana_rules``,
``infra.render.dashboards``); this module only turns the plan into resources. The plan is
built, and every problem raised, before the first resource is registered.

Provider: the default ``grafana`` provider, configured by ``grafana:url`` and the secret
``grafana:auth`` in the stack file (README, "Grafana").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumiverse_grafana import alerting, oss

from infra.components.grafana_rules import GrafanaRule, GrafanaRuleGroup, grafana_rule_groups
from infra.components.routing import org_id_arg
from infra.config import StackConfig
from infra.render.dashboards import folder_uid, render_dashboard_artifacts
from infra.render.rule_model import RuleFile
from infra.render.rules import render_rule_files

TYPE = "monitoring:grafana:Monitoring"


class GrafanaConfigError(ValueError):
    """Config the Grafana component cannot deploy; raised before any resource exists."""


@dataclass(frozen=True)
class DashboardPlan:
    key: str
    """``<service>-<dashboard>``: the rendered file's stem, and the resource name suffix."""
    uid: str
    config_json: str


@dataclass(frozen=True)
class GrafanaPlan:
    folder_uid: str
    folder_title: str
    dashboards: tuple[DashboardPlan, ...]
    rule_groups: tuple[GrafanaRuleGroup, ...]


def plan_grafana(cfg: StackConfig, stack: str, rule_files: Sequence[RuleFile]) -> GrafanaPlan:
    """Everything the component will create, from config and rendered artifacts only."""
    folder = folder_uid(cfg)
    dashboards = tuple(
        DashboardPlan(
            key=path.rsplit("/", 1)[-1].removesuffix(".json"),
            uid=str(json.loads(text)["uid"]),
            config_json=text,
        )
        for path, text in sorted(render_dashboard_artifacts(cfg, stack).items())
    )
    groups = grafana_rule_groups(
        rule_files,
        folder_uid=folder,
        datasource_uid=cfg.grafana.prometheus_datasource_uid,
        default_interval=cfg.prometheus.evaluation_interval,
        stack=stack,
    )
    return GrafanaPlan(folder, cfg.grafana.folder_title, dashboards, tuple(groups))


def check_provider_url(cfg: StackConfig) -> None:
    """``grafana:url`` (the provider's) and ``monitoring:grafana.url`` must name one Grafana."""
    provider_url = pulumi.Config("grafana").get("url")
    if provider_url is not None and provider_url.rstrip("/") != cfg.grafana.url:
        raise GrafanaConfigError(
            f"grafana:url is {provider_url!r} but monitoring:grafana.url is "
            f"{cfg.grafana.url!r}; set both to the same Grafana Cloud stack URL"
        )


def _rule_args(rule: GrafanaRule) -> alerting.RuleGroupRuleArgs:
    datas = [
        alerting.RuleGroupRuleDataArgs(
            ref_id=stage.ref_id,
            datasource_uid=stage.datasource_uid,
            model=stage.model_json,
            relative_time_range=alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                from_=stage.range_seconds, to=0
            ),
        )
        for stage in rule.stages
    ]
    record = (
        alerting.RuleGroupRuleRecordArgs(
            from_=rule.condition,
            metric=rule.record_metric,
            target_datasource_uid=rule.record_target_uid,
        )
        if rule.record_metric is not None
        else None
    )
    return alerting.RuleGroupRuleArgs(
        name=rule.title,
        uid=rule.uid,
        condition=rule.condition,
        datas=datas,
        labels=rule.labels or None,
        annotations=rule.annotations or None,
        # Recording rules take no for/no-data/error settings (the provider rejects some).
        for_=rule.for_,
        no_data_state=rule.no_data_state,
        exec_err_state=rule.exec_err_state,
        record=record,
    )


class GrafanaMonitoring(pulumi.ComponentResource):
    """Folder, dashboards and rule groups of one environment in Grafana Cloud."""

    folder_uid: pulumi.Output[str]
    dashboard_urls: dict[str, pulumi.Output[str]]
    rule_group_names: list[pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        opts: pulumi.ResourceOptions | None = None,
        *,
        rule_files: Sequence[RuleFile] | None = None,
    ) -> None:
        stack = pulumi.get_stack()
        check_provider_url(cfg)
        files = list(rule_files) if rule_files is not None else render_rule_files(cfg, stack)
        plan = plan_grafana(cfg, stack, files)  # raises before anything is registered

        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        org_id = org_id_arg(cfg)

        folder = oss.Folder(
            f"{name}-folder",
            title=plan.folder_title,
            uid=plan.folder_uid,
            org_id=org_id,
            opts=child,
        )
        self.folder_uid = folder.uid
        self.dashboard_urls = {}
        for dash in plan.dashboards:
            resource = oss.Dashboard(
                f"{name}-dashboard-{dash.key}",
                config_json=dash.config_json,
                folder=folder.uid,
                org_id=org_id,
                opts=child,
            )
            self.dashboard_urls[dash.key] = resource.url

        self.rule_group_names = []
        for group in plan.rule_groups:
            resource_group = alerting.RuleGroup(
                f"{name}-rules-{group.name}",
                name=group.name,
                folder_uid=folder.uid,
                interval_seconds=group.interval_seconds,
                rules=[_rule_args(rule) for rule in group.rules],
                org_id=org_id,
                opts=child,
            )
            self.rule_group_names.append(resource_group.name)

        self.register_outputs(
            {
                "folder_uid": self.folder_uid,
                "dashboard_urls": self.dashboard_urls,
                "rule_group_names": self.rule_group_names,
            }
        )

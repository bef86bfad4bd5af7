"""Sentry thresholds as code: metric detectors, the workflows that notify, and the DSN key.

The seed's "Key Metrics to Monitor in Sentry" become detectors (error rate, p95 transaction
duration, database query duration, failures per external API); each detector raises a Sentry
metric issue at a priority that encodes its severity, and one workflow per severity sends
those issues to the receivers the routing model uses for that severity, through the Sentry
targets in ``sentry.notify``. The config → request-body mapping is pure
(:func:`detector_plans`, :func:`workflow_plans`); :class:`SentryAlerts` only registers it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.config import ConfigError, Severity, StackConfig
from infra.config.routing import (
    AnyReceiver,
    EmailReceiver,
    NullReceiver,
    PagerDutyReceiver,
    SlackReceiver,
)
from infra.config.sentry import SentryNotifyTarget
from infra.config.types import parse_duration
from infra.providers.sentry_resources import Detector, ProjectKey, SentryTarget, Workflow

TYPE_TOKEN = "monitoring:sentry:Alerts"

PRIORITY = {Severity.critical: 75, Severity.warning: 50}
"""Sentry issue priority a detector raises (75 high, 50 medium), per severity; the workflow
for a severity filters on it."""

ACTION_FREQUENCIES_MIN = (0, 5, 10, 30, 60, 180, 720, 1440)
"""Workflow ``config.frequency`` values Sentry documents (minutes between notifications)."""

SPANS = {"dataset": "events_analytics_platform", "eventTypes": ["trace_item_span"], "queryType": 1}
"""Span-based metric monitors (Sentry's replacement for the transactions dataset)."""


@dataclass(frozen=True)
class DetectorPlan:
    key: str
    severity: Severity
    spec: dict[str, Any]


@dataclass(frozen=True)
class WorkflowPlan:
    severity: Severity
    detector_keys: tuple[str, ...]
    spec: dict[str, Any]  # without detectorIds: those are known once detectors exist


# --------------------------------------------------------------------------- detectors


def _title(cfg: StackConfig) -> str:
    # Both stacks may share one Sentry project: the environment keeps names unique, and
    # names are how create() adopts existing objects.
    return f"{cfg.sentry.project} ({cfg.environment})"


def _detector(
    cfg: StackConfig,
    key: str,
    what: str,
    severity: Severity,
    source: Mapping[str, Any],
    threshold: float,
    description: str,
) -> DetectorPlan:
    spec = {
        "name": f"{_title(cfg)} - {what}",
        "type": "metric_issue",
        "description": description,
        "enabled": True,
        "config": {"detectionType": "static"},
        "dataSources": [
            {
                **SPANS,
                **source,
                "environment": cfg.environment,
                "timeWindow": cfg.sentry.time_window_seconds,
            }
        ],
        "conditionGroup": {
            "logicType": "any",
            "conditions": [
                {"type": "gt", "comparison": threshold, "conditionResult": PRIORITY[severity]},
                {"type": "lte", "comparison": threshold, "conditionResult": 0},
            ],
        },
    }
    return DetectorPlan(key, severity, spec)


def detector_plans(cfg: StackConfig) -> list[DetectorPlan]:
    """One detector per seed metric and one per external API, with the config's thresholds."""
    s = cfg.sentry
    plans = [
        # failure_rate() is a ratio of transactions whose status is not ok, so the threshold
        # is the ratio itself (0.001 = 0.1%); it is not affected by traces_sample_rate.
        _detector(
            cfg,
            "error-rate",
            "Error rate",
            Severity.critical,
            {"aggregate": "failure_rate()", "query": "is_transaction:true"},
            s.error_rate_threshold,
            f"Seed SLA: error rate below {s.error_rate_threshold:.2%} of requests.",
        ),
        # span.duration is in milliseconds.
        _detector(
            cfg,
            "p95-latency",
            "p95 transaction duration",
            Severity.warning,
            {"aggregate": "p95(span.duration)", "query": "is_transaction:true"},
            round(s.p95_threshold_seconds * 1000, 3),
            f"Seed SLA: p95 response time below {s.p95_threshold_seconds * 1000:g} ms.",
        ),
        _detector(
            cfg,
            "db-query-duration",
            "Database query p95",
            Severity.warning,
            {"aggregate": "p95(span.duration)", "query": "span.category:db"},
            round(s.db_query_p95_threshold_seconds * 1000, 3),
            f"Database query p95 above {s.db_query_p95_threshold_seconds * 1000:g} ms.",
        ),
    ]
    for api in s.external_apis:
        # Outgoing HTTP spans to the API's host that did not end ok. Counts of sampled
        # spans are extrapolated by Sentry from the sample rate.
        plans.append(
            _detector(
                cfg,
                f"external-api-{api}",
                f"{api} API failures",
                Severity.warning,
                {
                    "aggregate": "count(span.duration)",
                    "query": f"span.op:http.client span.domain:*{api}* !span.status:ok",
                },
                s.external_api_failures_per_window,
                f"More than {s.external_api_failures_per_window} failed calls to {api} "
                f"in {s.window}.",
            )
        )
    return plans


# --------------------------------------------------------------------------- workflows


def _problem_for(name: str, receiver: AnyReceiver, target: SentryNotifyTarget | None) -> str | None:
    where = f"monitoring:sentry.notify.{name}"
    if target is None:
        return (
            f"{where}: the routing model sends alerts to {receiver.type} receiver {name!r}, "
            "but Sentry has no target for it; add it (see SentryNotifyTarget: Sentry notifies "
            "through its own PagerDuty/Slack integrations and Sentry teams, set up by hand)"
        )
    if isinstance(receiver, PagerDutyReceiver) and not (
        target.integration_id and target.target_identifier
    ):
        return (
            f"{where}: a PagerDuty target needs integration_id (Sentry's PagerDuty "
            "integration) and target_identifier (the PagerDuty service id)"
        )
    if isinstance(receiver, SlackReceiver) and not target.integration_id:
        return f"{where}: a Slack target needs integration_id (Sentry's Slack integration)"
    if isinstance(receiver, EmailReceiver) and (
        target.target_type not in {"user", "team"} or not target.target_identifier
    ):
        return (
            f"{where}: Sentry emails its users or teams, not addresses; set target_type "
            "'team' (or 'user') and target_identifier to the Sentry team (or user) id"
        )
    return None


def notify_problems(cfg: StackConfig) -> list[str]:
    """Every way ``sentry.notify`` fails to cover the receivers Sentry alerts must reach."""
    routing, notify = cfg.routing, cfg.sentry.notify
    known = {r.name for r in routing.receivers}
    problems = [
        f"monitoring:sentry.notify.{name}: no routing receiver has this name; "
        f"use one of {sorted(known)}"
        for name in notify
        if name not in known
    ]
    reached = {n for sev in PRIORITY for n in routing.receivers_for(sev)}
    for name in sorted(reached):
        receiver = routing.receiver(name)
        if isinstance(receiver, NullReceiver):
            continue  # the heartbeat; Sentry has nothing to send it
        problem = _problem_for(name, receiver, notify.get(name))
        if problem:
            problems.append(problem)
    return problems


def _action(receiver: AnyReceiver, target: SentryNotifyTarget, severity: Severity) -> Any:
    # Shapes from the createOrganizationWorkflow description ("Notify on PagerDuty/Slack",
    # "Notify on Preferred Channel").
    if isinstance(receiver, PagerDutyReceiver):
        return {
            "type": "pagerduty",
            "integrationId": target.integration_id,
            "config": {
                "targetType": "specific",
                "targetIdentifier": target.target_identifier,
                "targetDisplay": target.target_display or receiver.name,
            },
            "data": {"priority": severity.value},
        }
    if isinstance(receiver, SlackReceiver):
        return {
            "type": "slack",
            "integrationId": target.integration_id,
            "config": {
                "targetType": "specific",
                "targetIdentifier": target.target_identifier or "",
                "targetDisplay": target.target_display or receiver.channel.lstrip("#"),
            },
            "data": {},
        }
    return {
        "type": "email",
        "integrationId": None,
        "config": {
            "targetType": target.target_type,
            "targetIdentifier": target.target_identifier,
            "targetDisplay": None,
        },
        "data": {},
    }


def action_frequency(cfg: StackConfig) -> int:
    """Minutes between repeat notifications: the routing ``repeat_interval``, rounded down to
    a value Sentry accepts, so both alert paths repeat alike."""
    minutes = parse_duration(cfg.routing.repeat_interval) // 60
    return max(f for f in ACTION_FREQUENCIES_MIN if f <= minutes)


def workflow_plans(cfg: StackConfig, detectors: list[DetectorPlan]) -> list[WorkflowPlan]:
    """One workflow per severity that has detectors, notifying that severity's receivers."""
    plans = []
    for severity, priority in PRIORITY.items():
        keys = tuple(d.key for d in detectors if d.severity == severity)
        if not keys:
            continue
        actions = [
            _action(cfg.routing.receiver(name), cfg.sentry.notify[name], severity)
            for name in cfg.routing.receivers_for(severity)
            if not isinstance(cfg.routing.receiver(name), NullReceiver)
        ]
        spec = {
            "name": f"{_title(cfg)} - {severity.value} alerts",
            "enabled": True,
            "environment": cfg.environment,
            "config": {"frequency": action_frequency(cfg)},
            "triggers": {"logicType": "any-short", "conditions": [], "actions": []},
            "actionFilters": [
                {
                    "logicType": "any-short",
                    "conditions": [
                        {
                            "type": "issue_priority_greater_or_equal",
                            "comparison": priority,
                            "conditionResult": True,
                        }
                    ],
                    "actions": actions,
                }
            ],
        }
        plans.append(WorkflowPlan(severity, keys, spec))
    return plans


def _with_detector_ids(base: dict[str, Any]) -> Callable[[list[Any]], dict[str, Any]]:
    def complete(ids: list[Any]) -> dict[str, Any]:
        return {**base, "detectorIds": [str(i) for i in ids]}

    return complete


# --------------------------------------------------------------------------- component


class SentryAlerts(pulumi.ComponentResource):
    """Sentry detectors, workflows and the project key (DSN) of one stack."""

    detectors: dict[str, Detector]
    workflows: dict[str, Workflow]
    key: ProjectKey | None

    def __init__(
        self, name: str, cfg: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Everything that can be wrong is checked before the first registration.
        problems = notify_problems(cfg) if cfg.sentry.enabled else []
        if problems:
            raise ConfigError(f"Pulumi.{cfg.environment}.yaml", problems)
        detector_list = detector_plans(cfg)
        workflow_list = workflow_plans(cfg, detector_list)
        token = (
            pulumi.Config("monitoring").require_secret(cfg.sentry.auth_token.secret)
            if cfg.sentry.enabled
            else None
        )
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.detectors, self.workflows, self.key = {}, {}, None
        self.traces_sample_rate = cfg.sentry.traces_sample_rate
        if token is None:
            self.dsn: pulumi.Output[str] = pulumi.Output.secret("")
            self.register_outputs({"traces_sample_rate": self.traces_sample_rate})
            return
        target = SentryTarget(
            cfg.sentry.api_url, cfg.sentry.organization, cfg.sentry.project, token
        )
        child = pulumi.ResourceOptions(parent=self)
        for plan in detector_list:
            self.detectors[plan.key] = Detector(f"{name}-{plan.key}", target, plan.spec, child)
        for wf in workflow_list:
            ids = [self.detectors[k].id for k in wf.detector_keys]
            spec = pulumi.Output.all(*ids).apply(_with_detector_ids(wf.spec))
            self.workflows[wf.severity.value] = Workflow(
                f"{name}-{wf.severity.value}", target, spec, child
            )
        # The running app holds this DSN: `pulumi destroy` (or a rename) must not revoke it.
        keep = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        self.key = ProjectKey(f"{name}-dsn", target, cfg.sentry.dsn_key_name, keep)
        self.dsn = pulumi.Output.secret(self.key.dsn)
        self.detector_ids = {k: d.id for k, d in self.detectors.items()}
        self.workflow_ids = {k: w.id for k, w in self.workflows.items()}
        self.register_outputs(
            {
                "detector_ids": self.detector_ids,
                "workflow_ids": self.workflow_ids,
                "dsn": self.dsn,
                "traces_sample_rate": self.traces_sample_rate,
            }
        )

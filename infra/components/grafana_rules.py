"""Map rendered Prometheus rule objects to Grafana-managed alert and recording rules.

Pure (no Pulumi): the component only wraps these values in resource args, so what is checked
here is what gets deployed.

Every alert rule keeps Prometheus semantics exactly: query A is the rule's PromQL as an
instant query, and the rule fires for every series A returns, whatever its value
(``up == 0`` returns 0, which a plain ``A > 0`` threshold would miss). That is Grafana's own
Prometheus conversion: B = math ``is_number($A) || is_nan($A) || is_inf($A)`` (1 for any
returned sample), C = threshold ``B > 0``, condition C.

No-data and error states (see ``NO_DATA_STATE`` / ``EXEC_ERR_STATE``):

* An empty result is the normal, healthy state of a Prometheus alert expression (the
  comparison filtered every series out), so ``NoData`` maps to ``OK``. Mapping it to
  ``NoData``/``Alerting`` would fire on every healthy service. A *missing metric* is caught
  by the rules themselves: ``ApiHealthCheckDown`` is ``up == 0 or absent(up)``, so a target
  that disappears (or a dead scrape pipeline) pages as ApiHealthCheckDown, with data;
  ``Watchdog`` stops firing when the whole pipeline is dead.
* A query that cannot run (data source down, timeout, bad PromQL) goes to ``Error``: Grafana
  raises a ``DatasourceError`` alert carrying the rule's labels. The notification policy
  routes ``alertname=DatasourceError`` to the warning receivers, so it is seen but never
  pages; the outside view of an outage is UptimeRobot's. ``KeepLast`` was rejected because a
  persistent error would then show nothing at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.render.rule_model import Rule, RuleFile

EXPR_DATASOURCE = "__expr__"
"""Grafana's server-side expressions pseudo data source."""

NO_DATA_STATE: Literal["OK"] = "OK"
EXEC_ERR_STATE: Literal["Error"] = "Error"

MIN_QUERY_RANGE = 600
"""Seconds of history query A asks for when its PromQL reads no range (Grafana's default)."""

GRAFANA_BASE_INTERVAL = 10
"""Grafana's scheduler ticks every 10s; a group interval must be a multiple of it."""

UID_MAX = 40

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = r"(?:\d+(?:ms|[smhdwy]))+"
_RANGE_RE = re.compile(rf"\[\s*({_DURATION})\s*(?::\s*(?:{_DURATION})?\s*)?\]")
_OFFSET_RE = re.compile(rf"\boffset\s+-?({_DURATION})")
_PART_RE = re.compile(r"(\d+)(ms|[smhdwy])")
# `$value` (not `$values`) and `.Value` are Prometheus' value of the alert's sample; in
# Grafana that sample is query A's.
_VALUE_RE = re.compile(r"\$value\b(?!s)|(?<![\w$.])\.Value\b")
_ACTION_RE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_UNSUPPORTED = {
    r"\$externalLabels\b": "Grafana has no external labels; write the value into the template",
    r"\$externalURL\b": "Grafana has no $externalURL; link the runbook instead",
    r"\bquery\s+[\"`]": "Grafana annotations cannot run PromQL (the `query` function)",
}


class GrafanaRuleError(ValueError):
    """A rendered rule that cannot be deployed as a Grafana-managed rule."""


@dataclass(frozen=True)
class QueryStage:
    ref_id: str
    datasource_uid: str
    model: dict[str, Any]
    range_seconds: int

    @property
    def model_json(self) -> str:
        return json.dumps(self.model, sort_keys=True)


@dataclass(frozen=True)
class GrafanaRule:
    title: str
    uid: str
    condition: str
    stages: tuple[QueryStage, ...]
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    for_: str | None = None
    no_data_state: str | None = None
    exec_err_state: str | None = None
    record_metric: str | None = None
    record_target_uid: str | None = None

    @property
    def is_recording(self) -> bool:
        return self.record_metric is not None


@dataclass(frozen=True)
class GrafanaRuleGroup:
    name: str
    interval_seconds: int
    rules: tuple[GrafanaRule, ...]
    source: str
    """The rule file it came from (``alert_rules/<stack>/<file>``), for error messages."""


def duration_seconds(text: str) -> float:
    """Seconds in a PromQL duration (``1h30m``, ``500ms``, ``2w``)."""
    return sum(int(n) * _UNITS[unit] for n, unit in _PART_RE.findall(text))


def largest_range_seconds(expr: str) -> int:
    """The longest history ``expr`` reads: range selectors and subqueries, plus offsets."""
    ranges = [duration_seconds(m) for m in _RANGE_RE.findall(expr)]
    offsets = [duration_seconds(m) for m in _OFFSET_RE.findall(expr)]
    return int(max(ranges, default=0) + max(offsets, default=0))


def translate_template(text: str, where: str) -> str:
    """Prometheus annotation templating → Grafana's.

    ``{{ $labels.x }}`` and the ``humanize*`` functions are the same in both; only the value
    differs: Prometheus' ``$value`` is query A's value in Grafana, ``$values.A.Value``.
    """
    for action in _ACTION_RE.findall(text):
        for pattern, why in _UNSUPPORTED.items():
            if re.search(pattern, action):
                raise GrafanaRuleError(f"{where}: {action!r} cannot be translated; {why}")
    return _ACTION_RE.sub(lambda m: _VALUE_RE.sub("$values.A.Value", m.group(0)), text)


def rule_uid(folder_uid: str, group: str, rule: Rule, index: int) -> str:
    """Stable per folder, group and rule identity (name + labels), at most 40 characters.

    The index is part of the identity only to separate two rules identical in name and
    labels, which Prometheus allows.
    """
    identity = json.dumps(
        [folder_uid, group, rule.alert or rule.record, sorted(rule.labels.items()), index]
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()
    head = re.sub(r"[^a-z0-9-]", "-", (rule.alert or rule.record or "rule").lower())[:15]
    return f"{head.strip('-')}-{digest}"[:UID_MAX]


def _query_a(rule: Rule, datasource_uid: str) -> QueryStage:
    return QueryStage(
        ref_id="A",
        datasource_uid=datasource_uid,
        model={
            "refId": "A",
            "datasource": {"type": "prometheus", "uid": datasource_uid},
            "editorMode": "code",
            "expr": rule.expr,
            # Instant, like Prometheus' own rule evaluation: one sample per series, now.
            "instant": True,
            "range": False,
            "intervalMs": 1000,
            "maxDataPoints": 43200,
        },
        range_seconds=max(largest_range_seconds(rule.expr), MIN_QUERY_RANGE),
    )


def _expression(ref_id: str, model: dict[str, Any]) -> QueryStage:
    return QueryStage(
        ref_id=ref_id,
        datasource_uid=EXPR_DATASOURCE,
        model={
            "refId": ref_id,
            "datasource": {"type": "__expr__", "uid": EXPR_DATASOURCE},
            **model,
        },
        range_seconds=0,
    )


def alert_stages(rule: Rule, datasource_uid: str) -> tuple[QueryStage, ...]:
    """A: the PromQL; B: 1 for every sample A returns; C: B > 0 (the condition)."""
    return (
        _query_a(rule, datasource_uid),
        _expression(
            "B", {"type": "math", "expression": "is_number($A) || is_nan($A) || is_inf($A)"}
        ),
        _expression(
            "C",
            {
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": "gt", "params": [0]}}],
            },
        ),
    )


def to_grafana_rule(
    rule: Rule, *, folder_uid: str, group: str, index: int, datasource_uid: str, where: str
) -> GrafanaRule:
    uid = rule_uid(folder_uid, group, rule, index)
    if rule.record is not None:
        # Grafana recording rule: evaluates A and writes the result back to the Prometheus
        # data source under the same name, so the alerts that read it find it there.
        return GrafanaRule(
            title=rule.record,
            uid=uid,
            condition="A",
            stages=(_query_a(rule, datasource_uid),),
            labels=dict(rule.labels),
            record_metric=rule.record,
            record_target_uid=datasource_uid,
        )
    if rule.alert is None:
        raise GrafanaRuleError(f"{where}: a rule needs exactly one of alert/record")
    return GrafanaRule(
        title=rule.alert,
        uid=uid,
        condition="C",
        stages=alert_stages(rule, datasource_uid),
        labels=dict(rule.labels),
        annotations={
            k: translate_template(v, f"{where}: {rule.alert}.annotations.{k}")
            for k, v in rule.annotations.items()
        },
        for_=rule.for_ or "0s",
        no_data_state=NO_DATA_STATE,
        exec_err_state=EXEC_ERR_STATE,
    )


def interval_seconds(interval: str, where: str) -> int:
    seconds = duration_seconds(interval)
    if seconds < GRAFANA_BASE_INTERVAL or seconds % GRAFANA_BASE_INTERVAL:
        raise GrafanaRuleError(
            f"{where}: evaluation interval {interval!r} is not a multiple of Grafana's "
            f"{GRAFANA_BASE_INTERVAL}s scheduler tick; set monitoring:prometheus."
            "evaluation_interval to 10s, 20s, 30s, 1m…"
        )
    return int(seconds)


def grafana_rule_groups(
    files: Sequence[RuleFile],
    *,
    folder_uid: str,
    datasource_uid: str,
    default_interval: str,
    stack: str,
) -> list[GrafanaRuleGroup]:
    """One Grafana rule group per Prometheus rule group, same name, same order of rules."""
    out: list[GrafanaRuleGroup] = []
    seen: dict[str, str] = {}
    for file in files:
        where = f"alert_rules/{stack}/{file.filename}"
        for group in file.groups:
            if group.name in seen:
                raise GrafanaRuleError(
                    f"{where}: group {group.name!r} also in {seen[group.name]}; Grafana keys "
                    "rule groups by folder and name, so one would replace the other"
                )
            seen[group.name] = where
            rules = tuple(
                to_grafana_rule(
                    rule,
                    folder_uid=folder_uid,
                    group=group.name,
                    index=i,
                    datasource_uid=datasource_uid,
                    where=where,
                )
                for i, rule in enumerate(group.rules)
            )
            interval = interval_seconds(
                group.interval or default_interval, f"{where}: {group.name}"
            )
            out.append(GrafanaRuleGroup(group.name, interval, rules, where))
    uids = [r.uid for g in out for r in g.rules]
    if len(uids) != len(set(uids)):
        raise GrafanaRuleError("two rules map to the same Grafana uid; this is a bug")
    return out

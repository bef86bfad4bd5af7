"""Generate promtool unit tests for every alert of a stack, from the same config as the rules.

For each alert: a fault scenario after one hour of normal traffic
(:mod:`~infra.render.rule_tests_scenarios`); the alert is silent one minute before its ``for``
boundary and firing at it with its exact labels (checked on the ``ALERTS`` series), and its
annotations are pinned with ``alert_rule_test``. A six-hour "normal day" must produce nothing
but ``Watchdog``.

The tests must hold under the Debian promtool (Prometheus 2.42) and under Prometheus 3, which
Grafana Cloud evaluates with. Series are sampled once a minute and evaluated once a minute, so
every range window starts on a sample, which Prometheus 2 includes (``[t - range, t]``) and
Prometheus 3 leaves out (``(t - range, t]``). :mod:`~infra.render.rule_tests_rates` computes
``rate()`` exactly as each engine does, and :mod:`~infra.render.rule_tests_timeline` uses it:

- **Timing stays exact.** The onset is computed under both engines and must be the same
  minute, or the generator fails naming the alert. The faults make it so: ratio faults cross
  their threshold by a wide margin at their first minute, and slow burns creep across theirs
  in windows that reach back past the first sample, which both engines see alike. A ratio that
  would land exactly on its threshold at an evaluation (left to rounding) is refused too; a
  slow burn then moves its fault by 1%.
- **Values are pinned where both engines compute the same number.** The annotations carry
  ``$value`` (4 significant digits through ``humanizePercentage``). While a ratio's window
  straddles the fault's start the engines differ by far more than that (5.048% against 5.054%
  in production, 30.59% against 30.86% locally); any fixed precision has rounding boundaries
  that can fall between two such values, and coarsening the annotation template would make the
  product worse for a test's sake. Instead the ``alert_rule_test`` runs at the first
  minute, from the ``for`` boundary on, at which both engines render the same text with a
  margin against floating-point summation order: in practice once every window the value
  reads holds only the fault's constant rates (or reaches back past the first sample), where
  the ratio is exactly computable. For gauges and short windows that is the boundary itself.
  The rule files and their annotation templates stay as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from infra.config import ServiceConfig, StackConfig
from infra.render.rule_model import Rule, RuleFile
from infra.render.rule_tests_scenarios import T0, Scenario, service_scenarios
from infra.render.rule_tests_traffic import Traffic, encode
from infra.render.rules import render_rule_files

NORMAL_DAY = 360
"""Length of the normal-day scenario, in minutes."""


def _alerts_series(rule: Rule, state: str) -> str:
    return (
        f"ALERTS{{alertname={json.dumps(rule.alert)}, alertstate={json.dumps(state)}, "
        f"severity={json.dumps(rule.labels['severity'])}, "
        f"service={json.dumps(rule.labels['service'])}}}"
    )


def _not_firing(rule: Rule, minute: int) -> dict[str, Any]:
    return {"expr": _alerts_series(rule, "firing"), "eval_time": f"{minute}m", "exp_samples": []}


def _scenario_test(scenario: Scenario) -> dict[str, Any]:
    t, exp, when = scenario.traffic, scenario.expected, scenario.timeline
    n = t.minutes + 1
    series = [{"series": s.labels, "values": encode(s.values()[:n])} for s in t.series()]
    sample = {"alertname": exp.name, "alertstate": "firing", **exp.labels}
    sample_labels = (
        "ALERTS{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(sample.items())) + "}"
    )
    promql: list[dict[str, Any]] = [
        # Just before the `for` boundary: not firing (pending, or not yet active).
        _not_firing(exp.alert, when.fires_at - 1),
        {
            "expr": _alerts_series(exp.alert, "firing"),
            "eval_time": f"{when.fires_at}m",
            "exp_samples": [{"labels": sample_labels, "value": 1}],
        },
        # Before the fault: quiet.
        _not_firing(exp.alert, T0 - 1),
    ]
    promql += [_not_firing(rule, m) for rule in scenario.silent for m in range(T0, n, 30)]
    pinned = [
        {"exp_labels": alert.labels, "exp_annotations": annotations}
        for alert, annotations in when.pinned
    ]
    return {
        "name": f"{scenario.name}: {exp.name} fires at its for boundary",
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": promql,
        "alert_rule_test": [
            {"eval_time": f"{when.pinned_at}m", "alertname": exp.name, "exp_alerts": pinned}
        ],
    }


def _normal_day_test(
    cfg: StackConfig, svc: ServiceConfig, files: Sequence[RuleFile]
) -> dict[str, Any]:
    t = Traffic(svc, NORMAL_DAY, cfg.costs.supabase_storage_limit_bytes)
    names = sorted({r.alert for f in files for g in f.groups for r in g.alerts if r.alert})
    checks: list[dict[str, Any]] = [
        {"eval_time": f"{minute}m", "alertname": name, "exp_alerts": []}
        for minute in (10, 60, 180, NORMAL_DAY)
        for name in names
        if name != "Watchdog"
    ]
    watchdog = next(
        (
            r
            for f in files
            for g in f.groups
            for r in g.alerts
            if r.alert == "Watchdog" and r.labels.get("service") == svc.name
        ),
        None,
    )
    if watchdog is not None:
        checks.append(
            {
                "eval_time": f"{NORMAL_DAY}m",
                "alertname": "Watchdog",
                "exp_alerts": [
                    {
                        "exp_labels": dict(watchdog.labels),
                        "exp_annotations": dict(watchdog.annotations),
                    }
                ],
            }
        )
    return {
        "name": f"normal day for {svc.name}: 6h of healthy traffic fires nothing but Watchdog",
        "interval": "1m",
        "input_series": [{"series": s.labels, "values": encode(s.values())} for s in t.series()],
        "alert_rule_test": checks,
    }


def render_rule_test_files(cfg: StackConfig, stack: str) -> dict[str, str]:
    """``{alert_rules/<stack>/tests/<name>.test.yml: text}``: promtool unit tests."""
    files = render_rule_files(cfg, stack)
    rule_files = [f"../{f.filename}" for f in files]
    out: dict[str, str] = {}
    banner = (
        f"# Generated by `monitoring render --stack {stack}` from Pulumi.{stack}.yaml "
        "(infra/render/rule_tests.py) - do not edit.\n"
    )
    for svc in cfg.services:
        scenarios = service_scenarios(cfg, svc, files)
        tests = [_normal_day_test(cfg, svc, files)] + [_scenario_test(s) for s in scenarios]
        document = {"rule_files": rule_files, "evaluation_interval": "1m", "tests": tests}
        text = banner + yaml.safe_dump(document, sort_keys=False, width=200, allow_unicode=True)
        out[f"alert_rules/{stack}/tests/{svc.name}.test.yml"] = text
    return out

"""Render Prometheus rule files from the Jinja templates in ``alert_rules/templates/``.

Pure: config in, text and typed rule objects out; no Pulumi, no I/O but reading templates.
Templates use ``[[ … ]]`` and ``[% … %]`` as delimiters so that Prometheus' own ``{{ … }}``
annotation templating can be written as it is.

Config values reach PromQL and YAML only through the filters below: names are validated by
the config models (metric names, slugs), free text is quoted with ``yaml_str``/``promql_str``,
and the parsed result is checked again, so no config value can change the structure of a rule.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from infra.config import ServiceConfig, StackConfig
from infra.config.models import BurnRateAlert
from infra.config.types import format_duration, parse_duration
from infra.render.rule_model import Rule, RuleFile, RuleGroup

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "alert_rules" / "templates"

FAMILIES: tuple[str, ...] = (
    "api_availability",
    "api_latency",
    "dependencies",
    "cache",
    "messaging",
    "slo_errors",
    "slo_latency",
    "capacity",
    "meta",
)
"""One template per alert family; each renders ``<family>.rules.yml`` (dashes for underscores)."""


class RenderError(Exception):
    """A template rendered something that is not a well-formed rule file."""


# --------------------------------------------------------------------------- filters


def yaml_str(value: object) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML) for any text."""
    return json.dumps(str(value), ensure_ascii=False)


def promql_str(value: object) -> str:
    """A PromQL double-quoted string literal; PromQL strings follow Go's escaping rules."""
    return json.dumps(str(value), ensure_ascii=True)


def num(value: float) -> str:
    """A number as PromQL reads it, without float noise (``0.0010000000000000009`` → ``0.001``)."""
    if not math.isfinite(value):
        raise RenderError(f"{value!r} cannot be written into a rule")
    return f"{value:.10g}"


def seconds(window: str) -> str:
    """A duration in whole seconds, as PromQL multiplies a per-second rate by it."""
    return str(parse_duration(window))


def pct(value: float) -> str:
    return f"{value * 100:.10g}%"


def multiply(value: float, factor: float) -> float:
    return value * factor


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.10g}ms"


def gib(size: int) -> str:
    return f"{size / 1024**3:.10g} GiB"


@jinja2.pass_context
def for_duration(context: jinja2.runtime.Context, text: str) -> str:
    """A ``for`` duration scaled by the stack's ``prometheus.for_scale`` (the local stack
    compresses time); never below one second."""
    return format_duration(max(1, round(parse_duration(text) * context["for_scale"])))


# --------------------------------------------------------------------------- helpers


def job_selector(svc: ServiceConfig) -> str:
    return f"job={promql_str(svc.job_name)}"


def burn_windows(alert: BurnRateAlert) -> list[str]:
    """Every distinct window the burn-rate alert reads (reset windows too), shortest first."""
    windows = {w for tier, _i, pair in alert.windows() for w in alert.pair_windows(pair, tier)}
    return sorted(windows, key=parse_duration)


def long_windows(alert: BurnRateAlert) -> list[str]:
    """The windows some pair uses as its long window, shortest first: the rules record request
    rates for them (the minimum-bad-requests guard counts in them), ratios for the others."""
    return sorted({pair.long_window for _t, _i, pair in alert.windows()}, key=parse_duration)


ROUNDING_SLACK = "1e-9"
"""Subtracted from every burn-rate threshold so that ``>=`` holds for a value exactly on it
whose floating-point computation lands a few ulps under (a ratio of 6 in 1000 can come out
as 0.005999999999999999). One in a billion requests: no real burn is decided by it."""

BUDGET_INTERVAL = "5m"
"""How often the error-budget-remaining rules run: they read the whole SLO window, which
moves slowly, so every 5 minutes costs a tenth of every 30 s and shows the same curve."""


def error_budget(svc: ServiceConfig) -> float:
    return round(1 - svc.slo.availability, 12)


def latency_budget(svc: ServiceConfig) -> float:
    return round(1 - svc.slo.latency_objective, 12)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(
        yaml_str=yaml_str,
        promql_str=promql_str,
        num=num,
        pct=pct,
        ms=ms,
        gib=gib,
        seconds=seconds,
        multiply=multiply,
        for_duration=for_duration,
    )
    return env


def filename(family: str) -> str:
    return family.replace("_", "-") + ".rules.yml"


def header(stack: str, family: str) -> str:
    return (
        f"# Generated by `monitoring render --stack {stack}` from Pulumi.{stack}.yaml and "
        f"alert_rules/templates/{family}.yml.j2 - do not edit.\n"
    )


def _context(cfg: StackConfig) -> dict[str, Any]:
    return {
        "for_scale": cfg.prometheus.for_scale,
        "services": cfg.services,
        "environment": cfg.environment,
        "evaluation_interval": cfg.prometheus.evaluation_interval,
        "storage_limit_bytes": cfg.costs.supabase_storage_limit_bytes,
        "runbook_url": lambda name: f"{cfg.runbooks.base_url}/{name}.md",
        "job_selector": job_selector,
        "burn_windows": burn_windows,
        "long_windows": long_windows,
        "budget_interval": BUDGET_INTERVAL,
        "rounding_slack": ROUNDING_SLACK,
        "error_budget": error_budget,
        "latency_budget": latency_budget,
    }


def _parse(text: str, where: str) -> tuple[RuleGroup, ...]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RenderError(f"{where}: rendered text is not YAML: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"groups"}:
        raise RenderError(f"{where}: a rule file must hold exactly one key, 'groups'")
    groups = []
    for group in document["groups"] or []:
        rules = tuple(Rule.from_dict(r) for r in group["rules"])
        for rule in rules:
            if (rule.alert is None) == (rule.record is None):
                raise RenderError(f"{where}: every rule needs exactly one of alert/record")
        service = next((r.labels["service"] for r in rules if "service" in r.labels), None)
        if service is None and rules:  # recording rules only: "<service>.<family>.rules"
            service = str(group["name"]).split(".", 1)[0]
        groups.append(RuleGroup(group["name"], rules, group.get("interval"), service))
    return tuple(groups)


def render_rule_files(cfg: StackConfig, stack: str | None = None) -> list[RuleFile]:
    """Every rule file of a stack, as text and as typed objects parsed from that text."""
    stack = stack or cfg.environment
    env = _environment()
    context = _context(cfg)
    files = []
    for family in FAMILIES:
        body = env.get_template(f"{family}.yml.j2").render(context)
        text = header(stack, family) + body.strip() + "\n"
        groups = _parse(text, f"{family}.yml.j2")
        if groups:
            files.append(RuleFile(family, filename(family), groups, text))
    return files


def render_rule_artifacts(cfg: StackConfig, stack: str) -> dict[str, str]:
    """``{alert_rules/<stack>/<family>.rules.yml: text}`` for :mod:`infra.render.artifacts`."""
    return {f"alert_rules/{stack}/{f.filename}": f.text for f in render_rule_files(cfg, stack)}


def alert_names(files: Iterable[RuleFile]) -> set[str]:
    return {r.alert for f in files for g in f.groups for r in g.alerts if r.alert}

"""Alerts of two revisions, compared as a reviewer reads them (recording rules and rule groups:
:mod:`infra.review.diff_recordings`).

An alert is known by its ``service`` label and name (the burn-rate alerts have two rules of one
name, a page and a ticket tier: those pair by severity first, then in order). For each pair the
report names what moved: severity, the threshold (the number an expression compares with, in
the unit its own summary uses: ``1%``, ``500ms``), ``for``, labels, annotations (leaving out
the text that only follows the threshold or ``for``), the expression (as a small diff), and who
the alert reaches at each revision through that revision's ``alertmanager.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.review.fields import added_text, names, text_diff
from infra.review.model import Change, FieldChange
from infra.review.routing import receivers_for

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_PRODUCT = re.compile(rf"^\(\s*({_NUM})\s*\*\s*({_NUM})\s*\)$")
_COMPARISON = re.compile(
    rf"(==|!=|>=|<=|>|<)(\s*(?:bool\s+)?)(\(\s*{_NUM}\s*\*\s*{_NUM}\s*\)|{_NUM})(?![\w.])"
)
_MASK = "\x00"


@dataclass(frozen=True)
class AlertRule:
    service: str
    name: str
    group: str
    expr: str
    for_: str | None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")


@dataclass(frozen=True)
class RecordingRule:
    group: str
    record: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Rules:
    """The rules of one stack at one revision, with its Alertmanager config (if any)."""

    alerts: list[AlertRule] = field(default_factory=list)
    recordings: list[RecordingRule] = field(default_factory=list)
    groups: dict[str, str | None] = field(default_factory=dict)
    alertmanager: Mapping[str, Any] | None = None

    def reach(self, rule: AlertRule) -> tuple[str, ...] | None:
        if self.alertmanager is None:
            return None
        found = receivers_for(self.alertmanager, {**rule.labels, "alertname": rule.name})
        return tuple(dict.fromkeys(found))

    def verb(self, receivers: Iterable[str], past: bool = False) -> str:
        configs = {r.get("name"): r for r in (self.alertmanager or {}).get("receivers") or ()}
        pages = any((configs.get(n) or {}).get("pagerduty_configs") for n in receivers)
        return ("paged" if past else "pages") if pages else ("notified" if past else "notifies")


def _strings(mapping: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def parse_rules(
    rule_files: Mapping[str, Mapping[str, Any]], alertmanager: Mapping[str, Any] | None
) -> Rules:
    """The rules of every rule file (in file order), whatever the files are called."""
    out = Rules(alertmanager=alertmanager)
    for _name, document in sorted(rule_files.items()):
        for group in document.get("groups") or ():
            gname = str(group.get("name"))
            out.groups[gname] = group.get("interval")
            for rule in group.get("rules") or ():
                labels = _strings(rule.get("labels"))
                if "alert" in rule:
                    out.alerts.append(
                        AlertRule(
                            service=labels.get("service", gname),
                            name=str(rule["alert"]),
                            group=gname,
                            expr=str(rule.get("expr", "")),
                            for_=rule.get("for"),
                            labels=labels,
                            annotations=_strings(rule.get("annotations")),
                        )
                    )
                else:
                    out.recordings.append(
                        RecordingRule(
                            gname, str(rule.get("record")), str(rule.get("expr", "")), labels
                        )
                    )
    return out


# --------------------------------------------------------------------------- thresholds


def normal_expr(expr: str) -> str:
    return " ".join(expr.split())


def split_thresholds(expr: str) -> tuple[str, list[str]]:
    """The expression with every compared constant masked, and those constants in order."""
    values: list[str] = []

    def mask(m: re.Match[str]) -> str:
        values.append(" ".join(m.group(3).split()))
        return m.group(1) + m.group(2) + _MASK

    return _COMPARISON.sub(mask, normal_expr(expr)), values


def _boundary(form: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(form)}(?!\.?\d)(?![\w%])")


def _forms(value: str) -> list[str]:
    product = _PRODUCT.match(value)
    if product:
        return [f for factor in product.groups() for f in _forms(factor)]
    number = float(value)
    return [f"{number * 100:.10g}%", f"{number * 1000:.10g}ms", f"{number:.10g}"]


def show_threshold(value: str, rule: AlertRule) -> str:
    """``0.01`` as ``1%`` when the alert's own text says ``1%`` (or ``500ms``); else as is."""
    product = _PRODUCT.match(value)
    if product:
        return " * ".join(show_threshold(f, rule) for f in product.groups())
    text = " ".join(rule.annotations.values())
    forms = _forms(value)
    return next((f for f in forms[:2] if _boundary(f).search(text)), forms[2])


def _masked(text: str, forms: Iterable[str]) -> str:
    for form in sorted(set(forms), key=len, reverse=True):
        text = _boundary(form).sub(_MASK, text)
    return text


# --------------------------------------------------------------------------- pairing


def _pairs(
    base: list[AlertRule], head: list[AlertRule]
) -> list[tuple[AlertRule | None, AlertRule | None, bool]]:
    """(base, head, has_twin) per alert; ``has_twin`` when its name repeats in its service."""
    keys = list(dict.fromkeys((r.service, r.name) for r in [*base, *head]))
    out: list[tuple[AlertRule | None, AlertRule | None, bool]] = []
    for key in keys:
        b = [r for r in base if (r.service, r.name) == key]
        h = [r for r in head if (r.service, r.name) == key]
        twins = max(len(b), len(h)) > 1
        for rb in list(b):
            same = [rh for rh in h if rh.severity == rb.severity]
            if twins and len(same) == 1 and sum(r.severity == rb.severity for r in b) == 1:
                out.append((rb, same[0], twins))
                b.remove(rb)
                h.remove(same[0])
        for rb, rh in zip(b, h, strict=False):
            out.append((rb, rh, twins))
        out += [(rb, None, twins) for rb in b[len(h) :]]
        out += [(None, rh, twins) for rh in h[len(b) :]]
    return out


def _display(rule: AlertRule, twins: bool, services: int) -> str:
    name = f"{rule.name} [{rule.severity}]" if twins else rule.name
    return f"{rule.service}/{name}" if services > 1 else name


# --------------------------------------------------------------------------- alerts


def _reach_text(base: Rules, head: Rules, rb: AlertRule, rh: AlertRule) -> tuple[bool, str]:
    """(whether who it reaches changed, the words for it); empty words when unknown."""
    before, after = base.reach(rb), head.reach(rh)
    if before is None or after is None:
        return False, ""
    if before == after:
        return False, f"still {head.verb(after)} {names(after)}"
    return True, f"now {head.verb(after)} {names(after)} (was {names(before)})"


def _compare_alert(rb: AlertRule, rh: AlertRule) -> tuple[list[str], list[FieldChange], str]:
    parts: list[str] = []
    fields: list[FieldChange] = []
    diffs: list[str] = []
    forms: list[str] = []
    if rb.severity != rh.severity:
        parts.append(f"severity {rb.severity or 'none'} → {rh.severity or 'none'}")
        fields.append(FieldChange("severity", rb.severity or None, rh.severity or None))
    shape_b, values_b = split_thresholds(rb.expr)
    shape_a, values_a = split_thresholds(rh.expr)
    if shape_b != shape_a:
        parts.append("expression changed")
        fields.append(FieldChange("expr", rb.expr, rh.expr))
        diffs.append(text_diff(rb.expr, rh.expr))
    elif values_b != values_a:
        moved = list(
            dict.fromkeys((b, a) for b, a in zip(values_b, values_a, strict=True) if b != a)
        )
        shown = [f"{show_threshold(b, rb)} → {show_threshold(a, rh)}" for b, a in moved]
        parts.append(("threshold " if len(shown) == 1 else "thresholds ") + ", ".join(shown))
        fields += [FieldChange("threshold", b, a) for b, a in moved]
        forms += [f for b, a in moved for f in (*_forms(b), *_forms(a))]
    if rb.for_ != rh.for_:
        parts.append(f"for {rb.for_ or 'none'} → {rh.for_ or 'none'}")
        fields.append(FieldChange("for", rb.for_, rh.for_))
        forms += [f for f in (rb.for_, rh.for_) if f]
    if rb.group != rh.group:
        parts.append(f"moved to rule group {rh.group} (was {rb.group})")
        fields.append(FieldChange("group", rb.group, rh.group))
    for key in dict.fromkeys([*rb.labels, *rh.labels]):
        if key == "severity" or rb.labels.get(key) == rh.labels.get(key):
            continue
        before, after = rb.labels.get(key), rh.labels.get(key)
        fields.append(FieldChange(f"labels.{key}", before, after))
        if before is None:
            parts.append(f"label {key}={after} added")
        elif after is None:
            parts.append(f"label {key}={before} removed")
        else:
            parts.append(f"label {key} {before} → {after}")
    for key in dict.fromkeys([*rb.annotations, *rh.annotations]):
        before, after = rb.annotations.get(key, ""), rh.annotations.get(key, "")
        if _masked(before, forms) == _masked(after, forms):
            continue
        fields.append(FieldChange(f"annotations.{key}", before or None, after or None))
        parts.append(
            f"{key} changed" if before and after else f"{key} {'added' if after else 'removed'}"
        )
        diffs.append(
            text_diff(f"{key}: {before}" if before else "", f"{key}: {after}" if after else "")
        )
    return parts, fields, "\n".join(d for d in diffs if d)


def compare_alerts(base: Rules, head: Rules) -> list[Change]:
    services = len({r.service for r in [*base.alerts, *head.alerts]})
    changes: list[Change] = []
    for rb, rh, twins in _pairs(base.alerts, head.alerts):
        if rb is None and rh is not None:
            reach = head.reach(rh) or ()
            facts = [rh.severity or "no severity"]
            _shape, values = split_thresholds(rh.expr)
            if len(set(values)) == 1:
                facts.append(f"threshold {show_threshold(values[0], rh)}")
            facts += [f"for {rh.for_}"] if rh.for_ else []
            tail = f"; {head.verb(reach)} {names(reach)}" if head.alertmanager else ""
            text = f"{_display(rh, twins, services)}: new alert ({', '.join(facts)}){tail}"
            changes.append(
                Change("Alerts", rh.name, "added", text, added_text(rh.expr), (), ((), reach))
            )
        elif rh is None and rb is not None:
            reach = base.reach(rb) or ()
            facts = [rb.severity or "no severity"] + ([f"for {rb.for_}"] if rb.for_ else [])
            tail = f"; {base.verb(reach, past=True)} {names(reach)}" if base.alertmanager else ""
            text = f"{_display(rb, twins, services)}: removed (was {', '.join(facts)}{tail})"
            changes.append(
                Change(
                    "Alerts", rb.name, "removed", text, added_text(rb.expr, "-"), (), (reach, ())
                )
            )
        elif rb is not None and rh is not None:
            parts, fields, diff = _compare_alert(rb, rh)
            moved, words = _reach_text(base, head, rb, rh)
            if not parts and not moved:
                continue
            text = f"{_display(rb, twins, services)}: " + "; ".join(parts)
            if words and parts:
                text += (": " if moved else "; ") + words
            elif words:
                text += words
            receivers = (base.reach(rb) or (), head.reach(rh) or ())
            changes.append(
                Change("Alerts", rb.name, "changed", text, diff, tuple(fields), receivers)
            )
    return changes

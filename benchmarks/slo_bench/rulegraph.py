"""What a rule's PromQL reads, parsed with ``promql-parser`` (never with regular expressions),
and which rules an alert depends on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import promql_parser as pp


def children(node: Any) -> list[Any]:
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.Call):
        return [a for a in node.args if isinstance(a, pp.Expr)]
    if isinstance(node, pp.AggregateExpr):
        return [node.expr] + ([node.param] if isinstance(node.param, pp.Expr) else [])
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return [node.expr]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def nodes(node: Any) -> Iterator[Any]:
    yield node
    for child in children(node):
        yield from nodes(child)


def series_name(sel: pp.VectorSelector) -> str:
    if sel.name:
        return str(sel.name)
    for m in sel.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return str(m.value)
    return ""


def selected_names(expr: str) -> set[str]:
    """Every series name an expression selects (instant or range)."""
    return {name for name, _ in selections(expr)}


def selections(expr: str) -> list[tuple[str, dict[str, str]]]:
    """Every selector of an expression: its series name and its equality matchers."""
    out = []
    for node in nodes(pp.parse(expr)):
        if isinstance(node, pp.VectorSelector):
            equal = {
                str(m.name): str(m.value)
                for m in node.matchers.matchers
                if m.op == pp.MatchOp.Equal and m.name != "__name__"
            }
            out.append((series_name(node), equal))
    return out


def _may_match(rule: dict[str, Any], equal: dict[str, str]) -> bool:
    """False when the recording rule's own labels contradict a selector's ``l="v"``."""
    labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
    return all(labels.get(k, v) == v for k, v in equal.items())


def rules_of(groups: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (group, rule) pair."""
    for group in groups:
        for rule in group.get("rules") or []:
            yield group, rule


def recorded_names(groups: list[dict[str, Any]]) -> set[str]:
    return {str(rule["record"]) for _, rule in rules_of(groups) if "record" in rule}


def rules_for_alert(groups: list[dict[str, Any]], alertname: str) -> list[dict[str, Any]]:
    """Only the rules ``alertname`` depends on: its alerting rules and, recursively, the
    recording rules of the series they read (by name, unless the rule's own labels contradict
    the selector's ``l="v"`` matchers); the others cannot change when it fires. Groups
    keep their order, interval and name; groups left empty are dropped."""
    needed = {id(r) for _, r in rules_of(groups) if r.get("alert") == alertname}
    todo = [r for _, r in rules_of(groups) if id(r) in needed]
    recorders: dict[str, list[dict[str, Any]]] = {}
    for _, rule in rules_of(groups):
        if "record" in rule:
            recorders.setdefault(str(rule["record"]), []).append(rule)
    while todo:
        for name, equal in selections(str(todo.pop()["expr"])):
            for rule in recorders.get(name, []):
                if id(rule) not in needed and _may_match(rule, equal):
                    needed.add(id(rule))
                    todo.append(rule)
    out = []
    for group in groups:
        rules = [r for r in group["rules"] if id(r) in needed]
        if rules:
            out.append({**group, "rules": rules})
    return out

"""Inline recording rules into an alert's expression, so that it runs on raw history.

A backtest replays an alert over recorded data; a recorded series that a revision introduces
(or changes) has no history, so every recording-rule reference is replaced by the rule's own
expression, recursively, at the same revision. The expression is parsed with ``promql-parser``
(the Rust ``promql-parser`` crate), never rewritten with regular expressions.

A reference ``job:x:ratio{job="a", channel=~"wa.*"}`` becomes the rule's expression with the
series' identity put back, then filtered exactly as the selector would filter the stored series:

- the rule's ``labels:`` and the record name ``__name__`` are set with ``label_replace``, as the
  rule evaluation sets them (so ``absent``, ``or`` and friends see the same labels);
- ``l="v"`` / ``l!="v"`` keep / drop results whose ``l`` equals ``v``:
  ``(E) and on (l) label_replace(vector(1), "l", "v", "", "")`` (``unless`` for ``!=``);
- ``l=~"re"`` / ``l!~"re"`` mark matching results with a temporary label (``label_replace``
  anchors its regex as matchers do), keep (``and``) or drop (``unless``) the marked ones, and
  remove the mark.
- ``absent(recorded{…})`` takes its labels from the selector's equality matchers, as Prometheus'
  ``absent`` does; a range over a recorded series becomes a subquery at the rule's interval.

Exact when each recording rule runs before the alert in the same group (as every rendered group
does); a rule in another group would be read up to one interval late by Prometheus. An
``offset`` or ``@`` on an instant recorded selector cannot be inlined and is an error.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import promql_parser as pp

from infra.config.types import format_duration

MARK = "__backtest_match__"
_FOLD: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
}
COMPARISONS = ("==", "!=", ">", "<", ">=", "<=")


class InlineError(ValueError):
    """An expression that cannot be parsed or inlined; one line naming the expression."""


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)
    interval: int = 60
    """Seconds between evaluations of the rule's group (the step of a subquery over it)."""


def parse(text: str) -> pp.Expr:
    try:
        return pp.parse(text)
    except (ValueError, RuntimeError) as exc:
        short = " ".join(text.split())
        raise InlineError(f"cannot parse {short[:120]!r}: {exc}") from None


def _q(value: str) -> str:
    """A PromQL string literal (PromQL strings follow Go's escaping, a superset of JSON's)."""
    return json.dumps(value, ensure_ascii=True)


def _name_of(sel: pp.VectorSelector) -> str | None:
    if sel.name:
        return sel.name
    for m in sel.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return m.value
    return None


class _Inliner:
    def __init__(self, rules: Sequence[RecordingRule]) -> None:
        self.rules: dict[str, list[RecordingRule]] = {}
        for rule in rules:
            self.rules.setdefault(rule.record, []).append(rule)
        self.bodies: dict[str, str] = {}
        self.stack: list[str] = []

    def text(self, expr: str) -> str:
        tree = parse(expr)
        return str(pp.transform(tree, pre_visit=self._visit).prettify())

    def _visit(self, node: pp.Expr) -> pp.Expr | None:
        if isinstance(node, pp.Call) and node.func.name in ("absent", "absent_over_time"):
            arg = node.args[0] if node.args else None
            sel = arg.vector_selector if isinstance(arg, pp.MatrixSelector) else arg
            if arg is not None and isinstance(sel, pp.VectorSelector) and self._recorded(sel):
                return parse(self._absent(node.func.name, arg, sel))
        if isinstance(node, pp.MatrixSelector) and self._recorded(node.vector_selector):
            return parse(self._range(node))
        if isinstance(node, pp.VectorSelector) and self._recorded(node):
            if node.offset is not None or node.at is not None:
                raise InlineError(
                    f"{node}: an offset or @ on a recorded series cannot be inlined; "
                    "write it as a subquery over the series"
                )
            return parse(self._series(node))
        return None

    def _recorded(self, sel: pp.VectorSelector) -> bool:
        name = _name_of(sel)
        if name is None:
            for m in sel.matchers.matchers:
                if m.name == "__name__" and any(r for r in self.rules if _re_match(m, r)):
                    raise InlineError(f"{sel}: a name matcher that selects recorded series")
            return False
        return name in self.rules

    def _body(self, name: str) -> str:
        """The recorded series ``name`` as an expression on raw series, with its identity."""
        if name in self.bodies:
            return self.bodies[name]
        if name in self.stack:
            raise InlineError(f"recording rules read each other in a cycle: {name}")
        self.stack.append(name)
        parts = []
        for rule in self.rules[name]:
            text = f"({self.text(rule.expr)})"
            for key, value in sorted(rule.labels.items()):
                text = f'label_replace({text}, {_q(key)}, {_q(_literal(value))}, "", "")'
            parts.append(f'label_replace({text}, "__name__", {_q(name)}, "", "")')
        self.stack.pop()
        self.bodies[name] = " or ".join(parts)
        return self.bodies[name]

    def _series(self, sel: pp.VectorSelector) -> str:
        name = _name_of(sel)
        assert name is not None
        body = self._body(name)
        groups = [sel.matchers.matchers]
        if sel.matchers.or_matchers:
            groups = [list(g) for g in sel.matchers.or_matchers]
        filtered = []
        for group in groups:
            text = body
            for m in group:
                if m.name != "__name__":
                    text = _filter(text, m)
            filtered.append(f"({text})")
        return "(" + " or ".join(filtered) + ")"

    def _range(self, node: pp.MatrixSelector) -> str:
        sel = node.vector_selector
        interval = min(r.interval for r in self.rules[_name_of(sel) or ""])
        window = format_duration(int(node.range.total_seconds()))
        return f"{self._series(sel)}[{window}:{format_duration(interval)}]{_modifiers(sel)}"

    def _absent(self, func: str, arg: pp.Expr, sel: pp.VectorSelector) -> str:
        inner = self._range(arg) if isinstance(arg, pp.MatrixSelector) else self._series(sel)
        text = f"{func}({inner})"
        equal = [m for m in sel.matchers.matchers if m.op == pp.MatchOp.Equal]
        names = [m.name for m in equal]
        for m in equal:
            if m.name != "__name__" and names.count(m.name) == 1:
                text = f'label_replace({text}, {_q(m.name)}, {_q(_literal(m.value))}, "", "")'
        return text


def _literal(value: str) -> str:
    """``value`` as a ``label_replace`` replacement, where ``$`` starts a group reference."""
    return value.replace("$", "$$")


def _re_match(m: pp.Matcher, name: str) -> bool:
    import re

    return m.op in (pp.MatchOp.Re, pp.MatchOp.NotRe) and bool(re.fullmatch(m.value, name)) == (
        m.op == pp.MatchOp.Re
    )


def _modifiers(sel: pp.VectorSelector) -> str:
    """The ``@`` and offset of ``sel`` as PromQL text (they move to the subquery)."""
    text = ""
    if sel.at is not None:
        if sel.at.type == pp.AtModifierType.Start:
            text += " @ start()"
        elif sel.at.type == pp.AtModifierType.End:
            text += " @ end()"
        elif sel.at.at is not None:
            text += f" @ {sel.at.at.timestamp():.3f}"
    if sel.offset is not None:
        seconds = int(sel.offset.total_seconds())
        sign = "-" if seconds < 0 else ""
        text += f" offset {sign}{format_duration(abs(seconds))}"
    return text


def _filter(text: str, m: pp.Matcher) -> str:
    """``text`` restricted to the results that matcher ``m`` selects."""
    keep = "and" if m.op in (pp.MatchOp.Equal, pp.MatchOp.Re) else "unless"
    if m.op in (pp.MatchOp.Equal, pp.MatchOp.NotEqual):
        one = f'label_replace(vector(1), {_q(m.name)}, {_q(_literal(m.value))}, "", "")'
        return f"({text}) {keep} on ({m.name}) {one}"
    marked = f'label_replace({text}, "{MARK}", "1", {_q(m.name)}, {_q(m.value)})'
    one = f'label_replace(vector(1), "{MARK}", "1", "", "")'
    return f'label_replace({marked} {keep} on ({MARK}) {one}, "{MARK}", "", "", "")'


def inline(expr: str, rules: Sequence[RecordingRule]) -> str:
    """``expr`` with every recorded series of ``rules`` replaced by what records it."""
    return _Inliner(rules).text(expr)


def constant(node: pp.Expr) -> float | None:
    """The value of a constant arithmetic expression (``(14.4 * 0.001)``), else ``None``."""
    if isinstance(node, pp.NumberLiteral):
        return float(node.val)
    if isinstance(node, pp.ParenExpr):
        return constant(node.expr)
    if isinstance(node, pp.UnaryExpr):
        inner = constant(node.expr)
        return None if inner is None else -inner
    if isinstance(node, pp.BinaryExpr) and str(node.op) in _FOLD:
        lhs, rhs = constant(node.lhs), constant(node.rhs)
        if lhs is None or rhs is None:
            return None
        try:
            return _FOLD[str(node.op)](lhs, rhs)
        except (ZeroDivisionError, OverflowError):
            return None
    return None


@dataclass(frozen=True)
class Comparison:
    """The first comparison of an alert expression with a constant: ``value op threshold``."""

    value: str
    op: str
    threshold: float


def first_comparison(expr: str) -> Comparison | None:
    """What an alert compares, for plotting: its first (leftmost) filtering comparison of an
    expression with a constant, e.g. ``ratio > 0.01`` → (``ratio``, ``>``, 0.01)."""
    found: list[Comparison] = []

    def visit(node: pp.Expr) -> bool:
        if found:
            return False
        if not isinstance(node, pp.BinaryExpr) or str(node.op) not in COMPARISONS:
            return True
        if node.modifier is None or not node.modifier.return_bool:
            lhs, rhs = constant(node.lhs), constant(node.rhs)
            if rhs is not None and lhs is None:
                found.append(Comparison(node.lhs.prettify(), str(node.op), rhs))
            elif lhs is not None and rhs is None:
                found.append(Comparison(node.rhs.prettify(), _flip(str(node.op)), lhs))
        return True

    pp.walk(parse(expr), pre_visit=visit)
    return found[0] if found else None


def _flip(op: str) -> str:
    return {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)

"""Two ``alertmanager.yml`` documents compared: default receiver, grouping and timing, the route
tree, inhibition and the receivers themselves. What each alert now reaches is reported with the
alert (``diff_alerts``); this section says what changed in the routing itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.review.fields import (
    describe_fields,
    field_changes,
    list_changes,
    show,
)
from infra.review.model import Change, FieldChange

SECTION = "Routing"
ROOT_FIELDS = ("group_by", "group_wait", "group_interval", "repeat_interval")
ROUTE_KEYS = frozenset({"receiver", "matchers", "match", "match_re", "continue", "routes"})


def _matchers(route: Mapping[str, Any]) -> str:
    found = [str(m) for m in route.get("matchers") or ()]
    found += [f'{k}="{v}"' for k, v in (route.get("match") or {}).items()]
    found += [f'{k}=~"{v}"' for k, v in (route.get("match_re") or {}).items()]
    return ", ".join(found) or "everything"


def _route_lines(route: Mapping[str, Any], depth: int = 0) -> list[str]:
    lines = []
    for child in route.get("routes") or ():
        text = f"{'  ' * depth}{_matchers(child)} → {child.get('receiver') or '(parent receiver)'}"
        if child.get("continue"):
            text += " (continue)"
        extra = {k: v for k, v in child.items() if k not in ROUTE_KEYS}
        if extra:
            text += " [" + ", ".join(f"{k} {show(v)}" for k, v in extra.items()) + "]"
        lines.append(text)
        lines += _route_lines(child, depth + 1)
    return lines


def _inhibit(rule: Mapping[str, Any]) -> str:
    source = _matchers({"matchers": rule.get("source_matchers"), "match": rule.get("source_match")})
    target = _matchers({"matchers": rule.get("target_matchers"), "match": rule.get("target_match")})
    equal = ", ".join(str(e) for e in rule.get("equal") or ()) or "no labels"
    return f"while {source} fires, mute {target} with the same {equal}"


def _integrations(receiver: Mapping[str, Any]) -> str:
    kinds = [k.removesuffix("_configs") for k in receiver if k.endswith("_configs") and receiver[k]]
    return ", ".join(kinds) or "no integration: drops its alerts"


def compare_routing(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[Change]:
    changes: list[Change] = []
    rb, rh = base.get("route") or {}, head.get("route") or {}
    if rb.get("receiver") != rh.get("receiver"):
        text = f"default receiver {rb.get('receiver')} → {rh.get('receiver')}"
        fields = (FieldChange("route.receiver", rb.get("receiver"), rh.get("receiver")),)
        changes.append(Change(SECTION, "default receiver", "changed", text, fields=fields))
    for key in ROOT_FIELDS:
        b, a = rb.get(key), rh.get(key)
        if b != a:
            shown_b = ", ".join(b) if isinstance(b, list) else show(b)
            shown_a = ", ".join(a) if isinstance(a, list) else show(a)
            fields = (FieldChange(f"route.{key}", b, a),)
            changes.append(
                Change(SECTION, key, "changed", f"{key} {shown_b} → {shown_a}", fields=fields)
            )
    other = field_changes(
        {k: v for k, v in rb.items() if k not in {"receiver", "routes", *ROOT_FIELDS}},
        {k: v for k, v in rh.items() if k not in {"receiver", "routes", *ROOT_FIELDS}},
    )
    if other:
        changes.append(
            Change(
                SECTION,
                "root route",
                "changed",
                f"root route: {describe_fields(other)}",
                fields=tuple(other),
            )
        )
    changes += list_changes(SECTION, "route", _route_lines(rb), _route_lines(rh))
    changes += list_changes(
        SECTION,
        "inhibit rule",
        [_inhibit(r) for r in base.get("inhibit_rules") or ()],
        [_inhibit(r) for r in head.get("inhibit_rules") or ()],
    )
    changes += _receivers(base, head)
    top_b = {k: v for k, v in base.items() if k not in {"route", "inhibit_rules", "receivers"}}
    top_h = {k: v for k, v in head.items() if k not in {"route", "inhibit_rules", "receivers"}}
    for c in field_changes(top_b, top_h):
        changes.append(Change(SECTION, c.field, "changed", describe_fields([c]), fields=(c,)))
    return changes


def _receivers(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[Change]:
    b = {str(r.get("name")): r for r in base.get("receivers") or ()}
    h = {str(r.get("name")): r for r in head.get("receivers") or ()}
    changes = []
    for name in dict.fromkeys([*b, *h]):
        if name not in b:
            text = f"receiver {name} added ({_integrations(h[name])})"
            changes.append(Change(SECTION, name, "added", text))
        elif name not in h:
            text = f"receiver {name} removed (was {_integrations(b[name])})"
            changes.append(Change(SECTION, name, "removed", text))
        else:
            fields = field_changes(b[name], h[name])
            if fields:
                text = f"receiver {name}: {describe_fields(fields)}"
                changes.append(Change(SECTION, name, "changed", text, fields=tuple(fields)))
    return changes

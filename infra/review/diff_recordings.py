"""Recording rules and rule groups of two revisions compared: groups added, removed or
evaluated at another interval; recording rules added, removed, or with another expression
(shown as a small diff) or labels."""

from __future__ import annotations

from infra.review.diff_alerts import RecordingRule, Rules, normal_expr
from infra.review.fields import added_text, text_diff
from infra.review.model import Change, FieldChange

SECTION = "Recording rules"


def _keyed(rules: list[RecordingRule]) -> dict[tuple[str, str, int], RecordingRule]:
    seen: dict[tuple[str, str], int] = {}
    out = {}
    for r in rules:
        n = seen[(r.group, r.record)] = seen.get((r.group, r.record), -1) + 1
        out[(r.group, r.record, n)] = r
    return out


def compare_recordings(base: Rules, head: Rules) -> list[Change]:
    changes: list[Change] = []
    for name in dict.fromkeys([*base.groups, *head.groups]):
        if name not in base.groups:
            changes.append(Change(SECTION, name, "added", f"rule group {name}: new"))
        elif name not in head.groups:
            changes.append(Change(SECTION, name, "removed", f"rule group {name}: removed"))
        elif base.groups[name] != head.groups[name]:
            b, a = base.groups[name], head.groups[name]
            text = f"rule group {name}: evaluation interval {b or 'default'} → {a or 'default'}"
            changes.append(
                Change(
                    SECTION,
                    name,
                    "changed",
                    text,
                    fields=(FieldChange("interval", b, a),),
                )
            )
    b_rules, h_rules = _keyed(base.recordings), _keyed(head.recordings)
    for key in dict.fromkeys([*b_rules, *h_rules]):
        rb, rh = b_rules.get(key), h_rules.get(key)
        record = key[1]
        if rb is None and rh is not None:
            changes.append(
                Change(
                    SECTION,
                    record,
                    "added",
                    f"{record}: new recording rule",
                    added_text(rh.expr),
                )
            )
        elif rh is None and rb is not None:
            changes.append(
                Change(
                    SECTION,
                    record,
                    "removed",
                    f"{record}: removed",
                    added_text(rb.expr, "-"),
                )
            )
        elif rb is not None and rh is not None:
            parts, fields = [], []
            if normal_expr(rb.expr) != normal_expr(rh.expr):
                parts.append("expression changed")
                fields.append(FieldChange("expr", rb.expr, rh.expr))
            if rb.labels != rh.labels:
                parts.append(f"labels {rb.labels or '{}'} → {rh.labels or '{}'}")
                fields.append(FieldChange("labels", rb.labels, rh.labels))
            if parts:
                diff = text_diff(rb.expr, rh.expr) if fields[0].field == "expr" else ""
                text = f"{record} (group {key[0]}): {'; '.join(parts)}"
                changes.append(Change(SECTION, record, "changed", text, diff, tuple(fields)))
    return changes

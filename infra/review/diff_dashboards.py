"""Dashboards of two revisions compared: dashboards and panels added or removed, a panel's
queries (as a small diff), its thresholds (in the panel's unit), its layout and other settings.

A dashboard is known by its ``uid`` (what Grafana knows it by), a panel by its title (its ``id``
is only its position). The ``description`` is the "generated, do not edit" notice, like a
comment in a rule file, and is not compared; Grafana owns ``id`` and ``version``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.review.fields import (
    added_text,
    describe_fields,
    field_changes,
    text_diff,
)
from infra.review.model import Change, FieldChange

SECTION = "Dashboards"
NOT_COMPARED = ("panels", "id", "version", "description")
PANEL_HANDLED = ("id", "gridPos", "targets", "fieldConfig.defaults.thresholds", "panels")

Doc = Mapping[str, Any]


def _panels(panels: Any) -> Iterator[Doc]:
    for panel in panels or ():
        yield panel
        yield from _panels(panel.get("panels"))  # rows hold their panels


def _keyed_panels(dashboard: Doc) -> dict[str, Doc]:
    out: dict[str, Doc] = {}
    for panel in _panels(dashboard.get("panels")):
        title = str(panel.get("title") or f"panel {panel.get('id')}")
        key, n = title, 1
        while key in out:
            n += 1
            key = f"{title} ({n})"
        out[key] = panel
    return out


def _queries(panel: Doc) -> str:
    return "\n".join(
        f"{t.get('refId', '?')}: {t.get('expr', '')}" for t in panel.get("targets") or ()
    )


def _unit_value(panel: Doc, value: Any) -> str:
    unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    if value is None:
        return "base"
    number = float(value)
    if unit == "percentunit":
        return f"{number * 100:.10g}%"
    if unit == "percent":
        return f"{number:.10g}%"
    if unit in ("s", "ms", "bytes"):
        return f"{number:.10g}{unit if unit != 'bytes' else ' B'}"
    return f"{number:.10g}"


def _steps(panel: Doc) -> list[Doc]:
    thresholds = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}
    return list(thresholds.get("steps") or ())


def _thresholds(b: Doc, h: Doc) -> str:
    sb, sh = _steps(b), _steps(h)
    if [s.get("color") for s in sb] == [s.get("color") for s in sh]:
        moved = [
            f"{_unit_value(b, x.get('value'))} → {_unit_value(h, y.get('value'))}"
            for x, y in zip(sb, sh, strict=True)
            if x.get("value") != y.get("value")
        ]
        if moved:
            return ("threshold " if len(moved) == 1 else "thresholds ") + ", ".join(moved)

    def listed(panel: Doc, steps: list[Doc]) -> str:
        shown = [f"{s.get('color')} from {_unit_value(panel, s.get('value'))}" for s in steps]
        return ", ".join(shown) or "none"

    return f"thresholds {listed(b, sb)} → {listed(h, sh)}"


def _panel_changes(b: Doc, h: Doc) -> tuple[list[str], list[FieldChange], str]:
    parts, fields, diff = [], [], ""
    if _queries(b) != _queries(h):
        parts.append("query changed")
        fields.append(FieldChange("queries", _queries(b), _queries(h)))
        diff = text_diff(_queries(b), _queries(h))
    else:
        other = field_changes(b.get("targets") or [], h.get("targets") or [])
        if other:
            parts.append("query settings: " + describe_fields(other))
            fields += other
    if _steps(b) != _steps(h) or field_changes(_thresholds_doc(b), _thresholds_doc(h), ("steps",)):
        parts.append(_thresholds(b, h))
        fields.append(FieldChange("thresholds", _thresholds_doc(b), _thresholds_doc(h)))
    if b.get("gridPos") != h.get("gridPos"):
        parts.append("moved or resized")
        fields.append(FieldChange("gridPos", b.get("gridPos"), h.get("gridPos")))
    rest = field_changes(b, h, PANEL_HANDLED)
    if rest:
        parts.append(describe_fields(rest))
        fields += rest
    return parts, fields, diff


def _thresholds_doc(panel: Doc) -> Any:
    return ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}


def _compare_dashboard(b: Doc, h: Doc) -> list[Change]:
    title = str(b.get("title"))
    out = []
    settings = field_changes(
        {k: v for k, v in b.items() if k not in NOT_COMPARED},
        {k: v for k, v in h.items() if k not in NOT_COMPARED},
    )
    if settings:
        text = f"dashboard `{title}`: {describe_fields(settings)}"
        out.append(Change(SECTION, title, "changed", text, fields=tuple(settings)))
    pb, ph = _keyed_panels(b), _keyed_panels(h)
    for key in dict.fromkeys([*pb, *ph]):
        if key not in pb:
            text = f"dashboard `{title}`: panel `{key}` added ({ph[key].get('type')})"
            out.append(Change(SECTION, title, "added", text, added_text(_queries(ph[key]))))
        elif key not in ph:
            text = f"dashboard `{title}`: panel `{key}` removed"
            out.append(Change(SECTION, title, "removed", text, added_text(_queries(pb[key]), "-")))
        else:
            parts, fields, diff = _panel_changes(pb[key], ph[key])
            if parts:
                text = f"dashboard `{title}`: panel `{key}`: {'; '.join(parts)}"
                out.append(Change(SECTION, title, "changed", text, diff, tuple(fields)))
    return out


def _by_uid(dashboards: Mapping[str, Doc]) -> dict[str, Doc]:
    return {str(d.get("uid") or name): d for name, d in sorted(dashboards.items())}


def compare_dashboards(base: Mapping[str, Doc], head: Mapping[str, Doc]) -> list[Change]:
    """Every change between two stacks' dashboards (``{file name: model}`` each)."""
    b, h = _by_uid(base), _by_uid(head)
    out: list[Change] = []
    for uid in dict.fromkeys([*b, *h]):
        if uid not in b:
            title = str(h[uid].get("title"))
            count = len(_keyed_panels(h[uid]))
            out.append(
                Change(SECTION, title, "added", f"dashboard `{title}` added ({count} panels)")
            )
        elif uid not in h:
            title = str(b[uid].get("title"))
            out.append(Change(SECTION, title, "removed", f"dashboard `{title}` removed"))
        else:
            out += _compare_dashboard(b[uid], h[uid])
    return out

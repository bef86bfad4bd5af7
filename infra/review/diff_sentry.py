"""Two stacks' Sentry detectors and workflows compared (from ``provisioned/<stack>.json``):
thresholds in the detector's unit, severity, window, and who each workflow notifies."""

from __future__ import annotations

from typing import Any

from infra.config.types import format_duration
from infra.review.fields import (
    Doc,
    enabled_change,
    generic_changes,
    keyed_changes,
    names,
    pct,
    settings_changes,
    show,
)
from infra.review.model import Change, FieldChange


def _threshold(detector: Doc) -> Any:
    conditions = (detector.get("conditionGroup") or {}).get("conditions") or ()
    return next((c.get("comparison") for c in conditions if c.get("type") in ("gt", "lt")), None)


def _source(detector: Doc) -> Doc:
    return next(iter(detector.get("dataSources") or ()), {})


def _detector_value(detector: Doc, value: Any) -> str:
    aggregate = str(_source(detector).get("aggregate", ""))
    if value is None:
        return "none"
    if aggregate.startswith("failure_rate"):
        return pct(value)
    if "duration" in aggregate and not aggregate.startswith("count"):
        return f"{float(value):.10g}ms"
    return show(value)


def _detector_summary(d: Doc) -> str:
    window = format_duration(int(_source(d).get("timeWindow") or 0))
    return (
        f"{_source(d).get('aggregate')} of `{_source(d).get('query')}` above "
        f"{_detector_value(d, _threshold(d))} over {window}, {d.get('severity')}"
    )


DETECTOR_HANDLED = ("conditionGroup", "dataSources[0].timeWindow", "severity")


def _detector_changes(b: Doc, h: Doc) -> tuple[list[str], list[FieldChange]]:
    parts, fields = [], []
    if _threshold(b) != _threshold(h):
        parts.append(
            f"threshold {_detector_value(b, _threshold(b))} → {_detector_value(h, _threshold(h))}"
        )
        fields.append(FieldChange("threshold", _threshold(b), _threshold(h)))
    if b.get("severity") != h.get("severity"):
        parts.append(f"severity {b.get('severity')} → {h.get('severity')}")
        fields.append(FieldChange("severity", b.get("severity"), h.get("severity")))
    wb, wh = _source(b).get("timeWindow"), _source(h).get("timeWindow")
    if wb != wh:
        parts.append(f"window {format_duration(int(wb or 0))} → {format_duration(int(wh or 0))}")
        fields.append(FieldChange("timeWindow", wb, wh))
    conditions_b = [
        {**c, "comparison": None} for c in (b.get("conditionGroup") or {}).get("conditions") or ()
    ]
    conditions_h = [
        {**c, "comparison": None} for c in (h.get("conditionGroup") or {}).get("conditions") or ()
    ]
    if conditions_b != conditions_h and not fields:
        parts.append("conditions changed")
        fields.append(
            FieldChange("conditionGroup", b.get("conditionGroup"), h.get("conditionGroup"))
        )
    rest, more = generic_changes(b, h, DETECTOR_HANDLED)
    # a description that only repeats the threshold follows it
    if fields and [f.field for f in more] == ["description"]:
        rest, more = [], []
    return parts + rest, fields + more


def _action(action: Doc) -> str:
    config = action.get("config") or {}
    kind = str(action.get("type"))
    if kind == "email":
        return f"email {config.get('targetType')} {config.get('targetIdentifier')}"
    target = config.get("targetDisplay") or config.get("targetIdentifier")
    return f"{kind} {target} (integration {action.get('integrationId')})"


def _actions(workflow: Doc) -> list[str]:
    return [_action(a) for f in workflow.get("actionFilters") or () for a in f.get("actions") or ()]


def _workflow_changes(b: Doc, h: Doc) -> tuple[list[str], list[FieldChange]]:
    parts, fields = [], []
    if _actions(b) != _actions(h):
        parts.append(f"notifies {names(_actions(h))} (was {names(_actions(b))})")
        fields.append(FieldChange("actions", _actions(b), _actions(h)))
    fb, fh = (b.get("config") or {}).get("frequency"), (h.get("config") or {}).get("frequency")
    if fb != fh:
        parts.append(f"repeats at most every {fb} min → {fh} min")
        fields.append(FieldChange("frequency", fb, fh))
    if b.get("detectors") != h.get("detectors"):
        parts.append(
            f"detectors {names(b.get('detectors') or ())} → {names(h.get('detectors') or ())}"
        )
        fields.append(FieldChange("detectors", b.get("detectors"), h.get("detectors")))
    skip = ("config.frequency", "detectors", *[f"actionFilters[{i}].actions" for i in range(5)])
    rest, more = generic_changes(b, h, skip)
    return parts + rest, fields + more


def compare_sentry(base: Doc, head: Doc) -> list[Change]:
    out = enabled_change("Sentry", base, head)
    out += settings_changes("Sentry", base, head, ("detectors", "workflows", "workflow_problems"))
    out += keyed_changes(
        "Sentry",
        "detector",
        list(base.get("detectors") or ()),
        list(head.get("detectors") or ()),
        key=lambda d: str(d["key"]),
        title=lambda d: str(d.get("name")),
        summary=_detector_summary,
        changed=_detector_changes,
    )
    out += keyed_changes(
        "Sentry",
        "workflow",
        list(base.get("workflows") or ()),
        list(head.get("workflows") or ()),
        key=lambda w: str(w["severity"]),
        title=lambda w: str(w.get("name")),
        summary=lambda w: f"notifies {names(_actions(w))}",
        changed=_workflow_changes,
    )
    problems_b, problems_h = (
        base.get("workflow_problems") or [],
        head.get("workflow_problems") or [],
    )
    if problems_b != problems_h:
        text = (
            f"`pulumi up` would stop: {'; '.join(problems_h)}"
            if problems_h
            else "`pulumi up` no longer stops on sentry.notify"
        )
        fields = (FieldChange("workflow_problems", problems_b, problems_h),)
        out.append(Change("Sentry", "workflows", "changed", text, fields=fields))
    return out

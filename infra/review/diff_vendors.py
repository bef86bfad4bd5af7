"""Two ``provisioned/<stack>.json`` documents compared: SLO targets (with the error budget they
leave), UptimeRobot monitors and maintenance windows, Sentry detectors and workflows
(:mod:`infra.review.diff_sentry`), Grafana contact points and notification policy."""

from __future__ import annotations

from infra.config.types import format_duration
from infra.review.diff_sentry import compare_sentry
from infra.review.fields import (
    Doc,
    describe_fields,
    enabled_change,
    field_changes,
    generic_changes,
    keyed_changes,
    list_changes,
    pct,
    seconds_text,
    settings_changes,
)
from infra.review.model import Change, FieldChange

# --------------------------------------------------------------------------- SLOs


def _budget(slo: Doc) -> str:
    return f"{(slo.get('error_budget') or {}).get('per_window')} per {slo.get('window')}"


def _latency(slo: Doc) -> str:
    return f"{pct(slo['latency_objective'])} under {seconds_text(slo['latency_threshold_seconds'])}"


def compare_slos(base: list[Doc], head: list[Doc]) -> list[Change]:
    b = {str(s["service"]): s for s in base}
    h = {str(s["service"]): s for s in head}
    several = len({*b, *h}) > 1

    def lead(service: str) -> str:
        return f"{service} " if several else ""

    out = []
    for svc in dict.fromkeys([*b, *h]):
        if svc not in b or svc not in h:
            slo, verb = (h[svc], "added") if svc in h else (b[svc], "removed")
            text = (
                f"{lead(svc)}SLO {verb}: availability {pct(slo['availability'])} "
                f"(error budget {_budget(slo)}), latency {_latency(slo)}"
            )
            out.append(Change("SLOs", svc, verb, text))
            continue
        sb, sh = b[svc], h[svc]
        if (sb["availability"], sb["window"]) != (sh["availability"], sh["window"]):
            avail = f"{pct(sb['availability'])} → {pct(sh['availability'])}"
            if sb["availability"] == sh["availability"]:
                avail = pct(sh["availability"])
            budget_b, budget_h = _budget(sb), _budget(sh)
            if sb["window"] == sh["window"]:
                budget = (
                    f"{sb['error_budget']['per_window']} → {sh['error_budget']['per_window']} "
                    f"per {sh['window']}"
                )
            else:
                budget = f"{budget_b} → {budget_h}"
            fields = [
                FieldChange(k, sb[k], sh[k]) for k in ("availability", "window") if sb[k] != sh[k]
            ]
            text = f"{lead(svc)}availability {avail}: error budget {budget}"
            out.append(Change("SLOs", svc, "changed", text, fields=tuple(fields)))
        keys = ("latency_objective", "latency_threshold_seconds")
        if any(sb[k] != sh[k] for k in keys):
            text = (
                f"{lead(svc)}latency {_latency(sb)} → {_latency(sh)}: "
                f"{pct(sb['latency_budget']['ratio'])} → {pct(sh['latency_budget']['ratio'])} "
                f"of requests may be slower"
            )
            fields = [FieldChange(k, sb[k], sh[k]) for k in keys if sb[k] != sh[k]]
            out.append(Change("SLOs", svc, "changed", text, fields=tuple(fields)))
        if sb.get("latency_p50_seconds") != sh.get("latency_p50_seconds"):
            b50, h50 = sb.get("latency_p50_seconds"), sh.get("latency_p50_seconds")
            text = f"{lead(svc)}p50 latency target {seconds_text(b50)} → {seconds_text(h50)}"
            fields = [FieldChange("latency_p50_seconds", b50, h50)]
            out.append(Change("SLOs", svc, "changed", text, fields=tuple(fields)))
    return out


# --------------------------------------------------------------------------- UptimeRobot


def _contacts(monitor: Doc) -> str:
    listed = [
        f"{c['id']} after {c['threshold']}m"
        + (f", every {c['recurrence']}m" if c.get("recurrence") else "")
        for c in monitor.get("alert_contacts") or ()
    ]
    return "; ".join(listed) or "nobody"


def _monitor_summary(m: Doc) -> str:
    every, timeout = format_duration(int(m["interval"])), format_duration(int(m["timeout"]))
    codes = ", ".join(m.get("success_codes") or ())
    return (
        f"{m.get('http_method', 'GET')} {m.get('url')} every {every}, timeout {timeout}, "
        f"expects {codes}, alerts {_contacts(m)}"
    )


def _monitor_changes(b: Doc, h: Doc) -> tuple[list[str], list[FieldChange]]:
    parts, fields = [], []
    for key in ("interval", "timeout"):
        if b.get(key) != h.get(key):
            parts.append(f"{key} {format_duration(int(b[key]))} → {format_duration(int(h[key]))}")
            fields.append(FieldChange(key, b.get(key), h.get(key)))
    if b.get("alert_contacts") != h.get("alert_contacts"):
        parts.append(f"alerts {_contacts(h)} (was {_contacts(b)})")
        fields.append(
            FieldChange("alert_contacts", b.get("alert_contacts"), h.get("alert_contacts"))
        )
    rest, more = generic_changes(b, h, ("interval", "timeout", "alert_contacts"))
    return parts + rest, fields + more


def compare_uptimerobot(base: Doc, head: Doc) -> list[Change]:
    out = enabled_change("UptimeRobot", base, head)
    out += settings_changes("UptimeRobot", base, head, ("monitors", "maintenance_windows"))
    out += keyed_changes(
        "UptimeRobot",
        "monitor",
        list(base.get("monitors") or ()),
        list(head.get("monitors") or ()),
        key=lambda m: str(m["key"]),
        title=lambda m: str(m.get("friendly_name")),
        summary=_monitor_summary,
        changed=_monitor_changes,
    )
    out += keyed_changes(
        "UptimeRobot",
        "maintenance window",
        list(base.get("maintenance_windows") or ()),
        list(head.get("maintenance_windows") or ()),
        key=lambda w: str(w["key"]),
        title=lambda w: str(w.get("name")),
        summary=lambda w: (
            f"{w.get('interval')} from {w.get('date')} {w.get('time')}, {w.get('duration')} min"
        ),
        changed=lambda b, h: generic_changes(b, h, ()),
    )
    return out


# --------------------------------------------------------------------------- Grafana


def _integration_kinds(point: Doc) -> str:
    return ", ".join(k for k, v in point.items() if k != "name" and v) or "nothing"


def _policy_lines(policy: Doc) -> list[str]:
    lines = []
    for p in policy.get("policies") or ():
        matchers = ", ".join(
            f'{m["label"]}{m["match"]}"{m["value"]}"' for m in p.get("matchers") or ()
        )
        lines.append(
            f"{matchers} → {p.get('contact_point')}" + (" (continue)" if p.get("continue_") else "")
        )
    return lines


def compare_grafana(base: Doc, head: Doc) -> list[Change]:
    out = enabled_change("Grafana", base, head)
    out += settings_changes("Grafana", base, head, ("contact_points", "notification_policy"))
    out += keyed_changes(
        "Grafana",
        "contact point",
        list(base.get("contact_points") or ()),
        list(head.get("contact_points") or ()),
        key=lambda p: str(p["name"]),
        title=lambda p: str(p["name"]),
        summary=_integration_kinds,
        changed=lambda b, h: generic_changes(b, h, ()),
    )
    pb, ph = base.get("notification_policy") or {}, head.get("notification_policy") or {}
    for c in field_changes(pb, ph, ("policies",)):
        text = f"notification policy: {describe_fields([c])}"
        out.append(Change("Grafana", "notification policy", "changed", text, fields=(c,)))
    out += list_changes(
        "Grafana", "notification policy route", _policy_lines(pb), _policy_lines(ph)
    )
    return out


def compare_provisioned(base: Doc, head: Doc) -> list[Change]:
    """Every change between two ``provisioned/<stack>.json`` documents."""
    out = compare_slos(list(base.get("slos") or ()), list(head.get("slos") or ()))
    out += compare_uptimerobot(base.get("uptimerobot") or {}, head.get("uptimerobot") or {})
    out += compare_sentry(base.get("sentry") or {}, head.get("sentry") or {})
    out += compare_grafana(base.get("grafana") or {}, head.get("grafana") or {})
    return out

"""What ``monitoring diff`` reports: changes, per stack, in report sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECTIONS = (
    "Alerts",
    "Recording rules",
    "SLOs",
    "Routing",
    "UptimeRobot",
    "Sentry",
    "Grafana",
    "Dashboards",
)
"""Report sections, in the order a reviewer reads them."""


@dataclass(frozen=True)
class FieldChange:
    """One value that differs: ``before``/``after`` are ``None`` when absent on that side."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    """One reported change: ``text`` is the line a reviewer reads; ``diff`` an optional unified
    diff (PromQL, long text) shown under it; ``fields`` and ``receivers`` the same facts as
    data, for ``--format json``."""

    section: str
    subject: str
    kind: str  # "added", "removed" or "changed"
    text: str
    diff: str = ""
    fields: tuple[FieldChange, ...] = ()
    receivers: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "section": self.section,
            "subject": self.subject,
            "kind": self.kind,
            "text": self.text,
        }
        if self.fields:
            out["fields"] = [
                {"field": f.field, "before": f.before, "after": f.after} for f in self.fields
            ]
        if self.receivers is not None:
            out["receivers"] = {"before": list(self.receivers[0]), "after": list(self.receivers[1])}
        if self.diff:
            out["diff"] = self.diff
        return out


@dataclass
class StackReport:
    """The changes of one stack, and the parts that could not be compared (with why)."""

    stack: str
    changes: list[Change] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def section(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.section == name]

    def alert_names(self) -> list[str]:
        """Names of the alerts that changed, were added or were removed (once each)."""
        return list(dict.fromkeys(c.subject for c in self.changes if c.section == "Alerts"))

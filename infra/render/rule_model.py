"""Rendered Prometheus rules as typed objects.

The rule files under ``alert_rules/<stack>/`` are parsed back into these objects, and the
Grafana component builds its rule groups from the same objects: what reviewers read in the
rule files is what gets deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """One alerting rule (``alert`` set) or recording rule (``record`` set)."""

    expr: str
    alert: str | None = None
    record: str | None = None
    for_: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_alert(self) -> bool:
        return self.alert is not None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        return cls(
            expr=str(data["expr"]),
            alert=data.get("alert"),
            record=data.get("record"),
            for_=data.get("for"),
            labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (data.get("annotations") or {}).items()},
        )


@dataclass(frozen=True)
class RuleGroup:
    """A Prometheus rule group: evaluated together, at ``interval``."""

    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None
    service: str | None = None

    @property
    def alerts(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.is_alert)

    @property
    def recordings(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.is_alert)


@dataclass(frozen=True)
class RuleFile:
    """One rendered rule file: an alert family (one template) for every service of a stack."""

    family: str
    filename: str
    groups: tuple[RuleGroup, ...]
    text: str

"""What a backtest found, per alert and revision, as a markdown table or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.config.types import format_duration
from infra.prometheus_api import Series
from infra.review.backtest_eval import Episode, union
from infra.review.promql_inline import Comparison


@dataclass(frozen=True)
class Outcome:
    """One alert rule at one revision over the range."""

    expr: str
    """The expression sent to the server (recording rules inlined)."""
    episodes: tuple[Episode, ...]
    receivers: tuple[str, ...] | None
    """Receivers the firing label sets would have reached; ``None``: routing unknown."""
    comparison: Comparison | None = None
    values: tuple[Series, ...] = ()
    """The compared value over the range (only when plotting)."""

    @property
    def spans(self) -> list[tuple[float, float]]:
        return union(self.episodes)

    @property
    def first_onset(self) -> float | None:
        return min((e.start for e in self.episodes), default=None)

    @property
    def total(self) -> float:
        return sum(b - a for a, b in self.spans)

    @property
    def longest(self) -> float:
        return max((b - a for a, b in self.spans), default=0.0)


@dataclass(frozen=True)
class AlertResult:
    key: str
    """The alert's name; ``Name (severity)`` when several rules share the name."""
    base: Outcome | None
    head: Outcome | None


@dataclass
class BacktestReport:
    start: float
    end: float
    source: str
    base_name: str | None
    """``None``: one revision only (``--alert`` without ``--base``)."""
    head_name: str
    alerts: list[AlertResult] = field(default_factory=list)
    queries: int = 0

    def to_markdown(self) -> str:
        length = format_duration(int(self.end - self.start))
        span = f"{_when(self.start)} → {_when(self.end)} ({length})"
        lines = [f"### Backtest on {self.source}, {span}", ""]
        if not self.alerts:
            return "\n".join([*lines, "No alert changed between the revisions.", ""])
        sides = [("head", self.head_name)]
        if self.base_name is not None:
            sides.insert(0, ("base", self.base_name))
        cols = ("episodes", "first onset", "total", "longest", "receivers")
        header = ["alert"] + [f"{side} {c}" for side, _ in sides for c in cols]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for a in self.alerts:
            cells = [f"`{a.key}`"]
            for side, _ in sides:
                cells += _cells(a.base if side == "base" else a.head)
            lines.append("| " + " | ".join(cells) + " |")
        revisions = ", ".join(f"{side} = {name}" for side, name in sides)
        lines += [
            "",
            f"{revisions}. Episodes are counted per label set (one alert each, as Prometheus "
            "fires them); first onset, total and longest are over the time at least one label "
            "set fired; receivers are those the firing label sets would have reached under the "
            f"revision's `alertmanager.yml`. {self.queries} queries.",
            "",
        ]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "source": self.source,
            "base": self.base_name,
            "head": self.head_name,
            "queries": self.queries,
            "alerts": [
                {"alert": a.key, "base": _outcome(a.base), "head": _outcome(a.head)}
                for a in self.alerts
            ],
        }


def _cells(o: Outcome | None) -> list[str]:
    if o is None:
        return ["(absent)", "", "", "", ""]
    onset = _when(o.first_onset) if o.first_onset is not None else "—"
    receivers = "?" if o.receivers is None else (", ".join(o.receivers) or "—")
    return [
        str(len(o.episodes)),
        onset,
        _dur(o.total),
        _dur(o.longest),
        receivers,
    ]


def _outcome(o: Outcome | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {
        "expr": o.expr,
        "episodes": [
            {
                "labels": dict(e.labels),
                "start": _iso(e.start),
                "end": _iso(e.end),
                "start_unix": e.start,
                "end_unix": e.end,
            }
            for e in o.episodes
        ],
        "first_onset": _iso(o.first_onset) if o.first_onset is not None else None,
        "total_seconds": o.total,
        "longest_seconds": o.longest,
        "receivers": list(o.receivers) if o.receivers is not None else None,
    }


def _dur(seconds: float) -> str:
    return format_duration(int(seconds)) if seconds else "0"


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def count_episodes(outcomes: Sequence[Outcome | None]) -> str:
    return " / ".join("—" if o is None else str(len(o.episodes)) for o in outcomes)

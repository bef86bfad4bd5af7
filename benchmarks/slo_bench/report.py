"""Verdicts per row, the markdown table and the JSON document."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.slo_bench.probe import Outcome, TierOutcome
from benchmarks.slo_bench.scenarios import TRADE_OFF, Scenario

MAX_RESET_MINUTES = 5.0
"""The project's page must stop firing at most this long after the fault ends."""
TIERS = ("page", "ticket")
DASH = "\u2013"
"""Shown for a tier that never fired (an en dash)."""


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    project: Outcome
    sloth: Outcome

    @property
    def reasons(self) -> list[str]:
        """Why the project is behind on this row (empty: it is not)."""
        return behind_reasons(self.scenario, self.project, self.sloth)

    @property
    def status(self) -> str:
        if not self.reasons:
            return "ok"
        return "behind" if self.scenario.gated else "trade-off"

    @property
    def notes(self) -> list[str]:
        return row_notes(self.scenario, self.project, self.sloth)


def _reset(tier: TierOutcome) -> float:
    """The page's reset, infinite when it still fired at the end of the run."""
    if tier.reset is None:
        return 0.0
    return math.inf if tier.still_firing else tier.reset


def behind_reasons(s: Scenario, project: Outcome, sloth: Outcome) -> list[str]:
    out: list[str] = []
    for name in TIERS:
        mine: TierOutcome = getattr(project, name)
        theirs: TierOutcome = getattr(sloth, name)
        expect = getattr(s, name)
        if expect != "silent" and theirs.first is not None:  # detection: never after Sloth
            if mine.first is None:
                out.append(f"no {name} (Sloth: {_minutes(theirs.first)})")
            elif mine.first > theirs.first:
                out.append(f"{name} {mine.first - theirs.first:g} min later than Sloth")
        if expect == "silent" and mine.episodes:
            out.append(f"{name}s where silence is expected")
    if project.page.related:
        reset, theirs_reset = _reset(project.page), sloth.page.reset
        if reset > MAX_RESET_MINUTES:
            out.append(f"page reset {_minutes(reset)} > {MAX_RESET_MINUTES:g} min")
        elif theirs_reset is not None and reset > _reset(sloth.page):
            out.append(f"page reset {_minutes(reset)} > Sloth's {_minutes(theirs_reset)}")
    return out


def row_notes(s: Scenario, project: Outcome, sloth: Outcome) -> list[str]:
    """Facts worth reading that do not gate: expectations neither rule set met, precision."""
    out: list[str] = []
    for name in TIERS:
        mine: TierOutcome = getattr(project, name)
        theirs: TierOutcome = getattr(sloth, name)
        expect = getattr(s, name)
        if expect == "alert" and mine.first is None and theirs.first is None:
            out.append(f"neither {name}s")
        if expect == "silent" and theirs.episodes:
            out.append(f"Sloth {name}s")
        for who, tier in (("project", mine), ("Sloth", theirs)):
            if tier.early and s.minutes:
                out.append(f"{who} {name} before onset")
            if tier.late and s.minutes:
                out.append(f"{who} {name} long after the fault")
    return out


def _minutes(value: float | None) -> str:
    if value is None:
        return DASH
    if math.isinf(value):
        return "never"
    return f"{value:g}"


def first_cell(tier: TierOutcome) -> str:
    text = _minutes(tier.first)
    count = len(tier.related)
    return f"{text} ({count} episodes)" if count > 1 else text


def reset_cell(tier: TierOutcome) -> str:
    if tier.reset is None:
        return DASH
    if tier.still_firing:
        return f"≥{tier.reset:g} (still firing)"
    return _minutes(tier.reset)


def verdict_cell(row: Row) -> str:
    parts = row.reasons
    status = row.status
    notes = row.notes
    text = status + (": " + "; ".join(parts) if parts else "")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def table(rows: list[Row]) -> str:
    head = (
        "| SLO | scenario | form | project page | project ticket | project reset "
        "| Sloth page | Sloth ticket | Sloth reset | verdict |"
    )
    lines = [head, "|" + "---|" * 10]
    for row in rows:
        s, p, q = row.scenario, row.project, row.sloth
        cells = [
            s.slo, s.name, s.form,
            first_cell(p.page), first_cell(p.ticket), reset_cell(p.page),
            first_cell(q.page), first_cell(q.ticket), reset_cell(q.page),
            verdict_cell(row),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


LEGEND = (
    f"page/ticket: minutes after the fault's onset of the first firing evaluation ({DASH} silent; "
    "N episodes: it flapped); reset: minutes after the fault's end until the page stopped firing."
)


def footnotes(rows: list[Row]) -> list[str]:
    out = [LEGEND]
    if any(not r.scenario.gated for r in rows):
        out.append(TRADE_OFF)
    return out


def _tier_json(tier: TierOutcome) -> dict[str, Any]:
    return {
        "episodes": [[e.start, e.end] for e in tier.episodes],
        "first": tier.first,
        "reset": tier.reset,
        "still_firing": tier.still_firing,
        "fired_before_onset": tier.early,
        "fired_long_after": tier.late,
    }


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "page": _tier_json(outcome.page),
        "ticket": _tier_json(outcome.ticket),
        "seconds": round(outcome.seconds, 2),
    }


def row_json(row: Row) -> dict[str, Any]:
    return {
        "scenario": asdict(row.scenario),
        "project": _outcome_json(row.project),
        "sloth": _outcome_json(row.sloth),
        "status": row.status,
        "reasons": row.reasons,
        "notes": row.notes,
    }

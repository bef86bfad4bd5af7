"""When an alert of a fault scenario fires, and when its annotations can be pinned, under
Prometheus 2 and Prometheus 3 alike.

An :class:`Expectation` says, minute by minute and per engine, whether the alert's expression
holds and what its ``$value`` is. :func:`timeline` turns that into the minutes a test asserts:

- the onset (first minute the expression holds) must be the same under both engines, or the
  generator refuses the scenario: a test that holds under one engine only is worse than none;
- the alert fires ``for`` later (in whole one-minute test steps);
- its labels and annotations are pinned at the first minute, from the ``for`` boundary on,
  at which both engines render the same text, with a margin against rounding. Values read
  from windows that straddle the fault's start differ between the engines; from the minute
  every window the value reads holds only the fault's constant rates (or reaches back past
  the first sample), both compute the same exact ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.types import parse_duration
from infra.render.rule_model import Rule
from infra.render.rule_tests_annotations import expand
from infra.render.rule_tests_rates import (
    ENGINES,
    ROUNDING,
    Condition,
    Engine,
    TooCloseToCall,
    Valuation,
)


def for_minutes(rule: Rule) -> int:
    """Whole test steps (minutes) an alert waits: the tests evaluate once a minute, so a
    sub-minute ``for`` (the local stack's compressed time) fires one step after its onset."""
    return -(-parse_duration(rule.for_) // 60) if rule.for_ else 0


@dataclass(frozen=True)
class Expectation:
    """How one alert (one severity tier) behaves in one scenario."""

    alert: Rule
    series_labels: dict[str, str]  # labels the alert takes from its input series
    condition: Condition
    value: Valuation

    @property
    def name(self) -> str:
        return self.alert.alert or ""

    @property
    def labels(self) -> dict[str, str]:
        return {**self.series_labels, **self.alert.labels}

    def firing(self, minute: int, engine: Engine) -> bool:
        """Whether the expression has held at every evaluation of the last ``for``."""
        wait = for_minutes(self.alert)
        return all(self.condition(m, engine) for m in range(minute - wait, minute + 1))

    def annotations(self, minute: int, engine: Engine) -> dict[str, str] | None:
        """The annotations as ``engine`` renders them at ``minute``, or None when a rounding
        difference in ``$value`` could change the text."""
        value = self.value(minute, engine)
        texts = [
            {k: expand(v, x, self.labels) for k, v in self.alert.annotations.items()}
            for x in (value, value * (1 + ROUNDING), value * (1 - ROUNDING))
        ]
        return texts[0] if texts[0] == texts[1] == texts[2] else None


@dataclass(frozen=True)
class Timeline:
    """The minutes a scenario's test asserts for its alert."""

    onset: int
    fires_at: int
    pinned_at: int
    # Every alert of the name firing at ``pinned_at``, with its annotations.
    pinned: tuple[tuple[Expectation, dict[str, str]], ...]


def _onset(alert: Expectation, start: int, end: int) -> int:
    onsets = {}
    for engine in ENGINES:
        onsets[engine] = next((m for m in range(start, end + 1) if alert.condition(m, engine)), -1)
    if -1 in onsets.values():
        raise ValueError(
            f"{alert.name}: the fault scenario never meets the alert's condition; "
            "make the fault stronger"
        )
    if len(set(onsets.values())) > 1:
        found = ", ".join(f"minute {m} under {e.value}" for e, m in onsets.items())
        # A threshold crossed between two engines' window edges: the scenario can be moved.
        raise TooCloseToCall(
            f"{alert.name}: range-boundary semantics move the onset ({found}); "
            "make the fault cross the threshold by a wider margin"
        )
    return onsets[ENGINES[0]]


def _pinned(
    alert: Expectation, companions: tuple[Expectation, ...], minute: int
) -> tuple[tuple[Expectation, dict[str, str]], ...] | None:
    """The alerts of the name firing at ``minute`` with their annotations, if every engine
    agrees on both; else None."""
    if not all(alert.firing(minute, e) for e in ENGINES):
        return None
    firing = [alert]
    for other in companions:
        states = {other.firing(minute, e) for e in ENGINES}
        if len(states) > 1:
            return None
        if states == {True}:
            firing.append(other)
    out = []
    for exp in firing:
        texts = [exp.annotations(minute, e) for e in ENGINES]
        if texts[0] is None or any(t != texts[0] for t in texts):
            return None
        out.append((exp, texts[0]))
    return tuple(out)


def timeline(
    alert: Expectation, start: int, end: int, companions: tuple[Expectation, ...] = ()
) -> Timeline:
    """When ``alert`` fires after a fault that starts at ``start``, the series ending at
    ``end``; ``companions`` are the other tiers of the same alert name."""
    onset = _onset(alert, start, end)
    fires_at = onset + for_minutes(alert.alert)
    for engine in ENGINES:
        if alert.firing(start - 1, engine) or alert.firing(fires_at - 1, engine):
            raise ValueError(f"{alert.name}: fires before the fault or before its for boundary")
        if not alert.firing(fires_at, engine):
            raise ValueError(f"{alert.name}: the fault does not hold its condition for its for")
    for minute in range(fires_at, end + 1):
        pinned = _pinned(alert, companions, minute)
        if pinned is not None:
            return Timeline(onset, fires_at, minute, pinned)
    raise ValueError(
        f"{alert.name}: no minute after its for boundary at which Prometheus 2 and 3 render "
        "the same annotations; make the scenario longer"
    )

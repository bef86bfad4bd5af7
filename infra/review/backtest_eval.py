"""Prometheus' alert state machine, applied to an alert expression's results over a range.

Pure: evaluation times and the set of label sets the expression returned at each, in; firing
episodes out. It follows ``rules.AlertingRule.Eval`` (Prometheus 2.42 to 3.x):

- a label set the expression returns while it has no active alert becomes *pending*, active
  from that evaluation; it turns *firing* at the first evaluation ``t`` with
  ``t - active_at >= for`` (at once when ``for`` is 0);
- a pending alert whose label set is not returned is dropped; a firing one resolves, unless
  ``keep_firing_for`` is set: then it stays firing at every evaluation ``t`` with
  ``t - first_missing < keep_firing_for`` and is reset as soon as the label set returns;
- one alert per label set: the expression's labels without ``__name__``, then the rule's own
  ``labels:`` (which win), then ``alertname``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

LabelSet = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Episode:
    """One label set firing at the evaluations ``start``, ``start + step``, … ``< end``
    (unix seconds; ``end`` is the first evaluation it no longer fires, or the range's end)."""

    labels: LabelSet
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def alert_labels(
    series_labels: Mapping[str, str], rule_labels: Mapping[str, str], alertname: str
) -> LabelSet:
    """The identity of the alert a result series makes (what ``ALERTS`` carries, less
    ``alertstate``)."""
    labels = {k: v for k, v in series_labels.items() if k != "__name__"}
    labels.update(rule_labels)
    labels["alertname"] = alertname
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def firing(present: Sequence[bool], times: Sequence[float], hold: float, keep: float) -> list[bool]:
    """Whether one label set's alert fires at each evaluation, given whether the expression
    returned it there."""
    out: list[bool] = []
    state, active_at, missing_since = "inactive", 0.0, None
    for here, t in zip(present, times, strict=True):
        if here:
            missing_since = None
            if state == "inactive":
                state, active_at = "pending", t
        elif state == "firing" and keep > 0:
            missing_since = t if missing_since is None else missing_since
            if t - missing_since >= keep:
                state = "inactive"
        else:
            state = "inactive"
        if state == "pending" and t - active_at >= hold:
            state = "firing"
        out.append(state == "firing")
    return out


def episodes(
    returned: Mapping[LabelSet, Iterable[float]],
    times: Sequence[float],
    *,
    hold: float,
    keep: float,
    report_from: float,
    step: float,
) -> list[Episode]:
    """Firing episodes of every label set, from ``report_from`` on (evaluations before it only
    build up the state: a range starts with what was pending or firing at its start).

    ``returned`` maps each alert label set to the evaluation times the expression returned it.
    """
    out: list[Episode] = []
    index = {t: i for i, t in enumerate(times)}
    end = times[-1] + step if times else report_from
    for labels, seen in returned.items():
        present = [False] * len(times)
        for t in seen:
            i = index.get(t)
            if i is not None:
                present[i] = True
        start: float | None = None
        for t, on in zip(times, firing(present, times, hold, keep), strict=True):
            if t < report_from:
                continue
            if on and start is None:
                start = t
            elif not on and start is not None:
                out.append(Episode(labels, start, t))
                start = None
        if start is not None:
            out.append(Episode(labels, start, end))
    return sorted(out, key=lambda e: (e.start, e.labels))


def union(spans: Iterable[Episode]) -> list[tuple[float, float]]:
    """The time covered by at least one episode, as sorted disjoint ``(start, end)`` spans."""
    merged: list[tuple[float, float]] = []
    for e in sorted(spans, key=lambda e: e.start):
        if merged and e.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e.end))
        else:
            merged.append((e.start, e.end))
    return merged

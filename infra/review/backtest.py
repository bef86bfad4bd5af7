"""``monitoring backtest``: how the base and head versions of the changed alerts would have
behaved over recorded history, read from any Prometheus-compatible HTTP API.

For each alert rule and revision: the expression with that revision's recording rules inlined
(:mod:`infra.review.promql_inline`; a recorded series a revision introduces has no history),
evaluated with ``query_range`` at its group's ``interval`` (Prometheus' default of 1m when a
group has none), from ``for`` + ``keep_firing_for`` before the range so that the range starts
with the state it really had; then Prometheus' alert state machine
(:mod:`infra.review.backtest_eval`) turns the answers into firing episodes per label set, and
the revision's Alertmanager routing names who each would have reached.

An alert rule is *changed* when its inlined expression, ``for``, ``keep_firing_for``, labels or
interval differ, when only one revision has it, or when the routing sends its static labels
elsewhere. Annotations do not change when an alert fires, so they do not count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import promql_parser as pp
import yaml

from infra.prometheus_api import PrometheusClient, Series
from infra.review.backtest_eval import Episode, LabelSet, alert_labels, episodes
from infra.review.backtest_report import AlertResult, BacktestReport, Outcome
from infra.review.promql_inline import InlineError, RecordingRule, first_comparison, inline
from infra.review.revisions import read_tree

Receivers = Callable[[Mapping[str, str]], tuple[str, ...]]
Progress = Callable[[str], None]
DEFAULT_INTERVAL = 60
DEFAULT_RANGE = 7 * 86400


class BacktestError(Exception):
    """Rule files that cannot be backtested, or an alert that is not there; one line."""


@dataclass(frozen=True)
class AlertRule:
    key: str
    alertname: str
    expr: str
    """Recording rules inlined."""
    hold: float
    keep: float
    interval: float
    labels: Mapping[str, str]

    def behaviour(self) -> tuple[object, ...]:
        return (self.expr, self.hold, self.keep, self.interval, sorted(self.labels.items()))


def _seconds(value: object, where: str) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return float(pp.parse_duration(str(value)).total_seconds())
    except (ValueError, RuntimeError):
        raise BacktestError(f"{where}: {value!r} is not a Prometheus duration") from None


def alert_rules(groups: Sequence[Mapping[str, Any]]) -> dict[str, AlertRule]:
    """Every alert rule of a revision's rule groups, keyed by name (``Name (severity)`` when
    several rules share a name), with the revision's recording rules inlined."""
    recording: list[RecordingRule] = []
    raw: list[tuple[Mapping[str, Any], float, str]] = []
    for group in groups:
        name = str(group.get("name", "?"))
        interval = _seconds(group.get("interval"), f"group {name}") or DEFAULT_INTERVAL
        for rule in group.get("rules") or []:
            if "record" in rule:
                labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
                recording.append(
                    RecordingRule(str(rule["record"]), str(rule["expr"]), labels, int(interval))
                )
            elif "alert" in rule:
                raw.append((rule, interval, name))
    names = [str(r["alert"]) for r, _, _ in raw]
    out: dict[str, AlertRule] = {}
    for spec, interval, group_name in raw:
        alertname = str(spec["alert"])
        labels = {str(k): str(v) for k, v in (spec.get("labels") or {}).items()}
        key = alertname
        if names.count(alertname) > 1:
            key = f"{alertname} ({labels.get('severity') or group_name})"
        where = f"alert {key}"
        try:
            expr = inline(str(spec["expr"]), recording)
        except InlineError as exc:
            raise BacktestError(f"{where}: {exc}") from None
        out[key] = AlertRule(
            key=key,
            alertname=alertname,
            expr=expr,
            hold=_seconds(spec.get("for"), where),
            keep=_seconds(spec.get("keep_firing_for"), where),
            interval=interval,
            labels=labels,
        )
    return out


def _routes(receivers: Receivers | None, rule: AlertRule) -> tuple[str, ...] | None:
    return None if receivers is None else receivers({**rule.labels, "alertname": rule.alertname})


def select(
    base: Mapping[str, AlertRule] | None,
    head: Mapping[str, AlertRule],
    names: Sequence[str],
    receivers_base: Receivers | None = None,
    receivers_head: Receivers | None = None,
) -> list[str]:
    """The keys to backtest: the rules named ``names`` (alert names), else the changed ones."""
    keys = list(head) + [k for k in base or {} if k not in head]
    if names:
        known = {r.alertname for r in (*head.values(), *(base or {}).values())}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise BacktestError(
                f"no alert named {', '.join(unknown)} in either revision; "
                f"alerts: {', '.join(sorted(known))}"
            )
        return [k for k in keys if (head.get(k) or (base or {})[k]).alertname in names]
    if base is None:
        return keys
    out = []
    for k in keys:
        b, h = base.get(k), head.get(k)
        differs = b is None or h is None or b.behaviour() != h.behaviour()
        if differs or _routes(receivers_base, b) != _routes(receivers_head, h):  # type: ignore[arg-type]
            out.append(k)
    return out


class _Runner:
    def __init__(self, client: PrometheusClient, start: int, end: int, progress: Progress) -> None:
        self.client, self.start, self.end, self.progress = client, start, end, progress
        self.cache: dict[tuple[str, float, float, float], list[Series]] = {}

    def query(self, what: str, expr: str, start: float, end: float, step: float) -> list[Series]:
        key = (expr, start, end, step)
        if key not in self.cache:

            def chunk(done: int, total: int) -> None:
                self.progress(f"{what}: query {done}/{total}")

            self.cache[key] = self.client.query_range(expr, start, end, step, on_chunk=chunk)
        return self.cache[key]

    def outcome(
        self, what: str, rule: AlertRule, receivers: Receivers | None, values: bool
    ) -> Outcome:
        step = rule.interval
        # Evaluations on the interval's grid from the epoch, in [start, end).
        first = math.ceil(self.start / step) * step
        last = math.ceil(self.end / step) * step - step
        warm = math.ceil((rule.hold + rule.keep) / step) * step
        count = round((last - first + warm) / step) + 1
        times = [round(first - warm + i * step, 3) for i in range(count)]
        returned: dict[LabelSet, list[float]] = {}
        for s in self.query(what, rule.expr, times[0], times[-1], step):
            labels = alert_labels(s.labels, rule.labels, rule.alertname)
            returned.setdefault(labels, []).extend(round(t, 3) for t, _ in s.points)
        found = [
            Episode(e.labels, e.start, min(e.end, self.end))
            for e in episodes(
                returned, times, hold=rule.hold, keep=rule.keep, report_from=first, step=step
            )
        ]
        reached = None
        if receivers is not None:
            reached = tuple(sorted({r for e in found for r in receivers(dict(e.labels))}))
        comparison = first_comparison(rule.expr)
        series: tuple[Series, ...] = ()
        if values and comparison is not None:
            series = tuple(self.query(f"{what} value", comparison.value, first, last, step))
        return Outcome(rule.expr, tuple(found), reached, comparison, series)


def backtest(
    base_groups: Sequence[Mapping[str, Any]] | None,
    head_groups: Sequence[Mapping[str, Any]],
    *,
    client: PrometheusClient,
    start: int,
    end: int,
    alerts: Sequence[str] = (),
    receivers_base: Receivers | None = None,
    receivers_head: Receivers | None = None,
    progress: Progress | None = None,
    values: bool = False,
    base_name: str | None = "base",
    head_name: str = "head",
) -> BacktestReport:
    """Replay the changed (or ``alerts``-named) alert rules of both revisions over
    ``[start, end]`` (unix seconds). ``base_groups=None``: one revision, ``head_groups``.
    ``values``: also fetch the value each alert compares (for plots)."""
    if end <= start:
        raise BacktestError("the range is empty: --end must be after its start")
    base = alert_rules(base_groups) if base_groups is not None else None
    head = alert_rules(head_groups)
    keys = select(base, head, alerts, receivers_base, receivers_head)
    say = progress or (lambda _m: None)
    runner = _Runner(client, start, end, say)
    sent = client.queries_sent
    report = BacktestReport(
        start, end, _source(client.url), base_name if base is not None else None, head_name
    )
    for i, key in enumerate(keys, 1):
        say(f"[{i}/{len(keys)}] {key}")
        sides: list[Outcome | None] = []
        for side, rules, routes in (("base", base, receivers_base), ("head", head, receivers_head)):
            rule = (rules or {}).get(key)
            what = f"  {key} ({side})"
            sides.append(runner.outcome(what, rule, routes, values) if rule else None)
        report.alerts.append(AlertResult(key, sides[0], sides[1]))
    report.queries = client.queries_sent - sent
    return report


def _source(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class Revision:
    name: str
    groups: list[dict[str, Any]]
    alertmanager: dict[str, Any] | None


def load_revision(root: Path, ref: str | None, stack: str) -> Revision:
    """The rule groups and ``alertmanager.yml`` a revision (``None``: the working tree)
    provisions for ``stack``."""
    folder = PurePosixPath("alert_rules", stack)
    files = read_tree(root, ref, str(folder))
    groups: list[dict[str, Any]] = []
    for path, text in sorted(files.items()):
        p = PurePosixPath(path)
        if p.parent == folder and p.name.endswith(".rules.yml"):
            try:
                doc = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                raise BacktestError(f"{path}: not YAML ({exc.__class__.__name__})") from None
            groups += doc.get("groups") or []
    name = ref or "working tree"
    if not groups:
        raise BacktestError(f"no rule files in {folder}/ at {name}")
    am_text = files.get(str(folder / "alertmanager.yml"))
    alertmanager = yaml.safe_load(am_text) if am_text else None
    return Revision(name, groups, alertmanager)


def routing(config: Mapping[str, Any] | None) -> Receivers | None:
    """``receivers_for`` bound to an Alertmanager config; ``None`` when the revision has no
    ``alertmanager.yml``, which the report shows as ``?``."""
    if config is None:
        return None
    from infra.review.routing import receivers_for

    bound: Receivers = partial(receivers_for, config)
    return bound


def backtest_markdown(
    root: Path,
    base: str | None,
    head: str | None,
    stack: str,
    prometheus_url: str,
    alerts: Sequence[str],
    *,
    range_seconds: int = DEFAULT_RANGE,
    end: int | None = None,
    progress: Progress | None = None,
) -> str:
    """The side-by-side backtest table for ``monitoring diff --prometheus``: the changed (or
    named) alerts of ``stack`` between revisions ``base`` and ``head`` (``None``: the working
    tree), over the last ``range_seconds``. Raises :class:`BacktestError`,
    :class:`~infra.prometheus_api.PrometheusError` or
    :class:`~infra.review.revisions.RevisionError` (one line each)."""
    import time

    old, new = load_revision(root, base, stack), load_revision(root, head, stack)
    stop = int(time.time()) if end is None else end
    with PrometheusClient(prometheus_url) as client:
        report = backtest(
            old.groups,
            new.groups,
            client=client,
            start=stop - range_seconds,
            end=stop,
            alerts=alerts,
            receivers_base=routing(old.alertmanager),
            receivers_head=routing(new.alertmanager),
            progress=progress,
            base_name=old.name,
            head_name=new.name,
        )
    return report.to_markdown()

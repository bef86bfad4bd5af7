"""One PNG per backtested alert: the value the alert compares over the range, the base and
head thresholds as lines, the base and head firing spans shaded, and the counts in the title.

matplotlib through its object API (``Figure`` + the Agg canvas): no pyplot global state, no
display needed, nothing left open between pictures.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from infra.review.backtest_report import AlertResult, BacktestReport, Outcome

COLOURS = {"base": "#7f7f7f", "head": "#d62728"}
MAX_LINES = 8
"""Label sets drawn per revision; more would hide the thresholds."""


def file_name(key: str) -> str:
    """A file name for an alert key (``ApiErrorBudgetBurn (critical)`` →
    ``ApiErrorBudgetBurn-critical.png``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-") + ".png"


def _dt(t: float) -> float:
    """Unix seconds as matplotlib's date numbers (days since its epoch, 1970-01-01 UTC)."""
    return t / 86400.0


def _title(alert: AlertResult, base_name: str | None) -> str:
    parts = []
    for side, o in (("base", alert.base), ("head", alert.head)):
        if side == "base" and base_name is None:
            continue
        if o is None:
            parts.append(f"{side}: absent")
        else:
            hours = o.total / 3600
            n = len(o.episodes)
            parts.append(f"{side}: {n} episode{'' if n == 1 else 's'}, {hours:.1f} h firing")
    return f"{alert.key}\n" + "; ".join(parts)


def plot_alert(alert: AlertResult, report: BacktestReport, path: Path) -> Path:
    """Draw ``alert`` into ``path`` (a PNG) and return the path."""
    fig = Figure(figsize=(11, 4.5), dpi=100, layout="constrained")
    ax = fig.subplots()
    drawn_values: set[str] = set()
    for side, o in (("base", alert.base), ("head", alert.head)):
        if o is None or (side == "base" and report.base_name is None):
            continue
        _draw(ax, side, o, drawn_values)
    ax.set_xlim(_dt(report.start), _dt(report.end))
    ax.xaxis_date(UTC)
    locator = AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))  # type: ignore[no-untyped-call]
    ax.set_xlabel("UTC")
    ax.set_title(_title(alert, report.base_name), fontsize=11)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _draw(ax: Axes, side: str, o: Outcome, drawn_values: set[str]) -> None:
    colour = COLOURS[side]
    # Firing spans: base shaded in the lower half, head in the upper half, so both show.
    lo, hi = (0.0, 0.5) if side == "base" else (0.5, 1.0)
    # Onsets as ticks at the top (head) or bottom (base): short episodes stay visible on a
    # week-long axis.
    onsets = [_dt(a) for a, _ in o.spans]
    y, marker = (0.97, "v") if side == "head" else (0.03, "^")
    ax.scatter(
        onsets, [y] * len(onsets), marker=marker, s=30, color=colour,
        transform=ax.get_xaxis_transform(), zorder=3,
    )  # fmt: skip
    for i, (a, b) in enumerate(o.spans):
        ax.axvspan(
            _dt(a), _dt(b), ymin=lo, ymax=hi, color=colour, alpha=0.25, lw=0,
            label=f"{side} firing" if i == 0 else None,
        )  # fmt: skip
    if o.comparison is None:
        return
    if o.comparison.value not in drawn_values:
        drawn_values.add(o.comparison.value)
        for i, s in enumerate(o.values[:MAX_LINES]):
            xs = [_dt(t) for t, _ in s.points]
            ys = [v for _, v in s.points]
            shown = {k: v for k, v in s.labels.items() if k != "__name__"}
            name = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "value"
            ax.plot(
                xs, ys, lw=0.9, color=colour if len(o.values) == 1 else None,
                linestyle="-" if side == "head" else "--",
                label=f"{side} value ({name})" if i < 4 else None,
            )  # fmt: skip
    ax.axhline(
        o.comparison.threshold, color=colour, lw=1.2, linestyle=":",
        label=f"{side} threshold {o.comparison.op} {o.comparison.threshold:.6g}",
    )  # fmt: skip


def plot_report(report: BacktestReport, folder: Path) -> list[Path]:
    """One picture per alert of ``report`` in ``folder``."""
    return [plot_alert(a, report, folder / file_name(a.key)) for a in report.alerts]

"""Turn :mod:`infra.render.dashboards_specs` into Grafana dashboard models with the typed
builders of ``grafana-foundation-sdk`` (the build pinned for Grafana 11.6).

The SDK validates panel and query shapes at build time; this module only decides layout,
colours and threshold steps.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as models

from infra.render.dashboards_specs import PanelSpec, Threshold

GRID_WIDTH = 24
SIZES = {"timeseries": (12, 8), "stat": (6, 5)}
"""Panel (width, height) in grid units by kind: two graphs or four stats per row."""

RED, ORANGE, GREEN = "red", "orange", "green"


def datasource(uid: str) -> models.DataSourceRef:
    return models.DataSourceRef(type_val="prometheus", uid=uid)


def threshold_steps(spec: PanelSpec) -> list[models.Threshold]:
    """Colour steps, lowest first (Grafana's order); the base step has no value."""
    line: Threshold | None = spec.threshold
    if line is None:
        return [models.Threshold(value=None, color=GREEN)]
    if line.bad == "below":
        return [
            models.Threshold(value=None, color=RED),
            models.Threshold(value=line.value, color=GREEN),
        ]
    steps = [models.Threshold(value=None, color=GREEN)]
    # The objective is drawn only when it sits below the alert line, or the steps would
    # be out of order (Grafana would silently re-sort and recolour them).
    if spec.target is not None and spec.target < line.value:
        steps.append(models.Threshold(value=spec.target, color=ORANGE))
    steps.append(models.Threshold(value=line.value, color=RED))
    return steps


def _targets(spec: PanelSpec, ds: models.DataSourceRef) -> list[prometheus.Dataquery]:
    return [
        prometheus.Dataquery()
        .ref_id(chr(ord("A") + i))
        .datasource(ds)
        .expr(q.expr)
        .legend_format(q.legend)
        .range()
        for i, q in enumerate(spec.queries)
    ]


def _thresholds(spec: PanelSpec) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps(threshold_steps(spec))
    )


def _timeseries(spec: PanelSpec) -> timeseries.Panel:
    panel = timeseries.Panel().line_width(1).fill_opacity(10)
    if spec.threshold is not None:
        panel = panel.thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.LINE)
        )
    return panel


def _stat(spec: PanelSpec) -> stat.Panel:
    return (
        stat.Panel()
        .color_mode(
            common.BigValueColorMode.BACKGROUND if spec.threshold else common.BigValueColorMode.NONE
        )
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def build_panel(
    spec: PanelSpec, panel_id: int, pos: models.GridPos, ds: models.DataSourceRef
) -> timeseries.Panel | stat.Panel:
    panel = _timeseries(spec) if spec.kind == "timeseries" else _stat(spec)
    panel = (
        panel.id(panel_id)
        .title(spec.title)
        .datasource(ds)
        .grid_pos(pos)
        .unit(spec.unit)
        .thresholds(_thresholds(spec))
    )
    for target in _targets(spec, ds):
        panel = panel.with_target(target)
    if spec.description:
        panel = panel.description(spec.description)
    if spec.min_value is not None:
        panel = panel.min(spec.min_value)
    if spec.max_value is not None:
        panel = panel.max(spec.max_value)
    return panel


def layout(kinds: list[str]) -> list[models.GridPos]:
    """Left-to-right, top-to-bottom flow; a row is as tall as its tallest panel."""
    out: list[models.GridPos] = []
    x = y = row_height = 0
    for kind in kinds:
        w, h = SIZES[kind]
        if x + w > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        out.append(models.GridPos(h=h, w=w, x=x, y=y))
        x += w
        row_height = max(row_height, h)
    return out

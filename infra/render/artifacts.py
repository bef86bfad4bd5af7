"""Every file a stack renders, by path relative to the project root.

Each renderer is pure: config in, ``{relative path: text}`` out. ``monitoring render`` writes
them, ``monitoring render --check`` compares them with what is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from infra.config import StackConfig
from infra.render.alertmanager import render_alertmanager_artifacts
from infra.render.dashboards import render_dashboard_artifacts
from infra.render.provisioned import provisioned_path, render_provisioned_artifacts
from infra.render.rule_tests import render_rule_test_files
from infra.render.rules import render_rule_artifacts

Renderer = Callable[[StackConfig, str], dict[str, str]]

# Add a renderer here to have its files written and checked for staleness.
RENDERERS: tuple[Renderer, ...] = (
    render_rule_artifacts,
    render_rule_test_files,
    render_alertmanager_artifacts,
    render_dashboard_artifacts,
    render_provisioned_artifacts,
)


def stack_artifact_files(root: Path, stack: str) -> list[Path]:
    """Every file that may be a generated artifact of ``stack``: all files under
    ``alert_rules/<stack>/`` and ``dashboards/<stack>/``, and ``provisioned/<stack>.json``.
    Whether one is generated is for the caller to check (its notice)."""
    files: list[Path] = []
    for folder in (root / "alert_rules" / stack, root / "dashboards" / stack):
        files += [p for p in sorted(folder.rglob("*")) if p.is_file()] if folder.is_dir() else []
    provisioned = root / provisioned_path(stack)
    if provisioned.is_file():
        files.append(provisioned)
    return files


def render_stack(cfg: StackConfig, stack: str) -> dict[str, str]:
    """All artifacts of ``stack``; fails if two renderers claim the same path."""
    out: dict[str, str] = {}
    for renderer in RENDERERS:
        for path, text in renderer(cfg, stack).items():
            if path in out:
                raise RuntimeError(f"two renderers write {path}")
            out[path] = text
    return out

"""A revision's generated artifacts, parsed, per stack (pure: texts in, documents out).

The input is ``{path: text}`` of the generated folders at one revision (``alert_rules/``,
``dashboards/``, ``provisioned/``), as :func:`infra.review.revisions.read_tree` returns them.
Only what is provisioned is kept: rule files, ``alertmanager.yml``, dashboards and
``provisioned/<stack>.json``; the promtool tests under ``alert_rules/<stack>/tests/`` and the
templates are not provisioned anywhere, so they are not read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

ARTIFACT_FOLDERS = ("alert_rules", "dashboards", "provisioned")
"""The folders whose files a revision is compared by."""

NOT_A_STACK = frozenset({"templates"})


class ArtifactError(Exception):
    """A generated file of a revision that cannot be parsed; one line for a person."""


@dataclass
class StackArtifacts:
    """One stack's parsed artifacts at one revision; ``None`` where the file is absent."""

    stack: str
    rule_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    alertmanager: dict[str, Any] | None = None
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    provisioned: dict[str, Any] | None = None


def _yaml(path: str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ArtifactError(f"{path}: not valid YAML{line}") from None


def _json(path: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path}: not valid JSON (line {exc.lineno})") from None
    if not isinstance(document, dict):
        raise ArtifactError(f"{path}: a JSON object was expected")
    return document


def _mapping(path: str, document: Any, what: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ArtifactError(f"{path}: not {what}")
    return document


def parse_revision(files: Mapping[str, str]) -> dict[str, StackArtifacts]:
    """Every stack with at least one artifact in ``files``, parsed."""
    stacks: dict[str, StackArtifacts] = {}

    def of(stack: str) -> StackArtifacts:
        return stacks.setdefault(stack, StackArtifacts(stack))

    for path, text in sorted(files.items()):
        parts = path.split("/")
        if parts[0] == "alert_rules" and len(parts) == 3 and parts[1] not in NOT_A_STACK:
            stack, name = parts[1], parts[2]
            if name == "alertmanager.yml":
                of(stack).alertmanager = _mapping(path, _yaml(path, text), "an Alertmanager config")
            elif name.endswith((".yml", ".yaml")):
                document = _mapping(path, _yaml(path, text), "a Prometheus rule file")
                if isinstance(document.get("groups"), list):
                    of(stack).rule_files[name] = document
        elif parts[0] == "dashboards" and len(parts) == 3 and parts[2].endswith(".json"):
            of(parts[1]).dashboards[parts[2]] = _json(path, text)
        elif parts[0] == "provisioned" and len(parts) == 2 and parts[1].endswith(".json"):
            of(parts[1].removesuffix(".json")).provisioned = _json(path, text)
    return stacks

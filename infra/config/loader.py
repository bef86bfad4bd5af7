"""Load a stack's typed config from ``Pulumi.<stack>.yaml`` or from ``pulumi.Config``.

Both paths feed the same dict into :class:`StackConfig`, so the CLI works offline (no Pulumi
CLI needed) and ``pulumi up`` sees exactly what the CLI rendered.

Any input ends as a :class:`StackConfig` or one :class:`ConfigError`, in bounded time and
memory: ``untrusted`` bounds the YAML and makes the values plain, ``errors`` words the
problems.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.config.errors import NAMESPACE, ConfigError, config_path, problem_message
from infra.config.models import StackConfig
from infra.config.untrusted import MAX_DEPTH, MAX_FILE_BYTES, parse_stack_text, plain_settings

__all__ = [  # NAMESPACE and ConfigError live in errors.py; importing them from here still works
    "NAMESPACE",
    "TOP_LEVEL_KEYS",
    "ConfigError",
    "list_stacks",
    "load_from_pulumi",
    "load_stack",
    "load_stack_text",
    "project_root",
    "split_stack_file",
    "stack_file",
    "validate_stack",
]

TOP_LEVEL_KEYS = tuple(StackConfig.model_fields)


def validate_stack(data: Mapping[str, Any], source: str) -> StackConfig:
    """Validate a plain dict (the ``monitoring:`` keys, namespace stripped)."""
    settings = plain_settings(data, source)
    try:
        # JSON mode keeps strictness (no "0.05" → 0.05) while reading YAML lists as tuples
        # and strings as enums.
        return StackConfig.model_validate_json(json.dumps(settings))
    except ValidationError as exc:
        errors = exc.errors()
        locs = [e["loc"] for e in errors]
        # A list whose items failed also reports "too short"; the item errors say it all.
        errors = [
            e
            for e in errors
            if not (
                e["type"] == "too_short"
                and any(o[: len(e["loc"])] == e["loc"] and o != e["loc"] for o in locs)
            )
        ]
        problems = [f"{config_path(e['loc'])}: {problem_message(e)}" for e in errors]
        raise ConfigError(source, problems) from None


def load_stack_text(text: str, source: str) -> StackConfig:
    """Load and validate the text of a stack file; ``source`` names it in errors."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError(
            source, [f"the file is {len(text)} characters; a stack file is at most 1 MiB"]
        )
    settings, _secrets = split_stack_file(parse_stack_text(text, source), source)
    return validate_stack(settings, source)


def _is_secret_value(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def split_stack_file(
    document: Mapping[str, Any], source: str = "stack file"
) -> tuple[dict[str, Any], set[str]]:
    """The ``monitoring:`` settings of a stack file, and the names of secrets set in it.

    Secret values (``{secure: …}``, written by ``pulumi config set --secret``) are never
    decrypted or returned; only their names, so that references can be checked.
    """
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise ConfigError(source, ["config: must be a mapping of key: value"])
    settings: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != NAMESPACE or not name:
            continue  # provider settings (grafana:url, …) belong to their providers
        if _is_secret_value(value):
            secrets.add(name)
        else:
            settings[name] = value
    return settings, secrets


def stack_file(stack: str, root: Path) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def load_stack(stack: str, root: Path | None = None) -> StackConfig:
    """Load and validate ``Pulumi.<stack>.yaml`` from ``root`` (default: the project root)."""
    path = stack_file(stack, root or project_root())
    if not path.is_file():
        raise ConfigError(
            str(path.name),
            [f"no such stack file; create it or use one of: {', '.join(list_stacks(path.parent))}"],
        )
    with path.open("rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(path.name, ["the file is larger than 1 MiB; a stack file is ~3 KB"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            path.name, [f"not UTF-8 text (byte {exc.start}); save it as UTF-8"]
        ) from None
    return load_stack_text(text, path.name)


def load_from_pulumi() -> StackConfig:
    """Read the typed config of the running Pulumi stack (inside ``pulumi up``/mocks)."""
    import pulumi  # the render path must not import pulumi

    cfg = pulumi.Config(NAMESPACE)
    settings: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        raw = cfg.get(key)
        if raw is None:
            continue
        # Structured values arrive as JSON text; plain ones (environment: production) do not.
        try:
            settings[key] = json.loads(raw)
        except json.JSONDecodeError:
            settings[key] = raw
        except RecursionError:
            raise ConfigError(
                f"Pulumi.{pulumi.get_stack()}.yaml",
                [f"{NAMESPACE}:{key}: nested more than {MAX_DEPTH} levels deep; no key needs that"],
            ) from None
    return validate_stack(settings, f"Pulumi.{pulumi.get_stack()}.yaml")


def project_root() -> Path:
    """The folder holding ``Pulumi.yaml`` (searched upwards from the working directory)."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def list_stacks(root: Path | None = None) -> list[str]:
    """Stack names with a ``Pulumi.<stack>.yaml`` in ``root``."""
    folder = root or project_root()
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))

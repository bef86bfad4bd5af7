"""Load a stack's typed config from ``Pulumi.<stack>.yaml`` or from ``pulumi.Config``.

Both paths feed the same dict into :class:`StackConfig`, so the CLI works offline (no Pulumi
CLI needed) and ``pulumi up`` sees exactly what the CLI rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.config.models import StackConfig

NAMESPACE = "monitoring"
"""The Pulumi project name; config keys are ``monitoring:<key>``."""

TOP_LEVEL_KEYS = tuple(StackConfig.model_fields)


class ConfigError(Exception):
    """A stack config that cannot be used, with one line per problem naming its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: invalid monitoring config:\n{lines}")


_RECEIVER_TAGS = {"pagerduty", "email", "slack", "null"}


def _path(loc: tuple[int | str, ...]) -> str:
    out = f"{NAMESPACE}:"
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(previous, int) and part in _RECEIVER_TAGS:
            pass  # the union tag pydantic inserts after receivers[i] is not a config key
        else:
            out += ("" if out.endswith(":") else ".") + part
        previous = part
    return out


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against the documented keys"
    if kind == "missing":
        return "required key is missing; add it"
    got = err.get("input")
    if isinstance(got, str) and got.strip().endswith("%") and kind == "float_type":
        number = got.strip().rstrip("%").strip()
        return f"must be a number, not {got!r}; write a ratio such as {_percent_hint(number)}"
    if kind in {"float_type", "int_type", "bool_type", "string_type"} and got is not None:
        return f"{msg} (got {type(got).__name__} {got!r}); write it without quotes or units"
    return msg


def _percent_hint(number: str) -> str:
    try:
        return f"{float(number) / 100:g} for {number}%"
    except ValueError:
        return "0.05 for 5%"


def _inside(loc: tuple[int | str, ...], parent: tuple[int | str, ...]) -> bool:
    return len(loc) > len(parent) and loc[: len(parent)] == parent


def validate_stack(data: Mapping[str, Any], source: str) -> StackConfig:
    """Validate a plain dict (the ``monitoring:`` keys, namespace stripped)."""
    try:
        # JSON mode keeps strictness (no "0.05" → 0.05) while reading YAML lists as tuples
        # and strings as enums; YAML dates and times become their ISO text.
        return StackConfig.model_validate_json(json.dumps(dict(data), default=str))
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
        problems = [f"{_path(e['loc'])}: {_message(e)}" for e in errors]
        raise ConfigError(source, problems) from None


def _is_secret_value(value: object) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def split_stack_file(document: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The ``monitoring:`` settings of a stack file, and the names of secrets set in it.

    Secret values (``{secure: …}``, written by ``pulumi config set --secret``) are never
    decrypted or returned; only their names, so that references can be checked.
    """
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise ConfigError("stack file", ["config: must be a mapping of key: value"])
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
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(path.name, [f"not valid YAML: {exc}"]) from None
    if not isinstance(document, Mapping):
        raise ConfigError(path.name, ["the file must be a mapping with a 'config:' key"])
    settings, _secrets = split_stack_file(document)
    return validate_stack(settings, path.name)


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

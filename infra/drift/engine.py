"""Drift of the managed resources, as the real Pulumi engine sees it.

``pulumi preview --refresh --json`` asks every provider to ``read`` its resources from the live
APIs first (the dynamic providers implement it), then plans what ``up`` would change. Each
planned step other than ``same`` is drift: an ``update`` of a field edited by hand, a
``create`` of a resource deleted by hand, a ``replace``, a ``delete``. This module runs that
preview and turns its JSON into :class:`ResourceDrift` rows, field by field: the live value is
the refreshed output, the declared one the program's input.

The JSON document of ``preview --json`` (Pulumi CLI 3.x) holds ``steps``, each with ``op``,
``urn``, ``oldState``/``newState`` (``inputs``, ``outputs``, ``type``) and ``diffReasons``.
Secrets arrive masked (no ``--show-secrets`` is ever passed).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from infra.drift.model import SECRET_SIG, FieldDrift, ResourceDrift

INTERNAL_KEYS = frozenset({"__provider"})
"""Inputs that are machinery, not configuration (the pickled dynamic provider)."""
QUIET_OPS = frozenset({"same", "read", "refresh"})
TIMEOUT_S = 900


class EngineError(Exception):
    """The engine could not produce a plan; the message is one line for a person."""


def find_pulumi(root: Path) -> Path:
    """``pulumi`` on PATH (the official CLI), else the one ``./scripts/build-engine`` built."""
    on_path = shutil.which("pulumi")
    if on_path:
        return Path(on_path)
    built = root / ".tools" / "bin" / "pulumi"
    if built.is_file():
        return built
    raise EngineError(
        "no pulumi CLI: install the official one, or run ./scripts/build-engine to build it here"
    )


def refresh_preview(stack: str, root: Path, pulumi: Path) -> dict[str, Any]:
    """Run ``pulumi preview --refresh --json`` for ``stack`` in ``root``; return its document."""
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    env["PATH"] = f"{pulumi.parent}{os.pathsep}{env.get('PATH', '')}"
    argv = [str(pulumi), "preview", "--refresh", "--json", "--non-interactive", "--stack", stack]
    try:
        done = subprocess.run(
            argv, cwd=root, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise EngineError(f"pulumi preview --refresh did not finish in {TIMEOUT_S} s") from None
    document = _json_document(done.stdout)
    if done.returncode != 0 or document is None:
        raise EngineError(f"pulumi preview --refresh failed for stack {stack!r}: {_why(done)}")
    return document


def _json_document(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    if start < 0:
        return None
    try:
        value = json.JSONDecoder().raw_decode(text[start:])[0]
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _why(done: subprocess.CompletedProcess[str]) -> str:
    """The engine's own error lines (diagnostics of severity error), else its last line."""
    document = _json_document(done.stdout) or {}
    errors = [
        " ".join(str(d.get("message", "")).split())
        for d in document.get("diagnostics") or []
        if d.get("severity") == "error"
    ]
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    text = "; ".join(e for e in errors if e) or (lines[-1] if lines else f"exit {done.returncode}")
    return text if len(text) <= 400 else text[:399] + "…"


def drifted_resources(document: Mapping[str, Any]) -> list[ResourceDrift]:
    """Every planned step that is not ``same``, with the fields that differ."""
    drifts = []
    for step in document.get("steps") or []:
        op = str(step.get("op", ""))
        if op in QUIET_OPS:
            continue
        urn = str(step.get("urn", ""))
        old, new = step.get("oldState") or {}, step.get("newState") or {}
        kind = str(new.get("type") or old.get("type") or urn.split("::")[-2:-1] or "")
        fields: tuple[FieldDrift, ...] = ()
        if op in {"update", "replace", "create-replacement", "delete-replaced"} and old and new:
            live, declared = old.get("outputs") or {}, new.get("inputs") or {}
            fields = tuple(field_drifts(live, declared, step.get("diffReasons") or ()))
        name = urn.rsplit("::", 1)[-1]
        drifts.append(ResourceDrift(urn, kind, name, _op(op), fields))
    return drifts


def _op(op: str) -> str:
    return {"create": "create (gone from the vendor)", "delete": "delete (no longer declared)"}.get(
        op, op
    )


def field_drifts(
    live: Mapping[str, Any], declared: Mapping[str, Any], reasons: Sequence[str] = ()
) -> Iterator[FieldDrift]:
    """Leaf fields whose live value differs from the declared one (dotted paths; list items by
    index). Only declared keys count: outputs such as a status are the vendor's business."""
    keys = [k for k in declared if k not in INTERNAL_KEYS and declared[k] is not None]
    if reasons:
        top = {str(r).split(".", 1)[0].split("[", 1)[0] for r in reasons}
        keys = [k for k in keys if k in top] or keys
    for key in sorted(keys):
        yield from _walk(key, live.get(key), declared[key])


def _walk(path: str, live: Any, declared: Any) -> Iterator[FieldDrift]:
    if _secret(live) or _secret(declared) or _same(live, declared):
        return
    if isinstance(live, Mapping) and isinstance(declared, Mapping):
        for key in sorted(set(live) | set(declared), key=str):
            if key in declared:
                yield from _walk(f"{path}.{key}", live.get(key), declared.get(key))
        return
    if (
        isinstance(live, list)
        and isinstance(declared, list)
        and len(live) == len(declared)
        and any(isinstance(v, Mapping | list) for v in declared)
    ):
        for index, (a, b) in enumerate(zip(live, declared, strict=True)):
            yield from _walk(f"{path}[{index}]", a, b)
        return
    yield FieldDrift(path, live, declared)


def _secret(value: Any) -> bool:
    return (isinstance(value, Mapping) and SECRET_SIG in value) or value == "[secret]"


def _same(a: Any, b: Any) -> bool:
    return bool(_canonical(a) == _canonical(b))


def _canonical(value: Any) -> Any:
    """Whole floats as ints (the engine's doubles), lists of plain values order-free."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value

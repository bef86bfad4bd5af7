"""Helpers every comparison shares: values shown in one line, nested documents compared field
by field, lists compared in order or by key, small unified diffs."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from infra.review.model import Change, FieldChange

Doc = Mapping[str, Any]


def show(value: Any) -> str:
    """A value as a reviewer reads it in one line."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, str):
        return value if value and " " not in value and len(value) <= 60 else json.dumps(value)
    if isinstance(value, Mapping) and set(value) == {"secret"}:
        return f"{{secret: {value['secret']}}}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def names(items: Iterable[str]) -> str:
    listed = list(dict.fromkeys(items))
    return ", ".join(listed) if listed else "nobody"


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a.b[0].c": leaf}`` for a nested document; a secret reference stays one leaf."""
    if isinstance(value, Mapping) and value and set(value) != {"secret"}:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list | tuple) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def field_changes(before: Any, after: Any, skip: Iterable[str] = ()) -> list[FieldChange]:
    """Every leaf that differs between two documents, in a stable order."""
    b, a = flatten(before), flatten(after)
    skipped = tuple(skip)
    keys = list(dict.fromkeys([*b, *a]))
    return [
        FieldChange(k, b.get(k), a.get(k))
        for k in keys
        if b.get(k) != a.get(k) and not any(_under(k, s) for s in skipped)
    ]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def list_changes(section: str, what: str, before: list[str], after: list[str]) -> list[Change]:
    """Lines removed and added between two ordered lists (for routes, order matters)."""
    changes = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        for line in before[i1:i2]:
            changes.append(Change(section, what, "removed", f"{what} removed: `{line.strip()}`"))
        for line in after[j1:j2]:
            changes.append(Change(section, what, "added", f"{what} added: `{line.strip()}`"))
    return changes


def describe_fields(changes: Iterable[FieldChange]) -> str:
    """``interval 300 → 60; name added: x`` for a list of field changes."""
    parts = []
    for c in changes:
        if c.before is None:
            parts.append(f"{c.field} added: {show(c.after)}")
        elif c.after is None:
            parts.append(f"{c.field} removed (was {show(c.before)})")
        else:
            parts.append(f"{c.field} {show(c.before)} → {show(c.after)}")
    return "; ".join(parts)


def text_diff(before: str, after: str) -> str:
    """A small unified diff of two texts (no file header; hunk markers only between hunks)."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2))[
        2:
    ]
    hunks = sum(1 for line in lines if line.startswith("@@"))
    if hunks <= 1:
        lines = [line for line in lines if not line.startswith("@@")]
    return "\n".join(lines)


def added_text(text: str, sign: str = "+") -> str:
    return "\n".join(f"{sign}{line}" for line in text.splitlines())


def pct(ratio: Any) -> str:
    return f"{float(ratio) * 100:.10g}%"


def seconds_text(seconds: Any) -> str:
    value = float(seconds)
    return f"{value * 1000:.10g}ms" if value < 1 else f"{value:.10g}s"


def keyed_changes(
    section: str,
    what: str,
    base: list[Doc],
    head: list[Doc],
    key: Callable[[Doc], str],
    title: Callable[[Doc], str],
    summary: Callable[[Doc], str],
    changed: Callable[[Doc, Doc], tuple[list[str], list[FieldChange]]],
) -> list[Change]:
    b, h = {key(d): d for d in base}, {key(d): d for d in head}
    out = []
    for k in dict.fromkeys([*b, *h]):
        if k not in b:
            text = f"{what} `{title(h[k])}` added: {summary(h[k])}"
            out.append(Change(section, title(h[k]), "added", text))
        elif k not in h:
            text = f"{what} `{title(b[k])}` removed (was {summary(b[k])})"
            out.append(Change(section, title(b[k]), "removed", text))
        else:
            parts, fields = changed(b[k], h[k])
            if parts:
                text = f"{what} `{title(b[k])}`: {'; '.join(parts)}"
                out.append(Change(section, title(b[k]), "changed", text, fields=tuple(fields)))
    return out


def generic_changes(
    before: Doc, after: Doc, skip: tuple[str, ...]
) -> tuple[list[str], list[FieldChange]]:
    """Every differing field of two documents, as one description and as data."""
    fields = field_changes(before, after, skip)
    return ([describe_fields(fields)] if fields else []), fields


def enabled_change(section: str, base: Doc, head: Doc) -> list[Change]:
    b, h = bool(base.get("enabled")), bool(head.get("enabled"))
    if b == h:
        return []
    text = f"{section} {'enabled' if h else 'disabled'} (was {'enabled' if b else 'disabled'})"
    return [Change(section, section, "changed", text, fields=(FieldChange("enabled", b, h),))]


def settings_changes(section: str, base: Doc, head: Doc, lists: tuple[str, ...]) -> list[Change]:
    skip = ("enabled", *lists)
    return [
        Change(section, c.field, "changed", describe_fields([c]), fields=(c,))
        for c in field_changes(base, head, skip)
    ]

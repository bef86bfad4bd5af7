"""``ConfigError`` and its messages: one line per problem, naming the config path and the fix.

A message repeats at most a few dozen characters of what the user wrote, and nothing of what
may be a secret: a value or key written where a secret reference belongs is never shown.
"""

from __future__ import annotations

import math
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from infra.config.models import StackConfig
from infra.config.types import SecretRef, shown

NAMESPACE = "monitoring"
"""The Pulumi project name; config keys are ``monitoring:<key>``."""

MAX_PROBLEMS = 20
"""Problems listed in one error; the rest are counted."""
MAX_PROBLEM_CHARS = 1000


class ConfigError(Exception):
    """A stack config that cannot be used, with one line per problem naming its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        shown_problems = [_cut(p) for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            shown_problems.append(f"{NAMESPACE}: … and {more} more problems; fix those above first")
        self.problems = shown_problems
        lines = "\n".join(f"  - {p}" for p in shown_problems)
        super().__init__(f"{source}: invalid monitoring config:\n{lines}")


def _cut(problem: str) -> str:
    """One line, of bounded length (a YAML reader error, for one, spans lines)."""
    line = " ".join(problem.splitlines())
    return line if len(line) <= MAX_PROBLEM_CHARS else line[:MAX_PROBLEM_CHARS] + "…"


_RECEIVER_TAGS = {"pagerduty", "email", "slack", "null"}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:-]{1,64}$")


def _secret_fields() -> frozenset[str]:
    """Names of the fields that hold a :class:`SecretRef`, found in the models themselves."""
    found: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            for kind in _types_in(field.annotation):
                if kind is SecretRef:
                    found.add(field.alias or name)
                elif isinstance(kind, type) and issubclass(kind, BaseModel):
                    walk(kind)

    walk(StackConfig)
    return frozenset(found)


def _types_in(annotation: object) -> Iterator[object]:
    yield annotation
    for arg in typing.get_args(annotation):
        if isinstance(arg, type | types.UnionType) or typing.get_origin(arg) is not None:
            yield from _types_in(arg)


SECRET_FIELDS = _secret_fields()
"""``integration_key``, ``webhook_url``, …: what is written there may be a secret by mistake."""


def _is_secret_loc(loc: tuple[int | str, ...]) -> bool:
    return any(part in SECRET_FIELDS for part in loc)


def config_path(loc: tuple[int | str, ...]) -> str:
    out = f"{NAMESPACE}:"
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(previous, int) and part in _RECEIVER_TAGS:
            pass  # the union tag pydantic inserts after receivers[i] is not a config key
        elif part == "[key]":
            out += "[key]"  # pydantic's marker: the problem is the mapping key itself
        else:
            if previous in SECRET_FIELDS and part != "secret":
                part = "<key not shown>"  # a key written inside a secret reference
            elif not _PLAIN_KEY.fullmatch(part):
                part = shown(part)
            out += ("" if out.endswith(":") else ".") + part
        previous = part
    return out


def problem_message(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against the documented keys"
    if kind == "missing":
        return "required key is missing; add it"
    if kind == "union_tag_invalid":
        tag = (err.get("ctx") or {}).get("tag")
        return f"unknown type {shown(tag)}; use one of pagerduty, email, slack, null"
    got = err.get("input")
    secret = _is_secret_loc(tuple(err["loc"]))
    if isinstance(got, str) and got.strip().endswith("%") and kind == "float_type":
        number = got.strip().rstrip("%").strip()
        return f"must be a number, not {shown(got)}; write a ratio such as {_percent_hint(number)}"
    if kind in {"float_type", "int_type", "bool_type", "string_type"} and got is not None:
        what = "(value not shown: it may be a secret)" if secret else shown(got)
        return f"{msg} (got {type(got).__name__} {what}); write it without quotes or units"
    return msg


def _percent_hint(number: str) -> str:
    try:
        ratio = float(number) / 100
    except ValueError:
        return "0.05 for 5%"
    if not math.isfinite(ratio) or len(number) > 20:
        return "0.05 for 5%"
    return f"{ratio:g} for {number}%"

"""Untrusted input made plain, in bounded time and memory.

A stack file's size, nesting depth and alias expansion are checked on the YAML event stream
before anything is built (a 3 KB "billion laughs" file would otherwise expand to 9^9 values),
and parsed values (from YAML or from Pulumi's JSON) are reduced to plain JSON data: text keys,
finite numbers of sensible size, no binary or sets; anything else is a problem with its path.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from infra.config.errors import NAMESPACE, ConfigError, config_path
from infra.config.types import clip, shown

MAX_FILE_BYTES = 1024 * 1024
"""A stack file is at most 1 MiB (the committed ones are about 3 KB)."""
MAX_DEPTH = 32
"""Nesting levels a stack file may use; the deepest documented key is 8 levels down."""
MAX_VALUES = 10_000
"""Values (scalars, lists, mappings) a stack file may hold once its aliases are expanded."""
MAX_INT = 10**18
"""The largest integer any setting takes (storage sizes in bytes stay far below it)."""

_YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


# --------------------------------------------------------------------------- plain data


def _key_text(key: object) -> str:
    """A key as YAML wrote it, cut: ``2024-01-01``, ``404``, ``true``, ``null``."""
    if isinstance(key, datetime.date | datetime.time):
        text = key.isoformat()
    elif isinstance(key, bool):
        text = str(key).lower()
    elif key is None:
        text = "null"
    else:
        text = str(key)
    return text if len(text) <= 40 else f"{text[:40]}…"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "empty (null)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, datetime.date | datetime.time):
        return "a date or time"
    return f"a {type(value).__name__}"


class _Plain:
    """Turns parsed YAML or JSON into plain JSON data, collecting one problem per bad value."""

    def __init__(self) -> None:
        self.values = 0
        self.problems: list[str] = []

    def convert(self, value: object, loc: tuple[int | str, ...]) -> object:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _TooBig
        if len(loc) > MAX_DEPTH:
            raise _TooDeep(loc)
        if isinstance(value, Mapping):
            out: dict[str, object] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    text = _key_text(key)
                    self.problems.append(
                        f"{config_path(loc)}: the key {text} is {_kind(key)}, not text; every "
                        f'key is a name: quote it ("{text}") or remove it'
                    )
                    continue
                out[key] = self.convert(item, (*loc, key))
            return out
        if isinstance(value, list | tuple):
            return [self.convert(item, (*loc, i)) for i, item in enumerate(value)]
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.problems.append(f"{config_path(loc)}: contains a character that is not text")
            return value
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                self.problems.append(
                    f"{config_path(loc)}: a number this large is not meaningful here; no "
                    "setting takes more than 10^18"
                )
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                self.problems.append(
                    f"{config_path(loc)}: must be a finite number, not {value!r} (.inf and .nan "
                    "are not allowed)"
                )
            return value
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()  # YAML dates and times become their ISO text
        if isinstance(value, bytes):
            what = "binary (!!binary)"
        elif isinstance(value, set):
            what = "set (!!set)"
        else:
            what = _kind(value)
        self.problems.append(
            f"{config_path(loc)}: {what} values are not allowed; write text or a list"
        )
        return None


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, loc: tuple[int | str, ...]) -> None:
        self.loc = loc


def plain_settings(data: Mapping[str, Any], source: str) -> dict[str, object]:
    """``data`` as plain JSON data, or a :class:`ConfigError` naming every value that is not."""
    plain = _Plain()
    try:
        out = plain.convert(dict(data), ())
    except _TooBig:
        raise ConfigError(
            source, [f"{NAMESPACE}: more than {MAX_VALUES} values; a stack needs a few hundred"]
        ) from None
    except _TooDeep as deep:
        raise ConfigError(
            source,
            [
                f"{config_path(deep.loc[:4])}: nested more than {MAX_DEPTH} levels deep; no key "
                "needs that"
            ],
        ) from None
    if plain.problems:
        raise ConfigError(source, plain.problems)
    assert isinstance(out, dict)
    return out


# --------------------------------------------------------------------------- YAML text


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "the file"


_NUMBER_RE = re.compile(r"^[-+]?[0-9][0-9_]*$")


def _too_deep(mark: Any) -> str:
    return f"{_where(mark)}: nested more than {MAX_DEPTH} levels deep; no key needs more than 8"


def _check_yaml_shape(text: str, source: str) -> None:
    """Bound nesting and alias expansion on the event stream, before anything is built."""
    depth, values = 0, 0
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    open_anchors: list[tuple[str | None, int]] = []  # (anchor, values before it)
    events: Iterator[Any] = yaml.parse(text, Loader=_YAML_LOADER)
    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            values += 1
            if event.anchor:
                sizes[event.anchor] = 1
            if len(event.value) > 1000 and not event.style and _NUMBER_RE.match(event.value):
                raise ConfigError(
                    source,
                    [
                        f"{_where(event.start_mark)}: a number with {len(event.value)} digits; "
                        "no setting takes more than 18"
                    ],
                )
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            values += 1
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(source, [_too_deep(event.start_mark)])
            open_anchors.append((event.anchor, values - 1))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            depth -= 1
            anchor, before = open_anchors.pop()
            if anchor:
                sizes[anchor] = values - before
        elif kind is yaml.AliasEvent:
            size = sizes.get(event.anchor)
            if size is None:
                if any(anchor == event.anchor for anchor, _ in open_anchors):
                    raise ConfigError(
                        source,
                        [
                            f"{_where(event.start_mark)}: the alias *{shown(event.anchor)} "
                            "refers to a value that contains it; write the value out instead"
                        ],
                    )
                continue  # undefined: the YAML loader reports it
            values += size
        else:
            continue
        if values > MAX_VALUES:
            raise ConfigError(
                source,
                [
                    f"{_where(event.start_mark)}: the file expands to more than {MAX_VALUES} "
                    "values (aliases count as often as they are used); write it out, a stack "
                    "needs a few hundred"
                ],
            )


def parse_stack_text(text: str, source: str) -> Mapping[str, Any]:
    """The YAML document of a stack file, within the bounds above, or a :class:`ConfigError`."""
    try:
        _check_yaml_shape(text, source)
        document = yaml.load(text, Loader=_YAML_LOADER) or {}
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in (exc.problem or ""):  # libyaml's own limit (1000) came first
            raise ConfigError(source, [_too_deep(exc.problem_mark)]) from None
        problem = clip(exc.problem or "", 200)
        raise ConfigError(
            source, [f"not valid YAML: {_where(exc.problem_mark)}: {problem}"]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"not valid YAML: {clip(str(exc), 200)}"]) from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer past Python's digit limit
        raise ConfigError(source, [f"not valid YAML: {clip(str(exc), 120)}"]) from None
    if not isinstance(document, Mapping):
        raise ConfigError(source, ["the file must be a mapping with a 'config:' key"])
    return document

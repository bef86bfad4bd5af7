"""Who an alert reaches: Alertmanager's routing tree, evaluated on a parsed ``alertmanager.yml``.

:func:`receivers_for` follows Alertmanager's own semantics (``dispatch.Route.Match``, checked
against ``amtool config routes test`` in the tests): a route matches when all of its matchers
do; its children are tried in order, and the first matching child stops the search unless it
sets ``continue: true``; a route none of whose children match is itself the match; a route
without ``receiver`` inherits its parent's. Matchers are the ``matchers:`` list (``a="b"``,
``a!=b``, ``a=~"re"``, ``a!~re``, several per string, optional braces) and the legacy
``match``/``match_re`` maps; a missing label is the empty string, and regular expressions are
anchored at both ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_MATCHER_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$", re.DOTALL)

Matcher = Callable[[Mapping[str, str]], bool]


class RoutingError(ValueError):
    """An ``alertmanager.yml`` route this module cannot evaluate (a bad matcher or regex)."""


def _split(text: str) -> list[str]:
    # Alertmanager's ParseMatchers: optional braces, commas outside double quotes separate.
    text = text.strip()
    text = text.removeprefix("{").removesuffix("}")
    tokens, token, quoted, escaped = [], "", False, False
    for ch in text:
        if ch == "," and not quoted:
            tokens.append(token)
            token = ""
            continue
        if ch == '"':
            if escaped:
                escaped = False
            else:
                quoted = not quoted
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token += ch
    if token.strip():
        tokens.append(token)
    return tokens


def _unquote(raw: str, whole: str) -> str:
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(ch, "\\" + ch))
        elif ch == "\\":
            if i < len(raw) - 1:
                escaped = True
            else:
                out.append("\\")
        elif ch == '"':
            if not quoted or i < len(raw) - 1:
                raise RoutingError(f"matcher {whole!r}: unescaped double quote in the value")
            quoted = False
        else:
            out.append(ch)
    if quoted:
        raise RoutingError(f"matcher {whole!r}: the value's closing double quote is missing")
    return "".join(out)


def _matcher(name: str, op: str, value: str) -> Matcher:
    if op in ("=", "!="):
        equal = op == "="
        return lambda labels: (labels.get(name, "") == value) == equal
    # Go lets flags such as (?i) open the expression inside the anchoring group; Python wants
    # them first, so they are hoisted.
    flags = re.match(r"\(\?[ims]+\)", value)
    lead, body = (flags.group(0), value[flags.end() :]) if flags else ("", value)
    try:
        pattern = re.compile(f"{lead}(?:{body})")
    except re.error as exc:
        raise RoutingError(
            f"matcher {name}{op}{value!r}: not a regular expression ({exc})"
        ) from None
    matching = op == "=~"
    return lambda labels: (pattern.fullmatch(labels.get(name, "")) is not None) == matching


def parse_matchers(text: str) -> list[Matcher]:
    """The matchers of one ``matchers:`` entry, such as ``severity="critical"``."""
    found = []
    for token in _split(text):
        m = _MATCHER_RE.match(token)
        if m is None:
            raise RoutingError(f'bad matcher {token.strip()!r}; write it as name="value"')
        found.append(_matcher(m.group(1), m.group(2), _unquote(m.group(3), token.strip())))
    return found


def route_matchers(route: Mapping[str, Any]) -> list[Matcher]:
    """Every matcher of one route: ``matchers``, legacy ``match`` and ``match_re``."""
    found: list[Matcher] = []
    for entry in route.get("matchers") or ():
        found += parse_matchers(str(entry))
    for name, value in (route.get("match") or {}).items():
        found.append(_matcher(str(name), "=", str(value)))
    for name, value in (route.get("match_re") or {}).items():
        found.append(_matcher(str(name), "=~", str(value)))
    return found


def _match(route: Mapping[str, Any], labels: Mapping[str, str], inherited: str) -> list[str]:
    if not all(m(labels) for m in route_matchers(route)):
        return []
    receiver = str(route.get("receiver") or inherited)
    found: list[str] = []
    for child in route.get("routes") or ():
        matched = _match(child, labels, receiver)
        found += matched
        if matched and not child.get("continue", False):
            break
    return found or [receiver]


def receivers_for(
    alertmanager_config: Mapping[str, Any], labels: Mapping[str, str]
) -> tuple[str, ...]:
    """The receivers an alert with ``labels`` reaches, in routing order, as ``amtool config
    routes test`` prints them (one per matching route, so a name may repeat).

    ``alertmanager_config`` is the parsed ``alertmanager.yml``; include ``alertname`` in
    ``labels`` if routes match on it.
    """
    route = alertmanager_config.get("route")
    if not isinstance(route, Mapping):
        raise RoutingError("alertmanager.yml has no route: section")
    return tuple(_match(route, labels, ""))

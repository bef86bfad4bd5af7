"""Property tests: whatever the input, loading either succeeds or raises ConfigError (with a
path), never another exception; and every config that loads renders well-formed rules."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config import ConfigError, StackConfig
from infra.config.loader import split_stack_file, stack_file, validate_stack
from infra.render.rules import render_rule_files
from tests.conftest import ROOT

BASE, _ = split_stack_file(
    yaml.safe_load(stack_file("production", ROOT).read_text(encoding="utf-8"))
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["5%", "-5m", "0s", "1e9", 'a"b', "x\ny", "{{ $value }}", "}", "#"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


PATHS = _paths(BASE)


def _replace(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _load(data: dict[str, Any]) -> StackConfig | None:
    try:
        return validate_stack(data, "Pulumi.hypothesis.yaml")
    except ConfigError as exc:
        assert exc.problems, "a ConfigError always lists its problems"
        assert all(p.startswith("monitoring:") for p in exc.problems), exc.problems
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=json_values)
def test_any_mutation_loads_or_raises_config_error(path: tuple[Any, ...], value: Any) -> None:
    _load(_replace(BASE, path, value))


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(PATHS), key=st.text(min_size=1, max_size=12))
def test_an_unknown_key_anywhere_is_rejected(path: tuple[Any, ...], key: str) -> None:
    target: Any = BASE
    for part in path:
        target = target[part]
    if not isinstance(target, dict) or key in target:
        return
    mutated = _replace(BASE, path, {**target, key: 1})
    assert _load(mutated) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=json_scalars)
def test_every_config_that_loads_renders_parseable_rules(path: tuple[Any, ...], value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        value = json.dumps(value)  # YAML can hold .nan; the loader must reject it either way
    cfg = _load(_replace(BASE, path, value))
    if cfg is None:
        return
    for rule_file in render_rule_files(cfg, "hypothesis"):
        assert yaml.safe_load(rule_file.text)["groups"]  # parsed back and structurally checked

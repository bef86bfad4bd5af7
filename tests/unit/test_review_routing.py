"""`receivers_for` against the real `amtool config routes test`: every alert of every stack's
rendered routing, and a hand-written tree with every matcher syntax Alertmanager accepts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.review.diff_alerts import parse_rules
from infra.review.routing import RoutingError, receivers_for
from infra.review.snapshot import parse_revision
from infra.validate_routing import resolve_receivers
from tests.conftest import ROOT

needs_amtool = pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")

STACKS = ("production", "staging", "local")


def _committed(stack: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    files = {
        p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
        for p in (ROOT / "alert_rules" / stack).glob("*.yml")
    }
    artifacts = parse_revision(files)[stack]
    assert artifacts.alertmanager is not None
    rules = parse_rules(artifacts.rule_files, artifacts.alertmanager)
    labels = [{**a.labels, "alertname": a.name} for a in rules.alerts]
    assert len(labels) >= 10
    return artifacts.alertmanager, labels


def _amtool(path: Path, labels: dict[str, str]) -> tuple[str, ...]:
    got = resolve_receivers(path, [f"{k}={v}" for k, v in labels.items()])
    assert got is not None, labels
    return got


@needs_amtool
@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_of_every_stack_reaches_what_amtool_says(stack: str) -> None:
    config, label_sets = _committed(stack)
    path = ROOT / "alert_rules" / stack / "alertmanager.yml"
    for labels in label_sets:
        assert receivers_for(config, labels) == _amtool(path, labels), labels


TREE = """
route:
  receiver: default
  routes:
    - receiver: team-a
      matchers: ['team="a"']
      continue: true
      routes:
        - receiver: a-pager
          match: {severity: critical}
        - matchers: ['severity=~"warn.*|info"']
    - receiver: not-b
      matchers: ['team!=b', 'env!~"stag.*"']
    - receiver: by-regex
      match_re: {service: "api|web"}
    - receiver: braces
      matchers: ['{env="prod",region=~"eu-.*"}']
    - receiver: empty-region
      matchers: [region=""]
receivers:
  - name: default
  - name: team-a
  - name: a-pager
  - name: not-b
  - name: by-regex
  - name: braces
  - name: empty-region
"""

LABEL_SETS = [
    {"team": "a", "severity": "critical"},
    {"team": "a", "severity": "warning"},
    {"team": "a", "severity": "debug"},
    {"team": "a", "severity": "critical", "env": "staging"},
    {"team": "b"},
    {"team": "b", "env": "staging", "service": "api"},
    {"team": "b", "env": "staging", "service": "apiserver"},
    {"team": "b", "env": "prod", "region": "eu-west"},
    {"team": "b", "env": "prod", "region": "us-east"},
    {"team": "b", "env": "stage"},
    {"team": "b", "env": "staging", "region": "x"},
    {"env": "staging"},
]


@needs_amtool
@pytest.mark.parametrize(
    "labels", LABEL_SETS, ids=lambda ls: ",".join(f"{k}={v}" for k, v in ls.items())
)
def test_every_matcher_syntax_routes_as_amtool_does(labels: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(TREE, encoding="utf-8")
    assert receivers_for(yaml.safe_load(TREE), labels) == _amtool(path, labels)


def test_continue_and_inheritance_without_amtool() -> None:
    config = yaml.safe_load(TREE)
    assert receivers_for(config, {"team": "a", "severity": "critical"}) == (
        "a-pager",
        "not-b",
    )
    # a child without a receiver inherits its parent's; team-a continues to the next match
    labels = {"team": "a", "severity": "info", "env": "stage"}
    assert receivers_for(config, labels) == ("team-a", "empty-region")
    assert receivers_for(config, {"team": "b", "env": "staging"}) == ("empty-region",)


@pytest.mark.parametrize(
    ("matcher", "message"),
    [
        ("severity", "bad matcher 'severity'"),
        ('severity="crit', "closing double quote is missing"),
        ('a=~"("', "not a regular expression"),
    ],
)
def test_a_matcher_alertmanager_would_reject_is_one_clear_error(matcher: str, message: str) -> None:
    config = {"route": {"receiver": "x", "routes": [{"receiver": "y", "matchers": [matcher]}]}}
    with pytest.raises(RoutingError, match=message):
        receivers_for(config, {"severity": "critical"})


def test_quoted_values_unescape_like_alertmanager() -> None:
    config = {
        "route": {"receiver": "x", "routes": [{"receiver": "y", "matchers": [r'a="x\"y,z"']}]}
    }
    assert receivers_for(config, {"a": 'x"y,z'}) == ("y",)
    assert receivers_for(config, {"a": "x"}) == ("x",)

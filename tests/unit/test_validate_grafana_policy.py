"""Two stacks must never write the notification policy of one Grafana organization
(infra/validate.py ``shared_grafana_policies``, run by ``monitoring validate``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from infra.config import StackConfig, load_stack
from infra.validate import Check, Promtool, grafana_policy_target, shared_grafana_policies


def _grafana(stack: str, **update: Any) -> StackConfig:
    cfg = load_stack(stack)
    return cfg.model_copy(update={"grafana": cfg.grafana.model_copy(update=update)})


def test_the_committed_stacks_each_write_their_own_policy() -> None:
    configs = {s: load_stack(s) for s in ("production", "staging", "local")}
    assert shared_grafana_policies(configs) == []


def test_two_stacks_on_one_url_and_org_are_refused_naming_both_files() -> None:
    configs = {
        "production": _grafana("production", org_id=1),
        "staging": _grafana("staging", org_id=1),
    }
    assert shared_grafana_policies(configs) == [
        "Pulumi.production.yaml and Pulumi.staging.yaml write the notification policy of the "
        "same Grafana organization (https://agenzia.grafana.net, org 1); give each stack its "
        "own monitoring:grafana.org_id (or its own Grafana stack URL)"
    ]


def test_an_unset_org_id_is_grafanas_default_org_1() -> None:
    configs = {
        "production": _grafana("production", org_id=None),
        "staging": _grafana("staging", org_id=1),
    }
    (problem,) = shared_grafana_policies(configs)
    assert "(https://agenzia.grafana.net, org 1)" in problem


def test_urls_differing_only_in_case_or_default_port_are_one_grafana() -> None:
    configs = {
        "production": _grafana("production", org_id=3),
        "staging": _grafana("staging", url="https://Agenzia.Grafana.net:443", org_id=3),
    }
    assert len(shared_grafana_policies(configs)) == 1


def test_three_stacks_sharing_an_org_are_one_problem_naming_all_three() -> None:
    configs = {
        s: _grafana(s, url="https://agenzia.grafana.net", org_id=None)
        for s in ("production", "staging", "local")
    }
    (problem,) = shared_grafana_policies(configs)
    assert problem.startswith(
        "Pulumi.local.yaml and Pulumi.production.yaml and Pulumi.staging.yaml write"
    )


@pytest.mark.parametrize(
    ("production", "staging"),
    [
        pytest.param({"org_id": 1}, {"org_id": 2}, id="different org ids"),
        pytest.param(
            {"org_id": 1},
            {"org_id": 1, "url": "https://agenzia-staging.grafana.net"},
            id="different urls",
        ),
        pytest.param({"org_id": 1}, {"org_id": 1, "enabled": False}, id="grafana disabled"),
    ],
)
def test_separate_organizations_or_a_stack_without_grafana_pass(
    production: dict[str, Any], staging: dict[str, Any]
) -> None:
    configs = {
        "production": _grafana("production", **production),
        "staging": _grafana("staging", **staging),
    }
    assert shared_grafana_policies(configs) == []


def test_a_stack_without_grafana_writes_no_policy() -> None:
    assert grafana_policy_target(_grafana("staging", enabled=False)) is None
    assert grafana_policy_target(_grafana("staging", org_id=2)) == (
        "https://agenzia.grafana.net",
        2,
    )


# --------------------------------------------------------------------------- monitoring validate


def _no_promtool(
    cfg: StackConfig, stack: str, root: Path, promtools: list[Promtool]
) -> list[Check]:
    return [Check("promtool checks (stubbed)", True, "")]


@pytest.fixture
def project(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.production.yaml", "Pulumi.staging.yaml"):
        shutil.copy(repo_root / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PROMTOOL3", raising=False)
    # Only the cross-stack check runs: the rendered files and promtool are other tests' business.
    monkeypatch.setattr("infra.cli.stale_files", lambda *_: [])
    monkeypatch.setattr("infra.cli.validate_stack_files", _no_promtool)
    return tmp_path


def _set_org(root: Path, stack: str, old: str, new: str) -> None:
    path = root / f"Pulumi.{stack}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_validate_passes_the_committed_stack_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--stack", "production", "--stack", "staging"]) == 0
    assert "write the notification policy" not in capsys.readouterr().out


def test_validate_fails_naming_both_files_when_two_stacks_share_an_org(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_org(project, "staging", "org_id: 2", "org_id: 1")
    assert main(["validate", "--stack", "production", "--stack", "staging"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        "FAIL Pulumi.production.yaml and Pulumi.staging.yaml write the notification policy of "
        "the same Grafana organization (https://agenzia.grafana.net, org 1); give each stack its "
        "own monitoring:grafana.org_id (or its own Grafana stack URL)"
    ) in out
    assert out[-1] == "monitoring validate: FAILED"


def test_validate_passes_when_the_sharing_stack_has_grafana_disabled(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_org(project, "staging", "org_id: 2", "org_id: 1")
    _set_org(
        project, "staging", "  monitoring:grafana:\n", "  monitoring:grafana:\n    enabled: false\n"
    )
    assert main(["validate", "--stack", "production", "--stack", "staging"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "monitoring validate: all checks passed"

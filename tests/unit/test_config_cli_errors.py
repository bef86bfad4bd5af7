"""`monitoring` on bad input: exit 2 with one message, never a traceback; `--debug` raises."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import infra.cli
from infra.cli import main
from infra.config import ConfigError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "config" / "bad"


@pytest.fixture
def project(tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(repo_root / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "fixture", ["alias-bomb", "deep-nesting", "date-key", "not-utf8", "secret-url-as-name"]
)
def test_a_hostile_stack_file_is_one_message_and_exit_2(
    fixture: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / f"{fixture}.yaml", project / "Pulumi.t.yaml")
    assert main(["render", "--check", "--stack", "t"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "Pulumi.t.yaml: invalid monitoring config:" in err
    assert len(err) < 2000
    assert "hooks.slack.com" not in err


def test_debug_raises_the_config_error(project: Path) -> None:
    shutil.copy(FIXTURES / "alias-bomb.yaml", project / "Pulumi.t.yaml")
    with pytest.raises(ConfigError):
        main(["--debug", "render", "--check", "--stack", "t"])


def test_an_unexpected_error_is_one_line_too(
    project: Path,
    repo_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copy(repo_root / "Pulumi.production.yaml", project / "Pulumi.production.yaml")

    def broken(*_args: object) -> dict[str, str]:
        raise RuntimeError("renderer broke\nover two lines")

    monkeypatch.setattr(infra.cli, "render_stack", broken)
    assert main(["render", "--check", "--stack", "production"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "RuntimeError: renderer broke over two lines" in err
    assert "monitoring --debug render" in err
    with pytest.raises(RuntimeError):
        main(["--debug", "render", "--check", "--stack", "production"])

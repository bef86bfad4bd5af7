"""Temporary git repositories with rendered artifacts, for ``monitoring diff`` tests.

Each commit holds what ``monitoring render`` would write for a config (the real renderers,
``infra.render.artifacts.render_stack``), plus the stack file, so a test is a real pull
request: a base commit, a head commit, and the report between them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.config import StackConfig
from infra.config.loader import load_stack_text
from infra.render.artifacts import render_stack
from infra.review.cli import register

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_TEXT = (ROOT / "Pulumi.production.yaml").read_text(encoding="utf-8")

_RENDERED: dict[tuple[str, str], dict[str, str]] = {}


def rendered(cfg: StackConfig, stack: str) -> dict[str, str]:
    """``render_stack`` for ``cfg``, cached: several tests render the same base."""
    key = (cfg.model_dump_json(), stack)
    if key not in _RENDERED:
        _RENDERED[key] = render_stack(cfg, stack)
    return _RENDERED[key]


def production(text: str = PRODUCTION_TEXT) -> StackConfig:
    return load_stack_text(text, "Pulumi.production.yaml")


def edited(old: str, new: str, text: str = PRODUCTION_TEXT) -> str:
    """The production stack file with ``old`` replaced by ``new`` (which must be there)."""
    assert old in text, old
    return text.replace(old, new, 1)


class Repo:
    """A git repository holding one project's stack files and generated artifacts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "Pulumi.yaml").write_text("name: agenzia-monitoring\nruntime: python\n")
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "review@example.com")
        self.git("config", "user.name", "review test")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, text=True, check=True
        )
        return done.stdout

    def render(self, cfg: StackConfig, stack: str = "production", text: str | None = None) -> None:
        """Write what ``monitoring render`` writes for ``cfg`` (removing the stack's old
        generated files first) and, when given, the stack file's ``text``."""
        for folder in (f"alert_rules/{stack}", f"dashboards/{stack}"):
            shutil.rmtree(self.root / folder, ignore_errors=True)
        (self.root / f"provisioned/{stack}.json").unlink(missing_ok=True)
        for path, body in rendered(cfg, stack).items():
            self.write(path, body)
        if text is not None:
            self.write(f"Pulumi.{stack}.yaml", text)

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def read_json(self, path: str) -> Any:
        return json.loads((self.root / path).read_text(encoding="utf-8"))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def diff(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
    ) -> tuple[int, str, str]:
        """``monitoring diff ARGS`` in this repository: (exit status, stdout, stderr)."""
        parser = argparse.ArgumentParser(prog="monitoring")
        register(parser.add_subparsers(dest="command", required=True))
        parsed = parser.parse_args(["diff", *args])
        monkeypatch.chdir(self.root)
        capsys.readouterr()
        code = parsed.func(parsed)
        out, err = capsys.readouterr()
        return code, out, err


def change_lines(markdown: str) -> list[str]:
    """The report's change lines (``- …``), without diff blocks, in order."""
    return [line[2:] for line in markdown.splitlines() if line.startswith("- ")]

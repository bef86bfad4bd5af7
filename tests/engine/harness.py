"""Drive the real ``pulumi`` CLI on a throw-away project: a local file backend, a copy of a
stack file, and the project's program and virtualenv.

Nothing here touches a committed file: the stack file is copied (``pulumi stack init`` adds an
``encryptionsalt`` to it and ``pulumi config set`` rewrites it), and the program is reached
through a symlink to ``infra/``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.drift import engine

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "engine-test-passphrase"
EXPECT_NO_CHANGES_FAILED = 7
"""What ``pulumi preview|up --expect-no-changes`` exits with when changes are planned (v3.274)."""


def find_pulumi() -> Path | None:
    """The engine the test command's set-up made available (the same lookup as
    ``monitoring drift``: on PATH, else ``.tools/bin``), or None."""
    try:
        return engine.find_pulumi(ROOT)
    except engine.EngineError:
        return None


@dataclass
class PulumiProject:
    """One stack of a temporary copy of the project, run with the real CLI."""

    folder: Path
    stack: str
    pulumi: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        folder: Path,
        stack: str,
        pulumi: Path,
        config: Mapping[str, Any],
        env: Mapping[str, str] | None = None,
    ) -> PulumiProject:
        """A project in ``folder`` whose stack file holds ``config`` (the ``config:`` map)."""
        (folder / "state").mkdir(parents=True)
        (folder / "home").mkdir()
        project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
        project["runtime"]["options"]["virtualenv"] = str(ROOT / ".venv")
        (folder / "Pulumi.yaml").write_text(yaml.safe_dump(project), encoding="utf-8")
        (folder / "infra").symlink_to(ROOT / "infra", target_is_directory=True)
        stack_file = folder / f"Pulumi.{stack}.yaml"
        # JSON is YAML whose strings are all quoted: PyYAML would write "0789" bare, and the
        # engine's YAML 1.2 parser would read that back as the number 789.
        stack_file.write_text(json.dumps({"config": dict(config)}, indent=2), encoding="utf-8")
        base = {
            "PATH": f"{pulumi.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(folder / "home"),
            "PULUMI_HOME": str(folder / "home" / ".pulumi"),
            "PULUMI_BACKEND_URL": f"file://{folder / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PYTHONDONTWRITEBYTECODE": "1",
            **dict(env or {}),
        }
        proj = cls(folder, stack, pulumi, base)
        proj.run("stack", "init", stack)
        return proj

    def run(
        self, *args: str, codes: tuple[int, ...] = (0,), stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``pulumi ARGS`` for this stack; fail the test with its output unless it exits
        with one of ``codes``."""
        argv = [str(self.pulumi), *args, "--non-interactive"]
        if args[:2] != ("stack", "init"):
            argv += ["--stack", self.stack]
        done = subprocess.run(
            argv,
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode not in codes:
            raise AssertionError(
                f"`pulumi {' '.join(args)}` exited {done.returncode}, expected {codes}\n"
                f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-4000:]}"
            )
        return done

    def set_secret(self, key: str, value: str) -> None:
        # From stdin, so the value is not in any process list.
        self.run("config", "set", "--secret", key, stdin=value)

    def preview_json(self, *extra: str, codes: tuple[int, ...] = (0,)) -> dict[str, Any]:
        done = self.run("preview", "--json", *extra, codes=codes)
        doc: dict[str, Any] = json.loads(done.stdout)
        return doc

    def state_file(self) -> Path:
        found = list((self.folder / "state" / ".pulumi" / "stacks").rglob(f"{self.stack}.json"))
        assert len(found) == 1, f"expected one state file for {self.stack}, found {found}"
        return found[0]

    def stack_file(self) -> Path:
        return self.folder / f"Pulumi.{self.stack}.yaml"


def steps_by_op(preview: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{op: [resource name, ...]}`` of a ``pulumi preview --json`` document (``same`` too)."""
    out: dict[str, list[str]] = {}
    for step in preview.get("steps") or []:
        out.setdefault(step["op"], []).append(step["urn"].rsplit("::", 1)[-1])
    return {op: sorted(names) for op, names in out.items()}

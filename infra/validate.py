"""Check rendered files with the real tools: promtool (and amtool, for routing).

Every check returns a :class:`Check` instead of raising, so ``monitoring validate`` can say
what failed for every stack in one run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from infra.config import StackConfig

INSTALL_HINT = (
    "install it with ./scripts/setup (Debian packages prometheus, prometheus-alertmanager)"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    output: str


def tool(name: str) -> str:
    """The path of a required command-line tool, or a clear error saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not installed; {INSTALL_HINT}")
    return path


def run(name: str, argv: Sequence[str], cwd: Path | None = None) -> Check:
    try:
        proc = subprocess.run(
            [tool(argv[0]), *argv[1:]],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
    except FileNotFoundError as exc:
        return Check(name, False, str(exc))
    return Check(name, proc.returncode == 0, proc.stdout + proc.stderr)


def rule_files(stack_dir: Path) -> list[Path]:
    return sorted(stack_dir.glob("*.rules.yml"))


def check_rules(stack_dir: Path) -> Check:
    files = rule_files(stack_dir)
    if not files:
        return Check("promtool check rules", False, f"no *.rules.yml in {stack_dir}")
    return run("promtool check rules", ["promtool", "check", "rules", *map(str, files)])


def run_rule_tests(stack_dir: Path) -> Check:
    tests = sorted((stack_dir / "tests").glob("*.test.yml"))
    if not tests:
        return Check("promtool test rules", False, f"no tests/*.test.yml in {stack_dir}")
    # One promtool per test file (one file per service), as many at once as there are cores.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(_run_service_tests, tests))
    output = "".join(r.output for r in results if not r.ok) or "".join(r.output for r in results)
    return Check("promtool test rules", all(r.ok for r in results), output)


def _run_service_tests(test_file: Path) -> Check:
    """``promtool test rules`` on one service's tests.

    promtool evaluates every loaded rule at every step of every test, so with all services'
    groups loaded the cost grows with the square of the service count. When the rule files
    hold other services' groups, the test runs against a copy holding only this service's
    groups (same rules, parsed from the rendered files); otherwise on the files themselves.
    promtool resolves ``rule_files`` relative to the test file's folder.
    """
    service = test_file.name.removesuffix(".test.yml")
    stack_dir = test_file.parent.parent
    documents = {
        f.name: yaml.safe_load(f.read_text(encoding="utf-8")) for f in rule_files(stack_dir)
    }
    groups = [g for d in documents.values() for g in d.get("groups") or []]
    if all(str(g["name"]).startswith(f"{service}.") for g in groups):
        return run(
            test_file.name, ["promtool", "test", "rules", test_file.name], cwd=test_file.parent
        )
    with tempfile.TemporaryDirectory(prefix=f"rules-{service}-") as tmp:
        (Path(tmp) / "tests").mkdir()
        for name, document in documents.items():
            mine = [
                g for g in document.get("groups") or [] if str(g["name"]).startswith(f"{service}.")
            ]
            (Path(tmp) / name).write_text(
                yaml.safe_dump({"groups": mine}, sort_keys=False), encoding="utf-8"
            )
        shutil.copy(test_file, Path(tmp) / "tests" / test_file.name)
        return run(
            test_file.name, ["promtool", "test", "rules", test_file.name], cwd=Path(tmp) / "tests"
        )


def validate_stack_files(cfg: StackConfig, stack: str, root: Path) -> list[Check]:
    """Every check of one stack's rendered files under ``root``."""
    from infra.validate_routing import check_routing

    stack_dir = root / "alert_rules" / stack
    checks = [check_rules(stack_dir), run_rule_tests(stack_dir)]
    problems = check_routing(cfg, stack, stack_dir / "alertmanager.yml")
    checks.append(
        Check("amtool check-config + config routes test", not problems, "\n".join(problems))
    )
    return checks

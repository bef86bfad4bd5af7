"""Check rendered files with the real tools: promtool (and amtool, for routing).

Every check returns a :class:`Check` instead of raising, so ``monitoring validate`` can say
what failed for every stack in one run.

The promtool checks run under two promtools, since the rules must hold under both engines:
Debian's (``promtool`` on PATH, Prometheus 2.42) and a Prometheus 3 one (``$PROMTOOL3``, else
``.tools/prom3/promtool`` as ``scripts/build-promtool3`` builds it), whose range selectors are
left-open like the Prometheus 3 engine Grafana Cloud evaluates rules with.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from infra.config import StackConfig

INSTALL_HINT = (
    "install it with ./scripts/setup (Debian packages prometheus, prometheus-alertmanager)"
)
PROMTOOL3_HINT = "build it with ./scripts/build-promtool3, or set PROMTOOL3 to a 3.x promtool"
PROMTOOL3_DEFAULT = Path(".tools") / "prom3" / "promtool"


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


@dataclass(frozen=True)
class Promtool:
    """A promtool binary (a path, or a name looked up on PATH) and the Prometheus it is."""

    command: str
    label: str  # "Prometheus 2.42"


class PromtoolMissing(Exception):
    """No usable Prometheus 3 promtool; ``explicit`` when PROMTOOL3 named an unusable one."""

    def __init__(self, message: str, explicit: bool) -> None:
        super().__init__(message)
        self.explicit = explicit


@cache
def _version(command: str) -> tuple[int, int] | None:
    """``(major, minor)`` from ``promtool --version``, None when it cannot be run or read."""
    try:
        proc = subprocess.run(
            [command, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"version (\d+)\.(\d+)", proc.stdout + proc.stderr)
    return (int(found[1]), int(found[2])) if found else None


def debian_promtool() -> Promtool:
    """``promtool`` on PATH: Debian's package, Prometheus 2.42."""
    version = _version(shutil.which("promtool") or "promtool")
    return Promtool(
        "promtool", f"Prometheus {version[0]}.{version[1]}" if version else "Prometheus 2"
    )


def prometheus3_promtool(root: Path, environ: Mapping[str, str] = os.environ) -> Promtool:
    """The Prometheus 3 promtool: ``$PROMTOOL3``, else ``.tools/prom3/promtool`` under
    ``root``; :class:`PromtoolMissing` saying why and how to get one when there is none."""
    explicit = bool(environ.get("PROMTOOL3"))
    path = Path(environ["PROMTOOL3"]) if explicit else root / PROMTOOL3_DEFAULT
    where = f"PROMTOOL3={path}" if explicit else f"{PROMTOOL3_DEFAULT} (PROMTOOL3 is not set)"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise PromtoolMissing(f"no Prometheus 3 promtool at {where}", explicit)
    version = _version(str(path))
    if version is None or version[0] != 3:
        said = f"says {version[0]}.{version[1]}" if version else "names no version"
        raise PromtoolMissing(
            f"{where} is not a Prometheus 3 promtool (its --version {said})", explicit
        )
    # absolute: the rule tests run in each stack's tests/ folder
    return Promtool(str(path.resolve()), f"Prometheus {version[0]}.{version[1]}")


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``CI`` is set (GitHub Actions and most CI services set ``CI=true``): there a
    missing Prometheus 3 promtool fails validation instead of skipping its checks."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


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


def check_rules(stack_dir: Path, promtool: Promtool | None = None) -> Check:
    """``promtool check rules`` on every rule file of a stack (Debian's promtool by default)."""
    promtool = promtool or debian_promtool()
    name = f"promtool check rules ({promtool.label})"
    files = rule_files(stack_dir)
    if not files:
        return Check(name, False, f"no *.rules.yml in {stack_dir}")
    return run(name, [promtool.command, "check", "rules", *map(str, files)])


def run_rule_tests(stack_dir: Path, promtool: Promtool | None = None) -> Check:
    """``promtool test rules`` on every test file of a stack (Debian's promtool by default)."""
    return run_rule_tests_under(stack_dir, [promtool or debian_promtool()])[0]


def run_rule_tests_under(stack_dir: Path, promtools: Sequence[Promtool]) -> list[Check]:
    """``promtool test rules`` under each promtool: one Check per promtool, in order."""
    tests = sorted((stack_dir / "tests").glob("*.test.yml"))
    names = [f"promtool test rules ({p.label})" for p in promtools]
    if not tests:
        return [Check(n, False, f"no tests/*.test.yml in {stack_dir}") for n in names]
    # One promtool per test file (one file per service) and per promtool, as many at once as
    # there are cores.
    jobs = [(p, t) for p in promtools for t in tests]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda job: _run_service_tests(*job), jobs))
    checks = []
    for i, name in enumerate(names):
        mine = results[i * len(tests) : (i + 1) * len(tests)]
        output = "".join(r.output for r in mine if not r.ok) or "".join(r.output for r in mine)
        checks.append(Check(name, all(r.ok for r in mine), output))
    return checks


def _run_service_tests(promtool: Promtool, test_file: Path) -> Check:
    """``promtool test rules`` on one service's tests.

    promtool evaluates every loaded rule at every step of every test, so with all services'
    groups loaded the cost grows with the square of the service count. When the rule files
    hold other services' groups, the test runs against a copy holding only this service's
    groups (same rules, parsed from the rendered files); otherwise on the files themselves.
    promtool resolves ``rule_files`` relative to the test file's folder.
    """
    service = test_file.name.removesuffix(".test.yml")
    stack_dir = test_file.parent.parent
    argv = [promtool.command, "test", "rules", test_file.name]
    documents = {
        f.name: yaml.safe_load(f.read_text(encoding="utf-8")) for f in rule_files(stack_dir)
    }
    groups = [g for d in documents.values() for g in d.get("groups") or []]
    if all(str(g["name"]).startswith(f"{service}.") for g in groups):
        return run(test_file.name, argv, cwd=test_file.parent)
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
        return run(test_file.name, argv, cwd=Path(tmp) / "tests")


GRAFANA_DEFAULT_ORG = 1
"""The organization a Grafana resource without ``org_id`` lands in: a service-account token
belongs to one org, and Grafana's first (often only) org is 1."""


def grafana_policy_target(cfg: StackConfig) -> tuple[str, int] | None:
    """The Grafana organization whose notification policy ``cfg`` writes: (the URL with scheme
    and host lower-cased and no default port, ``org_id`` or 1); None when Grafana is off."""
    g = cfg.grafana
    if not g.enabled:
        return None
    url = urlsplit(g.url)
    host = url.netloc.lower().removesuffix({"http": ":80", "https": ":443"}[url.scheme])
    return f"{url.scheme}://{host}{url.path.rstrip('/')}", g.org_id or GRAFANA_DEFAULT_ORG


def shared_grafana_policies(configs: Mapping[str, StackConfig]) -> list[str]:
    """One problem per Grafana organization whose single notification policy two or more
    stacks would write (the last ``pulumi up`` would win the routing), naming their files."""
    by_target: dict[tuple[str, int], list[str]] = {}
    for stack, cfg in configs.items():
        target = grafana_policy_target(cfg)
        if target is not None:
            by_target.setdefault(target, []).append(stack)
    return [
        " and ".join(f"Pulumi.{s}.yaml" for s in sorted(stacks))
        + f" write the notification policy of the same Grafana organization ({url}, org "
        f"{org}); give each stack its own monitoring:grafana.org_id (or its own Grafana "
        "stack URL)"
        for (url, org), stacks in sorted(by_target.items())
        if len(stacks) > 1
    ]


def validate_stack_files(
    cfg: StackConfig, stack: str, root: Path, promtools: Sequence[Promtool] | None = None
) -> list[Check]:
    """Every check of one stack's rendered files under ``root``; the promtool checks under
    each of ``promtools`` (default: Debian's)."""
    from infra.validate_routing import check_routing

    promtools = list(promtools or [debian_promtool()])
    stack_dir = root / "alert_rules" / stack
    tests = run_rule_tests_under(stack_dir, promtools)
    checks = []
    for promtool, test in zip(promtools, tests, strict=True):
        checks += [check_rules(stack_dir, promtool), test]
    problems = check_routing(cfg, stack, stack_dir / "alertmanager.yml")
    checks.append(
        Check("amtool check-config + config routes test", not problems, "\n".join(problems))
    )
    return checks

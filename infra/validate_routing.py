"""Check a rendered ``alertmanager.yml`` with the real ``amtool``: valid, and every severity
reaches exactly the receivers the routing model says (``RoutingConfig.receivers_for``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infra.config import Severity, StackConfig

AMTOOL_TIMEOUT_SECONDS = 30
_INSTALL_HINT = "install it with: apt-get install --no-install-recommends prometheus-alertmanager"


def check_routing(cfg: StackConfig, stack: str, rendered_path: Path) -> list[str]:
    """Problems with ``rendered_path`` for ``stack`` (an empty list means it is fine)."""
    amtool = shutil.which("amtool")
    if amtool is None:
        return [f"amtool is not on PATH; {_INSTALL_HINT}"]
    if not rendered_path.is_file():
        return [f"{rendered_path}: missing; run `monitoring render` to write it"]
    checked = _run(amtool, "check-config", str(rendered_path))
    if checked.returncode != 0:
        detail = (checked.stderr or checked.stdout).strip()
        return [f"{rendered_path}: amtool check-config failed: {detail}"]
    problems: list[str] = []
    for severity in Severity:
        expected = cfg.routing.receivers_for(severity)
        for service in cfg.services:
            labels = _labels(severity, service.name, cfg.environment)
            got = resolve_receivers(rendered_path, labels, amtool)
            if got is None:
                problems.append(f"{rendered_path}: amtool config routes test failed for {labels}")
            elif set(got) != set(expected):
                problems.append(
                    f"{rendered_path} (stack {stack}): {' '.join(labels)} reaches {list(got)}, "
                    f"but monitoring:routing says {list(expected)}; run `monitoring render` "
                    "and commit the result"
                )
    return problems


def resolve_receivers(
    rendered_path: Path, labels: list[str], amtool: str = "amtool"
) -> tuple[str, ...] | None:
    """Receivers ``amtool config routes test`` resolves for ``labels`` (``None`` on failure)."""
    result = _run(amtool, "config", "routes", "test", f"--config.file={rendered_path}", *labels)
    if result.returncode != 0:
        return None
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines:
        return None
    # The last stdout line is the comma-separated receiver list (warnings go to stderr).
    return tuple(name.strip() for name in lines[-1].split(","))


def _labels(severity: Severity, service: str, environment: str) -> list[str]:
    return [f"severity={severity.value}", f"service={service}", f"environment={environment}"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    # A fixed argv and no shell: label values cannot inject anything.
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=AMTOOL_TIMEOUT_SECONDS, check=False
    )

"""The local Prometheus: wait for its first scrape, load the rule files, check its rule groups.

Rule files are written before Prometheus starts, but into ``rules.pending/``; they become
``rules/`` (the directory ``prometheus.yml`` names) by one atomic rename after the first
scrape, and Prometheus reloads. Prometheus 2.x applies its first target set up to 5-10s after
start; until then ``absent(up)`` holds, and with ``for`` compressed to 3s ApiHealthCheckDown
would fire and notify on every start (production's 5m ``for`` hides that gap).
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import httpx
import yaml

from infra.local.observe import read_targets
from infra.local.procs import StartError

RULES_DIR = "rules"
PENDING_RULES_DIR = "rules.pending"


def rule_group_names(rule_texts: Iterable[str]) -> list[str]:
    """Names of the groups in rendered rule files, sorted (a group may repeat across files)."""
    return sorted(
        str(group["name"])
        for text in rule_texts
        for group in (yaml.safe_load(text) or {}).get("groups") or ()
    )


def loaded_rule_groups(client: httpx.Client, prometheus: str) -> list[str]:
    """Names of the rule groups Prometheus has loaded, sorted."""
    response = client.get(f"{prometheus}/api/v1/rules")
    response.raise_for_status()
    return sorted(str(g["name"]) for g in response.json()["data"]["groups"])


def rule_group_mismatch(expected: list[str], loaded: list[str]) -> str | None:
    """None when Prometheus has loaded exactly the rendered groups, else what differs."""
    missing = sorted((Counter(expected) - Counter(loaded)).elements())
    extra = sorted((Counter(loaded) - Counter(expected)).elements())
    if not missing and not extra:
        return None
    parts = [f"missing {', '.join(missing)}"] if missing else []
    parts += [f"unexpected {', '.join(extra)}"] if extra else []
    return (
        f"prometheus has loaded {len(loaded)} rule groups, the rendered rule files have "
        f"{len(expected)} ({'; '.join(parts)})"
    )


def stage_rules(state_dir: Path, rule_files: dict[str, str]) -> None:
    """Write the rule files where Prometheus does not look yet; ``rules/`` starts empty."""
    for name in (RULES_DIR, PENDING_RULES_DIR):
        shutil.rmtree(state_dir / name, ignore_errors=True)
    pending = state_dir / PENDING_RULES_DIR
    pending.mkdir(parents=True)
    for filename, text in rule_files.items():
        (pending / filename).write_text(text)


def wait_first_scrape(prometheus: str, timeout: float = 20.0) -> None:
    """Wait until every target was scraped once and the Alertmanager is known."""
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            errors: list[str] = []
            targets = read_targets(client, prometheus, errors)
            # The Alertmanager list comes through the same throttled discovery: without it
            # the first alerts would wait for the next discovery round.
            alertmanagers = client.get(f"{prometheus}/api/v1/alertmanagers").json()
            if (
                targets
                and all(t.health != "unknown" for t in targets)
                and alertmanagers["data"]["activeAlertmanagers"]
            ):
                return
            time.sleep(0.2)
    raise StartError(f"prometheus at {prometheus} did not scrape within {timeout:.0f}s")


def activate_rules(
    state_dir: Path, prometheus: str, expected: list[str], timeout: float = 10.0
) -> None:
    """Move the staged rule files into place, reload, and require exactly ``expected`` groups."""
    # One rename: Prometheus, whatever the moment it looks, sees none or all of the files.
    os.replace(state_dir / PENDING_RULES_DIR, state_dir / RULES_DIR)
    with httpx.Client(trust_env=False, timeout=timeout) as client:
        response = client.post(f"{prometheus}/-/reload")
        if response.status_code != 200:
            raise StartError(f"prometheus refused the rule files: {response.text.strip()}")
        deadline = time.monotonic() + timeout
        while True:
            problem = rule_group_mismatch(expected, loaded_rule_groups(client, prometheus))
            if problem is None:
                return
            if time.monotonic() > deadline:
                raise StartError(problem)
            time.sleep(0.1)

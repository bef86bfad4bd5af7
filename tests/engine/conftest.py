"""Fixtures of the real-engine suite: the ``pulumi`` CLI, the two vendor contract servers, and
a throw-away project per stack whose config is the committed stack file's, with Grafana
disabled (its provider plugin cannot be had here) and the vendors' API URLs pointed at the
contract servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.sentry_process import contract_server as sentry_server
from tests.contract.uptimerobot_process import API_KEY as UR_KEY
from tests.contract.uptimerobot_process import contract_server
from tests.engine.harness import ROOT, PulumiProject, find_pulumi

SENTRY_TOKEN = "sntrys_engine-suite-token-DO-NOT-LEAK-7c1e"
SLACK_WEBHOOK = "https://hooks.slack.example.invalid/services/T000/B000/DO-NOT-LEAK"
PD_KEY = "pd-engine-integration-key-DO-NOT-LEAK"
SMTP_PASSWORD = "smtp-engine-DO-NOT-LEAK"
CONTACTS = {"critical": ["123456", "0789"], "warning": ["4242"]}


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    found = find_pulumi()
    if found is None:
        message = "no pulumi CLI: run ./scripts/build-engine (the test command does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def uptimerobot() -> Iterator[str]:
    with contract_server() as url:
        yield url


@pytest.fixture(scope="session")
def sentry() -> Iterator[str]:
    with sentry_server(token=SENTRY_TOKEN) as url:
        yield url


def engine_config(stack: str, uptimerobot: str, sentry: str) -> dict[str, Any]:
    """The committed stack file's config, as a team without Grafana would deploy it."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    config: dict[str, Any] = document["config"]
    config.pop("grafana:url", None)
    config["monitoring:grafana"] = {**config["monitoring:grafana"], "enabled": False}
    config["monitoring:uptimerobot"] = {
        **config.get("monitoring:uptimerobot", {}),
        "api_url": uptimerobot,
        "alert_contacts": CONTACTS,
    }
    if stack == "production":
        config["monitoring:uptimerobot"]["maintenance_windows"] = [
            {"name": "weekly deploy", "interval": "weekly", "date": "2026-12-01",
             "time": "03:00:00", "duration_minutes": 30, "days": [2]},
        ]  # fmt: skip
    config["monitoring:sentry"] = {**config["monitoring:sentry"], "api_url": f"{sentry}/api/0"}
    return config


SECRETS = {
    "monitoring:uptimerobotApiKey": UR_KEY,
    "monitoring:sentryAuthToken": SENTRY_TOKEN,
    "monitoring:slackWebhookUrl": SLACK_WEBHOOK,
    "monitoring:pagerdutyIntegrationKey": PD_KEY,
    "monitoring:smtpPassword": SMTP_PASSWORD,
}


def make_project(
    folder: Path, stack: str, pulumi: Path, uptimerobot: str, sentry: str
) -> PulumiProject:
    project = PulumiProject.create(folder, stack, pulumi, engine_config(stack, uptimerobot, sentry))
    for key, value in SECRETS.items():
        project.set_secret(key, value)
    return project

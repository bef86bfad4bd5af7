"""The two rule sets compared: the project's SLO groups and Sloth's for the same SLOs.

The project's groups are rendered from the stack (every group of the ``slo*`` families, with
its own ``interval``), read generically: nothing here assumes what their expressions look like.
Sloth's come from ``sloth generate`` on a ``prometheus/v1`` spec written from the same stack:
per service an availability and a latency SLO with the stack's objectives and SLO window, and
the project's alert names and page/ticket severities.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from infra.config import ServiceConfig, StackConfig
from infra.config.models import BurnRateAlert
from infra.render.rules import job_selector, render_rule_files

ROOT = Path(__file__).resolve().parents[2]
SLOTH_BIN = ROOT / ".tools" / "sloth" / "sloth"


class RuleSetError(RuntimeError):
    """Sloth missing or failing; one line."""


def project_groups(cfg: StackConfig, stack: str) -> list[dict[str, Any]]:
    """Every group of the stack's SLO rule files, as rule-file dicts (intervals kept)."""
    groups: list[dict[str, Any]] = []
    for rule_file in render_rule_files(cfg, stack):
        if rule_file.family.startswith("slo"):
            groups.extend(yaml.safe_load(rule_file.text)["groups"])
    return groups


def _alerting(alert: BurnRateAlert, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "page_alert": {"labels": {"severity": alert.page_severity.value}},
        "ticket_alert": {"labels": {"severity": alert.ticket_severity.value}},
    }


def _rate(metric: str, selector: str) -> str:
    return f"sum(rate({metric}{{{selector}}}[{{{{.window}}}}]))"


def sloth_spec(svc: ServiceConfig) -> dict[str, Any]:
    """A Sloth ``prometheus/v1`` spec with the service's two SLOs."""
    m, slo, job = svc.metrics, svc.slo, job_selector(svc)
    bad_status = f'{job},{m.status_label}=~"5.."'
    count, bucket = f"{m.request_duration}_count", f"{m.request_duration}_bucket"
    fast = f"{job},le={json.dumps(slo.latency_bucket)}"
    return {
        "version": "prometheus/v1",
        "service": svc.name,
        "labels": {},
        "slos": [
            {
                "name": "availability",
                "objective": round(slo.availability * 100, 10),
                "description": "Share of requests answered without a 5xx.",
                "sli": {
                    "events": {
                        "error_query": _rate(m.requests, bad_status),
                        "total_query": _rate(m.requests, job),
                    }
                },
                "alerting": _alerting(svc.alerts.api_error_budget_burn, "ApiErrorBudgetBurn"),
            },
            {
                "name": "latency",
                "objective": round(slo.latency_objective * 100, 10),
                "description": "Share of requests served within the latency threshold.",
                "sli": {
                    "events": {
                        "error_query": f"{_rate(count, job)} - {_rate(bucket, fast)}",
                        "total_query": _rate(count, job),
                    }
                },
                "alerting": _alerting(svc.alerts.api_latency_budget_burn, "ApiLatencyBudgetBurn"),
            },
        ],
    }


def sloth_generate(
    spec: dict[str, Any], sloth: Path, period: str, interval: str
) -> list[dict[str, Any]]:
    """Sloth's rule groups for ``spec`` (SLO period ``period``), each given ``interval``."""
    with tempfile.TemporaryDirectory(prefix="slo-bench-sloth-") as tmp:
        folder = Path(tmp)
        (folder / "spec.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
        try:
            done = subprocess.run(
                [str(sloth), "generate", "--no-log", "--default-slo-period", period,
                 "-i", "spec.yml", "-o", "out.yml"],
                cwd=folder, capture_output=True, text=True, check=False, timeout=120,
            )  # fmt: skip
        except OSError as exc:
            raise RuleSetError(f"cannot run {sloth}: {exc}") from None
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).split())[-400:]
            raise RuleSetError(f"sloth generate failed ({done.returncode}): {tail}")
        document = yaml.safe_load((folder / "out.yml").read_text())
    groups: list[dict[str, Any]] = document["groups"]
    return [{"name": g["name"], "interval": interval, **g} for g in groups]


def sloth_groups(cfg: StackConfig, sloth: Path) -> list[dict[str, Any]]:
    """Sloth's groups for every service of the stack, at the stack's evaluation interval."""
    groups: list[dict[str, Any]] = []
    for svc in cfg.services:
        groups += sloth_generate(
            sloth_spec(svc), sloth, svc.slo.window, cfg.prometheus.evaluation_interval
        )
    return groups


def build_sloth() -> Path:
    """``scripts/build-sloth`` (a no-op when built); the binary's path."""
    try:
        done = subprocess.run(
            [str(ROOT / "scripts" / "build-sloth")], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise RuleSetError(f"cannot run scripts/build-sloth: {exc}") from None
    if done.returncode != 0 or not SLOTH_BIN.is_file():
        raise RuleSetError(f"scripts/build-sloth failed: {' '.join(done.stderr.split())[-300:]}")
    return SLOTH_BIN

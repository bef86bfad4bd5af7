"""The drift report from an engine plan: field by field, secrets masked, exit codes; and the
``monitoring drift`` command's errors (one line, exit 2). The same code runs against the real
engine in tests/engine."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from infra.drift.engine import drifted_resources, field_drifts
from infra.drift.model import SECRET_SIG, DriftReport, FieldDrift, Unmanaged
from tests.conftest import ROOT

URN = "urn:pulumi:production::monitoring::monitoring:uptimerobot:Monitors$pulumi-python:dynamic/uptimerobot:Monitor::uptime-api-health"


def _step(op: str, live: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    return {
        "op": op,
        "urn": URN,
        "oldState": {"type": "pulumi-python:dynamic/uptimerobot:Monitor", "outputs": live},
        "newState": {"type": "pulumi-python:dynamic/uptimerobot:Monitor", "inputs": declared},
    }


def test_an_update_lists_each_changed_leaf_with_live_and_declared_values() -> None:
    live = {"interval": 600, "friendly_name": "edited", "status": "UP",
            "spec": {"conditions": [{"comparison": 0.25, "type": "gt"}]}}  # fmt: skip
    declared = {"interval": 300.0, "friendly_name": "api /health", "monitor_id": None,
                "spec": {"conditions": [{"comparison": 0.001, "type": "gt"}]},
                "__provider": "ZGlsbA=="}  # fmt: skip
    [drift] = drifted_resources({"steps": [_step("update", live, declared)]})
    assert drift.name == "uptime-api-health" and drift.operation == "update"
    assert drift.fields == (
        FieldDrift("friendly_name", "edited", "api /health"),
        FieldDrift("interval", 600, 300.0),
        FieldDrift("spec.conditions[0].comparison", 0.25, 0.001),
    )


def test_same_steps_and_equal_values_are_not_drift() -> None:
    live = {"interval": 300, "codes": ["3xx", "2xx"]}
    declared = {"interval": 300.0, "codes": ["2xx", "3xx"]}
    assert list(field_drifts(live, declared)) == []
    assert drifted_resources({"steps": [_step("same", live, declared)]}) == []


def test_a_resource_deleted_by_hand_is_a_create_and_secrets_are_never_shown() -> None:
    gone = {"op": "create", "urn": URN, "newState": {"inputs": {"api_key": "[secret]"}}}
    secret = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    edited = _step("update", {"api_key": secret, "x": 1}, {"api_key": "[secret]", "x": 2})
    report = DriftReport("production", drifted_resources({"steps": [gone, edited]}))
    assert [d.operation for d in report.managed] == ["create (gone from the vendor)", "update"]
    assert report.managed[1].fields == (FieldDrift("x", 1, 2),)
    assert report.exit_code() == 1
    assert "ciphertext" not in report.to_json() and "v1:abc" not in report.to_markdown()


def test_markdown_names_resource_field_live_and_declared_and_unmanaged_objects() -> None:
    report = DriftReport("staging")
    assert report.exit_code() == 0 and "No drift" in report.to_markdown()
    report.managed = drifted_resources(
        {"steps": [_step("update", {"interval": 600}, {"interval": 300})]}
    )
    report.unmanaged = [Unmanaged("uptimerobot", "monitor", "42", "made | by hand", "checks x")]
    text = report.to_markdown()
    assert (
        "| `uptime-api-health` (pulumi-python:dynamic/uptimerobot:Monitor) | update | `interval` | `600` | `300` |"
        in text
    )
    assert "| uptimerobot | monitor | `42` | made \\| by hand | checks x |" in text
    doc = json.loads(report.to_json())
    assert doc["managed"][0]["fields"] == [{"field": "interval", "live": 600, "declared": 300}]


def test_long_values_are_cut_in_the_report() -> None:
    report = DriftReport("production")
    report.managed = drifted_resources(
        {"steps": [_step("update", {"description": "x" * 5000}, {"description": "y"})]}
    )
    assert len(report.to_json()) < 2000 and len(report.to_markdown()) < 2000


def _drift_cli(tmp_path: Path, *args: str, path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI")}
    env["PATH"] = path
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "monitoring"), "drift", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_drift_of_an_unknown_stack_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _drift_cli(tmp_path, "--stack", "nope", path=os.environ["PATH"])
    assert done.returncode == 2
    assert "Pulumi.nope.yaml" in done.stderr and "Traceback" not in done.stderr


def test_drift_when_the_engine_fails_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # An engine that fails the way a missing backend login does: one line, exit 2.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        "#!/bin/sh\necho 'error: no stack named production found' >&2\nexit 255\n"
    )
    (fake / "pulumi").chmod(0o755)
    done = _drift_cli(tmp_path, "--stack", "production", path=f"{fake}:/usr/bin:/bin")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no stack named production" in lines[0], done.stderr

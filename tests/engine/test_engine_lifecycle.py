"""The README's promises, kept by the real Pulumi engine (not the SDK's mocks).

For a production-like and a staging-like stack (the committed stack files, Grafana disabled,
the vendors' APIs served by the project's contract servers), in order: a fresh preview plans
every create; ``up`` creates; a second ``up`` changes nothing; ``preview --refresh
--expect-no-changes`` is clean; edits and deletes made by hand in the vendor APIs are drift
(exit 7) that ``refresh --diff`` names field by field and ``up`` repairs, without duplicates;
a threshold change in the stack file previews as exactly one update; the state holds no
secret in plain text; ``destroy`` empties the vendors but for the retained Sentry DSN key.

The tests of one stack run in file order and share its project: each step starts from the
state the previous one left, as a person's session would.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.contract.uptimerobot_process import API_KEY as UR_KEY
from tests.engine.conftest import SECRETS, SENTRY_TOKEN, make_project
from tests.engine.harness import EXPECT_NO_CHANGES_FAILED, ROOT, PulumiProject, steps_by_op

pytestmark = pytest.mark.engine

ORG = PROJECT = "agenzia-ai"
DETECTORS = {"db-query-duration", "error-rate", "external-api-mistral", "external-api-twilio",
             "p95-latency"}  # fmt: skip


def _ur(server: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {UR_KEY}"}
    response = httpx.request(method, f"{server}/{path}", headers=headers, timeout=10, **kwargs)
    response.raise_for_status()
    return response


def _sentry(server: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {SENTRY_TOKEN}"}
    url = f"{server}/api/0/{path}"
    response = httpx.request(method, url, headers=headers, timeout=10, **kwargs)
    response.raise_for_status()
    return response


def _monitors(server: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _ur(server, "GET", "monitors", params={"limit": 200}).json()[
        "data"
    ]
    return found


def _detectors(server: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _sentry(server, "GET", f"organizations/{ORG}/detectors/").json()
    return found


def _workflows(server: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _sentry(server, "GET", f"organizations/{ORG}/workflows/").json()
    return found


def _keys(server: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = _sentry(server, "GET", f"projects/{ORG}/{PROJECT}/keys/").json()
    return found


def _outputs(project: PulumiProject) -> dict[str, Any]:
    done = project.run("stack", "output", "--json")
    outputs: dict[str, Any] = json.loads(done.stdout)
    return outputs


class Session:
    """Everything a stack's steps share; ``said`` keeps every CLI output for the secret check."""

    def __init__(self, project: PulumiProject, uptimerobot: str, sentry: str) -> None:
        self.project, self.uptimerobot, self.sentry = project, uptimerobot, sentry
        self.said: list[str] = []

    def run(self, *args: str, codes: tuple[int, ...] = (0,)) -> str:
        done = self.project.run(*args, codes=codes)
        self.said += [done.stdout, done.stderr]
        return done.stdout + done.stderr

    def drift(self, code: int) -> dict[str, Any]:
        """``monitoring drift --format json`` in the project, as CI runs it; its report."""
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "monitoring"), "drift", "--stack",
             self.project.stack, "--format", "json"],
            cwd=self.project.folder, env=self.project.env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        self.said += [done.stdout, done.stderr]
        assert done.returncode == code, f"drift exited {done.returncode}: {done.stderr[-3000:]}"
        report: dict[str, Any] = json.loads(done.stdout)
        return report

    def preview(self, *args: str, codes: tuple[int, ...] = (0,)) -> dict[str, Any]:
        text = self.run("preview", "--json", *args, codes=codes)
        start = text.index("{")
        doc: dict[str, Any] = json.JSONDecoder().raw_decode(text[start:])[0]
        return doc


@pytest.fixture(scope="module", params=["production", "staging"])
def session(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pulumi_bin: Path,
    uptimerobot: str,
    sentry: str,
) -> Iterator[Session]:
    stack = request.param
    for server in (uptimerobot, sentry):
        httpx.post(f"{server}/__reset", timeout=5).raise_for_status()
    folder = tmp_path_factory.mktemp(f"engine-{stack}")
    yield Session(make_project(folder, stack, pulumi_bin, uptimerobot, sentry), uptimerobot, sentry)


def _expected_creates(stack: str) -> set[str]:
    names = {"uptime", "sentry", "sentry-dsn", "sentry-critical", "sentry-warning",
             "uptime-agenzia-ai-api-health", "uptime-agenzia-ai-api-ready",
             "uptime-heartbeat"}  # fmt: skip
    names |= {f"sentry-{d}" for d in DETECTORS}
    if stack == "production":
        names.add("uptime-window-weekly-deploy")
    return names


def test_fresh_preview_plans_every_create(session: Session) -> None:
    preview = session.preview()
    ops = steps_by_op(preview)
    stack = session.project.stack
    planned = set(ops.get("create", []))
    assert planned >= _expected_creates(stack), ops
    assert not (set(ops) - {"create"}), f"a fresh stack only creates: {ops}"
    assert not [n for n in planned if "grafana" in n or "routing" in n], planned


def test_up_creates_and_a_second_up_changes_nothing(session: Session) -> None:
    session.run("up", "--yes")
    monitors, detectors = _monitors(session.uptimerobot), _detectors(session.sentry)
    assert len(monitors) == 3 and len(detectors) == len(DETECTORS)  # /health, /ready, heartbeat
    assert len(_workflows(session.sentry)) == 2 and len(_keys(session.sentry)) == 1
    live = _sentry(session.sentry, "GET", f"organizations/{ORG}/detectors/").json()
    windows = {d["dataSources"][0]["queryObj"]["snubaQuery"]["timeWindow"] for d in live}
    assert windows == {300}
    session.run("up", "--yes", "--expect-no-changes")
    outputs = _outputs(session.project)
    assert set(outputs["uptimerobot_monitor_ids"].values()) == {str(m["id"]) for m in monitors}
    assert outputs["sentry_dsn"] == "[secret]"


def test_refresh_preview_of_an_untouched_stack_is_clean(session: Session) -> None:
    session.run("preview", "--refresh", "--expect-no-changes")
    report = session.drift(0)
    assert report["clean"] and report["managed"] == [] and report["unmanaged"] == []


def _health_monitor(session: Session) -> dict[str, Any]:
    stack = session.project.stack
    return next(m for m in _monitors(session.uptimerobot)
                if m["friendlyName"] == f"agenzia-ai-api /health ({stack})")  # fmt: skip


def _detector(session: Session, what: str) -> dict[str, Any]:
    return next(d for d in _detectors(session.sentry) if d["name"].endswith(f" - {what}"))


def test_hand_edits_are_drift_named_field_by_field_and_up_restores(session: Session) -> None:
    monitor = _health_monitor(session)
    _ur(session.uptimerobot, "PATCH", f"monitors/{monitor['id']}",
        json={"interval": 600, "friendlyName": "edited by hand"})  # fmt: skip
    detector = _detector(session, "Error rate")
    spec = json.loads(json.dumps(detector))
    before = detector["conditionGroup"]["conditions"][0]["comparison"]
    body = {
        "name": detector["name"], "type": detector["type"], "enabled": detector["enabled"],
        "description": detector["description"], "config": detector["config"],
        "dataSources": [{**s["queryObj"]["snubaQuery"], "queryType": 1}
                        for s in spec["dataSources"]],
        "conditionGroup": {
            "logicType": detector["conditionGroup"]["logicType"],
            "conditions": [{**c, "comparison": 0.25} if c["type"] == "gt" else c
                           for c in detector["conditionGroup"]["conditions"]],
        },
    }  # fmt: skip
    _sentry(session.sentry, "PUT", f"organizations/{ORG}/detectors/{detector['id']}/", json=body)
    workflow = next(w for w in _workflows(session.sentry) if w["name"].endswith("critical alerts"))
    actions = workflow["actionFilters"][0]["actions"]
    removed = actions[-1]["type"]
    edited = {**workflow, "detectorIds": [int(i) for i in workflow["detectorIds"]]}
    edited["actionFilters"] = [{**workflow["actionFilters"][0], "actions": actions[:-1]}]
    _sentry(session.sentry, "PUT", f"organizations/{ORG}/workflows/{workflow['id']}/", json=edited)

    session.run("preview", "--refresh", "--expect-no-changes", codes=(EXPECT_NO_CHANGES_FAILED,))
    stray = _ur(session.uptimerobot, "POST", "monitors", json={
        "type": "HTTP", "friendlyName": "made by hand", "url": monitor["url"],
        "interval": 60, "timeout": 30}).json()  # fmt: skip
    report = session.drift(1)
    fields = {(r["name"], f["field"]): (f["live"], f["declared"])
              for r in report["managed"] for f in r["fields"]}  # fmt: skip
    assert fields[("uptime-agenzia-ai-api-health", "interval")] == (600, 300), fields
    assert fields[("uptime-agenzia-ai-api-health", "friendly_name")][0] == "edited by hand"
    threshold = "spec.conditionGroup.conditions[0].comparison"
    assert fields[("sentry-error-rate", threshold)] == (0.25, before), fields
    assert any(r["name"] == "sentry-critical" and r["fields"] for r in report["managed"])
    unmanaged = [(u["vendor"], u["kind"], u["id"]) for u in report["unmanaged"]]
    assert unmanaged == [("uptimerobot", "monitor", str(stray["id"]))], unmanaged
    _ur(session.uptimerobot, "DELETE", f"monitors/{stray['id']}")

    text = session.run("refresh", "--yes", "--diff")
    # Each changed field, with the declared (state) value and the live one.
    assert re.search(r"interval\s*:\s*300\s*=>\s*600", text), text
    assert re.search(
        r"friendly_name\s*:\s*\"agenzia-ai-api /health \(\w+\)\"\s*=>\s*\"edited by hand\"", text
    ), text
    assert re.search(rf"comparison\s*:\s*{before}\s*=>\s*0\.25", text), text
    assert re.search(rf"type\s*:\s*\"{removed}\"", text), text

    session.run("preview", "--expect-no-changes", codes=(EXPECT_NO_CHANGES_FAILED,))
    session.run("up", "--yes")
    restored = _health_monitor(session)
    assert restored["id"] == monitor["id"] and restored["interval"] == 300
    assert (
        _detector(session, "Error rate")["conditionGroup"]["conditions"][0]["comparison"] == before
    )
    wf = next(w for w in _workflows(session.sentry) if w["id"] == workflow["id"])
    assert [a["type"] for a in wf["actionFilters"][0]["actions"]] == [a["type"] for a in actions]
    session.run("preview", "--refresh", "--expect-no-changes")


def test_hand_deletes_are_drift_and_up_recreates_without_duplicates(session: Session) -> None:
    monitor = _health_monitor(session)
    detector = _detector(session, "p95 transaction duration")
    _ur(session.uptimerobot, "DELETE", f"monitors/{monitor['id']}")
    _sentry(session.sentry, "DELETE", f"organizations/{ORG}/detectors/{detector['id']}/")
    session.run("preview", "--refresh", "--expect-no-changes", codes=(EXPECT_NO_CHANGES_FAILED,))
    session.run("up", "--refresh", "--yes")
    names = [m["friendlyName"] for m in _monitors(session.uptimerobot)]
    assert sorted(names) == sorted(set(names)) and len(names) == 3, names
    assert _health_monitor(session)["id"] != monitor["id"]
    detectors = [d["name"] for d in _detectors(session.sentry)]
    assert len(detectors) == len(set(detectors)) == len(DETECTORS), detectors
    # The critical/warning workflows now point at the new detector id.
    new_id = _detector(session, "p95 transaction duration")["id"]
    linked = {i for w in _workflows(session.sentry) for i in w["detectorIds"]}
    assert new_id in linked and detector["id"] not in linked
    session.run("preview", "--refresh", "--expect-no-changes")


def test_a_threshold_change_in_the_stack_file_previews_as_exactly_one_update(
    session: Session,
) -> None:
    path = session.project.stack_file()
    original = path.read_text(encoding="utf-8")
    document = yaml.safe_load(original)
    document["config"]["monitoring:sentry"]["error_rate_threshold"] = 0.002
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    try:
        preview = session.preview("--diff")
        ops = steps_by_op(preview)
        assert ops.get("update") == ["sentry-error-rate"], ops
        assert not (set(ops) - {"update", "same"}), ops
        text = session.run("preview", "--diff")
        assert re.search(r"comparison\s*:\s*0\.001\s*=>\s*0\.002", text), text
    finally:
        path.write_text(original, encoding="utf-8")


def _plain_state(project: PulumiProject) -> str:
    """The state file, with every pickled provider decoded too (a secret could hide there)."""
    text = project.state_file().read_text(encoding="utf-8")
    blobs = re.findall(r'"__provider"\s*:\s*"([A-Za-z0-9+/=]+)"', text)
    decoded = [base64.b64decode(b).decode("latin-1") for b in blobs]
    return "\n".join([text, *decoded])


def test_the_state_and_the_cli_output_hold_no_secret(session: Session) -> None:
    key = _keys(session.sentry)[0]
    # The heartbeat's ping URL lets anyone mark the pipeline healthy: a secret output too.
    pings = [m["url"] for m in _monitors(session.uptimerobot) if m["type"] == "HEARTBEAT"]
    assert len(pings) == 1 and pings[0].startswith("https://")
    secrets = [*SECRETS.values(), key["secret"], key["dsn"]["public"], key["dsn"]["secret"],
               *pings]  # fmt: skip
    state = _plain_state(session.project)
    assert '"__provider"' in state, "the state has no dynamic resources"
    leaked = [s[:6] + "…" for s in secrets if s in state]
    assert not leaked, f"secrets in plain text in the state: {leaked}"
    said = "\n".join(session.said)
    assert not [s[:6] + "…" for s in secrets if s in said], "a secret was printed"


def test_destroy_empties_the_vendors_but_keeps_the_dsn_key(session: Session) -> None:
    key = _keys(session.sentry)[0]
    session.run("destroy", "--yes")
    assert _monitors(session.uptimerobot) == []
    assert _ur(session.uptimerobot, "GET", "maintenance-windows").json()["data"] == []
    assert _detectors(session.sentry) == [] and _workflows(session.sentry) == []
    assert [k["id"] for k in _keys(session.sentry)] == [key["id"]]

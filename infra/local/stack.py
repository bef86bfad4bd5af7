"""The local stack's four processes: start them, reset them, stop exactly them.

Layout of the state directory (``.local-stack/`` for the CLI, a temp dir for tests)::

    state.json            pids, process start times, ports, argv, log paths
    prometheus.yml        rules/*.rules.yml   alertmanager.yml
    prometheus-data/      alertmanager-data/  (wiped by a reset)
    logs/<name>.log       notifications.jsonl (everything the sink received)
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from infra.config import StackConfig
from infra.local import procs
from infra.local.files import StackFiles, exporter_buckets, prometheus_yml
from infra.local.observe import Snapshot, delete, post_json, read_targets, snapshot
from infra.local.procs import ProcessRecord
from infra.local.scenarios import scenario as lookup_scenario

COMPONENTS = ("sink", "exporter", "alertmanager", "prometheus")
"""Start order: each one's consumers start after it. Stop order is the reverse."""

SETUP_HINT = (
    "run ./scripts/setup: it installs the Debian packages prometheus and "
    "prometheus-alertmanager (apt-get install --no-install-recommends) and the .venv"
)
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class MissingTool(RuntimeError):
    pass


def count_groups(rule_texts: Iterable[str]) -> int:
    return sum(len((yaml.safe_load(t) or {}).get("groups") or ()) for t in rule_texts)


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
    raise procs.StartError(f"prometheus at {prometheus} did not scrape within {timeout:.0f}s")


def reload_rules(prometheus: str, expected_groups: int, timeout: float = 10.0) -> None:
    """Ask Prometheus to re-read its config and rule files; fail with its error message."""
    with httpx.Client(trust_env=False, timeout=timeout) as client:
        response = client.post(f"{prometheus}/-/reload")
        if response.status_code != 200:
            raise procs.StartError(f"prometheus refused the rule files: {response.text.strip()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            groups = client.get(f"{prometheus}/api/v1/rules").json()["data"]["groups"]
            if len(groups) >= expected_groups:
                return
            time.sleep(0.1)
    raise procs.StartError(f"prometheus did not load {expected_groups} rule groups")


@dataclass(frozen=True)
class Tools:
    prometheus: str
    alertmanager: str


def find_tools() -> Tools:
    """The Prometheus and Alertmanager binaries; installs nothing, says how to."""
    prometheus = shutil.which("prometheus")
    # Debian names the binary prometheus-alertmanager; upstream tarballs name it alertmanager.
    alertmanager = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    missing = [
        name
        for name, path in (("prometheus", prometheus), ("prometheus-alertmanager", alertmanager))
        if path is None
    ]
    if prometheus is None or alertmanager is None:
        raise MissingTool(f"not installed: {', '.join(missing)}; {SETUP_HINT}")
    return Tools(prometheus, alertmanager)


def _state(state_dir: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((state_dir / "state.json").read_text())
    except FileNotFoundError:
        return {"processes": {}}
    return data


def read_state(state_dir: Path) -> dict[str, ProcessRecord]:
    """Records of a stack started earlier (empty when there is none)."""
    return {n: ProcessRecord.from_json(r) for n, r in _state(state_dir)["processes"].items()}


def read_stack_name(state_dir: Path) -> str | None:
    """The stack (``Pulumi.<stack>.yaml``) the recorded processes were started for."""
    name = _state(state_dir).get("stack")
    return str(name) if name else None


def stop_recorded(state_dir: Path) -> list[ProcessRecord]:
    """Stop every process ``state.json`` records, newest consumer first; forget them."""
    records = read_state(state_dir)
    stopped = []
    for name in reversed(COMPONENTS):
        if name in records:
            procs.stop(records[name])
            stopped.append(records[name])
    (state_dir / "state.json").unlink(missing_ok=True)
    return stopped


class LocalStack:
    """Prometheus, Alertmanager, the demo exporter and the sink for one stack config."""

    def __init__(
        self,
        state_dir: Path,
        cfg: StackConfig,
        files: StackFiles,
        *,
        stack: str = "local",
        tie_to_parent: bool = False,
    ) -> None:
        self.stack = stack
        self.state_dir = state_dir.resolve()
        self.cfg = cfg
        self.files = files
        self.tie_to_parent = tie_to_parent
        self.records: dict[str, ProcessRecord] = read_state(self.state_dir)
        self.history: list[ProcessRecord] = []
        """Every process this object started, restarts included (tests check all are gone)."""

    # ------------------------------------------------------------------ addresses

    def url(self, name: str) -> str:
        return self.records[name].url

    def running(self) -> dict[str, bool]:
        return {name: procs.is_running(r) for name, r in self.records.items()}

    def snapshot(self) -> Snapshot:
        return snapshot(self.url("prometheus"), self.url("alertmanager"), self.url("sink"))

    # ------------------------------------------------------------------ lifecycle

    def up(self, scenario: str = "normal") -> None:
        """Start all four processes on free ports; on any failure stop what did start."""
        lookup_scenario(scenario)
        tools = find_tools()
        if any(self.running().values()):
            raise RuntimeError(
                f"a local stack is already running (state in {self.state_dir}); "
                "stop it with `monitoring local down`"
            )
        self.records = {}
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_sink()
            self._start_exporter(scenario)
            self._start_alertmanager(tools, port=None, fresh=True)
            self._start_prometheus(tools, port=None, fresh=True)
        except BaseException:
            self.down()
            raise

    def down(self) -> list[ProcessRecord]:
        """Stop every process this stack started, by PID."""
        stopped = []
        for name in reversed(COMPONENTS):
            record = self.records.pop(name, None)
            if record is not None:
                procs.stop(record)
                stopped.append(record)
        (self.state_dir / "state.json").unlink(missing_ok=True)
        return stopped

    def stop_component(self, name: str) -> None:
        procs.stop(self.records[name])
        self._save()

    def start_alertmanager(self, *, fresh: bool = False) -> None:
        """(Re)start Alertmanager on its previous port, keeping its data unless ``fresh``."""
        self._start_alertmanager(find_tools(), port=self.records["alertmanager"].port, fresh=fresh)

    def restart_alertmanager(self) -> None:
        """Stop and start Alertmanager as an operator would: same port, same storage."""
        self.stop_component("alertmanager")
        self.start_alertmanager()

    def reset(self, scenario: str = "normal") -> None:
        """A clean slate for ``scenario``: fresh Prometheus TSDB and Alertmanager state, an
        empty sink, the exporter switched. Needed because the local stack compresses ``for``
        but not range windows: a 5m error spike would otherwise linger in ``rate(...[5m])``."""
        tools = find_tools()
        for name in ("prometheus", "alertmanager"):
            procs.stop(self.records[name])
        self.clear_notifications()
        self.set_scenario(scenario)
        self._start_alertmanager(tools, port=self.records["alertmanager"].port, fresh=True)
        self._start_prometheus(tools, port=self.records["prometheus"].port, fresh=True)

    # ------------------------------------------------------------------ runtime control

    def set_scenario(self, name: str) -> dict[str, object]:
        lookup_scenario(name)
        result: dict[str, object] = post_json(
            f"{self.url('exporter')}/scenario", {"scenario": name}
        )
        return result

    def clear_notifications(self) -> None:
        delete(f"{self.url('sink')}/notifications")

    # ------------------------------------------------------------------ internals

    def _log(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def _save(self) -> None:
        data = {
            "stack": self.stack,
            "processes": {n: r.to_json() for n, r in self.records.items()},
        }
        path = self.state_dir / "state.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(path)  # atomic: `down` in another terminal never reads half a file

    def _started(self, record: ProcessRecord) -> None:
        self.records[record.name] = record
        self.history.append(record)
        self._save()

    def _python(self, module: str, *args: str) -> list[str]:
        return [sys.executable, "-m", module, *args]

    def _start_sink(self) -> None:
        jsonl = self.state_dir / "notifications.jsonl"
        self._started(
            procs.start_on_free_port(
                "sink",
                lambda port: (
                    self._python("infra.local.sink", "--port", str(port), "--log-file", str(jsonl)),
                    f"http://127.0.0.1:{port}/-/ready",
                ),
                self._log("sink"),
                cwd=PACKAGE_ROOT,
                tie_to_parent=self.tie_to_parent,
            )
        )

    def _start_exporter(self, scenario: str) -> None:
        extra = [a for b in exporter_buckets(self.cfg) for a in ("--bucket", f"{b:g}")]
        limit = str(self.cfg.costs.supabase_storage_limit_bytes)

        def build(port: int) -> tuple[list[str], str]:
            argv = self._python(
                "infra.local.exporter",
                "--port", str(port),
                "--scenario", scenario,
                "--storage-limit-bytes", limit,
                *extra,
            )  # fmt: skip
            return argv, f"http://127.0.0.1:{port}/-/ready"

        self._started(
            procs.start_on_free_port(
                "exporter",
                build,
                self._log("exporter"),
                cwd=PACKAGE_ROOT,
                tie_to_parent=self.tie_to_parent,
            )
        )

    def _fresh_dir(self, name: str, fresh: bool) -> Path:
        path = self.state_dir / name
        if fresh and path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _start_alertmanager(self, tools: Tools, port: int | None, fresh: bool) -> None:
        config = self.state_dir / "alertmanager.yml"
        config.write_text(self.files.alertmanager_yml(self.url("sink")))
        data = self._fresh_dir("alertmanager-data", fresh)

        def build(p: int) -> tuple[list[str], str]:
            argv = [
                tools.alertmanager,
                f"--config.file={config}",
                f"--storage.path={data}",
                f"--web.listen-address=127.0.0.1:{p}",
                f"--web.external-url=http://127.0.0.1:{p}/",
                "--cluster.listen-address=",  # empty: no gossip port, a single instance
            ]
            return argv, f"http://127.0.0.1:{p}/-/ready"

        self._start_binary("alertmanager", build, port)

    def _start_prometheus(self, tools: Tools, port: int | None, fresh: bool) -> None:
        # Rules are loaded only after the first scrape. Prometheus applies its first target
        # set up to 5s after start; with `for` compressed to 3s, `absent(up)` would otherwise
        # fire ApiHealthCheckDown on every start (production's 5m `for` hides that gap).
        rules = self._fresh_dir("rules", fresh=True)
        config = self.state_dir / "prometheus.yml"
        config.write_text(
            prometheus_yml(
                self.cfg, self.records["exporter"].port, self.records["alertmanager"].port
            )
        )
        data = self._fresh_dir("prometheus-data", fresh)

        def build(p: int) -> tuple[list[str], str]:
            argv = [
                tools.prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{p}",
                f"--web.external-url=http://127.0.0.1:{p}/",
                # Firing alerts are re-sent at this pace (default 1m): a restarted Alertmanager
                # learns about them within one evaluation, not one minute.
                f"--rules.alert.resend-delay={self.cfg.prometheus.evaluation_interval}",
                "--web.enable-lifecycle",  # POST /-/reload: loads the rules, reports errors
            ]
            return argv, f"http://127.0.0.1:{p}/-/ready"

        self._start_binary("prometheus", build, port)
        url = self.url("prometheus")
        wait_first_scrape(url)
        for filename, text in self.files.rule_files.items():
            (rules / filename).write_text(text)
        reload_rules(url, expected_groups=count_groups(self.files.rule_files.values()))

    def _start_binary(
        self,
        name: str,
        build: Callable[[int], tuple[list[str], str]],
        port: int | None,
    ) -> None:
        log = self._log(name)
        if port is None:
            record = procs.start_on_free_port(name, build, log, tie_to_parent=self.tie_to_parent)
        else:
            argv, ready = build(port)
            record = procs.start(name, argv, port, log, ready, tie_to_parent=self.tie_to_parent)
        self._started(record)

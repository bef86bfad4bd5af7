"""The local stack's four processes: start them, reset them, stop exactly them.

Layout of the state directory (``.local-stack/`` for the CLI, a temp dir for tests)::

    state.json            pids, process start times, ports, argv, log paths (see state.py)
    prometheus.yml        rules/*.rules.yml (staged in rules.pending/ first)   alertmanager.yml
    prometheus-data/      alertmanager-data/  (wiped by a reset)
    logs/<name>.log       notifications.jsonl (everything the sink received, and each
                          change of its heartbeat monitor: see infra.local.sink)

``up`` is all or nothing. It refuses a running stack, clears one that an earlier ``up`` left
half-started or that has a dead process, claims ``state.json``, records each process as it
is spawned, and marks the file complete only when Prometheus has loaded every rendered rule
group. Any error or interruption in between (Ctrl-C; SIGTERM or SIGHUP inside
:func:`procs.signals_raise`) stops what it started and removes the file.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from infra.config import StackConfig
from infra.local import procs, state
from infra.local.files import StackFiles, exporter_buckets, prometheus_yml
from infra.local.observe import Snapshot, delete, post_json, snapshot
from infra.local.pipeline import heartbeat_timing
from infra.local.procs import ProcessRecord
from infra.local.prometheus import (
    activate_rules,
    loaded_rule_groups,
    rule_group_mismatch,
    rule_group_names,
    stage_rules,
    wait_first_scrape,
)
from infra.local.scenarios import scenario as lookup_scenario
from infra.local.state import StackBusy, Stopped

SETUP_HINT = (
    "run ./scripts/setup: it installs the Debian packages prometheus and "
    "prometheus-alertmanager (apt-get install --no-install-recommends) and the .venv"
)
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class MissingTool(RuntimeError):
    pass


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


def _quiet(_line: str) -> None:
    pass


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
        recorded = state.load(self.state_dir)
        self.records: dict[str, ProcessRecord] = dict(recorded.processes) if recorded else {}
        self.complete = recorded.complete if recorded else False
        self.owner: state.Owner | None = None
        self.history: list[ProcessRecord] = []
        """Every process this object started, restarts included (tests check all are gone)."""

    # ------------------------------------------------------------------ addresses

    def url(self, name: str) -> str:
        return self.records[name].url

    def running(self) -> dict[str, bool]:
        return {name: procs.is_running(r) for name, r in self.records.items()}

    def snapshot(self) -> Snapshot:
        return snapshot(self.url("prometheus"), self.url("alertmanager"), self.url("sink"))

    @property
    def rule_groups(self) -> list[str]:
        """The rule groups Prometheus must load: those in the rendered rule files."""
        return rule_group_names(self.files.rule_files.values())

    def rule_group_problem(self) -> str | None:
        """None when Prometheus has loaded exactly :attr:`rule_groups`, else what differs."""
        url = self.url("prometheus")
        try:
            with httpx.Client(trust_env=False, timeout=3.0) as client:
                loaded = loaded_rule_groups(client, url)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return f"cannot read the rule groups of prometheus at {url}: {exc}"
        return rule_group_mismatch(self.rule_groups, loaded)

    # ------------------------------------------------------------------ lifecycle

    def up(self, scenario: str = "normal", report: Callable[[str], None] = _quiet) -> None:
        """Start all four processes on free ports, or none (see the module docstring).
        ``report`` gets a line for each leftover process it stops first."""
        lookup_scenario(scenario)
        tools = find_tools()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._clear_leftovers(report)
        self.records, self.complete, self.owner = {}, False, state.Owner.me()
        if not state.claim(self.state_dir, self._state()):
            # another `up` claimed the directory between our check and our claim
            claimed = state.load(self.state_dir)
            raise StackBusy(
                state.assess(self.state_dir, claimed).message
                if claimed
                else f"{state.state_path(self.state_dir)} changed while starting; try again"
            )
        try:
            self._start_sink()
            self._start_exporter(scenario)
            self._start_alertmanager(tools, port=None, fresh=True)
            self._start_prometheus(tools, port=None, fresh=True)
            self.complete, self.owner = True, None
            self._save()
        except BaseException:
            with procs.deferred_signals():  # a second Ctrl-C must not cut the cleanup short
                stopped = self.down()
            report(
                "stopped what this `up` had started: "
                + (", ".join(f"{s.record.name} pid {s.record.pid}" for s in stopped) or "nothing")
            )
            raise

    def _clear_leftovers(self, report: Callable[[str], None]) -> None:
        recorded = state.load(self.state_dir)
        if recorded is None:
            return
        verdict = state.assess(self.state_dir, recorded)
        if verdict.health in (state.Health.RUNNING, state.Health.STARTING):
            raise StackBusy(verdict.message)
        report(f"{verdict.problem}; stopping what is left of it first")
        for stopped in state.stop_all(recorded.processes):
            report(f"  {stopped}")
        state.remove(self.state_dir)

    def down(self) -> list[Stopped]:
        """Stop every process this stack started, by PID, and forget them."""
        stopped = state.stop_all(self.records)
        self.records = {}
        state.remove(self.state_dir)
        return stopped

    def stop_component(self, name: str) -> None:
        procs.stop(self.records[name])
        self._save()

    def start_component(self, name: str) -> None:
        """Start a stopped Prometheus or Alertmanager again: same config, port and storage."""
        if name == "prometheus":
            self._start_prometheus(find_tools(), port=self.records[name].port, fresh=False)
        elif name == "alertmanager":
            self.start_alertmanager()
        else:
            raise ValueError(f"cannot restart {name!r}; choose prometheus or alertmanager")

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

    def _state(self) -> state.State:
        return state.State(self.stack, self.complete, self.owner, dict(self.records))

    def _save(self) -> None:
        state.save(self.state_dir, self._state())

    def _started(self, record: ProcessRecord) -> None:
        # Called by procs.start right after the spawn, before it waits for readiness.
        self.records[record.name] = record
        self.history.append(record)
        self._save()

    def _python(self, module: str, *args: str) -> list[str]:
        return [sys.executable, "-m", module, *args]

    def _start_sink(self) -> None:
        jsonl = self.state_dir / "notifications.jsonl"
        heartbeat = heartbeat_timing(self.cfg).sink_args()

        def build(port: int) -> tuple[list[str], str]:
            argv = self._python(
                "infra.local.sink", "--port", str(port), "--log-file", str(jsonl), *heartbeat
            )
            return argv, f"http://127.0.0.1:{port}/-/ready"

        procs.start_on_free_port(
            "sink",
            build,
            self._log("sink"),
            cwd=PACKAGE_ROOT,
            tie_to_parent=self.tie_to_parent,
            on_spawn=self._started,
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

        procs.start_on_free_port(
            "exporter",
            build,
            self._log("exporter"),
            cwd=PACKAGE_ROOT,
            tie_to_parent=self.tie_to_parent,
            on_spawn=self._started,
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
        # Every file is written before Prometheus starts; the rules are staged and take
        # effect after the first scrape (why: see infra.local.prometheus).
        stage_rules(self.state_dir, self.files.rule_files)
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
        activate_rules(self.state_dir, url, self.rule_groups)

    def _start_binary(
        self,
        name: str,
        build: Callable[[int], tuple[list[str], str]],
        port: int | None,
    ) -> None:
        log = self._log(name)
        if port is None:
            procs.start_on_free_port(
                name, build, log, tie_to_parent=self.tie_to_parent, on_spawn=self._started
            )
        else:
            argv, ready = build(port)
            procs.start(
                name,
                argv,
                port,
                log,
                ready,
                tie_to_parent=self.tie_to_parent,
                on_spawn=self._started,
            )

"""``monitoring local demo``: the README's first command.

Brings the local stack up, proves the pipeline with Watchdog, plays one fault and shows the
alert going pending, firing, and reaching the receivers the routing config names.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from infra.config import Severity, StackConfig
from infra.config.types import parse_duration
from infra.local.display import Progress
from infra.local.files import StackFiles
from infra.local.observe import Snapshot
from infra.local.scenarios import WATCHDOG, Scenario
from infra.local.stack import LocalStack
from infra.local.state import Health, assess
from infra.local.state import load as load_state
from infra.local.waiting import Delivery, expected_deliveries, wait_for


def describe_timing(cfg: StackConfig) -> str:
    p, r = cfg.prometheus, cfg.routing
    return (
        f"time is compressed: scrape every {p.scrape_interval}, evaluate every "
        f"{p.evaluation_interval}, every `for` x{p.for_scale:g} (production 5m -> "
        f"{300 * p.for_scale:g}s), group_wait {r.group_wait}"
    )


def play(
    stack: LocalStack,
    sc: Scenario,
    *,
    timeout: float,
    out: TextIO,
) -> tuple[float, Snapshot]:
    """Switch to ``sc`` and show progress until its alerts reach their receivers."""
    wanted = expected_deliveries(stack.cfg, sc, watchdog=sc.needs_fresh_history)
    if sc.needs_fresh_history:
        out.write(
            f"  (restarting Prometheus and Alertmanager empty: {sc.name} needs a clean "
            "history, because burn-rate windows are not compressed)\n"
        )
        stack.reset(sc.name)
    else:
        stack.set_scenario(sc.name)
    t0 = time.time()
    out.write(f"fault: {sc.name}: {sc.description}\nexpect:\n")
    for d in sorted(wanted):
        out.write(f"  {d}\n")
    progress = Progress(out, since=t0)
    try:
        snap = wait_for(stack.snapshot, wanted, since=t0, timeout=timeout, on_poll=progress)
    finally:
        progress.done()
    return t0, snap


def report(snap: Snapshot, wanted: set[Delivery], t0: float, out: TextIO) -> None:
    out.write("routed:\n")
    for d in sorted(wanted):
        first = min(
            n.received_at
            for n in snap.notifications
            if n.receiver == d.receiver and n.received_at >= t0 and n.fired(d.alert, d.severity)
        )
        out.write(
            f"  {d.receiver:<18} got {d.alert} ({d.severity}) {first - t0:.1f}s after the fault\n"
        )
    sample = next(
        (a for n in snap.notifications for a in n.alerts if a.name in {d.alert for d in wanted}),
        None,
    )
    if sample is not None:
        out.write(f"  summary:     {sample.annotations.get('summary', '')}\n")
        out.write(f"  description: {sample.annotations.get('description', '')}\n")
        out.write(f"  runbook:     {sample.annotations.get('runbook_url', '')}\n")


def run_demo(
    state_dir: Path,
    cfg: StackConfig,
    files: StackFiles,
    sc: Scenario,
    *,
    stack_name: str,
    keep: bool,
    timeout: float,
    out: TextIO = sys.stdout,
) -> int:
    stack = LocalStack(state_dir, cfg, files, stack=stack_name)
    recorded = load_state(state_dir)
    reused = recorded is not None and assess(state_dir, recorded).health is Health.RUNNING
    started = time.time()
    out.write(
        f"local stack '{stack_name}' (Pulumi.{stack_name}.yaml): real Prometheus and "
        "Alertmanager on 127.0.0.1, a demo exporter, a notification sink\n"
    )
    out.write(f"  {describe_timing(cfg)}\n")
    if reused:
        out.write("  using the stack that `monitoring local up` started; it stays running\n")
    else:
        out.write("starting prometheus, alertmanager, exporter, sink ...\n")
        stack.up("normal", report=lambda line: print(f"  {line}", file=out))
    try:
        for name in ("prometheus", "alertmanager", "exporter", "sink"):
            out.write(f"  {name:<13} {stack.url(name)}  (pid {stack.records[name].pid})\n")
        heartbeat = {
            Delivery(WATCHDOG, Severity.info.value, r)
            for r in cfg.routing.receivers_for(Severity.info)
        }
        out.write(f"step 1: {WATCHDOG} proves the pipeline end to end\n")
        progress = Progress(out)
        # A running stack re-sends Watchdog every repeat_interval: look back that far.
        lookback = parse_duration(cfg.routing.repeat_interval) + 5 if reused else 0
        since = started - lookback
        try:
            wait_for(stack.snapshot, heartbeat, since=since, timeout=timeout, on_poll=progress)
        finally:
            progress.done()
        out.write("step 2: play a fault\n")
        t0, snap = play(stack, sc, timeout=timeout, out=out)
        report(snap, expected_deliveries(cfg, sc, watchdog=False), t0, out)
        out.write("the alert fired in a real Prometheus and was routed by a real Alertmanager.\n")
        return 0
    finally:
        if keep or reused:
            out.write(
                "the stack is still running. Try: monitoring local status | "
                "monitoring local scenario NAME --wait | monitoring local down\n"
            )
        else:
            stopped = stack.down()
            out.write(
                "stopped the stack (pids "
                + ", ".join(str(s.record.pid) for s in stopped)
                + "); run with --keep to leave it running\n"
            )

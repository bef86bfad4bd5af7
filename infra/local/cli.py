"""``monitoring local …``: run the local stack (see :func:`register`).

monitoring local up [--stack local] [--scenario NAME]
monitoring local status
monitoring local scenario NAME [--reset] [--wait]
monitoring local scenario pipeline-down [--component prometheus|alertmanager]
monitoring local demo [--scenario api-down] [--keep]
monitoring local down [--force]
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from infra.config import load_stack, project_root
from infra.local import procs, state
from infra.local.demo import describe_timing, play, report, run_demo
from infra.local.display import format_status
from infra.local.files import render_stack_files
from infra.local.pipeline import (
    COMPONENTS,
    PIPELINE_DOWN,
    describe_heartbeat,
    read_heartbeat,
    run_pipeline_down,
)
from infra.local.scenarios import SCENARIOS, scenario
from infra.local.stack import LocalStack, MissingTool
from infra.local.state import Health, StateFileError
from infra.local.waiting import DeliveryTimeout, expected_deliveries

STATE_DIR_NAME = ".local-stack"


def state_dir(args: argparse.Namespace) -> Path:
    """``--state-dir`` if given (tests use a temp dir), else ``<project>/.local-stack``."""
    chosen: Path | None = args.state_dir
    return chosen or project_root() / STATE_DIR_NAME


def _stack(name: str, args: argparse.Namespace) -> LocalStack:
    cfg = load_stack(name, project_root())
    return LocalStack(state_dir(args), cfg, render_stack_files(cfg, name), stack=name)


def _fail(args: argparse.Namespace, message: str) -> int:
    print(f"monitoring local {args.local_command}: {message}", file=sys.stderr)
    return 1


def _running_stack(args: argparse.Namespace) -> LocalStack | str:
    """The recorded stack if all of it runs, else the one line that says why not."""
    recorded = state.load(state_dir(args))
    if recorded is None:
        return f"{state.not_running(state_dir(args))}; start one with: monitoring local up"
    verdict = state.assess(state_dir(args), recorded)
    if verdict.health is not Health.RUNNING:
        return verdict.message
    return _stack(recorded.stack, args)


def cmd_up(args: argparse.Namespace) -> int:
    stack = _stack(args.stack, args)
    print(f"starting the local stack '{args.stack}' ({describe_timing(stack.cfg)})")
    stack.up(args.scenario, report=print)
    for name, record in stack.records.items():
        print(f"  {name:<13} {record.url:<24} pid {record.pid}")
    print(f"state and logs in {stack.state_dir}")
    print(
        f"scenario: {args.scenario}. Next: monitoring local scenario NAME --wait "
        f"(one of {', '.join([*SCENARIOS, PIPELINE_DOWN])}), monitoring local status, "
        "monitoring local down"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    where = state_dir(args)
    if args.force:
        return _force_down(where)
    recorded = state.load(where)
    if recorded is None:
        print(f"{state.not_running(where)}; nothing to stop")
        return 0
    verdict = state.assess(where, recorded)
    if verdict.health is Health.STARTING:  # stopping under its feet would race its next spawn
        return _fail(args, verdict.message)
    for stopped in state.stop_all(recorded.processes):
        print(stopped)
    state.remove(where)
    return 0


def _force_down(where: Path) -> int:
    """Stop whatever an unreadable or half-written state file still identifies; delete it."""
    if not state.state_path(where).exists():
        print(f"{state.not_running(where)}; nothing to stop")
        return 0
    recorded, unverified = state.salvage(where)
    owner = recorded.owner if recorded is not None else None
    # An `up` still at work stops what it started when terminated; let it, then sweep what
    # the file lists by then.
    if owner is not None and procs.stop(owner.as_record()):
        print(f"stopped `monitoring local up` pid {owner.pid}")
        if not state.state_path(where).exists():
            return 0
        recorded, unverified = state.salvage(where)
    for stopped in state.stop_all(recorded.processes if recorded else {}):
        print(stopped)
    if unverified:
        print(
            f"not signalled (no start time to verify them by): pids {', '.join(unverified)}; "
            "check them with: ps -o pid,args -p " + ",".join(unverified)
        )
    state.remove(where)
    print(f"removed {state.state_path(where)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    where = state_dir(args)
    recorded = state.load(where)
    if recorded is None:
        return _fail(args, f"{state.not_running(where)}; start one with: monitoring local up")
    verdict = state.assess(where, recorded)
    if verdict.health in (Health.STARTING, Health.INTERRUPTED):
        return _fail(args, verdict.message)
    stack = _stack(recorded.stack, args)
    try:
        current = httpx.Client(trust_env=False, timeout=2).get(f"{stack.url('exporter')}/scenario")
        scenario_name = str(current.json()["scenario"])
    except (httpx.HTTPError, ValueError, KeyError):
        scenario_name = "unknown (exporter unreachable)"
    try:
        heartbeat = describe_heartbeat(read_heartbeat(stack.url("sink")))
    except (httpx.HTTPError, ValueError, KeyError):
        heartbeat = "unknown (sink unreachable)"
    print(format_status(stack.records, stack.running(), stack.snapshot(), scenario_name, heartbeat))
    problems = [verdict.message] if verdict.health is Health.BROKEN else []
    if procs.is_running(stack.records["prometheus"]):
        rules = stack.rule_group_problem()
        if rules is not None:
            problems.append(f"{rules}; run: monitoring local down, then monitoring local up")
    for problem in problems:
        _fail(args, problem)
    return 1 if problems else 0


def cmd_scenario(args: argparse.Namespace) -> int:
    if args.name == PIPELINE_DOWN:
        return _pipeline_down(args)
    sc = scenario(args.name)
    stack = _running_stack(args)
    if isinstance(stack, str):
        return _fail(args, stack)
    if args.wait:
        try:
            t0, snap = play(stack, sc, timeout=args.timeout, out=sys.stdout)
        except DeliveryTimeout as exc:
            print(exc, file=sys.stderr)
            return 1
        report(snap, expected_deliveries(stack.cfg, sc, watchdog=False), t0, sys.stdout)
        return 0
    if args.reset or sc.needs_fresh_history:
        stack.reset(sc.name)
    else:
        stack.set_scenario(sc.name)
    print(f"scenario {sc.name}: {sc.description}")
    for d in sorted(expected_deliveries(stack.cfg, sc, watchdog=False)):
        print(f"  expect {d}")
    print("follow it with: monitoring local status")
    return 0


def _pipeline_down(args: argparse.Namespace) -> int:
    stack = _running_stack(args)
    if isinstance(stack, str):
        return _fail(args, stack)
    result = run_pipeline_down(stack, args.component, timeout=args.timeout, report=print)
    print(
        f"{PIPELINE_DOWN} ({result.component}): heartbeat missed {result.missed_after:.1f}s "
        f"after the stop, up again {result.up_after:.1f}s after the restart"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    cfg = load_stack(args.stack, project_root())
    try:
        return run_demo(
            state_dir(args),
            cfg,
            render_stack_files(cfg, args.stack),
            scenario(args.scenario),
            stack_name=args.stack,
            keep=args.keep,
            timeout=args.timeout,
        )
    except DeliveryTimeout as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1


Handler = Callable[[argparse.Namespace], int]


def _run(handler: Handler) -> Handler:
    """Turn expected failures (a missing tool, a port taken, a bad scenario, an unreadable
    state file, an interruption) into one line and an exit code."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            with procs.signals_raise():
                return handler(args)
        except StateFileError as exc:
            print(f"monitoring local {args.local_command}: {exc}", file=sys.stderr)
            return 2
        except (MissingTool, procs.StartError, RuntimeError, ValueError) as exc:
            return _fail(args, str(exc))
        except httpx.HTTPError as exc:
            return _fail(args, f"{exc}; see: monitoring local status")
        except (KeyboardInterrupt, procs.Terminated) as exc:
            signum = exc.signum if isinstance(exc, procs.Terminated) else signal.SIGINT
            _fail(args, f"interrupted by {signal.Signals(signum).name}")
            return 128 + signum

    return wrapped


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``local`` and its subcommands; each sets ``func(args) -> int``."""
    local = subparsers.add_parser(
        "local",
        help="run real Prometheus + Alertmanager on 127.0.0.1 with fault scenarios",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    local.add_argument(
        "--state-dir",
        type=Path,
        help=f"where pids, ports and logs live (default {STATE_DIR_NAME}/)",
    )
    sub = local.add_subparsers(dest="local_command", required=True)
    names = list(SCENARIOS)

    up = sub.add_parser("up", help="start prometheus, alertmanager, exporter and sink")
    up.add_argument("--stack", default="local", help="stack file Pulumi.<stack>.yaml")
    up.add_argument("--scenario", default="normal", choices=names)
    up.set_defaults(func=_run(cmd_up))

    down = sub.add_parser("down", help="stop exactly the processes `up` started (by PID)")
    down.add_argument(
        "--force",
        action="store_true",
        help="also when state.json is unreadable or an `up` is still starting: stop every "
        "process it still identifies, then delete it",
    )
    down.set_defaults(func=_run(cmd_down))

    status = sub.add_parser("status", help="targets, alerts, and who got which notification")
    status.set_defaults(func=_run(cmd_status))

    play_ = sub.add_parser("scenario", help="switch the exporter to a fault scenario")
    play_.add_argument("name", choices=[*names, PIPELINE_DOWN])
    play_.add_argument(
        "--component",
        choices=COMPONENTS,
        default="prometheus",
        help=f"{PIPELINE_DOWN} only: which part of the alert pipeline to stop",
    )
    play_.add_argument(
        "--reset",
        action="store_true",
        help="restart Prometheus and Alertmanager empty first (no old history)",
    )
    play_.add_argument(
        "--wait",
        action="store_true",
        help="show progress until the expected alerts reach their receivers",
    )
    play_.add_argument("--timeout", type=float, default=120.0)
    play_.set_defaults(func=_run(cmd_scenario))

    demo = sub.add_parser("demo", help="start the stack, play a fault, watch it fire and route")
    demo.add_argument("--stack", default="local")
    demo.add_argument("--scenario", default="api-down", choices=[n for n in names if n != "normal"])
    demo.add_argument(
        "--keep", action="store_true", help="leave the stack running afterwards (default: stop it)"
    )
    demo.add_argument("--timeout", type=float, default=120.0)
    demo.set_defaults(func=_run(cmd_demo))

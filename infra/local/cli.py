"""``monitoring local …``: run the local stack (see :func:`register`).

monitoring local up [--stack local] [--scenario NAME]
monitoring local status
monitoring local scenario NAME [--reset] [--wait]
monitoring local demo [--scenario api-down] [--keep]
monitoring local down
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from infra.config import load_stack, project_root
from infra.local import procs
from infra.local.demo import describe_timing, play, report, run_demo
from infra.local.display import format_status
from infra.local.files import render_stack_files
from infra.local.observe import snapshot
from infra.local.scenarios import SCENARIOS, scenario
from infra.local.stack import (
    LocalStack,
    MissingTool,
    read_stack_name,
    read_state,
    stop_recorded,
)
from infra.local.waiting import DeliveryTimeout, expected_deliveries

STATE_DIR_NAME = ".local-stack"


def state_dir(args: argparse.Namespace) -> Path:
    """``--state-dir`` if given (tests use a temp dir), else ``<project>/.local-stack``."""
    chosen: Path | None = args.state_dir
    return chosen or project_root() / STATE_DIR_NAME


def _stack(name: str, args: argparse.Namespace) -> LocalStack:
    cfg = load_stack(name, project_root())
    return LocalStack(state_dir(args), cfg, render_stack_files(cfg, name), stack=name)


def _running_stack(args: argparse.Namespace) -> LocalStack | None:
    name = read_stack_name(state_dir(args))
    records = read_state(state_dir(args))
    if name is None or not records or not all(procs.is_running(r) for r in records.values()):
        return None
    return _stack(name, args)


def _not_running() -> int:
    print("no local stack is running; start one with `monitoring local up`", file=sys.stderr)
    return 1


def cmd_up(args: argparse.Namespace) -> int:
    stack = _stack(args.stack, args)
    print(f"starting the local stack '{args.stack}' ({describe_timing(stack.cfg)})")
    stack.up(args.scenario)
    for name, record in stack.records.items():
        print(f"  {name:<13} {record.url:<24} pid {record.pid}")
    print(f"state and logs in {stack.state_dir}")
    print(
        f"scenario: {args.scenario}. Next: monitoring local scenario NAME --wait "
        f"(one of {', '.join(SCENARIOS)}), monitoring local status, monitoring local down"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stopped = stop_recorded(state_dir(args))
    if not stopped:
        print("no local stack recorded in .local-stack/state.json; nothing to stop")
        return 0
    for record in stopped:
        print(f"stopped {record.name:<13} pid {record.pid}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    records = read_state(state_dir(args))
    if not records:
        return _not_running()
    running = {n: procs.is_running(r) for n, r in records.items()}
    urls = {n: r.url for n, r in records.items()}
    snap = snapshot(urls["prometheus"], urls["alertmanager"], urls["sink"])
    try:
        current = httpx.Client(trust_env=False, timeout=2).get(f"{urls['exporter']}/scenario")
        scenario_name = str(current.json()["scenario"])
    except (httpx.HTTPError, ValueError, KeyError):
        scenario_name = "unknown (exporter unreachable)"
    print(format_status(records, running, snap, scenario_name))
    return 0 if all(running.values()) else 1


def cmd_scenario(args: argparse.Namespace) -> int:
    sc = scenario(args.name)
    stack = _running_stack(args)
    if stack is None:
        return _not_running()
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
    """Turn expected failures (a missing tool, a port taken, a bad scenario) into one line."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (MissingTool, procs.StartError, RuntimeError, ValueError) as exc:
            print(f"monitoring local {args.local_command}: {exc}", file=sys.stderr)
            return 1

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
    down.set_defaults(func=_run(cmd_down))

    status = sub.add_parser("status", help="targets, alerts, and who got which notification")
    status.set_defaults(func=_run(cmd_status))

    play_ = sub.add_parser("scenario", help="switch the exporter to a fault scenario")
    play_.add_argument("name", choices=names)
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.local.cli local …``: the same as ``monitoring local …``."""
    from infra.cli import main as monitoring_main

    return monitoring_main(argv)


if __name__ == "__main__":
    sys.exit(main())

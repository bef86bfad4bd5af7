"""``monitoring drift --stack S [--format markdown|json]``: one command for CI.

It runs the engine's refresh-preview (managed resources that differ from the stack) and the
vendor inventories (objects that look like the stack's but are in no state), and prints one
report. Exit 0 clean, 1 drift, 2 error (one line on stderr, no traceback, never a secret).

Credentials: the same secrets ``pulumi up`` uses. Each is read from its environment variable
when set (CI), else from the stack's encrypted config through ``pulumi config get`` (which
needs the stack's passphrase or backend login, like any ``pulumi`` command). API URLs follow
the stack config, and the providers' environment overrides (``UPTIMEROBOT_API_URL``,
``SENTRY_API_URL``, ``GRAFANA_URL``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.config import ConfigError, StackConfig, load_stack, project_root
from infra.drift.engine import EngineError, drifted_resources, find_pulumi, refresh_preview
from infra.drift.grafana_inventory import unmanaged_grafana
from infra.drift.inventory import InventoryError
from infra.drift.model import DriftReport
from infra.drift.sentry_inventory import unmanaged_sentry
from infra.drift.uptimerobot_inventory import unmanaged_uptimerobot
from infra.providers.sentry import API_URL_ENV as SENTRY_URL_ENV
from infra.providers.sentry import TOKEN_ENV as SENTRY_TOKEN_ENV
from infra.providers.uptimerobot import API_KEY_ENV as UR_KEY_ENV
from infra.providers.uptimerobot import API_URL_ENV as UR_URL_ENV

GRAFANA_URL_ENV = "GRAFANA_URL"
GRAFANA_AUTH_ENV = "GRAFANA_AUTH"


class Pulumi:
    """The few CLI calls drift needs besides the preview, for one stack."""

    def __init__(self, binary: Path, stack: str, root: Path) -> None:
        self.binary, self.stack, self.root = binary, stack, root

    def _run(self, *args: str) -> str:
        argv = [str(self.binary), *args, "--non-interactive", "--stack", self.stack]
        env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        done = subprocess.run(
            argv, cwd=self.root, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["?"]
            # The command line holds no secret; its output might, so only stderr's last line.
            raise EngineError(f"`pulumi {' '.join(args[:2])}` failed: {last[0].strip()[:300]}")
        return done.stdout

    def export(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self._run("stack", "export"))
        except json.JSONDecodeError:
            raise EngineError("`pulumi stack export` did not print a JSON state") from None
        return state

    def secret(self, env_var: str, key: str) -> str:
        """The value of ``env_var``, else the stack's secret ``key`` (``ns:name``)."""
        value = os.environ.get(env_var)
        if value:
            return value
        try:
            value = self._run("config", "get", key).strip()
        except EngineError:
            value = ""
        if not value:
            raise EngineError(
                f"no credential for drift: export {env_var}, or set the stack secret "
                f"`pulumi config set --secret {key} <value> -s {self.stack}`"
            )
        return value


def build_report(stack: str, cfg: StackConfig, root: Path, binary: Path) -> DriftReport:
    report = DriftReport(stack)
    report.managed = drifted_resources(refresh_preview(stack, root, binary))
    pulumi = Pulumi(binary, stack, root)
    state = pulumi.export()
    if cfg.uptimerobot.enabled:
        report.unmanaged += unmanaged_uptimerobot(
            cfg,
            state,
            api_url=os.environ.get(UR_URL_ENV) or cfg.uptimerobot.api_url,
            api_key=pulumi.secret(UR_KEY_ENV, f"monitoring:{cfg.uptimerobot.api_key.secret}"),
        )
    if cfg.sentry.enabled:
        report.unmanaged += unmanaged_sentry(
            cfg,
            state,
            api_url=os.environ.get(SENTRY_URL_ENV) or cfg.sentry.api_url,
            token=pulumi.secret(SENTRY_TOKEN_ENV, f"monitoring:{cfg.sentry.auth_token.secret}"),
        )
    if cfg.grafana.enabled:
        report.unmanaged += unmanaged_grafana(
            cfg,
            state,
            url=os.environ.get(GRAFANA_URL_ENV) or cfg.grafana.url,
            token=pulumi.secret(GRAFANA_AUTH_ENV, "grafana:auth"),
        )
    return report


def cmd_drift(args: argparse.Namespace) -> int:
    root = project_root()
    try:
        cfg = load_stack(args.stack, root)
        report = build_report(args.stack, cfg, root, find_pulumi(root))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (EngineError, InventoryError) as exc:
        print(f"monitoring drift: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if args.format == "json" else report.to_markdown(), end="")
    if args.format == "json":
        print()
    return report.exit_code()


def register(sub: Any) -> None:
    """Add ``drift`` to the ``monitoring`` sub-commands."""
    drift = sub.add_parser(
        "drift",
        help="live vendor state vs the stack: drifted and unmanaged resources (exit 1 on drift)",
    )
    drift.add_argument("--stack", required=True, help="the stack to check")
    drift.add_argument("--format", choices=("markdown", "json"), default="markdown")
    drift.set_defaults(func=cmd_drift)

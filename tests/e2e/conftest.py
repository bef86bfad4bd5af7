"""One local stack (real Prometheus, real Alertmanager, exporter, sink) for the e2e session.

Scenarios run in sequence on it, each after a reset (fresh TSDB and Alertmanager state), so
the suite pays the start-up once. The finalizer is registered before anything starts: the
processes are stopped by PID even when ``up`` or a test fails, and every PID ever started
(restarts included) must be gone afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.config import StackConfig, load_stack
from infra.local import procs
from infra.local.files import render_stack_files
from infra.local.stack import LocalStack, MissingTool, find_tools

ROOT = Path(__file__).resolve().parents[2]


def assert_all_gone(records: list[procs.ProcessRecord]) -> None:
    alive = [f"{r.name} (pid {r.pid})" for r in records if procs.is_running(r)]
    assert not alive, f"processes left running after the test: {alive}"


@pytest.fixture(scope="session")
def local_cfg() -> StackConfig:
    return load_stack("local", ROOT)


@pytest.fixture(scope="session")
def local_stack(
    local_cfg: StackConfig,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[LocalStack]:
    try:
        find_tools()
    except MissingTool as exc:  # fail, not skip: the README's test command includes e2e
        pytest.fail(str(exc))
    stack = LocalStack(
        tmp_path_factory.mktemp("local-stack"),
        local_cfg,
        render_stack_files(local_cfg, "local"),
        tie_to_parent=True,  # even a SIGKILLed pytest takes its processes with it
    )

    def stop_everything() -> None:
        stack.down()
        assert_all_gone(stack.history)

    request.addfinalizer(stop_everything)
    stack.up("normal")
    yield stack

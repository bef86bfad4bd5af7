"""Shared fixtures: the repository root and the two real stacks' configs. Pulumi mocks are
installed per test (tests/pulumi_mocks.py), never at module level."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.config import StackConfig, load_stack

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def production() -> StackConfig:
    return load_stack("production", ROOT)


@pytest.fixture(scope="session")
def staging() -> StackConfig:
    return load_stack("staging", ROOT)

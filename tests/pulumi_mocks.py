"""Pulumi SDK mocks that record every registered resource, shared by the component tests.

Each test installs a fresh ``RecordingMocks`` with ``pulumi.runtime.set_mocks`` in a fixture,
before it builds anything, and reads ``mocks.resources`` afterwards; never at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi


@dataclass
class Registered:
    type_: str
    name: str
    inputs: dict[str, Any]
    urn: str


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs back as outputs and remember every resource registration."""

    resources: list[Registered] = field(default_factory=list)
    stack_config: dict[str, Any] = field(default_factory=dict)

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(
            Registered(args.typ, args.name, dict(args.inputs), f"urn:{args.typ}::{args.name}")
        )
        outputs = dict(args.inputs)
        return f"{args.name}-id", outputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type_ == type_]

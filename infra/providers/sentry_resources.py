"""The Sentry resources a Pulumi program declares: each a dynamic resource served by its
provider in ``infra/providers/sentry.py``. The token and the DSN stay secret in the state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import Resource

from infra.providers.sentry import (
    DetectorProvider,
    ProjectKeyProvider,
    SentryProvider,
    Spec,
    WorkflowProvider,
)


@dataclass(frozen=True)
class SentryTarget:
    """Where the resources live; ``auth_token`` is a secret Output or ``None`` (then the
    provider reads ``SENTRY_AUTH_TOKEN``)."""

    api_url: str
    organization: str
    project: str
    auth_token: pulumi.Input[str] | None


def _props(target: SentryTarget, spec: pulumi.Input[Spec], **extra: Any) -> dict[str, Any]:
    return {
        "api_url": target.api_url,
        "organization": target.organization,
        "project": target.project,
        "auth_token": target.auth_token,
        "spec": spec,
        "sentry_id": None,
        **extra,
    }


def _secret_opts(
    opts: pulumi.ResourceOptions | None, *secret_outputs: str
) -> pulumi.ResourceOptions:
    # Dynamic providers return plain values; without this the token (needed again by
    # read/update/delete) and the DSN would sit in the state unencrypted.
    mine = pulumi.ResourceOptions(additional_secret_outputs=["auth_token", *secret_outputs])
    return pulumi.ResourceOptions.merge(opts, mine)


class _SpecResource(Resource):
    """A Sentry object declared by its request body (``spec``); subclasses name the type."""

    sentry_id: pulumi.Output[str]
    spec: pulumi.Output[Spec]
    provider_class: ClassVar[type[SentryProvider]]

    def __init__(
        self,
        name: str,
        target: SentryTarget,
        spec: pulumi.Input[Spec],
        opts: pulumi.ResourceOptions | None = None,
        provider: SentryProvider | None = None,
    ) -> None:
        provider = provider or self.provider_class()
        super().__init__(provider, name, _props(target, spec), _secret_opts(opts))


class Detector(_SpecResource, module="sentry", name="Detector"):
    """A Sentry metric detector (monitor)."""

    provider_class = DetectorProvider


class Workflow(_SpecResource, module="sentry", name="Workflow"):
    """A Sentry alert (workflow) connecting detectors to notification actions."""

    provider_class = WorkflowProvider


class ProjectKey(Resource, module="sentry", name="ProjectKey"):
    """A Sentry project client key; ``dsn`` is a secret output."""

    sentry_id: pulumi.Output[str]
    dsn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        target: SentryTarget,
        key_name: str,
        opts: pulumi.ResourceOptions | None = None,
        provider: ProjectKeyProvider | None = None,
    ) -> None:
        super().__init__(
            provider or ProjectKeyProvider(),
            name,
            _props(target, {"name": key_name, "isActive": True}, dsn=None),
            _secret_opts(opts, "dsn"),
        )

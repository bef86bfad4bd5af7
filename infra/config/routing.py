"""The routing model: receivers and routes, rendered as alertmanager.yml and Grafana policy."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.types import (
    Duration,
    LabelName,
    SecretRef,
    Severity,
    Slug,
    Strict,
    _reject_inline_secret,
)

# --------------------------------------------------------------------------- routing


class PagerDutyReceiver(Strict):
    type: Literal["pagerduty"]
    name: Slug
    integration_key: SecretRef

    @field_validator("integration_key", mode="before")
    @classmethod
    def _no_inline(cls, value: object) -> object:
        return _reject_inline_secret(value, "integration_key")


class EmailReceiver(Strict):
    type: Literal["email"]
    name: Slug
    to: Annotated[tuple[str, ...], Field(min_length=1)]
    smtp_password: SecretRef | None = None

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not re.fullmatch(r"[^@\s\"'<>,]+@[^@\s\"'<>,]+\.[a-z]{2,}", address):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("smtp_password", mode="before")
    @classmethod
    def _no_inline(cls, value: object) -> object:
        return _reject_inline_secret(value, "smtp_password")


class SlackReceiver(Strict):
    type: Literal["slack"]
    name: Slug
    channel: Annotated[str, Field(pattern=r"^#[a-z0-9][a-z0-9._-]{0,79}$")]
    webhook_url: SecretRef

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _no_inline(cls, value: object) -> object:
        return _reject_inline_secret(value, "webhook_url")


class NullReceiver(Strict):
    """Receives and drops (the ``Watchdog`` heartbeat when no dead-man's switch is wired)."""

    type: Literal["null"]
    name: Slug


AnyReceiver = PagerDutyReceiver | EmailReceiver | SlackReceiver | NullReceiver
Receiver = Annotated[AnyReceiver, Field(discriminator="type")]


class Route(Strict):
    """Alerts with ``severity`` go to every receiver in ``receivers``."""

    severity: Severity
    receivers: Annotated[tuple[Slug, ...], Field(min_length=1)]
    continue_: Annotated[bool, Field(alias="continue")] = False


class RoutingConfig(Strict):
    """One routing model, rendered both as alertmanager.yml and as Grafana notification policy."""

    receivers: Annotated[tuple[Receiver, ...], Field(min_length=1)]
    routes: Annotated[tuple[Route, ...], Field(min_length=1)]
    default_receiver: Slug
    group_by: tuple[LabelName, ...] = ("alertname", "service", "environment")
    group_wait: Duration = "30s"
    group_interval: Duration = "5m"
    repeat_interval: Duration = "4h"
    inhibit_equal: tuple[LabelName, ...] = ("service", "environment")

    @model_validator(mode="after")
    def _receivers_exist(self) -> RoutingConfig:
        names = [r.name for r in self.receivers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"receiver names must be unique; {dupes} appear more than once")
        known = set(names)
        wanted = [(f"routes[{i}]", n) for i, r in enumerate(self.routes) for n in r.receivers]
        wanted.append(("default_receiver", self.default_receiver))
        for where, name in wanted:
            if name not in known:
                raise ValueError(
                    f"{where} names receiver {name!r}, which is not declared; declare it "
                    f"under routing.receivers (known: {sorted(known)})"
                )
        severities = [r.severity for r in self.routes]
        if len(set(severities)) != len(severities):
            raise ValueError("each severity may have one route; merge the receivers instead")
        return self

    def receiver(
        self, name: str
    ) -> PagerDutyReceiver | EmailReceiver | SlackReceiver | NullReceiver:
        return next(r for r in self.receivers if r.name == name)

    def receivers_for(self, severity: Severity) -> tuple[str, ...]:
        """Receiver names an alert of ``severity`` reaches."""
        for route in self.routes:
            if route.severity == severity:
                return route.receivers
        return (self.default_receiver,)

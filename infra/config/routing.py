"""The routing model: receivers and routes, rendered as alertmanager.yml and Grafana policy.

One model feeds both renderings (``infra/render/alertmanager.py`` and
``infra/components/routing.py``) through :meth:`RoutingConfig.tree`, so they cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from infra.config.types import (
    HttpUrl,
    LabelName,
    PositiveDuration,
    SecretRef,
    Severity,
    Slug,
    Strict,
    _reject_inline_secret,
    duration_between,
    reject_template,
    shown,
)

PRODUCTION_ENVIRONMENTS = frozenset({"production"})
"""Environments allowed to page (PagerDuty) without ``routing.allow_paging``."""

DEFAULT_SECRETS_DIR = "/etc/alertmanager/secrets"

# --------------------------------------------------------------------------- receivers


class PagerDutyReceiver(Strict):
    """PagerDuty Events API v2: ``integration_key`` is the service's integration (routing) key."""

    type: Literal["pagerduty"]
    name: Slug
    integration_key: SecretRef
    send_resolved: bool = True

    @field_validator("integration_key", mode="before")
    @classmethod
    def _no_inline(cls, value: object) -> object:
        return _reject_inline_secret(value, "integration_key")


def _check_address(address: str) -> str:
    # Alertmanager expands templates in to and from when it sends the mail.
    reject_template(address, "the address")
    if len(address) > 254 or not re.fullmatch(
        r"[^@\s\"'<>,{}]+@[^@\s\"'<>,{}]+\.[a-z]{2,}", address
    ):
        raise ValueError(
            f"{shown(address)} is not an email address; write it as name@example.com "
            "(at most 254 characters)"
        )
    return address


Address = Annotated[str, AfterValidator(_check_address)]
"""An email address, written literally (no template)."""


class EmailReceiver(Strict):
    """Email. Grafana Cloud sends with its own SMTP; the SMTP fields serve Alertmanager only."""

    type: Literal["email"]
    name: Slug
    to: Annotated[tuple[Address, ...], Field(min_length=1, max_length=20)]
    from_: Annotated[Address, Field(alias="from")]
    smarthost: Annotated[str, Field(max_length=260, pattern=r"^[A-Za-z0-9.-]+:\d{1,5}$")]
    auth_username: Annotated[str, Field(min_length=1, max_length=254)] | None = None
    smtp_password: SecretRef | None = None
    require_tls: bool = True
    send_resolved: bool = True

    @field_validator("auth_username")
    @classmethod
    def _literal_username(cls, value: str | None) -> str | None:
        return value if value is None else reject_template(value, "auth_username")

    @field_validator("smtp_password", mode="before")
    @classmethod
    def _no_inline(cls, value: object) -> object:
        return _reject_inline_secret(value, "smtp_password")

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailReceiver:
        # Alertmanager skips SMTP AUTH without a username, silently ignoring the password.
        if self.smtp_password is not None and self.auth_username is None:
            raise ValueError(
                f"email receiver {self.name!r} sets smtp_password but no auth_username; "
                "add auth_username (the SMTP login) or remove smtp_password"
            )
        return self


def _check_channel(value: str) -> str:
    # Alertmanager expands templates in channel when it posts.
    reject_template(value, "channel")
    if not re.fullmatch(r"#[a-z0-9][a-z0-9._-]{0,79}", value):
        raise ValueError(
            f"{shown(value)} is not a Slack channel; write it as '#alerts': '#' and up to 80 "
            "lowercase letters, digits, '.', '_' and '-'"
        )
    return value


class SlackReceiver(Strict):
    """Slack incoming webhook; the webhook URL is the secret, the channel is not."""

    type: Literal["slack"]
    name: Slug
    channel: Annotated[str, AfterValidator(_check_channel)]
    webhook_url: SecretRef
    send_resolved: bool = True

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _no_inline(cls, value: object) -> object:
        return _reject_inline_secret(value, "webhook_url")


class NullReceiver(Strict):
    """The ``Watchdog`` heartbeat: dropped, or posted to a dead-man's switch at ``heartbeat_url``.

    ``heartbeat_url`` is written in the rendered files as is (Alertmanager 0.25 has no
    ``url_file`` for webhooks): use a URL that is not itself a credential.
    """

    type: Literal["null"]
    name: Slug
    heartbeat_url: HttpUrl | None = None


AnyReceiver = PagerDutyReceiver | EmailReceiver | SlackReceiver | NullReceiver
Receiver = Annotated[AnyReceiver, Field(discriminator="type")]

# --------------------------------------------------------------------------- routes


class Route(Strict):
    """Alerts with ``severity`` go to every receiver in ``receivers``."""

    severity: Severity
    receivers: Annotated[tuple[Slug, ...], Field(min_length=1, max_length=10)]
    continue_: Annotated[bool, Field(alias="continue")] = False

    @field_validator("receivers")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({n for n in value if value.count(n) > 1})
        if dupes:
            raise ValueError(f"{dupes} listed more than once; list each receiver once")
        return value


class InhibitRule(Strict):
    """While a ``source_severity`` alert fires, silence ``target_severity`` alerts that share
    the ``equal`` labels (a critical outage should not also flood Slack with its warnings)."""

    source_severity: Severity = Severity.critical
    target_severity: Severity = Severity.warning
    equal: Annotated[tuple[LabelName, ...], Field(min_length=1, max_length=10)] = (
        "service",
        "environment",
    )

    @model_validator(mode="after")
    def _sensible(self) -> InhibitRule:
        if self.source_severity == self.target_severity:
            raise ValueError(
                "source_severity equals target_severity, so an alert would silence itself; "
                "use a lower target_severity such as 'warning'"
            )
        if self.target_severity == Severity.info:
            # Watchdog is info: silencing it during an outage trips the dead-man's switch.
            raise ValueError(
                "target_severity 'info' would silence the Watchdog heartbeat during an "
                "outage; inhibit 'warning' instead"
            )
        return self


@dataclass(frozen=True)
class FlatRoute:
    """One child route as both Alertmanager and Grafana need it: one receiver each.

    A model route with several receivers becomes several siblings with ``continue: true``
    on all but the last, which is how both tools deliver one alert to many receivers.
    """

    severity: Severity
    receiver: str
    continue_: bool

    @property
    def matcher(self) -> str:
        return f'severity="{self.severity.value}"'


_RETENTION = "; Alertmanager keeps its notification log for 5 days (120h)"


class RoutingConfig(Strict):
    """One routing model, rendered both as alertmanager.yml and as Grafana notification policy."""

    receivers: Annotated[tuple[Receiver, ...], Field(min_length=1, max_length=20)]
    routes: Annotated[tuple[Route, ...], Field(min_length=1, max_length=3)]
    default_receiver: Slug
    group_by: Annotated[tuple[LabelName, ...], Field(max_length=10)] = (
        "alertname",
        "service",
        "environment",
    )
    group_wait: Annotated[PositiveDuration, duration_between("1s", "1h")] = "30s"
    group_interval: Annotated[PositiveDuration, duration_between("1s", "1d")] = "5m"
    # Alertmanager keeps its notification log 120h: a longer repeat would never repeat.
    repeat_interval: Annotated[PositiveDuration, duration_between("1s", "5d", _RETENTION)] = "4h"
    inhibit_rules: Annotated[tuple[InhibitRule, ...], Field(max_length=10)] = (InhibitRule(),)
    secrets_dir: Annotated[
        str, Field(max_length=200, pattern=r"^/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$")
    ] = DEFAULT_SECRETS_DIR
    allow_paging: bool = False
    """Let a non-production environment reach a PagerDuty receiver (see :func:`check_paging`)."""

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

    def receiver(self, name: str) -> AnyReceiver:
        return next(r for r in self.receivers if r.name == name)

    def receivers_for(self, severity: Severity) -> tuple[str, ...]:
        """Receiver names an alert of ``severity`` reaches."""
        for route in self.routes:
            if route.severity == severity:
                return route.receivers
        return (self.default_receiver,)

    def tree(self) -> tuple[FlatRoute, ...]:
        """The child routes under the root, in order; both renderings are built from this."""
        flat: list[FlatRoute] = []
        for route in self.routes:
            last = len(route.receivers) - 1
            for i, name in enumerate(route.receivers):
                flat.append(FlatRoute(route.severity, name, route.continue_ if i == last else True))
        return tuple(flat)

    def secret_file(self, ref: SecretRef) -> str:
        """Where a self-hosted Alertmanager reads the secret ``ref`` from."""
        return f"{self.secrets_dir}/{ref.secret}"

    def secret_refs(self) -> tuple[SecretRef, ...]:
        """Every secret the receivers reference, once each, in declaration order."""
        refs: list[SecretRef] = []
        for r in self.receivers:
            candidates: tuple[SecretRef | None, ...] = ()
            if isinstance(r, PagerDutyReceiver):
                candidates = (r.integration_key,)
            elif isinstance(r, EmailReceiver):
                candidates = (r.smtp_password,)
            elif isinstance(r, SlackReceiver):
                candidates = (r.webhook_url,)
            refs.extend(c for c in candidates if c is not None and c not in refs)
        return tuple(refs)


# --------------------------------------------------------------------------- paging guard


def paging_receivers(routing: RoutingConfig) -> dict[str, str]:
    """PagerDuty receivers an alert can reach, each with the config path that reaches it."""
    reached: dict[str, str] = {}
    for i, route in enumerate(routing.routes):
        for name in route.receivers:
            if isinstance(routing.receiver(name), PagerDutyReceiver):
                reached.setdefault(name, f"routing.routes[{i}] (severity {route.severity.value})")
    if isinstance(routing.receiver(routing.default_receiver), PagerDutyReceiver):
        reached.setdefault(routing.default_receiver, "routing.default_receiver")
    return reached


def check_paging(environment: str, routing: RoutingConfig) -> None:
    """Reject a non-production stack that could page someone, unless ``allow_paging`` is set.

    Called from ``StackConfig`` (which knows the environment); raises ``ValueError``.
    """
    if environment in PRODUCTION_ENVIRONMENTS or routing.allow_paging:
        return
    reached = paging_receivers(routing)
    if reached:
        where = "; ".join(f"{name!r} from monitoring:{path}" for name, path in reached.items())
        raise ValueError(
            f"environment {environment!r} must never page anyone, but "
            f"PagerDuty receiver(s) are reachable: {where}. Route those alerts to Slack or "
            "email instead, or set monitoring:routing.allow_paging: true if this environment "
            "really is on call"
        )


def never_page_outside_production(routing: RoutingConfig, info: ValidationInfo) -> RoutingConfig:
    """``StackConfig`` field validator for ``routing``: :func:`check_paging` with the stack's
    environment (validated first, as it is declared before ``routing``), so the error is
    reported at ``monitoring:routing``."""
    environment = info.data.get("environment")
    if isinstance(environment, str):  # absent when environment itself failed validation
        check_paging(environment, routing)
    return routing

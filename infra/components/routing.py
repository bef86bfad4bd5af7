"""Grafana contact points and the notification policy, from the same routing model as
``alertmanager.yml`` (``RoutingConfig.tree``), so the two cannot route differently.

The model → resource-args mapping is pure (:func:`contact_point_args`,
:func:`notification_policy_args`); :class:`AlertRouting` only turns it into resources.
Grafana-managed alerting has no inhibition rules: ``routing.inhibit_rules`` applies to
Alertmanager only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumiverse_grafana import alerting

from infra.config import Severity, StackConfig
from infra.config.routing import (
    AnyReceiver,
    EmailReceiver,
    NullReceiver,
    PagerDutyReceiver,
    RoutingConfig,
    SlackReceiver,
)
from infra.config.types import SecretRef
from infra.render.alertmanager import watchdog_repeat_interval

TYPE_TOKEN = "monitoring:grafana:AlertRouting"

DISCARD_URL = "http://127.0.0.1:9/discard"
"""Where a null receiver without ``heartbeat_url`` points in Grafana.

A Grafana contact point needs at least one integration (the provider creates one Grafana
object per integration, so an empty one would not exist). Alertmanager drops these alerts
with an empty receiver; Grafana gets a webhook to the loopback discard port, which fails
without reaching anyone. The program hands it the UptimeRobot heartbeat's ping URL (see
:func:`watchdog_receivers`), or set ``heartbeat_url`` to another dead-man's switch.
"""

SecretResolver = Callable[[SecretRef], Any]
"""Turns a secret reference into its value: ``pulumi.Config(...).require_secret`` in Pulumi,
a placeholder in tests."""

_ARGS_TYPES: dict[str, Callable[..., Any]] = {
    "pagerduties": alerting.ContactPointPagerdutyArgs,
    "emails": alerting.ContactPointEmailArgs,
    "slacks": alerting.ContactPointSlackArgs,
    "webhooks": alerting.ContactPointWebhookArgs,
}


def watchdog_receivers(routing: RoutingConfig) -> tuple[str, ...]:
    """The null receivers the ``Watchdog`` (severity ``info``) reaches: the ones that ping the
    dead-man's switch."""
    return tuple(
        name
        for name in routing.receivers_for(Severity.info)
        if isinstance(routing.receiver(name), NullReceiver)
    )


def contact_point_args(
    receiver: AnyReceiver, secret: SecretResolver, heartbeat_url: Any = None
) -> dict[str, list[dict[str, Any]]]:
    """The integration blocks of the contact point for ``receiver`` (``ContactPoint`` kwargs).

    ``heartbeat_url`` (the UptimeRobot heartbeat's secret ping URL) is where a null receiver
    without its own ``heartbeat_url`` posts."""
    if isinstance(receiver, PagerDutyReceiver):
        return {
            "pagerduties": [
                {
                    "integration_key": secret(receiver.integration_key),
                    "disable_resolve_message": not receiver.send_resolved,
                }
            ]
        }
    if isinstance(receiver, EmailReceiver):
        # Grafana mails through its own SMTP settings; smarthost/from serve Alertmanager.
        return {
            "emails": [
                {
                    "addresses": list(receiver.to),
                    "single_email": True,
                    "disable_resolve_message": not receiver.send_resolved,
                }
            ]
        }
    if isinstance(receiver, SlackReceiver):
        return {
            "slacks": [
                {
                    "url": secret(receiver.webhook_url),
                    "recipient": receiver.channel,
                    "disable_resolve_message": not receiver.send_resolved,
                }
            ]
        }
    if isinstance(receiver, NullReceiver):
        url = receiver.heartbeat_url or heartbeat_url or DISCARD_URL
        return {"webhooks": [{"url": url, "disable_resolve_message": True}]}
    raise TypeError(f"no Grafana contact point mapping for receiver type {type(receiver)!r}")


def notification_policy_args(
    routing: RoutingConfig, watchdog_repeat: str | None = None
) -> dict[str, Any]:
    """``NotificationPolicy`` kwargs: the root (default receiver, grouping, timings) and one
    child policy per ``RoutingConfig.tree`` entry, matched on ``severity``.

    ``watchdog_repeat`` is the ``repeat_interval`` of the ``info`` (Watchdog) policies when a
    heartbeat listens: every repeat is one ping."""
    return {
        "contact_point": routing.default_receiver,
        "group_bies": list(routing.group_by),
        "group_wait": routing.group_wait,
        "group_interval": routing.group_interval,
        "repeat_interval": routing.repeat_interval,
        "policies": [
            *_datasource_error_policies(routing),
            *(
                {
                    "contact_point": r.receiver,
                    "matchers": [{"label": "severity", "match": "=", "value": r.severity.value}],
                    "continue_": r.continue_,
                    **(
                        {"repeat_interval": watchdog_repeat}
                        if watchdog_repeat and r.severity == Severity.info
                        else {}
                    ),
                }
                for r in routing.tree()
            ),
        ],
    }


GRAFANA_STATE_ALERTS = "DatasourceError|DatasourceNoData"
"""Alerts Grafana raises itself when a rule's query cannot run. They carry the rule's own
labels, so a critical rule's DatasourceError would page: route them to the warning receivers
first (visible, never paging). Alertmanager never sees them, so alertmanager.yml has no twin."""


def _datasource_error_policies(routing: RoutingConfig) -> list[dict[str, Any]]:
    receivers = routing.receivers_for(Severity.warning)
    return [
        {
            "contact_point": name,
            "matchers": [{"label": "alertname", "match": "=~", "value": GRAFANA_STATE_ALERTS}],
            "continue_": i < len(receivers) - 1,
        }
        for i, name in enumerate(receivers)
    ]


def org_id_arg(cfg: StackConfig) -> str | None:
    """The ``org_id`` argument of every Grafana resource: ``monitoring:grafana.org_id`` as the
    provider's string, or None (the provider's organization) when it is unset."""
    return None if cfg.grafana.org_id is None else str(cfg.grafana.org_id)


def _policy_resource_args(spec: dict[str, Any]) -> dict[str, Any]:
    policies = [
        alerting.NotificationPolicyPolicyArgs(
            contact_point=p["contact_point"],
            continue_=p["continue_"],
            matchers=[alerting.NotificationPolicyPolicyMatcherArgs(**m) for m in p["matchers"]],
            repeat_interval=p.get("repeat_interval"),
        )
        for p in spec["policies"]
    ]
    return {**spec, "policies": policies}


class AlertRouting(pulumi.ComponentResource):
    """One Grafana contact point per receiver (named like the receiver) and the policy tree.

    Grafana has a single notification policy per organization: two stacks sharing one
    Grafana org would overwrite each other's policy, so give each environment its own org
    (``grafana.org_id``) or stack URL; ``monitoring validate`` fails when two stacks share one.
    """

    contact_points: dict[str, alerting.ContactPoint]
    policy: alerting.NotificationPolicy

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        opts: pulumi.ResourceOptions | None = None,
        heartbeat_url: pulumi.Input[str] | None = None,
    ) -> None:
        """``heartbeat_url``: the UptimeRobot heartbeat's ping URL (a secret Output), posted to
        by the Watchdog's null receivers (:func:`watchdog_receivers`)."""
        super().__init__(TYPE_TOKEN, name, None, opts)
        config = pulumi.Config("monitoring")

        def secret(ref: SecretRef) -> pulumi.Output[str]:
            # require_secret keeps the value a secret output, so it is encrypted in state.
            return config.require_secret(ref.secret)

        child = pulumi.ResourceOptions(parent=self)
        org_id = org_id_arg(cfg)
        self.contact_points = {}
        pinging = watchdog_receivers(cfg.routing) if heartbeat_url is not None else ()
        for receiver in cfg.routing.receivers:
            beat = heartbeat_url if receiver.name in pinging else None
            blocks = contact_point_args(receiver, secret, beat)
            integrations: dict[str, Any] = {
                k: [_ARGS_TYPES[k](**b) for b in v] for k, v in blocks.items()
            }
            args = alerting.ContactPointArgs(name=receiver.name, org_id=org_id, **integrations)
            self.contact_points[receiver.name] = alerting.ContactPoint(
                f"{name}-{receiver.name}", args, opts=child
            )
        self.policy = alerting.NotificationPolicy(
            f"{name}-policy",
            alerting.NotificationPolicyArgs(
                org_id=org_id,
                **_policy_resource_args(
                    notification_policy_args(cfg.routing, watchdog_repeat_interval(cfg))
                ),
            ),
            # The policy names contact points by name: they must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.contact_points.values())),
        )
        self.register_outputs(
            {
                "contact_points": {k: v.name for k, v in self.contact_points.items()},
                "policy_id": self.policy.id,
            }
        )

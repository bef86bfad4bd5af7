"""Read the running pipeline: Prometheus targets and alerts, Alertmanager alerts, the sink.

Every reader tolerates a component that is down (it reports the error instead of raising),
because ``status`` and the progress display run exactly when something may be broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

# trust_env=False: never route loopback calls through an HTTP(S)_PROXY from the environment.
_TIMEOUT = httpx.Timeout(3.0)


def _client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=_TIMEOUT)


@dataclass(frozen=True)
class Target:
    job: str
    url: str
    health: str
    last_error: str


@dataclass(frozen=True)
class PromAlert:
    """An alert as Prometheus evaluates it: ``pending`` (inside ``for``) or ``firing``."""

    name: str
    severity: str
    state: str
    active_at: str
    labels: dict[str, str]


@dataclass(frozen=True)
class AmAlert:
    """An alert as Alertmanager holds it: ``active``, or ``suppressed`` (inhibited/silenced)."""

    name: str
    severity: str
    state: str
    inhibited_by: tuple[str, ...]
    receivers: tuple[str, ...]
    labels: dict[str, str]


@dataclass(frozen=True)
class NotifiedAlert:
    name: str
    severity: str
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class Notification:
    """One webhook call the sink received: the receiver and the alerts it carried."""

    received_at: float
    receiver: str
    status: str
    alerts: tuple[NotifiedAlert, ...]

    def fired(self, alert: str, severity: str | None = None) -> bool:
        return any(
            a.name == alert and a.status == "firing" and severity in (None, a.severity)
            for a in self.alerts
        )


@dataclass(frozen=True)
class Snapshot:
    targets: tuple[Target, ...] = ()
    prom_alerts: tuple[PromAlert, ...] = ()
    am_alerts: tuple[AmAlert, ...] = ()
    notifications: tuple[Notification, ...] = ()
    errors: tuple[str, ...] = field(default=())

    def delivered(self, alert: str, severity: str, receiver: str, since: float = 0.0) -> bool:
        """True once ``receiver`` got a firing notification of ``alert``/``severity``."""
        return any(
            n.receiver == receiver and n.received_at >= since and n.fired(alert, severity)
            for n in self.notifications
        )

    def receivers_of(self, alert: str, severity: str, since: float = 0.0) -> set[str]:
        return {
            n.receiver
            for n in self.notifications
            if n.received_at >= since and n.fired(alert, severity)
        }


def _labels(data: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (data or {}).items()}


def _get(client: httpx.Client, url: str, errors: list[str], what: str) -> Any:
    try:
        response = client.get(url)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        errors.append(f"{what} unreachable at {url}: {exc.__class__.__name__}: {exc}")
        return None


def read_targets(client: httpx.Client, prometheus: str, errors: list[str]) -> tuple[Target, ...]:
    body = _get(client, f"{prometheus}/api/v1/targets?state=active", errors, "prometheus")
    if body is None:
        return ()
    return tuple(
        Target(
            job=str(t["labels"].get("job", "")),
            url=str(t.get("scrapeUrl", "")),
            health=str(t.get("health", "")),
            last_error=str(t.get("lastError", "")),
        )
        for t in body["data"]["activeTargets"]
    )


def read_prom_alerts(
    client: httpx.Client, prometheus: str, errors: list[str]
) -> tuple[PromAlert, ...]:
    body = _get(client, f"{prometheus}/api/v1/alerts", errors, "prometheus")
    if body is None:
        return ()
    return tuple(
        PromAlert(
            name=str(a["labels"].get("alertname", "")),
            severity=str(a["labels"].get("severity", "")),
            state=str(a["state"]),
            active_at=str(a.get("activeAt", "")),
            labels=_labels(a["labels"]),
        )
        for a in body["data"]["alerts"]
    )


def read_am_alerts(
    client: httpx.Client, alertmanager: str, errors: list[str]
) -> tuple[AmAlert, ...]:
    body = _get(client, f"{alertmanager}/api/v2/alerts", errors, "alertmanager")
    if body is None:
        return ()
    return tuple(
        AmAlert(
            name=str(a["labels"].get("alertname", "")),
            severity=str(a["labels"].get("severity", "")),
            state=str(a["status"]["state"]),
            inhibited_by=tuple(a["status"].get("inhibitedBy") or ()),
            receivers=tuple(str(r["name"]) for r in a.get("receivers", ())),
            labels=_labels(a["labels"]),
        )
        for a in body
    )


def read_notifications(
    client: httpx.Client, sink: str, errors: list[str]
) -> tuple[Notification, ...]:
    body = _get(client, f"{sink}/notifications", errors, "sink")
    if body is None:
        return ()
    out = []
    for item in body:
        payload = item["payload"]
        alerts = tuple(
            NotifiedAlert(
                name=str(a["labels"].get("alertname", "")),
                severity=str(a["labels"].get("severity", "")),
                status=str(a.get("status", "")),
                labels=_labels(a["labels"]),
                annotations=_labels(a.get("annotations")),
            )
            for a in payload.get("alerts", ())
        )
        out.append(
            Notification(
                received_at=float(item["received_at"]),
                receiver=str(item["receiver"]),
                status=str(payload.get("status", "")),
                alerts=alerts,
            )
        )
    return tuple(out)


def snapshot(prometheus: str, alertmanager: str, sink: str) -> Snapshot:
    """Everything ``status`` and the progress display show, read once."""
    errors: list[str] = []
    with _client() as client:
        return Snapshot(
            targets=read_targets(client, prometheus, errors),
            prom_alerts=read_prom_alerts(client, prometheus, errors),
            am_alerts=read_am_alerts(client, alertmanager, errors),
            notifications=read_notifications(client, sink, errors),
            errors=tuple(errors),
        )


def post_json(url: str, body: object) -> Any:
    with _client() as client:
        response = client.post(url, json=body)
        if response.status_code >= 400:
            raise ValueError(f"{url}: {response.status_code} {response.text}")
        return response.json()


def delete(url: str) -> None:
    with _client() as client:
        client.delete(url).raise_for_status()

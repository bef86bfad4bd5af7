"""What ``status`` prints, and the progress display shown while waiting for an alert."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TextIO

from infra.local.observe import Snapshot
from infra.local.procs import ProcessRecord


def format_status(
    records: dict[str, ProcessRecord],
    running: dict[str, bool],
    snap: Snapshot,
    scenario: str | None,
    heartbeat: str | None = None,
) -> str:
    lines = ["processes:"]
    for name, r in records.items():
        state = "running" if running.get(name) else "NOT RUNNING"
        lines.append(f"  {name:<13} pid {r.pid:<7} {r.url:<24} {state}   log {r.log}")
    if scenario:
        lines.append(f"scenario: {scenario}")
    if heartbeat:
        lines.append(f"heartbeat (the sink as dead-man's switch): {heartbeat}")
    lines.append("targets:")
    for t in snap.targets:
        error = f"  ({t.last_error})" if t.last_error else ""
        lines.append(f"  {t.job:<20} {t.health:<8} {t.url}{error}")
    lines.append("alerts in prometheus:")
    for a in sorted(snap.prom_alerts, key=lambda a: (a.state, a.name)):
        lines.append(f"  {a.state:<8} {a.name:<30} {a.severity:<9} since {a.active_at[:19]}")
    lines.append("alerts in alertmanager:")
    for m in sorted(snap.am_alerts, key=lambda a: (a.state, a.name)):
        why = " (inhibited by a critical alert)" if m.inhibited_by else ""
        lines.append(
            f"  {m.state:<10} {m.name:<30} {m.severity:<9} -> {', '.join(m.receivers)}{why}"
        )
    lines.append("notifications received by the sink (receiver <- alert):")
    for n in snap.notifications[-20:]:
        when = datetime.fromtimestamp(n.received_at).strftime("%H:%M:%S")
        alerts = ", ".join(f"{a.name}/{a.severity} [{a.status}]" for a in n.alerts)
        lines.append(f"  {when} {n.receiver:<18} <- {alerts}")
    if len(snap.notifications) > 20:
        lines.append(f"  ... {len(snap.notifications) - 20} earlier ones in notifications.jsonl")
    for error in snap.errors:
        lines.append(f"error: {error}")
    return "\n".join(lines)


class Progress:
    """Prints one line per change (pending, firing, inhibited, notified) and, on a terminal,
    keeps a live summary line below them, so waiting is never silent."""

    def __init__(self, out: TextIO = sys.stdout, since: float | None = None) -> None:
        self.out = out
        self.start = time.time() if since is None else since
        self.seen: set[tuple[str, ...]] = set()
        self.tty = out.isatty()
        self.last_heartbeat = 0.0

    def _event(self, key: tuple[str, ...], text: str) -> None:
        if key in self.seen:
            return
        self.seen.add(key)
        if self.tty:
            self.out.write("\r\x1b[K")
        self.out.write(f"  +{time.time() - self.start:5.1f}s  {text}\n")

    def __call__(self, snap: Snapshot) -> None:
        for a in snap.prom_alerts:
            if a.state == "pending":
                self._event(
                    ("pending", a.name, a.severity),
                    f"PENDING   {a.name} ({a.severity}): condition true, waiting out its `for`",
                )
            elif a.state == "firing":
                self._event(
                    ("firing", a.name, a.severity),
                    f"FIRING    {a.name} ({a.severity}) in Prometheus, sent to Alertmanager",
                )
        for m in snap.am_alerts:
            if m.inhibited_by:
                self._event(
                    ("inhibited", m.name, m.severity),
                    f"INHIBITED {m.name} ({m.severity}) in Alertmanager: a critical alert of "
                    "the same service and environment fires",
                )
        for n in snap.notifications:
            if n.received_at < self.start:
                continue
            for na in n.alerts:
                self._event(
                    ("notified", n.receiver, na.name, na.severity, na.status),
                    f"NOTIFIED  {n.receiver} <- {na.name} ({na.severity}) [{na.status}]",
                )
        for error in snap.errors:
            self._event(("error", error), f"WAITING   {error}")
        self._summary(snap)
        self.out.flush()

    def _summary(self, snap: Snapshot) -> None:
        pending = sorted({a.name for a in snap.prom_alerts if a.state == "pending"})
        firing = sorted({a.name for a in snap.prom_alerts if a.state == "firing"})
        elapsed = time.time() - self.start
        text = (
            f"  +{elapsed:5.1f}s  waiting... pending: {', '.join(pending) or '-'} | "
            f"firing: {', '.join(firing) or '-'} | notifications: {len(snap.notifications)}"
        )
        if self.tty:
            self.out.write("\r\x1b[K" + text)
        elif elapsed - self.last_heartbeat >= 5:  # logs (CI) get a line every 5s instead
            self.last_heartbeat = elapsed
            self.out.write(text + "\n")

    def done(self) -> None:
        if self.tty:
            self.out.write("\r\x1b[K")
            self.out.flush()

"""UptimeRobot monitor settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.types import (
    HttpUrl,
    PositiveDuration,
    SecretRef,
    Severity,
    Strict,
    duration_between,
    parse_duration,
    shown,
)


class MaintenanceWindow(Strict):
    """A window in which UptimeRobot sends no alerts (deploys, planned database work).

    ``date`` is the first day (UptimeRobot v3 requires it for every interval); ``days`` are
    weekdays 1-7 (Monday = 1) for ``weekly`` windows, days of the month for ``monthly`` ones.
    """

    name: Annotated[str, Field(min_length=3, max_length=100)]
    interval: Literal["once", "daily", "weekly", "monthly"]
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")]
    duration_minutes: Annotated[int, Field(gt=0, le=1440)]
    days: Annotated[tuple[Annotated[int, Field(ge=1, le=31)], ...], Field(max_length=31)] = ()

    @model_validator(mode="after")
    def _schedule(self) -> MaintenanceWindow:
        name = shown(self.name)
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"maintenance window {name} lists a day twice; list each day once")
        if self.date is None:
            raise ValueError(
                f"maintenance window {name} needs date: 'YYYY-MM-DD' (its first day; "
                "UptimeRobot requires it even for recurring windows)"
            )
        if self.interval in ("weekly", "monthly") and not self.days:
            raise ValueError(
                f"{self.interval} maintenance window {name} needs days, such as [1, 4]"
            )
        if self.interval == "weekly" and any(d > 7 for d in self.days):
            raise ValueError(f"weekly window {name}: days are weekdays 1-7 (Monday = 1)")
        if self.interval in ("once", "daily") and self.days:
            raise ValueError(f"{self.interval} window {name} takes no days; remove them")
        return self


class UptimeCheck(Strict):
    enabled: bool = True
    severity: Severity
    expected_status: Annotated[
        tuple[Annotated[int, Field(ge=100, le=599)], ...], Field(max_length=20)
    ] = (200,)


class HeartbeatConfig(Strict):
    """The dead-man's switch: an UptimeRobot heartbeat monitor pinged on every repeat of the
    always-firing ``Watchdog`` alert. When no ping came for ``interval + grace_period``,
    UptimeRobot alerts the critical contacts (production) or the warning ones (elsewhere).

    Heartbeat monitors need a paid (PRO) UptimeRobot plan: on a FREE account set
    ``enabled: false``. ``interval`` is also the bound of the Watchdog route's
    ``repeat_interval`` (see :meth:`watchdog_repeat_interval`).
    """

    enabled: bool = True
    # UptimeRobot: interval at least 30 s; gracePeriod 0-86400 s.
    interval: Annotated[PositiveDuration, duration_between("1m", "1d")] = "5m"
    grace_period: Annotated[PositiveDuration, duration_between("1s", "1d")] = "5m"

    @property
    def interval_seconds(self) -> int:
        return parse_duration(self.interval)

    @property
    def grace_seconds(self) -> int:
        return parse_duration(self.grace_period)

    def watchdog_repeat_interval(self, group_interval: str) -> str:
        """How often Alertmanager / Grafana re-send the Watchdog (each send is one ping).

        Half the heartbeat interval, so one missed evaluation round or one lost ping is still
        inside ``interval + grace_period``; never below ``group_interval``, the shortest
        repeat either tool honours (a repeat is only sent on a group flush)."""
        seconds = max(self.interval_seconds // 2, parse_duration(group_interval))
        return f"{seconds}s"


class UptimeRobotConfig(Strict):
    """UptimeRobot monitors for ``/health`` and ``/ready`` of every service.

    ``consecutive_failures`` becomes UptimeRobot's per-contact ``threshold`` (minutes a monitor
    stays down before its contacts hear of it): ``(consecutive_failures - 1) * interval``, so
    with 5m checks and 2 failures the alert goes out at the second failed check, 5 minutes
    after the first. ``alert_contacts`` maps a severity to UptimeRobot alert-contact ids
    (strings of digits, leading zeros allowed). ``repeat_every`` re-notifies while a monitor
    stays down (UptimeRobot ``recurrence``; paid plans); unset means notify once.
    """

    enabled: bool = True
    api_url: HttpUrl = "https://api.uptimerobot.com/v3"
    api_key: SecretRef = SecretRef(secret="uptimerobotApiKey")
    # UptimeRobot checks at most every 30 s (paid plans) and at least once a day.
    interval: Annotated[
        PositiveDuration, duration_between("1s", "1d", "; UptimeRobot's longest")
    ] = "5m"
    timeout: Annotated[PositiveDuration, duration_between("1s", "1d")] = "30s"
    consecutive_failures: Annotated[int, Field(ge=1, le=10)] = 2
    health: UptimeCheck = UptimeCheck(severity=Severity.critical)
    ready: UptimeCheck = UptimeCheck(severity=Severity.warning)
    alert_contacts: dict[
        Severity,
        Annotated[tuple[Annotated[str, Field(pattern=r"^\d{1,20}$")], ...], Field(max_length=20)],
    ] = Field(default_factory=dict)
    maintenance_windows: Annotated[tuple[MaintenanceWindow, ...], Field(max_length=20)] = ()
    repeat_every: Annotated[PositiveDuration, duration_between("1m", "1d")] | None = None
    heartbeat: HeartbeatConfig = HeartbeatConfig()

    @field_validator("interval")
    @classmethod
    def _min_interval(cls, value: str) -> str:
        if parse_duration(value) < 30:
            raise ValueError(f"{value!r} is below UptimeRobot's 30s minimum interval")
        return value

    @field_validator("timeout")
    @classmethod
    def _max_timeout(cls, value: str) -> str:
        if parse_duration(value) > 60:
            raise ValueError(f"{value!r} is above UptimeRobot's 60s maximum timeout")
        return value

    @field_validator("repeat_every")
    @classmethod
    def _whole_minutes(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) % 60:
            raise ValueError(f"{value!r} is not whole minutes; UptimeRobot repeats per minute")
        return value

    @model_validator(mode="after")
    def _unique_windows(self) -> UptimeRobotConfig:
        names = [w.name for w in self.maintenance_windows]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"maintenance window names must be unique; {dupes} repeat")
        return self

    @property
    def alert_threshold_minutes(self) -> int:
        """Minutes down before contacts are notified (see ``consecutive_failures``)."""
        return (self.consecutive_failures - 1) * parse_duration(self.interval) // 60

    @property
    def recurrence_minutes(self) -> int:
        return parse_duration(self.repeat_every) // 60 if self.repeat_every else 0

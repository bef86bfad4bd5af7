"""UptimeRobot monitor settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from infra.config.types import Duration, HttpUrl, SecretRef, Severity, Strict, parse_duration


class MaintenanceWindow(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    interval: Literal["once", "daily", "weekly", "monthly"]
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")]
    duration_minutes: Annotated[int, Field(gt=0, le=1440)]
    days: tuple[Annotated[int, Field(ge=1, le=31)], ...] = ()


class UptimeCheck(Strict):
    enabled: bool = True
    severity: Severity
    expected_status: tuple[Annotated[int, Field(ge=100, le=599)], ...] = (200,)


class UptimeRobotConfig(Strict):
    """UptimeRobot monitors for ``/health`` and ``/ready`` of every service."""

    enabled: bool = True
    api_url: HttpUrl = "https://api.uptimerobot.com/v3"
    api_key: SecretRef = SecretRef(secret="uptimerobotApiKey")
    interval: Duration = "5m"
    timeout: Duration = "30s"
    consecutive_failures: Annotated[int, Field(ge=1, le=10)] = 2
    health: UptimeCheck = UptimeCheck(severity=Severity.critical)
    ready: UptimeCheck = UptimeCheck(severity=Severity.warning)
    alert_contacts: dict[Severity, tuple[Annotated[str, Field(pattern=r"^\d+$")], ...]] = Field(
        default_factory=dict
    )
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()

    @field_validator("interval")
    @classmethod
    def _min_interval(cls, value: str) -> str:
        if parse_duration(value) < 30:
            raise ValueError(f"{value!r} is below UptimeRobot's 30s minimum interval")
        return value

"""Primitive config types: durations, ratios, names, URLs, secret references."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# --------------------------------------------------------------------------- primitives

_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_UNITS = (86400, 3600, 60, 1)


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus-style duration such as ``5m``, ``1h30m`` or ``3d``."""
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(
            f"{text!r} is not a duration; write a positive Prometheus duration such as "
            "'30s', '5m', '1h30m' or '3d'"
        )
    return sum(int(g) * unit for g, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if g)


def format_duration(seconds: int) -> str:
    """The shortest Prometheus duration for ``seconds`` (``90`` → ``1m30s``)."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit, suffix in zip(_DURATION_UNITS, "dhms", strict=True):
        count, seconds = divmod(seconds, unit)
        if count:
            parts.append(f"{count}{suffix}")
    return "".join(parts)


def _check_duration(value: str) -> str:
    if not isinstance(value, str):  # strict: 300 is ambiguous (seconds? minutes?)
        raise ValueError("write the duration as a string with a unit, such as '5m'")
    if value.startswith("-"):
        raise ValueError(f"{value!r} is negative; durations must be positive, such as '5m'")
    if parse_duration(value) <= 0:
        raise ValueError(f"{value!r} is zero; durations must be positive, such as '5m'")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]
"""A positive Prometheus duration string (``5m``)."""


def _check_ratio(value: float) -> float:
    if not 0 < value < 1:
        hint = f"; write {value / 100:g} for {value:g}%" if 1 <= value <= 100 else ""
        raise ValueError(f"must be a ratio between 0 and 1 (got {value:g}){hint}")
    return value


Ratio = Annotated[float, AfterValidator(_check_ratio)]
"""A fraction in (0, 1): ``0.01`` means 1%."""

PositiveFloat = Annotated[float, Field(gt=0)]

_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Values that become Prometheus label values, Grafana uids and resource names. Kept to a
# conservative alphabet: they appear in PromQL, YAML, file names and URLs.
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_SECRET_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*$")


def _check_metric(value: str) -> str:
    if not _METRIC_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Prometheus metric name; use letters, digits, '_' and ':' "
            "and do not start with a digit"
        )
    return value


def _check_label_name(value: str) -> str:
    if not _LABEL_NAME_RE.fullmatch(value) or value.startswith("__"):
        raise ValueError(
            f"{value!r} is not a Prometheus label name; use letters, digits and '_', "
            "not starting with a digit or '__'"
        )
    return value


def _check_slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not allowed here; use 1-40 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


MetricName = Annotated[str, AfterValidator(_check_metric)]
LabelName = Annotated[str, AfterValidator(_check_label_name)]
Slug = Annotated[str, AfterValidator(_check_slug)]


def _check_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s\"'<>\\`{}|^]+", value):
        raise ValueError(
            f"{value!r} is not an http(s) URL; write it as https://host/path with no spaces, "
            "quotes or braces"
        )
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_check_url)]


def _check_path(value: str) -> str:
    if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", value):
        raise ValueError(f"{value!r} is not a URL path; write it as /health")
    return value


UrlPath = Annotated[str, AfterValidator(_check_path)]


class Strict(BaseModel):
    """Base for every config model: unknown keys and silent coercions are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Severity(StrEnum):
    critical = "critical"
    warning = "warning"
    info = "info"


# --------------------------------------------------------------------------- secrets


class SecretRef(Strict):
    """A reference to a secret, never the secret itself.

    In Pulumi it is the secret config key ``monitoring:<secret>`` (set with
    ``pulumi config set --secret <secret> …``); outside Pulumi it is the environment variable
    named by :attr:`env_var`, and for Alertmanager the file ``<secrets_dir>/<secret>``.
    """

    secret: Annotated[str, Field(min_length=2, max_length=64)]

    @field_validator("secret")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SECRET_NAME_RE.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a secret name; use a camelCase config key such as "
                "'slackWebhookUrl' (the value itself goes in with pulumi config set --secret)"
            )
        return value

    @property
    def env_var(self) -> str:
        """``slackWebhookUrl`` → ``SLACK_WEBHOOK_URL``."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.secret).upper()


def _reject_inline_secret(value: object, what: str) -> object:
    if isinstance(value, str):
        raise ValueError(
            f"{what} must be a secret reference, not an inline value; write "
            "{secret: someName} and set it with: pulumi config set --secret someName <value>"
        )
    return value

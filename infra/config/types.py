"""Primitive config types: durations, ratios, names, URLs, secret references."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

# --------------------------------------------------------------------------- echoing input

SHOWN_CHARS = 40
"""How much of a value an error message repeats: enough to recognise it, never a whole file."""


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long the whole value was."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}…{size}"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (for text that is ours, not the user's value)."""
    return text if len(text) <= limit else f"{text[:limit]}…"


# --------------------------------------------------------------------------- primitives

# Six digits per unit: no meaningful duration needs more, and it keeps int() bounded.
_DURATION_RE = re.compile(r"^(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?$")
_DURATION_UNITS = (86400, 3600, 60, 1)


@functools.lru_cache(maxsize=1024)  # validators ask again and again for the same few
def parse_duration(text: str) -> int:
    """Seconds in a Prometheus-style duration such as ``5m``, ``1h30m`` or ``3d``."""
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None or not any(match.groups()):
        raise ValueError(
            f"{shown(text)} is not a duration; write a positive Prometheus duration such as "
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
        raise ValueError(f"{shown(value)} is negative; durations must be positive, such as '5m'")
    if parse_duration(value) <= 0:
        raise ValueError(f"{shown(value)} is zero; durations must be positive, such as '5m'")
    return value


def duration_between(low: str, high: str, why: str = "") -> AfterValidator:
    """A validator bounding a :data:`Duration` to ``[low, high]``; ``why`` justifies the bound
    in the message (``"; …"``)."""
    lo, hi = parse_duration(low), parse_duration(high)

    def check(value: str) -> str:
        seconds = parse_duration(value)
        if seconds > hi:
            raise ValueError(f"{shown(value)} is longer than {high}, the most allowed here{why}")
        if seconds < lo:
            raise ValueError(f"{shown(value)} is shorter than {low}, the least allowed here{why}")
        return value

    return AfterValidator(check)


PositiveDuration = Annotated[str, AfterValidator(_check_duration)]
"""A positive Prometheus duration string (``5m``); bound it with :func:`duration_between`."""

Duration = Annotated[PositiveDuration, duration_between("1s", "90d", "; 90d is a quarter")]
"""A positive Prometheus duration string (``5m``), at most 90 days."""

ForDuration = Annotated[
    PositiveDuration,
    duration_between(
        "1s",
        "1d",
        "; a condition that must hold for more than a day is a report, not an alert "
        "(and Prometheus forgets pending alerts on restart)",
    ),
]
"""An alert's ``for``: at most one day."""


def _check_whole_minutes(value: str) -> str:
    if parse_duration(value) % 60:
        raise ValueError(
            f"{shown(value)} is not a whole number of minutes; write it in minutes, hours or "
            "days, such as '5m' or '1h'"
        )
    return value


WindowDuration = Annotated[PositiveDuration, AfterValidator(_check_whole_minutes)]
"""A range-vector window (``[5m]``) in whole minutes; bound it with :func:`duration_between`."""

MIN_RATIO = 1e-6
"""The smallest ratio a threshold or budget may be: one in a million. Below it no
per-minute rate over this service's traffic can tell the difference from zero."""


def _check_ratio(value: float) -> float:
    if not 0 < value < 1:
        hint = f"; write {value / 100:g} for {value:g}%" if 1 <= value <= 100 else ""
        raise ValueError(f"must be a ratio between 0 and 1 (got {value:g}){hint}")
    if not MIN_RATIO <= value <= 1 - MIN_RATIO:
        raise ValueError(
            f"must be a ratio between 0.000001 and 0.999999, one in a million (got {value:g})"
        )
    return value


Ratio = Annotated[float, AfterValidator(_check_ratio)]
"""A fraction in [1e-6, 1 - 1e-6]: ``0.01`` means 1%."""

MIN_SECONDS, MAX_SECONDS = 0.001, 300.0


def _check_seconds(value: float) -> float:
    if not MIN_SECONDS <= value <= MAX_SECONDS:
        raise ValueError(
            f"must be between 0.001 (1 ms) and 300 (5 minutes) seconds (got {value:g}); "
            "write 0.2 for 200 ms"
        )
    return value


Seconds = Annotated[float, AfterValidator(_check_seconds)]
"""A request latency in seconds, from 1 ms to 5 minutes (``0.2`` means 200 ms)."""


def format_le(seconds: float) -> str:
    """A histogram bucket bound as Prometheus clients write the ``le`` label: the shortest
    decimal that reads back as the same float, as Go's ``strconv.FormatFloat(v, 'g', -1, 64)``
    writes it (``0.1234567`` stays ``0.1234567``, ``0.2`` is ``0.2``, ``1.0`` is ``1``).
    Go and Python agree on plain notation for every :data:`Seconds` value (1e-3 to 300)."""
    return repr(float(seconds)).removesuffix(".0")


_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")
# Values that become Prometheus label values, Grafana uids and resource names. Kept to a
# conservative alphabet: they appear in PromQL, YAML, file names and URLs.
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
# One pattern for every secret name: a camelCase Pulumi config key (2-48 letters and digits,
# starting with a lowercase letter) with at most three digits. Keys, tokens and webhook URLs
# fail it (they hold '-', '_', ':', '/' or many digits), so a value pasted where its name
# belongs is rejected, and never echoed.
_SECRET_NAME_RE = re.compile(r"^(?!(?:[^0-9]*[0-9]){4})[a-z][A-Za-z0-9]{1,47}$")


def _check_metric(value: str) -> str:
    if not _METRIC_RE.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a Prometheus metric name; use up to 200 letters, digits, "
            "'_' and ':' and do not start with a digit"
        )
    return value


def _check_label_name(value: str) -> str:
    if not _LABEL_NAME_RE.fullmatch(value) or value.startswith("__"):
        raise ValueError(
            f"{shown(value)} is not a Prometheus label name; use up to 100 letters, digits "
            "and '_', not starting with a digit or '__'"
        )
    return value


def _check_slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not allowed here; use 1-40 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


MetricName = Annotated[str, AfterValidator(_check_metric)]
LabelName = Annotated[str, AfterValidator(_check_label_name)]
Slug = Annotated[str, AfterValidator(_check_slug)]


def _check_url(value: str) -> str:
    if len(value) > 2000 or not re.fullmatch(r"https?://[^\s\"'<>\\`{}|^]+", value):
        raise ValueError(
            f"{shown(value)} is not an http(s) URL; write it as https://host/path with no "
            "spaces, quotes or braces, at most 2000 characters"
        )
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_check_url)]


def _check_path(value: str) -> str:
    if len(value) > 200 or not re.fullmatch(r"/[A-Za-z0-9._~/-]*", value):
        raise ValueError(f"{shown(value)} is not a URL path; write it as /health")
    return value


UrlPath = Annotated[str, AfterValidator(_check_path)]


def reject_template(value: str, what: str) -> str:
    """Refuse Go template syntax in a field Alertmanager or Grafana expands when it sends a
    notification: a ``{{`` that passes ``validate`` would only fail at 3 a.m."""
    if "{{" in value or "}}" in value:
        raise ValueError(
            f"{what} {shown(value)} contains template syntax ('{{{{' or '}}}}'), which "
            "Alertmanager would expand when it sends a notification; write the value literally"
        )
    return value


class Strict(BaseModel):
    """Base for every config model: unknown keys and silent coercions are errors."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False
    )


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

    secret: str

    @field_validator("secret")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SECRET_NAME_RE.fullmatch(value):  # its length included
            # Never repeat the value: it may be the secret itself (a webhook URL, a key).
            raise ValueError(
                "is not a secret name (the value is not shown: it may be the secret itself); "
                "write the name of a Pulumi secret, a camelCase key of 2-48 letters and at "
                "most 3 digits such as 'slackWebhookUrl', and set the value with: "
                "pulumi config set --secret slackWebhookUrl <value>"
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

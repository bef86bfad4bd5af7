"""How much of the monthly Sentry error quota is used (seed: "Sentry quota: alert at 80%").

Sentry's quota notifications (the 80%/100% spend e-mails) are not in its public API, so they
cannot be declared as code; they are set by hand in Sentry (README, "Cost alerts"). What the
API does offer is usage: ``listOrganizationStatsV2`` returns accepted error events for a
period. :func:`error_quota_usage` reads it and compares it with
``costs.sentry_monthly_error_quota`` times ``sentry.quota_alert_ratio``; ``main`` makes that a CI
check (exit 1 at or above the ratio), e.g. a daily scheduled job.

The period is the calendar month in UTC; if the Sentry billing period starts on another day,
pass ``period_start``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from infra.providers.http import ApiError, RetryPolicy, redact, request

TOKEN_ENV = "SENTRY_AUTH_TOKEN"
API_URL_ENV = "SENTRY_API_URL"


@dataclass(frozen=True)
class QuotaUsage:
    """Accepted error events in the period against the quota and the alert ratio."""

    accepted: int
    quota: int
    alert_ratio: float
    period_start: datetime

    @property
    def ratio(self) -> float:
        return self.accepted / self.quota

    @property
    def over_alert_ratio(self) -> bool:
        return self.ratio >= self.alert_ratio

    def summary(self) -> str:
        state = "ALERT" if self.over_alert_ratio else "ok"
        return (
            f"Sentry errors since {self.period_start:%Y-%m-%d}: {self.accepted} of "
            f"{self.quota} ({self.ratio:.1%}); alert at {self.alert_ratio:.0%}: {state}"
        )


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def accepted_errors(stats: Mapping[str, Any]) -> int:
    """Sum of ``sum(quantity)`` over the ``accepted`` outcome groups of a stats_v2 answer."""
    total = 0
    for group in stats.get("groups") or []:
        if (group.get("by") or {}).get("outcome") == "accepted":
            total += int((group.get("totals") or {}).get("sum(quantity)") or 0)
    return total


def error_quota_usage(
    *,
    api_url: str,
    token: str,
    organization: str,
    quota: int,
    alert_ratio: float,
    now: datetime | None = None,
    period_start: datetime | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> QuotaUsage:
    """Read accepted error events since ``period_start`` (default: start of this month)."""
    end = now or datetime.now(UTC)
    start = period_start or month_start(end)
    policy = policy or RetryPolicy()
    params = {
        "field": "sum(quantity)",
        "groupBy": "outcome",
        "category": "error",
        "interval": "1d",
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
    }
    base = (os.environ.get(API_URL_ENV) or api_url).rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base + "/", headers=headers, timeout=policy.timeout) as client:
            # listOrganizationStatsV2: GET /organizations/{org}/stats_v2/
            response = request(
                client,
                "GET",
                f"organizations/{quote(organization, safe='')}/stats_v2/",
                policy=policy,
                sleep=sleep,
                params=params,
            )
    except ApiError as exc:
        detail = redact(exc.vendor_message or str(exc), token)
        raise RuntimeError(f"Sentry stats_v2 failed (HTTP {exc.status}): {detail}") from None
    except httpx.HTTPError as exc:
        raise RuntimeError(f"Sentry stats_v2 failed: {redact(str(exc), token)}") from None
    return QuotaUsage(accepted_errors(response.json()), quota, alert_ratio, start)


def main(argv: list[str] | None = None) -> int:
    """``python -m infra.providers.sentry_quota --stack production``: 0 below the ratio, 1 at
    or above it, 2 when the check could not run."""
    from infra.config import ConfigError, load_stack

    parser = argparse.ArgumentParser(description="Sentry error quota usage check")
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"set {TOKEN_ENV} to a Sentry token with org:read", file=sys.stderr)
        return 2
    try:
        cfg = load_stack(args.stack)
        usage = error_quota_usage(
            api_url=cfg.sentry.api_url,
            token=token,
            organization=cfg.sentry.organization,
            quota=cfg.costs.sentry_monthly_error_quota,
            alert_ratio=cfg.sentry.quota_alert_ratio,
        )
    except (ConfigError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(usage.summary())
    return 1 if usage.over_alert_ratio else 0


if __name__ == "__main__":
    sys.exit(main())

"""One retrying HTTP call for the dynamic providers (UptimeRobot, Sentry), built on httpx.

Why it looks the way it does:

- SaaS APIs answer 429 when a plan's rate limit is spent (UptimeRobot FREE: 10 requests a
  minute) and sometimes 5xx or nothing at all; a ``pulumi up`` should ride that out instead of
  failing half-way. So 429, 5xx, timeouts and connection errors are retried with bounded
  exponential backoff and full jitter, and the server's own hint wins when it gives one:
  ``Retry-After`` (seconds or an HTTP date), else ``X-RateLimit-Reset`` (UptimeRobot) or
  ``X-Sentry-Rate-Limit-Reset`` (Sentry), both epoch seconds.
- A retried POST can create twice (the first one may have been stored before the connection
  dropped, or may be stored after the client gave up). So a POST whose connection broke or
  timed out after it was sent is not retried here: it raises :class:`ApiError` with
  ``status=None`` and ``sent=True`` at once, and the caller looks for the object instead of
  posting again (``infra/providers/rest.py``). A POST answered with 429/5xx, or one that
  never reached the server, is retried like any other call.
- Errors carry the vendor's own message, and never the credentials: the ``Authorization``
  value of the client and of the request is redacted from every message, in every encoding
  a server may echo it back in (:func:`redact`). Messages name the method and the path only,
  never the query or the body.
"""

from __future__ import annotations

import html
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from infra.providers.engine_values import restore_integers

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
NON_IDEMPOTENT = frozenset({"POST"})
# Failures that happen before the request left: retrying them cannot do anything twice.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
RESET_HEADERS = ("X-RateLimit-Reset", "X-Sentry-Rate-Limit-Reset")
REMAINING_HEADERS = ("X-RateLimit-Remaining", "X-Sentry-Rate-Limit-Remaining")
MESSAGE_LIMIT = 500
"""Vendor messages longer than this are cut: an HTML error page is not a message."""

# Reset headers are epoch seconds; anything smaller is read as a delay in seconds, which some
# gateways send instead.
_EPOCH_FLOOR = 1_000_000_000


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call is retried."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential delay before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempt - 1, 0))
        return random.uniform(0, ceiling)  # jitter, not cryptography


DEFAULT_POLICY = RetryPolicy()


class ApiError(Exception):
    """A call that failed for good: a non-retryable answer, or retries exhausted.

    ``status`` is the last HTTP status (``None`` when no answer came back), ``vendor_message``
    the API's own error text (credentials redacted), ``retry_after`` the server's delay hint
    in seconds when the last answer carried one.
    """

    def __init__(
        self,
        summary: str,
        *,
        status: int | None,
        vendor_message: str,
        retry_after: float | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(summary)
        self.status = status
        self.vendor_message = vendor_message
        self.retry_after = retry_after
        self.sent = sent
        """False only when the request provably never reached the server."""


def secret_forms(secret: str) -> set[str]:
    """Every spelling in which a server may echo ``secret`` back: as is, percent-encoded (all
    reserved characters, or keeping ``/``; upper- or lower-case hex), form-encoded (space as
    ``+``), JSON-escaped, HTML-escaped."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        quote_plus(secret, safe="/"),
        json.dumps(secret)[1:-1],
        html.escape(secret),
    }
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms}
    return {f for f in forms if f}


def redact(text: str, *secrets: str) -> str:
    """``text`` with every secret, in every form of :func:`secret_forms`, replaced by ``***``."""
    forms = {form for secret in secrets if secret for form in secret_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _auth_secrets(client: httpx.Client, headers: Any) -> list[str]:
    """The credential values a message must never show: header value and the bare token."""
    values = [client.headers.get("Authorization", "")]
    if isinstance(headers, Mapping):
        values += [str(v) for k, v in headers.items() if str(k).lower() == "authorization"]
    found: list[str] = []
    for value in values:
        if value:
            found.append(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.lower() in {"bearer", "basic", "token"}:
                found.append(token.strip())
    return found


def vendor_message(response: httpx.Response) -> str:
    """The API's own error text: JSON ``message``/``detail``/``error``, else the page's text."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    text = _message_from_json(body) if body is not None else None
    if text is None:
        # Some gateways answer 429/5xx with an HTML page: keep its words, drop the markup.
        raw = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    text = " ".join(text.split()) or response.reason_phrase or f"HTTP {response.status_code}"
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _message_from_json(body: Any) -> str | None:
    if isinstance(body, str):
        return body
    if not isinstance(body, Mapping):
        return None
    for key in ("message", "detail", "error_description", "error", "errors"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value:
            return "; ".join(_message_from_json(v) or json.dumps(v) for v in value)
        if isinstance(value, Mapping):
            nested = _message_from_json(value)
            if nested:
                return nested
    return json.dumps(body)[:MESSAGE_LIMIT] if body else None


def server_delay(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``Retry-After`` or a rate-limit reset header."""
    now = time.time() if now is None else now
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        value = retry_after.strip()
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    # Reset headers come with every answer; they only say "wait" when the limit is spent.
    spent = response.status_code == 429 or any(
        response.headers.get(name) == "0" for name in REMAINING_HEADERS
    )
    for name in RESET_HEADERS if spent else ():
        reset = response.headers.get(name)
        if reset and re.fullmatch(r"\d+(\.\d+)?", reset.strip()):
            number = float(reset)
            return max(0.0, number - now) if number >= _EPOCH_FLOOR else number
    return None


def retry_delay(policy: RetryPolicy, attempt: int, hint: float | None) -> float:
    """The pause before retry ``attempt``: the server's hint (plus a little jitter so that
    parallel resources do not all return at the same instant) or jittered backoff, never
    more than ``policy.max_delay``."""
    if hint is not None:
        jitter = random.uniform(0, min(1.0, policy.base_delay))  # not crypto
        return min(policy.max_delay, hint + jitter)
    return policy.backoff(attempt)


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying 429/5xx/timeouts/connection errors; return a 2xx/3xx answer.

    Raises :class:`ApiError` on a non-retryable 4xx at once, or when ``policy.max_attempts``
    are spent. ``kwargs`` go to :meth:`httpx.Client.request`.
    """
    secrets = _auth_secrets(client, kwargs.get("headers"))
    if "json" in kwargs:
        # Every number came through the engine as a double; APIs want their integers back.
        kwargs["json"] = restore_integers(kwargs["json"])
    what = f"{method.upper()} {httpx.URL(url).path or url}"
    attempts = max(1, policy.max_attempts)
    for attempt in range(1, attempts + 1):
        hint: float | None = None
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:  # timeouts, resets, refused connections
            sent = not isinstance(exc, NOT_SENT)
            if attempt == attempts or (sent and method.upper() in NON_IDEMPOTENT):
                detail = redact(f"{type(exc).__name__}: {exc}".rstrip(": "), *secrets)
                raise ApiError(
                    f"{what}: no answer after {attempt} attempt(s) ({detail})",
                    status=None,
                    vendor_message=detail,
                    sent=sent,
                ) from None
        else:
            if response.status_code < 400:
                return response
            message = redact(vendor_message(response), *secrets)
            hint = server_delay(response)
            if response.status_code not in RETRYABLE_STATUS or attempt == attempts:
                tried = f" after {attempt} attempts" if attempt > 1 else ""
                raise ApiError(
                    f"{what} failed with HTTP {response.status_code}{tried}: {message}",
                    status=response.status_code,
                    vendor_message=message,
                    retry_after=hint,
                )
        sleep(retry_delay(policy, attempt, hint))
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def bearer_client(api_url: str, token: str, policy: RetryPolicy) -> httpx.Client:
    """A JSON client for an API with bearer-token auth (UptimeRobot v3, Sentry). Created in
    each provider method: an httpx client cannot be pickled with a dynamic provider."""
    return httpx.Client(
        base_url=api_url + "/",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=policy.timeout,
    )

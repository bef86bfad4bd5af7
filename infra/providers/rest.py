"""What the UptimeRobot and Sentry dynamic providers share: calls, replies, errors, creates.

Both providers speak a JSON REST API with a bearer credential through
:func:`infra.providers.http.request` (retries, rate limits, redaction). On top of it, this
module holds the rest of their plumbing, so that a fix lands once:

- **Replies are checked before they are read.** :meth:`RestProvider.call` parses the body
  (a truncated or HTML 200 is a :class:`ReplyError`, not a ``JSONDecodeError``), and
  :func:`expect` validates it against a typed model of the fields the provider reads (a ``[]``
  where an object is due, a 201 without ``id``, ``{"data": null}``: a :class:`ReplyError`,
  not a ``KeyError``). :meth:`RestProvider.errors` turns every failure into one provider error
  naming the vendor, the operation and what was wrong, with the credential redacted.
- **Creates never duplicate.** :meth:`RestProvider.create` first adopts an object that is
  already there (a half-finished earlier run), then posts once. When the POST was sent but no
  answer came (a timeout, a reset), the object may have been stored, or may be stored later
  (the vendor finishes a request the client gave up on): posting again could make two. So it
  does not post again; it looks for the object for up to ``settle`` seconds (reads can also lag
  writes) and adopts it; if it is still not there, it fails with an error that says the next
  ``pulumi up`` adopts whatever was stored. A 429 or 5xx *answer* says the request was handled
  and not stored, so that POST is retried (after looking once more).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

import httpx
from pulumi.dynamic import ResourceProvider
from pydantic import BaseModel, ConfigDict, ValidationError

from infra.providers.http import ApiError, RetryPolicy, bearer_client, redact, request, retry_delay

Sleep = Callable[[float], None]
SETTLE_S = 30.0
"""How long a create whose answer was lost looks for the object before it gives up."""

M = TypeVar("M", bound=BaseModel)


class ProviderError(Exception):
    """A vendor call failed for good. One line: vendor, operation, cause, never a credential."""


class ReplyError(Exception):
    """A reply the provider cannot read: not JSON, or not the shape the operation returns."""


class Reply(BaseModel):
    """Base of the typed reply models: the fields a provider reads, any others allowed."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def expect(model: type[M], value: Any, what: str) -> M:
    """``value`` validated as ``model`` (the reply of the operation named by ``what``)."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the body"
        got = type(value).__name__ if not first["loc"] else "a wrong value"
        raise ReplyError(f"the reply is not {what} ({where}: {first['msg']}; got {got})") from None


@dataclass(frozen=True)
class Connection:
    """Where and with which credential to call (built in each method: nothing is pickled)."""

    api_url: str
    secret: str

    def client(self, policy: RetryPolicy) -> httpx.Client:
        return bearer_client(self.api_url, self.secret, policy)


class RestProvider(ResourceProvider):
    """Calls, errors and safe creates for a dynamic provider of one vendor's REST API."""

    vendor: ClassVar[str] = "API"
    error: ClassVar[type[ProviderError]] = ProviderError

    def __init__(
        self, policy: RetryPolicy | None = None, sleep: Sleep = time.sleep, settle: float = SETTLE_S
    ) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.settle = settle

    # --- calls -----------------------------------------------------------------------

    def send(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return request(client, method, path, policy=self.policy, sleep=self.sleep, **kwargs)

    def call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
        """Send with retries; the parsed JSON body (``None`` when there is none)."""
        return parse(self.send(client, method, path, **kwargs))

    def get_or_none(self, client: httpx.Client, path: str) -> Any:
        """The object at ``path``, or ``None`` when the vendor says it does not exist."""
        try:
            return self.call(client, "GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def change(
        self, client: httpx.Client, method: str, path: str, body: Mapping[str, Any], what: str
    ) -> Any:
        """PATCH/PUT ``body`` to ``path``; a 404 says ``what`` was deleted by hand and how to
        recreate it."""
        try:
            return self.call(client, method, path, json=dict(body))
        except ApiError as exc:
            if exc.status == 404:
                raise self.error(
                    f"{self.vendor}: {what} no longer exists (deleted by hand?); run "
                    "`pulumi refresh`, then `pulumi up` creates it again"
                ) from None
            raise

    def delete_path(self, client: httpx.Client, path: str) -> None:
        """DELETE ``path``; already gone is what a delete wants."""
        try:
            self.send(client, "DELETE", path)
        except ApiError as exc:
            if exc.status != 404:
                raise

    # --- creates ---------------------------------------------------------------------

    def create_once(
        self,
        client: httpx.Client,
        path: str,
        body: Mapping[str, Any],
        find: Callable[[], Any],
        what: str,
    ) -> Any:
        """The created object's reply, or the one ``find`` returns (adopted); never two.

        ``find`` looks the object up by what identifies it (name, URL) and returns its reply
        or ``None``; ``what`` names it in errors (``monitor 'api /health (production)'``).
        """
        single = replace(self.policy, max_attempts=1)
        attempts = max(1, self.policy.max_attempts)
        for attempt in range(1, attempts + 1):
            found = find()
            if found is not None:
                return found
            try:
                response = request(client, "POST", path, json=dict(body), policy=single)
            except ApiError as exc:
                if exc.status is None and exc.sent:
                    return self._settle(find, what, exc)
                retryable = exc.status is None or exc.status == 429 or exc.status >= 500
                if not retryable or attempt == attempts:
                    raise
                self.sleep(retry_delay(self.policy, attempt, exc.retry_after))
            else:
                return parse(response)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _settle(self, find: Callable[[], Any], what: str, exc: ApiError) -> Any:
        waited, attempt = 0.0, 0
        while True:
            found = find()
            if found is not None:
                return found
            if waited >= self.settle:
                break
            attempt += 1
            pause = min(self.policy.backoff(attempt) + 0.2, self.settle - waited)
            self.sleep(pause)
            waited += pause
        raise self.error(
            f"{self.vendor}: creating {what}: the request was sent but no answer came "
            f"({exc.vendor_message or 'no detail'}), and it is not listed after {self.settle:g} s. "
            f"It may still be stored: run `pulumi up` again; it looks for {what} first and "
            "adopts it instead of creating a second one"
        )

    # --- errors ----------------------------------------------------------------------

    @contextmanager
    def errors(self, conn: Connection, doing: str) -> Iterator[None]:
        """Turn every failure inside into one :attr:`error` line, the credential redacted."""
        try:
            yield
        except ProviderError as exc:
            raise self.error(redact(str(exc), conn.secret)) from None
        except ApiError as exc:
            detail = redact(exc.vendor_message or str(exc), conn.secret)
            status = f"HTTP {exc.status}" if exc.status is not None else "no answer"
            raise self.error(f"{self.vendor}: {doing} failed ({status}): {detail}") from None
        except ReplyError as exc:
            raise self.error(
                f"{self.vendor}: {doing} failed: {redact(str(exc), conn.secret)}"
            ) from None
        except httpx.HTTPError as exc:
            detail = redact(f"{type(exc).__name__}: {exc}", conn.secret)
            raise self.error(f"{self.vendor}: {doing} failed: {detail}") from None


def parse(response: httpx.Response) -> Any:
    """The JSON body of an answer (``None`` when empty); anything else is a :class:`ReplyError`."""
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        raise ReplyError(
            f"the reply to {response.request.method} {response.request.url.path} "
            f"(HTTP {response.status_code}, {kind}, {len(response.content)} bytes) is not JSON"
        ) from None

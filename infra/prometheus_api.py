"""A client for any Prometheus-compatible HTTP query API: a self-hosted Prometheus, Grafana
Cloud's Prometheus endpoint (``https://prometheus-….grafana.net/api/prom``), Mimir, Thanos.

Why it looks the way it does:

- Credentials come from the environment only, never from a command line (which ``ps`` and
  shell history show): ``PROMETHEUS_USERNAME``/``PROMETHEUS_PASSWORD`` for basic auth (Grafana
  Cloud: the stack's instance id and an access-policy token), else ``PROMETHEUS_TOKEN`` for a
  bearer token. The ``Authorization`` header is set on the client, so the project's retrying
  call (:func:`infra.providers.http.request`) redacts it, and the raw password too, from every
  message.
- ``query_range`` splits a long range into chunks of at most ``max_points`` steps: Prometheus
  refuses more than 11,000 points per series, and Mimir and Thanos have the same kind of limit.
- Queries are sent as form-encoded POSTs: an alert with its recording rules inlined easily
  outgrows a URL.
- Every failure is one :class:`PrometheusError` line a person can act on: unreachable server,
  auth refused, the expression rejected (with the server's own words), a timeout.
- ``queries_sent`` counts every HTTP request sent, retries included (benchmarks report it).
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from infra.providers.http import ApiError, RetryPolicy, redact, request

USERNAME_ENV, PASSWORD_ENV, TOKEN_ENV = (
    "PROMETHEUS_USERNAME",
    "PROMETHEUS_PASSWORD",
    "PROMETHEUS_TOKEN",
)
MAX_POINTS = 11_000
"""Prometheus' limit of points per series in one ``query_range`` answer."""
QUERY_POLICY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=10.0, timeout=120.0)


class PrometheusError(Exception):
    """A query that failed for good; the message is one line and holds no credential."""


@dataclass(frozen=True)
class Series:
    """One series of a query answer: its labels and its ``(unix seconds, value)`` points."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


def _auth_header(env: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The ``Authorization`` value from the environment, and the secrets to redact."""
    user, password = env.get(USERNAME_ENV, ""), env.get(PASSWORD_ENV, "")
    token = env.get(TOKEN_ENV, "")
    if user or password:
        if not (user and password):
            raise PrometheusError(
                f"set both {USERNAME_ENV} and {PASSWORD_ENV} for basic auth (one is empty)"
            )
        raw = base64.b64encode(f"{user}:{password}".encode()).decode()
        return f"Basic {raw}", [password]
    if token:
        return f"Bearer {token}", [token]
    return None, []


class PrometheusClient:
    """Queries one Prometheus-compatible API; ``url`` is the API root (the part before
    ``/api/v1``). Use it as a context manager or call :meth:`close`."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float | None = None,
        policy: RetryPolicy = QUERY_POLICY,
        max_points: int = MAX_POINTS,
        env: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise PrometheusError("the Prometheus URL is not a valid URL") from None
        # Credentials first: no later message may quote a URL that holds a password.
        if parsed.userinfo:
            raise PrometheusError(
                f"put no credentials in the URL; export {USERNAME_ENV}/{PASSWORD_ENV} "
                f"or {TOKEN_ENV} instead"
            )
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise PrometheusError(f"{url[:120]!r} is not an http(s) URL of a Prometheus API")
        self.url = str(parsed).rstrip("/")
        self.policy = policy if timeout is None else RetryPolicy(
            policy.max_attempts, policy.base_delay, policy.max_delay, timeout
        )  # fmt: skip
        self.max_points = max_points
        self.queries_sent = 0
        auth, self._secrets = _auth_header(os.environ if env is None else env)
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        self._client = httpx.Client(
            headers=headers,
            timeout=self.policy.timeout,
            transport=transport,
            trust_env=False,
            event_hooks={"request": [self._count]},
        )

    def _count(self, _request: httpx.Request) -> None:
        self.queries_sent += 1

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ queries

    def query(self, expr: str, at: float) -> list[Series]:
        """An instant query at unix time ``at``."""
        data = self._post("query", {"query": expr, "time": _num(at)})
        if data.get("resultType") == "scalar":
            t, v = data["result"]
            return [Series({}, ((float(t), float(v)),))]
        return _series(data)

    def query_range(
        self,
        expr: str,
        start: float,
        end: float,
        step: float,
        *,
        on_chunk: Callable[[int, int], None] | None = None,
    ) -> list[Series]:
        """``expr`` at ``start``, ``start + step``, … up to ``end``, in as many queries as the
        points limit needs; ``on_chunk(done, total)`` after each."""
        if step <= 0 or end < start:
            raise PrometheusError(f"bad range: start {start}, end {end}, step {step}")
        steps = math.floor((end - start) / step) + 1
        chunks = math.ceil(steps / self.max_points)
        merged: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        for i in range(chunks):
            first = i * self.max_points
            last = min(steps, first + self.max_points) - 1
            data = self._post(
                "query_range",
                {
                    "query": expr,
                    "start": _num(start + first * step),
                    "end": _num(start + last * step),
                    "step": _num(step),
                },
            )
            for s in _series(data):
                merged.setdefault(tuple(sorted(s.labels.items())), []).extend(s.points)
            if on_chunk is not None:
                on_chunk(i + 1, chunks)
        return [Series(dict(k), tuple(v)) for k, v in merged.items()]

    def _post(self, endpoint: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = request(
                self._client, "POST", f"{self.url}/api/v1/{endpoint}", data=form,
                policy=self.policy,
            )  # fmt: skip
        except ApiError as exc:
            raise self._error(exc) from None
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(
                f"{self.url} did not answer with JSON: is it the API root of a Prometheus?"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            what = body.get("error") if isinstance(body, dict) else None
            raise PrometheusError(f"the query failed: {self._clean(str(what or body))}")
        data: dict[str, Any] = body.get("data") or {}
        return data

    def _clean(self, text: str) -> str:
        text = " ".join(redact(text, *self._secrets).split())
        return text if len(text) <= 400 else text[:399] + "…"

    def _error(self, exc: ApiError) -> PrometheusError:
        message = self._clean(exc.vendor_message)
        if exc.status is None:
            if "Timeout" in message:
                return PrometheusError(
                    f"query timeout: {self.url} did not answer within {self.policy.timeout:g}s "
                    "(try a shorter --range or a longer --timeout)"
                )
            return PrometheusError(f"cannot reach {self.url}: {message}")
        if exc.status in (401, 403):
            return PrometheusError(
                f"auth refused by {self.url} (HTTP {exc.status}): set {USERNAME_ENV}/"
                f"{PASSWORD_ENV} (basic) or {TOKEN_ENV} (bearer)"
            )
        if exc.status in (400, 422):
            return PrometheusError(f"the server rejects the expression: {message}")
        if exc.status == 503 and ("timeout" in message.lower() or "timed out" in message):
            return PrometheusError(f"query timeout on the server: {message}")
        if exc.status == 404:
            return PrometheusError(
                f"{self.url}/api/v1 not found (HTTP 404): give the API root, e.g. "
                "http://host:9090 or https://prometheus-….grafana.net/api/prom"
            )
        return PrometheusError(f"{self.url} failed with HTTP {exc.status}: {message}")


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _series(data: Mapping[str, Any]) -> list[Series]:
    out = []
    for item in data.get("result") or []:
        values = item.get("values") or ([item["value"]] if "value" in item else [])
        out.append(
            Series(dict(item.get("metric") or {}), tuple((float(t), float(v)) for t, v in values))
        )
    return out

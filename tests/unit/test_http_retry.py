"""infra/providers/http.py: retries, server delay hints, vendor messages, redaction.

Calls go over real HTTP to the UptimeRobot contract server; sleeping is injected."""

from __future__ import annotations

import html
import json
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from urllib.parse import quote, quote_plus

import httpx
import pytest

from infra.providers.http import ApiError, RetryPolicy, redact, request, retry_delay, server_delay
from tests.contract.uptimerobot_process import API_KEY, admin, contract_server

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=2.0, timeout=0.5)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with contract_server() as url:
        yield url


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    admin(server, "/__reset", {})
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server, headers=headers, timeout=FAST.timeout) as c:
        yield c


def seen(server: str) -> int:
    return len(admin(server, "/__requests"))


def test_default_policy_is_the_documented_one() -> None:
    assert RetryPolicy() == RetryPolicy(
        max_attempts=5, base_delay=0.5, max_delay=30.0, timeout=10.0
    )


def test_backoff_grows_but_stays_bounded() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    assert all(0 <= policy.backoff(1) <= 1.0 for _ in range(50))
    assert all(0 <= policy.backoff(10) <= 4.0 for _ in range(50))
    assert max(policy.backoff(3) for _ in range(200)) > 1.0, "attempt 3 may wait up to 4s"
    assert 2.0 <= retry_delay(policy, 1, 2.0) <= 3.0, "a server hint wins, plus jitter"
    assert retry_delay(policy, 1, 600.0) == 4.0, "but never past max_delay"


def response(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_server_delay_reads_every_documented_header() -> None:
    now = 1_800_000_000.0
    assert server_delay(response(**{"Retry-After": "7"}), now) == 7.0
    http_date = formatdate(now + 12, usegmt=True)
    assert server_delay(response(**{"Retry-After": http_date}), now) == pytest.approx(12, abs=1)
    assert server_delay(response(**{"X-RateLimit-Reset": str(int(now) + 40)}), now) == 40.0
    assert server_delay(response(**{"X-Sentry-Rate-Limit-Reset": str(int(now) + 3)}), now) == 3.0
    assert server_delay(response(**{"X-RateLimit-Reset": str(int(now) - 5)}), now) == 0.0
    assert server_delay(response(), now) is None
    # On other answers a reset header is just information, unless nothing remains.
    busy = {"X-RateLimit-Reset": str(int(now) + 40), "X-RateLimit-Remaining": "7"}
    assert server_delay(httpx.Response(503, headers=busy), now) is None
    spent = {**busy, "X-RateLimit-Remaining": "0"}
    assert server_delay(httpx.Response(503, headers=spent), now) == 40.0


def test_429_is_retried_after_the_advertised_delay(server: str, client: httpx.Client) -> None:
    admin(server, "/__faults", {"path": "/monitors", "kind": "429", "retry_after": 1})
    slept: list[float] = []
    answer = request(client, "GET", "/monitors", policy=FAST, sleep=slept.append)
    assert answer.status_code == 200 and answer.json()["data"] == []
    assert len(slept) == 1 and 1.0 <= slept[0] <= 1.01


def test_500_then_success(server: str, client: httpx.Client) -> None:
    admin(server, "/__faults", {"path": "/monitors", "kind": "500"})
    slept: list[float] = []
    assert request(client, "GET", "/monitors", policy=FAST, sleep=slept.append).status_code == 200
    assert seen(server) == 2 and len(slept) == 1 and slept[0] <= FAST.base_delay


def test_persistent_500_ends_in_the_vendors_message(server: str, client: httpx.Client) -> None:
    admin(server, "/__faults", {"path": "/monitors", "kind": "500", "times": 10})
    with pytest.raises(ApiError) as failed:
        request(client, "GET", "/monitors", policy=FAST, sleep=lambda _: None)
    assert failed.value.status == 500
    assert failed.value.vendor_message == "Internal server error"
    assert "after 3 attempts" in str(failed.value) and seen(server) == 3


def test_4xx_is_not_retried(server: str, client: httpx.Client) -> None:
    with pytest.raises(ApiError, match="HTTP 404") as missing:
        request(client, "GET", "/monitors/1", policy=FAST, sleep=lambda _: None)
    assert missing.value.vendor_message == "Monitor not found" and seen(server) == 1


def test_timeouts_are_retried(server: str, client: httpx.Client) -> None:
    admin(server, "/__faults", {"path": "/monitors", "kind": "delay", "seconds": 1.5})
    started = time.monotonic()
    assert request(client, "GET", "/monitors", policy=FAST, sleep=lambda _: None).status_code == 200
    assert seen(server) == 2 and time.monotonic() - started < 1.5


def test_connection_errors_end_in_an_api_error_without_status() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c, pytest.raises(ApiError) as down:
        request(c, "GET", "/monitors", policy=FAST, sleep=slept.append)
    assert down.value.status is None and "ConnectError" in down.value.vendor_message
    assert len(slept) == FAST.max_attempts - 1


def test_credentials_are_redacted_from_vendor_messages(server: str, client: httpx.Client) -> None:
    # A validation error that echoes what was sent must not echo the key.
    body = {"friendlyName": "x", "url": "https://x.test", "type": "HTTP", "interval": 300,
            "timeout": 30, "assignedAlertContacts": [{"alertContactId": API_KEY, "threshold": 0, "recurrence": 0}]}  # fmt: skip
    with pytest.raises(ApiError, match="HTTP 400") as rejected:
        request(client, "POST", "/monitors", json=body, policy=FAST, sleep=lambda _: None)
    assert API_KEY not in str(rejected.value) and API_KEY not in rejected.value.vendor_message
    assert "alert contact '***' does not exist" in rejected.value.vendor_message


def test_html_error_pages_become_plain_text(server: str, client: httpx.Client) -> None:
    admin(
        server, "/__faults", {"path": "/monitors", "kind": "429_html", "retry_after": 0, "times": 5}
    )
    with pytest.raises(ApiError) as limited:
        request(client, "GET", "/monitors", policy=FAST, sleep=lambda _: None)
    assert limited.value.status == 429
    assert limited.value.vendor_message == "429 Too Many Requests Slow down."
    assert limited.value.retry_after == 0.0


def test_redact_hides_plain_and_url_encoded_secrets() -> None:
    assert redact("key a/b+c and a%2Fb%2Bc", "a/b+c") == "key *** and ***"
    assert redact("nothing to hide", "") == "nothing to hide"


SECRET = 'k3y/with+plus =and&"quote\\'


@pytest.mark.parametrize(
    "echoed",
    [
        SECRET,
        quote(SECRET, safe=""),  # every reserved character encoded
        quote(SECRET),  # "/" kept, as many servers echo a path
        quote(SECRET, safe="").lower(),  # lower-case hex
        quote_plus(SECRET),  # form encoding: space as "+"
        quote_plus(SECRET, safe="/"),
        json.dumps(SECRET)[1:-1],  # inside a JSON string
        html.escape(SECRET),  # inside an HTML page
    ],
    ids=["plain", "percent-all", "percent-keep-slash", "percent-lower", "form", "form-keep-slash",
         "json", "html"],
)  # fmt: skip
def test_redact_hides_every_encoding_a_server_may_echo(echoed: str) -> None:
    text = redact(f"invalid key: {echoed}!", SECRET)
    assert text == "invalid key: ***!", text


def test_a_post_cut_off_after_sending_is_left_to_the_caller(
    server: str, client: httpx.Client
) -> None:
    body = {
        "friendlyName": "x",
        "url": "https://x.test",
        "type": "HTTP",
        "interval": 300,
        "timeout": 30,
    }
    admin(
        server, "/__faults", {"method": "POST", "path": "/monitors", "kind": "reset_after_commit"}
    )
    with pytest.raises(ApiError) as cut:
        request(client, "POST", "/monitors", json=body, policy=FAST, sleep=lambda _: None)
    assert cut.value.status is None and seen(server) == 1, "a blind retry could duplicate it"
    assert len(admin(server, "/__monitors")) == 1
    admin(server, "/__faults", {"method": "GET", "path": "/monitors", "kind": "reset"})
    assert request(client, "GET", "/monitors", policy=FAST, sleep=lambda _: None).json()["data"]

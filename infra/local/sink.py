"""The notification sink: every receiver of the local Alertmanager posts here.

``render_alertmanager_local`` points each receiver at ``{sink}/{receiver_name}`` (webhook), so
the URL path names the receiver that would have paged, mailed or posted in production. Each
notification is kept in memory (``GET /notifications``), appended to a JSON-lines file for
people who want to ``tail -f`` it, and dropped by ``DELETE /notifications``.

With ``--heartbeat-receiver`` the sink also plays UptimeRobot's heartbeat monitor (the
dead-man's switch) for that receiver: each *firing* notification posted there is a ping
(a resolved one is the pipeline saying Watchdog stopped, not a ping). ``GET /heartbeat``
answers ``{"last_ping", "interval", "grace", "state", "events"}``: ``state`` is ``waiting``
until the first ping, ``missed`` once no ping came for ``interval + grace`` seconds, else
``up``. A watcher thread notices a miss within a fraction of a second and appends each change
(``{"heartbeat": "missed", "missed_at": ts}``, ``{"heartbeat": "up", "up_at": ts}``) to the
log file, so a miss is recorded when it happens, not when someone asks.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Recorder:
    def __init__(self, log_file: Path | None) -> None:
        self.lock = threading.Lock()
        self.items: list[dict[str, Any]] = []
        self.log_file = log_file

    def record(self, receiver: str, payload: dict[str, Any]) -> None:
        item = {"received_at": time.time(), "receiver": receiver, "payload": payload}
        with self.lock:
            self.items.append(item)
            if self.log_file is not None:
                with self.log_file.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(item) + "\n")

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.items)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()

    def log(self, item: dict[str, Any]) -> None:
        if self.log_file is not None:
            with self.lock, self.log_file.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(item) + "\n")


class Heartbeat:
    """UptimeRobot's heartbeat monitor, compressed: pinged by the heartbeat receiver."""

    def __init__(self, recorder: Recorder, interval: float, grace: float) -> None:
        self.recorder = recorder
        self.interval = interval
        self.grace = grace
        self.lock = threading.Lock()
        self.last_ping: float | None = None
        self.state = "waiting"
        self.events: list[dict[str, Any]] = []

    def ping(self, at: float) -> None:
        with self.lock:
            self.last_ping = at
        self.check(at)

    def check(self, now: float) -> None:
        """Move to ``missed`` or back to ``up``; log each change once, when it happens."""
        with self.lock:
            if self.last_ping is None:
                new = "waiting"
            elif now - self.last_ping > self.interval + self.grace:
                new = "missed"
            else:
                new = "up"
            if new == self.state:
                return
            self.state = new
            event = {"heartbeat": new, f"{new}_at": now, "last_ping": self.last_ping}
            self.events.append(event)
        self.recorder.log(event)

    def reset(self) -> None:
        with self.lock:
            self.last_ping, self.state = None, "waiting"
            self.events.clear()

    def view(self) -> dict[str, Any]:
        self.check(time.time())
        with self.lock:
            return {
                "last_ping": self.last_ping,
                "interval": self.interval,
                "grace": self.grace,
                "state": self.state,
                "events": list(self.events),
            }

    def watch(self, period: float = 0.2) -> None:
        while True:
            self.check(time.time())
            time.sleep(period)


def _is_ping(payload: dict[str, Any]) -> bool:
    return payload.get("status") == "firing"


def make_handler(
    recorder: Recorder,
    heartbeat: Heartbeat | None = None,
    heartbeat_receiver: str | None = None,
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/notifications":
                self._send(200, recorder.snapshot())
            elif self.path == "/heartbeat" and heartbeat is not None:
                self._send(200, heartbeat.view())
            elif self.path == "/-/ready":
                self._send(200, {"status": "ready"})
            else:
                self._send(404, {"error": "not found"})

        def do_DELETE(self) -> None:
            if self.path == "/notifications":
                recorder.clear()
                if heartbeat is not None:  # a clean slate waits for the first ping again
                    heartbeat.reset()
                self._send(200, {"status": "cleared"})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            receiver = self.path.strip("/")
            if not receiver or "/" in receiver:
                self._send(404, {"error": "post to /<receiver-name>"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length))
            except ValueError as exc:
                self._send(400, {"error": f"not JSON: {exc}"})
                return
            if not isinstance(payload, dict):
                self._send(400, {"error": "expected an Alertmanager webhook object"})
                return
            recorder.record(receiver, payload)
            if heartbeat is not None and receiver == heartbeat_receiver and _is_ping(payload):
                heartbeat.ping(time.time())
            self._send(200, {"status": "recorded"})

        def log_message(self, format: str, *args: object) -> None:
            pass  # the JSON-lines file is the log

    return Handler


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-file", type=Path)
    parser.add_argument("--heartbeat-receiver", help="play the heartbeat monitor for it")
    parser.add_argument("--heartbeat-interval", type=float, default=30.0, help="seconds")
    parser.add_argument("--heartbeat-grace", type=float, default=15.0, help="seconds")
    args = parser.parse_args(argv)
    recorder = Recorder(args.log_file)
    heartbeat = None
    if args.heartbeat_receiver:
        heartbeat = Heartbeat(recorder, args.heartbeat_interval, args.heartbeat_grace)
        threading.Thread(target=heartbeat.watch, daemon=True).start()
    handler = make_handler(recorder, heartbeat, args.heartbeat_receiver)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()

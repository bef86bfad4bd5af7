"""The notification sink: every receiver of the local Alertmanager posts here.

``render_alertmanager_local`` points each receiver at ``{sink}/{receiver_name}`` (webhook), so
the URL path names the receiver that would have paged, mailed or posted in production. Each
notification is kept in memory (``GET /notifications``), appended to a JSON-lines file for
people who want to ``tail -f`` it, and dropped by ``DELETE /notifications``.
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


def make_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
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
            elif self.path == "/-/ready":
                self._send(200, {"status": "ready"})
            else:
                self._send(404, {"error": "not found"})

        def do_DELETE(self) -> None:
            if self.path == "/notifications":
                recorder.clear()
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
            self._send(200, {"status": "recorded"})

        def log_message(self, format: str, *args: object) -> None:
            pass  # the JSON-lines file is the log

    return Handler


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-file", type=Path)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Recorder(args.log_file)))
    server.serve_forever()


if __name__ == "__main__":
    main()

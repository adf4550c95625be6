"""A loopback webhook receiver (Slack-like incoming webhook) for ``geo recheck --notify``: a real HTTP server
on 127.0.0.1 in a thread, as ``tests/archive_server.py``, that records every POST and answers each with the
next scripted status (then 200 ``ok``, as Slack does); and the URL of a receiver that is down."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    path: str
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    statuses: list[int] = field(default_factory=list)  # answers to the first POSTs, in order (then 200)
    log: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        handler = type("Handler", (_Handler,), {"receiver": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def delivered(self) -> list[Delivery]:
        return [d for d in self.log if d.status == 200]

    def _answer(self, delivery: Delivery) -> int:
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
            delivery.status = status
            self.log.append(delivery)
            return status


class _Handler(BaseHTTPRequestHandler):
    receiver: WebhookReceiver

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.receiver._answer(Delivery(self.path, 0, self.headers.get("Content-Type", ""), body))
        text = b"ok" if status == 200 else b"service unavailable"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


def down_url() -> str:
    """A loopback URL nobody listens on (a port bound, then closed): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"

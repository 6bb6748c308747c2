"""A fake OpenAI-compatible chat-completions server for the tests, on 127.0.0.1 and an ephemeral port.

``FakeChatServer(reply)`` runs in a thread of the test process; ``reply(request)`` gets the decoded JSON body
of each ``POST /v1/chat/completions`` and returns what to answer: a dict (sent as the model's message content,
JSON-encoded), a str (sent as the content as it is), or a ``Raw(status, body, delay)`` for anything else
(HTTP errors, a body that is not JSON, a slow answer). Every request is kept in ``requests``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Raw:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0


def completion(content: str) -> bytes:
    """A chat-completions response body whose first choice says ``content``."""
    return json.dumps({"id": "fake-1", "object": "chat.completion", "model": "fake",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}]}).encode("utf-8")


class FakeChatServer:
    """``with FakeChatServer(reply) as server: server.url`` -> ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, reply: Callable[[dict[str, Any]], Any]) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(request)
                owner.headers.append(dict(self.headers))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(Raw(404, b'{"error": "not found"}'))
                    return
                answer = owner.reply(request)
                if isinstance(answer, dict):
                    answer = json.dumps(answer)
                self._send(answer if isinstance(answer, Raw) else Raw(200, completion(answer)))

            def _send(self, raw: Raw) -> None:
                if raw.delay:
                    time.sleep(raw.delay)
                try:
                    self.send_response(raw.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw.body)))
                    self.end_headers()
                    self.wfile.write(raw.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client gave up waiting (the timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

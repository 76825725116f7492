"""An enrichment provider on 127.0.0.1 (docs/people.md's contract): answers by email."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections import Counter
from typing import Any

from tests.support.servers import free_port

ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "ana@acme.com": (
        200,
        {
            "person": {"title": "Chief Financial Officer", "location": "Lisbon, Portugal", "first_name": "Ana"},
            "company": {"name": "Acme", "industry": "Manufacturing", "size": "1001-5000"},
        },
    ),
    "bo@globex.io": (404, {}),
    "err@broken.com": (500, {}),
}


class Provider:
    """Answers by email; `slow@slow.com` takes longer than footfall waits."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()
        self.bodies: list[dict[str, Any]] = []
        self.port = free_port()
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                provider.asked[body["email"]] += 1
                provider.bodies.append(body | {"auth": self.headers.get("authorization")})
                if body["email"] == "slow@slow.com":
                    time.sleep(1.0)
                status, answer = ANSWERS.get(body["email"], (404, {}))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

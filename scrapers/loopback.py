"""A tiny threaded HTTP server on a loopback address and port 0, for tests and
benchmarks that must never touch the internet.

Routes map a path (query string ignored) to a handler ``fn(request)`` that writes
the response itself, so a route can stall, trickle, stream endlessly or lie about
its content; ``directory`` serves static files for everything else. Every request
path is logged in ``requests`` so callers can prove a URL was never fetched.
"""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".xml": "application/xml",
          ".opml": "text/x-opml", ".html": "text/html", ".json": "application/json", ".txt": "text/plain"}


def send(request: BaseHTTPRequestHandler, status: int = 200, body: bytes | str = b"",
         content_type: str | None = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> None:
    """Write a whole response with a Content-Length."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    request.send_response(status)
    if content_type:
        request.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    if request.command != "HEAD":
        try:
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled handler must not block shutdown
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up (cut bodies, timeouts) are expected here, not worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LoopbackServer:
    def __init__(self, routes: dict[str, Callable] | None = None, directory: Path | str | None = None,
                 host: str = "127.0.0.1", port: int = 0):
        self.routes = dict(routes or {})
        self.directory = Path(directory) if directory else None
        self.host = host
        self.requested_port = port  # 0: any free port
        self.requests: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                owner.requests.append(self.path)
                route = owner.routes.get(path)
                try:
                    if route is not None:
                        route(self)
                    elif owner.directory is not None:
                        owner._serve_file(self, path)
                    else:
                        send(self, 404, "not found", "text/plain")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_HEAD = do_GET

            def do_POST(self) -> None:
                """Routes answer POSTs too; the body is read first (``self.body``) so the connection stays usable."""
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length > 0 else b""
                self.do_GET()

        return Handler

    def _serve_file(self, request, path: str) -> None:
        target = (self.directory / path.lstrip("/")).resolve()
        if self.directory.resolve() not in target.parents and target != self.directory.resolve():
            return send(request, 403, "forbidden", "text/plain")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return send(request, 404, "not found", "text/plain")
        content_type = _TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        send(request, 200, target.read_bytes(), content_type)

    def start(self) -> LoopbackServer:
        self._server = _Server((self.host, self.requested_port), self._handler())
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        """The bound port (still known after ``stop``, for matching results to URLs)."""
        assert self._port is not None, "server not started"
        return self._port

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + (path if path.startswith("/") else "/" + path)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""Fixtures for the engine tests: an offline, isolated environment and a local HTTP server.

Every engine test runs with its own cache folder, downloads forbidden and no local
data or model directory, so a result never depends on the machine or on ../shared.
Tests that exercise a download turn GALLERY_OFFLINE off themselves and point the
download at :func:`http_server`, which listens on 127.0.0.1 only. A guard refuses
any connection or name lookup outside loopback, so a mistake fails loudly instead of
reaching the internet.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0", "::"}


@pytest.fixture(autouse=True)
def gallery_env(tmp_path, monkeypatch):
    """An isolated cache, downloads off, no local data or model directory."""
    cache = tmp_path / "gallery-cache"
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(cache))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    for name in ("GALLERY_DATA_DIR", "GALLERY_MODEL_DIR", "GALLERY_DOWNLOAD_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return cache


@dataclass
class NetworkGuard:
    """Connections and lookups that tried to leave loopback (each one was refused)."""

    attempts: list[object] = field(default_factory=list)


@pytest.fixture(autouse=True)
def network_guard(monkeypatch) -> NetworkGuard:
    """Refuse every connection or DNS lookup whose target is not loopback, and record it."""
    guard = NetworkGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def outside(address) -> bool:
        return isinstance(address, tuple) and str(address[0]) not in LOOPBACK

    def connect(self, address):
        if outside(address):
            guard.attempts.append(address)
            raise OSError(f"engine tests may not connect to {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if outside(address):
            guard.attempts.append(address)
            raise OSError(f"engine tests may not connect to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and str(host) not in LOOPBACK:
            guard.attempts.append(host)
            raise socket.gaierror(f"engine tests may not resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return guard


@dataclass
class Route:
    """What the test server answers on one path.

    Attributes:
        body: Bytes sent.
        status: HTTP status.
        stall_after: Send this many body bytes, then stall (None: no stall).
        stall_before_headers: Stall before sending anything.
        content_length: Announced length when it should differ from the body's (a truncated reply).
        raw: Bytes written instead of a well-formed HTTP response.
    """

    body: bytes = b""
    status: int = 200
    stall_after: int | None = None
    stall_before_headers: bool = False
    content_length: int | None = None
    raw: bytes | None = None


@dataclass
class LocalServer:
    """A tiny HTTP server on 127.0.0.1 whose answers a test sets per path."""

    port: int
    routes: dict[str, Route]
    requests: list[str]
    release: threading.Event

    def url(self, path: str) -> str:
        """The full address of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes = b"", **kwargs) -> str:
        """Serve ``body`` at ``path`` (see :class:`Route`) and return its address."""
        self.routes[path] = Route(body=body, **kwargs)
        return self.url(path)


STALL_SECONDS = 15  # far past any timeout a test sets; teardown releases the handler early


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A local HTTP server in a thread (port 0); counts requests; unknown paths get 404."""
    routes: dict[str, Route] = {}
    requests: list[str] = []
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # silence the default stderr log
            pass

        def do_GET(self):
            requests.append(self.path)
            route = routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            if route.raw is not None:
                self.wfile.write(route.raw)
                return
            if route.stall_before_headers:
                release.wait(STALL_SECONDS)
                return
            self.send_response(route.status)
            self.send_header("Content-Length", str(route.content_length or len(route.body)))
            self.end_headers()
            try:
                if route.stall_after is None:
                    self.wfile.write(route.body)
                    return
                self.wfile.write(route.body[: route.stall_after])
                self.wfile.flush()
                release.wait(STALL_SECONDS)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as the test intends

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LocalServer(server.server_address[1], routes, requests, release)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProgressLog:
    """A progress callback that records every report."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def __call__(self, fraction: float, message: str) -> None:
        self.calls.append((fraction, message))

    @property
    def fractions(self) -> list[float]:
        """Every fraction reported, in order."""
        return [fraction for fraction, _ in self.calls]

    def assert_complete(self) -> None:
        """Fractions stay within 0..1, never decrease, and the last one is exactly 1.0."""
        fractions = self.fractions
        assert fractions, "progress was never reported"
        assert all(0.0 <= f <= 1.0 for f in fractions), fractions
        assert all(b >= a for a, b in itertools.pairwise(fractions)), fractions
        assert fractions[-1] == 1.0, fractions


@pytest.fixture
def progress_log() -> ProgressLog:
    """A fresh :class:`ProgressLog`."""
    return ProgressLog()

"""Issue 26, outbound requests: the policy of engines/core/net.py as the news fetcher and the webhook use it.

Every server here listens on 127.0.0.1 and is started by the test; name lookups are faked by replacing
``socket.getaddrinfo``; the engine tests' network guard refuses (and records) every connection that would leave
loopback, so a "public" address in a fake DNS answer is never really contacted. Every request loop is bounded in count and in time.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engines import anomaly as an
from engines import news
from engines.anomaly import alerts
from engines.core import net
from engines.core.errors import InputError, SourceError
from engines.news import fetch, newsapi
from tests.engines.conftest import NetworkGuard, network_guard  # noqa: F401 (the fixture, used by guard)
from tests.security.measure import MEMORY_LIMIT_MB, TIME_LIMIT_S, measure

PUBLIC = "93.184.216.34"  # a public address in fake DNS answers; the guard refuses any real connection to it
UNREACHABLE = alerts.UNREACHABLE.format(seconds=alerts.WEBHOOK_TIMEOUT)
REAL_GETADDRINFO = socket.getaddrinfo


# ---------------------------------------------------------------- servers and fakes


@dataclass
class Seen:
    """What a test server received: (method, path, headers) per request, and raw connections."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    connections: int = 0


class Server:
    """A threaded HTTP server on 127.0.0.1; ``routes`` maps a path to (status, headers, body)."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]] | None = None) -> None:
        self.routes = routes or {}
        self.seen = Seen()
        seen, routes_ = self.seen, self.routes

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 1 << 20))
                seen.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, headers, body = routes_.get(self.path.split("?")[0], (404, {}, b"not here"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RawServer:
    """A TCP server on 127.0.0.1 that runs ``behaviour(conn)`` per connection (slow-loris, silence...)."""

    def __init__(self, behaviour: Callable[[socket.socket, RawServer], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._behaviour = behaviour
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(1.0)
            self._behaviour(conn, self)
        except OSError:
            pass
        finally:
            conn.close()

    def stopped(self) -> bool:
        return self._stop.is_set()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


def slow_loris(*, headers_first: bool = False, limit_s: float = 60.0) -> Callable:
    """A behaviour that answers one byte a second (headers included, or after quick headers)."""

    def behaviour(conn: socket.socket, server: RawServer) -> None:
        try:
            conn.recv(65536)
        except OSError:
            return
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n"
        if headers_first:
            conn.sendall(head)
            head = b"<" * 100000
        started = time.monotonic()
        for byte in head:
            if server.stopped() or time.monotonic() - started > limit_s:
                return
            conn.sendall(bytes([byte]))
            time.sleep(1.0)

    return behaviour


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def raw_servers() -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for s in started:
        s.close()


@pytest.fixture(autouse=True)
def guard(request, monkeypatch) -> NetworkGuard:
    """Connections and lookups outside loopback refused and recorded; the webhook's private switch off.

    The guard is tests/engines/conftest.py's: a fake public address in a DNS answer is never contacted.
    """
    monkeypatch.delenv(an.ALLOW_PRIVATE_ENV, raising=False)
    return request.getfixturevalue("network_guard")


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Answer lookups of the names in ``answers`` with their addresses, one per call (the last one repeats).

    Returns the list of names looked up (one entry per lookup). Other names fail; literals resolve as usual.
    """
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        host = str(host)
        if host not in answers:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise socket.gaierror(f"no such test name {host!r}") from None
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        lookups.append(host)
        address = answers[host][min(len(lookups) - 1, len(answers[host]) - 1)]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def fast_config(**overrides) -> news.FetchConfig:
    settings = {"timeout": 1.0, "deadline": 3.0, "retries": 0, "backoff": 0.01, "host_interval": 0.0}
    return news.FetchConfig(**(settings | overrides))


# ---------------------------------------------------------------- refused addresses and literal forms

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.0.10", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "shared"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "IPv4-mapped address carrying 127.0.0.1 (loopback)"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),  # even a public IPv4 behind an IPv6 form: one rule, no special cases
    ("::127.0.0.1", "IPv4-compatible address carrying 127.0.0.1"),
    ("::ffff:0:7f00:1", "IPv4-translated"),
    ("64:ff9b::7f00:1", "NAT64 (64:ff9b::/96) address carrying 127.0.0.1"),
    ("64:ff9b::808:808", "NAT64"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("2002:7f00:1::1", "6to4 (2002::/16) address carrying 127.0.0.1"),
    ("2002:a9fe:a9fe::1", "carrying 169.254.169.254 (link-local)"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo (2001::/32) address carrying 127.0.0.1"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_every_non_public_address_form_is_refused(address, reason):
    problem = net.address_problem(address)
    assert problem is not None and reason in problem, problem
    assert not fetch.is_public(address)  # the fetcher's name still works


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert net.address_problem(address) is None


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_a_name_resolving_to_a_refused_address_is_never_contacted(monkeypatch, guard, address, reason):
    lookups = fake_dns(monkeypatch, {"evil.test": [address]})
    with pytest.raises(news.Blocked, match="private, loopback or reserved") as caught:
        news.Fetcher(fast_config()).get("http://evil.test/feed.xml")
    message = str(caught.value)
    assert "evil.test resolves to a private" in message and "allow_private=True" in message
    assert address not in message, "a visitor learns no internal address of a name"
    assert an.post_webhook("http://evil.test/hook", {"a": 1}) == UNREACHABLE
    with pytest.raises(InputError, match="loopback, private or link-local"):
        an.validate_webhook_url("http://evil.test/hook")
    assert guard.attempts == [] and 1 <= len(lookups) <= 4  # robots + feed, webhook, validation: no connection


ODD = [
    "http://2130706433/",  # decimal
    "http://017700000001/",  # octal
    "http://0x7f000001/",  # hex
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.0.01/",
    "http://127.0.0.1./",
    "http://[::127.0.0.1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1%25eth0]/",
]


@pytest.mark.parametrize("url", ODD)
def test_odd_literal_forms_are_refused_before_any_lookup(monkeypatch, guard, url):
    lookups = fake_dns(monkeypatch, {})
    with pytest.raises(InputError, match=r"IPv4 address in an unusual form|IPv6 address|trailing dot"):
        news.check_url(url)
    with pytest.raises(InputError, match=r"write|zone"):
        news.Source("Odd", url)
    with pytest.raises(InputError, match="The webhook host"):
        an.validate_webhook_url(url, allow_private=True)  # refused even on a trusted network: never needed
    outcome = an.post_webhook(url, {}, allow_private=True)
    assert outcome.startswith("failed: The webhook host") and "Traceback" not in outcome
    assert guard.attempts == [] and lookups == []


def test_canonical_literals_and_names_are_not_odd():
    for host in ("127.0.0.1", "8.8.8.8", "example.org", "1.2.3.4.nip.io", "::1", "2001:db8::1", "xn--bcher-kva.de"):
        assert net.literal_problem(host) is None, host


# ---------------------------------------------------------------- DNS rebinding


def test_webhook_dns_rebinding_cannot_reach_loopback(monkeypatch, guard, server):
    # The attack: the name answers a public address to the check, then 127.0.0.1 to the lookup that connects.
    lookups = fake_dns(monkeypatch, {"rebind.test": [PUBLIC, "127.0.0.1"]})
    url = f"http://rebind.test:{server.port}/admin/flush-cache"
    assert an.validate_webhook_url(url) == url  # the page's check, as the URL is typed: public
    assert an.post_webhook(url, {"text": "x"}) == UNREACHABLE  # its own lookup answers 127.0.0.1: refused
    assert lookups == ["rebind.test", "rebind.test"] and guard.attempts == []
    assert server.seen.requests == []


def test_webhook_connects_to_the_address_it_checked(monkeypatch, guard, server):
    lookups = fake_dns(monkeypatch, {"rebind.test": [PUBLIC, "127.0.0.1"]})
    url = f"http://rebind.test:{server.port}/admin/flush-cache"
    assert an.post_webhook(url, {"text": "x"}) == UNREACHABLE
    assert lookups == ["rebind.test"], "one lookup: no second resolution for the connection"
    assert guard.attempts == [(PUBLIC, server.port)], "the connection went to the checked (public) address"
    assert server.seen.requests == []


def test_fetcher_dns_rebinding_cannot_reach_loopback(monkeypatch, guard, server):
    server.routes["/feed.xml"] = (200, {}, b"<rss/>")
    lookups = fake_dns(monkeypatch, {"rebind.test": [PUBLIC, "127.0.0.1"]})
    config = fast_config(respect_robots=False)
    with pytest.raises(news.FetchError, match=r"Connection to rebind\.test failed"):
        news.Fetcher(config).get(f"http://rebind.test:{server.port}/feed.xml")
    assert lookups == ["rebind.test"] and guard.attempts == [(PUBLIC, server.port)]
    with pytest.raises(
        news.Blocked, match=r"rebind\.test resolves to a private"
    ):  # the next request's lookup answers loopback: refused
        news.Fetcher(config).get(f"http://rebind.test:{server.port}/feed.xml")
    assert server.seen.requests == []


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch, guard):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(net.Blocked, match=r"mixed\.test resolves to a private"):
        net.request("GET", "http://mixed.test/", deadline=2.0)
    assert guard.attempts == []


def test_a_hung_name_lookup_is_cut_at_the_deadline(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(3) or [])
    started = time.monotonic()
    with pytest.raises(net.TimedOut, match="Looking up the host name"):
        net.request("GET", "http://hang.test/", deadline=0.5)
    assert time.monotonic() - started < 1.5


# ---------------------------------------------------------------- total deadline and body cap


def test_slow_loris_feed_is_cut_at_the_total_deadline(raw_servers):
    for headers_first in (False, True):
        slow = RawServer(slow_loris(headers_first=headers_first))
        raw_servers.append(slow)
        # An 8 s idle timeout never fires on a 1 byte/s server; three attempts used to take 3 x 20 s and more.
        config = fast_config(timeout=8.0, deadline=2.0, retries=2, respect_robots=True, allow_private=True)
        started = time.monotonic()
        with pytest.raises(news.FetchError, match=r"Timed out: 127\.0\.0\.1 sent no complete answer within 2 s"):
            news.Fetcher(config).get(slow.url("/feed.xml"))
        took = time.monotonic() - started
        assert took < 2.0 + 1.0, f"cut after {took:.1f} s (deadline 2 s)"
        assert slow.connections <= 3  # robots.txt (bounded by the same deadline) and the feed


def test_slow_loris_webhook_is_cut_and_the_post_never_blocks_its_caller(raw_servers):
    slow = RawServer(slow_loris())
    raw_servers.append(slow)
    started = time.monotonic()
    future = alerts.post_in_background(slow.url("/hook"), {"a": 1}, allow_private=True)
    assert time.monotonic() - started < 0.2, "the caller (a page) does not wait for the receiver"
    assert future.result(timeout=alerts.WEBHOOK_TIMEOUT + 2) == UNREACHABLE
    assert time.monotonic() - started < alerts.WEBHOOK_TIMEOUT + 1.0


def test_webhook_sender_queue_is_bounded(raw_servers):
    slow = RawServer(slow_loris())
    raw_servers.append(slow)
    sender = an.WebhookSender(slow.url("/hook"), allow_private=True, timeout=0.5)
    manager = an.AlertManager(an.AlertRule(cooldown=0))
    started = time.monotonic()
    for i in range(alerts.MAX_PENDING + 5):
        sender.send(manager.feed(i, "t", 1.0, 9.0))
    assert time.monotonic() - started < 0.5, "queueing never waits for the receiver"
    skipped = [f.result() for f in sender.pending.values() if f.done() and "skipped" in f.result()]
    assert len(skipped) >= 5
    for future in sender.pending.values():
        future.cancel()
    sender.close()


def test_every_failure_to_reach_a_webhook_reads_the_same(monkeypatch, server, raw_servers):
    fake_dns(monkeypatch, {"inside.test": ["127.0.0.1"]})
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there
    silent = RawServer(lambda conn, server: time.sleep(5))
    raw_servers.append(silent)
    timeout = 1.0
    outcomes = {
        "refused (private, not allowed)": an.post_webhook(server.url("/hook", "inside.test"), {}, timeout=timeout),
        "closed port": an.post_webhook(f"http://127.0.0.1:{port}/x", {}, timeout=timeout, allow_private=True),
        "silent server": an.post_webhook(silent.url("/x"), {}, timeout=timeout, allow_private=True),
    }
    assert set(outcomes.values()) == {alerts.UNREACHABLE.format(seconds=timeout)}, outcomes
    assert "Traceback" not in next(iter(outcomes.values())) and "Check the URL" in next(iter(outcomes.values()))
    assert server.seen.requests == []


def test_body_cap_holds_for_plain_chunked_and_gzip_answers(raw_servers):
    def chunked(conn: socket.socket, server: RawServer) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = b"x" * 65536
        for _ in range(200):  # 13 MB if read to the end
            conn.sendall(b"%x\r\n%s\r\n" % (len(block), block))
        conn.sendall(b"0\r\n\r\n")

    big = RawServer(chunked)
    raw_servers.append(big)
    with pytest.raises(net.TooLarge, match=r"Too large: more than 1\.0 MB, the limit is 1\.0 MB"):
        net.request("GET", big.url(), allow_private=True, deadline=10.0, max_bytes=1_000_000)


# ---------------------------------------------------------------- credentials


def test_credentials_are_dropped_when_a_redirect_leaves_the_origin():
    other = Server({"/feed.xml": (200, {}, b"<rss/>")})
    first = Server(
        {
            "/same": (302, {"Location": "/next"}, b""),
            "/next": (302, {"Location": other.url("/feed.xml")}, b""),
        }
    )
    try:
        headers = {"X-Api-Key": "k" * 32, "Authorization": "Bearer secret", "X-Trace": "kept"}
        got = news.Fetcher(fast_config(allow_private=True)).get(first.url("/same"), headers=headers)
        assert got.url == other.url("/feed.xml")
        same = [h for m, p, h in first.seen.requests if p in ("/same", "/next")]
        assert all(h.get("x-api-key") == "k" * 32 and h.get("authorization") for h in same), "same origin: kept"
        (elsewhere,) = [h for m, p, h in other.seen.requests if p == "/feed.xml"]
        assert "x-api-key" not in elsewhere and "authorization" not in elsewhere and elsewhere["x-trace"] == "kept"
    finally:
        first.close()
        other.close()


def test_newsapi_key_is_never_sent_to_another_host(server):
    server.routes["/v2/top-headlines"] = (200, {"Content-Type": "application/json"}, b'{"status":"ok","articles":[]}')
    url = newsapi.request_url(server.url("/v2/top-headlines"), country="us")
    fetcher = news.Fetcher(fast_config(allow_private=True))
    with pytest.raises(InputError, match=r"The NewsAPI key is sent only to https://newsapi.org; 127.0.0.1 is another"):
        newsapi.fetch_newsapi("k" * 32, url, fetcher)
    # Through a refresh, as a visitor typing "name | url | newsapi" would: a failed row with the reason.
    result = news.refresh([news.Source("Fake NewsAPI", url, "newsapi")], fast_config(allow_private=True),
                          newsapi_key="k" * 32)  # fmt: skip
    row = result.health[0]
    assert row.status == "failed" and "sent only to https://newsapi.org" in row.error and "k" * 32 not in row.error
    assert server.seen.requests == [], "nothing at all was sent to the other host"
    with pytest.raises(InputError, match=r"uses another scheme or port, so nothing was sent"):
        newsapi.check_endpoint("http://newsapi.org/v2/top-headlines?country=us")  # the key in clear text: no
    with pytest.raises(InputError, match=r"newsapi\.org\.evil\.test is another server"):
        newsapi.check_endpoint("https://newsapi.org.evil.test/v2/top-headlines")


def test_newsapi_key_does_not_follow_a_redirect_off_newsapi(monkeypatch, server):
    other = Server({"/grab": (200, {"Content-Type": "application/json"}, b'{"status":"ok","articles":[]}')})
    try:
        server.routes["/v2/top-headlines"] = (302, {"Location": other.url("/grab")}, b"")
        monkeypatch.setattr(newsapi, "KEY_ORIGINS", (net.origin(server.url("/")),))
        url = newsapi.request_url(server.url("/v2/top-headlines"))
        assert newsapi.fetch_newsapi("k" * 32, url, news.Fetcher(fast_config(allow_private=True))) == []
        assert server.seen.requests[-1][2]["x-api-key"] == "k" * 32  # NewsAPI itself gets the key
        (_, _, grabbed) = other.seen.requests[-1]
        assert "x-api-key" not in grabbed
    finally:
        other.close()


def test_newsapi_endpoint_names_get_a_scheme():
    # app_pages/news.py passes "top-headlines": every refresh with a key used to end in a traceback.
    url = news.newsapi_url("top-headlines", country="us")
    assert url.startswith("https://newsapi.org/v2/top-headlines?") and "country=us" in url
    assert news.Source("NewsAPI top headlines", url, "newsapi").url == url
    assert newsapi.check_endpoint(url) == url
    everything = news.newsapi_url("everything", query="climate")
    assert everything.startswith("https://newsapi.org/v2/everything?") and "q=climate" in everything
    with pytest.raises(InputError, match=r"Use https://newsapi\.org/v2/top-headlines"):
        news.newsapi_url("headlines")


def test_credential_header_names_are_recognised():
    for name in ("Authorization", "X-Api-Key", "Cookie", "X-Auth-Token", "api_key", "X-Secret"):
        assert net.is_credential(name), name
    for name in ("Accept", "User-Agent", "Content-Type", "X-Trace"):
        assert not net.is_credential(name), name


# ---------------------------------------------------------------- robots.txt cache


def robots_flood(origins: int, rules: int) -> str:
    """Fetch from ``origins`` origins whose robots.txt holds ``rules`` rules each; the cache's size afterwards.

    Runs in a child process (measure): its own server, its own fake DNS (o<i>.test -> 127.0.0.1).
    """
    import pickle

    body = b"User-agent: *\n" + b"".join(b"Disallow: /private-%06d/\n" % i for i in range(rules))
    srv = Server({"/robots.txt": (200, {}, body), "/feed.xml": (200, {}, b"<rss/>")})

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    socket.getaddrinfo = getaddrinfo
    fetcher = news.Fetcher(fast_config(allow_private=True, deadline=10.0))
    for i in range(origins):
        fetcher.get(f"http://o{i}.test:{srv.port}/feed.xml")
    kept = list(fetcher._robots.values())
    longest = max(len(p.default_entry.rulelines) for p in kept if p is not None)
    size = len(pickle.dumps(kept))
    srv.close()
    return json.dumps({"origins": len(kept), "rules": longest, "mb": size / 1e6, "locks": len(fetcher._robots_locks)})


def test_robots_cache_is_bounded_in_origins_and_rules():
    rules = 19_000  # 494 KB of robots.txt: just under the largest a fetcher reads (MAX_ROBOTS_BYTES)
    outcome = measure("tests.security.test_outbound:robots_flood", 40, rules, timeout_s=120)
    assert outcome.kind == "ok", outcome
    report = json.loads(ast.literal_eval(outcome.result))
    assert report["origins"] == fetch.MAX_ROBOTS_ORIGINS and report["rules"] == fetch.MAX_ROBOTS_RULES
    assert report["mb"] < 3 and report["locks"] == 0, report
    assert outcome.seconds < TIME_LIMIT_S * 2 and outcome.growth_mb < 100, outcome
    print(f"robots flood: 40 origins x {rules} rules -> {report}, {outcome}")


def test_robots_rules_keep_their_meaning_after_compaction(server):
    server.routes["/robots.txt"] = (200, {}, b"User-agent: *\nDisallow: /private/\nUser-agent: other\nDisallow: /\n")
    server.routes["/public/feed.xml"] = (200, {}, b"<rss/>")
    fetcher = news.Fetcher(fast_config(allow_private=True))
    assert fetcher.allowed(server.url("/public/feed.xml")) and not fetcher.allowed(server.url("/private/x"))
    assert [p for _, p, _ in server.seen.requests].count("/robots.txt") == 1


# ---------------------------------------------------------------- measured: time and memory per attack


def slowloris_fetch(deadline: float) -> str:
    """A child-process run of the fetcher against a 1 byte/s server (for measure)."""
    slow = RawServer(slow_loris())
    try:
        news.Fetcher(fast_config(timeout=8.0, deadline=deadline, retries=2, allow_private=True)).get(slow.url())
    finally:
        slow.close()
    return "read"


def slowloris_webhook() -> str:
    """A child-process run of the webhook against a 1 byte/s receiver (for measure); returns the outcome."""
    slow = RawServer(slow_loris())
    try:
        return an.post_webhook(slow.url("/hook"), {"a": 1}, allow_private=True)
    finally:
        slow.close()


def huge_body(max_bytes: int) -> str:
    """A child-process run of a request to a server sending 64 MB (for measure)."""

    def flood(conn: socket.socket, server: RawServer) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")  # no length: read until the server closes
        block = b"x" * 65536
        for _ in range(1024):  # 64 MB, from one 64 KB block (the server itself holds no more)
            conn.sendall(block)

    big = RawServer(flood)
    try:
        net.request("GET", big.url(), allow_private=True, deadline=10.0, max_bytes=max_bytes)
    finally:
        big.close()
    return "read"


def test_measured_slow_loris_and_huge_body():
    slow = measure("tests.security.test_outbound:slowloris_fetch", 3.0, timeout_s=60)
    assert slow.kind == "refused" and "Timed out" in slow.message and slow.seconds < 4.5, slow
    huge = measure("tests.security.test_outbound:huge_body", 5_000_000, timeout_s=60)
    assert huge.kind == "refused" and "Too large" in huge.message, huge
    assert huge.seconds < TIME_LIMIT_S and huge.growth_mb < MEMORY_LIMIT_MB / 8, huge
    hook = measure("tests.security.test_outbound:slowloris_webhook", timeout_s=60)
    assert hook.kind == "ok" and UNREACHABLE in (hook.result or ""), hook
    assert hook.seconds < alerts.WEBHOOK_TIMEOUT + 1.0 and hook.growth_mb < MEMORY_LIMIT_MB / 8, hook
    print(f"slow loris: {slow}\nhuge body: {huge}\nwebhook slow loris: {hook}")


# ---------------------------------------------------------------- the anomaly page's test button


@pytest.fixture
def page_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GALLERY_MEMORY_BUDGET_MB", "1000000")
    monkeypatch.setenv("GALLERY_WAIT_FOR_TRAINING", "1")
    monkeypatch.setenv("GALLERY_WARM_UP", "0")
    monkeypatch.delenv("GALLERY_DATA_DIR", raising=False)


def test_webhook_test_button_returns_at_once_and_shows_the_outcome_later(page_env, monkeypatch, raw_servers, server):
    from tests.app.helpers import open_page, open_tab, texts

    monkeypatch.setenv(an.ALLOW_PRIVATE_ENV, "1")  # a trusted network: the receivers are on 127.0.0.1
    slow = RawServer(slow_loris())
    raw_servers.append(slow)
    at = open_page("anomaly")
    open_tab(at, "anomaly_tab", "🚨 Alerts")
    at.text_input(key="anomaly_webhook_url").input(slow.url("/hook")).run()
    started = time.monotonic()
    at.button(key="anomaly_webhook_test").click().run()
    took = time.monotonic() - started
    assert not at.exception
    assert any("sending the test alert" in t for t in texts(at.info)), texts(at.info)
    assert not any("Webhook: failed" in t for t in texts(at.error)), "the click did not wait for the receiver"
    for _ in range(20):  # at most 20 reruns, 0.5 s apart: the outcome is known within the 3 s deadline
        if any("Webhook:" in t for t in texts(at.error)):
            break
        time.sleep(0.5)
        at.run()
    assert any(t == f"Webhook: {UNREACHABLE}" for t in texts(at.error)), texts(at.error)
    # A receiver that answers: the outcome on a later rerun.
    server.routes["/hook"] = (204, {}, b"")
    at.text_input(key="anomaly_webhook_url").input(server.url("/hook")).run()
    at.button(key="anomaly_webhook_test").click().run()
    for _ in range(20):
        if any("Webhook: sent" in t for t in texts(at.success)):
            break
        time.sleep(0.25)
        at.run()
    assert any(t == "Webhook: sent (HTTP 204)" for t in texts(at.success)), texts(at.success)
    assert [m for m, p, _ in server.seen.requests] == ["POST"]
    print(f"test-button click run: {took:.2f} s against a 1 byte/s receiver")


def test_page_refuses_a_private_webhook_with_one_message(page_env, server):
    from tests.app.helpers import open_page, open_tab, texts

    at = open_page("anomaly")
    open_tab(at, "anomaly_tab", "🚨 Alerts")
    for url in (server.url("/hook"), "http://[::ffff:127.0.0.1]:9/x", "http://2130706433/"):
        at.text_input(key="anomaly_webhook_url").input(url).run()
        at.button(key="anomaly_webhook_test").click().run()
        assert not at.exception and any(t.startswith("Webhook: failed: The webhook host") for t in texts(at.error))
    assert server.seen.requests == []


def test_source_errors_are_source_errors():
    assert issubclass(news.FetchError, SourceError) and issubclass(net.Blocked, news.FetchError)
    assert news.FetchError is net.RequestError and fetch.TooLarge is net.TooLarge

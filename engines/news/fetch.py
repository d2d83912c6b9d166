"""Polite, safe HTTP fetching for the news aggregator.

Every request goes through :class:`Fetcher`: only http(s) URLs; the host is resolved and
*every* address checked (private, loopback, link-local and reserved ones are refused unless
``FetchConfig.allow_private``), and the connection is made to the address that was checked,
so a DNS answer cannot change between the check and the connection. robots.txt is read once
per origin (a robots.txt that cannot be fetched allows everything, as browsers and most
crawlers assume); requests to one origin are spaced by ``host_interval``; timeouts, retries
with exponential backoff, redirects re-checked hop by hop, and a cap on the body size
(streamed: a 10 MB feed is cut off at the cap and the source fails as "too large").

The rate limit and the robots cache are keyed by *origin* (scheme, host, port): that is the
unit robots.txt applies to (RFC 9309 section 2.3) and the unit a server is, so two ports on
one machine count as two servers.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from engines.core.errors import InputError, SourceError
from engines.core.settings import APP_NAME

if TYPE_CHECKING:
    from urllib.robotparser import RobotFileParser

log = logging.getLogger(__name__)

CHUNK = 1 << 15
MAX_URL_CHARS = 2048  # longer addresses are almost always a paste error
MAX_ROBOTS_BYTES = 512 * 1024  # Google reads the first 500 KiB of a robots.txt (RFC 9309 asks for >= 500 KiB)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 5.0  # seconds we honour from a Retry-After header; longer waits fail the source instead


@dataclass(frozen=True)
class FetchConfig:
    """How sources are fetched.

    Attributes:
        timeout: Seconds to wait for a connection or for the next bytes of an answer.
        deadline: Seconds one attempt may take in all (a server trickling bytes is cut off).
        retries: Extra attempts after a timeout, a dropped connection, HTTP 429 or 5xx.
        backoff: Seconds before the first retry; doubled for each further retry.
        max_bytes: Largest body read; past it the source fails as "too large".
        max_workers: Sources fetched at the same time.
        host_interval: Least seconds between two requests to one origin (scheme, host, port).
        respect_robots: Obey robots.txt (Disallow rules for our user agent or ``*``).
        allow_private: Allow private, loopback, link-local and reserved addresses (off: a feed
            URL typed by a user must not reach the machine's own network).
        max_redirects: Redirects followed per request; each hop is checked like the first URL.
        max_pages: Article pages fetched per feed for entries that carry no description.
        user_agent: Sent with every request and matched against robots.txt.
    """

    timeout: float = 8.0  # a healthy feed answers in well under a second; a stalled one fails alone
    deadline: float = 20.0  # whole-answer cap per attempt, against servers that trickle bytes
    retries: int = 2  # 3 attempts: rides out a blip, gives up on a dead server within ~30 s
    backoff: float = 0.5  # 0.5 s, then 1 s: short enough for an interactive refresh
    max_bytes: int = 5 * 1024 * 1024  # real feeds are < 1 MB; 5 MB leaves room, stops a 10 MB dump
    max_workers: int = 16  # threads wait on the network, not the CPU; 16 covers the default list at once
    host_interval: float = 0.5  # at most 2 requests a second to one server: polite, still quick
    respect_robots: bool = True  # a site's robots.txt is its stated wish; always honoured by default
    allow_private: bool = False  # user-typed URLs must not probe 127.0.0.1, 10/8, 169.254/16 ... (SSRF)
    max_redirects: int = 5  # feeds move (http -> https, feedburner); more hops than this is a loop
    max_pages: int = 5  # title-only feeds: fetch a few article pages for text, not the whole site
    user_agent: str = f"{APP_NAME}-news/1.0 (personalised news demo; respects robots.txt)"  # honest, matchable

    def __post_init__(self) -> None:
        positive = {"timeout": self.timeout, "deadline": self.deadline, "max_bytes": self.max_bytes}
        for name, value in positive.items():
            if not value > 0:
                raise InputError(f"{name} must be positive, got {value}.")
        if not 1 <= self.max_workers <= 64:
            raise InputError(f"max_workers must be between 1 and 64, got {self.max_workers}.")
        for name in ("retries", "max_redirects", "max_pages"):
            if int(getattr(self, name)) < 0:
                raise InputError(f"{name} must be 0 or more, got {getattr(self, name)}.")
        if self.backoff < 0 or self.host_interval < 0:
            raise InputError("backoff and host_interval must be 0 or more seconds.")


class FetchError(SourceError):
    """One source could not be fetched; the message goes into the health table."""


class TooLarge(FetchError):
    """The answer was larger than ``FetchConfig.max_bytes``."""


class Blocked(FetchError):
    """The address is refused (private network, robots.txt); never retried."""


@dataclass(frozen=True)
class Response:
    """An HTTP answer read in full (up to the size cap).

    Attributes:
        url: Final address after redirects.
        status: HTTP status.
        headers: Header name (lower case) -> value.
        body: The bytes (decompressed when the server sent gzip).
        seconds: Wall time including retries and rate-limit waits.
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ("" when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        message = Message()
        message["content-type"] = self.headers.get("content-type", "")
        value = message.get_param("charset")
        return str(value).strip().lower() if isinstance(value, str) and value.strip() else None


# ---------------------------------------------------------------- URL and address checks


def check_url(url: object) -> str:
    """Validate a URL a user typed: http(s), a host name, no credentials, sensible length.

    Returns:
        The URL, stripped of surrounding whitespace.

    Raises:
        InputError: saying what is wrong and what a valid feed address looks like.
    """
    example = "Use a full address such as https://www.example.com/feed.xml."
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"The feed address is empty. {example}")
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise InputError(f"The address is {len(url):,} characters long (at most {MAX_URL_CHARS:,}). {example}")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise InputError(f"The address {url[:80]!r} contains spaces or control characters. {example}")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        raise InputError(f"The address {url[:80]!r} is malformed ({exc}). {example}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme or "no scheme"
        raise InputError(f"Only http:// and https:// addresses can be fetched, not {shown!r} ({url[:80]}). {example}")
    if not parts.hostname:
        raise InputError(f"The address {url[:80]!r} has no host name. {example}")
    if parts.username or parts.password:
        raise InputError("Addresses with a user name or password in them are not fetched. Remove the 'user:pass@'.")
    if port == 0:
        raise InputError(f"Port 0 in {url[:80]!r} is not a real port. {example}")
    return url


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL: the key of the rate limit and the robots cache."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def is_public(address: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int, *, allow_private: bool, timeout: float = 5.0) -> list[tuple]:
    """Resolve ``host`` and check every address it maps to.

    Returns:
        ``getaddrinfo`` tuples (family, type, proto, canonname, sockaddr) to connect to.

    Raises:
        Blocked: when any address is not public and ``allow_private`` is off (a name that
            resolves to a public and a private address is refused too).
        FetchError: when the name does not resolve.
    """
    del timeout  # getaddrinfo has no timeout; the system resolver's applies
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(f"The host name {host!r} could not be resolved ({exc}).") from exc
    if not infos:
        raise FetchError(f"The host name {host!r} resolved to no address.")
    if not allow_private:
        for info in infos:
            address = str(info[4][0])
            if not is_public(address):
                raise Blocked(
                    f"{host} resolves to {address}, a private, loopback or reserved address; such sources are "
                    "refused (FetchConfig(allow_private=True) allows them on a trusted network)."
                )
    return infos


# ---------------------------------------------------------------- rate limit and robots


class RateLimiter:
    """Spaces requests to one key by ``interval`` seconds; different keys never wait on each other."""

    def __init__(self, interval: float) -> None:
        """Allow one request per ``interval`` seconds and key."""
        self.interval = interval
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Block until ``key`` may be requested again; returns the seconds waited."""
        with self._lock:  # reserve a slot, then sleep outside the lock
            now = time.monotonic()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        return max(delay, 0.0)


class _Connection(http.client.HTTPConnection):
    """HTTP connection to an address that was resolved and checked beforehand."""

    def __init__(self, host: str, port: int, infos: list[tuple], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._infos = infos

    def connect(self) -> None:
        self.sock = _connect(self._infos, self.timeout)


class _SecureConnection(http.client.HTTPSConnection):
    """HTTPS connection to a checked address; the certificate is verified for the host name."""

    def __init__(self, host: str, port: int, infos: list[tuple], timeout: float) -> None:
        import ssl

        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._infos = infos

    def connect(self) -> None:
        sock = _connect(self._infos, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _connect(infos: list[tuple], timeout: float | None) -> socket.socket:
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError("no address to connect to")


@dataclass
class Fetcher:
    """Fetches URLs under one :class:`FetchConfig`, sharing a rate limiter and robots cache between threads.

    Keep one fetcher for a refresh (or a session) so that robots.txt is read once per origin.
    """

    config: FetchConfig = field(default_factory=FetchConfig)

    def __post_init__(self) -> None:
        self._limiter = RateLimiter(self.config.host_interval)
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    # ---- public

    def get(
        self, url: str, *, headers: dict[str, str] | None = None, accept: str = "*/*", raise_for_status: bool = True
    ) -> Response:
        """GET ``url`` with every safety rule applied.

        Args:
            url: http(s) address.
            headers: Extra request headers (an API key, say).
            accept: The Accept header.
            raise_for_status: Raise on HTTP 4xx/5xx (off: return the answer, e.g. to read an API's error JSON).

        Raises:
            InputError: for a URL that is not http(s) or is malformed.
            FetchError: for a refused address, robots.txt, HTTP errors, timeouts or a body that is too large.
        """
        url = check_url(url)
        started = time.monotonic()
        for _ in range(self.config.max_redirects + 1):
            if self.config.respect_robots and not self.allowed(url):
                raise Blocked(
                    f"robots.txt of {urlsplit(url).hostname} does not allow fetching {urlsplit(url).path or '/'}."
                )
            response = self._with_retries(url, headers or {}, accept)
            if response.status in REDIRECT_STATUSES and response.headers.get("location"):
                target = urljoin(url, response.headers["location"])
                try:
                    url = check_url(target)
                except InputError as exc:
                    raise FetchError(f"Redirected to an address that is not fetched: {exc}") from None
                continue
            if response.status >= 400 and raise_for_status:
                raise FetchError(f"HTTP {response.status} from {urlsplit(url).hostname}.")
            return Response(url, response.status, response.headers, response.body, time.monotonic() - started)
        raise FetchError(f"More than {self.config.max_redirects} redirects; the address loops.")

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of ``url``'s origin lets our user agent fetch it (read once per origin)."""
        key = origin(url)
        with self._lock:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:  # one thread reads robots.txt; the others wait for it instead of fetching it again
            if key not in self._robots:
                self._robots[key] = self._read_robots(url)
            parser = self._robots[key]
        return True if parser is None else parser.can_fetch(self.config.user_agent, url)

    # ---- internals

    def _read_robots(self, url: str) -> RobotFileParser | None:
        from urllib.robotparser import RobotFileParser

        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            response = self._with_retries(robots_url, {}, "text/plain", max_bytes=MAX_ROBOTS_BYTES, retries=0)
        except TooLarge:
            return None
        except FetchError as exc:  # unreachable robots.txt: allowed, as browsers and most crawlers assume
            log.info("robots.txt of %s unavailable (%s); treating as allowed", parts.hostname, exc)
            return None
        if response.status != 200:  # 404 and friends: no rules (RFC 9309 2.3.1.3)
            return None
        parser = RobotFileParser(robots_url)
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return parser

    def _with_retries(
        self,
        url: str,
        headers: dict[str, str],
        accept: str,
        *,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> Response:
        retries = self.config.retries if retries is None else retries
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self._once(url, headers, accept, max_bytes or self.config.max_bytes, started)
            except (Blocked, TooLarge):
                raise
            except FetchError as exc:
                if attempt >= retries:
                    raise
                log.info("Retrying %s after: %s", url, exc)
                time.sleep(self.config.backoff * 2**attempt)
                attempt += 1
                continue
            if response.status in RETRY_STATUSES and attempt < retries:
                wait = self.config.backoff * 2**attempt
                retry_after = response.headers.get("retry-after", "")
                if retry_after.strip().isdigit():
                    wait = max(wait, min(float(retry_after), MAX_RETRY_AFTER))
                time.sleep(wait)
                attempt += 1
                continue
            return response

    def _once(self, url: str, headers: dict[str, str], accept: str, max_bytes: int, started: float) -> Response:
        parts = urlsplit(url)
        secure = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        infos = resolve(host, port, allow_private=self.config.allow_private)
        self._limiter.wait(origin(url))
        kind = _SecureConnection if secure else _Connection
        conn = kind(host, port, infos, self.config.timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        request_headers = {
            "User-Agent": self.config.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip",
            **headers,
        }
        attempt_start = time.monotonic()
        try:
            conn.request("GET", path, headers=request_headers)
            answer = conn.getresponse()
            got = {k.lower(): v for k, v in answer.getheaders()}
            announced = got.get("content-length", "").strip()
            if announced.isdigit() and int(announced) > max_bytes:
                raise TooLarge(_too_large(int(announced), max_bytes))
            body = self._read_body(answer, got.get("content-encoding", ""), max_bytes, attempt_start)
        except TimeoutError as exc:
            raise FetchError(f"Timed out after {self.config.timeout:g} s waiting for {host}.") from exc
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise FetchError(f"Connection to {host} failed: {exc or type(exc).__name__}.") from exc
        finally:
            conn.close()
        return Response(url, answer.status, got, body, time.monotonic() - started)

    def _read_body(
        self, answer: http.client.HTTPResponse, encoding: str, max_bytes: int, attempt_start: float
    ) -> bytes:
        gzip = encoding.strip().lower() in ("gzip", "x-gzip")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        parts: list[bytes] = []
        size = 0
        while chunk := answer.read(CHUNK):
            if time.monotonic() - attempt_start > self.config.deadline:
                raise FetchError(f"The answer took longer than {self.config.deadline:g} s; gave up.")
            if inflater is not None:
                # Cap the *decompressed* size too: a small gzip bomb must not fill memory.
                chunk = inflater.decompress(chunk, max_bytes + 1 - size)
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(_too_large(size, max_bytes, streamed=True))
            parts.append(chunk)
        if inflater is not None:
            tail = inflater.flush()
            size += len(tail)
            if size > max_bytes:
                raise TooLarge(_too_large(size, max_bytes, streamed=True))
            parts.append(tail)
        return b"".join(parts)


def _too_large(size: int, cap: int, *, streamed: bool = False) -> str:
    more = "more than " if streamed else ""
    return f"Too large: {more}{size / 1e6:.1f} MB, the limit is {cap / 1e6:.1f} MB (FetchConfig.max_bytes)."

"""Polite, safe HTTP fetching for the news aggregator.

Every request goes through :class:`Fetcher`: only http(s) URLs; the host is resolved and
*every* address checked (private, loopback, link-local and reserved ones are refused unless
``FetchConfig.allow_private``), and the connection is made to the address that was checked,
so a DNS answer cannot change between the check and the connection. robots.txt is read once
per origin (a robots.txt that cannot be fetched allows everything, as browsers and most
crawlers assume); requests to one origin are spaced by ``host_interval``; timeouts, retries
with exponential backoff, redirects re-checked hop by hop, and a cap on the body size
(streamed: a 10 MB feed is cut off at the cap and the source fails as "too large").

The address rules, the total deadline and the credential rule are those of
:mod:`engines.core.net` (shared with the anomaly monitor's webhook): one ``get`` takes at most
``FetchConfig.deadline`` seconds in all, whatever the server does, and a header that carries a
credential (an API key) is dropped when a redirect leaves the origin it was given for. The
robots.txt cache is bounded: the rules for our user agent of the last ``MAX_ROBOTS_ORIGINS``
origins, at most ``MAX_ROBOTS_RULES`` rules each.

The rate limit and the robots cache are keyed by *origin* (scheme, host, port): that is the
unit robots.txt applies to (RFC 9309 section 2.3) and the unit a server is, so two ports on
one machine count as two servers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from engines.core import net
from engines.core.errors import InputError
from engines.core.net import (  # re-exported: the fetcher's names predate engines.core.net
    CHUNK,
    MAX_URL_CHARS,
    Blocked,
    Response,
    TooLarge,
    _connect,
    _Connection,
    _SecureConnection,
    is_public,
    origin,
    resolve,
)
from engines.core.net import RequestError as FetchError
from engines.core.settings import APP_NAME

if TYPE_CHECKING:
    from urllib.robotparser import RobotFileParser

log = logging.getLogger(__name__)

__all__ = [
    "CHUNK",
    "MAX_URL_CHARS",
    "Blocked",
    "FetchConfig",
    "FetchError",
    "Fetcher",
    "RateLimiter",
    "Response",
    "TooLarge",
    "_Connection",
    "_SecureConnection",
    "_connect",
    "check_url",
    "is_public",
    "origin",
    "resolve",
]

MAX_ROBOTS_BYTES = 512 * 1024  # Google reads the first 500 KiB of a robots.txt (RFC 9309 asks for >= 500 KiB)
MAX_ROBOTS_ORIGINS = 32  # robots.txt rules kept for this many origins (least recently used dropped first)
MAX_ROBOTS_RULES = 500  # rules kept per origin, for our user agent only (a 500 KiB file held ~4 MiB of rules)
ROBOTS_SECONDS = 5.0  # robots.txt gets at most this much of a request's deadline
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 5.0  # seconds we honour from a Retry-After header; longer waits fail the source instead
PRIVATE_HINT = " (FetchConfig(allow_private=True) allows them on a trusted network)"


@dataclass(frozen=True)
class FetchConfig:
    """How sources are fetched.

    Attributes:
        timeout: Seconds to wait for a connection or for the next bytes of an answer.
        deadline: Seconds one :meth:`Fetcher.get` may take in all: robots.txt, every redirect and retry, the
            lookup, connect, headers and body (checked on every receive, so a server trickling bytes is cut off).
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
    deadline: float = 20.0  # whole-request cap (retries and redirects included), against servers that trickle bytes
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


# FetchError (= net.RequestError): one source could not be fetched; the message goes into the health table.
# TooLarge: the answer was larger than FetchConfig.max_bytes. Blocked: the address is refused (private network,
# robots.txt); never retried. All three are SourceErrors and live in engines.core.net.


def check_url(url: object) -> str:
    """Validate a URL a user typed: http(s), a host name, no credentials, sensible length, no odd numeric host.

    Returns:
        The URL, stripped of surrounding whitespace.

    Raises:
        InputError: saying what is wrong and what a valid feed address looks like.
    """
    return net.check_url(url, example="Use a full address such as https://www.example.com/feed.xml.")


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
            for old in [k for k, t in self._next.items() if t < now]:
                del self._next[old]  # past slots: the table holds only origins with a request due
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        return max(delay, 0.0)


def compact_robots(parser: RobotFileParser, agent: str, max_rules: int = MAX_ROBOTS_RULES) -> RobotFileParser:
    """Keep only what ``can_fetch(agent, ...)`` reads, bounded.

    That is the first group for ``agent``, the ``*`` group, and at most ``max_rules`` rules of each (the first
    ones: they are matched in order). Sitemaps are dropped.
    """
    from urllib.robotparser import Entry

    def probe(name: str) -> bool:
        entry = Entry()
        entry.useragents = [name]
        return entry.applies_to(agent)

    mine = next((e for e in parser.entries if e.applies_to(agent)), None)
    parser.entries = [mine] if mine is not None else []
    for entry in (mine, parser.default_entry):
        if entry is None:
            continue
        entry.rulelines = entry.rulelines[:max_rules]
        entry.useragents = [next((u for u in entry.useragents if probe(u)), "*")]
    parser.sitemaps = None
    return parser


@dataclass
class Fetcher:
    """Fetches URLs under one :class:`FetchConfig`, sharing a rate limiter and robots cache between threads.

    Keep one fetcher for a refresh (or a session) so that robots.txt is read once per origin.
    """

    config: FetchConfig = field(default_factory=FetchConfig)

    def __post_init__(self) -> None:
        self._limiter = RateLimiter(self.config.host_interval)
        self._robots: OrderedDict[str, RobotFileParser | None] = OrderedDict()
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    # ---- public

    def get(
        self, url: str, *, headers: dict[str, str] | None = None, accept: str = "*/*", raise_for_status: bool = True
    ) -> Response:
        """GET ``url`` with every safety rule applied, in at most ``config.deadline`` seconds in all.

        Args:
            url: http(s) address.
            headers: Extra request headers (an API key, say: it is dropped if a redirect leaves the origin).
            accept: The Accept header.
            raise_for_status: Raise on HTTP 4xx/5xx (off: return the answer, e.g. to read an API's error JSON).

        Raises:
            InputError: for a URL that is not http(s) or is malformed.
            FetchError: for a refused address, robots.txt, HTTP errors, timeouts or a body that is too large.
        """
        url = check_url(url)
        clock = net.Deadline(self.config.deadline)
        hop_headers = dict(headers or {})
        for _ in range(self.config.max_redirects + 1):
            if self.config.respect_robots and not self.allowed(url, clock):
                raise Blocked(
                    f"robots.txt of {urlsplit(url).hostname} does not allow fetching {urlsplit(url).path or '/'}."
                )
            response = self._with_retries(url, hop_headers, accept, clock)
            if response.status in REDIRECT_STATUSES and response.headers.get("location"):
                target = urljoin(url, response.headers["location"])
                try:
                    target = check_url(target)
                except InputError as exc:
                    raise FetchError(f"Redirected to an address that is not fetched: {exc}") from None
                if origin(target) != origin(url):  # credentials stay with the origin they were given for
                    hop_headers = net.without_credentials(hop_headers)
                url = target
                continue
            if response.status >= 400 and raise_for_status:
                raise FetchError(f"HTTP {response.status} from {urlsplit(url).hostname}.")
            return Response(url, response.status, response.headers, response.body, clock.seconds - clock.remaining())
        raise FetchError(f"More than {self.config.max_redirects} redirects; the address loops.")

    def allowed(self, url: str, deadline: net.Deadline | None = None) -> bool:
        """Whether robots.txt of ``url``'s origin lets our user agent fetch it (read once per origin, cached LRU)."""
        key = origin(url)
        with self._lock:
            lock = self._robots_locks.setdefault(key, threading.Lock())
        with lock:  # one thread reads robots.txt; the others wait for it instead of fetching it again
            with self._lock:
                known = key in self._robots
                parser = self._robots.get(key)
                if known:
                    self._robots.move_to_end(key)
            if not known:
                parser = self._read_robots(url, deadline or net.Deadline(self.config.deadline))
                with self._lock:
                    self._robots[key] = parser
                    while len(self._robots) > MAX_ROBOTS_ORIGINS:
                        self._robots.popitem(last=False)
            with self._lock:
                if self._robots_locks.get(key) is lock:
                    del self._robots_locks[key]  # waiting threads hold their own reference; the table stays small
        return True if parser is None else parser.can_fetch(self.config.user_agent, url)

    # ---- internals

    def _read_robots(self, url: str, deadline: net.Deadline) -> RobotFileParser | None:
        from urllib.robotparser import RobotFileParser

        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        clock = deadline.within(min(ROBOTS_SECONDS, self.config.deadline / 2))
        try:
            response = self._with_retries(robots_url, {}, "text/plain", clock, max_bytes=MAX_ROBOTS_BYTES, retries=0)
        except TooLarge:
            return None
        except FetchError as exc:  # unreachable robots.txt: allowed, as browsers and most crawlers assume
            log.info("robots.txt of %s unavailable (%s); treating as allowed", parts.hostname, exc)
            return None
        if response.status != 200:  # 404 and friends: no rules (RFC 9309 2.3.1.3)
            return None
        parser = RobotFileParser(robots_url)
        parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return compact_robots(parser, self.config.user_agent)

    def _with_retries(
        self,
        url: str,
        headers: dict[str, str],
        accept: str,
        clock: net.Deadline,
        *,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> Response:
        retries = self.config.retries if retries is None else retries
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self._once(url, headers, accept, max_bytes or self.config.max_bytes, started, clock)
            except (Blocked, TooLarge):
                raise
            except FetchError as exc:
                wait = self.config.backoff * 2**attempt
                if attempt >= retries or clock.remaining() <= wait:
                    raise
                log.info("Retrying %s after: %s", url, exc)
                time.sleep(wait)
                attempt += 1
                continue
            if response.status in RETRY_STATUSES and attempt < retries:
                wait = self.config.backoff * 2**attempt
                retry_after = response.headers.get("retry-after", "")
                if retry_after.strip().isdigit():
                    wait = max(wait, min(float(retry_after), MAX_RETRY_AFTER))
                if clock.remaining() <= wait:
                    return response  # no time left for another attempt: the caller reports this answer
                time.sleep(wait)
                attempt += 1
                continue
            return response

    def _once(
        self, url: str, headers: dict[str, str], accept: str, max_bytes: int, started: float, clock: net.Deadline
    ) -> Response:
        request_headers = {
            "User-Agent": self.config.user_agent,
            "Accept": accept,
            "Accept-Encoding": "gzip",
            **headers,
        }
        answer = net.request(
            "GET",
            url,
            headers=request_headers,
            allow_private=self.config.allow_private,
            deadline=clock,
            idle_timeout=self.config.timeout,
            max_bytes=max_bytes,
            hint=PRIVATE_HINT,
            size_setting="FetchConfig.max_bytes",
            before_connect=lambda: self._limiter.wait(origin(url)),
        )
        return Response(url, answer.status, answer.headers, answer.body, time.monotonic() - started)

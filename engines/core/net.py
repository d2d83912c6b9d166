"""The outbound-request policy: every request to an address a visitor typed goes through here.

Used by the news fetcher (:mod:`engines.news.fetch`) and the anomaly monitor's webhook
(:mod:`engines.anomaly.alerts`). The rules (issue 26):

* **Resolve once, connect to what was checked.** The host name is resolved once, *every*
  address it maps to is checked, and the socket connects to one of those checked addresses.
  A second lookup (urllib's, say) could get a different answer (DNS rebinding).
* **Public addresses only** (unless the caller allows private ones for a trusted network):
  loopback, private, link-local, shared (CGN), multicast, reserved and unspecified addresses are
  refused, and so is every IPv6 form that carries an IPv4 address (IPv4-mapped, -compatible,
  -translated, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo
  ``2001::/32``): through them ``127.0.0.1`` can hide behind an address that looks like IPv6.
* **Odd literal forms are refused** whatever the switch: ``http://2130706433/``, ``0x7f.1``,
  ``0177.0.0.1``, ``127.1``, ``[::127.0.0.1]``, zone ids. Libraries read them differently.
* **A total deadline** for the whole request (lookup, connect, TLS, request, headers and body): it
  is checked before every ``recv`` and every ``recv`` waits at most what is left, so a server that
  sends one byte a second is cut at the deadline. A body cap (decompressed size counted).
* **Credentials stay with their host**: :func:`without_credentials` drops API keys, auth and cookie
  headers when a redirect leaves the origin; :func:`check_credential_target` refuses to send a
  provider's key to any other origin.

No Streamlit here: pages call these through the engines and show the ``InputError``/``SourceError``.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

from engines.core.errors import InputError, SourceError

log = logging.getLogger(__name__)

CHUNK = 1 << 15
MAX_URL_CHARS = 2048  # longer addresses are almost always a paste error
DEFAULT_DEADLINE = 10.0  # seconds for one request in all
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
LOOKUP_SECONDS = 5.0  # a name lookup that takes longer than this (or than the deadline left) fails the request
# Request headers that carry credentials: never sent to another origin than the one they were given for.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token", "x-access-token"}
)
_CREDENTIAL_WORDS = ("key", "token", "secret", "auth", "password", "session")

_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local-use NAT64
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 ::ffff:0:a.b.c.d
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[xX][0-9a-fA-F]*)$")


# ---------------------------------------------------------------- errors


class RequestError(SourceError):
    """A request failed (address refused, no answer, too large...); the message says why."""


class Blocked(RequestError):
    """The address is refused (not public, robots.txt, a credential for another host); never retried."""


class TooLarge(RequestError):
    """The answer was larger than the cap."""


class TimedOut(RequestError):
    """No (complete) answer within the time allowed."""


class DeadlineExceeded(TimeoutError):
    """Raised by a guarded socket when the request's total deadline has passed."""


# ---------------------------------------------------------------- deadline


class Deadline:
    """A point in time a request must finish by (monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        """Finish within ``seconds`` from now."""
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.end - time.monotonic()

    def within(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, or this one if it comes first."""
        sub = Deadline(seconds)
        if sub.end > self.end:
            sub.end, sub.seconds = self.end, max(self.remaining(), 0.0)
        return sub


def _deadline(value: float | Deadline) -> Deadline:
    return value if isinstance(value, Deadline) else Deadline(value)


# ---------------------------------------------------------------- URLs and addresses


def check_url(url: object, *, example: str = "Use a full address such as https://www.example.com/feed.xml.") -> str:
    """Validate a URL a visitor typed: http(s), a host, no credentials, a sensible length, no odd literal.

    Returns:
        The URL, stripped of surrounding whitespace.

    Raises:
        InputError: saying what is wrong and, with ``example``, what a valid address looks like.
    """
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"The address is empty. {example}")
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
    odd = literal_problem(parts.hostname)
    if odd:
        raise InputError(f"The host {parts.hostname[:80]!r} in {url[:80]!r} is {odd}. {example}")
    return url


def literal_problem(host: str) -> str | None:
    """Why a host written as a number is refused (None for a host name or a plain address).

    ``http://2130706433/``, ``0x7f.1``, ``0177.0.0.1``, ``127.1`` all mean 127.0.0.1 to the C resolver,
    while other parsers read them differently: only dotted decimal ``a.b.c.d`` is accepted. IPv6
    literals with a dotted IPv4 tail (``[::127.0.0.1]``) or a zone id are refused too.
    """
    host = host.strip().lower()
    if ":" in host:  # an IPv6 literal (urlsplit removed the brackets)
        if "%" in host:
            return "an IPv6 address with a zone id, which only means something on this machine"
        if "." in host:
            return "an IPv6 address written with an IPv4 tail (such as [::127.0.0.1]); write a host name instead"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "not a valid IPv6 address"
        return None
    labels = host.split(".")
    if labels and labels[-1] == "" and len(labels) > 1:
        labels = labels[:-1]  # a trailing dot: "example.org." is a fully qualified name
        if _NUMERIC_LABEL.match(labels[-1]):
            return "a numeric address with a trailing dot; write it as a.b.c.d"
    if not labels or not _NUMERIC_LABEL.match(labels[-1]):
        return None  # a host name (its last label is not a number)
    try:
        canonical = str(ipaddress.IPv4Address(host))
    except ValueError:
        canonical = ""
    if canonical != host:
        return "an IPv4 address in an unusual form (decimal, octal or hex numbers, or fewer than four parts); write it as a.b.c.d"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, str] | None:
    """(kind, IPv4 address) for the IPv6 forms that carry an IPv4 address, else None."""
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", str(ip.ipv4_mapped)
    if ip in _IPV4_TRANSLATED:
        return "IPv4-translated", str(low)
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are unspecified and loopback
        return "IPv4-compatible", str(low)
    if ip in _NAT64:
        return "NAT64 (64:ff9b::/96)", str(low)
    if ip in _NAT64_LOCAL:
        return "local-use NAT64 (64:ff9b:1::/48)", "an IPv4 address"
    if ip.sixtofour is not None:
        return "6to4 (2002::/16)", str(ip.sixtofour)
    if ip.teredo is not None:
        return "Teredo (2001::/32)", str(ip.teredo[1])
    return None


def address_problem(address: str) -> str | None:
    """Why an IP address is refused ("loopback", "private", ...), or None for a public address."""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            kind, v4 = embedded
            inner = address_problem(v4) if v4[0].isdigit() else None
            return f"an IPv6 {kind} address carrying {v4}" + (f" ({inner})" if inner else "")
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("shared (carrier-grade NAT)", isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED),
        ("private", ip.is_private),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def is_public(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved, unspecified and IPv4-carrying IPv6 addresses."""
    return address_problem(address) is None


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL (the unit of robots.txt, the rate limit and credentials)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower().rstrip(".")
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _lookup(host: str, port: int, deadline: Deadline) -> list[tuple]:
    """``getaddrinfo`` bounded in time (it has no timeout of its own): run on a helper thread."""
    if _is_literal(host):  # no lookup at all
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # noqa: BLE001 (handed to the caller)
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="net-lookup", daemon=True).start()
    wait = min(LOOKUP_SECONDS, max(deadline.remaining(), 0.0))
    if not done.wait(wait):
        raise TimedOut(f"Looking up the host name {host!r} took longer than {wait:.1f} s; gave up.")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return list(box["infos"])  # type: ignore[arg-type]


def resolve(
    host: str, port: int, *, allow_private: bool, deadline: float | Deadline = LOOKUP_SECONDS, hint: str = ""
) -> list[tuple]:
    """Resolve ``host`` once and check every address it maps to.

    Args:
        host: Host name or address literal.
        port: TCP port.
        allow_private: Skip the address check (a trusted network, tests).
        deadline: Seconds (or a :class:`Deadline`) the lookup may take.
        hint: Appended to the refusal (how to allow such addresses, for the caller's users).

    Returns:
        ``getaddrinfo`` tuples (family, type, proto, canonname, sockaddr): connect to these, never look up again.

    Raises:
        Blocked: an odd literal, or any address that is not public (a name with a public and a private
            address is refused too).
        RequestError: the name does not resolve (or not in time).
    """
    clock = _deadline(deadline)
    odd = literal_problem(host)
    if odd:
        raise Blocked(f"The host {host[:80]!r} is {odd}.")
    try:
        infos = _lookup(host, port, clock)
    except RequestError:
        raise
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise RequestError(f"The host name {host!r} could not be resolved ({exc}).") from exc
    infos = [i for i in infos if i[0] in (socket.AF_INET, socket.AF_INET6)]
    literal = _is_literal(host)
    if not infos:
        raise RequestError(f"The host name {host!r} resolved to no address.")
    if not allow_private:
        for info in infos:
            address = str(info[4][0])
            problem = address_problem(address)
            if not problem:
                continue
            if literal:  # the visitor typed the address: saying what it is tells them nothing new
                raise Blocked(f"{host} is a private, loopback or reserved address ({problem}); refused{hint}.")
            # A name: the message does not say which address it has (no map of internal names for a visitor).
            log.info("Refused %s: it resolves to %s (%s)", host, address, problem)
            raise Blocked(
                f"{host} resolves to a private, loopback or reserved address; such addresses are refused{hint}."
            )
    return infos


# ---------------------------------------------------------------- credentials


def is_credential(header: str) -> bool:
    """Whether a request header carries a credential (an API key, a token, a cookie...)."""
    name = header.strip().lower()
    return name in CREDENTIAL_HEADERS or any(word in name for word in _CREDENTIAL_WORDS)


def without_credentials(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` less every credential (for a hop to another origin)."""
    return {k: v for k, v in headers.items() if not is_credential(k)}


def check_credential_target(url: str, allowed: Iterable[str], what: str) -> str:
    """Refuse to send ``what`` (a provider's key) to any origin but ``allowed`` (``scheme://host:port``).

    Raises:
        InputError: naming where the credential may go.
    """
    url = check_url(url)
    allowed = tuple(allowed)
    if origin(url) not in allowed:
        where = ", ".join(a.removesuffix(":443") for a in allowed)
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        if any(urlsplit(a).hostname == host for a in allowed):  # the right host over http or on another port
            problem = f"{url[:80]} uses another scheme or port"
        else:
            problem = f"{host} is another server"
        raise InputError(f"{what} is sent only to {where}; {problem}, so nothing was sent. Use an address on {where}.")
    return url


# ---------------------------------------------------------------- connections


class _GuardedSocket:
    """A connected socket whose every send and receive waits at most what is left of the deadline.

    ``idle`` caps a single wait as well (a server silent for that long fails faster than the deadline). Like a
    plain socket, closing it while a reader from :meth:`makefile` is open defers the real close to the reader's
    (http.client closes the connection as soon as it knows the server will, before the body is read).
    """

    def __init__(self, sock: socket.socket, deadline: Deadline, idle: float | None) -> None:
        self._sock, self._deadline, self._idle = sock, deadline, idle
        self._readers = 0
        self._closing = False

    def _arm(self) -> None:
        left = self._deadline.remaining()
        if left <= 0:
            raise DeadlineExceeded("the request's deadline passed")
        self._sock.settimeout(min(left, self._idle) if self._idle else left)

    def sendall(self, data: bytes) -> None:
        self._arm()
        self._sock.sendall(data)

    def recv_into(self, buffer, nbytes: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        del args, kwargs
        if "w" in mode:
            raise ValueError("a guarded socket reads only")
        self._readers += 1
        return io.BufferedReader(_GuardedReader(self))

    def _reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closing = True
        if self._readers <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


class _GuardedReader(io.RawIOBase):
    def __init__(self, sock: _GuardedSocket) -> None:
        super().__init__()
        self._sock: _GuardedSocket | None = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._sock is None:
            raise ValueError("read from a closed response")
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock._reader_closed()
        super().close()


def _connect(infos: list[tuple], deadline: float | Deadline | None, idle: float | None = None) -> socket.socket:
    """A socket connected to the first of ``infos`` (checked addresses) that answers in time."""
    clock = _deadline(deadline if deadline is not None else DEFAULT_DEADLINE)
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        left = clock.remaining()
        if left <= 0:
            raise DeadlineExceeded("the request's deadline passed while connecting")
        sock = socket.socket(family, kind, proto)
        sock.settimeout(min(left, idle) if idle else left)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise last or OSError("no address to connect to")


class _Connection(http.client.HTTPConnection):
    """HTTP connection to an address resolved and checked beforehand, under a total deadline."""

    def __init__(
        self, host: str, port: int, infos: list[tuple], deadline: float | Deadline, idle: float | None = None
    ) -> None:
        clock = _deadline(deadline)
        super().__init__(host, port, timeout=idle or clock.seconds)
        self._infos, self._clock, self._idle = infos, clock, idle

    def connect(self) -> None:
        self.sock = _GuardedSocket(_connect(self._infos, self._clock, self._idle), self._clock, self._idle)


class _SecureConnection(_Connection):
    """HTTPS to a checked address; the certificate is verified for the host name; the handshake is in the deadline."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        raw = _connect(self._infos, self._clock, self._idle)
        left = self._clock.remaining()
        if left <= 0:
            raw.close()
            raise DeadlineExceeded("the request's deadline passed before the TLS handshake")
        raw.settimeout(min(left, self._idle) if self._idle else left)
        try:
            tls = ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        self.sock = _GuardedSocket(tls, self._clock, self._idle)


# ---------------------------------------------------------------- requests


@dataclass(frozen=True)
class Response:
    """An HTTP answer read in full (up to the size cap).

    Attributes:
        url: Final address.
        status: HTTP status.
        headers: Header name (lower case) -> value.
        body: The bytes (decompressed when the server sent gzip).
        seconds: Wall time.
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


def too_large(size: int, cap: int, *, streamed: bool = False, setting: str = "the size cap") -> str:
    """The message for a body over ``cap`` bytes."""
    more = "more than " if streamed else ""
    return f"Too large: {more}{size / 1e6:.1f} MB, the limit is {cap / 1e6:.1f} MB ({setting})."


def read_body(
    answer: http.client.HTTPResponse, encoding: str, max_bytes: int, *, setting: str = "the size cap"
) -> bytes:
    """The body, decompressed when gzip, at most ``max_bytes`` (decompressed size counted: no gzip bomb).

    Raises:
        TooLarge: past ``max_bytes``.
    """
    gzip = encoding.strip().lower() in ("gzip", "x-gzip")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
    parts: list[bytes] = []
    size = 0
    while chunk := answer.read(CHUNK):
        if inflater is not None:
            chunk = inflater.decompress(chunk, max_bytes + 1 - size)
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(too_large(size, max_bytes, streamed=True, setting=setting))
        parts.append(chunk)
    if inflater is not None:
        tail = inflater.flush()
        size += len(tail)
        if size > max_bytes:
            raise TooLarge(too_large(size, max_bytes, streamed=True, setting=setting))
        parts.append(tail)
    return b"".join(parts)


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    allow_private: bool = False,
    deadline: float | Deadline = DEFAULT_DEADLINE,
    idle_timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    read: bool = True,
    hint: str = "",
    size_setting: str = "the size cap",
    before_connect: Callable[[], object] | None = None,
) -> Response:
    """One HTTP request (no redirect followed) under the policy of this module.

    Args:
        method: GET, POST...
        url: A URL already checked with :func:`check_url` (or by the caller's own rules).
        headers: Request headers (the caller decides which credentials go to this origin).
        body: Request body.
        allow_private: Allow non-public addresses (trusted network, tests).
        deadline: Seconds (or a shared :class:`Deadline`) for the whole request: lookup, connect, TLS, headers, body.
        idle_timeout: Longest single wait for the server (None: only the deadline).
        max_bytes: Largest body read.
        read: Read the body (off: only the status and headers, e.g. for a webhook).
        hint: Appended to a refusal of a private address (how to allow one).
        size_setting: The setting named in a "too large" message.
        before_connect: Called after the lookup, before connecting (a rate limit's wait).

    Raises:
        Blocked: the address is refused (nothing was sent).
        TimedOut: no complete answer within the deadline (or ``idle_timeout`` of silence).
        TooLarge: the body is over ``max_bytes``.
        RequestError: the name does not resolve, the connection fails, or the answer is not HTTP.
    """
    clock = _deadline(deadline)
    started = time.monotonic()
    parts = urlsplit(url)
    secure = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    infos = resolve(host, port, allow_private=allow_private, deadline=clock, hint=hint)
    if before_connect is not None:
        before_connect()
    conn = (_SecureConnection if secure else _Connection)(host, port, infos, clock, idle_timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    answer: http.client.HTTPResponse | None = None
    try:
        conn.request(method, target, body=body, headers=dict(headers or {}))
        answer = conn.getresponse()
        got = {k.lower(): v for k, v in answer.getheaders()}
        data = b""
        if read:
            announced = got.get("content-length", "").strip()
            if announced.isdigit() and int(announced) > max_bytes:
                raise TooLarge(too_large(int(announced), max_bytes, setting=size_setting))
            data = read_body(answer, got.get("content-encoding", ""), max_bytes, setting=size_setting)
    except TimeoutError as exc:
        if isinstance(exc, DeadlineExceeded) or clock.remaining() <= 0.05 or idle_timeout is None:
            raise TimedOut(f"Timed out: {host} sent no complete answer within {clock.seconds:g} s; gave up.") from None
        raise TimedOut(f"Timed out after {idle_timeout:g} s waiting for {host}.") from None
    except (http.client.HTTPException, OSError) as exc:
        raise RequestError(f"Connection to {host} failed: {exc or type(exc).__name__}.") from None
    finally:
        if answer is not None:
            answer.close()
        conn.close()
    return Response(url, answer.status, got, data, time.monotonic() - started)

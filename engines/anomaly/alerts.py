"""Alert rules over a stream of anomaly scores, an alert log, and a guarded webhook.

A rule fires when the score stays at or above its threshold for ``min_consecutive`` points,
then stays silent for ``cooldown`` points. The webhook posts a small JSON to a URL the user
gives, under the outbound-request policy of :mod:`engines.core.net`: the URL is validated
(http/https, a host, no credentials, no odd numeric host), the host is resolved once and the
POST connects to the very address that was checked (no second lookup for DNS rebinding to
change), loopback/private/link-local/reserved targets and the IPv6 forms that carry an IPv4
address are refused unless allowed, and the whole POST has a total deadline of
``WEBHOOK_TIMEOUT`` seconds (a server that trickles bytes is cut at it). Posts run on worker
threads (:class:`WebhookSender` for the stream, :func:`post_in_background` for the page's test
button), so neither the stream nor a page waits for a receiver; every failure is recorded
instead of raised, and every failure to reach an address reads the same (``UNREACHABLE``), so
the page's reply does not tell which private ports answer.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

import pandas as pd

from engines.core import net
from engines.core.errors import InputError

log = logging.getLogger(__name__)

ALLOW_PRIVATE_ENV = "GALLERY_WEBHOOK_ALLOW_PRIVATE"  # "1" lets webhooks reach loopback/private addresses
WEBHOOK_TIMEOUT = 3.0  # seconds for the whole POST (lookup, connect, TLS, answer); a slow receiver is cut at it
LOOKUP_TIMEOUT = 2.0  # seconds the URL check may spend resolving the host name
MAX_PENDING = 20  # queued POSTs per sender; past it an alert's webhook is skipped (the receiver is too slow)
MAX_BACKGROUND = 8  # test posts in flight at once, over every visitor; past it a test is refused at once
UNREACHABLE = (
    "failed: the webhook could not be reached. Its address is refused (loopback, private or link-local), "
    "nothing answered, or no complete answer came within {seconds:g} s. Check the URL, and that the receiver "
    "is public and accepts POST requests."
)


class Severity(StrEnum):
    """How loud an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class AlertRule:
    """When to raise an alert.

    Attributes:
        threshold: Score at or above which a point counts as anomalous.
        min_consecutive: Anomalous points in a row needed to fire.
        cooldown: Points after an alert during which the rule stays silent.
        severity: Severity of the alerts it raises.
    """

    threshold: float = 1.29  # the online detector's NAB-optimised threshold
    min_consecutive: int = 1  # fire on the first anomalous point
    cooldown: int = 100  # one alert per incident
    severity: Severity = Severity.WARNING  # a person should look, not be paged

    def __post_init__(self) -> None:
        if self.min_consecutive < 1:
            raise InputError("Minimum consecutive points must be at least 1.")
        if self.cooldown < 0:
            raise InputError("Cooldown must be 0 or more points.")
        try:
            object.__setattr__(self, "severity", Severity(self.severity))
        except ValueError as exc:
            raise InputError(f"Severity must be one of: {', '.join(Severity)}.") from exc


@dataclass(frozen=True)
class Alert:
    """One raised alert.

    Attributes:
        id: Sequence number (1, 2, ...).
        index: Row of the series.
        time: Timestamp of the point, as text.
        value: The point's value.
        score: Its anomaly score.
        severity: From the rule.
        acknowledged: Set by a person.
        webhook: Outcome of the webhook ("" when none was sent).
    """

    id: int
    index: int
    time: str
    value: float
    score: float
    severity: str
    acknowledged: bool = False
    webhook: str = ""

    @property
    def message(self) -> str:
        """One line for a toast or a chat message."""
        return f"[{self.severity}] anomaly at {self.time}: value {self.value:.4g}, score {self.score:.2f}"


class AlertManager:
    """Applies a rule point by point (constant work per point) and keeps the log."""

    def __init__(self, rule: AlertRule | None = None) -> None:
        """Start with an empty log."""
        self.rule = rule or AlertRule()
        self.alerts: list[Alert] = []
        self._run = 0
        self._silent_until = -1

    def feed(self, index: int, time: str | Callable[[int], str], value: float, score: float) -> Alert | None:
        """Feed one scored point; returns the alert it raised, if any.

        Args:
            index: Row of the point.
            time: Its timestamp as text, or a function of ``index`` that gives it (called only when an alert fires,
                so a stream does not format a timestamp per point).
            value: The point's value.
            score: Its anomaly score.
        """
        rule = self.rule
        if index <= self._silent_until:
            self._run = 0  # points in the cooldown do not count towards the next alert
            return None
        self._run = self._run + 1 if score >= rule.threshold else 0
        if self._run < rule.min_consecutive:
            return None
        stamp = time(index) if callable(time) else str(time)
        alert = Alert(len(self.alerts) + 1, int(index), stamp, float(value), float(score), rule.severity.value)
        self.alerts.append(alert)
        self._silent_until = index + rule.cooldown
        self._run = 0
        return alert

    def acknowledge(self, alert_id: int) -> None:
        """Mark one alert as acknowledged (unknown ids are ignored)."""
        self.alerts = [replace(a, acknowledged=True) if a.id == alert_id else a for a in self.alerts]

    def record_webhook(self, alert_id: int, outcome: str) -> None:
        """Write the webhook's outcome into the log."""
        self.alerts = [replace(a, webhook=outcome) if a.id == alert_id else a for a in self.alerts]

    def frame(self) -> pd.DataFrame:
        """The log as a table (for the page and the CSV export)."""
        columns = ["id", "time", "value", "score", "severity", "acknowledged", "webhook", "index"]
        return pd.DataFrame([a.__dict__ for a in self.alerts], columns=columns)

    def to_csv(self) -> str:
        """The log as CSV text."""
        return self.frame().to_csv(index=False)


def allow_private_default() -> bool:
    """Whether the environment allows webhooks to loopback/private addresses."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _private_message(host: str) -> str:
    return (
        f"The webhook host {host!r} is a loopback, private or link-local address; "
        f"this deployment only posts to public addresses (set {ALLOW_PRIVATE_ENV}=1 to allow it)."
    )


def validate_webhook_url(url: str, *, allow_private: bool | None = None, resolve: bool = True) -> str:
    """Check a webhook URL and return it stripped.

    Args:
        url: http(s) URL with a host and no user:password.
        allow_private: Allow loopback/private/link-local targets (default: env GALLERY_WEBHOOK_ALLOW_PRIVATE).
        resolve: Also resolve a host name and check its addresses (the page does, to explain a refusal as the URL
            is typed; :func:`post_webhook` does not: it resolves once, when it connects, and checks that answer).

    Raises:
        InputError: saying what is wrong with the URL.
    """
    allow = allow_private_default() if allow_private is None else allow_private
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"The webhook URL is malformed ({exc}).") from exc
    if parts.scheme not in ("http", "https"):
        raise InputError("The webhook URL must start with http:// or https://.")
    if not parts.hostname:
        raise InputError("The webhook URL has no host name, e.g. https://hooks.example.com/alerts.")
    if parts.username or parts.password:
        raise InputError("Put no user name or password in the webhook URL; use a token in the path instead.")
    if len(url) > net.MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
        raise InputError(f"The webhook URL is too long or contains spaces (at most {net.MAX_URL_CHARS} characters).")
    host = parts.hostname
    odd = net.literal_problem(host)
    if odd:
        raise InputError(f"The webhook host {host[:80]!r} is {odd}.")
    if allow:
        return url
    if _is_ip(host):
        if net.address_problem(host):
            raise InputError(_private_message(host))
        return url
    if resolve:
        try:
            net.resolve(host, port or (443 if parts.scheme == "https" else 80), allow_private=False,
                        deadline=LOOKUP_TIMEOUT)  # fmt: skip
        except net.Blocked:
            raise InputError(_private_message(host)) from None
        except net.RequestError:
            raise InputError(
                f"The webhook host {host[:80]!r} could not be resolved; check the spelling of the URL."
            ) from None
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def post_webhook(
    url: str, payload: dict, *, timeout: float = WEBHOOK_TIMEOUT, allow_private: bool | None = None
) -> str:
    """POST ``payload`` as JSON; returns the outcome in words and never raises.

    The host is resolved once and the POST goes to the address that was checked; ``timeout`` bounds the whole
    POST. Redirects are not followed (they are reported as failures), so validation cannot be bypassed by one.
    Every failure to reach the address (refused, closed, silent, too slow) gives the same ``UNREACHABLE`` text.

    Returns:
        "sent (HTTP 200)", or "failed: ..." with the reason.
    """
    allow = allow_private_default() if allow_private is None else allow_private
    try:
        url = validate_webhook_url(url, allow_private=allow, resolve=False)
        body = json.dumps(payload, default=str).encode()
        answer = net.request(
            "POST",
            url,
            headers={"Content-Type": "application/json", "User-Agent": "ml-gallery/1"},
            body=body,
            allow_private=allow,
            deadline=timeout,
            read=False,
        )
    except InputError as exc:
        return f"failed: {exc}"
    except net.RequestError as exc:
        log.info("Webhook to %s failed: %s", urlsplit(url).hostname, exc)
        return UNREACHABLE.format(seconds=timeout)
    except Exception as exc:  # noqa: BLE001 (a webhook must never break the stream)
        log.warning("Webhook to %s failed unexpectedly: %r", urlsplit(url).hostname, exc)
        return UNREACHABLE.format(seconds=timeout)
    if 200 <= answer.status < 300:
        return f"sent (HTTP {answer.status})"
    return f"failed: HTTP {answer.status}"


_background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhook-test")
_in_flight = 0
_in_flight_lock = threading.Lock()


def post_in_background(
    url: str, payload: dict, *, timeout: float = WEBHOOK_TIMEOUT, allow_private: bool | None = None
) -> Future[str]:
    """:func:`post_webhook` on a shared worker thread: returns at once, the future holds the outcome.

    At most ``MAX_BACKGROUND`` posts wait at a time (all visitors together); past that the future is already done
    with a "try again" failure, so a visitor clicking fast cannot queue unbounded work.
    """
    global _in_flight
    allow = allow_private_default() if allow_private is None else allow_private  # read now, on the caller's thread
    with _in_flight_lock:
        if _in_flight >= MAX_BACKGROUND:
            busy: Future[str] = Future()
            busy.set_result("failed: too many webhook tests are running; try again in a few seconds.")
            return busy
        _in_flight += 1

    def done(_: Future[str]) -> None:
        global _in_flight
        with _in_flight_lock:
            _in_flight -= 1

    future = _background.submit(post_webhook, url, payload, timeout=timeout, allow_private=allow)
    future.add_done_callback(done)
    return future


class WebhookSender:
    """Posts on one worker thread, so the stream never waits for a receiver."""

    def __init__(self, url: str, *, allow_private: bool | None = None, timeout: float = WEBHOOK_TIMEOUT) -> None:
        """Validate ``url`` now (raises InputError; no lookup: each post resolves once and checks), then post on demand."""
        self.url = validate_webhook_url(url, allow_private=allow_private, resolve=False)
        self.allow_private, self.timeout = allow_private, timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook")
        self.pending: dict[int, Future[str]] = {}

    def send(self, alert: Alert) -> None:
        """Queue one alert's POST (returns at once; skipped when ``MAX_PENDING`` are already waiting)."""
        if sum(not f.done() for f in self.pending.values()) >= MAX_PENDING:
            skipped: Future[str] = Future()
            skipped.set_result(f"failed: skipped, {MAX_PENDING} webhook posts were still waiting for the receiver.")
            self.pending[alert.id] = skipped
            return
        payload = {"alert": alert.id, "time": alert.time, "value": alert.value, "score": alert.score}
        payload |= {"severity": alert.severity, "text": alert.message}
        self.pending[alert.id] = self._pool.submit(
            post_webhook, self.url, payload, timeout=self.timeout, allow_private=self.allow_private
        )

    def collect(self, manager: AlertManager, *, wait: float = 0.0) -> int:
        """Record finished POSTs in the log (waiting up to ``wait`` seconds for each); returns how many."""
        done = 0
        for alert_id, future in list(self.pending.items()):
            try:
                outcome = future.result(timeout=wait) if wait else (future.result() if future.done() else None)
            except Exception as exc:  # noqa: BLE001 (timeouts and anything else: try again later)
                outcome = None if not future.done() else f"failed: {exc}"
            if outcome is not None:
                manager.record_webhook(alert_id, outcome)
                del self.pending[alert_id]
                done += 1
        return done

    def close(self) -> None:
        """Stop the worker (pending POSTs finish on their own)."""
        self._pool.shutdown(wait=False)

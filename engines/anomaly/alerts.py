"""Alert rules over a stream of anomaly scores, an alert log, and a guarded webhook.

A rule fires when the score stays at or above its threshold for ``min_consecutive`` points,
then stays silent for ``cooldown`` points. The webhook posts a small JSON to a URL the user
gives: the URL is validated (http/https, a host, no credentials, no loopback/private/link-local
target unless allowed), the POST has a short timeout, runs on a worker thread, and every
failure is recorded instead of raised, so a bad webhook never breaks the stream.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

import pandas as pd

from engines.core.errors import InputError

ALLOW_PRIVATE_ENV = "GALLERY_WEBHOOK_ALLOW_PRIVATE"  # "1" lets webhooks reach loopback/private addresses
WEBHOOK_TIMEOUT = 2.0  # seconds; a slow receiver must not hold alerts back


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


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return not ip.is_global or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast


def allow_private_default() -> bool:
    """Whether the environment allows webhooks to loopback/private addresses."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def validate_webhook_url(url: str, *, allow_private: bool | None = None) -> str:
    """Check a webhook URL and return it stripped.

    Args:
        url: http(s) URL with a host and no user:password.
        allow_private: Allow loopback/private/link-local targets (default: env GALLERY_WEBHOOK_ALLOW_PRIVATE).

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
    if allow:
        return url
    try:
        addresses = {parts.hostname} if _is_ip(parts.hostname) else _resolve(parts.hostname, port)
    except OSError as exc:
        raise InputError(f"The webhook host {parts.hostname!r} could not be resolved ({exc}).") from exc
    if any(_private(a) for a in addresses):
        raise InputError(
            f"The webhook host {parts.hostname!r} is a loopback, private or link-local address; "
            f"this deployment only posts to public addresses (set {ALLOW_PRIVATE_ENV}=1 to allow it)."
        )
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int | None) -> set[str]:
    return {str(info[4][0]) for info in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: a public URL must not bounce the POST to an internal address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ARG002 (urllib's signature)
        return None  # urllib then raises HTTPError with the 3xx code


def post_webhook(
    url: str, payload: dict, *, timeout: float = WEBHOOK_TIMEOUT, allow_private: bool | None = None
) -> str:
    """POST ``payload`` as JSON; returns the outcome in words and never raises.

    Redirects are not followed (they are reported as failures), so validation cannot be bypassed by one.

    Returns:
        "sent (HTTP 200)", or "failed: ..." with the reason.
    """
    try:
        url = validate_webhook_url(url, allow_private=allow_private)
        body = json.dumps(payload, default=str).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "ml-gallery/1"}
        )
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout) as response:
            return f"sent (HTTP {response.status})"
    except urllib.error.HTTPError as exc:
        return f"failed: HTTP {exc.code}"
    except InputError as exc:
        return f"failed: {exc}"
    except Exception as exc:  # noqa: BLE001 (a webhook must never break the stream)
        return f"failed: {type(exc).__name__}: {getattr(exc, 'reason', exc)}"


class WebhookSender:
    """Posts on one worker thread, so the stream never waits for a receiver."""

    def __init__(self, url: str, *, allow_private: bool | None = None, timeout: float = WEBHOOK_TIMEOUT) -> None:
        """Validate ``url`` now (raises InputError), then post to it on demand."""
        self.url = validate_webhook_url(url, allow_private=allow_private)
        self.allow_private, self.timeout = allow_private, timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook")
        self.pending: dict[int, Future[str]] = {}

    def send(self, alert: Alert) -> None:
        """Queue one alert's POST (returns at once)."""
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

"""One process-wide queue of background work (training, warm-up) with a small concurrency limit.

Why one queue: on two shared CPUs, two trainings at once make both slower and starve the answers a
visitor is waiting for. Jobs are keyed (engine + artifact key): asking for a job that is already
queued or running returns that job, never a second copy. A job belongs to the process, not to the
visitor who started it, so it outlives the visit: shared models finish and are saved for the next
visitor (who sees the running job and its progress meanwhile). A job marked ``private`` (a visitor's
own upload) is cancelled once nobody has looked at it for ``unwatched_s`` seconds.

No streamlit here: pages poll a job's fields from a fragment.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from engines.core.errors import InputError, SourceError

log = logging.getLogger(__name__)
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
KEEP_FINISHED_S = 3600.0  # a finished job stays visible this long (a returning visitor sees the result)
MAX_FINISHED = 64  # and at most this many finished jobs are kept
VISITOR, BACKGROUND = 0, 1  # priorities: a visitor is waiting / warm-up and rebuilds
# A job's thread runs at a lower OS priority (Linux nice value, per thread), so on busy CPUs the page scripts
# answering visitors get the cores first and background training takes what is left.
JOB_NICENESS = 10


class JobCancelled(Exception):
    """Raised inside a job's work by its progress callback once the job is cancelled."""


@dataclass(eq=False)
class Job:
    """One unit of background work and what a page needs to draw it.

    The work calls :meth:`report` (the engine's ``progress`` callback); it raises :class:`JobCancelled`
    once the job is cancelled, so any engine that reports progress can be stopped. ``stop`` is the
    gentler request some trainings honour (stop early and keep the model so far).
    """

    key: str
    title: str
    work: Callable[[Job], Any]
    priority: int = VISITOR
    private: bool = False
    unwatched_s: float = 30.0
    context: Any = None
    state: str = QUEUED
    fraction: float = 0.0
    message: str = "Waiting for its turn"
    curve: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    seen: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    _harvested: set[str] = field(default_factory=set)

    def report(self, fraction: float, message: str) -> None:
        """The progress callback handed to the engine."""
        if self.cancelled.is_set():
            raise JobCancelled(self.title)
        if self.private and time.monotonic() - self.seen > self.unwatched_s:
            self.cancelled.set()
            raise JobCancelled(f"{self.title}: nobody is watching")
        self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), message

    def touch(self) -> None:
        """A page is showing this job (private jobs are cancelled when this stops)."""
        self.seen = time.monotonic()

    def cancel(self) -> None:
        """Stop the job at its next progress report (a queued job never starts)."""
        self.cancelled.set()
        self.stop.set()

    def elapsed(self, now: float | None = None) -> float:
        """Seconds it has run (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.finished or now or time.monotonic()) - self.started

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left, from the pace so far; None until there is enough to judge."""
        elapsed = self.elapsed(now)
        if self.state != RUNNING or self.fraction < 0.03 or elapsed < 1.0:
            return None
        return max(0.0, elapsed * (1.0 - self.fraction) / self.fraction)

    def status_line(self, now: float | None = None) -> str:
        """The line under the progress bar: message, percent and time left."""
        if self.state == QUEUED:
            return f"{self.title}: waiting for another training to finish"
        eta = self.eta_s(now)
        left = "" if eta is None else f", about {format_seconds(eta)} left"
        return f"{self.message} ({self.fraction:.0%}{left})"

    def harvest(self, who: str = "") -> bool:
        """True exactly once per ``who`` after the job finished with a result (a session takes it in)."""
        if self.state != DONE or who in self._harvested:
            return False
        self._harvested.add(who)
        return True


def format_seconds(seconds: float) -> str:
    """12 -> '12 s', 95 -> '1 min 35 s'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


class JobQueue:
    """Runs keyed jobs, at most ``concurrency`` at once, visitors' jobs before background ones."""

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = max(1, concurrency)
        self._lock = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._waiting: list[tuple[int, int, Job]] = []
        self._running = 0
        self._order = itertools.count()

    def submit(
        self,
        key: str,
        title: str,
        work: Callable[[Job], Any],
        *,
        priority: int = VISITOR,
        private: bool = False,
        context: Any = None,
        unwatched_s: float = 30.0,
    ) -> Job:
        """The job for ``key``: the one already queued, running or just done, or a new one.

        A job that failed or was cancelled is replaced by a new one. A visitor's request lifts a queued
        background job of the same key to the visitor's priority.
        """
        with self._lock:
            self._forget_old()
            job = self._jobs.get(key)
            if job is not None and job.state not in (FAILED, CANCELLED):
                job.touch()
                if priority < job.priority and job.state == QUEUED:
                    job.priority = priority
                    self._waiting = [(job.priority if j is job else p, n, j) for p, n, j in self._waiting]
                return job
            job = Job(key, title, work, priority, private, unwatched_s, context)
            self._jobs[key] = job
            self._waiting.append((priority, next(self._order), job))
            # Not a daemon: torch must not be torn down mid-step at interpreter exit (that aborts the process).
            threading.Thread(target=self._run, args=(job,), name=f"job-{title}"[:60], daemon=False).start()
            return job

    def get(self, key: str) -> Job | None:
        """The job for ``key`` if there is one (any state)."""
        with self._lock:
            return self._jobs.get(key)

    def jobs(self) -> list[Job]:
        """Every job known, oldest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created)

    def active(self) -> list[Job]:
        """Jobs queued or running."""
        return [j for j in self.jobs() if j.state not in FINISHED]

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job is queued or running (tests, the build command); False on timeout."""
        deadline = time.monotonic() + timeout
        for job in self.active():
            if not job.done.wait(max(0.0, deadline - time.monotonic())):
                return False
        return not self.active() or self.wait_idle(max(0.0, deadline - time.monotonic()))

    def _turn(self, job: Job) -> bool:
        if self._running >= self.concurrency:
            return False
        first = min(self._waiting, key=lambda w: (w[0], w[1]))
        return first[2] is job

    def _run(self, job: Job) -> None:
        with self._lock:
            while not job.cancelled.is_set() and not self._turn(job):
                self._lock.wait(timeout=1.0)
                if job.private and time.monotonic() - job.seen > job.unwatched_s:
                    job.cancelled.set()
            self._waiting = [w for w in self._waiting if w[2] is not job]
            if job.cancelled.is_set():
                self._finish(job, CANCELLED)
                return
            self._running += 1
            job.state, job.started, job.message = RUNNING, time.monotonic(), "Starting"
        state = DONE
        lower_priority()
        try:
            job.result = job.work(job)
        except JobCancelled:
            state = CANCELLED
        except (InputError, SourceError) as exc:
            state, job.error = FAILED, str(exc)
        except Exception:
            # The traceback goes to the server log; the visitor (and every other visitor, on the System page) sees a
            # calm line: an exception's text can quote a crafted upload or name server paths (issue 26).
            log.exception("Job %s failed", job.title)
            state, job.error = FAILED, f"{job.title} failed unexpectedly; the details are in the server log."
        with self._lock:
            self._running -= 1
            self._finish(job, state)

    def _finish(self, job: Job, state: str) -> None:
        job.state, job.finished = state, time.monotonic()
        if state == DONE:
            job.fraction = 1.0
        job.done.set()
        self._lock.notify_all()

    def _forget_old(self) -> None:
        now = time.monotonic()
        finished = sorted((j for j in self._jobs.values() if j.state in FINISHED), key=lambda j: j.finished or 0)
        excess = len(finished) - MAX_FINISHED
        for i, job in enumerate(finished):
            if i < excess or now - (job.finished or now) > KEEP_FINISHED_S:
                self._jobs.pop(job.key, None)


def lower_priority() -> None:
    """Lower the calling thread's OS priority by :data:`JOB_NICENESS` (Linux: a thread has its own nice value)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + JOB_NICENESS))
    except (AttributeError, OSError):  # not Linux, or not allowed: run at the normal priority
        pass


# Live media (a camera or microphone over WebRTC) is real-time work: a frame late is a frame lost. The stream's
# callbacks call note_live(); optional background work (the warm-up) waits while a stream is live, because its
# imports and model loads hold the GIL for seconds (measured: the live camera fell to 0 frames a second for 2 s
# while a fresh server's warm-up loaded the shipped models beside it).
LIVE_WINDOW_S = 2.0
_live_at = [float("-inf")]


def note_live() -> None:
    """A live stream just handled a frame."""
    _live_at[0] = time.monotonic()


def live_now(window_s: float | None = None) -> bool:
    """Whether a live stream handled a frame within the last ``window_s`` (default LIVE_WINDOW_S) seconds."""
    return time.monotonic() - _live_at[0] < (LIVE_WINDOW_S if window_s is None else window_s)


def wait_while_live(max_wait_s: float, step_s: float = 0.5) -> float:
    """Sleep while a live stream runs, at most ``max_wait_s``; the seconds waited."""
    start = time.monotonic()
    while live_now() and time.monotonic() - start < max_wait_s:
        time.sleep(step_s)
    return time.monotonic() - start


@cache
def queue() -> JobQueue:
    """The process-wide queue, sized to the thread budget (one job at a time on two CPUs)."""
    from engines.core.threads import budget

    return JobQueue(budget().concurrent_jobs)

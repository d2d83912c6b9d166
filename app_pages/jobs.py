"""A page's own trainings on the process-wide queue (:mod:`engines.core.jobs`): start, find, live panel, sidebar.

A training a visitor starts from a page's training panel runs as a job of the one queue, so it waits its turn
instead of racing another training for the two CPUs, and it belongs to the server, not to the browser tab:

- **shared** (trained on data every visitor has: the bundled fables, scikit-learn's digits): keyed by what it
  trains, so a second visitor pressing Train with the same settings joins the running job instead of starting a
  copy; it finishes when its visitor leaves, and a visitor who comes back with the same settings finds it
  running (with its progress) or done (the queue keeps finished jobs for an hour);
- **private** (a visitor's own upload): keyed by the session, and cancelled by the queue once no page has shown
  it for :data:`UNWATCHED_S` seconds (the panels below ``touch()`` it every second or two).

A job stopped early by its Stop button kept a partial model: the next Train with the same settings starts a new
job (the key gets a suffix) instead of handing back that partial one.

The work never calls ``st.*``; it writes the job's fields. A fragment redraws the progress (with the time
estimate), the Stop button and the curve so far, and reruns the whole app once the job has ended, so the page
takes the result into the session (:func:`harvest`, once per session).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from engines.core import jobs as queue_jobs
from engines.core.jobs import Job

TrainingJob = Job  # what the pages' annotations call a job
SESSION_KEY = "jobs_session_id"
UNWATCHED_S = 30.0  # a private job nobody has shown for this long is cancelled
MAX_RESTARTS = 100  # key suffixes tried past jobs that were stopped early


def session_id() -> str:
    """This browser session's id (who harvests a job, and the key of its private jobs)."""
    if SESSION_KEY not in st.session_state:
        st.session_state[SESSION_KEY] = uuid.uuid4().hex
    return st.session_state[SESSION_KEY]


def _stopped_early(job: Job) -> bool:
    return job.state == queue_jobs.DONE and job.stop.is_set()


def current_key(key: str) -> str:
    """``key``, or the suffixed key of the newest job after those a visitor stopped early (their model is partial)."""
    queue = queue_jobs.queue()
    for n in range(MAX_RESTARTS):
        candidate = key if n == 0 else f"{key}#{n}"
        job = queue.get(candidate)
        if job is None or not _stopped_early(job):
            return candidate
    return f"{key}#{uuid.uuid4().hex}"


def find(key: str) -> Job | None:
    """The shared job for ``key`` that a (returning) visitor should see: queued, running or done; else None."""
    job = queue_jobs.queue().get(current_key(key))
    if job is None or job.state in (queue_jobs.FAILED, queue_jobs.CANCELLED):
        return None
    return job


def start(
    key: str,
    title: str,
    work: Callable[[Job], Any],
    *,
    private: bool,
    context: Any = None,
) -> Job:
    """Queue ``work(job)`` (or return the job already queued, running or done for the same key).

    Args:
        key: What the job trains ("imageclf/digits/<config>"): one job per key, never two.
        title: What it does, in words, for the progress line.
        work: The training; it reports through ``job.report`` and may honour ``job.stop`` and fill ``job.curve``.
        private: True when it trains on the visitor's own data: keyed by the session too, and cancelled once
            unwatched; False when anyone may share it.
        context: Kept on the job for the page (the config, the corpus).
    """
    if private:
        key = f"{key}@{session_id()}"
    job = queue_jobs.queue().submit(
        current_key(key),
        title,
        work,
        private=private,
        context=context,
        unwatched_s=UNWATCHED_S,
    )
    job.touch()
    return job


@functools.cache
def light_queue() -> queue_jobs.JobQueue:
    """The lane of short page work (a detector to load, a sample to transcribe: seconds, not minutes).

    Not the training queue: there, one job runs at a time and is never interrupted, so a visitor's click that
    needs a few seconds of work would wait behind a background rebuild of minutes (measured: Transcribe on the
    sample took 204 s behind the server's warm-up trainings with two busy neighbours). One job at a time here
    too, keyed, never duplicated.
    """
    return queue_jobs.JobQueue(1)


def warm(key: str, title: str, work: Callable[[Job], Any]) -> Job | None:
    """Queue short work a page will soon need on :func:`light_queue`, at background priority.

    One job per key per server; ``GALLERY_WARM_UP=0`` turns it off, as it does the server's own warm-up (the
    page tests set it, so each test does its work when it asks for it).
    """
    if os.environ.get("GALLERY_WARM_UP", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    return light_queue().submit(key, title, work, priority=queue_jobs.BACKGROUND)


def running(job: Job | None) -> bool:
    """True while ``job`` is queued or running."""
    return job is not None and not job.done.is_set()


def harvest(job: Job | None) -> bool:
    """True exactly once per session after ``job`` finished with a result."""
    return job is not None and job.result is not None and job.harvest(session_id())


def outcome(job: Job | None) -> str:
    """Why a finished job has no result, in words ("" when it has one or has not finished)."""
    if job is None or not job.done.is_set():
        return ""
    if job.state == queue_jobs.FAILED:
        return job.error or "Training failed."
    if job.state == queue_jobs.CANCELLED:
        return "Training was cancelled (it trained on your own data and no page showed it for a while): train again."
    return ""


def progress_bar(job: Job, text: str | None = None) -> None:
    """The job's progress bar: its message, percent and time left (or that it waits for its turn)."""
    line = job.status_line()
    st.progress(min(max(job.fraction, 0.0), 1.0), text=line if text is None else f"{text}: {line}")


def _stop(job: Job) -> None:
    if job.state == queue_jobs.QUEUED:
        job.cancel()  # never started: nothing to keep
    else:
        job.stop.set()


def live_panel(
    job: Job,
    *,
    stop_key: str,
    stop_help: str,
    draw_curve: Callable[[list[dict[str, Any]]], None] | None = None,
    waiting: str = "",
) -> None:
    """Progress with the time estimate, the Stop button and (with ``draw_curve``) the curve so far, every second."""

    @st.fragment(run_every=1.0)
    def live() -> None:
        job.touch()
        if job.done.is_set():
            st.rerun(scope="app")
        progress_bar(job)
        st.button("Stop", key=stop_key, on_click=_stop, args=(job,), disabled=job.stop.is_set(), help=stop_help)
        if draw_curve is None:
            return
        curve = list(job.curve)
        if curve:
            draw_curve(curve)
        elif waiting:
            st.caption(waiting)

    live()


@st.fragment(run_every=2.0)
def sidebar_progress(job: Job, text: str) -> None:
    """While another tab is open: the training's progress and time left, and a full rerun when it is done."""
    job.touch()
    if job.done.is_set():
        st.rerun(scope="app")
    progress_bar(job, text)

"""Expensive work a visitor asks for, in the background queue instead of the page script.

Shared work (a comparison of every model on a dataset every visitor has): a page describes it as a
:class:`~engines.core.lifecycle.ModelRequest` whose "model" is the result (the table and its config).
:func:`result` answers at once when the result exists (memory, shipped with the gallery for the bundled sample,
disk cache); otherwise it shows the page's button, and a click queues the work with the lifecycle's progress
panel. The job is keyed, so a second visitor joins it, and its result is saved for every later visitor.

A visitor's own training (a model of their upload): :func:`own_training` queues it as a *private* job, never
saved to disk, shows its progress and time left, and hands back the result; the queue cancels it once no page
has shown it for a while (the visitor left).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from app_pages import lifecycle
from engines.core import jobs
from engines.core.lifecycle import ModelRequest
from engines.core.progress import Progress

T = TypeVar("T")
UNWATCHED_S = 30.0  # a visitor's own training that no page has shown for this long is cancelled (they left)


def result(request: ModelRequest[T], *, button: str, key: str, what: str) -> T | None:
    """The request's result if it exists; else its button, and once clicked its background job's progress.

    Args:
        request: The work, described (its ``train`` runs in the queue).
        button: The label of the button that starts it.
        key: The button's widget key.
        what: How the progress panel names the work ("the comparison of every pipeline").

    Returns:
        The result, or None while it does not exist (the button or the progress panel is drawn instead).
    """
    found = lifecycle.cached_model(request)
    if found is not None:
        return found[0]
    job = jobs.queue().get(request.job_key)
    if job is None or job.state in (jobs.FAILED, jobs.CANCELLED):
        if job is not None and job.state == jobs.FAILED:
            st.error(job.error or "The work failed; try again.")
        if not st.button(button, type="primary", key=key):
            return None
        job = lifecycle.start_training(request)
        if lifecycle.wait_for_training():
            job.done.wait(lifecycle.WAIT_LIMIT_S)
    if job.state == jobs.DONE:
        return job.result
    lifecycle.training_panel(job, what, verb="Computing")
    return None


def own_training(key: str, title: str, work: Callable[[Progress], T] | None, *, auto: bool = False) -> T | None:
    """A visitor's own training in the queue: its result once done, else its progress (or why it ended).

    Args:
        key: What it trains (the file's sha256 and the settings): the same upload and settings share one job.
        title: What it does, in words, for the progress line.
        work: The training, to start it (the visitor asked); None to look at the job already started.
        auto: The page starts it by itself on every run (no button): a job that failed is then shown, not
            started again on every rerun; one that was cancelled (the visitor had left) starts again.

    Returns:
        The result, or None while there is none (the progress, an error or nothing is drawn instead).
    """
    job = jobs.queue().get(key)
    if auto and job is not None and job.state == jobs.FAILED:
        work = None
    if work is not None:
        job = jobs.queue().submit(key, title, lambda job: work(job.report), private=True, unwatched_s=UNWATCHED_S)
        if lifecycle.wait_for_training():
            _wait_watching(job)
    if job is None:
        return None
    if job.state == jobs.DONE:
        return job.result
    if job.state == jobs.FAILED:
        st.error(job.error or "Training failed.")
    elif job.state == jobs.CANCELLED:
        st.warning("That training was stopped because no page showed it for a while. Start it again.", icon="⏹️")
    else:
        _own_panel(job)
    return None


def _wait_watching(job: jobs.Job) -> None:
    """The script waits for the job (page tests) and keeps touching it, as the progress panel would."""
    deadline = time.monotonic() + lifecycle.WAIT_LIMIT_S
    while not job.done.wait(min(1.0, UNWATCHED_S / 4)) and time.monotonic() < deadline:
        job.touch()


@st.fragment(run_every=1.0)
def _own_panel(job: jobs.Job) -> None:
    """The private job's progress and time left; keeps it alive while shown, reruns the page when it ends."""
    job.touch()
    if job.done.is_set():
        st.rerun(scope="app")
    st.progress(job.fraction, text=job.status_line())
    st.caption(
        "Training on your file in the background: the other tabs keep working (its progress shows in the sidebar). "
        "Leaving the page stops it; your data is never stored."
    )


def sidebar_progress(key: str | None, text: str) -> None:
    """While the visitor's own training ``key`` runs, its progress in the sidebar (so other tabs keep it alive)."""
    job = jobs.queue().get(key) if key else None
    if job is not None and not job.done.is_set():
        with st.sidebar:
            _own_sidebar(job, text)


@st.fragment(run_every=2.0)
def _own_sidebar(job: jobs.Job, text: str) -> None:
    job.touch()
    if job.done.is_set():
        st.rerun(scope="app")
    st.progress(job.fraction, text=f"{text}: {job.status_line()}")

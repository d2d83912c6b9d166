"""Expensive work a visitor asks for (a comparison of every model), on the model lifecycle.

A page describes the work as a :class:`~engines.core.lifecycle.ModelRequest` whose "model" is the result (a
comparison table with its config). :func:`result` answers at once when the result exists (memory, shipped with
the gallery for the bundled sample, disk cache); otherwise it shows the page's button, and a click queues the
work in the process-wide background queue (never in the page script) with the lifecycle's progress panel. The
job is keyed, so a second visitor joins it, and its result is saved for every later visitor.
"""

from __future__ import annotations

from typing import TypeVar

import streamlit as st

from app_pages import lifecycle
from engines.core import jobs
from engines.core.lifecycle import ModelRequest

T = TypeVar("T")


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
    lifecycle.training_panel(job, what)
    return None

"""The one page helper that gets a demo's model: memory -> shipped -> disk cache -> background training.

A page builds a :class:`~engines.core.lifecycle.ModelRequest` with its engine's ``request(config, data)`` and
calls :func:`serve`. The visitor never waits for training in the script itself: when no model is found the
training runs in the process-wide queue (:mod:`engines.core.jobs`) and the page shows its progress with a time
estimate, redrawn every second, and reruns once the model is there. Leaving the page does not stop that
training; it finishes, is saved, and the next visitor (or the same one, coming back) gets the model or the
running job, never a second copy.

With a ``fallback`` (the model shipped for the bundled sample), a page whose real-data model is still
training answers at once with the shipped one and says which model is answering.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import streamlit as st

from engines.core import jobs, stacks
from engines.core.lifecycle import DISK, SHIPPED, TRAINED, ModelRequest

T = TypeVar("T")
MEMORY = "in memory"
WAIT_LIMIT_S = 600.0  # GALLERY_WAIT_FOR_TRAINING waits at most this long
IMPORT_DELAY_S = 1.0  # the common libraries are imported this long after the first session starts
WARM_UP_DELAY_S = 10.0  # and the shipped models are loaded this long after it, once its page has drawn
LIVE_WAIT_S = 600.0  # each warm-up step waits at most this long for a live stream to stop
log = logging.getLogger(__name__)


class _NotReady(Exception):
    """No model without training (never cached: Streamlit caches values, not exceptions)."""


@dataclass
class Served(Generic[T]):
    """The model a page shows and what it should say about it.

    Attributes:
        model: The model answering.
        source: Where it came from (shipped, disk cache, trained just now, in memory).
        request: The request it answers.
        job: The background training of the wanted model while ``model`` is the fallback, else None.
    """

    model: T
    source: str
    request: ModelRequest[T]
    job: jobs.Job | None = None

    @property
    def is_fallback(self) -> bool:
        """True while the shipped model answers for a real-data model still training."""
        return self.job is not None


@st.cache_resource(max_entries=32, show_spinner=False)
def _loaded(engine: str, key: str, _request: ModelRequest[Any]) -> tuple[Any, str]:
    """The model of one request, found without training (shipped or disk), shared by every session."""
    found = _request.find()
    if found is None:
        raise _NotReady(key)
    return found


def cached_model(request: ModelRequest[T]) -> tuple[T, str] | None:
    """The request's model from memory, the shipped store or the disk cache; None when it must be trained."""
    try:
        return _loaded(request.engine, request.key, request)
    except _NotReady:
        return None


def start_training(request: ModelRequest[T], priority: int = jobs.VISITOR, *, private: bool = False) -> jobs.Job:
    """The background job that trains and saves the request's model (the running one if there is one).

    ``private``: the work is on a visitor's own upload, so the queue cancels it once nobody watches it.
    """
    job = jobs.queue().submit(
        request.job_key,
        request.title,
        lambda job: request.train_and_save(progress=job.report),
        priority=priority,
        private=private,
        context=request.label,
    )
    job.private = job.private or private  # a shared job that a private request joins is still watched
    return job


def serve(request: ModelRequest[T], *, fallback: ModelRequest[T] | None = None, what: str = "the model") -> Served[T]:
    """The model for ``request``, by the lifecycle's order; stops the page with a progress panel while it trains.

    Args:
        request: The model the page wants.
        fallback: A model to answer with meanwhile (the one shipped for the bundled sample).
        what: How the page names the model in the progress panel ("the price model").
    """
    found = cached_model(request)
    if found is not None:
        finished = jobs.queue().get(request.job_key)
        return Served(found[0], TRAINED if finished and finished.state == jobs.DONE else found[1], request)
    job = start_training(request)
    if wait_for_training():
        job.done.wait(WAIT_LIMIT_S)
    if job.state == jobs.DONE and job.result is not None:  # trained, but the disk refused it
        return Served(job.result, TRAINED, request)
    if job.state == jobs.DONE:  # saved a moment ago: the memory cache finds it now
        found = cached_model(request)
        if found is not None:
            return Served(found[0], TRAINED, request)
    if fallback is not None and job.state != jobs.FAILED:
        shipped = cached_model(fallback)
        if shipped is not None:
            with st.sidebar:
                _sidebar_job(job, f"Training {what} on the real data")
            return Served(shipped[0], shipped[1], fallback, job)
    if job.state == jobs.FAILED:
        st.error(job.error or "Training failed.")
        st.stop()
    training_panel(job, what)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def wait_for_training() -> bool:
    """``GALLERY_WAIT_FOR_TRAINING=1``: the script waits for its training job (page tests and scripts).

    The job still runs in the queue, so the tests exercise the same path; a visitor's server never waits.
    """
    return os.environ.get("GALLERY_WAIT_FOR_TRAINING", "").strip().lower() in ("1", "true", "yes", "on")


def source_note(served: Served[Any]) -> str:
    """One sentence for the page's caption: which model answers and why."""
    if served.is_fallback:
        return (
            "The model shipped with the gallery (trained on the bundled sample) answers while the model of the "
            "real data trains in the background; the page switches when it is ready."
        )
    return {
        SHIPPED: "Model shipped with the gallery (built by `python -m engines.build_models`, checksums verified).",
        DISK: "Model trained on this server earlier (disk cache, checksums verified).",
        TRAINED: "Model trained a moment ago on this server.",
    }.get(served.source, "")


def training_panel(job: jobs.Job, what: str = "the model", *, verb: str = "Training") -> None:
    """Progress with a time estimate, redrawn every second; reruns the page when the job ends.

    ``verb`` says what the job does to ``what`` ("Training" a model, "Computing" a comparison).
    """
    if job.private:
        text = f"{verb} {what} in the background. Keep this page open: it stops if nobody watches it."
    else:
        text = (
            f"{verb} {what} for the first time on this server. It runs in the background and is saved for every "
            "later visitor; you can leave this page and come back."
        )
    st.info(text, icon="⏳")

    @st.fragment(run_every=1.0)
    def live() -> None:
        job.touch()
        if job.done.is_set():
            st.rerun(scope="app")
        st.progress(job.fraction, text=job.status_line())

    live()


@st.fragment(run_every=2.0)
def _sidebar_job(job: jobs.Job, text: str) -> None:
    """The real-data model's progress in the sidebar; a full rerun when it is ready."""
    job.touch()
    if job.done.is_set():
        st.rerun(scope="app")
    st.progress(job.fraction, text=f"{text}: {job.status_line()}")


ENCODER = "MiniLM sentence encoder"


def _load_encoder() -> object:
    from app_pages import minilm  # it imports this module

    return minilm.encoder(wait=True)


@dataclass
class WarmUp:
    """What the warm-up did so far (the System page and the tests read it)."""

    loaded: list[str] = field(default_factory=list)
    rebuilding: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def warm_up(
    requests: Callable[[], list[ModelRequest[Any]]],
    *,
    import_delay_s: float = IMPORT_DELAY_S,
    delay_s: float = WARM_UP_DELAY_S,
    pause_s: float = 0.1,
    then: tuple[tuple[str, Callable[[], object]], ...] | None = None,
) -> WarmUp:
    """Once per server: load the shipped models into memory in gallery order, in a background thread.

    The libraries every demo page imports (pandas, plotly, scikit-learn) come first, ``import_delay_s`` after the
    first session starts: measured cold, the first demo page opened paid about 8 s for them (spam 11.0 s against
    2-3 s for the pages after it). The models follow at ``delay_s``, with ``pause_s`` between them, at a lower OS
    priority, so they never compete with the first visitor's first page (measured: the chatbot's first answer
    took 13 s instead of 7 s at load 11 while an eager warm-up imported torch beside it). A shipped model that is
    missing or stale (built with other library versions) is rebuilt as a background job of the queue instead.
    While a live camera or microphone streams, each step waits (up to ``LIVE_WAIT_S``): the imports and loads
    hold the GIL for seconds, and a live stream drops the frames it cannot handle in time. ``then`` holds
    ``(name, load)`` steps run after the models, each waited for (the shared MiniLM encoder: torch and its weights
    take seconds, which the chatbot's first visitor otherwise waits, answered by BM25 meanwhile); None: that
    encoder.
    """
    state = WarmUp()
    if then is None:
        then = ((ENCODER, _load_encoder),) if stacks.has(stacks.ML) else ()
        if not then:
            stacks.log_skipped(stacks.ML, f"Warming up the {ENCODER}")

    def run() -> None:
        try:
            time.sleep(import_delay_s)
            jobs.lower_priority()
            jobs.wait_while_live(LIVE_WAIT_S)
            import pandas  # noqa: F401 (the first demo page visited no longer pays for these imports)
            import plotly.express
            import plotly.graph_objects  # noqa: F401
            import sklearn.pipeline  # noqa: F401

            time.sleep(max(0.0, delay_s - import_delay_s))
            for request in requests():
                name = request.label or request.title
                jobs.wait_while_live(LIVE_WAIT_S)
                try:
                    if cached_model(request) is None:
                        start_training(request, priority=jobs.BACKGROUND)
                        state.rebuilding.append(name)
                    else:
                        state.loaded.append(name)
                except Exception as exc:  # noqa: BLE001 (one bad model must not stop the others)
                    log.warning("Warm-up could not load %s: %s", name, exc)
                    state.failed.append(name)
                time.sleep(pause_s)
            for name, load in then:
                jobs.wait_while_live(LIVE_WAIT_S)
                try:
                    load()
                    state.loaded.append(name)
                except Exception as exc:  # noqa: BLE001 (as above)
                    log.warning("Warm-up could not load %s: %s", name, exc)
                    state.failed.append(name)
        except Exception as exc:  # noqa: BLE001 (the warm-up is an optimisation: never take the server down)
            log.warning("Warm-up stopped: %s", exc)
        finally:
            state.done.set()

    threading.Thread(target=run, name="warm-up", daemon=False).start()
    return state

"""Slow loads off a page's critical path: the shared MiniLM encoder (and other warm-ups) in background threads.

Importing torch and transformers and loading all-MiniLM-L6-v2 takes about ten seconds on a cold two-CPU
container, more than a page may make its first visitor wait. So a page asks :func:`encoder` (which never blocks),
answers meanwhile with what needs no encoder (BM25, shipped embeddings, TF-IDF), says so, and calls
:func:`switch_when_ready` to rerun itself once the encoder is there. The thread fills the same
``ui.sentence_encoder`` cache as every other page, so the server holds one copy of the weights.
:func:`in_background` does the same for any other load a page needs only after the visitor acts (scikit-learn
takes seconds to import on a cold server).

Loading is not training: it runs in its own thread, not in the training queue, so a long training job never
holds it up. With ``GALLERY_WAIT_FOR_TRAINING=1`` (page tests) every load is waited for, so tests see it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from app_pages import lifecycle, ui
from engines.core import jobs

log = logging.getLogger(__name__)
WAIT_LIMIT_S = 600.0


@dataclass
class Loading:
    """One background load: ``value`` is the loader's answer once ``done`` (``error`` when it raised)."""

    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: str | None = None

    def wait(self, wait: bool = True) -> Any:
        """The value, waiting for it when ``wait`` (or under ``GALLERY_WAIT_FOR_TRAINING``); None while loading."""
        if wait or lifecycle.wait_for_training():
            self.done.wait(WAIT_LIMIT_S)
        return self.value if self.done.is_set() else None


@dataclass
class _Registry:
    """The server's background loads, by name and settings."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    loads: dict[tuple, Loading] = field(default_factory=dict)


@st.cache_resource(max_entries=1, show_spinner=False)
def _registry() -> _Registry:
    return _Registry()


def _start(name: str, load: Callable[[], Any]) -> Loading:
    loading = Loading()

    def run() -> None:
        jobs.lower_priority()  # a load is secondary work: the scripts answering visitors get the CPUs first
        try:
            loading.value = load()
        except Exception as exc:  # a page shows the reason instead of a dead thread
            log.exception("Loading %s failed", name)
            loading.error = f"{type(exc).__name__} (the details are in the server log)"  # no paths to a visitor
        finally:
            loading.done.set()

    # Not a daemon: torch must not be torn down halfway through loading at interpreter exit.
    threading.Thread(target=run, name=f"load-{name}"[:40], daemon=False).start()
    return loading


def in_background(name: str, load: Callable[[], Any]) -> Loading:
    """The background load called ``name`` for the current settings, started now if it was not yet.

    Pages start loads at the end of their script: an import running in another thread holds the GIL for long
    stretches and would slow the first result it is meant not to delay.
    """
    registry, key = _registry(), (name, ui.settings_key())
    with registry.lock:
        if key not in registry.loads:
            registry.loads[key] = _start(name, load)
        return registry.loads[key]


def started(name: str) -> Loading | None:
    """The load called ``name`` if it was started (any state); never starts one."""
    return _registry().loads.get((name, ui.settings_key()))


def _encoder_loading() -> Loading:
    settings = ui.settings_key()
    return in_background("minilm", lambda: ui.sentence_encoder(settings))


def encoder(wait: bool = False) -> tuple[Any, Any] | None:
    """``(encoder, where)`` as ``ui.sentence_encoder`` gives them, or None while the encoder is still loading.

    Starts the load when it was not started yet.

    Args:
        wait: Block until it is loaded (an action that cannot be answered without it).
    """
    loading = _encoder_loading()
    value = loading.wait(wait)
    if loading.done.is_set() and value is None:
        return None, f"MiniLM could not be loaded: {loading.error}"
    return value


def loaded_encoder() -> tuple[Any, Any] | None:
    """Like :func:`encoder`, but never starts the load (a page starts it at the end of its script)."""
    loading = started("minilm")
    if loading is None or not loading.done.is_set():
        return encoder() if lifecycle.wait_for_training() else None
    return encoder()


def switch_when_ready(text: str, job: jobs.Job | None = None, after: Loading | None = None) -> None:
    """A line that says what answers meanwhile; reruns the page once the encoder has loaded and ``job`` ended.

    Args:
        text: What answers meanwhile and what the page switches to.
        job: A background job the page also waits for (its progress and time estimate are shown).
        after: A load the page needs sooner (the first action waits for it): the encoder's load starts only
            once it is done, so the two do not share the GIL.
    """

    def encoder_loading() -> Loading | None:
        return _encoder_loading() if after is None or after.done.is_set() else started("minilm")

    encoder_loading()  # started now, unless it waits for ``after``

    @st.fragment(run_every=1.0)
    def watch() -> None:
        if job is not None:
            job.touch()
        loading = encoder_loading()
        if loading is not None and loading.done.is_set() and (job is None or job.done.is_set()):
            st.rerun(scope="app")
        st.caption(f"⏳ {text}")
        if job is not None and not job.done.is_set():
            st.progress(job.fraction, text=job.status_line())

    watch()

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


@st.cache_resource(max_entries=16, show_spinner=False)
def _started(name: str, settings_key: tuple, _load: Callable[[], Any]) -> Loading:
    """Start ``_load`` in a thread, once per server, name and settings."""
    loading = Loading()

    def run() -> None:
        try:
            loading.value = _load()
        except Exception as exc:  # a page shows the reason instead of a dead thread
            log.exception("Loading %s failed", name)
            loading.error = f"{type(exc).__name__}: {exc}"
        finally:
            loading.done.set()

    # Not a daemon: torch must not be torn down halfway through loading at interpreter exit.
    threading.Thread(target=run, name=f"load-{name}"[:40], daemon=False).start()
    return loading


def in_background(name: str, load: Callable[[], Any]) -> Loading:
    """The background load called ``name`` for the current settings, started now if it was not yet."""
    return _started(name, ui.settings_key(), load)


def _encoder_loading() -> Loading:
    settings = ui.settings_key()
    return in_background("minilm", lambda: ui.sentence_encoder(settings))


def encoder(wait: bool = False) -> tuple[Any, Any] | None:
    """``(encoder, where)`` as ``ui.sentence_encoder`` gives them, or None while the encoder is still loading.

    Args:
        wait: Block until it is loaded (an action that cannot be answered without it).
    """
    loading = _encoder_loading()
    value = loading.wait(wait)
    if loading.done.is_set() and value is None:
        return None, f"MiniLM could not be loaded: {loading.error}"
    return value


def switch_when_ready(text: str, job: jobs.Job | None = None) -> None:
    """A line that says what answers meanwhile; reruns the page once the encoder has loaded and ``job`` ended.

    Args:
        text: What answers meanwhile and what the page switches to.
        job: A background job the page also waits for (its progress and time estimate are shown).
    """
    loading = _encoder_loading()

    @st.fragment(run_every=1.0)
    def watch() -> None:
        if job is not None:
            job.touch()
        if loading.done.is_set() and (job is None or job.done.is_set()):
            st.rerun(scope="app")
        st.caption(f"⏳ {text}")
        if job is not None and not job.done.is_set():
            st.progress(job.fraction, text=job.status_line())

    watch()

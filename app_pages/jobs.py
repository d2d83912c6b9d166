"""Training in a background thread that a page polls: the job, its live panel and its sidebar progress bar.

The thread never calls ``st.*``; it only writes the job's fields. A fragment re-runs every second to draw the
progress, the Stop button and the curve so far, and re-runs the whole app once the job is done, so the page
can take the result into the session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

from engines.core.errors import InputError, SourceError


class TrainingJob:
    """Runs ``work(job)`` in a background thread; ``job.result`` or ``job.error`` once ``job.done`` is set."""

    def __init__(self, name: str, work: Callable[[TrainingJob], Any], context: Any = None) -> None:
        self.name, self.context = name, context
        self.fraction, self.message = 0.0, "Starting"
        self.curve: list[dict[str, Any]] = []
        self.result: Any = None
        self.error: str | None = None
        self.stop = threading.Event()
        self.done = threading.Event()
        self.harvested = False
        # Not a daemon: torch must not be torn down mid-step at interpreter exit (that aborts the process).
        self.thread = threading.Thread(target=self._run, args=(work,), daemon=False, name=f"training-{name}")
        self.thread.start()

    def report(self, fraction: float, message: str) -> None:
        """The progress callback handed to the engine."""
        self.fraction, self.message = fraction, message

    def harvest(self) -> bool:
        """True exactly once, the first time it is asked after the job finished with a result."""
        if not self.done.is_set() or self.harvested:
            return False
        self.harvested = True
        return self.result is not None

    def _run(self, work: Callable[[TrainingJob], Any]) -> None:
        try:
            self.result = work(self)
        except (InputError, SourceError) as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 (shown on the page instead of killing the thread silently)
            self.error = f"Training failed: {type(exc).__name__}: {exc}"
        finally:
            self.done.set()


def progress_bar(job: TrainingJob, text: str | None = None) -> None:
    st.progress(min(max(job.fraction, 0.0), 1.0), text=job.message if text is None else text)


def live_panel(
    job: TrainingJob,
    *,
    stop_key: str,
    stop_help: str,
    draw_curve: Callable[[list[dict[str, Any]]], None] | None = None,
    waiting: str = "",
) -> None:
    """Progress, the Stop button and (with ``draw_curve``) the curve so far, redrawn every second."""

    @st.fragment(run_every=1.0)
    def live() -> None:
        if job.done.is_set():
            st.rerun(scope="app")
        progress_bar(job)
        st.button("Stop", key=stop_key, on_click=job.stop.set, disabled=job.stop.is_set(), help=stop_help)
        if draw_curve is None:
            return
        curve = list(job.curve)
        if curve:
            draw_curve(curve)
        elif waiting:
            st.caption(waiting)

    live()


@st.fragment(run_every=2.0)
def sidebar_progress(job: TrainingJob, text: str) -> None:
    """While another tab is open: the training's progress, and a full rerun when it is done."""
    if job.done.is_set():
        st.rerun(scope="app")
    progress_bar(job, text)

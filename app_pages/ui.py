"""UI helpers shared by the pages: headers, source notices, progress, errors, model cards.

Light imports only: the home page imports this module too.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from engines.core.card import ModelCard
    from engines.core.data_sources import ResolvedDataset
    from engines.registry import Demo

Progress = Callable[[float, str], None]


def page_header(demo: Demo, intro: str) -> None:
    """Title, one-line pitch and the paragraph that tells the story of the demo."""
    st.title(f"{demo.icon} {demo.title}")
    st.markdown(f"**{demo.pitch}**")
    st.markdown(intro)


def source_notice(data: ResolvedDataset, model_title: str, model_note: str = "") -> None:
    """Say which data and which model the page uses (and where the model came from); a sample gets a notice."""
    if data.is_sample:
        why = f"  \n*Why not the real data:* {' '.join(data.notes)}" if data.notes else ""
        st.warning(f"**Sample data.** {data.notice}{why}", icon="🧪")
    spec = data.spec
    source_caption(spec.title, spec.homepage, data.provenance, spec.licence, model_title, model_note)


def source_caption(
    title: str, homepage: str, provenance: str, licence: str, model_title: str, model_note: str = ""
) -> None:
    """The one-line "Data: ... · Model: ..." caption, also for data that comes from no dataset spec."""
    link = f"[{title}]({homepage})" if homepage else title
    note = f" · {model_note}" if model_note else ""
    st.caption(f"**Data:** {link} · {provenance} · {licence}  \n**Model:** {model_title}{note}")


@contextmanager
def progress_status(label: str) -> Iterator[Progress]:
    """A status box with a progress bar; yields the engine's ``progress`` callback."""
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0, text="Starting")

        def report(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        yield report
        status.update(label=f"{label}: done", state="complete", expanded=False)


def model_card(card: ModelCard, file_name: str) -> None:
    """Render a model card with a download button."""
    st.markdown(card.to_markdown())
    st.download_button(
        "Download the model card (Markdown)", card.to_markdown(), file_name=file_name, mime="text/markdown"
    )


def percent(value: float, digits: int = 1) -> str:
    """0.0123 -> '1.2%'."""
    return f"{value * 100:.{digits}f}%"


def settings_key() -> tuple[str, ...]:
    """The data/model settings in force, so cached sources re-resolve when they change."""
    names = ("GALLERY_DATA_DIR", "GALLERY_CACHE_DIR", "GALLERY_MODEL_DIR", "GALLERY_OFFLINE", "HF_HUB_OFFLINE")
    return tuple(os.environ.get(n, "") for n in names)


@st.cache_resource(max_entries=1, show_spinner="Loading the MiniLM sentence encoder…")
def sentence_encoder(settings_key: tuple):
    """all-MiniLM-L6-v2 with its default length, one copy shared by the pages that embed sentences.

    Returns ``(encoder, resolved model)``, or ``(None, why not)`` when its weights are not found.
    """
    from engines.core.embeddings import load_encoder
    from engines.core.errors import SourceError

    try:
        return load_encoder()
    except SourceError as exc:
        return None, str(exc)


def release_memory_if_over_budget() -> bool:
    """Clear Streamlit's caches when the server is over its memory budget (checked every 30 s at most).

    Models are shared by every session through ``st.cache_resource``; when the server grows past
    ``GALLERY_MEMORY_BUDGET_MB`` they are released, and each page reloads (or retrains from the disk cache)
    what it needs on its next run. Returns whether it released.
    """
    import gc
    import logging
    import time

    from engines.core import system

    if not system.memory_guard().due(time.monotonic(), system.resident_mb, system.budget_mb()):
        return False
    before = system.resident_mb()
    st.cache_resource.clear()
    st.cache_data.clear()
    gc.collect()
    logging.getLogger(__name__).warning(
        "memory %.0f MiB over the %.0f MiB budget: caches released", before, system.budget_mb()
    )
    st.toast("The server was over its memory budget: cached models were released and reload when needed.", icon="🧹")
    return True


def stateful_tabs(tabs: dict[str, Callable[[], None]], key: str) -> None:
    """Tabs that keep the open tab across reruns and run only its content.

    Without state, a button pressed inside a later tab reruns the page and shows the first tab again.
    """
    for tab, render in zip(st.tabs(list(tabs), key=key, on_change="rerun"), tabs.values(), strict=True):
        if tab.open:
            with tab:
                render()


def escape_markdown(text: str) -> str:
    """User text shown as text in ``st.markdown``: HTML and Markdown syntax escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|>~$])", r"\\\1", html.escape(text, quote=False))


@st.cache_resource(max_entries=1, show_spinner=False)
def warm_up_once() -> object | None:
    """On the server's first run: load the shipped models in the background (``GALLERY_WARM_UP=0``: never)."""
    if os.environ.get("GALLERY_WARM_UP", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    from app_pages.lifecycle import warm_up
    from engines.build_models import shipped_requests

    return warm_up(shipped_requests)

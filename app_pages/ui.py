"""UI helpers shared by the pages: headers, source notices, progress, errors, model cards.

Light imports only: the home page imports this module too.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from streamlit.navigation.page import StreamlitPage

    from engines.core.card import ModelCard
    from engines.core.data_sources import ResolvedDataset
    from engines.registry import Demo

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)

PAGE_FAILED = "Something went wrong on this page; it has been logged. Try again or pick another demo."
RAISE_PAGE_ERRORS = "GALLERY_RAISE_PAGE_ERRORS"  # "1": re-raise after the message; "0": never; unset: under pytest
OPERATOR_ENV = "GALLERY_OPERATOR_TOKEN"  # or [operator] token = "..." in the secrets
MIN_OPERATOR_TOKEN = 16  # a shorter secret is ignored (it could be guessed): operator actions stay hidden
MAX_NAME_CHARS = 120  # an uploaded file's name as shown in messages


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


def needs_stack(stack: str, what: str, *, modules: tuple[str, ...] | None = None, stop: bool = False) -> bool:
    """Whether ``stack`` (``engines.core.stacks``) is installed; if not, one calm box says what needs it, why it is
    optional and the command that installs it, and with ``stop`` the page ends there.

    Args:
        stack: ``ml``, ``media`` or ``sphinx``.
        what: What needs it, as the subject of a sentence ("The LSTM language model").
        modules: The modules this part needs (default: the whole stack's).
        stop: End the page after the box (the whole demo needs the stack).
    """
    from engines.core import stacks

    if stacks.has(stack, modules):
        return True
    st.info(stacks.explain(stack, what, modules), icon="🧩")
    if stop:
        st.stop()
    return False


def require_stacks(demo: Demo) -> None:
    """Before a page imports its engine: when a stack the demo cannot run without is missing, show the title, the
    pitch and the box that says what to install, and end the page (nothing of it could work)."""
    from engines.core import stacks

    lacking = [stack for stack in demo.needs if not stacks.has(stack)]
    if not lacking:
        return
    st.title(f"{demo.icon} {demo.title}")
    st.markdown(f"**{demo.pitch}**")
    for stack in lacking:
        needs_stack(stack, f"This demo ({', '.join(demo.techniques[:2])})")
    st.caption("Every other demo of the gallery works without it: pick one in the sidebar.")
    st.stop()


def stack_caption(stack: str, text: str) -> None:
    """One calm caption for a part that answers without ``stack``: ``text`` says what answers instead."""
    from engines.core import stacks

    spec = stacks.STACKS[stack]
    st.caption(f"ℹ️ {text} ({spec.name} is not installed on this server; `{spec.install}` adds it.)")


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
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|>~$:])", r"\\\1", html.escape(text, quote=False))


_TAG_OR_ENTITY = re.compile(r"(<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)")
_ASCII_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


def html_block(fragment: str) -> str:
    """An HTML fragment holding user text (already HTML-escaped), made one inert block for ``st.markdown``.

    For ``st.markdown(..., unsafe_allow_html=True)``: Markdown stops treating lines as raw HTML after a blank line, so a message with a blank line followed by
    ``[link](...)`` or ``![image](...)`` rendered as a link and an image. Here line breaks become ``<br>`` (the
    fragment stays one HTML block, never parsed as Markdown) and the punctuation of the text between tags becomes
    character references (inert in Markdown as well, should it ever be parsed as such); tags and entities are kept.
    """
    parts = _TAG_OR_ENTITY.split(fragment)
    for i in range(0, len(parts), 2):  # even: text between tags and entities
        parts[i] = _ASCII_PUNCTUATION.sub(lambda m: f"&#{ord(m.group())};", parts[i])
    return re.sub(r"\r\n|\r|\n", "<br>", "".join(parts))


def upload_name(upload: object) -> str:
    """An uploaded file's name, safe to show and to pass to the engines (which quote it in `backticks`).

    The name is chosen by the visitor: control and format characters (line breaks, right-to-left overrides that
    disguise an extension) are dropped, backticks (which would close the code span) become quotes, whitespace is
    collapsed, and a long name is shortened keeping its extension. Accepts an ``UploadedFile`` or a name.
    """
    name = str(getattr(upload, "name", upload) or "")
    name = unicodedata.normalize("NFC", name).replace("`", "'")
    name = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in name)
    name = " ".join(name.split()) or "upload"
    if len(name) > MAX_NAME_CHARS:
        _, dot, extension = name.rpartition(".")
        tail = dot + extension if dot and len(extension) <= 10 else ""
        name = name[: MAX_NAME_CHARS - len(tail) - 1] + "…" + tail
    return name


def raise_page_errors() -> bool:
    """Whether the safety net re-raises after its message (``GALLERY_RAISE_PAGE_ERRORS``).

    Unset: only under pytest, so a page test still sees a crash as ``at.exception``; a server never re-raises.
    """
    value = os.environ.get(RAISE_PAGE_ERRORS, "").strip().lower()
    if value:
        return value in ("1", "true", "yes", "on")
    return "pytest" in sys.modules


def run_page(page: StreamlitPage) -> None:
    """Run the chosen page with a last safety net: an unexpected error is logged with its traceback, and the
    visitor sees a calm message instead of a traceback with the server's paths.

    Streamlit's control flow passes through untouched: ``st.stop``, ``st.rerun`` and ``st.switch_page`` raise
    ``ScriptControlException`` subclasses (``StopException``, ``RerunException``; BaseExceptions), and a
    fragment's error that Streamlit has already shown raises ``FragmentHandledException``.
    """
    from streamlit.errors import FragmentHandledException
    from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

    try:
        page.run()
    except (ScriptControlException, FragmentHandledException):
        raise
    except Exception:
        log.exception("The page %s failed", getattr(page, "url_path", "") or getattr(page, "title", "?"))
        st.error(PAGE_FAILED, icon="🛠️")
        if raise_page_errors():
            raise


def operator_token() -> str:
    """The operator's secret (``GALLERY_OPERATOR_TOKEN``, else ``[operator] token`` in the secrets), or "" when
    none is configured (or one shorter than ``MIN_OPERATOR_TOKEN``): then operator actions are not offered at all."""
    token = os.environ.get(OPERATOR_ENV, "").strip()
    if not token:
        try:
            section = st.secrets.get("operator", {}) if st.secrets else {}
            token = str(section.get("token", "") or "").strip()
        except Exception:  # noqa: BLE001 (no secrets file, or one that does not parse: Streamlit raises its own kinds)
            token = ""
    if token and len(token) < MIN_OPERATOR_TOKEN:
        log.warning("The operator secret is shorter than %d characters: operator actions are off", MIN_OPERATOR_TOKEN)
        return ""
    return token


def is_operator(typed: str) -> bool:
    """Whether ``typed`` is the operator's secret (compared in constant time; never true without a secret)."""
    token = operator_token()
    return bool(token) and hmac.compare_digest(typed.encode(), token.encode())


@st.cache_resource(max_entries=1, show_spinner=False)
def warm_up_once() -> object | None:
    """On the server's first run: load the shipped models in the background (``GALLERY_WARM_UP=0``: never)."""
    if os.environ.get("GALLERY_WARM_UP", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    from app_pages.lifecycle import warm_up
    from engines.build_models import shipped_requests

    return warm_up(shipped_requests)

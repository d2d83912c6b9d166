"""A deployer may leave out the transformer stack or the camera and audio stack: every page still works.

For each reduced install, one fresh interpreter (``tests/app/reduced_installs.py``) makes the stack's modules
unimportable, runs the home page, every demo and the System page with AppTest, then the background warm-up, and
reports what each page showed. A fresh interpreter because this one may have imported torch already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app_pages.ui import PAGE_FAILED
from engines.core import stacks
from engines.core.stacks import MEDIA, ML, SPHINX, STACKS
from engines.registry import DEMOS, ROOT

RUNNER = Path(__file__).with_name("reduced_installs.py")
INSTALLS = ("ml", "media", "sphinx")  # the runner's names: no transformer stack, no media stack, no pocketsphinx
STACK_OF = {"ml": ML, "media": MEDIA, "sphinx": SPHINX}
PAGES = ("home", *(d.key for d in DEMOS), "system")
# Demos that keep working without the transformer stack and say, in a caption, what answers instead.
ML_FALLBACKS = ("sentiment", "chatbot", "resume", "news")
BROKEN = ("No module named", "ModuleNotFoundError", "Traceback")


@pytest.fixture(scope="module")
def reports(tmp_path_factory, tiny_encoder_dir):
    """Install name -> the runner's report (run once per install, when a test first asks for it)."""
    done: dict[str, dict] = {}

    def run(install: str) -> dict:
        if install not in done:
            folder = tmp_path_factory.mktemp(f"reduced-{install}")
            env = {
                **os.environ,
                "GALLERY_CACHE_DIR": str(folder / "cache"),  # its own: nothing trained with the full stack
                "GALLERY_MODEL_DIR": str(tiny_encoder_dir),  # MiniLM present, so only the stack can be missing
                "PYTHONPATH": str(ROOT),
            }
            out = folder / "report.json"
            proc = subprocess.run(
                [sys.executable, str(RUNNER), install, str(out)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=400,
                check=False,
            )
            assert proc.returncode == 0 and out.is_file(), proc.stderr[-4000:]
            report = json.loads(out.read_text())
            report["log"] = proc.stderr
            done[install] = report
        return done[install]

    return run


def shown(entry: dict, *kinds: str) -> str:
    """Everything a page showed in the elements of ``kinds`` (all text elements when none is named)."""
    kinds = kinds or ("info", "warning", "caption", "markdown", "error", "title")
    return "\n".join(str(text) for kind in kinds for text in entry.get(kind, []))


@pytest.mark.parametrize("install", INSTALLS)
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.slow  # the three runs take about 50 s on two cores
def test_every_page_runs_cleanly(reports, install, page):
    report = reports(install)
    entry = report["pages"][page]
    assert entry["exception"] == [], f"{page} without {install}: {entry['exception']}\n{report['log'][-3000:]}"
    assert PAGE_FAILED not in entry["error"], f"{page} without {install} hit the safety net"
    text = shown(entry)
    assert not [b for b in BROKEN if b in text], f"{page} without {install} shows an import error:\n{text[:2000]}"
    assert entry["title"], f"{page} without {install} shows no title"


@pytest.mark.slow
@pytest.mark.parametrize("install", ("ml", "media"))
def test_demos_that_need_the_stack_say_what_to_install(reports, install):
    stack = STACKS[STACK_OF[install]]
    report = reports(install)
    needing = [d for d in DEMOS if stack.key in d.needs]
    assert needing, f"no demo needs {stack.name}?"
    for demo in needing:
        boxes = shown(report["pages"][demo.key], "info")
        assert stack.requirements in boxes and stack.install in boxes, f"{demo.key}: {boxes!r}"
        assert demo.title in shown(report["pages"][demo.key], "title")
    home = shown(report["pages"]["home"], "caption")
    assert home.count(stack.install) == len(needing), "the home page marks each demo that needs the stack"
    for demo in DEMOS:
        if stack.key not in demo.needs:
            assert stack.install not in shown(report["pages"][demo.key], "info"), f"{demo.key} does not need it"


@pytest.mark.slow
def test_demos_with_a_fallback_say_what_answers_instead(reports):
    report = reports("ml")
    for key in ML_FALLBACKS:
        captions = shown(report["pages"][key], "caption")
        assert STACKS[ML].requirements in captions, f"{key}: {captions!r}"


@pytest.mark.slow
def test_voice_without_pocketsphinx_says_why_and_keeps_the_rest(reports):
    entry = reports("sphinx")["pages"]["voice"]
    boxes = shown(entry, "info")
    assert "PocketSphinx" in boxes and STACKS[SPHINX].requirements in boxes, boxes
    assert "Record or upload" in shown(entry, "caption"), "it points to what still works"
    for key in ("detect", "imageclf", "textgen"):
        assert not shown(reports("sphinx")["pages"][key], "info").count(STACKS[SPHINX].requirements)


@pytest.mark.slow
@pytest.mark.parametrize("install", INSTALLS)
def test_warm_up_skips_what_cannot_load_quietly(reports, install):
    report = reports(install)
    assert report["blocked_after"] == [], "a blocked module was imported after all"
    warm = report["warm_up"]
    assert warm["failed"] == [], warm
    assert warm["loaded"], "the warm-up still loads the shipped models that need no missing stack"
    log = report["log"]
    assert "Warm-up stopped" not in log and "Warm-up could not load" not in log, log[-3000:]
    assert "Traceback" not in log, log[-6000:]


# ------------------------------------------------------------------ the stack definitions, in this interpreter
def hide(monkeypatch, *modules: str) -> None:
    """``importlib.util.find_spec`` finds none of ``modules`` (what ``stacks.missing`` asks)."""
    real = stacks.importlib.util.find_spec
    monkeypatch.setattr(
        stacks.importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a)
    )


def test_a_full_install_misses_nothing():
    for key in STACKS:
        assert stacks.missing(key) == [], key
    with pytest.raises(KeyError):
        stacks.missing("gpu")


def test_missing_names_the_modules_and_explain_the_command(monkeypatch):
    hide(monkeypatch, "torch")
    assert stacks.missing(ML) == ["torch"]
    assert not stacks.has(ML) and stacks.has(ML, ("transformers",))
    text = stacks.explain(ML, "The LSTM")
    assert "`torch`" in text and "pip install -r requirements/ml.txt" in text and "PyTorch + transformers" in text


def test_pocketsphinx_on_a_python_it_has_no_wheels_for(monkeypatch):
    hide(monkeypatch, "pocketsphinx")
    monkeypatch.setattr(stacks, "SPHINX_PYTHONS", ())
    text = stacks.explain(SPHINX, "The live transcript")
    assert "Python 3.11-3.13 only" in text and f"runs Python {stacks.python_version()}" in text
    assert "requirements/media.txt" in text


def test_pretrained_models_fall_back_offline_without_the_stack(monkeypatch):
    from engines.core.embeddings import MINILM
    from engines.core.model_sources import resolve_model

    hide(monkeypatch, "torch")
    resolved = resolve_model(MINILM)
    assert resolved.is_offline and "requirements/ml.txt" in resolved.notice

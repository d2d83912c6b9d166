"""Page tests generated from the registry: every demo has its own test file, every page runs cleanly, and the home page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engines.registry import DEMOS
from tests.app.helpers import APP, open_page, texts

HEAVY = ("torch", "transformers", "prophet", "cv2", "pocketsphinx", "streamlit_webrtc", "aiortc", "av")


@pytest.mark.parametrize("demo", DEMOS, ids=[d.key for d in DEMOS])
def test_every_registered_demo_has_its_page_tests(demo):
    path = Path(__file__).with_name(f"test_page_{demo.key}.py")
    assert path.is_file(), f"add {path.name}: presets, main buttons and bad input of the {demo.title} page"


@pytest.mark.parametrize("demo", DEMOS, ids=[d.key for d in DEMOS])
def test_page_opens_cleanly(demo):
    open_page(demo)


def test_home_lists_every_demo_with_a_link():
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    shown = " ".join(texts(at.subheader))
    for demo in DEMOS:
        assert demo.title in shown
    assert any(t.value == "ML Demo Gallery" or "ML Demo Gallery" in t.value for t in at.title)


def test_home_page_imports_nothing_heavy():
    # A fresh interpreter: other tests in this process may have imported torch already.
    code = (
        "import sys, json\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({APP!r}, default_timeout=30)\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path(APP).parent, check=True
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the home page imported {loaded}"

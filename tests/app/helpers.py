"""Shared helpers for the AppTest page tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from engines.registry import ROOT, Demo, get_demo

APP = str(ROOT / "app.py")
TIMEOUT = 120  # a page may train its model on first visit


def open_page(demo: Demo | str) -> AppTest:
    """Run the app, switch to the demo's page, and check it ran cleanly and shows its title."""
    demo = get_demo(demo) if isinstance(demo, str) else demo
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(demo.page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(demo.title in t.value for t in at.title), "the page shows its title"
    return at


def open_tab(at: AppTest, key: str, label: str) -> None:
    """Select a stateful tab (st.tabs with a key) as a click would, and rerun."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def texts(elements) -> list[str]:
    """The values of some elements, as strings."""
    return [str(e.value) for e in elements]


def metric(at: AppTest, label: str) -> str:
    """The value of the metric labelled ``label`` (fails, listing the labels, when there is none)."""
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return str(values[0])

"""The on-demand helper: work a visitor asks for runs in the background queue, never in the page script."""

from __future__ import annotations

import threading
import time
import uuid

from streamlit.testing.v1 import AppTest

from app_pages import on_demand
from engines.core import jobs
from engines.core.errors import InputError
from tests.app.helpers import TIMEOUT, texts


def comparison_page() -> None:
    """A page with one on-demand comparison that ships with no model (two folds: the page uses three)."""
    import streamlit as st

    from app_pages import on_demand
    from engines import churn

    request = churn.compare_request(churn.load_dataset(), churn.CompareConfig(n_splits=2))
    st.session_state["job_key"] = request.job_key
    compared = on_demand.result(request, button="Compare", key="go", what="the comparison")
    if compared is not None:
        st.dataframe(compared.table_)


def test_a_comparison_runs_in_the_queue_when_asked_and_is_kept_for_the_next_visitor():
    first = AppTest.from_function(comparison_page, default_timeout=TIMEOUT).run()
    assert not first.exception and not first.dataframe  # nothing runs on arrival
    assert [b.label for b in first.button] == ["Compare"]
    job_key = first.session_state["job_key"]
    first.button(key="go").click().run()  # GALLERY_WAIT_FOR_TRAINING: the script waits for the queued job
    assert not first.exception, texts(first.exception)
    assert len(first.dataframe[0].value) == 16
    job = jobs.queue().get(job_key)
    assert job is not None and job.state == jobs.DONE
    second = AppTest.from_function(comparison_page, default_timeout=TIMEOUT).run()  # another visitor
    assert not second.button and len(second.dataframe[0].value) == 16
    assert jobs.queue().get(job_key) is job  # no second copy of the work


def own_page() -> None:
    """A page that trains on the visitor's file: on a click, or by itself (``auto``) on every run.

    The test hands the job key and the training in through the session state.
    """
    import streamlit as st

    from app_pages import on_demand

    key, work, auto = st.session_state["key"], st.session_state["work"], st.session_state["auto"]
    clicked = auto or st.button("Train", key="go")
    result = on_demand.own_training(key, "Training", work if clicked else None, auto=auto)
    if result is not None:
        st.success(f"Trained: {result}")


def own_test(work, *, auto: bool) -> tuple[AppTest, str]:
    at = AppTest.from_function(own_page, default_timeout=TIMEOUT)
    key = f"test/own/{uuid.uuid4().hex}"
    at.session_state["key"], at.session_state["work"], at.session_state["auto"] = key, work, auto
    return at.run(), key


def test_own_training_runs_privately_in_the_queue_without_blocking_the_page(monkeypatch):
    monkeypatch.setenv("GALLERY_WAIT_FOR_TRAINING", "0")  # as on a server: the script never waits
    release = threading.Event()

    def slow_training(progress):
        progress(0.5, "Half way")
        release.wait(60)
        return 42

    at, key = own_test(slow_training, auto=False)
    assert jobs.queue().get(key) is None  # nothing starts before the click
    at.button(key="go").click().run()  # returns while the training waits for the release
    job = jobs.queue().get(key)
    assert job is not None and job.private and not job.done.is_set()
    assert not at.success and not at.exception
    release.set()
    assert job.done.wait(30)
    at.run()
    assert texts(at.success) == ["Trained: 42"]


def test_a_failed_automatic_training_is_shown_not_restarted_on_every_rerun():
    def failing_training(progress):
        raise InputError("The file has no ratings column.")

    at, key = own_test(failing_training, auto=True)
    failed = jobs.queue().get(key)
    assert failed is not None and failed.state == jobs.FAILED
    assert any("no ratings column" in t for t in texts(at.error)), texts(at.error)
    at.run()
    assert jobs.queue().get(key) is failed
    assert any("no ratings column" in t for t in texts(at.error))


def test_a_page_that_waits_for_its_own_training_keeps_it_alive(monkeypatch):
    # Page tests wait for the job in the script (GALLERY_WAIT_FOR_TRAINING); a training longer than the unwatched
    # limit must not be cancelled meanwhile, as it is not on a server while its progress panel is shown.
    monkeypatch.setattr(on_demand, "UNWATCHED_S", 0.4)

    def steady_training(progress):
        for step in range(8):
            progress(step / 8, "Working")
            time.sleep(0.2)
        return 7

    at, key = own_test(steady_training, auto=True)
    assert jobs.queue().get(key).state == jobs.DONE
    assert texts(at.success) == ["Trained: 7"]

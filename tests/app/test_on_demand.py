"""The on-demand helper: work a visitor asks for runs in the background queue once, and is kept for everyone."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from engines.core import jobs
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

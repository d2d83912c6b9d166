"""AppTest of the System page: memory against the budget, data and model settings, versions, clearing caches."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.helpers import APP, TIMEOUT, texts


def open_system(monkeypatch=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/system.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_system_page_shows_memory_sources_and_versions(monkeypatch):
    monkeypatch.setenv("GALLERY_MEMORY_BUDGET_MB", "150000")
    at = open_system()
    assert [t.value for t in at.title] == ["⚙️ System"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Budget"] == "150000 MiB"
    assert float(metrics["In use"].split()[0]) > 50, "a Streamlit server with pandas uses more than 50 MiB"
    assert float(metrics["Peak"].split()[0]) >= float(metrics["In use"].split()[0]) - 1
    sources = at.dataframe[0].value
    assert list(sources["setting"])[:2] == ["Data directory (GALLERY_DATA_DIR)", "Model directory (GALLERY_MODEL_DIR)"]
    assert "off (offline mode)" in list(sources["value"]), "the page tests run offline, and the page says so"
    frames = [d.value for d in at.dataframe]
    (table,) = [f for f in frames if "package" in f.columns]
    versions = dict(zip(table["package"], table["version"], strict=True))
    import streamlit

    assert versions["streamlit"] == streamlit.__version__ and versions["python"]


def test_clearing_the_caches_reports_memory_and_the_page_still_works(monkeypatch):
    # Clearing is for the operator only (tests/security/test_pages.py: not offered without the secret).
    monkeypatch.setenv("GALLERY_OPERATOR_TOKEN", "operator-secret-of-the-page-test")
    at = open_system()
    at.text_input(key="system_operator_token").input("operator-secret-of-the-page-test")
    at.button(key="system_clear").click().run()
    assert not at.exception
    done = texts(at.success)
    assert done and done[0].startswith("Caches cleared:") and "MiB" in done[0]
    at.switch_page("app_pages/home.py")
    at.run()
    assert not at.exception and any("ML Demo Gallery" in t.value for t in at.title)


def test_over_the_budget_the_caches_are_released_once_with_a_toast(monkeypatch):
    from engines.core import system

    system.memory_guard.cache_clear()
    monkeypatch.setenv("GALLERY_MEMORY_BUDGET_MB", "64")  # any Streamlit server is above this
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()  # the first run of any page checks the memory
        assert not at.exception
        assert any("over its memory budget" in str(t.value) for t in at.toast), [t.value for t in at.toast]
        assert system.memory_guard().releases == 1
        at.switch_page("app_pages/system.py")
        at.run()
        assert not at.exception and system.memory_guard().releases == 1, "not again within the cooldown"
        assert not at.toast
    finally:
        system.memory_guard.cache_clear()


def test_system_page_shows_the_thread_budget_jobs_and_shipped_models():
    from engines.core import jobs, threads

    jobs.queue().submit("system-test", "A finished test job", lambda job: 1).done.wait(30)
    at = open_system()
    frames = [d.value for d in at.dataframe]
    facts = next(f for f in frames if "setting" in f.columns and "CPUs this server may use" in list(f["setting"]))
    cpus = facts.set_index("setting")["value"]["CPUs this server may use"]
    assert cpus == str(threads.budget().cpus)
    queue = next(f for f in frames if "job" in f.columns)
    assert "A finished test job" in list(queue["job"]) and "done" in list(queue["state"])
    shipped = next(f for f in frames if "engine" in f.columns)
    assert "house_prices" in list(shipped["engine"])

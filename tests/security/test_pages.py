"""Issue 26, what a visitor sees: no traceback ever, user text shown as text, shared state safe.

The pages run under AppTest offline (the page tests' fixtures); Markdown is rendered with a CommonMark parser
(markdown-it, the grammar Streamlit's renderer follows) to check that no link or image comes out of user text.
"""

from __future__ import annotations

import html
import os
import re
import threading
import tomllib

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import ui
from engines.movies import SharedLRU
from engines.registry import ROOT
from tests.app.conftest import no_webrtc_component, offline_env  # noqa: F401 (autouse fixtures of the page tests)
from tests.app.helpers import APP, TIMEOUT, open_page, open_tab, texts

markdown_it = pytest.importorskip("markdown_it")

SECRET_DETAIL = "/srv/secret/path/config.py leaked"  # the message of an unexpected error: never shown
ATTACK = "Hi\n\n[click here](https://evil.example/phish) ![pixel](https://evil.example/p.png)\n\n<img src=x>"


def rendered_links(markdown: str, allow_html: bool = False) -> list[str]:
    """Links and images that Markdown would render (as tokens, and as tags in its HTML output)."""
    md = markdown_it.MarkdownIt("commonmark", {"html": allow_html}).enable("table")
    found = []
    for token in md.parse(markdown):
        for child in token.children or []:
            if child.type in ("link_open", "image"):
                found.append(f"{child.type} {child.attrs}")
    out = md.render(markdown)
    found += [tag for tag in ("<a ", "<img") if tag in out]
    return found


def every_text(at: AppTest) -> str:
    """Everything the run sent to the browser, as text (each element's proto)."""
    return "\n".join(str(getattr(node, "proto", "")) for root in (at.main, at.sidebar) for node in root)


# ------------------------------------------------------------------ config
def test_show_error_details_is_none():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    # "none": Streamlit's generic notice only. False would mean "stacktrace", "type" would show the type.
    assert config["client"]["showErrorDetails"] == "none"


# ------------------------------------------------------------------ safety net
SAFETY_APP = """
import streamlit as st
from app_pages import ui

pages = [st.Page({boom!r}, url_path="boom"), st.Page({stop!r}, url_path="stop"),
         st.Page({rerun!r}, url_path="rerun"), st.Page({switch!r}, url_path="switch")]
ui.run_page(st.navigation(pages))
"""


@pytest.fixture
def safety_app(tmp_path, monkeypatch):
    """An app whose pages raise, stop, rerun and switch pages, run by ui.run_page as app.py does."""
    monkeypatch.setenv(ui.RAISE_PAGE_ERRORS, "0")  # as on the server (under pytest it re-raises by default)
    pages = {
        "boom": f"raise RuntimeError({SECRET_DETAIL!r})\n",
        "stop": "import streamlit as st\nst.write('before the stop')\nst.stop()\nst.write('after the stop')\n",
        "rerun": (
            "import streamlit as st\n"
            "st.session_state['runs'] = st.session_state.get('runs', 0) + 1\n"
            "if st.session_state['runs'] == 1:\n    st.rerun()\n"
            "st.write(f\"runs: {st.session_state['runs']}\")\n"
        ),
        "switch": "import streamlit as st\nst.switch_page('stop.py')\n",
    }
    paths = {}
    for name, code in pages.items():
        (tmp_path / f"{name}.py").write_text(code)
        paths[name] = f"{name}.py"
    app = tmp_path / "app.py"
    app.write_text(SAFETY_APP.format(**paths))
    at = AppTest.from_file(str(app), default_timeout=30)
    at.run()
    return at


def test_a_raising_page_shows_a_calm_error_and_no_traceback(safety_app, caplog):
    at = safety_app
    with caplog.at_level("ERROR", logger="app_pages.ui"):
        at.switch_page("boom.py").run()
    assert not at.exception, "no exception element (no traceback, no type, no message)"
    assert texts(at.error) == [ui.PAGE_FAILED]
    shown = every_text(at)
    assert SECRET_DETAIL not in shown and "Traceback" not in shown and "RuntimeError" not in shown
    # The server's log has it all.
    assert any(r.exc_info and SECRET_DETAIL in str(r.exc_info[1]) for r in caplog.records), "logged, with its traceback"


def test_st_stop_rerun_and_switch_page_pass_through_the_safety_net(safety_app):
    at = safety_app
    at.switch_page("stop.py").run()
    assert not at.error and not at.exception
    assert texts(at.markdown) == ["before the stop"]
    at.switch_page("rerun.py").run()
    assert not at.error and not at.exception
    assert texts(at.markdown) == ["runs: 2"] and at.session_state["runs"] == 2
    at.switch_page("switch.py").run()
    assert not at.error and not at.exception
    assert texts(at.markdown) == ["before the stop"], "switch_page landed on the other page"


def test_under_tests_the_safety_net_reraises_so_page_tests_still_see_crashes(safety_app, monkeypatch):
    monkeypatch.delenv(ui.RAISE_PAGE_ERRORS)
    assert ui.raise_page_errors(), "pytest is loaded: page tests keep seeing a crash as at.exception"
    at = safety_app
    at.switch_page("boom.py").run()
    assert texts(at.error) == [ui.PAGE_FAILED] and at.exception


def test_the_real_app_catches_a_page_that_fails(monkeypatch):
    from engines.core import system

    monkeypatch.setenv(ui.RAISE_PAGE_ERRORS, "0")

    def broken():
        raise OSError(SECRET_DETAIL)

    real = system.memory
    monkeypatch.setattr(system, "memory", broken)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/system.py").run()
    assert not at.exception
    assert texts(at.error) == [ui.PAGE_FAILED]
    assert SECRET_DETAIL not in every_text(at)
    # The visitor can go on to another page.
    monkeypatch.setattr(system, "memory", real)
    at.switch_page("app_pages/home.py").run()
    assert not at.exception and not at.error


# ------------------------------------------------------------------ user text as text
@pytest.mark.parametrize("page", ["spam", "sentiment"])
def test_text_from_the_url_renders_no_link_or_image(page):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.query_params[f"{page}_text"] = ATTACK  # a link sent to a visitor: ?spam_text=...
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_area(key=f"{page}_text").value == ATTACK, "the attack reached the page through the URL"
    (shown,) = [m.value for m in at.markdown if "line-height:2" in m.value]
    assert rendered_links(shown, allow_html=True) == []
    assert "\n" not in shown, "one HTML block: Markdown never resumes after a blank line"
    assert "<img src=x>" not in shown
    # The visitor still reads their text, every character of it.
    plain = html.unescape(re.sub(r"<(?!br>)[^<>]*>", "", shown).replace("<br>", "\n"))
    assert ATTACK in plain


def test_html_block_keeps_markup_and_entities_and_neutralises_the_text():
    fragment = 'a &amp; b &#x27;q&#x27; <span title="+0.12" style="background: rgba(1,2,3,0.5)">[x](y)</span>\n\n!'
    out = ui.html_block(fragment)
    assert '<span title="+0.12" style="background: rgba(1,2,3,0.5)">' in out
    assert "&amp;" in out and "&#x27;q&#x27;" in out
    assert "[" not in out.split(">", 1)[1] and "\n" not in out
    assert html.unescape(out.replace("<br>", "\n")).endswith("[x](y)</span>\n\n!")
    assert rendered_links(out, allow_html=True) == []


def test_an_uploaded_file_name_is_shown_as_text():
    evil = "a`b` [x](https://evil.example)\n\n![i](https://evil.example/i.png)\u202egpj.csv"
    assert "`" not in ui.upload_name(evil) and "\n" not in ui.upload_name(evil) and "\u202e" not in ui.upload_name(evil)
    assert ui.upload_name("x" * 500 + ".csv").endswith("….csv") and len(ui.upload_name("x" * 500 + ".csv")) == 120
    at = open_page("spam")
    open_tab(at, "spam_tab", "📦 Batch")
    at.file_uploader(key="spam_upload").set_value((evil, b"", "text/csv")).run()
    assert not at.exception
    (error,) = [t for t in texts(at.error) if "is empty" in t]
    assert rendered_links(error) == [], error
    assert "[x](https://evil.example)" in error, "the name is still there to read, as text"


def test_a_csv_cell_in_a_movie_upload_error_is_shown_as_text():
    from engines.movies.data import shown

    assert rendered_links(f"Row 2: movie {shown('[x](https://evil.example) ![i](https://evil.example/i.png)')}") == []
    assert shown("a`b\nc") == "`a'b c`"


# ------------------------------------------------------------------ the System page
def open_system(**secrets) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets.update(secrets)
    at.run()
    at.switch_page("app_pages/system.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


TOKEN = "operator-secret-for-the-tests-0123"


def test_without_an_operator_secret_nothing_is_offered(monkeypatch):
    monkeypatch.delenv(ui.OPERATOR_ENV, raising=False)
    at = open_system()
    assert "system_clear" not in [b.key for b in at.button]
    assert not at.text_input
    assert any(ui.OPERATOR_ENV in t and "[operator]" in t for t in texts(at.caption))


def test_a_short_operator_secret_is_ignored(monkeypatch):
    monkeypatch.setenv(ui.OPERATOR_ENV, "short")
    at = open_system()
    assert "system_clear" not in [b.key for b in at.button]


def test_the_operator_secret_clears_and_a_wrong_one_does_not(monkeypatch):
    import streamlit as st

    monkeypatch.setenv(ui.OPERATOR_ENV, TOKEN)
    cleared = []  # the test process's caches stay: other tests use them
    monkeypatch.setattr(st.cache_data, "clear", lambda *a, **k: cleared.append("data"))
    monkeypatch.setattr(st.cache_resource, "clear", lambda *a, **k: cleared.append("resource"))
    at = open_system()
    at.text_input(key="system_operator_token").input("wrong guess of the secret")
    at.button(key="system_clear").click().run()
    assert not at.exception
    assert any("not the operator's secret" in t for t in texts(at.error)) and not at.success and not cleared
    at.text_input(key="system_operator_token").input(TOKEN)
    at.button(key="system_clear").click().run()
    assert not at.exception and cleared == ["resource", "data"]
    assert texts(at.success)[0].startswith("Caches cleared:")


def test_the_system_page_names_no_server_path_and_no_error_message(monkeypatch, tmp_path):
    from engines.core import jobs

    monkeypatch.setenv("GALLERY_DATA_DIR", str(tmp_path / "private-data"))
    (tmp_path / "private-data").mkdir()

    def fails(job):
        raise RuntimeError(SECRET_DETAIL)

    jobs.queue().submit("security-failing-job", "A job that fails", fails).done.wait(30)
    at = open_system()
    frames = [d.value for d in at.dataframe]
    shown = "\n".join([every_text(at), *(f.to_csv() for f in frames)])
    assert str(tmp_path) not in shown and os.environ["GALLERY_CACHE_DIR"] not in shown, "folders by their name only"
    sources = next(f for f in frames if "setting" in f.columns).set_index("setting")["value"]
    assert sources["Data directory (GALLERY_DATA_DIR)"] == "set (…/private-data)"
    queue = next(f for f in frames if "job" in f.columns).set_index("job")
    assert queue.loc["A job that fails", "message"] == "failed: the reason is in the server log"
    assert SECRET_DETAIL not in shown


def test_the_operator_secret_may_come_from_the_secrets(monkeypatch):
    monkeypatch.delenv(ui.OPERATOR_ENV, raising=False)
    at = open_system(operator={"token": TOKEN})
    assert "system_clear" in [b.key for b in at.button]


# ------------------------------------------------------------------ shared state
def test_the_upload_store_is_locked_and_bounded():
    store: SharedLRU[int, int] = SharedLRU(3)
    assert isinstance(store.lock, type(threading.Lock()))
    errors = []

    def hammer(offset: int) -> None:
        try:
            for i in range(2000):
                key = (offset + i) % 7
                if store.get(key) is None:
                    store.put(key, i)
                assert len(store) <= 3
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(store) == 3
    order: SharedLRU[str, int] = SharedLRU(3)
    for n, key in enumerate("abc"):
        order.put(key, n)
    order.get("a")  # used: "b" is now the oldest
    order.put("d", 4)
    assert order.keys() == ["c", "a", "d"] and "b" not in order
    with pytest.raises(ValueError):
        SharedLRU(0)


def test_the_movie_page_keeps_uploaded_models_in_the_locked_store():
    source = (ROOT / "app_pages" / "movies.py").read_text()
    assert "movies.SharedLRU(UPLOAD_MODELS)" in source and "OrderedDict" not in source


def test_every_streamlit_cache_is_bounded():
    unbounded = []
    for path in sorted([*ROOT.glob("app_pages/*.py"), *ROOT.glob("engines/**/*.py")]):
        text = path.read_text()
        for match in re.finditer(r"@st\.cache_(?:data|resource)(\([^)]*\))?", text):
            if "max_entries" not in (match.group(1) or ""):
                unbounded.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        for match in re.finditer(r"lru_cache\(maxsize=None\)", text):
            unbounded.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not unbounded, unbounded

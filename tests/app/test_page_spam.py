"""AppTest of the spam detector page: presets, bad input, uploads, every tab."""

from __future__ import annotations

import pytest

from tests.app.helpers import open_page, open_tab, texts


def test_spam_page_runs_its_presets_and_every_tab():
    at = open_page("spam")
    # The preset (a prize scam) is classified on arrival.
    assert any("Spam" in t for t in texts(at.error)), texts(at.error)
    at.button(key="spam_example_Friend").click().run()
    assert not at.exception
    assert any("Not spam" in t for t in texts(at.success))
    assert at.text_area(key="spam_text").value.startswith("Hey, are we still on")
    at.button(key="spam_classify").click().run()
    assert any("Not spam" in t for t in texts(at.success))
    # Bad input: a clear st.error, and the rest of the page keeps working.
    at.text_area(key="spam_text").set_value("").run()
    assert any("The message is empty" in t for t in texts(at.error))
    at.text_area(key="spam_text").set_value("x" * 1_048_576).run()
    assert any("1,048,576 characters" in t for t in texts(at.error))
    assert not at.exception
    # Batch mode on the example file (tabs are stateful: only the open one runs).
    open_tab(at, "spam_tab", "📦 Batch")
    at.button(key="spam_batch_run").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spam"] == "4" and metrics["Ham"] == "6", metrics
    # Held-out performance tiles.
    open_tab(at, "spam_tab", "📈 Performance")
    metrics = {m.label: m.value for m in at.metric}
    assert {"Accuracy", "Spam caught (recall)", "Ham blocked", "Precision", "F1", "ROC AUC"} <= set(metrics)
    assert metrics["Accuracy"].endswith("%")
    # Compare approaches on the same split: the sample's comparison ships, so it shows without a click.
    open_tab(at, "spam_tab", "⚖️ Compare approaches")
    assert "spam_compare" not in [b.key for b in at.button]
    compared = at.dataframe[0].value
    assert len(compared) == 4 and "accuracy" in compared.columns, compared
    # Model card.
    open_tab(at, "spam_tab", "🪪 Model card")
    assert any("Model card" in t for t in texts(at.markdown))


BAD_UPLOADS = [
    ("empty.csv", b"", "is empty"),
    ("latin1.csv", "message\ncaf\xe9 au lait\n".encode("latin-1"), "not UTF-8"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
    ("blob.txt", b"abc\x00\x01\x02" * 10, "binary data"),
    ("header-only.csv", b"message\n", "no rows"),
]


@pytest.fixture(scope="module")
def spam_page():
    at = open_page("spam")
    open_tab(at, "spam_tab", "📦 Batch")
    return at


@pytest.mark.parametrize(("name", "payload", "message"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_spam_bad_uploads_show_an_error_and_the_page_survives(spam_page, name, payload, message):
    at = spam_page
    at.file_uploader(key="spam_upload").set_value((name, payload, "text/csv")).run()
    assert not at.exception
    assert any(message in t for t in texts(at.error)), texts(at.error)
    # The rest of the page still works.
    open_tab(at, "spam_tab", "🔎 Try it")
    at.button(key="spam_example_Work").click().run()
    assert any("Not spam" in t for t in texts(at.success))
    open_tab(at, "spam_tab", "📦 Batch")


def test_spam_upload_without_a_text_column_lets_the_user_pick(spam_page):
    at = spam_page
    csv = b"id,when\n1,2024-01-01\n2,2024-01-02\n"
    at.file_uploader(key="spam_upload").set_value(("ids.csv", csv, "text/csv")).run()
    assert any("pick it below" in t for t in texts(at.info))
    assert at.selectbox(key="spam_batch_column").options == ["id", "when"]


def test_spam_huge_upload_is_capped_with_a_message(spam_page):
    at = spam_page
    rows = "\n".join(f"{i},hello number {i}" for i in range(200_000))
    at.file_uploader(key="spam_upload").set_value(("big.csv", f"id,message\n{rows}\n".encode(), "text/csv")).run()
    assert any("200,000 rows" in t and "first 10,000" in t for t in texts(at.warning)), texts(at.warning)
    at.button(key="spam_batch_run").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Spam"]) + int(metrics["Ham"]) == 10_000

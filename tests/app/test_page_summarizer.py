"""AppTest of the text summarizer page: presets, uploads (TXT, PDF, DOCX), bad input, ROUGE, every tab."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import open_page, open_tab, texts
from tests.sample_files import blank_pdf, docx_bytes, encrypted_pdf, text_pdf

PARAGRAPHS = [
    "The harbour authority approved a plan to rebuild the old stone pier after storms damaged it last winter.",
    "Engineers said the new pier would be higher and stronger, and would protect the fishing boats in the harbour.",
    "Work on the pier starts in May and should finish before the autumn storms arrive next year.",
    "Local fishermen welcomed the plan but asked the authority to keep one berth open during the building work.",
]


def summary_shown(at: AppTest) -> bool:
    return any(t.startswith("#### Summary") for t in texts(at.markdown))


def test_summarizer_page_preset_rouge_explain_compare_and_card():
    at = open_page("summarizer")
    # The news preset is summarised on arrival: summary, highlighted source, compression and ROUGE tiles.
    assert summary_shown(at)
    metrics = {m.label: m.value for m in at.metric}
    assert {"Summary words", "Summary sentences", "Compression", "ROUGE-1 F1", "ROUGE-2 F1", "ROUGE-L F1"} <= set(
        metrics
    )
    assert float(metrics["ROUGE-1 F1"]) > 0.3
    assert any("<mark" in t for t in texts(at.markdown))
    assert any("boilerplate" in t for t in texts(at.info))
    # Another preset, then the main button.
    at.button(key="summ_sample_report_urban_heat").click().run()
    assert at.text_area(key="summ_text").value.startswith("# Keeping Riverton Cool")
    at.button(key="summ_run").click().run()
    assert not at.exception and summary_shown(at)
    assert any(t == "**Summary**" or t.startswith("**") for t in texts(at.markdown))  # grouped under headings
    # Length by ratio.
    at.radio(key="summ_length_by").set_value("Share of the document").run()
    at.slider(key="summ_ratio").set_value(0.3).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Summary sentences"]) >= 5
    # Why these sentences.
    open_tab(at, "summ_tab", "🔍 Why these sentences")
    table = at.dataframe[0].value
    assert {"centrality", "redundancy", "score", "chosen"} <= set(table.columns) and table["chosen"].sum() >= 5
    # Compare every method on this text, with the reference.
    open_tab(at, "summ_tab", "⚖️ Compare methods")
    at.button(key="summ_compare").click().run()
    assert not at.exception
    compared = at.dataframe[0].value
    assert len(compared) == 3 and compared["rouge1"].notna().all()
    # Model card.
    open_tab(at, "summ_tab", "🪪 Model card")
    assert any("Model card" in t for t in texts(at.markdown))


BAD_TEXTS = [
    ("", "is empty"),
    ("🙂🙂🙂 !!! ... ???", "no words"),
    (
        "Le conseil municipal a approuvé lundi un nouveau budget pour les écoles, les routes et les parcs de la ville. "
        "Les membres ont dit que le plan coûterait plus cher que prévu.",
        "French",
    ),
]


@pytest.fixture(scope="module")
def page():
    return open_page("summarizer")


@pytest.mark.parametrize(("text", "message"), BAD_TEXTS, ids=["empty", "emoji", "french"])
def test_bad_text_shows_an_error_and_the_page_survives(page, text, message):
    at = page
    at.text_area(key="summ_text").set_value(text).run()
    assert not at.exception
    assert any(message in t for t in texts(at.error)), texts(at.error)
    at.button(key="summ_sample_explainer_sleep").click().run()
    assert summary_shown(at) and not at.error


def test_user_markup_is_shown_as_text(page):
    at = page
    attack = "<script>alert('x')</script> **Bold claim** here. " + " ".join(PARAGRAPHS)
    at.text_area(key="summ_text").set_value(attack).run()
    assert not at.exception
    html = [t for t in texts(at.markdown) if "<mark" in t]
    assert html and "<script>" not in html[0] and "&#60;script&#62;" in html[0] and "**" not in html[0]


def test_huge_paste_is_capped_with_a_notice(page):
    at = page
    at.text_area(key="summ_text").set_value(" ".join(PARAGRAPHS) * 6_000).run()  # ~2.4 MB
    assert not at.exception
    assert any("Cut to the first" in t for t in texts(at.info)), texts(at.info)
    assert summary_shown(at)


def test_bad_reference_shows_an_error(page):
    at = page
    at.button(key="summ_sample_news_ferry").click().run()
    at.text_area(key="summ_reference").set_value("!!! ???").run()
    assert any("no words" in t for t in texts(at.error))
    assert summary_shown(at)
    at.text_area(key="summ_reference").set_value("").run()
    assert not at.error


GOOD_UPLOADS = [
    ("harbour.txt", "\n\n".join(PARAGRAPHS).encode(), "text/plain"),
    ("harbour.pdf", text_pdf([PARAGRAPHS]), "application/pdf"),
    (
        "harbour.docx",
        docx_bytes(PARAGRAPHS, heading="Harbour plan"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
]


@pytest.mark.parametrize(("name", "payload", "mime"), GOOD_UPLOADS, ids=["txt", "pdf", "docx"])
def test_uploaded_documents_are_summarised(name, payload, mime):
    at = open_page("summarizer")
    at.file_uploader(key="summ_upload").set_value((name, payload, mime)).run()
    assert not at.exception
    assert not at.error, texts(at.error)
    assert "harbour authority" in at.text_area(key="summ_text").value
    assert summary_shown(at)
    assert any(f"Read `{name}`" in t for t in texts(at.caption))


BAD_UPLOADS = [
    ("empty.txt", b"", "is empty"),
    ("scan.pdf", blank_pdf(), "text layer"),
    ("locked.pdf", encrypted_pdf(), "password-protected"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj garbage", "PDF"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "docx"),
]


@pytest.mark.parametrize(("name", "payload", "message"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_uploads_show_an_error_and_the_page_survives(page, name, payload, message):
    at = page
    at.file_uploader(key="summ_upload").set_value((name, payload, "application/octet-stream")).run()
    assert not at.exception
    assert any(message.lower() in t.lower() for t in texts(at.error)), texts(at.error)
    assert summary_shown(at)  # the text already there is still summarised
    at.file_uploader(key="summ_upload").set_value(None).run()


def test_abstractive_choice_without_a_model_says_so_and_offers_extractive(page):
    at = page
    at.selectbox(key="summ_method").set_value("abstractive").run()
    assert not at.exception
    assert any("No abstractive model is available here" in t for t in texts(at.info))
    assert summary_shown(at)
    at.selectbox(key="summ_method").set_value("centrality").run()


def test_abstractive_with_a_tiny_local_model(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from tests.tiny_bart import make_tiny_bart

    make_tiny_bart(tmp_path / "distilbart-cnn-12-6", max_length=64)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    at = open_page("summarizer")
    at.selectbox(key="summ_method").set_value("abstractive").run()
    assert any("Press **Summarize**" in t for t in texts(at.info))
    at.button(key="summ_run").click().run()
    assert not at.exception
    assert any("DistilBART" in t and t.startswith("#### Summary") for t in texts(at.markdown))

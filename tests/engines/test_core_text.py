"""Shared text input: cleaning, the size cap, language detection, sentence splitting, text columns, documents."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from engines.core.documents import MAX_PDF_PAGES, read_document
from engines.core.errors import InputError
from engines.core.text import (
    clean_text,
    detect_language,
    inert_html,
    require_english,
    score_batch,
    split_sentences,
    text_column,
)
from tests.sample_files import blank_pdf, broken_pdf, docx_bytes, encrypted_pdf, text_pdf


def test_clean_text_normalises_and_keeps_paragraphs():
    clean = clean_text("  Hello\u00a0 world.\x00\r\n\r\n\r\n\tSecond   paragraph here.  ")
    assert clean.text == "Hello world.\n\nSecond paragraph here."
    assert clean.words == 5 and not clean.truncated
    assert any("control" in note for note in clean.notes)


@pytest.mark.parametrize(
    ("raw", "match"),
    [("", "is empty"), ("   \n\t ", "is empty"), ("😀😂👍 !!! ???", "no words"), ("12345 678.9 !!", "no words")],
)
def test_clean_text_refuses_text_without_words(raw, match):
    with pytest.raises(InputError, match=match):
        clean_text(raw, what="review")


def test_huge_text_is_cut_at_a_sentence_end_with_a_note():
    sentence = "The committee met again today to discuss the budget. "
    clean = clean_text(sentence * 40_000, max_chars=100_000)  # ~2 MB
    assert len(clean.text) <= 100_000 and clean.text.endswith(".")
    assert clean.truncated and "of 2,1" in clean.notes[-1]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Ce téléphone est vraiment excellent, je l'adore beaucoup et la batterie dure longtemps.", "fr"),
        ("Das ist ein sehr schlechtes Produkt und ich bin wirklich enttäuscht davon.", "de"),
        ("Me encanta este teléfono, la batería dura mucho tiempo y la pantalla es preciosa.", "es"),
        ("The battery died after two days and the support team never answered my emails.", "en"),
        ("gr8 phone lol, battery dies fast tho smh, would not buy it again", "en"),
    ],
)
def test_language_detection(text, code):
    assert detect_language(text)[0] == code


def test_short_text_language_is_unknown_and_accepted():
    clean = clean_text("Loved it!")
    assert clean.language == "unknown" and clean.is_english
    require_english(clean)


def test_require_english_names_the_language():
    clean = clean_text("Ce produit est vraiment nul, je ne le recommande à personne, quelle déception.")
    with pytest.raises(InputError, match="looks like French"):
        require_english(clean, "review")


def test_split_sentences_handles_abbreviations_initials_and_structure():
    text = clean_text(
        'Dr. Smith flew to the U.S. on Monday. He said: "It was great!" J. K. Rowling agreed.\n\n'
        "Results\nThe line is wrapped in the middle of a\nsentence that goes on.\n- first item\n- second item"
    ).text
    sentences = split_sentences(text)
    assert [s.text.replace("\n", " ") for s in sentences] == [
        "Dr. Smith flew to the U.S. on Monday.",
        'He said: "It was great!"',
        "J. K. Rowling agreed.",
        "Results",
        "The line is wrapped in the middle of a sentence that goes on.",
        "- first item",
        "- second item",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert [s.paragraph for s in sentences] == [0, 0, 0, 1, 1, 1, 1]


def test_text_column_accepts_text_and_refuses_numbers():
    frame = pd.DataFrame({"id": ["1", "2", "3"], "review": ["great", "", "awful service"], "when": ["2024-01-01"] * 3})
    assert text_column(frame, "review") == ["great", "awful service"]
    with pytest.raises(InputError, match="holds numbers, not text"):
        text_column(frame, "id", what="reviews")
    with pytest.raises(InputError, match="does not look like text"):
        text_column(frame, "when")
    with pytest.raises(InputError, match="no column `nope`"):
        text_column(frame, "nope")


def test_pdf_text_layer_is_read_with_its_pages():
    first = "The council approved the new transport plan after a long debate about bus lanes and cycle routes."
    data = text_pdf([[first, "A second paragraph."], ["Page two has its own sentence."]])
    reports = []
    document = read_document(data, "plan.pdf", progress=lambda f, m: reports.append(f))
    assert document.kind == "pdf" and document.pages == 2
    assert "transport plan" in document.text and "Page two has its own sentence." in document.text
    assert reports[-1] == 1.0


def test_long_pdf_is_capped_with_a_note():
    data = text_pdf([[f"Page {i} says something about the topic at hand."] for i in range(MAX_PDF_PAGES + 5)])
    document = read_document(data, "long.pdf")
    assert document.pages == MAX_PDF_PAGES and f"first {MAX_PDF_PAGES} of {MAX_PDF_PAGES + 5}" in document.notes[0]


@pytest.mark.parametrize(
    ("data", "name", "match"),
    [
        (blank_pdf(), "scan.pdf", "no text layer"),
        (encrypted_pdf(), "locked.pdf", "password-protected"),
        (broken_pdf(), "broken.pdf", "could not be read as a PDF"),
        (b"just some text", "fake.pdf", "not a PDF"),
        (b"PK\x03\x04not really a zip", "fake.docx", "not a valid Word document"),
        (b"\xd0\xcf\x11\xe0old word", "old.docx", "old Word .doc"),
        (b"", "empty.txt", "is empty"),
        (b"%PDF-1.4 renamed", "notes.txt", "is a PDF"),
        (b"MZ\x90\x00", "virus.exe", "unsupported type"),
    ],
)
def test_bad_documents_say_what_to_do(data, name, match):
    with pytest.raises(InputError, match=match):
        read_document(data, name)


def test_docx_paragraphs_and_headings_become_paragraphs():
    data = docx_bytes(["First paragraph of the memo.", "Second paragraph."], heading="Quarterly memo")
    document = read_document(data, "memo.docx")
    assert document.text == "Quarterly memo\n\nFirst paragraph of the memo.\n\nSecond paragraph."


def test_docx_zip_bomb_is_refused(monkeypatch):
    import engines.core.documents as documents

    monkeypatch.setattr(documents, "MAX_DOCX_UNZIPPED", 1000)
    with pytest.raises(InputError, match="unpacks to"):
        read_document(docx_bytes(["A perfectly normal paragraph."]), "bomb.docx")


def test_score_batch_notes_bad_rows_and_scores_the_rest_in_chunks():
    reports = []

    def check(text: str) -> tuple[str, str]:
        return ("", "empty") if not text.strip() else (text.upper(), "")

    values, notes = score_batch(
        ["ab", "", None, float("nan"), "abcd"],
        lambda batch: np.array([len(t) for t in batch], dtype=float),
        check,
        max_batch=10,
        chunk=1,
        progress=lambda f, m: reports.append(f),
    )
    assert notes == ["", "empty", "empty", "empty", ""]
    np.testing.assert_array_equal(np.isnan(values), [False, True, True, True, False])
    assert values[0] == 2 and values[4] == 4
    assert reports == [0.5, 1.0, 1.0]
    with pytest.raises(InputError, match="No messages"):
        score_batch([], len, check, max_batch=10, noun="messages")
    with pytest.raises(InputError, match="more than the 10"):
        score_batch(["x"] * 11, len, check, max_batch=10)


def test_inert_html_neutralises_html_and_markdown():
    shown = inert_html("<script>alert(1)</script> **bold** _it_ [link](http://x) $x$")
    assert "<" not in shown and ">" not in shown
    assert not any(mark in shown for mark in ("**", "_", "[", "]", "(", "$"))
    assert html.unescape(shown) == "<script>alert(1)</script> **bold** _it_ [link](http://x) $x$"

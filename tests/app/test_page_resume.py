"""AppTest of the resume analyzer page: samples, uploads good and bad, match with a job, comparison, model card."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from engines.registry import ROOT
from tests.app.helpers import metric, open_page, open_tab, texts
from tests.sample_files import blank_pdf, broken_pdf, encrypted_pdf, text_pdf

SAMPLES = ROOT / "assets" / "resumes"
TABS = "resume_tabs"
FRENCH = (
    "Marie Dupont\nmarie.dupont@exemple.fr\n\nExpérience professionnelle\n"
    "Janvier 2019 - aujourd'hui : Ingénieure logiciel chez Société Générale à Paris. Elle a conçu et développé "
    "une plateforme de paiement utilisée par des millions de clients dans toute la France, avec une équipe de "
    "douze personnes, et elle a réduit les délais de traitement de moitié grâce à une nouvelle architecture. "
    "Formation : diplôme d'ingénieur de l'École Polytechnique, promotion 2018, avec une spécialisation en "
    "informatique et en mathématiques appliquées pour les systèmes distribués et les bases de données."
)


def errors(at: AppTest) -> list[str]:
    return texts(at.error)


def upload(at: AppTest, name: str, payload: bytes, mime: str = "application/octet-stream") -> None:
    at.radio(key="resume_source").set_value("Upload").run()
    at.file_uploader(key="resume_upload").set_value((name, payload, mime)).run()
    assert not at.exception, [e.value for e in at.exception]


def test_resume_page_sample_profile_and_suggestions():
    at = open_page("resume")
    # The first sample is analysed on arrival: contact, years, skills by category, suggestions.
    heads = texts(at.subheader)
    assert heads and heads[0] == "Hannah Okafor", heads
    assert float(metric(at, "Years of experience")) > 3
    assert int(metric(at, "Skills found")) >= 5
    assert any("Privacy" in t for t in texts(at.caption))
    assert any(t == "#### What to improve" for t in texts(at.markdown))
    assert any(":blue-badge[" in t or ":green-badge[" in t for t in texts(at.markdown)), "skills shown as chips"
    # The junior backend sample has weak bullets: the suggestions say so.
    junior = next(k for k in at.selectbox(key="resume_sample").options if k.startswith("Tom Becker"))
    at.selectbox(key="resume_sample").set_value(junior).run()
    assert not at.exception
    assert texts(at.subheader)[0] == "Tom Becker"
    shown = " ".join(texts(at.markdown))
    assert "bullets" in shown and ("action verb" in shown or "number" in shown), shown[-2000:]


def test_resume_page_reads_a_common_layout_with_an_undated_position():
    """Issue 28: "Title / Employer - City, ST - / dates" positions, one without dates, and listed skills."""
    text = (SAMPLES / "layouts" / "plain_indeed.txt").read_text(encoding="utf-8")
    text = text.replace("EDUCATION", "Volunteer Tutor\nFresno Reading Circle - Fresno, CA\nEDUCATION")
    at = open_page("resume")
    upload(at, "layout.txt", text.encode("utf-8"), "text/plain")
    assert not errors(at)
    labels = [e.label for e in at.expander]
    assert "Front End Supervisor — Brightline Grocers (June 2015 to Present)" in labels, labels
    assert "Volunteer Tutor — Fresno Reading Circle (no dates)" in labels, labels
    assert metric(at, "Positions") == "3"
    assert "**Listed in the skills section**" in texts(at.markdown)


def test_resume_page_reads_a_word_upload():
    at = open_page("resume")
    upload(at, "hannah.docx", (SAMPLES / "hannah_okafor_product_manager.docx").read_bytes())
    assert not errors(at)
    assert texts(at.subheader)[0] == "Hannah Okafor"
    assert any("DOCX" in t for t in texts(at.caption))


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("empty.pdf", b"", "empty"),
        ("locked.pdf", encrypted_pdf(), "password|encrypted"),
        ("scan.pdf", blank_pdf(2), "OCR"),
        ("broken.pdf", broken_pdf(), "corrupt|damaged|not a valid|could not be read"),
        ("photo.docx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 400, "not a|Word|corrupt|damaged"),
        ("cv.txt", FRENCH.encode("utf-8"), "English"),
        ("tiny.txt", b"Jane Doe, developer.", "words|short"),
        (
            "book.pdf",
            text_pdf([[f"Page {i} of a long report about nothing in particular."] for i in range(12)]),
            "pages",
        ),
    ],
    ids=["empty", "encrypted", "scanned", "corrupt", "wrong-type", "french", "too-short", "too-long"],
)
def test_resume_page_bad_uploads_get_a_clear_error_and_the_page_keeps_working(name, payload, message):
    import re

    at = open_page("resume")
    upload(at, name, payload)
    shown = errors(at)
    assert shown and re.search(message, shown[0], re.IGNORECASE), shown
    assert name in shown[0], "the message names the file"
    # Back to a sample: the page works as before.
    at.radio(key="resume_source").set_value("Sample").run()
    assert not at.exception and not errors(at) and texts(at.subheader)


def test_resume_page_match_a_job_and_paste_your_own():
    at = open_page("resume")
    open_tab(at, TABS, "🎯 Match a job")
    job = at.selectbox(key="resume_match_job")
    assert "Product manager" in job.options
    job.set_value("Product manager").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 2, "the gauge and the score parts"
    shown = texts(at.markdown)
    assert any(t.startswith("Match score") for t in shown), shown
    assert "**Required skills**" in shown and "#### Suggestions for this job, most important first" in shown
    # A strong fit scores higher than a poor one.
    score_pm = next(t for t in shown if t.startswith("Match score"))
    at.selectbox(key="resume_match_job").set_value("Backend engineer").run()
    score_backend = next(t for t in texts(at.markdown) if t.startswith("Match score"))
    assert int(score_pm.split()[2].split("/")[0]) > int(score_backend.split()[2].split("/")[0]), (
        score_pm,
        score_backend,
    )
    # Your own ad: empty asks for one, text is scored.
    at.selectbox(key="resume_match_job").set_value("Paste or upload your own").run()
    assert any("Paste a job description" in t for t in texts(at.info))
    at.text_area(key="resume_match_job_text").set_value("   \n  ").run()
    assert not at.exception and any("Paste a job description" in t for t in texts(at.info))
    ad = (
        "Product Owner\n\nRequirements\n- 3+ years of product management\n- Agile, Jira and user research\n"
        "- SQL for product analytics\n\nNice to have\n- Figma"
    )
    at.text_area(key="resume_match_job_text").set_value(ad).run()
    assert not at.exception and not errors(at)
    assert any(t.startswith("Match score") for t in texts(at.markdown))


def test_resume_page_compare_ranks_the_samples_against_one_job():
    at = open_page("resume")
    open_tab(at, TABS, "⚖️ Compare resumes")
    at.selectbox(key="resume_compare_job").set_value("Data scientist").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 4 and list(table["score"]) == sorted(table["score"], reverse=True)
    assert table["candidate"].iloc[0] == "Priya Raman", table
    assert {"required skills", "missing required"} <= set(table.columns)
    # No resume chosen: a hint, not a crash.
    at.multiselect(key="resume_compare_samples").set_value([]).run()
    assert not at.exception and any("at least one resume" in t for t in texts(at.info))


def test_resume_page_model_card_and_lexical_only_mode():
    at = open_page("resume")
    at.toggle(key="resume_minilm").set_value(False).run()
    assert not at.exception
    assert any("lexical match only" in t for t in texts(at.caption))
    open_tab(at, TABS, "🎯 Match a job")
    assert any("lexical only" in t for t in texts(at.caption))
    open_tab(at, TABS, "🪪 Model card")
    card = " ".join(texts(at.markdown))
    assert "Limitations" in card and "No OCR" in card and "0.35" in card

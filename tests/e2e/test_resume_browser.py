"""The resume analyzer in Chromium with the real MiniLM: a PDF uploaded through the browser becomes a profile,
is matched against a sample job (gauge, skills, suggestions), and a scanned PDF gets a clear error."""

from __future__ import annotations

import re

import pytest

from engines.registry import ROOT

from .conftest import RUN_TIMEOUT_MS, assert_no_exception, wait_for_app_idle
from .test_browser import assert_clean_console, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TITLE = "Resume analyzer"
SAMPLES = ROOT / "assets" / "resumes"


def test_an_uploaded_pdf_is_profiled_then_matched_with_a_job(page, app_url, console_errors, screenshot, tmp_path):
    open_page(page, f"{app_url}/resume", TITLE)
    assert_no_exception(page, "resume (first run)")
    page.get_by_text("Upload", exact=True).click()
    wait_for_app_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(SAMPLES / "priya_raman_data_scientist.pdf")
    )
    page.get_by_role("heading", name="Priya Raman").wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert page.get_by_text("Years of experience").count() >= 1
    assert page.get_by_text("What to improve").count() >= 1
    assert_no_exception(page, "resume upload")
    screenshot(page, "resume-upload")

    page.get_by_role("tab", name="🎯 Match a job").click()
    wait_for_app_idle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Job description").click()
    page.get_by_role("option", name="Data scientist").click()
    wait_for_app_idle(page)
    match = page.get_by_text(re.compile(r"^Match score (\d+)/100")).first
    match.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    score = int(re.search(r"(\d+)/100", match.inner_text()).group(1))
    assert score >= 70, f"the data scientist fits the data scientist job: {score}"
    assert page.get_by_text("Suggestions for this job, most important first").count() == 1
    assert_no_exception(page, "resume match")
    screenshot(page, "resume-match")
    assert_clean_console(console_errors, "resume")


def test_a_scanned_pdf_gets_an_error_that_says_why(page, app_url, console_errors, tmp_path):
    from tests.sample_files import blank_pdf

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(blank_pdf(2))
    open_page(page, f"{app_url}/resume", TITLE)
    page.get_by_text("Upload", exact=True).click()
    wait_for_app_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(scan))
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    assert "OCR" in error.inner_text(), error.inner_text()
    assert_no_exception(page, "resume scanned upload")
    assert_clean_console(console_errors, "resume scanned upload")

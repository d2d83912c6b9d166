"""The news aggregator in Chromium with the real MiniLM: the sample feed, an interest that re-ranks it, a hidden
story that leaves at once, and the "why am I seeing this" explanation."""

from __future__ import annotations

import re

import pytest

from .conftest import RUN_TIMEOUT_MS, assert_no_exception, wait_for_app_idle
from .test_browser import assert_clean_console, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TITLE = "Personalized news aggregator"
BUILD_TIMEOUT_MS = 120_000  # the first visit trains the classifier and embeds the sample with MiniLM


def first_card_title(page) -> str:
    card = page.locator(".st-key-news_card_0")
    return card.locator('[data-testid="stMarkdownContainer"]').first.inner_text().strip()


def test_interest_rerank_hide_and_why(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/news", TITLE)
    page.get_by_text("Why am I seeing this?").first.wait_for(state="visible", timeout=BUILD_TIMEOUT_MS)
    wait_for_app_idle(page, timeout_ms=BUILD_TIMEOUT_MS)
    assert_no_exception(page, "news (first run)")
    page.get_by_role("button", name="Sport", exact=True).click()
    wait_for_app_idle(page)
    top = first_card_title(page)
    page.get_by_role("button", name="🙈 Hide").first.click()
    wait_for_app_idle(page)
    assert first_card_title(page) != top, "the hidden story left the feed"
    assert page.get_by_text(re.compile(r"^0 liked · 1 hidden")).count() == 1
    page.get_by_role("button", name="Why am I seeing this?").first.click()
    page.get_by_text(re.compile(r"^Matches your interest: sport")).first.wait_for(
        state="visible", timeout=RUN_TIMEOUT_MS
    )
    assert_no_exception(page, "news after hide")
    screenshot(page, "news-feed")
    assert_clean_console(console_errors, "news")

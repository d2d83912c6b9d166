"""The knowledge-base chatbot in Chromium with the real MiniLM: a typed question answered with citations and
sources, an honest "I don't know", and a Markdown upload from the sidebar that the bot then answers from."""

from __future__ import annotations

import re

import pytest

from .conftest import RUN_TIMEOUT_MS, assert_no_exception, wait_for_app_idle
from .test_browser import assert_clean_console, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TITLE = "Knowledge-base chatbot"
BUILD_TIMEOUT_MS = 120_000  # the first visit embeds the whole knowledge base with MiniLM (about 30 s here)


def open_chatbot(page, app_url: str) -> None:
    open_page(page, f"{app_url}/chatbot", TITLE)
    page.locator('[data-testid="stChatInputTextArea"]').wait_for(state="visible", timeout=BUILD_TIMEOUT_MS)
    wait_for_app_idle(page, timeout_ms=BUILD_TIMEOUT_MS)
    assert_no_exception(page, "chatbot (first run)")


def assistant_messages(page):
    return page.locator('[data-testid="stChatMessage"]').filter(
        has=page.locator('[data-testid="stChatMessageAvatarAssistant"]')
    )


def ask(page, question: str):
    """Type a question into the chat input, send it with Enter, and return the assistant's new message."""
    before = assistant_messages(page).count()
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(question)
    box.press("Enter")
    assistant_messages(page).nth(before).wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert_no_exception(page, f"chatbot after {question!r}")
    user = page.locator('[data-testid="stChatMessage"]').filter(
        has=page.locator('[data-testid="stChatMessageAvatarUser"]')
    )
    assert user.last.inner_text().strip().endswith(question), "the question is shown as the user's message"
    return assistant_messages(page).nth(before)


def test_a_typed_question_gets_a_cited_answer_and_an_unknown_one_i_dont_know(page, app_url, console_errors, screenshot):
    open_chatbot(page, app_url)

    answer = ask(page, "What accuracy does the spam detector get?")
    text = answer.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
    assert "[1]" in text and re.search(r"\d\.\d", text), text
    assert "I don't know" not in text
    sources = answer.locator('[data-testid="stExpander"]').filter(has_text="Sources")
    sources.locator("summary").first.click()
    cited = sources.get_by_text(re.compile(r"^\[1\] README › .*Spam detector"))
    cited.first.wait_for(state="visible", timeout=10_000)

    unknown = ask(page, "what is the capital of Mongolia?")
    assert unknown.get_by_text("I don't know").count() >= 1, unknown.inner_text()
    assert unknown.locator('[data-testid="stExpander"]').count() == 0  # nothing is cited

    screenshot(page, "chatbot-answer")
    assert_clean_console(console_errors, "chatbot")


def test_an_uploaded_markdown_file_is_answered_from(page, app_url, console_errors, tmp_path):
    notes = tmp_path / "lighthouse.md"
    notes.write_text(
        "# Lighthouse notes\n\nThe lighthouse keeper's cat is named MARMALADE and she sleeps in the lamp room.\n\n"
        "The lamp turns twice a minute.\n",
        encoding="utf-8",
    )
    open_chatbot(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(notes))
    add = sidebar.get_by_role("button", name="Add to the knowledge base")
    add.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    add.click()
    sidebar.get_by_text("📄 lighthouse.md").wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert_no_exception(page, "chatbot upload")

    answer = ask(page, "what is the lighthouse keeper's cat named?")
    text = answer.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
    assert "MARMALADE" in text and "[1]" in text, text
    sources = answer.locator('[data-testid="stExpander"]').filter(has_text="Sources")
    sources.locator("summary").first.click()
    sources.get_by_text("[1] lighthouse.md").first.wait_for(state="visible", timeout=10_000)
    assert_clean_console(console_errors, "chatbot upload")

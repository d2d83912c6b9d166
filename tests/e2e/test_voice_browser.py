"""The voice-to-text page in Chromium: the live microphone over WebRTC, and the recording and upload fallbacks.

The live test follows TESTING.md through ``webrtc_probe`` (its own app server and browser in a private
network namespace; Chromium's fake microphone plays two LibriVox sentences with pauses between them); the
fallbacks use the session's app server like the other browser tests.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from engines.registry import ROOT
from tests.conftest import require_dataset

from .conftest import _require_browser_stack, keep_live_screenshot, wait_for_app_idle
from .test_browser import assert_clean_console, open_page
from .webrtc_probe import run_probe, unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TITLE = "Voice to text"
SPOKEN = (  # LibriVox, read by a person; PocketSphinx gets most of these words
    "pocketsphinx-librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
    "pocketsphinx-librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
)
LISTEN_S = 24  # the two sentences with their pauses take about 11 s: heard twice, so a dropped packet under load does not decide


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_speech_into_the_microphone_appears_as_a_transcript(shared_data, tmp_path):
    _require_browser_stack()
    folder = require_dataset(shared_data, "speech-samples")
    if unavailable():
        pytest.skip(unavailable())
    with (folder / "transcripts.csv").open(encoding="utf-8") as listing:
        reference = {row["file"]: row["transcript"] for row in csv.DictReader(listing)}
    result = run_probe("microphone", [folder / f for f in SPOKEN], tmp_path / "probe", seconds=LISTEN_S)
    keep_live_screenshot(tmp_path / "probe" / "live.png", "voice-live")
    assert not result["errors"], result
    assert result["utterances"] >= len(SPOKEN), result
    said = Counter(w for f in SPOKEN for w in words(reference[f]))
    heard = Counter(words(result["transcript"]))
    right = sum(min(n, heard[w]) for w, n in said.items())
    assert right / sum(said.values()) > 0.5, f"most words right: {right} of {sum(said.values())}: {result}"
    assert result["delay_s"] is not None and result["delay_s"] < 5, result


def test_an_uploaded_recording_is_transcribed(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/voice", TITLE)
    page.get_by_role("tab", name="Record or upload").click()
    wait_for_app_idle(page)
    page.get_by_text("Upload a file", exact=True).click()
    wait_for_app_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(ROOT / "data" / "speech_sample.wav")
    )
    wait_for_app_idle(page)
    page.get_by_role("button", name="Transcribe").click()
    page.get_by_text("Sentiment (VADER)").first.wait_for(state="visible")
    wait_for_app_idle(page)
    transcript = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile(r"^Transcript"))
    assert "pizza" in transcript.first.inner_text()
    screenshot(page, "voice-file")
    assert_clean_console(console_errors, "voice upload")


def test_a_browser_recording_is_transcribed_or_explained(page, app_url, console_errors):
    """st.audio_input with Chromium's fake microphone (a beep): recorded, decoded, and answered without an error."""
    open_page(page, f"{app_url}/voice", TITLE)
    page.get_by_role("tab", name="Record or upload").click()
    wait_for_app_idle(page)
    page.get_by_text("Record in the browser", exact=True).click()
    wait_for_app_idle(page)
    page.get_by_role("button", name=re.compile("^Record$|Start recording", re.I)).first.click()
    page.wait_for_timeout(2500)
    page.get_by_role("button", name=re.compile("Stop recording", re.I)).first.click()
    page.get_by_role("button", name="Transcribe").wait_for(state="visible")
    wait_for_app_idle(page)
    page.get_by_role("button", name="Transcribe").click()
    wait_for_app_idle(page)
    main = page.locator('[data-testid="stMain"]')
    answered = main.locator('[data-testid="stDataFrame"], [data-testid="stAlertContentWarning"]')
    assert answered.count() >= 1, main.inner_text()[-1500:]
    assert not page.locator('[data-testid="stException"]').count()
    assert_clean_console(console_errors, "voice recording")

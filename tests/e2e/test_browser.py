"""Real-browser tests: every page of the registry in Chromium, main action clicked, screenshots taken.

Run: ``GALLERY_OFFLINE=1 python -m pytest tests/e2e -q`` (``UPDATE_SCREENSHOTS=1`` refreshes the README
screenshots in assets/screenshots/).
"""

from __future__ import annotations

import re

import pytest

from engines.registry import DEMOS

from .conftest import RUN_TIMEOUT_MS, assert_no_exception, wait_for_app_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The first one found on a page is its main action.
MAIN_ACTIONS = (
    "Classify",
    "Analyze",
    "Summarize",
    "Predict churn",
    "Estimate the price",
    "Recommend movies",
    "Detect anomalies",
    "✈️ Air passengers (monthly)",
    "Generate",
)
COMPARE_TIMEOUT_MS = 120_000  # trains every pipeline
FINE_TUNE_TIMEOUT_MS = 420_000  # MiniLM fine-tuned with one thread (the thread budget of 2 shared CPUs): 2 to 5 min


def open_page(page, url: str, title: str) -> None:
    """Load ``url`` and wait until its script has run to the end and ``title`` is shown."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=title).first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)


def assert_clean_console(errors: list[str], where: str) -> None:
    assert not errors, f"{where}: errors in the browser console:\n" + "\n".join(errors)


def assert_app_navigation(page, where: str) -> None:
    """The sidebar is the registry's navigation (sections, "Gallery"), not Streamlit's file-based fallback."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_text("Gallery", exact=True).count() == 1, f"{where}: the app's navigation is missing"
    for demo in DEMOS:
        assert nav.get_by_text(demo.title, exact=True).count() == 1, f"{where}: {demo.title!r} not in the navigation"


def test_a_deep_link_as_the_first_request_still_runs_app_py(page, app_url):
    # First test of the session on purpose: on a fresh server Streamlit once ran a `pages/` script
    # bare for a deep link (no st.navigation, no page config), which is why pages live in app_pages/.
    demo = DEMOS[0]
    open_page(page, f"{app_url}/{demo.key}", demo.title)
    assert_app_navigation(page, f"{demo.key} (first request)")
    assert_no_exception(page, demo.key)


def test_home_lists_every_demo(page, app_url, console_errors, screenshot):
    open_page(page, app_url, "ML Demo Gallery")
    main = page.locator('[data-testid="stMain"]')  # the cards, not the sidebar navigation
    for demo in DEMOS:
        assert main.get_by_text(demo.title).first.is_visible(), f"the home page does not show {demo.title!r}"
    assert_no_exception(page, "home")
    screenshot(page, "home")
    assert_clean_console(console_errors, "home")


@pytest.mark.parametrize("demo", DEMOS, ids=[d.key for d in DEMOS])
def test_demo_page_main_action(page, app_url, console_errors, screenshot, demo):
    open_page(page, f"{app_url}/{demo.key}", demo.title)
    assert_app_navigation(page, demo.key)
    assert_no_exception(page, f"{demo.key} (first run)")
    for name in MAIN_ACTIONS:
        button = page.get_by_role("button", name=name, exact=True)
        if button.count():
            button.first.click()
            wait_for_app_idle(page)
            break
    assert_no_exception(page, f"{demo.key} (after the main action)")
    screenshot(page, demo.key)
    assert_clean_console(console_errors, demo.key)


def test_spam_batch_and_compare(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/spam", "Spam detector")

    page.get_by_role("tab", name="Batch").click()
    page.get_by_role("button", name="Classify the file", exact=True).click()
    page.get_by_text("Download results").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert_no_exception(page, "spam batch")
    screenshot(page, "spam-batch")

    page.get_by_role("tab", name="Compare approaches").click()
    # The bundled sample's comparison ships with the gallery: the table is there without a click or any training.
    # Only the active tab panel is visible, so this is the comparison table, not the batch one.
    page.locator('[data-testid="stDataFrame"]:visible').first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert page.get_by_role("tabpanel").locator('[data-testid="stDataFrame"]:visible').count() >= 1
    assert page.get_by_role("button", name="Train and compare all pipelines", exact=True).count() == 0
    assert_no_exception(page, "spam compare")
    screenshot(page, "spam-compare")
    assert_clean_console(console_errors, "spam batch/compare")


def test_sentiment_default_is_fine_tuned_when_asked_then_answers(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/sentiment", "Sentiment analyzer")
    # The shipped TF-IDF model answers at once; nothing trains until the visitor asks. Then MiniLM is fine-tuned
    # in the background queue, the page polls the job and switches by itself.
    verdict = page.get_by_text(re.compile(r"(Positive|Negative|Neutral), score [+-]")).first
    verdict.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)  # answered at once, by the shipped model
    page.get_by_text("is not trained on this server yet").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    page.evaluate("window.__not_reloaded = true")
    page.get_by_role("button", name="Fine-tune MiniLM now", exact=True).click()
    page.get_by_text("is training;").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    page.get_by_text("is training;").first.wait_for(state="hidden", timeout=FINE_TUNE_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert page.evaluate("window.__not_reloaded") is True
    model_caption = page.get_by_text(re.compile(r"Model:.*Fine-tuned MiniLM")).first
    model_caption.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    page.get_by_role("button", name="Analyze", exact=True).click()
    wait_for_app_idle(page)
    assert page.get_by_text(re.compile(r"(Positive|Negative|Neutral), score [+-]")).count() >= 1
    assert_no_exception(page, "sentiment after training")
    screenshot(page, "sentiment-trained")
    assert_clean_console(console_errors, "sentiment after training")


def test_summarizer_reads_an_uploaded_pdf(page, app_url, console_errors, screenshot, tmp_path):
    from tests.sample_files import text_pdf

    paragraphs = [
        "The harbour authority approved a plan to rebuild the old stone pier after storms damaged it last winter.",
        "Engineers said the new pier would be higher and stronger, and would protect the fishing boats.",
        "Work starts in May and should finish before the autumn storms arrive next year.",
        "Local fishermen welcomed the plan but asked for one berth to stay open during the work.",
    ]
    pdf = tmp_path / "harbour.pdf"
    pdf.write_bytes(text_pdf([paragraphs[:2], paragraphs[2:]]))
    open_page(page, f"{app_url}/summarizer", "Text summarizer")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(pdf))
    page.get_by_text(re.compile(r"harbour\.pdf.*PDF, 2 page")).first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert page.locator("mark").filter(has_text="harbour authority").count() >= 1, "the chosen sentence is highlighted"
    assert_no_exception(page, "summarizer PDF upload")
    screenshot(page, "summarizer-pdf")
    assert_clean_console(console_errors, "summarizer PDF upload")


def metric_value(page, label: str) -> str:
    """The value shown by the metric tile whose label is ``label``."""
    tile = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True)).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text()


def test_anomaly_live_stream_updates_without_reloading_the_page(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/anomaly", "Anomaly monitor")
    page.get_by_role("tab", name="Live stream").click()
    wait_for_app_idle(page)
    assert metric_value(page, "Points streamed").startswith("0 /")
    page.evaluate("window.__not_reloaded = true")  # a full page load would drop it
    page.get_by_text("Stream", exact=True).first.click()  # the toggle: a fragment now runs every second
    seen = []
    for _ in range(30):
        page.wait_for_timeout(1000)
        seen.append(int(metric_value(page, "Points streamed").split("/")[0].replace(",", "")))
        if len(set(seen)) >= 3:
            break
    assert len(set(seen)) >= 3 and seen == sorted(seen), f"the stream did not advance tick by tick: {seen}"
    assert page.evaluate("window.__not_reloaded") is True
    assert_no_exception(page, "anomaly live stream")
    page.get_by_text("Stream", exact=True).first.click()  # stop it, so the app can go idle
    wait_for_app_idle(page)
    screenshot(page, "anomaly-live")
    assert_clean_console(console_errors, "anomaly live stream")


def test_forecast_live_mode_appends_points_and_refits_without_reloading(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/forecast", "Forecasting dashboard")
    page.get_by_role("tab", name="Live").click()
    wait_for_app_idle(page)
    page.evaluate("window.__not_reloaded = true")  # a full page load would drop it
    page.get_by_text("Live mode", exact=True).first.click()  # the toggle: a fragment now runs every 2 seconds
    still_to_come = re.compile(r"(\d+) still to come")
    seen = []
    for _ in range(40):
        page.wait_for_timeout(1000)
        match = still_to_come.search(page.locator('[data-testid="stMain"]').inner_text())
        if match:
            seen.append(int(match.group(1)))
        if len(set(seen)) >= 3:
            break
    assert len(set(seen)) >= 3 and seen == sorted(seen, reverse=True), f"live mode did not append points: {seen}"
    assert page.evaluate("window.__not_reloaded") is True
    assert_no_exception(page, "forecast live mode")
    page.get_by_text("Live mode", exact=True).first.click()  # stop it, so the app can go idle
    wait_for_app_idle(page)
    screenshot(page, "forecast-live")
    assert_clean_console(console_errors, "forecast live mode")


def test_textgen_chip_appends_and_training_shows_a_live_curve(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/textgen", "Predictive text generator")
    box = page.get_by_role("textbox", name="Your text (the model continues it)")
    before = box.input_value()
    chip = page.get_by_role("button", name=re.compile(r" · \d")).first
    chip.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    word = chip.inner_text().split(" · ")[0].strip()
    chip.click()
    wait_for_app_idle(page)
    after = box.input_value()
    assert after.startswith(before) and after.rstrip().endswith(word), (before, word, after)
    assert_no_exception(page, "textgen (after a suggestion chip)")

    page.get_by_role("tab", name="Train your own").click()
    wait_for_app_idle(page)
    page.evaluate("window.__not_reloaded = true")  # a full page load would drop it
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Stop", exact=True).wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    progress = page.locator('[data-testid="stProgress"]').first
    seen = []
    for _ in range(60):
        page.wait_for_timeout(1000)
        text = progress.inner_text() if progress.count() else ""
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if len(seen) >= 3 and page.locator('[data-testid="stPlotlyChart"]').count():
            break
    assert len(seen) >= 3, f"the training progress did not update live: {seen}"
    assert page.locator('[data-testid="stPlotlyChart"]').count(), "no live loss curve while training"
    assert page.evaluate("window.__not_reloaded") is True
    page.get_by_text("is ready and selected for writing").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    assert_no_exception(page, "textgen training")
    screenshot(page, "textgen-trained")
    assert_clean_console(console_errors, "textgen training")


def test_imageclf_trains_the_digits_cnn_live_then_reads_a_digit(page, app_url, console_errors, screenshot):
    # Eight epochs (a query parameter of the epochs field): the shipped network has 40, and a busy host trains
    # them for minutes; the page must still show the shipped one first, since no network has these settings.
    open_page(page, f"{app_url}/imageclf?ic_epochs=8", "Image classifier")
    # The shipped network's results are there at once, without training.
    page.get_by_text("CNN test accuracy").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    assert "shipped with the gallery" in page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("button", name="Train the CNN", exact=True).click()
    page.get_by_role("button", name="Stop", exact=True).wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    page.get_by_text("CNN test accuracy").first.wait_for(state="visible", timeout=COMPARE_TIMEOUT_MS)
    wait_for_app_idle(page)
    accuracy = metric_value(page, "CNN test accuracy")
    assert accuracy.endswith("%") and float(accuracy.rstrip("%")) > 90, accuracy
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2, "no curves or confusion matrix"
    assert_no_exception(page, "imageclf after training")
    screenshot(page, "imageclf")
    assert_clean_console(console_errors, "imageclf")


def take_camera_photo(page, tab: str) -> None:
    """Open ``tab``, choose "Take a photo" and press st.camera_input's button (Chromium's fake camera)."""
    page.get_by_role("tab", name=tab).click()
    wait_for_app_idle(page)
    page.get_by_text("Take a photo", exact=True).first.click()
    wait_for_app_idle(page)
    page.get_by_role("button", name="Take Photo").wait_for(state="visible")
    page.wait_for_timeout(1500)  # let the fake camera deliver frames before the shot
    page.get_by_role("button", name="Take Photo").click()


def test_imageclf_reads_a_camera_photo(page, app_url, console_errors, screenshot):
    """st.camera_input in a real browser: Chromium's fake camera (a test pattern) is photographed and read."""
    open_page(page, f"{app_url}/imageclf", "Image classifier")
    take_camera_photo(page, "Any photo")
    page.get_by_text("Read as a handwritten digit").first.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    wait_for_app_idle(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert re.search(r"\d+×\d+ pixels, mode RGB", main), main[-1500:]  # read_image's notes on the photo
    assert_no_exception(page, "imageclf camera photo")
    screenshot(page, "imageclf-camera")
    assert_clean_console(console_errors, "imageclf camera photo")


def test_system_page_shows_memory_and_offers_no_clearing_to_visitors(page, app_url, console_errors, screenshot):
    open_page(page, f"{app_url}/system", "⚙️ System")
    assert page.get_by_text("Heavy packages loaded so far").count() == 1
    # Clearing every visitor's caches is for the operator (GALLERY_OPERATOR_TOKEN, unset here): not offered.
    # With the secret it is a password field and the button (tests/security/test_pages.py).
    page.get_by_text(re.compile(r"^Clearing is for the operator")).wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    assert page.get_by_role("button", name="Clear the in-memory caches").count() == 0
    assert_no_exception(page, "system")
    screenshot(page, "system")
    assert_clean_console(console_errors, "system")

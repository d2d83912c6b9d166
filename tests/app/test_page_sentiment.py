"""AppTest of the sentiment page: presets, explanation, sentences, batch (paste and upload), compare, card, bad input.

The MiniLM models use a tiny random BERT (GALLERY_MODEL_DIR) so the default trains in seconds.
"""

from __future__ import annotations

import time

import pytest

from tests.app.helpers import open_page, open_tab, texts

TRAINING = "Training Fine-tuned MiniLM"


@pytest.fixture(scope="module")
def tiny_env(tiny_encoder_dir, tmp_path_factory):
    """Offline, a private cache, the tiny MiniLM: for the whole module (its page fixture is module-scoped)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GALLERY_OFFLINE", "1")
        patch.setenv("GALLERY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "app-cache"))
        patch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
        patch.delenv("GALLERY_DATA_DIR", raising=False)
        # The module's page opens before the function-scoped offline_env: no server warm-up (it would queue the
        # shipped models' rebuild for the tiny encoder in the background, the comparison among them).
        patch.setenv("GALLERY_WARM_UP", "0")
        patch.setenv("GALLERY_WAIT_FOR_TRAINING", "1")
        yield


@pytest.fixture(autouse=True)
def tiny_minilm(offline_env, tiny_env, tiny_encoder_dir, monkeypatch):
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))


def wait_for_default(at, seconds: float = 120.0):
    """Rerun until the background training of the default model has finished."""
    deadline = time.monotonic() + seconds
    while any(TRAINING in t for t in texts(at.info)):
        assert time.monotonic() < deadline, "the default model did not finish training"
        time.sleep(0.5)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def verdicts(at) -> list[str]:
    return texts(at.success) + texts(at.error) + [t for t in texts(at.info) if "score" in t]


def has_verdict(at) -> bool:
    """A label with its signed score is shown."""
    return any(label in t and "score " in t for t in verdicts(at) for label in ("Positive", "Negative", "Neutral"))


@pytest.fixture(scope="module")
def page(tiny_env):
    at = open_page("sentiment")
    return wait_for_default(at)


def test_sentiment_page_presets_explanation_and_sentences(page):
    at = page
    assert not any(TRAINING in t for t in texts(at.info))
    assert any("Fine-tuned MiniLM + TF-IDF" in c for c in texts(at.caption)), texts(at.caption)
    # The preset is analysed on arrival: a label and a signed score. (The default here sits on a tiny random
    # encoder, so which label it gives is not a quality check: the trained TF-IDF model's answer below is.)
    assert has_verdict(at), verdicts(at)
    assert any("Why:" in t for t in texts(at.markdown))
    assert any("<span" in t for t in texts(at.markdown)), "the highlighted explanation is shown"
    at.selectbox(key="sentiment_model").set_value("tfidf_lr").run()
    assert any("Positive" in t and "score +" in t for t in texts(at.success)), verdicts(at)
    at.text_area(key="sentiment_text").set_value("This phone is terrible and awful, I hate it.").run()
    assert not at.exception
    assert any("Negative" in t and "score -" in t for t in texts(at.error)), verdicts(at)
    at.selectbox(key="sentiment_model").set_value("ensemble").run()
    # A longer text: the sentence view.
    at.button(key="sentiment_example_Mixed movie review").click().run()
    at.button(key="sentiment_analyze").click().run()
    assert not at.exception
    assert any("Sentence by sentence" in t for t in texts(at.subheader))
    assert len(at.dataframe[0].value) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("😀🎉 !!! ???", "no words"),
        ("Ce restaurant est vraiment excellent, le service est rapide et les plats sont délicieux.", "French"),
    ],
    ids=["empty", "emoji", "french"],
)
def test_sentiment_bad_text_shows_an_error_and_the_page_survives(page, text, message):
    at = page
    open_tab(at, "sentiment_tab", "🔎 Try it")
    at.text_area(key="sentiment_text").set_value(text).run()
    assert not at.exception
    assert any(message in t for t in texts(at.error)), texts(at.error)
    at.button(key="sentiment_example_Happy customer").click().run()
    assert has_verdict(at), verdicts(at)


def test_sentiment_huge_text_and_html_are_handled(page):
    at = page
    open_tab(at, "sentiment_tab", "🔎 Try it")
    at.text_area(key="sentiment_text").set_value("I love this phone. " * 110_000).run()  # ~2 MB
    assert not at.exception
    assert any("Cut to the first" in t for t in texts(at.info)), texts(at.info)
    at.text_area(key="sentiment_text").set_value("<script>alert('x')</script> I love this great phone").run()
    html = [t for t in texts(at.markdown) if "<span" in t]
    assert html and "<script>" not in html[0] and "&#60;script&#62;" in html[0]


def test_sentiment_batch_paste_and_upload(page):
    at = page
    open_tab(at, "sentiment_tab", "📦 Batch")
    at.button(key="sentiment_batch_run").click().run()
    assert not at.exception
    metrics = {m.label: int(m.value) for m in at.metric}
    assert sum(metrics.values()) == 8 and metrics["Skipped"] == 0, metrics
    assert any(b.label == "Download results (CSV)" for b in at.get("download_button"))
    # Upload a CSV and pick the text column; a numeric column is refused with a clear error.
    at.radio(key="sentiment_batch_mode").set_value("Upload a CSV or TXT").run()
    csv = b"id,review\n1,I love this phone\n2,Terrible food and awful service\n3,Great movie\n"
    at.file_uploader(key="sentiment_upload").set_value(("reviews.csv", csv, "text/csv")).run()
    assert at.selectbox(key="sentiment_batch_column").value == "review"
    at.button(key="sentiment_batch_run").click().run()
    metrics = {m.label: int(m.value) for m in at.metric}
    assert sum(metrics.values()) == 3, metrics
    at.selectbox(key="sentiment_batch_column").set_value("id").run()
    assert not at.exception
    assert any("holds numbers, not text" in t for t in texts(at.error)), texts(at.error)
    at.file_uploader(key="sentiment_upload").set_value(("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "text/csv"))
    at.run()
    assert any("PNG image" in t for t in texts(at.error))
    assert not at.exception


def test_sentiment_compare_and_card(page):
    at = page
    open_tab(at, "sentiment_tab", "⚖️ Compare models")
    at.button(key="sentiment_compare").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"accuracy", "f1", "latency_ms"} <= set(table.columns), table.columns
    assert len(table) == 6  # four trained here + the default and its fine-tuned member
    assert len(at.selectbox(key="sentiment_confusion_model").options) == 6
    open_tab(at, "sentiment_tab", "🪪 Model card")
    assert any("Model card" in t for t in texts(at.markdown))
    assert any("neutral" in t for t in texts(at.markdown))


def test_sentiment_fast_model_and_unavailable_pipeline(page):
    at = page
    open_tab(at, "sentiment_tab", "🔎 Try it")
    at.selectbox(key="sentiment_model").set_value("vader").run()
    assert not at.exception
    assert any("VADER" in c for c in texts(at.caption))
    at.text_area(key="sentiment_text").set_value("The food was good, good value, and the staff were not rude").run()
    phrases = [t for t in texts(at.markdown) if t.startswith("Phrases that count more together")]
    assert phrases and "good, good" in phrases[0], phrases
    at.selectbox(key="sentiment_model").set_value("hub").run()
    assert not at.exception
    assert any("not available here" in t for t in texts(at.warning)), texts(at.warning)
    assert has_verdict(at), verdicts(at)


def test_a_cold_visit_answers_with_the_shipped_model_and_fine_tunes_only_when_asked(tmp_path, monkeypatch):
    from engines.core import jobs
    from engines.core.embeddings import MINILM
    from tests.tiny_models import make_tiny_bert

    # An encoder of its own (other weights: another identity, so no model of it is in memory, on disk or queued).
    make_tiny_bert(tmp_path / "models" / MINILM.name, seed=7)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cold-cache"))
    monkeypatch.setenv("GALLERY_WAIT_FOR_TRAINING", "0")

    def fine_tunes():
        return [j for j in jobs.queue().active() if "Fine-tuned MiniLM" in j.title]

    at = open_page("sentiment")
    model_caption = next(c for c in texts(at.caption) if "**Model:**" in c)
    assert "TF-IDF" in model_caption and "shipped with the gallery" in model_caption, model_caption
    assert has_verdict(at), verdicts(at)  # the preset is answered at once, by the shipped model
    assert fine_tunes() == [], "no fine-tune starts on arrival (it would slow every page for minutes)"
    assert any("not trained on this server yet" in t for t in texts(at.info)), texts(at.info)
    at.button(key="sentiment_fine_tune").click().run()
    assert not at.exception, [e.value for e in at.exception]
    running = fine_tunes()
    assert len(running) == 1, "the fine-tune runs once, in the shared queue"
    assert has_verdict(at), verdicts(at)  # the shipped model still answers meanwhile
    assert any("is training" in c for c in texts(at.caption)), texts(at.caption)  # its progress, on the page
    at.run()
    assert len(fine_tunes()) <= 1, "never a second copy"
    assert running[0].done.wait(300), "the fine-tune finished"
    at.run()
    assert any("Fine-tuned MiniLM + TF-IDF" in c for c in texts(at.caption)), texts(at.caption)
    assert "sentiment_fine_tune" not in [b.key for b in at.button]
    assert has_verdict(at), verdicts(at)

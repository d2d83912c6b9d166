"""AppTest of the predictive text page: shipped model (suggestions, Generate), training (live, Stop), bad input,
the n-gram comparison, GPT-2 offline and the model card.

The shipped Shakespeare LSTM is part of the product: the tests that use it fail (not skip) when it is missing.
Training uses the bundled fables with a tiny config, so it takes seconds.
"""

from __future__ import annotations

import html
import json
import math
import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import open_page, open_tab, texts

TAB = "tg_tab"
WRITE, TRAIN, COMPARE, GPT2, CARD = (
    "✍️ Write",
    "🏋️ Train your own",
    "⚖️ Compare with an n-gram",
    "🤖 GPT-2",
    "🪪 Model card",
)
MISSING = "shipped Shakespeare model is not available"


@pytest.fixture(scope="module")
def module_env(tiny_encoder_dir, tmp_path_factory):
    """The conftest's offline settings for the whole module (its page fixture is module-scoped)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GALLERY_OFFLINE", "1")
        patch.setenv("GALLERY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "app-cache"))
        patch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
        patch.delenv("GALLERY_DATA_DIR", raising=False)
        yield


@pytest.fixture(scope="module")
def page(module_env) -> AppTest:
    return open_page("textgen")


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def generated(at: AppTest) -> str:
    """The continuation shown under Generate (empty when there is none)."""
    if "tg_output" not in at.session_state:
        return ""
    return at.session_state["tg_output"]["text"]


def wait_for_training(at: AppTest, seconds: float = 120.0) -> None:
    """Rerun (AppTest fires no run_every timers) until the background training has finished."""
    deadline = time.monotonic() + seconds
    at.run()
    while "tg_job" in at.session_state and not at.session_state["tg_job"].done.is_set():
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.5)
    at.run()  # the run that picks up the finished model
    ok(at)


def use_shipped(at: AppTest) -> None:
    """Write with the shipped model (a missing shipped model is a product defect: fail, never skip)."""
    assert not any(MISSING in t for t in texts(at.error)), texts(at.error)
    assert any("Shakespeare LSTM" in o for o in at.selectbox(key="tg_model").options), "the shipped model is missing"
    at.selectbox(key="tg_model").set_value("shipped").run()
    ok(at)


def tiny_config(at: AppTest, steps: int = 30) -> None:
    at.radio(key="tg_corpus").set_value("bundled")
    at.radio(key="tg_level").set_value("char")
    at.run()
    at.number_input(key="tg_hidden_char").set_value(32)
    at.number_input(key="tg_seq_char").set_value(32)
    at.number_input(key="tg_steps_char").set_value(steps)
    at.run()
    ok(at)


def test_textgen_shipped_model_generates(page):
    at = page
    ok(at)
    assert not any(MISSING in t for t in texts(at.error)), texts(at.error)  # a product defect, not a skip
    assert not at.warning, texts(at.warning)
    assert at.selectbox(key="tg_model").value == "shipped"
    assert any("Tiny Shakespeare" in c and "2-layer character LSTM" in c for c in texts(at.caption))
    assert at.text_area(key="tg_prompt").value == "ROMEO:\n"
    at.slider(key="tg_length").set_value(200).run()  # the settings survive tab visits: short text for every test
    at.button(key="tg_generate").click().run()
    ok(at)
    text = generated(at)
    assert len(text.strip()) > 20, repr(text)
    as_html = html.escape(text).replace("\n", "<br>")
    assert any(as_html in m and "pre-wrap" in m for m in texts(at.markdown)), "the continuation is shown"
    # Same seed, same text; one-click style preset changes the sampling settings.
    at.button(key="tg_generate").click().run()
    assert generated(at) == text
    at.button(key="tg_style_🔥 Wild").click().run()
    assert at.slider(key="tg_temperature").value == pytest.approx(1.3)
    at.button(key="tg_generate").click().run()
    ok(at)
    assert generated(at) and generated(at) != text
    # A prompt preset, then keep the continuation in the text.
    at.button(key="tg_prompt_A king speaks").click().run()
    assert at.text_area(key="tg_prompt").value.startswith("KING RICHARD II:")
    at.button(key="tg_generate").click().run()
    continuation = generated(at)
    at.button(key="tg_keep").click().run()
    assert at.text_area(key="tg_prompt").value.endswith(continuation)


def test_textgen_next_word_chip_appends_the_word(page):
    at = page
    open_tab(at, TAB, WRITE)
    use_shipped(at)
    prompt = "ROMEO:\nO, she doth teach the torches to burn"
    at.text_area(key="tg_prompt").set_value(prompt).run()
    ok(at)
    chips = [b for b in at.button if b.key and b.key.startswith("tg_next_")]
    assert len(chips) == 5, [b.label for b in chips]
    probabilities = [float(c.label.rsplit(" · ", 1)[1].rstrip("%")) for c in chips]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 100
    word = chips[0].label.rsplit(" · ", 1)[0]
    at.button(key="tg_next_0").click().run()
    ok(at)
    value = at.text_area(key="tg_prompt").value
    assert value.startswith(prompt) and value[len(prompt) :].strip() == word, (value, word)
    assert value[len(prompt) :] in (f" {word}", f"\n{word}", word)
    # The text and the settings survive a visit to another tab.
    at.slider(key="tg_temperature").set_value(0.5).run()
    open_tab(at, TAB, CARD)
    open_tab(at, TAB, WRITE)
    assert at.text_area(key="tg_prompt").value == value
    assert at.slider(key="tg_temperature").value == pytest.approx(0.5)


def test_textgen_unseen_characters_are_named(page):
    at = page
    open_tab(at, TAB, WRITE)
    use_shipped(at)
    at.text_area(key="tg_prompt").set_value("ROMEO:\nMy café, 你好 <script>x</script>").run()
    ok(at)
    notes = [t for t in texts(at.info) if "never saw" in t]
    assert notes and "“你”" in notes[0] and "“好”" in notes[0] and "“R”" not in notes[0], texts(at.info)
    at.button(key="tg_generate").click().run()  # unknown characters are read, not refused
    ok(at)
    assert generated(at)
    shown = [m for m in texts(at.markdown) if "pre-wrap" in m]
    assert shown and "<script>" not in shown[0] and "&lt;script&gt;" in shown[0], "the text is shown as text"
    at.text_area(key="tg_prompt").set_value("").run()  # an empty prompt is fine too
    at.button(key="tg_generate").click().run()
    ok(at)
    assert generated(at) and not at.error


def test_textgen_trains_a_model_that_writes_and_compares(page):
    at = page
    open_tab(at, TAB, TRAIN)
    tiny_config(at, steps=30)
    at.button(key="tg_train").click().run()
    ok(at)
    assert any("Training on Fables" in t for t in texts(at.info)), texts(at.info)
    wait_for_training(at)
    assert any("is ready and selected" in t for t in texts(at.success)), texts(at.success) + texts(at.error)
    metrics = {m.label: m.value for m in at.metric}
    assert 1.0 < float(metrics["Validation perplexity"]) < 60, metrics
    assert int(metrics["Steps"].replace(",", "")) <= 30
    # The new model is selected and writes.
    assert at.selectbox(key="tg_model").value == "trained"
    assert any("trained on Fables" in o for o in at.selectbox(key="tg_model").options)
    assert any("Your character LSTM trained on Fables" in c for c in texts(at.caption))
    open_tab(at, TAB, WRITE)
    at.button(key="tg_generate").click().run()
    ok(at)
    assert generated(at)
    # Compare it with the Kneser-Ney baseline on its own held-out tenth.
    open_tab(at, TAB, COMPARE)
    at.radio(key="tg_compare_model").set_value("trained").run()
    at.button(key="tg_compare").click().run()
    ok(at)
    table = at.dataframe[0].value
    assert len(table) == 2 and table["model"].str.contains("LSTM").any() and table["model"].str.contains("5-gram").any()
    assert all(math.isfinite(p) and p > 1 for p in table["perplexity"]), table
    samples = [m for m in texts(at.markdown) if "pre-wrap" in m]
    assert len(samples) == 2, "samples of both models side by side"
    # The model card of the trained model.
    open_tab(at, TAB, CARD)
    assert any("Model card" in t and "Fables" in t for t in texts(at.markdown))


def test_textgen_training_with_averaged_weights_draws_their_curve(page):
    at = page
    open_tab(at, TAB, TRAIN)
    tiny_config(at, steps=30)
    at.checkbox(key="tg_average_char").check().run()
    at.button(key="tg_train").click().run()
    ok(at)
    wait_for_training(at)
    model = at.session_state["tg_trained"].model
    assert model.info["training"]["ema_decay"] == pytest.approx(0.98)
    assert all(p["average_val_loss"] is not None for p in model.info["curve"][1:])
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    names = {trace.get("name") for figure in figures for trace in figure["data"]}
    assert {"training", "validation", "validation, averaged weights"} <= names, names
    at.checkbox(key="tg_average_char").uncheck().run()  # and off again for the tests that follow
    ok(at)


def test_textgen_stop_button_ends_training_with_a_model(page):
    at = page
    open_tab(at, TAB, TRAIN)
    tiny_config(at, steps=5000)
    at.button(key="tg_train").click().run()
    ok(at)
    at.button(key="tg_stop").click().run()
    ok(at)
    assert at.session_state["tg_job"].stop.is_set()
    wait_for_training(at)
    assert any("stopped by the user" in t for t in texts(at.success)), texts(at.success) + texts(at.error)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Steps"].replace(",", "")) < 5000
    assert at.selectbox(key="tg_model").value == "trained"


def test_textgen_a_returning_visitor_finds_the_training_of_its_settings_not_a_copy(module_env):
    first = open_page("textgen")
    open_tab(first, TAB, TRAIN)
    tiny_config(first, steps=4000)
    first.button(key="tg_train").click().run()
    ok(first)
    job = first.session_state["tg_job"]
    assert not job.private, "the bundled fables are shared data: the job outlives the visit"
    try:
        second = open_page("textgen")  # a new session: the visitor came back, or another one has the same settings
        open_tab(second, TAB, TRAIN)
        tiny_config(second, steps=4000)
        assert second.session_state["tg_job"] is job, "the running job is shown, not a second copy"
        assert any("Training on Fables" in t for t in texts(second.info)), texts(second.info)
        assert second.button(key="tg_train").disabled
    finally:
        job.stop.set()
        assert job.done.wait(120)
    # Stopped early, its partial model is not what the next Train with these settings gets.
    first.run()
    first.button(key="tg_train").click().run()
    ok(first)
    again = first.session_state["tg_job"]
    assert again is not job and not again.stop.is_set()
    again.stop.set()
    assert again.done.wait(120)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "is empty"),
        ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a text file"),
        ("short.txt", b"To be, or not to be.", "at least 200"),
        ("huge.txt", b"a" * (25 * 2**20 + 1), "the limit is"),
    ],
    ids=["empty", "binary", "too-short", "huge"],
)
def test_textgen_bad_uploads_show_an_error(page, name, data, message):
    at = page
    open_tab(at, TAB, TRAIN)
    at.radio(key="tg_corpus").set_value("upload").run()
    at.file_uploader(key="tg_upload").set_value((name, data, "text/plain")).run()
    ok(at)
    assert any(message in t for t in texts(at.error)), texts(at.error)
    assert at.button(key="tg_train").disabled


def test_textgen_one_character_corpus_and_absurd_settings_show_an_error(page):
    at = page
    open_tab(at, TAB, TRAIN)
    at.radio(key="tg_corpus").set_value("upload").run()
    at.file_uploader(key="tg_upload").set_value(("aaa.txt", b"a" * 500, "text/plain")).run()
    ok(at)
    # Refused as soon as it is uploaded: one repeated character leaves nothing to predict.
    assert any("repeats a single character" in t for t in texts(at.error)), texts(at.error)
    assert at.button(key="tg_train").disabled
    # An LSTM far too big for this machine: refused before any training starts.
    at.radio(key="tg_corpus").set_value("bundled").run()
    at.number_input(key="tg_hidden_char").set_value(2048)
    at.number_input(key="tg_layers_char").set_value(6)
    at.button(key="tg_train").click().run()
    ok(at)
    assert any("too big to train here" in t for t in texts(at.error)), texts(at.error)
    assert "tg_job" not in at.session_state or at.session_state["tg_job"].done.is_set()
    at.number_input(key="tg_hidden_char").set_value(32)
    at.number_input(key="tg_layers_char").set_value(1).run()


def test_textgen_compare_shipped_needs_shakespeare_and_gpt2_is_offline(page):
    at = page
    open_tab(at, TAB, COMPARE)
    use_shipped(at)
    at.radio(key="tg_compare_model").set_value("shipped").run()
    ok(at)
    assert any("Tiny Shakespeare" in t and "GALLERY_DATA_DIR" in t for t in texts(at.info)), texts(at.info)
    open_tab(at, TAB, GPT2)
    assert any("GPT-2 is not available here" in t for t in texts(at.info)), texts(at.info)
    assert not at.error
    assert not any("GPT" in o for o in at.selectbox(key="tg_model").options)
    use_shipped(at)
    open_tab(at, TAB, CARD)
    card = [t for t in texts(at.markdown) if "Model card" in t]
    assert card and "Tiny Shakespeare" in card[0] and "validation perplexity" in card[0], card

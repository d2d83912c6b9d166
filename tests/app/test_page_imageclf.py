"""AppTest of the image classifier page: the digits CNN (training live, Stop, metrics, confusion matrix, reading
test digits and drawn digits), the optimise tab, any photo offline (read as a digit) and with a tiny pretrained
model, bad uploads, bad ZIPs, the built-in example dataset trained offline (small CNN), and the model cards.

Training uses tiny settings typed into the page's own widgets (a few epochs, narrow networks), so each training
takes a second or two. The Hugging Face cache is hidden, so "offline" means offline whatever this machine holds.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engines.core import model_sources
from tests.app.helpers import open_page, open_tab, texts
from tests.image_files import encode, image_bytes, make_zip, noisy_png, truncated

TAB = "ic_tab"
DIGITS, OPTIMISE, PHOTO, CUSTOM, CARD = (
    "✏️ Digits",
    "⚡ Optimise",
    "📷 Any photo",
    "🧺 Your own classes",
    "🪪 Model card",
)


def no_hf_cache(spec, *, local_only):
    raise FileNotFoundError(f"{spec.hub_id} is not cached (tests)")


@pytest.fixture(scope="module")
def module_env(tiny_encoder_dir, tmp_path_factory):
    """The conftest's offline settings for the whole module (its page fixture is module-scoped)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GALLERY_OFFLINE", "1")
        patch.setenv("GALLERY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "app-cache"))
        patch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
        patch.delenv("GALLERY_DATA_DIR", raising=False)
        patch.setattr(model_sources, "_hf_snapshot", no_hf_cache)
        yield


@pytest.fixture(scope="module")
def page(module_env) -> AppTest:
    return open_page("imageclf")


@pytest.fixture
def hidden_hf_cache(monkeypatch):
    monkeypatch.setattr(model_sources, "_hf_snapshot", no_hf_cache)


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def wait_for(at: AppTest, job_key: str, seconds: float = 120.0) -> None:
    """Rerun (AppTest fires no run_every timers) until the background training has finished."""
    deadline = time.monotonic() + seconds
    at.run()
    while job_key in at.session_state and not at.session_state[job_key].done.is_set():
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.3)
    at.run()  # the run that picks up the finished model
    ok(at)


def tiny_digits(at: AppTest, epochs: int = 6) -> None:
    at.number_input(key="ic_epochs").set_value(epochs)
    at.number_input(key="ic_width").set_value(8)
    at.run()
    ok(at)


def ensure_digits(at: AppTest) -> None:
    """A digits CNN trained in this session (tiny settings), whichever test runs first."""
    if "ic_digits" in at.session_state:
        return
    open_tab(at, TAB, DIGITS)
    tiny_digits(at)
    at.button(key="ic_train_digits").click().run()
    wait_for(at, "ic_digits_job")
    assert "ic_digits" in at.session_state, texts(at.error)


def charts(at: AppTest) -> list[dict]:
    """The plotly figures on the page, as their JSON specs."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def titled(at: AppTest, title: str) -> list[dict]:
    return [c for c in charts(at) if title in json.dumps(c.get("layout", {}).get("title", {}))]


def matrix(z) -> np.ndarray:
    """A heat map's z values (plotly writes numpy arrays as base64 "bdata")."""
    if isinstance(z, dict) and "bdata" in z:
        shape = tuple(int(n) for n in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_imageclf_opens_with_the_shipped_digits_cnn_results_at_once(page):
    at = page
    ok(at)
    assert any("scikit-learn digits" in c and "small CNN" in c for c in texts(at.caption)), texts(at.caption)
    assert not at.button(key="ic_train_digits").disabled
    assert not at.error
    assert "ic_digits_job" not in at.session_state, "nothing trains on arrival"
    assert any("shipped with the gallery" in c and "40 epochs" in c for c in texts(at.caption)), texts(at.caption)
    tiles = metrics(at)
    assert float(tiles["CNN test accuracy"].rstrip("%")) > 95, tiles
    assert tiles["SVC baseline"] == "96.9%", tiles  # scikit-learn's published 0.97, fitted when the model was built
    assert tiles["Epochs"] == "40"
    counts = matrix(titled(at, "Confusion matrix")[0]["data"][0]["z"])
    assert counts.sum() == 899
    assert titled(at, "Loss") and titled(at, "Accuracy"), "the shipped learning curves are drawn"
    assert any(m.startswith("The CNN reads") for m in texts(at.markdown)), "Try it reads a test digit at once"
    open_tab(at, TAB, CARD)
    assert any("Model card" in t and "67,754 weights" in t for t in texts(at.markdown)), texts(at.markdown)
    open_tab(at, TAB, DIGITS)


def test_imageclf_a_second_visitor_joins_the_running_training_instead_of_copying_it(module_env):
    first = open_page("imageclf")
    tiny_digits(first, epochs=150)
    first.button(key="ic_train_digits").click().run()
    ok(first)
    job = first.session_state["ic_digits_job"]
    try:
        second = open_page("imageclf")  # another visitor, or the same one back in a new tab, same settings
        tiny_digits(second, epochs=150)
        assert second.session_state["ic_digits_job"] is job, "the running job is shown, not a second copy"
        assert any("Training the digits CNN" in t for t in texts(second.info)), texts(second.info)
        assert second.button(key="ic_train_digits").disabled
    finally:
        job.stop.set()
        assert job.done.wait(120)


def test_imageclf_digits_cnn_trains_live_and_reads_test_digits(page):
    at = page
    open_tab(at, TAB, DIGITS)
    tiny_digits(at, epochs=6)
    at.button(key="ic_train_digits").click().run()
    ok(at)
    assert any("Training the digits CNN" in t for t in texts(at.info)), texts(at.info)
    wait_for(at, "ic_digits_job")
    tiles = metrics(at)
    assert 0.5 < float(tiles["CNN test accuracy"].rstrip("%")) / 100 <= 1.0, tiles
    assert 0.9 < float(tiles["SVC baseline"].rstrip("%")) / 100 < 1.0, tiles  # scikit-learn's published 0.97
    assert tiles["Epochs"] == "6"
    confusion = titled(at, "Confusion matrix")
    assert confusion, "the confusion matrix is drawn"
    counts = matrix(confusion[0]["data"][0]["z"])
    assert counts.shape == (10, 10) and counts.sum() == 899, "every test digit is counted once"
    assert np.trace(counts) / 899 == pytest.approx(float(tiles["CNN test accuracy"].rstrip("%")) / 100, abs=1e-3)
    assert titled(at, "Loss") and titled(at, "Accuracy"), "the learning curves are drawn"
    # Try it: a test digit, then a random one.
    at.number_input(key="ic_digit_index").set_value(5).run()
    ok(at)
    read = [m for m in texts(at.markdown) if m.startswith("The CNN reads")]
    assert read and ("right" in read[0] or "wrong" in read[0]), texts(at.markdown)
    assert titled(at, "Top 5 digits") and titled(at, "Saliency"), "probabilities and saliency are drawn"
    at.button(key="ic_random_digit").click().run()
    ok(at)
    assert any(m.startswith("The CNN reads") for m in texts(at.markdown))
    # A drawn digit goes through the photo path (read_image -> to_digit_grid).
    at.radio(key="ic_digit_source").set_value("drawn").run()
    at.selectbox(key="ic_drawn_digit").set_value("7").run()
    ok(at)
    assert any(m.startswith("The CNN reads") for m in texts(at.markdown)), texts(at.markdown)
    assert not at.error


def test_imageclf_stop_button_ends_digits_training_with_a_model(page):
    at = page
    open_tab(at, TAB, DIGITS)
    tiny_digits(at, epochs=200)
    at.button(key="ic_train_digits").click().run()
    ok(at)
    at.button(key="ic_stop_digits").click().run()
    ok(at)
    assert at.session_state["ic_digits_job"].stop.is_set()
    wait_for(at, "ic_digits_job")
    assert int(metrics(at)["Epochs"]) < 200
    assert any("stopped by the user" in c for c in texts(at.caption)), texts(at.caption)
    tiny_digits(at, epochs=6)  # leave short settings for the next test


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.png", b"", "is empty"),
        ("notes.png", b"Dear diary, today I trained a network.\n" * 20, "not an image"),
        ("cut.png", truncated(noisy_png()), "damaged"),
        ("archive.jpg", make_zip({"a.txt": b"hello"}), "not an image"),
    ],
    ids=["empty", "text", "truncated-png", "zip-named-jpg"],
)
def test_imageclf_bad_photos_show_an_error_and_the_page_keeps_working(page, name, data, message):
    at = page
    open_tab(at, TAB, PHOTO)
    at.radio(key="ic_photo_source").set_value("upload").run()
    at.file_uploader(key="ic_photo_upload").set_value((name, data, "image/png")).run()
    ok(at)
    assert any(message in t for t in texts(at.error)), texts(at.error)
    at.file_uploader(key="ic_photo_upload").set_value(("ok.png", image_bytes("RGB"), "image/png")).run()
    ok(at)
    assert not at.error, texts(at.error)
    assert any("**Read:** PNG, 64×48 pixels" in c for c in texts(at.caption)), texts(at.caption)


def test_imageclf_bad_digit_photo_shows_an_error(page):
    at = page
    ensure_digits(at)
    open_tab(at, TAB, DIGITS)
    at.radio(key="ic_digit_source").set_value("upload").run()
    at.file_uploader(key="ic_digit_upload").set_value(("cut.png", truncated(noisy_png()), "image/png")).run()
    ok(at)
    assert any("damaged" in t for t in texts(at.error)), texts(at.error)
    blank = encode(Image.new("RGB", (60, 60), (255, 255, 255)), "PNG")  # decodes, but holds no digit
    at.file_uploader(key="ic_digit_upload").set_value(("blank.png", blank, "image/png")).run()
    ok(at)
    assert any("No digit found" in t for t in texts(at.error)), texts(at.error)
    at.radio(key="ic_digit_source").set_value("test").run()
    ok(at)


def test_imageclf_any_photo_offline_says_where_it_looked_and_reads_a_digit(page):
    at = page
    ensure_digits(at)
    open_tab(at, TAB, PHOTO)
    info = [t for t in texts(at.info) if "No pretrained ImageNet classifier here" in t]
    assert info and "MobileNetV2" in info[0] and "GALLERY_MODEL_DIR" in info[0], texts(at.info)
    at.radio(key="ic_photo_source").set_value("preset").run()
    at.selectbox(key="ic_photo_preset").set_value("✏️ A drawn 7").run()
    ok(at)
    assert any("Read as a handwritten digit" in m for m in texts(at.markdown))
    assert any(m.startswith("The CNN reads") for m in texts(at.markdown)), texts(at.markdown)
    at.selectbox(key="ic_photo_preset").set_value("🔴 A red ball on grass").run()
    ok(at)
    assert not at.error


def test_imageclf_optimise_tab_measures_the_variants(page):
    at = page
    ensure_digits(at)
    open_tab(at, TAB, OPTIMISE)
    at.button(key="ic_optimise").click().run()
    ok(at)
    table = at.dataframe[0].value
    assert {"float32", "fused", "fused_scripted"} <= set(table["variant"]), table
    assert (table["size (KB)"] > 0).all() and (table["ms per image"] > 0).all()
    assert table.loc[table["variant"] == "float32", "speedup"].iloc[0] == pytest.approx(1.0)
    assert at.success or at.warning, "the recommendation (or why there is none) is stated"
    assert titled(at, "Time per image") and titled(at, "Size of the saved model")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../evil/a.png": "png", "cats/b.png": "png", "dogs/c.png": "png"}, "is refused"),
        ({"cats/a.png": "png", "dogs/b.png": "png"}, "at least 2 images"),
        ({"cats/a.png": "png", "cats/b.png": "png"}, "only one class folder"),
        ({"notes/readme.txt": b"hello", "notes/more.md": b"# hi"}, "no usable images"),
        (b"this is not a zip", "not a ZIP archive"),
    ],
    ids=["path-traversal", "one-image-per-class", "one-class", "no-images", "not-a-zip"],
)
def test_imageclf_bad_zips_show_an_error(page, entries, message):
    at = page
    open_tab(at, TAB, CUSTOM)
    at.radio(key="ic_data_source").set_value("upload").run()
    if isinstance(entries, bytes):
        data = entries
    else:
        data = make_zip({n: image_bytes("RGB") if v == "png" else v for n, v in entries.items()})
    at.file_uploader(key="ic_zip").set_value(("classes.zip", data, "application/zip")).run()
    ok(at)
    assert any(message in t for t in texts(at.error)), texts(at.error)
    assert at.button(key="ic_train_custom").disabled
    at.radio(key="ic_data_source").set_value("example").run()  # the page keeps working
    ok(at)
    assert not at.error and not at.button(key="ic_train_custom").disabled


def test_imageclf_example_dataset_trains_a_small_cnn_offline_and_classifies(page):
    at = page
    open_tab(at, TAB, CUSTOM)
    at.radio(key="ic_data_source").set_value("example").run()
    ok(at)
    assert any("48 images in 3 classes" in c for c in texts(at.caption)), texts(at.caption)
    assert any("1 file that is not an image" in w for w in texts(at.warning)), texts(at.warning)  # the README
    assert any("small CNN trained from scratch" in c for c in texts(at.caption))
    at.number_input(key="ic_custom_epochs").set_value(3).run()
    at.button(key="ic_train_custom").click().run()
    ok(at)
    assert at.session_state["ic_custom_job"].private, "the visitor's own pictures: cancelled once unwatched"
    wait_for(at, "ic_custom_job")
    assert any("small CNN trained from scratch at 64×64" in s for s in texts(at.success)), texts(at.success)
    tiles = metrics(at)
    assert tiles["Pictures"] == "36 + 12" and tiles["Chance"] == "33.3%", tiles
    confusion = titled(at, "Confusion matrix on the held-out pictures")
    assert confusion and matrix(confusion[0]["data"][0]["z"]).sum() == 12
    # Classify a new picture: a held-out one, then a freshly drawn shape.
    read = [m for m in texts(at.markdown) if m.startswith("It reads")]
    assert read and any(name in read[0] for name in ("circles", "squares", "triangles")), texts(at.markdown)
    at.selectbox(key="ic_custom_try_preset").set_value("A new triangle").run()
    ok(at)
    assert titled(at, "Your classes")
    at.radio(key="ic_custom_try_source").set_value("upload").run()
    at.file_uploader(key="ic_custom_try_upload").set_value(("x.png", b"\x89PNG\r\n\x1a\n", "image/png")).run()
    ok(at)
    assert any("damaged" in t for t in texts(at.error)), texts(at.error)
    # Its model card, next to the digits one.
    open_tab(at, TAB, CARD)
    cards = [t for t in texts(at.markdown) if "Model card" in t]
    assert any("Small CNN trained from scratch" in c and "circles, squares, triangles" in c for c in cards), cards
    assert any("generated example" in c for c in cards)


def test_imageclf_any_photo_uses_a_pretrained_model_when_one_is_there(tmp_path, monkeypatch, hidden_hf_cache):
    from engines.imageclf.transfer import MODELS
    from tests.tiny_vision import make_tiny_image_classifier

    make_tiny_image_classifier(Path(tmp_path) / MODELS[0].name)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    at = open_page("imageclf")
    open_tab(at, TAB, PHOTO)
    assert not any("No pretrained" in t for t in texts(at.info)), texts(at.info)
    assert any("MobileNetV2" in c and "local directory" in c for c in texts(at.caption)), texts(at.caption)
    assert titled(at, "Top 5 ImageNet classes")
    assert any("Saliency for" in str(i.caption) for i in at.get("imgs")) or any(
        "Saliency by occlusion" in c for c in texts(at.caption)
    )
    open_tab(at, TAB, CUSTOM)
    assert any("frozen MobileNetV2 features" in c for c in texts(at.caption)), texts(at.caption)

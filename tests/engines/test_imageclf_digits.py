"""The digits CNN: config checks, training on the real (bundled) digits, predictions, saliency, files, optimisation."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np
import pytest

from engines.core.errors import InputError, SourceError
from engines.imageclf import digits as dg
from engines.imageclf import optimize as opt

SMALL = dg.DigitsConfig(epochs=8, width=16)  # ~1 s on one thread, about 0.97 on the test half


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def split() -> dg.DigitsSplit:
    return dg.load_split()


@pytest.fixture(scope="module")
def trained(split):
    reports, points = [], []
    result = dg.train_digits(SMALL, lambda f, m: reports.append((f, m)), on_epoch=points.append, split=split)
    return result, reports, points


def _subset(split: dg.DigitsSplit, n_train: int = 200, n_test: int = 100) -> dg.DigitsSplit:
    return dg.DigitsSplit(
        split.x_train[:n_train], split.y_train[:n_train], split.x_test[:n_test], split.y_test[:n_test]
    )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"epochs": 0}, "Epochs must be between 1 and 1000"),
        ({"epochs": 2.5}, "Epochs must be a whole number"),
        ({"batch_size": 10**6}, "Batch size must be between"),
        ({"learning_rate": float("nan")}, "Learning rate must be a number"),
        ({"learning_rate": 5.0}, "Learning rate must be between"),
        ({"weight_decay": -0.1}, "Weight decay must be between"),
        ({"label_smoothing": 0.9}, "Label smoothing must be between"),
        ({"width": 1000}, "Network width must be between"),
        ({"width": "wide"}, "Network width must be a number"),
        ({"dropout": 1.0}, "Dropout must be between"),
        ({"val_fraction": 0.8}, "Validation fraction must be between"),
        ({"seed": -1}, "Seed must be between"),
        ({"augment": "yes"}, "Augmentation must be on or off"),
        ({"max_seconds": 0}, "time budget"),
        ({"max_seconds": float("inf")}, "time budget"),
        ({"epochs": True}, "Epochs must be a number"),
    ],
)
def test_config_rejects_absurd_settings_naming_them(change, match):
    with pytest.raises(InputError, match=match):
        dg.DigitsConfig(**change).validate()


def test_config_accepts_whole_floats_as_counts():
    config = dg.DigitsConfig(epochs=3.0, width=16.0).validate()
    assert config.epochs == 3 and isinstance(config.epochs, int) and isinstance(config.width, int)


def test_split_is_scikit_learns_example_protocol(split):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(digits.images, digits.target, test_size=0.5, shuffle=False)
    assert (len(split.x_train), len(split.x_test)) == (898, 899)
    for ours, theirs in zip(
        (split.x_train, split.x_test, split.y_train, split.y_test), (x_train, x_test, y_train, y_test), strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)
    assert split.x_train.min() == 0 and split.x_train.max() == 16


def test_svc_baseline_reproduces_the_example(split):
    accuracy, seconds = dg.svc_baseline(split)
    assert accuracy == pytest.approx(0.9689, abs=5e-4) and seconds > 0  # the example prints 0.97


def test_training_learns_digits_and_reports_everything(trained, split):
    result, reports, points = trained
    assert result.accuracy > 0.93  # a tiny 8-epoch network; the default config reaches ~0.99
    assert [p.epoch for p in points] == list(range(1, SMALL.epochs + 1)) and result.curve == points
    assert points[-1].train_loss < points[0].train_loss and points[-1].val_loss < points[0].val_loss
    assert points[-1].val_acc > 0.85 and points[-1].seconds >= points[0].seconds
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and "test accuracy" in reports[-1][1]
    assert (result.n_train, result.n_val, result.n_test) == (808, 90, 899)
    assert result.confusion.shape == (10, 10) and result.confusion.sum() == 899
    assert np.trace(result.confusion) == round(result.accuracy * 899)
    assert [c["digit"] for c in result.per_class] == list(range(10))
    assert sum(c["support"] for c in result.per_class) == 899
    assert len(result.mistakes) == 899 - np.trace(result.confusion)
    confidences = [m.confidence for m in result.mistakes]
    assert confidences == sorted(confidences, reverse=True)
    for m in result.mistakes:
        assert split.y_test[m.index] == m.true_label != m.predicted
    assert result.model.info["metrics"]["accuracy"] == result.accuracy and result.threads == 1


def test_same_seed_same_model_and_stop_event(split):
    small = _subset(split)
    config = replace(SMALL, epochs=2, width=8)
    a = dg.train_digits(config, split=small)
    b = dg.train_digits(config, split=small)
    c = dg.train_digits(replace(config, seed=1), split=small)
    np.testing.assert_array_equal(dg.predict_digits(a.model, small.x_test), dg.predict_digits(b.model, small.x_test))
    assert not np.allclose(dg.predict_digits(a.model, small.x_test), dg.predict_digits(c.model, small.x_test))
    stop = threading.Event()
    stop.set()
    stopped = dg.train_digits(config, stop=stop, split=small)
    assert len(stopped.curve) == 1 and stopped.stopped_by == "stopped by the user"
    budget = dg.train_digits(replace(config, max_seconds=1e-6, epochs=50), split=small)
    assert len(budget.curve) == 1 and budget.stopped_by == "time budget"


def test_training_without_validation_part(split):
    result = dg.train_digits(replace(SMALL, epochs=1, width=8, val_fraction=0.0), split=_subset(split))
    assert (
        result.n_val == 0
        and result.curve[0].val_loss is None
        and "validation_accuracy" not in dg.model_card(result).metrics
    )


def test_predictions_are_probabilities_and_match_the_labels(trained, split):
    model = trained[0].model
    probs = dg.predict_digits(model, split.x_test[:50])
    assert probs.shape == (50, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs.argmax(1) == split.y_test[:50]).mean() > 0.9
    one = dg.predict_digits(model, split.x_test[0])  # one grid, no batch axis
    np.testing.assert_allclose(one[0], probs[0], atol=1e-6)
    assert not model.net.training


@pytest.mark.parametrize(
    ("grids", "match"),
    [
        (np.zeros((2, 7, 7)), "8x8 grid"),
        (np.zeros(64), "8x8 grid"),
        (np.zeros((0, 8, 8)), "at least one digit"),
        (np.full((8, 8), 17.0), "between 0 and 16"),
        (np.full((8, 8), -1.0), "between 0 and 16"),
        (np.full((8, 8), np.nan), "finite"),
        ([["a"] * 8] * 8, "array of numbers"),
    ],
)
def test_bad_grids_are_refused(trained, grids, match):
    with pytest.raises(InputError, match=match):
        dg.predict_digits(trained[0].model, grids)


def test_saliency_is_an_8x8_map_scaled_to_one(trained, split):
    model = trained[0].model
    before = [None if p.grad is None else p.grad.clone() for p in model.net.parameters()]
    heat = dg.saliency(model, split.x_test[0])
    after = [p.grad for p in model.net.parameters()]
    assert heat.shape == (8, 8) and heat.max() == pytest.approx(1.0) and heat.min() >= 0
    assert heat.std() > 0.05  # some pixels matter more than others
    # the model may be shared by every session of the app: explaining must not write into its parameters' gradients
    assert all(
        (b is None and a is None) or (b is not None and a is not None and a.equal(b))
        for b, a in zip(before, after, strict=True)
    )
    with pytest.raises(InputError, match="one digit at a time"):
        dg.saliency(model, split.x_test[:2])
    with pytest.raises(InputError, match="not a trained digits model"):
        dg.predict_digits(object(), split.x_test[:1])


def test_save_load_roundtrip_and_corruption(trained, split, tmp_path):
    model = trained[0].model
    folder = dg.save(model, tmp_path / "digits")
    loaded = dg.load(folder)
    np.testing.assert_array_equal(dg.predict_digits(loaded, split.x_test), dg.predict_digits(model, split.x_test))
    assert loaded.config == model.config.validate() and loaded.info["metrics"]["accuracy"] == trained[0].accuracy
    manifest = json.loads((folder / dg.MANIFEST).read_text())
    assert manifest["parameters"] == model.parameter_count() and len(manifest["weights"]["sha256"]) == 64
    weights = folder / dg.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="does not match its manifest"):
        dg.load(folder)
    weights.unlink()
    with pytest.raises(SourceError, match="missing"):
        dg.load(folder)
    (folder / dg.MANIFEST).write_text(json.dumps({**manifest, "architecture": "lstm"}))
    with pytest.raises(SourceError, match="another format"):
        dg.load(folder)
    with pytest.raises(SourceError, match="No readable digits model"):
        dg.load(tmp_path / "nowhere")


def test_model_card(trained):
    card = dg.model_card(trained[0])
    assert card.metrics["accuracy"] == trained[0].accuracy and 0 < card.metrics["macro_f1"] <= 1
    assert (card.n_train, card.n_test) == (808, 899) and "torch" in card.versions
    assert "second half" in card.split and "scikit-learn" in card.provenance
    assert "Model card" in card.to_markdown()


def test_optimize_keeps_accuracy_and_shrinks_int8(trained, split):
    result = trained[0]
    reports = []
    report = opt.optimize(
        result.model, split.x_test, split.y_test, split.x_train, lambda f, m: reports.append(f), rounds=3, calls=3
    )
    names = [v.name for v in report.variants]
    assert names[0] == "float32" and {"fused", "fused_scripted"} <= set(names)
    assert report.threads == 1 and reports[-1] == 1.0 and report.recommended in names
    reference = report.variant("float32")
    assert reference.accuracy == pytest.approx(result.accuracy) and reference.speedup == 1.0
    # Folding batch norm is the same maths: the same probabilities up to rounding.
    for name in ("fused", "fused_scripted"):
        np.testing.assert_allclose(
            dg.predict_digits(report.modules[name], split.x_test),
            dg.predict_digits(result.model, split.x_test),
            atol=1e-4,
        )
    if report.quantized_engine is not None:
        int8 = report.variant("int8_static_scripted")
        assert abs(int8.accuracy_drop) <= 0.02 and int8.size_ratio < 0.4  # int8 weights: about a quarter
    for v in report.variants:
        assert v.latency_ms > 0 and v.throughput > 0 and v.size_bytes > 0
        assert v.meets_target == (
            v.name != "float32" and v.speedup >= opt.TARGET_SPEEDUP and v.accuracy_drop <= opt.MAX_ACCURACY_DROP
        )
    assert [row["variant"] for row in report.table()] == names
    with pytest.raises(InputError, match="variant named"):
        report.variant("float16")


def test_optimize_refuses_bad_input(trained, split):
    model = trained[0].model
    with pytest.raises(InputError, match="trained digits model"):
        opt.optimize(model.net, split.x_test, split.y_test)
    with pytest.raises(InputError, match="one label per test digit"):
        opt.optimize(model, split.x_test, split.y_test[:10])
    with pytest.raises(InputError, match="Timing rounds"):
        opt.optimize(model, split.x_test, split.y_test, split.x_train, rounds=0)


# --- the lifecycle: artifact, shipped model, saving only whole trainings ----------------------------------------


def test_artifact_roundtrip_keeps_everything_the_page_draws(trained, split, tmp_path):
    from engines.core.artifacts import ArtifactStore
    from engines.core.lifecycle import save
    from engines.imageclf import digits_store as ds

    result = trained[0]
    result.svc_baseline = (0.97, 0.05)
    request = ds.request(SMALL)
    store = ArtifactStore(tmp_path)
    folder = save(store, request, result, request.key)
    assert {p.name for p in folder.rglob("*") if p.is_file()} == {"manifest.json", "model.safetensors", "results.json"}
    assert not list(folder.rglob("*.joblib")) and not list(folder.rglob("*.pkl")), "no pickle in the artifact"
    loaded, source = request.find(store, shipped=ArtifactStore(tmp_path / "no-shipped"))
    assert source == "trained here earlier (disk cache)"
    assert loaded.accuracy == result.accuracy and loaded.svc_baseline == (0.97, 0.05)
    assert (loaded.confusion == result.confusion).all() and loaded.curve == result.curve
    assert loaded.mistakes == result.mistakes and loaded.per_class == result.per_class
    np.testing.assert_allclose(dg.predict_digits(loaded.model, split.x_test[:50]), dg.predict_digits(result.model, split.x_test[:50]), atol=1e-6)  # fmt: skip
    (folder / "results.json").write_text(
        (folder / "results.json").read_text().replace('"accuracy": 0', '"accuracy": 1')
    )
    assert request.find(store, shipped=ArtifactStore(tmp_path / "no-shipped")) is None, "an edited file is refused"


def test_the_shipped_network_is_the_pages_default_and_verified():
    from engines.core.lifecycle import SHIPPED, ShippedStore
    from engines.imageclf import digits_store as ds

    (request,) = ds.shipped_requests()
    assert request.config == ds.page_config()
    assert ShippedStore().verify(request.engine, request.shipped_key) is not None, (
        "rebuild: build_models --only imageclf"
    )
    result, source = request.find()
    assert source == SHIPPED and result.stopped_by == ds.ALL_EPOCHS and len(result.curve) == request.config.epochs
    assert result.accuracy > 0.97 and result.svc_baseline is not None and result.confusion.sum() == 899


def test_a_training_stopped_early_is_returned_but_not_saved(tmp_path):
    from engines.core.artifacts import ArtifactStore
    from engines.imageclf import digits_store as ds

    request = ds.request(replace(SMALL, epochs=3, width=8))
    stop = threading.Event()
    stop.set()
    store = ArtifactStore(tmp_path)
    stopped = ds.train_and_save(request, stop=stop, store=store)
    assert stopped.stopped_by == "stopped by the user" and not store.exists(request.engine, request.key)
    whole = ds.train_and_save(request, store=store)
    assert whole.stopped_by == ds.ALL_EPOCHS and store.exists(request.engine, request.key)
    assert whole.svc_baseline is not None and 0.9 < whole.svc_baseline[0] < 1.0

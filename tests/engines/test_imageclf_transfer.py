"""Transfer learning: the pretrained ImageNet classifier (tiny random stand-ins, never downloads), its
preprocessing, features and saliency; "teach it your own classes" with frozen features and, offline,
the small CNN; streaming from disk; bad settings; the stop event.

The custom-classes data are colour classes: a red, green or blue square at a random place and size on a
noisy grey background. Accuracy is asserted with a tiny random *ResNet* (two basic blocks): its shallow
random convolutions respond to colour and global average pooling keeps that response wherever the square
is, so a linear head on random features separates the classes (1.00 by 4-fold cross-validation on 36
pictures, two seeds, measured while writing these tests). A random *MobileNetV2* is 17 blocks deep and
its random features are a chaotic function of the pixel noise (0.5-0.7 on the same data), so it is used
for everything except the accuracy assertions. Under 0.9 with the ResNet means the pipeline is broken.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engines.core.card import ModelCard
from engines.core.errors import InputError, SourceError
from engines.imageclf import transfer as tr
from engines.imageclf import zipdata
from engines.imageclf.images import Preprocess, preprocessed_preview, to_batch
from engines.imageclf.zipdata import ImageFolderDataset, read_class_zip
from tests.image_files import encode, make_zip
from tests.tiny_vision import LABELS, SIDE, make_tiny_image_classifier

COLOURS = {"blue": (40, 60, 210), "green": (40, 180, 50), "red": (210, 40, 40)}  # class folders, sorted
PER_CLASS = 12  # 9 train + 3 held out per class
FAST_HEAD = tr.CustomConfig(batch_size=8)
FAST_CNN = tr.CustomConfig(cnn_size=32, cnn_epochs=12, cnn_width=8, batch_size=8, cnn_learning_rate=1e-2)


pytestmark = pytest.mark.usefixtures("one_torch_thread", "no_hf_cache")


@pytest.fixture(scope="module")
def models_root(tmp_path_factory) -> Path:
    """GALLERY_MODEL_DIR holding a tiny random MobileNetV2 where google/mobilenet_v2_1.0_224 would be."""
    root = tmp_path_factory.mktemp("models")
    make_tiny_image_classifier(root / tr.MOBILENET_V2.name, kind="mobilenet_v2")
    return root


@pytest.fixture(scope="module")
def resnet_root(tmp_path_factory) -> Path:
    """GALLERY_MODEL_DIR holding only a tiny random ResNet where microsoft/resnet-50 would be."""
    root = tmp_path_factory.mktemp("resnet")
    make_tiny_image_classifier(root / tr.RESNET_50.name, kind="resnet")
    return root


@pytest.fixture
def with_models(models_root, monkeypatch) -> Path:
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(models_root))
    return models_root


@pytest.fixture
def with_resnet(resnet_root, monkeypatch) -> Path:
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(resnet_root))
    return resnet_root


@pytest.fixture
def classifier(with_models) -> tr.PretrainedClassifier:
    return tr.load_pretrained()


@pytest.fixture
def resnet(with_resnet) -> tr.PretrainedClassifier:
    return tr.load_pretrained()


def colour_picture(colour: str, rng: np.random.Generator, size: int = 40) -> Image.Image:
    """A square of the class colour (random place, size and shade) on a noisy grey background."""
    pixels = rng.normal(128, 30, (size, size, 3))
    side = int(rng.integers(size // 3, size // 2 + 1))
    top, left = (int(v) for v in rng.integers(0, size - side + 1, 2))
    shade = np.asarray(COLOURS[colour]) + rng.normal(0, 12, 3)
    pixels[top : top + side, left : left + side] = shade + rng.normal(0, 10, (side, side, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture
def colour_dataset(tmp_path) -> ImageFolderDataset:
    """3 colour classes x 12 PNGs, uploaded as a ZIP and unpacked by the real reader."""
    rng = np.random.default_rng(7)
    entries = {
        f"colours/{name}/{i:02d}.png": encode(colour_picture(name, rng), "PNG")
        for name in COLOURS
        for i in range(PER_CLASS)
    }
    return read_class_zip(make_zip(entries), workdir=tmp_path / "upload", filename="colours.zip")


# --- labels and preprocessing --------------------------------------------------------------------------------


def test_imagenet_labels_read_as_a_person_says_them_and_stay_unique():
    assert tr.clean_label("tabby, tabby cat") == "tabby"
    assert tr.clean_label("goldfish, Carassius auratus") == "goldfish"
    assert tr.clean_label("  great_white_shark ") == "great white shark"
    labels = tr.human_labels({"0": "maillot", "1": "maillot, tank suit", "2": "crane", "3": "crane"}, 5)
    assert labels == ("maillot", "maillot, tank suit", "crane (class 2)", "crane (class 3)", "class 4")
    assert len(set(tr.human_labels(dict(enumerate(LABELS)), len(LABELS)))) == len(LABELS)


def test_processor_settings_become_our_preprocess():
    from transformers.models.convnext.image_processing_pil_convnext import ConvNextImageProcessorPil
    from transformers.models.efficientnet.image_processing_pil_efficientnet import EfficientNetImageProcessorPil
    from transformers.models.mobilenet_v2.image_processing_pil_mobilenet_v2 import MobileNetV2ImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    mobilenet, _ = tr.preprocess_from_processor(
        MobileNetV2ImageProcessorPil(size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224})
    )
    assert (mobilenet.size, mobilenet.crop_ratio, mobilenet.mean) == (224, 224 / 256, (0.5, 0.5, 0.5))
    resnet, _ = tr.preprocess_from_processor(
        ConvNextImageProcessorPil(size={"shortest_edge": 224}, crop_pct=0.875, image_mean=[0.485, 0.456, 0.406])
    )
    assert (resnet.size, resnet.crop_ratio, resnet.mean) == (224, 0.875, (0.485, 0.456, 0.406))
    vit, _ = tr.preprocess_from_processor(ViTImageProcessorPil(size={"height": 224, "width": 224}))
    assert (vit.size, vit.crop_ratio) == (224, 1.0)
    # EfficientNet's include_top divides by std twice; rescale_offset maps pixels to -1..1 first
    eff, _ = tr.preprocess_from_processor(
        EfficientNetImageProcessorPil(size={"height": 224, "width": 224}, image_std=[0.5, 0.5, 0.5], include_top=True)
    )
    assert eff.std == pytest.approx((0.25, 0.25, 0.25))
    offset, _ = tr.preprocess_from_processor(
        EfficientNetImageProcessorPil(
            size={"height": 224, "width": 224},
            image_mean=[0.0, 0.0, 0.0],
            image_std=[1.0, 1.0, 1.0],
            rescale_offset=True,
            include_top=False,
        )
    )
    assert offset.mean == pytest.approx((0.5, 0.5, 0.5)) and offset.std == pytest.approx((0.5, 0.5, 0.5))


def test_our_preprocessing_matches_the_models_own_processor(classifier, with_models):
    """The one function used for training and inference gives what transformers' processor gives."""
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(with_models / tr.MOBILENET_V2.name)
    picture = colour_picture("red", np.random.default_rng(0), size=72)
    theirs = processor(images=picture, return_tensors="pt")["pixel_values"]
    ours = to_batch([picture], classifier.preprocess)
    assert ours.shape == theirs.shape == (1, 3, SIDE, SIDE)
    assert float((ours - theirs).abs().mean()) < 0.05  # resampling details differ by a grey level or so


# --- the pretrained classifier -------------------------------------------------------------------------------


def test_load_predict_features_and_saliency(classifier):
    assert classifier.name == "MobileNetV2" and classifier.composed
    assert "local directory" in classifier.notice
    assert classifier.labels[0] == "tabby" and len(classifier.labels) == len(LABELS)
    picture = colour_picture("green", np.random.default_rng(1))

    top3 = classifier.predict(picture, k=3)
    assert len(top3) == 3
    assert all(label in classifier.labels for label, _ in top3)
    probs = [p for _, p in top3]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    everything = classifier.predict(picture, k=100)  # more than there are classes: all of them
    assert len(everything) == len(LABELS) and sum(p for _, p in everything) == pytest.approx(1.0, abs=1e-5)
    assert classifier.class_index(top3[0][0]) == int(np.argmax(classifier.predict_proba(picture)[0]))
    with torch.inference_mode():  # logits from the features in one pass are the model's own
        own = torch.softmax(classifier.model(pixel_values=to_batch([picture], classifier.preprocess)).logits, 1)
    np.testing.assert_allclose(classifier.predict_proba(picture), own.numpy(), rtol=1e-4, atol=1e-6)

    pictures = [colour_picture(c, np.random.default_rng(i)) for i, c in enumerate(["red", "green", "blue"] * 3)]
    features = classifier.features(pictures, batch_size=4)
    assert features.shape == (9, classifier.feature_dim) == (9, 320) and features.dtype == np.float32
    assert np.isfinite(features).all() and features.std(axis=0).mean() > 1e-3  # not a constant vector
    np.testing.assert_allclose(classifier.features(pictures, batch_size=9), features, rtol=1e-4, atol=1e-5)

    heat = classifier.saliency(picture)
    assert heat.shape == (SIDE, SIDE) == preprocessed_preview(picture, classifier.preprocess).size[::-1]
    assert heat.dtype == np.float32 and heat.min() >= 0.0 and heat.max() <= 1.0
    other = classifier.saliency(picture, class_index=len(LABELS) - 1, grid=4)
    assert other.shape == (SIDE, SIDE) and 0.0 <= other.min() <= other.max() <= 1.0


def test_saliency_points_at_what_decides_the_class(classifier):
    """On a plain grey picture (the colour occlusion paints), the map peaks on the one yellow patch.

    The class explained is the one the patch raises most, so hiding the patch can only lower it.
    """
    preprocess = Preprocess(size=SIDE, mean=classifier.preprocess.mean, std=classifier.preprocess.std, crop_ratio=1.0)
    pixels = np.full((SIDE, SIDE, 3), preprocess.pad_color, dtype=np.uint8)
    grey = Image.fromarray(pixels.copy())
    pixels[2:12, 20:30] = (250, 250, 40)
    picture = Image.fromarray(pixels)
    pinned = tr.PretrainedClassifier(classifier.model, preprocess, classifier.labels, classifier.resolved, "x")
    raised = int(np.argmax(pinned.predict_proba(picture)[0] - pinned.predict_proba(grey)[0]))
    heat = pinned.saliency(picture, class_index=raised, grid=4)
    row, col = np.unravel_index(int(heat.argmax()), heat.shape)
    assert row < SIDE // 2 and col >= SIDE // 2, (row, col)


def test_two_pass_fallback_gives_the_same_answers(classifier):
    """A model whose classifier cannot be fed the pooled features directly still works, in two passes."""
    two_pass = replace(classifier, composed=False)
    pictures = [colour_picture(c, np.random.default_rng(2)) for c in COLOURS]
    np.testing.assert_allclose(two_pass.predict_proba(pictures), classifier.predict_proba(pictures), atol=1e-6)
    np.testing.assert_allclose(two_pass.features(pictures), classifier.features(pictures), atol=1e-6)
    assert tr._composes(torch.nn.Identity(), SIDE) is False  # no `classifier` module at all


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "5"])
def test_bad_k_is_an_input_error(classifier, k):
    with pytest.raises(InputError, match="number of answers"):
        classifier.predict(colour_picture("red", np.random.default_rng(0)), k=k)


def test_non_pictures_and_bad_class_indices_are_input_errors(classifier):
    picture = colour_picture("red", np.random.default_rng(0))
    with pytest.raises(InputError, match="PIL images"):
        classifier.predict(b"\x89PNG not decoded")
    with pytest.raises(InputError, match="no images"):
        classifier.features([])
    with pytest.raises(InputError, match="class index must be from 0 to 4"):
        classifier.saliency(picture, class_index=5)
    with pytest.raises(InputError, match="saliency grid"):
        classifier.saliency(picture, grid=1)
    with pytest.raises(InputError, match="batch size"):
        classifier.features([picture], batch_size=0)


@pytest.mark.parametrize(("kind", "spec", "dim"), [("resnet", tr.RESNET_50, 32), ("vit", tr.VIT_BASE, 16)])
def test_other_architectures_load_down_the_ladder_and_give_the_heads_input_as_features(
    tmp_path, monkeypatch, kind, spec, dim
):
    """Only ResNet-50 (or ViT) is present: MobileNetV2 is skipped; features equal what the classifier layer reads."""
    make_tiny_image_classifier(tmp_path / spec.name, kind=kind)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    clf = tr.load_pretrained()
    assert clf.resolved.spec == spec and clf.name == {"resnet": "ResNet", "vit": "ViT"}[kind] and clf.composed
    pictures = [colour_picture(c, np.random.default_rng(3)) for c in COLOURS]
    features = clf.features(pictures)
    assert features.shape == (3, dim)
    batch = to_batch(pictures, clf.preprocess)
    with torch.inference_mode():
        base = clf.model.base_model(pixel_values=batch)
        expected = base.pooler_output.flatten(1) if kind == "resnet" else base.last_hidden_state[:, 0]
    np.testing.assert_allclose(features, expected.numpy(), rtol=1e-4, atol=1e-5)
    assert len(clf.predict(pictures[0], k=5)) == 5


def test_offline_without_a_model_raises_a_source_error_that_says_what_to_do(monkeypatch):
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    with pytest.raises(SourceError) as caught:
        tr.load_pretrained()
    message = str(caught.value)
    assert "No pretrained ImageNet classifier is available here" in message
    assert "GALLERY_MODEL_DIR is not set" in message and "downloads are off" in message
    assert "GALLERY_MODEL_DIR/mobilenet_v2_1.0_224" in message and "unset GALLERY_OFFLINE" in message


def test_a_damaged_model_folder_is_reported_not_a_traceback(tmp_path, monkeypatch, progress_log):
    (tmp_path / tr.MOBILENET_V2.name).mkdir()
    (tmp_path / tr.MOBILENET_V2.name / "config.json").write_text("{not json")
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    with pytest.raises(SourceError, match="does not hold a loadable image classifier"):
        tr.load_pretrained(progress=progress_log)
    progress_log.assert_complete()


def test_a_model_folder_without_processor_settings_uses_imagenet_preprocessing_and_says_so(
    tmp_path, models_root, monkeypatch
):
    import shutil

    folder = tmp_path / tr.MOBILENET_V2.name
    shutil.copytree(models_root / tr.MOBILENET_V2.name, folder)
    (folder / "preprocessor_config.json").unlink()
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    clf = tr.load_pretrained()
    assert clf.preprocess == tr.Preprocess()
    assert any("No image processor settings were found" in note and "224×224" in note for note in clf.notes)
    assert len(clf.predict(colour_picture("red", np.random.default_rng(0)), k=3)) == 3


# --- teach it your own classes --------------------------------------------------------------------------------


def test_frozen_features_and_a_linear_head_learn_colour_classes(resnet, colour_dataset, progress_log):
    result = tr.train_custom(colour_dataset, FAST_HEAD, progress_log, classifier=resnet)
    progress_log.assert_complete()
    assert result.backbone == "ResNet features + logistic regression"
    assert result.model.kind == "pretrained" and result.stopped_by == "converged"
    assert result.class_names == ("blue", "green", "red")
    assert (result.n_train, result.n_test) == (27, 9)
    assert result.accuracy >= 0.9, result.mistakes
    assert result.confusion.shape == (3, 3) and result.confusion.sum() == result.n_test
    assert [row["class"] for row in result.per_class] == ["blue", "green", "red"]
    assert all(0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0 for row in result.per_class)
    assert 2 <= len(result.curve) < FAST_HEAD.head_iterations
    assert result.curve[-1].train_loss < result.curve[0].train_loss
    assert result.curve[-1].test_acc == pytest.approx(result.accuracy)
    for mistake in result.mistakes:
        assert Path(mistake.path).is_file() and mistake.true_class != mistake.predicted
    answer = result.model.predict(colour_picture("red", np.random.default_rng(99)))
    assert answer[0][0] == "red" and len(answer) == 3
    assert sum(p for _, p in answer) == pytest.approx(1.0, abs=1e-5)
    assert len(result.model.predict(colour_picture("blue", np.random.default_rng(98)), k=1)) == 1
    assert result.model.saliency(colour_picture("red", np.random.default_rng(97))).shape == (SIDE, SIDE)

    card = tr.model_card(result)
    assert isinstance(card, ModelCard) and card.metrics["accuracy"] == result.accuracy
    assert "ResNet features + logistic regression" in card.model and card.n_test == 9
    assert "Residual" in card.citation and "Stratified" in card.split
    assert "blue, green, red" in card.to_markdown()


def test_pretrained_path_loads_the_model_itself_and_is_reproducible(with_resnet, colour_dataset):
    first = tr.train_custom(colour_dataset, FAST_HEAD)
    second = tr.train_custom(colour_dataset, FAST_HEAD)
    assert first.backbone.startswith("ResNet") and first.notes == () and first.accuracy >= 0.9
    probe = colour_picture("green", np.random.default_rng(5))
    np.testing.assert_allclose(first.model.predict_proba(probe), second.model.predict_proba(probe), atol=1e-6)
    assert first.accuracy == second.accuracy


def test_feature_extraction_streams_from_disk_a_batch_at_a_time(classifier, colour_dataset, monkeypatch):
    """Every picture is decoded once, through iter_batches, never more than batch_size at a time (MobileNetV2)."""
    decoded: list[Path] = []
    batch_sizes: list[int] = []
    real_load, real_to_batch = zipdata._load_item, zipdata.to_batch

    def counting_load(path):
        decoded.append(path)
        return real_load(path)

    def counting_to_batch(pictures, preprocess=None):
        batch_sizes.append(len(pictures))
        return real_to_batch(pictures, preprocess)

    monkeypatch.setattr(zipdata, "_load_item", counting_load)
    monkeypatch.setattr(zipdata, "to_batch", counting_to_batch)
    config = tr.CustomConfig(head_iterations=3, batch_size=5)
    result = tr.train_custom(colour_dataset, config, classifier=classifier)
    assert result.backbone == "MobileNetV2 features + logistic regression"
    assert sorted(decoded) == sorted(path for path, _ in colour_dataset.items)  # each image once
    assert max(batch_sizes) == 5 and sum(batch_sizes) == len(colour_dataset)


def test_offline_the_small_cnn_learns_colour_classes_from_scratch(colour_dataset, progress_log):
    result = tr.train_custom(colour_dataset, FAST_CNN, progress_log)
    progress_log.assert_complete()
    assert result.backbone == "small CNN trained from scratch at 32×32"
    assert result.model.kind == "small_cnn" and result.model.extractor is None
    assert any("No pretrained network is available" in note for note in result.notes)
    assert result.accuracy >= 0.8, result.mistakes
    assert len(result.curve) == FAST_CNN.cnn_epochs and result.curve[-1].test_acc is None
    assert result.curve[-1].train_loss < result.curve[0].train_loss
    assert result.model.predict(colour_picture("blue", np.random.default_rng(11)))[0][0] == "blue"
    card = tr.model_card(result, provenance="bundled sample")
    assert card.model.startswith("Small CNN trained from scratch at 32×32") and card.provenance == "bundled sample"
    assert card.citation == ""


def test_backbone_pretrained_without_a_model_is_a_source_error(colour_dataset):
    with pytest.raises(SourceError, match="GALLERY_MODEL_DIR"):
        tr.train_custom(colour_dataset, tr.CustomConfig(backbone="pretrained"))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"backbone": "resnet-9000"}, "Backbone must be one of 'auto', 'pretrained', 'small_cnn'"),
        ({"test_fraction": 0.0}, "Test fraction must be between 0.05 and 0.5"),
        ({"test_fraction": 0.99}, "Test fraction must be between"),
        ({"batch_size": 0}, "Batch size must be between 1 and 256"),
        ({"batch_size": 10**6}, "Batch size must be between"),
        ({"batch_size": 4.5}, "Batch size must be a whole number"),
        ({"head_iterations": 10**9}, "Head iterations must be between 1 and 10000"),
        ({"head_iterations": 0}, "Head iterations must be between"),
        ({"head_l2": float("nan")}, "Head L2 penalty must be a number"),
        ({"head_l2": -1.0}, "Head L2 penalty must be between"),
        ({"cnn_epochs": -5}, "CNN epochs must be between"),
        ({"cnn_learning_rate": "fast"}, "CNN learning rate must be a number"),
        ({"cnn_size": 4}, "CNN image size must be between 16 and 256"),
        ({"cnn_size": 100_000}, "CNN image size must be between"),
        ({"cnn_width": 0}, "CNN width must be between"),
        ({"seed": -1}, "Seed must be between"),
        ({"augment": "yes"}, "Augmentation must be on or off"),
        ({"max_seconds": 0}, "time budget must be a positive number"),
        ({"max_seconds": float("inf")}, "time budget"),
    ],
)
def test_absurd_settings_are_refused_with_the_setting_named(colour_dataset, change, match):
    config = tr.CustomConfig(**change)
    with pytest.raises(InputError, match=match):
        config.validate()
    with pytest.raises(InputError, match=match):
        tr.train_custom(colour_dataset, config)


def test_whole_number_settings_accept_whole_floats():
    config = tr.CustomConfig(batch_size=8.0, cnn_size=32.0, seed=3.0).validate()
    assert (config.batch_size, config.cnn_size, config.seed) == (8, 32, 3)
    assert all(isinstance(v, int) for v in (config.batch_size, config.cnn_size, config.seed))


def test_a_class_with_one_image_is_an_input_error(tmp_path):
    dataset = ImageFolderDataset(
        root=tmp_path,
        class_names=("cats", "dogs"),
        items=((tmp_path / "a.jpg", 0), (tmp_path / "b.jpg", 0), (tmp_path / "c.jpg", 1)),
    )
    with pytest.raises(InputError, match=r"at least 2 images.*dogs"):
        tr.train_custom(dataset, FAST_CNN)


@pytest.mark.parametrize("backbone", ["pretrained", "small_cnn"])
def test_the_stop_event_ends_training_after_one_epoch_with_a_usable_model(
    backbone, with_models, colour_dataset, progress_log
):
    stop = threading.Event()
    stop.set()
    config = tr.CustomConfig(backbone=backbone, head_iterations=200, cnn_epochs=200, cnn_size=32, batch_size=8)
    result = tr.train_custom(colour_dataset, config, progress_log, stop)
    progress_log.assert_complete()
    assert result.stopped_by == "stopped by the user" and len(result.curve) == 1
    assert result.model.info["epochs_run"] == 1
    probs = result.model.predict_proba([colour_picture("red", np.random.default_rng(4))])
    assert probs.shape == (1, 3) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert any("ended early" in line for line in tr.model_card(result).limitations)


def test_a_time_budget_stops_training(colour_dataset):
    result = tr.train_custom(colour_dataset, replace(FAST_CNN, cnn_epochs=200, max_seconds=1e-6))
    assert result.stopped_by == "time budget" and len(result.curve) == 1


def test_the_package_does_not_import_the_heavy_module():
    code = (
        "import sys, engines.imageclf; "
        "assert 'engines.imageclf.transfer' not in sys.modules and 'torch' not in sys.modules "
        "and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])

"""engines.detect.pretrained: a tiny random YOLOS saved like a real one, found offline first, behind detect()."""

from __future__ import annotations

import numpy as np
import pytest

from engines.core.errors import InputError, SourceError
from engines.detect import pretrained
from engines.detect.tracking import IoUTracker
from tests.tiny_detector import LABELS, make_tiny_yolos

pytestmark = pytest.mark.usefixtures("one_torch_thread", "no_hf_cache")


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    make_tiny_yolos(root / pretrained.YOLOS_TINY.name)
    return root


@pytest.fixture
def detector(models_root, monkeypatch) -> pretrained.PretrainedDetector:
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(models_root))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    return pretrained.load_pretrained()


def test_the_local_folder_is_found_and_labels_come_from_the_config(detector):
    assert detector.resolved.kind == "local directory"
    assert detector.labels == ("bicycle", "dog", "person")  # N/A dropped
    assert "YOLOS-tiny" in detector.name and "local directory" in detector.notice


def test_detections_are_boxes_in_the_frames_pixels_sorted_by_score(detector):
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    found = detector.detect(frame, threshold=0.0)
    assert found, "a random model still scores every detection token"
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    for d in found:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 <= x1 <= 640 and 0 <= y0 <= y1 <= 480
        assert d.label in set(LABELS.values()) - {"N/A"}
    assert all(d.score >= 0.3 for d in detector.detect(frame, threshold=0.3))
    only = {found[0].label}
    assert {d.label for d in detector.detect(frame, threshold=0.0, classes=only)} == only
    assert detector.detect(frame, threshold=0.0, classes=[]) == []


def test_a_4k_frame_is_downscaled_and_boxes_scaled_back(detector):
    frame = np.random.default_rng(1).integers(0, 255, (2160, 3840, 3), dtype=np.uint8)
    found = detector.detect(frame, threshold=0.0)
    assert found and max(d.box[2] for d in found) > 512  # reported in 4K pixels, not the 512-px working size
    assert all(d.box[2] <= 3840 and d.box[3] <= 2160 for d in found)


def test_detections_feed_the_tracker(detector):
    frame = np.random.default_rng(2).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    tracker = IoUTracker()
    first = tracker.update(detector.detect(frame, threshold=0.0))
    again = tracker.update(detector.detect(frame, threshold=0.0))  # the same frame: the same objects
    assert [t.id for t in again] == [t.id for t in first]


def test_bad_input_is_an_input_error(detector):
    with pytest.raises(InputError, match="threshold"):
        detector.detect(np.zeros((64, 64, 3), np.uint8), threshold=2)
    with pytest.raises(InputError, match="image array"):
        detector.detect(b"bytes")


def test_offline_without_a_model_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    with pytest.raises(SourceError) as info:
        pretrained.load_pretrained()
    message = str(info.value)
    assert "No pretrained COCO object detector" in message and "yolos-tiny" in message
    assert "GALLERY_OFFLINE" in message and "OpenCV" in message


def test_a_damaged_model_folder_is_skipped_with_the_reason(tmp_path, monkeypatch):
    broken = tmp_path / pretrained.YOLOS_TINY.name
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    with pytest.raises(SourceError, match="does not hold an object detector"):
        pretrained.load_pretrained()

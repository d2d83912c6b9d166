"""engines.detect: the OpenCV detectors on real photos and made frames, the IoU tracker and the pacer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engines.core.errors import InputError
from engines.detect.detectors import Detection, HaarFaces, HogPeople, check_frame
from engines.detect.tracking import IoUTracker, Pacer, iou
from tests.conftest import require_dataset


@pytest.fixture(scope="module")
def people() -> HogPeople:
    return HogPeople()


@pytest.fixture(scope="module")
def faces() -> HaarFaces:
    return HaarFaces()


def photo(shared_data, name: str) -> np.ndarray:
    folder = require_dataset(shared_data, "sample-images")
    return np.asarray(Image.open(folder / name).convert("RGB"))


def test_hog_finds_the_person_in_the_darknet_photo_and_no_one_among_the_horses(shared_data, people):
    found = people.detect(photo(shared_data, "person.jpg"), threshold=0.5)
    assert len(found) >= 1 and all(d.label == "person" for d in found)
    best = found[0]
    x0, y0, x1, y1 = best.box
    assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 424
    assert y1 - y0 > x1 - x0  # a standing person is taller than wide
    assert 0.5 <= best.score <= 1.0
    assert people.detect(photo(shared_data, "horses.jpg"), threshold=0.5) == []


def test_boxes_come_back_in_the_full_frames_pixels_after_downscaling(shared_data):
    frame = photo(shared_data, "person.jpg")
    big = np.asarray(Image.fromarray(frame).resize((1280, 848)))
    full = HogPeople(max_side=640).detect(big)  # searched at 640, reported at 1280
    assert full, "the person should still be found in the 2x frame"
    _x0, y0, x1, y1 = full[0].box
    assert x1 <= 1280 and y1 <= 848 and (y1 - y0) > 200  # scaled back up, not left at the small size


def test_empty_and_flat_frames_have_no_detections(people, faces):
    for frame in (np.zeros((480, 640, 3), np.uint8), np.full((480, 640, 3), 200, np.uint8)):
        assert people.detect(frame) == []
        assert faces.detect(frame) == []
    assert people.detect(np.zeros((60, 80, 3), np.uint8)) == []  # smaller than HOG's 64x128 window


def test_threshold_filters_and_is_validated(shared_data, people):
    frame = photo(shared_data, "person.jpg")
    assert len(people.detect(frame, threshold=0.0)) >= len(people.detect(frame, threshold=0.99))
    for bad in (-0.1, 1.5, "high", True):
        with pytest.raises(InputError, match="threshold"):
            people.detect(frame, threshold=bad)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("not a frame", "image array"),
        (np.zeros((480, 640, 2), np.uint8), "height x width x 3"),
        (np.zeros((4, 4, 3), np.uint8), "too small"),
        (np.zeros((1, 1), np.uint8), "too small"),
        (np.array([["a"] * 16] * 16), "must hold numbers"),
    ],
)
def test_bad_frames_raise_input_errors(frame, message, people):
    with pytest.raises(InputError, match=message):
        people.detect(frame)


def test_check_frame_normalises_grey_rgba_and_float_frames():
    grey = check_frame(np.full((16, 16), 7, np.uint8))
    assert grey.shape == (16, 16, 3) and grey.dtype == np.uint8 and (grey == 7).all()
    rgba = check_frame(np.zeros((16, 16, 4), np.uint8))
    assert rgba.shape == (16, 16, 3)
    unit = check_frame(np.full((16, 16, 3), 0.5, np.float32))
    assert unit.dtype == np.uint8 and int(unit[0, 0, 0]) == 127


def test_a_4k_frame_is_searched_at_the_working_size(people):
    frame = np.zeros((2160, 3840, 3), np.uint8)
    assert people.detect(frame) == []  # no crash, no blow-up: searched at 640 on the longer side


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0


def person(x: int, score: float = 0.9, label: str = "person") -> Detection:
    return Detection(label, score, (x, 100, x + 60, 260))


def test_the_tracker_keeps_ids_for_moving_objects_and_counts_new_ones():
    tracker = IoUTracker(min_iou=0.3, max_missed=2)
    first = tracker.update([person(0), person(300)])
    assert [t.id for t in first] == [1, 2]
    for step in range(1, 6):  # both walk right 8 px a frame: same ids
        moved = tracker.update([person(8 * step), person(300 + 8 * step)])
        assert [t.id for t in moved] == [1, 2]
        assert [t.detection.box[0] for t in moved] == [8 * step, 300 + 8 * step]
    arrived = tracker.update([person(40), person(340), person(600)])
    assert [t.id for t in arrived] == [1, 2, 3]
    assert tracker.seen == {"person": 3}
    assert tracker.tracks[0].hits == 7


def test_the_tracker_survives_short_gaps_and_forgets_long_ones():
    tracker = IoUTracker(min_iou=0.3, max_missed=2)
    tracker.update([person(0)])
    tracker.update([])
    tracker.update([])
    assert [t.id for t in tracker.update([person(4)])] == [1]  # missed twice: still the same object
    for _ in range(3):
        tracker.update([])
    assert tracker.tracks == []
    assert [t.id for t in tracker.update([person(4)])] == [2]  # gone too long: a new id


def test_the_tracker_follows_a_jump_without_overlap_but_not_a_far_or_differently_sized_box():
    tracker = IoUTracker(min_iou=0.3, max_missed=2)
    tracker.update([person(0)])
    jumped = tracker.update([person(70)])  # 60 px wide: no overlap at all, centre 0.7 box sizes away
    assert [t.id for t in jumped] == [1] and tracker.seen == {"person": 1}
    far = tracker.update([person(370)])  # three box sizes away: someone else
    assert [t.id for t in far] == [2]
    tracker = IoUTracker()
    tracker.update([person(0)])
    giant = Detection("person", 0.9, (10, 100, 150, 420))  # same place, 4.7 times the area
    assert [t.id for t in tracker.update([giant])] == [2]


def test_the_overlap_pass_comes_first_and_each_box_is_used_once():
    tracker = IoUTracker()
    tracker.update([person(0), person(100)])
    moved = tracker.update([person(10), person(60)])  # person(10) overlaps #1; person(60) is nearest to #2
    assert {t.id: t.detection.box[0] for t in moved} == {1: 10, 2: 60}
    with pytest.raises(InputError, match="largest jump"):
        IoUTracker(max_jump=-1.0)


def test_the_tracker_never_matches_across_labels():
    tracker = IoUTracker()
    tracker.update([person(0)])
    again = tracker.update([person(0, label="face")])
    assert [t.id for t in again] == [2] and tracker.seen == {"person": 1, "face": 1}


@pytest.mark.parametrize(("kwargs", "message"), [({"min_iou": 0.0}, "overlap"), ({"max_missed": -1}, "missed")])
def test_bad_tracker_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        IoUTracker(**kwargs)


def test_the_pacer_shrinks_then_skips_when_the_detector_is_slow_and_recovers():
    pacer = Pacer(target_fps=15)  # budget 66.7 ms
    for _ in range(30):
        if pacer.plan() is not None:
            pacer.done(0.2)  # far too slow
    assert pacer.scale == pytest.approx(pacer.min_scale)
    plans = [pacer.plan() for _ in range(12)]
    assert None in plans  # at the smallest scale, frames are skipped
    for _ in range(200):
        if pacer.plan() is not None:
            pacer.done(0.005)  # fast again
    assert pacer.scale == 1.0 and all(pacer.plan() is not None for _ in range(5))


def test_the_pacer_keeps_full_size_when_there_is_time():
    pacer = Pacer(target_fps=10)
    for _ in range(20):
        assert pacer.plan() == 1.0
        pacer.done(0.02)


def test_bad_pacer_settings():
    with pytest.raises(InputError, match="frame rate"):
        Pacer(target_fps=0)


def test_annotate_draws_boxes_captions_and_the_rate_on_a_copy():
    from engines.detect.drawing import annotate, colour

    frame = np.zeros((240, 320, 3), np.uint8)
    tracker = IoUTracker()
    tracks = tracker.update([Detection("person", 0.87, (100, 80, 160, 200))])
    drawn = annotate(frame, tracks, fps=17.5)
    assert not frame.any()  # the input is untouched
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8
    assert tuple(drawn[140, 100]) == colour("person")  # the box's left edge, in the label's colour
    assert drawn[5:30, 5:80].any()  # the FPS line
    assert not drawn[120:180, 110:150].any()  # inside the box stays as it was
    plain = annotate(frame, [Detection("face", 0.6, (10, 10, 50, 50))])
    assert tuple(plain[30, 10]) == colour("face") and not plain[200:, 200:].any()
    assert colour("person") == colour("person") and colour("person") != colour("face")

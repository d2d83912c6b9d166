"""engines.detect.live: the live camera's per-frame work (detect, pace, track, annotate) and its counts.

Most tests drive ``LiveSession`` with a scripted stand-in detector; the rate tests replace the module's
clock (``engines.detect.live.time``) so that seconds pass without sleeping. The last tests run OpenCV's
HOG people detector on a real photo (skipped when ../shared/data is absent).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from itertools import islice

import numpy as np
import pytest
from PIL import Image

from engines.core.errors import InputError
from engines.detect import live
from engines.detect.detectors import (
    OFFLINE_DETECTORS,
    Combined,
    Detection,
    HaarFaces,
    HogPeople,
    people_and_faces,
)
from engines.detect.drawing import colour
from engines.detect.live import HOLD, MAX_LIVE_SIDE, RATE_WINDOW, LiveSession, LiveStats
from engines.detect.video import pan_frames
from tests.conftest import require_dataset

BOX = (20, 16, 60, 56)  # a person in a 120x160 frame
FACE = (100, 20, 130, 50)


class Scripted:
    """A stand-in detector: fixed detections (or a script of them, one entry per call), counting its calls.

    A script entry may be a list of detections or an exception to raise; after the script runs out,
    the last entry repeats. ``delay`` sleeps that long per call (a slow detector); ``clock``, when given,
    is advanced by ``took`` seconds instead (a slow detector without the wait).
    """

    labels = ("person", "face")

    def __init__(self, *script, name: str = "Scripted (test)", delay: float = 0.0, clock=None, took: float = 0.0):
        self.script = list(script) or [[Detection("person", 0.9, BOX)]]
        self.name = name
        self.delay, self.clock, self.took = delay, clock, took
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []
        self.thresholds: list[float] = []

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        entry = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        self.shapes.append(frame.shape)
        self.thresholds.append(threshold)
        if self.delay:
            time.sleep(self.delay)
        if self.clock is not None:
            self.clock.now += self.took
        if isinstance(entry, Exception):
            raise entry
        return list(entry)


class Middle:
    """A stand-in detector that finds one 'thing' covering the middle half of whatever frame it is given."""

    name = "Middle (test)"
    labels = ("thing",)

    def __init__(self, clock=None, took: float = 0.0):
        self.clock, self.took = clock, took
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        self.shapes.append(frame.shape)
        if self.clock is not None:
            self.clock.now += self.took
        height, width = frame.shape[:2]
        return [Detection("thing", 0.8, (width // 4, height // 4, 3 * width // 4, 3 * height // 4))]


class Clock:
    """Stands in for the ``time`` module inside engines.detect.live: ``perf_counter`` reads ``now``."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(live, "time", fake)
    return fake


def blank(height: int = 120, width: int = 160) -> np.ndarray:
    return np.zeros((height, width, 3), np.uint8)


def photo(shared_data, name: str) -> np.ndarray:
    folder = require_dataset(shared_data, "sample-images")
    return np.asarray(Image.open(folder / name).convert("RGB"))


# ------------------------------------------------------------------ one frame at a time


def test_process_annotates_a_same_shaped_copy_and_counts_what_it_saw():
    detector = Scripted([Detection("person", 0.9, BOX), Detection("face", 0.7, FACE)])
    session = LiveSession(detector)
    frame = blank()
    out = session.process(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert not frame.any()  # the camera's frame is not drawn on
    assert tuple(out[36, BOX[0]]) == colour("person")  # the person's box, left edge, in its label's colour
    assert tuple(out[35, FACE[2]]) == colour("face")
    assert not out[30:50, 30:50].any()  # inside the box stays as it was
    for _ in range(2):
        session.process(frame)
    stats = session.stats()
    assert isinstance(stats, LiveStats)
    assert stats.frames == 3 and stats.detected_frames == 3 and detector.calls == 3
    assert stats.seen == {"person": 1, "face": 1}  # the same two objects in three frames: counted once each
    assert sorted(t.detection.label for t in stats.in_view) == ["face", "person"]
    assert sorted(t.id for t in stats.in_view) == [1, 2]
    assert all(t.hits == 3 and t.missed == 0 for t in stats.in_view)
    assert len(stats.history) == 3
    assert all(row["person"] == 1 and row["face"] == 1 for row in stats.history)
    assert stats.history[0]["time"] == 0.0
    assert [row["time"] for row in stats.history] == sorted(row["time"] for row in stats.history)
    assert stats.frame_size == (160, 120)  # width, height
    assert stats.error is None and stats.detector == "Scripted (test)"
    assert stats.detector_ms is not None and stats.detector_ms >= 0 and stats.scale == 1.0


def test_a_frame_with_nothing_found_comes_back_unchanged_but_for_the_rate_line():
    session = LiveSession(Scripted([]))
    frame = np.full((120, 160, 3), 90, np.uint8)
    out = session.process(frame)
    assert out.shape == frame.shape
    assert (out[40:, :] == 90).all()  # no box; only the top-left rate line may differ
    stats = session.stats()
    assert stats.frames == 1 and stats.in_view == () and stats.seen == {}
    assert stats.history == ({"time": 0.0},)


def test_the_classes_filter_drops_other_labels():
    detector = Scripted([Detection("person", 0.9, BOX), Detection("face", 0.7, FACE)])
    session = LiveSession(detector)
    session.configure(classes=["face"])
    assert session.classes == frozenset({"face"})
    out = session.process(blank())
    stats = session.stats()
    assert [t.detection.label for t in stats.in_view] == ["face"]
    assert stats.seen == {"face": 1}
    assert "person" not in stats.history[-1] and stats.history[-1]["face"] == 1
    assert tuple(out[36, BOX[0]]) != colour("person")  # the person's box is not drawn
    session.configure(classes=None)  # every label again
    session.process(blank())
    assert sorted(t.detection.label for t in session.stats().in_view) == ["face", "person"]


def test_the_threshold_reaches_the_detector_and_is_validated():
    detector = Scripted()
    session = LiveSession(detector, threshold=0.4)
    session.process(blank())
    session.configure(threshold=0.75)
    session.process(blank())
    assert detector.thresholds == [0.4, 0.75]
    for bad in (1.5, -0.1, "high", True):
        with pytest.raises(InputError, match="threshold"):
            session.configure(threshold=bad)
    assert session.threshold == 0.75  # a refused setting changes nothing
    with pytest.raises(InputError, match="threshold"):
        LiveSession(Scripted(), threshold=2.0)


def test_a_new_detector_starts_tracking_afresh():
    first = Scripted(name="First (test)")
    session = LiveSession(first)
    for _ in range(3):
        session.process(blank())
    old = session.stats().in_view
    assert len(old) == 1 and old[0].hits == 3
    second = Scripted([Detection("person", 0.8, BOX)], name="Second (test)")
    session.configure(detector=second)
    stats = session.stats()
    assert stats.in_view == () and stats.seen == {} and stats.detector == "Second (test)"
    assert stats.frames == 3  # the frame count goes on
    session.process(blank())
    stats = session.stats()
    assert first.calls == 3 and second.calls == 1
    assert len(stats.in_view) == 1 and stats.in_view[0] is not old[0]
    assert stats.in_view[0].hits == 1 and stats.in_view[0].detection.score == 0.8  # a new track
    assert stats.seen == {"person": 1}
    session.configure(detector=second)  # the same detector again: tracking goes on
    session.process(blank())
    assert session.stats().in_view[0].hits == 2


def test_a_failing_detector_never_stops_the_video_and_the_next_good_frame_clears_the_error():
    detector = Scripted(
        [Detection("person", 0.9, BOX)],
        RuntimeError("model exploded"),
        [Detection("person", 0.9, BOX)],
        name="Fragile (test)",
    )
    session = LiveSession(detector)
    session.process(blank())
    out = session.process(blank())  # the detector raises here
    assert out.shape == (120, 160, 3)
    assert tuple(out[36, BOX[0]]) == colour("person")  # what was last seen is still drawn
    stats = session.stats()
    assert stats.frames == 2 and stats.detected_frames == 1
    assert stats.error is not None
    assert "Fragile (test)" in stats.error and "RuntimeError" in stats.error and "model exploded" in stats.error
    assert len(stats.in_view) == 1  # the last result stays on screen
    session.process(blank())
    stats = session.stats()
    assert stats.error is None and stats.frames == 3 and stats.detected_frames == 2


def test_a_detector_that_always_fails_and_its_replacement():
    session = LiveSession(Scripted(RuntimeError("no weights"), name="Broken (test)"))
    for _ in range(3):
        assert session.process(blank()).shape == (120, 160, 3)
    stats = session.stats()
    assert stats.frames == 3 and stats.detected_frames == 0 and stats.seen == {}
    assert "Broken (test)" in stats.error and "no weights" in stats.error
    session.configure(detector=Scripted())
    assert session.stats().error is None  # a new detector forgets the old one's problem


def test_a_4k_frame_is_shrunk_to_the_live_size():
    detector = Scripted([])
    session = LiveSession(detector)
    frame = np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), dtype=np.uint8)
    out = session.process(frame)
    assert max(out.shape[:2]) == MAX_LIVE_SIDE
    assert out.shape == (540, 960, 3)
    assert max(detector.shapes[0][:2]) <= MAX_LIVE_SIDE  # the detector never sees the 4K frame
    stats = session.stats()
    assert stats.frame_size == (3840, 2160)  # as received
    assert stats.error is None and stats.frames == 1


@pytest.mark.parametrize(
    "frame",
    [np.zeros((4, 4), np.uint8), "not a frame", None, np.zeros((480, 640, 2), np.uint8), np.zeros((0, 0, 3))],
    ids=["tiny-2d", "string", "none", "two-channels", "empty"],
)
def test_a_bad_frame_does_not_raise_and_is_reported(frame):
    detector = Scripted()
    session = LiveSession(detector)
    out = session.process(frame)
    assert isinstance(out, np.ndarray)
    if isinstance(frame, np.ndarray):
        assert out is frame  # given back as it came
    else:
        assert out.shape == (480, 640, 3) and out.dtype == np.uint8  # a blank frame to show
    stats = session.stats()
    assert stats.error is not None and stats.error
    assert detector.calls == 0 and stats.frames == 0
    session.process(blank())  # a good frame afterwards works and clears the problem
    assert session.stats().error is None and detector.calls == 1


# ------------------------------------------------------------------ pacing, holding, the rate


def test_a_slow_detector_is_paced_by_shrinking_then_skipping():
    detector = Scripted(delay=0.08)  # twice the 40 ms budget of 25 frames a second
    session = LiveSession(detector, target_fps=25)
    for _ in range(20):
        session.process(blank(240, 320))
    stats = session.stats()
    assert stats.frames == 20
    assert stats.scale < 1.0
    assert stats.detected_frames < stats.frames and detector.calls == stats.detected_frames
    assert stats.detector_ms is not None and stats.detector_ms >= 70
    assert max(detector.shapes[-1][:2]) < 320  # the detector was given a smaller frame
    assert len(stats.in_view) == 1 and stats.seen == {"person": 1}  # the skipped frames still show the box


def test_boxes_found_on_a_shrunk_frame_come_back_in_the_frames_pixels(clock):
    detector = Middle(clock=clock, took=0.1)  # slow: the pacer shrinks the detector's input
    session = LiveSession(detector, target_fps=25)
    for _ in range(3):
        out = session.process(blank(480, 640))
    assert detector.shapes[0] == (480, 640, 3) and detector.shapes[-1][1] < 640
    (track,) = session.stats().in_view
    x0, y0, x1, y1 = track.detection.box
    assert abs(x0 - 160) <= 3 and abs(y0 - 120) <= 3 and abs(x1 - 480) <= 3 and abs(y1 - 360) <= 3
    assert tuple(out[240, x0]) == colour("thing")  # drawn where it is in the full frame
    assert session.stats().seen == {"thing": 1}


def test_the_slow_detector_pacing_with_a_clock(clock):
    detector = Scripted(clock=clock, took=0.08)
    session = LiveSession(detector, target_fps=25)
    for _ in range(20):
        clock.now += 0.01
        session.process(blank())
    stats = session.stats()
    assert stats.frames == 20 and stats.scale == pytest.approx(0.35)
    assert detector.calls == stats.detected_frames == 12  # shrunk 7 times, then every 2nd, 3rd... frame searched
    assert stats.detector_ms == pytest.approx(80.0)


def test_an_object_missed_for_hold_frames_stays_then_goes():
    found = [Detection("person", 0.9, BOX)]
    detector = Scripted(found, *([[]] * (HOLD + 1)), found)
    session = LiveSession(detector)
    session.process(blank())
    for missed in range(1, HOLD + 1):
        out = session.process(blank())
        (track,) = session.stats().in_view
        assert track.id == 1 and track.missed == missed
        assert tuple(out[36, BOX[0]]) == colour("person")  # still drawn: no flicker
    out = session.process(blank())  # missed once more than HOLD
    stats = session.stats()
    assert stats.in_view == () and not out[36, BOX[0]].any()
    assert stats.history[-1] == {"time": stats.history[-1]["time"]}  # nothing counted in view
    assert all(row.get("person") == 1 for row in stats.history[: HOLD + 1])
    session.process(blank())  # back again soon enough: the tracker still knows it
    stats = session.stats()
    assert [t.id for t in stats.in_view] == [1] and stats.seen == {"person": 1}


def test_the_rate_from_a_clock_and_its_expiry(clock):
    session = LiveSession(Scripted())
    assert session.stats().fps == 0.0
    session.process(blank())
    assert session.stats().fps == 0.0  # one frame is no rate
    for _ in range(9):
        clock.now += 0.02
        session.process(blank())
    stats = session.stats()
    assert stats.fps == pytest.approx(50.0)
    assert [row["time"] for row in stats.history] == pytest.approx([0.02 * i for i in range(10)])
    clock.now += RATE_WINDOW / 2
    stats = session.stats()
    assert stats.fps == pytest.approx(50.0) and len(stats.in_view) == 1  # still fresh
    clock.now += RATE_WINDOW
    stats = session.stats()
    assert stats.fps == 0.0 and stats.in_view == ()  # no frame for longer than the window: stopped
    assert stats.frames == 10 and stats.seen == {"person": 1}  # the counts stay
    for _ in range(5):  # a new burst at 10 frames a second; the old frames are outside the window
        clock.now += 0.1
        session.process(blank())
    assert session.stats().fps == pytest.approx(10.0)


def test_the_rate_in_real_time():
    session = LiveSession(Scripted())
    for _ in range(10):
        session.process(blank(48, 64))
        time.sleep(0.02)
    fps = session.stats().fps
    assert 20 <= fps <= 80


# ------------------------------------------------------------------ threads, snapshots, reset


def test_the_frame_thread_and_the_page_thread_share_the_session_safely():
    a, b = Scripted(name="A (test)"), Scripted([Detection("face", 0.6, FACE)], name="B (test)")
    session = LiveSession(a)
    errors: list[BaseException] = []
    frame = blank(48, 64)

    def camera() -> None:
        try:
            for _ in range(200):
                out = session.process(frame)
                assert out.shape == frame.shape
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)

    thread = threading.Thread(target=camera)
    thread.start()
    loops = 0
    while thread.is_alive() or loops < 5:
        session.configure(
            detector=(a, b)[loops % 2], threshold=(0.3, 0.6)[loops % 2], classes=(None, ["face"], ["person"])[loops % 3]
        )
        stats = session.stats()
        assert 0 <= stats.detected_frames <= stats.frames <= 200
        snap = session.snapshot()
        assert snap is None or snap.shape == frame.shape
        loops += 1
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    stats = session.stats()
    assert stats.frames == 200 and len(stats.history) == 200 and stats.error is None
    assert a.calls + b.calls == stats.detected_frames


def test_snapshot_is_none_before_the_first_frame_then_a_copy():
    session = LiveSession(Scripted())
    assert session.snapshot() is None
    out = session.process(blank())
    first = session.snapshot()
    assert first is not None and np.array_equal(first, out)
    first[:] = 255
    again = session.snapshot()
    assert np.array_equal(again, out) and not (again == 255).all()
    assert again is not first


def test_reset_forgets_everything_but_the_settings():
    detector = Scripted()
    session = LiveSession(detector, threshold=0.6)
    session.configure(classes=["person"])
    session.process(np.zeros((4, 4), np.uint8))  # an error to forget
    for _ in range(3):
        session.process(blank())
    session.process("bad")
    session.reset()
    stats = session.stats()
    assert (stats.frames, stats.detected_frames, stats.fps) == (0, 0, 0.0)
    assert stats.seen == {} and stats.in_view == () and stats.history == ()
    assert stats.frame_size is None and stats.error is None and session.snapshot() is None
    assert session.threshold == 0.6 and session.classes == frozenset({"person"}) and session.detector is detector
    session.process(blank(60, 80))
    stats = session.stats()
    assert stats.frames == 1 and stats.seen == {"person": 1} and stats.frame_size == (80, 60)
    assert stats.history[0]["time"] == 0.0  # time starts again
    assert [t.id for t in stats.in_view] == [1]


def test_a_reset_while_a_frame_is_being_searched_does_not_break_the_frame():
    session: LiveSession

    class ResettingDetector(Scripted):
        def detect(self, frame, threshold=0.5):
            session.reset()  # the page's thread, in the middle of the frame thread's detection
            return super().detect(frame, threshold)

    session = LiveSession(ResettingDetector())
    out = session.process(blank())
    assert out.shape == (120, 160, 3)
    assert session.stats().frames == 1


# ------------------------------------------------------------------ Combined and the real detectors


def test_combined_pools_the_detections_best_first():
    people = Scripted([Detection("person", 0.3, BOX), Detection("person", 0.9, (0, 0, 10, 10))], name="People (x)")
    faces = Scripted([Detection("face", 0.6, FACE)], name="Faces (y)")
    faces.labels = ("face", "person")
    both = Combined(people, faces)
    assert both.name == "People + Faces (OpenCV)"
    assert both.labels == ("person", "face")  # in order, each once
    found = both.detect(blank(), threshold=0.2)
    assert [d.score for d in found] == [0.9, 0.6, 0.3]
    assert [d.label for d in found] == ["person", "face", "person"]
    assert people.thresholds == faces.thresholds == [0.2]
    with pytest.raises(InputError):
        both.detect("not a frame")
    with pytest.raises(InputError, match="threshold"):
        both.detect(blank(), threshold=1.5)
    assert people.calls == 1  # refused before any detector ran


def test_combined_real_detectors_and_its_errors():
    both = Combined(HogPeople(), HaarFaces())
    assert both.labels == ("person", "face")
    assert "People" in both.name and "Faces" in both.name
    assert both.detect(blank(480, 640)) == []
    with pytest.raises(InputError, match="at least one"):
        Combined()
    made = people_and_faces()
    assert isinstance(made, Combined) and made.labels == ("person", "face")
    assert OFFLINE_DETECTORS["people+faces"] is people_and_faces


def test_people_and_faces_finds_the_person_in_the_darknet_photo(shared_data):
    found = people_and_faces().detect(photo(shared_data, "person.jpg"), threshold=0.5)
    assert any(d.label == "person" for d in found)
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    person = next(d for d in found if d.label == "person")
    x0, y0, x1, y1 = person.box
    assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 424 and y1 - y0 > x1 - x0


def test_a_live_session_follows_the_person_across_a_pan_with_one_id(shared_data):
    picture = photo(shared_data, "person.jpg")
    # The middle of a 30-frame pan: there the whole person is in view (at the start of the pan the zoom
    # crops the person too tightly for HOG's 64x128 window).
    frames = list(islice(pan_frames(picture, frames=30), 13, 23))
    session = LiveSession(HogPeople(), threshold=0.5, target_fps=1)  # a 1 s budget: the pacer never shrinks
    ids = []
    for frame in frames:
        out = session.process(frame)
        assert out.shape == (480, 640, 3)
        ids.append([t.id for t in session.stats().in_view if t.detection.label == "person" and t.missed == 0])
    stats = session.stats()
    assert stats.frames == stats.detected_frames == 10 and stats.scale == 1.0 and stats.error is None
    found = [i for frame_ids in ids for i in frame_ids]
    assert sum(1 for frame_ids in ids if frame_ids) >= 8  # found in most frames
    (best, count) = Counter(found).most_common(1)[0]
    assert count >= 8  # and it is the same object in most of them
    assert stats.seen["person"] <= 2 and best in {t.id for t in stats.in_view}

"""engines.detect.video: a video through a detector, tracked, counted and written back as WebM."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engines.core.errors import InputError
from engines.detect import video
from engines.detect.detectors import Detection, HogPeople
from tests.conftest import require_dataset


class BrightBox:
    """A stand-in detector: the bounding box of the white pixels, if any."""

    name = "bright box"
    labels = ("box",)

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        ys, xs = np.nonzero(frame.min(axis=2) > 200)
        if len(xs) == 0:
            return []
        return [Detection("box", 0.9, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))]


def make_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> bytes:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path.read_bytes()


def moving_square(n: int = 20) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        frame = np.zeros((120, 160, 3), np.uint8)
        frame[40:80, 10 + 4 * i : 50 + 4 * i] = 255
        frames.append(frame)
    return frames


def test_a_moving_object_keeps_one_id_and_the_webm_plays_back(tmp_path):
    data = make_video(tmp_path / "clip.avi", moving_square(20))
    work = tmp_path / "work"
    work.mkdir()
    reports = []
    summary = video.annotate_video(data, "clip.avi", BrightBox(), workdir=work, progress=lambda f, m: reports.append(f))
    assert summary.frames == 20 and summary.total_frames == 20 and summary.fps == pytest.approx(10.0)
    assert summary.objects == {"box": 1}  # one object followed across 20 frames, not 20 objects
    assert len(summary.timeline) == 20 and all(row["box"] == 1 for row in summary.timeline)
    assert summary.timeline[-1]["time"] == pytest.approx(1.9)
    assert summary.size == (160, 120) and summary.frames_per_second > 0 and not summary.notes
    assert reports[-1] == 1.0
    assert sorted(p.name for p in work.iterdir()) == [video.OUTPUT_NAME]  # the input copy is gone
    playback = cv2.VideoCapture(str(summary.output))
    read = 0
    while playback.read()[0]:
        read += 1
    playback.release()
    assert read == 20


def test_max_frames_and_stop_cut_the_video_short_and_say_so(tmp_path):
    data = make_video(tmp_path / "clip.avi", moving_square(20))
    summary = video.annotate_video(data, "clip.avi", BrightBox(), workdir=tmp_path, max_frames=5)
    assert summary.frames == 5 and any("first 5 frames" in n for n in summary.notes)
    stop = threading.Event()
    stop.set()
    stopped = video.annotate_video(data, "clip.avi", BrightBox(), workdir=tmp_path, stop=stop)
    assert stopped.frames == 1 and any("Stopped" in n for n in stopped.notes)


def test_a_large_frame_is_shrunk(tmp_path):
    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[400:700, 800:1100] = 255
    data = make_video(tmp_path / "big.avi", [frame, frame], fps=5)
    summary = video.annotate_video(data, "big.avi", BrightBox(), workdir=tmp_path, max_side=480)
    assert summary.size == (480, 270) and summary.objects == {"box": 1}


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.mp4", "is empty"),
        (b"just some text, not a video" * 50, "notes.mp4", "could not be opened|no readable frame"),
        (
            bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8)),
            "noise.avi",
            "could not be opened|no readable frame",
        ),
        (b"\x00" * 100, "movie.exe", "not a video this page reads"),
    ],
    ids=["empty", "text", "noise", "exe"],
)
def test_bad_videos_are_input_errors(tmp_path, data, name, message):
    with pytest.raises(InputError, match=message):
        video.annotate_video(data, name, BrightBox(), workdir=tmp_path)
    assert not any(p.name.startswith("input") for p in tmp_path.iterdir())  # the copy is removed


def test_a_huge_video_is_refused_by_size_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(video, "MAX_VIDEO_BYTES", 1000)
    with pytest.raises(InputError, match="the limit is"):
        video.annotate_video(b"\x00" * 2000, "big.mp4", BrightBox(), workdir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_video_with_no_frames_is_refused(tmp_path):
    path = tmp_path / "none.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    writer.release()
    data = path.read_bytes() if path.exists() else b""
    with pytest.raises(InputError, match=r"empty|could not be opened|no readable frame"):
        video.annotate_video(data, "none.avi", BrightBox(), workdir=tmp_path)


def test_the_person_photo_as_a_clip_counts_one_person(shared_data, tmp_path):
    folder = require_dataset(shared_data, "sample-images")
    frame = np.asarray(Image.open(folder / "person.jpg").convert("RGB"))
    data = make_video(tmp_path / "person.avi", [frame] * 6, fps=6)
    summary = video.annotate_video(data, "person.avi", HogPeople(), workdir=tmp_path)
    assert summary.frames == 6 and summary.objects.get("person") == 1

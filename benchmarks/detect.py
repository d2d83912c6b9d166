"""Live object detection: per-frame latency of each detector on one core, and frames a second through WebRTC.

Dataset ``sample-images`` (the Darknet demo photos in the data directory), each resized to 640x480, the
live camera's frame size. Rows, one per detector (the page's default is people + faces):

- ``latency_ms_1core``: median time of ``detect`` per frame over ``seeds`` passes through the photos, with
  OpenCV and torch held to one thread; ``fps_1core`` is its inverse.
- ``people_photos_with_person``: of the photos with people in them (person.jpg, kite.jpg), how many get at
  least one ``person`` box at threshold 0.5; ``animal_photos_with_person``: of the photos with nobody in
  them (horses, eagle, giraffe, dog), how many get a (false) ``person`` box. The photos carry no
  ground-truth boxes, so these are counts, not average precision.
- The COCO detector (YOLOS-tiny, else RT-DETR) joins when its weights can be loaded offline.

Dataset ``webrtc``: the browser suite's live test run once (``tests/e2e/webrtc_probe.py``: the app and
Chromium in a private network namespace, the fake camera playing a clip panned across person.jpg, default
detector): the median of the frames processed per second that the page showed once a second, after the
first third of the run; the most objects in view; the frame size that arrived. Needs root, unshare,
Chromium and Playwright; skipped with the reason otherwise.

Anchor: issue 9's target, at least 15 frames a second processed through WebRTC on this 2-core machine.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Anchor, Record, Skip

ENGINE = "detect"
PHOTOS = "sample-images (Darknet demo photos at 640x480)"
LIVE = "webrtc (fake camera, clip of person.jpg, 20 s)"
WITH_PEOPLE = ("person.jpg", "kite.jpg")
WITHOUT_PEOPLE = ("horses.jpg", "eagle.jpg", "giraffe.jpg", "dog.jpg")
ANCHORS = [Anchor(ENGINE, LIVE, "issue 9 target (2-core machine)", "fps_median", 15.0)]


def _frames(folder: Path) -> dict[str, np.ndarray]:
    import cv2

    frames = {}
    for name in WITH_PEOPLE + WITHOUT_PEOPLE:
        bgr = cv2.imread(str(folder / name))
        if bgr is not None:
            frames[name] = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (640, 480), interpolation=cv2.INTER_AREA)
    return frames


def _detectors():
    from engines.core.errors import SourceError
    from engines.detect.detectors import OFFLINE_DETECTORS

    found = {key: make() for key, make in OFFLINE_DETECTORS.items()}
    try:
        from engines.detect.pretrained import load_pretrained

        found["coco"] = load_pretrained()
    except SourceError as exc:
        found["coco"] = str(exc)
    return found


def _photo_rows(folder: Path, seeds: int, progress) -> list[Record]:
    import cv2
    import torch

    frames = _frames(folder)
    if not frames:
        raise Skip(f"no readable photo in {folder}")
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    records = []
    for key, detector in _detectors().items():
        if isinstance(detector, str):
            progress(f"detect: {key} skipped: {detector.splitlines()[0]}")
            continue
        detector.detect(next(iter(frames.values())), 0.5)  # warm-up
        times, found = [], {}
        for _ in range(max(1, seeds)):
            for name, frame in frames.items():
                started = time.perf_counter()
                detections = detector.detect(frame, 0.5)
                times.append(time.perf_counter() - started)
                found[name] = any(d.label == "person" for d in detections)
        latency = statistics.median(times)
        values = {"latency_ms_1core": latency * 1000, "fps_1core": 1 / latency}
        if "person" in detector.labels:
            values["people_photos_with_person"] = sum(found.get(n, False) for n in WITH_PEOPLE)
            values["animal_photos_with_person"] = sum(found.get(n, False) for n in WITHOUT_PEOPLE)
        progress(f"detect: {detector.name}: {latency * 1000:.1f} ms per frame on one core")
        model = key if key != "coco" else detector.resolved.spec.name
        records += [Record(ENGINE, PHOTOS, model, m, float(v), key == "people+faces") for m, v in values.items()]
    return records


def _live_rows(folder: Path, progress) -> list[Record]:
    from tests.e2e.webrtc_probe import run_probe, unavailable

    if unavailable() or not Path("/usr/bin/chromium").exists():
        progress("detect: the WebRTC row needs root, unshare and /usr/bin/chromium; skipped")
        return []
    with tempfile.TemporaryDirectory(prefix="detect-bench-") as out:
        result = run_probe("camera", [folder / "person.jpg"], Path(out) / "probe", seconds=20)
    fps = result["fps"]
    if not fps:
        progress(f"detect: the WebRTC probe showed no figures: {result}")
        return []
    steady = fps[len(fps) // 3 :]
    size = re.search(r"frames of (\d+)x(\d+)", result.get("counted", ""))
    values = {
        "fps_median": statistics.median(steady),
        "fps_min": min(steady),
        "in_view_max": max(result["in_view"]),
        "frame_width": float(size.group(1)) if size else float("nan"),
    }
    progress(f"detect: WebRTC: {values['fps_median']:.1f} frames a second processed (median)")
    return [Record(ENGINE, LIVE, "people+faces", m, float(v), True) for m, v in values.items()]


def run(data_dir: Path, seeds: int = 3, progress=print) -> tuple[list[Record], list[Anchor]]:
    """Time every detector on the sample photos, then run the live WebRTC probe once."""
    folder = Path(data_dir) / "sample-images"
    if not folder.is_dir():
        raise Skip(f"{folder} not found: the detection benchmark needs the sample photos")
    seeds = min(max(1, int(seeds)), 5)  # passes through the photos; more adds nothing but time
    return _photo_rows(folder, seeds, progress) + _live_rows(folder, progress), ANCHORS

"""Live object detection page: the webcam over WebRTC, a photo, or a video file -> engines.detect.

The WebRTC frame callback runs in a worker thread and calls only the engine (``LiveSession.process``);
the page reads what it saw through ``LiveSession.stats`` from a fragment that reruns every second while
the camera plays. OpenCV (and, for the COCO detector, torch and transformers) load only when this page
is visited.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st
from PIL import Image

from app_pages import ui
from app_pages import webrtc as rtc
from engines.core import settings
from engines.core.errors import InputError, SourceError
from engines.core.images import read_image, read_image_isolated
from engines.core.uploads import MAX_UPLOAD_BYTES
from engines.registry import get_demo

ui.require_stacks(get_demo("detect"))  # before the engine imports below: they load OpenCV

from engines.detect.detectors import OFFLINE_DETECTORS, Detection, Detector  # noqa: E402
from engines.detect.drawing import annotate  # noqa: E402
from engines.detect.live import LiveSession  # noqa: E402
from engines.detect.video import VIDEO_EXTENSIONS, annotate_video, pan_frames, write_webm  # noqa: E402

DEMO = get_demo("detect")
TAB_KEY = "det_tab"
DETECTOR_KEY = "det_detector"
THRESHOLD_KEY = "det_threshold"
CLASSES_KEY = "det_classes"
LIVE_KEY = "det_live"
SNAPSHOT_KEY = "det_snapshot"
PHOTO_RESULT = "det_photo"
VIDEO_RESULT = "det_video"
OWN_DETECTORS = "det_own_detectors"
COCO = "coco"
DETECTOR_TITLES = {
    "people+faces": "People + faces (OpenCV, offline)",
    "people": "People (OpenCV HOG, offline)",
    "faces": "Faces (OpenCV Haar cascade, offline)",
    COCO: "80 COCO objects (YOLOS-tiny or RT-DETR, transformers)",
}
LIVE_TAB, PHOTO_TAB, VIDEO_TAB, ABOUT_TAB = "🎥 Live camera", "🖼️ Photo", "🎞️ Video", "🪪 About the detectors"
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]
PHOTO_SIDE = 1280  # photos are searched at most this large
CLIP_SECONDS, CLIP_FPS = 4, 15
CHART_SECONDS = 60
SAMPLE_PHOTOS = {  # file in <data dir>/sample-images -> what it shows
    "person.jpg": "a person with a dog and a horse",
    "kite.jpg": "a beach with many people and kites",
    "dog.jpg": "a dog, a bicycle and a truck",
    "horses.jpg": "horses (and nobody else)",
    "giraffe.jpg": "a giraffe and a zebra",
}
HOPPER = "grace_hopper.jpg"

ui.page_header(
    DEMO,
    "Point your webcam at the room: every frame travels to the server over WebRTC, a detector finds the people "
    "and faces in it, a tracker gives each one a stable number, and the frame comes back with boxes, scores and "
    "the frame rate drawn in. When a frame takes too long the detector looks at a smaller copy, then skips "
    "frames, so the video keeps its pace. The OpenCV detectors work offline; an 80-class COCO detector "
    "(YOLOS-tiny or RT-DETR) joins them when its weights can be loaded. No camera? Try a photo or a video file.",
)


# ------------------------------------------------------------------ detectors
@st.cache_resource(max_entries=1, show_spinner=False)
def coco_detector(settings_key: tuple[str, ...]) -> tuple[Detector | None, str]:
    """The pretrained COCO detector, or None and why it is unavailable (cached per settings)."""
    try:
        from engines.detect.pretrained import load_pretrained

        detector = load_pretrained()
    except SourceError as exc:
        return None, str(exc)
    return detector, detector.notice


def own_detector(key: str, use: str = "page") -> Detector:
    """This session's instance of an offline detector for one use: the live video's frame thread gets its own,
    since OpenCV's classifiers are not meant to be shared between threads."""
    cache = st.session_state.setdefault(OWN_DETECTORS, {})
    if (key, use) not in cache:
        cache[key, use] = OFFLINE_DETECTORS[key]()
    return cache[key, use]


def chosen_detector() -> tuple[str, Detector]:
    """The detector picked in the controls (the COCO one falls back to people + faces when it cannot load)."""
    key = st.session_state.get(DETECTOR_KEY, "people+faces")
    if key == COCO:
        with st.spinner("Loading the COCO detector…"):
            detector, notice = coco_detector(ui.settings_key())
        if detector is None:
            st.warning(
                f"**The COCO detector is not available here,** so the offline people + faces detector is used. "
                f"{notice}",
                icon="📦",
            )
            return "people+faces", own_detector("people+faces")
        return COCO, detector
    return key, own_detector(key)


def controls() -> tuple[str, Detector, float, list[str]]:
    """Detector, confidence threshold and classes, shared by every tab."""
    left, middle, right = st.columns([3, 2, 3])
    with left:
        st.selectbox(
            "Detector",
            list(DETECTOR_TITLES),
            format_func=DETECTOR_TITLES.get,
            key=DETECTOR_KEY,
            help="The OpenCV detectors ship inside opencv-python-headless and need no download.",
        )
    key, detector = chosen_detector()
    with middle:
        threshold = st.slider(
            "Confidence threshold",
            0.05,
            0.95,
            0.5,
            0.05,
            key=THRESHOLD_KEY,
            help="Objects scoring below this are not shown. For the OpenCV detectors 0.5 is their own decision "
            "boundary; lower finds more, with more false alarms.",
        )
    with right:
        labels = list(detector.labels)
        if CLASSES_KEY in st.session_state:
            st.session_state[CLASSES_KEY] = [c for c in st.session_state[CLASSES_KEY] if c in labels]
        classes = st.multiselect(
            "Only these classes",
            labels,
            key=CLASSES_KEY,
            placeholder="all classes",
            help="Leave empty to show everything the detector knows.",
        )
    where = detector.notice if key == COCO else "ships inside opencv-python-headless (offline)"
    st.caption(f"**Model:** {detector.name} · {where}  \n**Data:** your camera, your photos and videos, or the samples")
    return key, detector, threshold, classes


def keep(found: list[Detection], classes: list[str]) -> list[Detection]:
    """The detections of the chosen classes (all when none are chosen)."""
    return [d for d in found if not classes or d.label in classes]


def count_phrase(found: list[Detection]) -> str:
    """'2 persons, 1 face' (or 'nothing')."""
    counts = Counter(d.label for d in found)
    return ", ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in counts.most_common()) or "nothing"


def detections_table(objects: list) -> pd.DataFrame:
    """One row per detection or track: id (when tracked), label, score, box and size."""
    rows = []
    for item in objects:
        det, ident = (item.detection, item.id) if hasattr(item, "detection") else (item, None)
        x0, y0, x1, y1 = det.box
        rows.append(
            {
                **({"id": ident} if ident is not None else {}),
                "label": det.label,
                "score": round(det.score, 3),
                "box (x0, y0, x1, y1)": f"{x0}, {y0}, {x1}, {y1}",
                "size (px)": f"{x1 - x0} x {y1 - y0}",
            }
        )
    return pd.DataFrame(rows)


def png_bytes(frame: np.ndarray) -> bytes:
    """An RGB frame as PNG bytes (for downloads)."""
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------ 🎥 live camera
def live_session(key: str, detector: Detector, threshold: float, classes: list[str]) -> LiveSession:
    """This viewer's live session, kept across reruns and told the current settings."""
    if key != COCO:
        detector = own_detector(key, "live")
    session = st.session_state.get(LIVE_KEY)
    if session is None:
        session = st.session_state[LIVE_KEY] = LiveSession(detector, threshold)
    session.configure(detector=detector, threshold=threshold, classes=classes or None)
    return session


def render_live(key: str, detector: Detector, threshold: float, classes: list[str]) -> None:
    import av

    session = live_session(key, detector, threshold, classes)
    ice = rtc.ice_config()
    if ice.problem:
        st.warning(ice.problem, icon="⚙️")

    def on_frame(frame: av.VideoFrame) -> av.VideoFrame:  # runs in streamlit-webrtc's worker thread
        return av.VideoFrame.from_ndarray(session.process(frame.to_ndarray(format="rgb24")), format="rgb24")

    video, panel = st.columns([3, 2])
    with video:
        st.markdown("Press **START** and allow the camera. Boxes, ids, scores and the frame rate are drawn in.")
        context = rtc.stream(
            "det-webrtc",
            ice=ice,
            video_frame_callback=on_frame,
            video={"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
        )
        playing = bool(context is not None and context.state.playing)
        servers = ", ".join(u for s in ice.servers for u in s["urls"]) or "none (direct connections only)"
        st.caption(
            f"ICE servers from {ice.source}: {servers}."
            + ("" if ice.has_turn else " No TURN relay: fine on your own network, needed behind strict NATs.")
        )
        with st.expander("The camera does not connect?"):
            st.markdown(
                "- The browser must allow the camera, and the page must be served over https or from "
                "localhost.\n"
                "- On a hosted app (Streamlit Community Cloud) the video needs a **TURN relay**: add one under "
                "`[webrtc] ice_servers` in the app's secrets (see the README, *Deploy*).\n"
                "- Meanwhile the **🖼️ Photo** tab takes a picture with `st.camera_input`, and the **🎞️ Video** "
                "tab annotates a recorded clip."
            )
    with panel:
        live_panel(session, playing)
    snapshot_panel(session)


def live_panel(session: LiveSession, playing: bool) -> None:
    @st.fragment(run_every=1.0 if playing else None)
    def panel() -> None:
        stats = session.stats()
        if stats.frames == 0:
            st.info("Nothing yet: start the camera and what is in view appears here, updated every second.")
            return
        a, b = st.columns(2)
        a.metric("Frames processed per second", f"{stats.fps:.1f}")
        b.metric("In view now", len(stats.in_view))
        c, d = st.columns(2)
        c.metric("Detector time", "–" if stats.detector_ms is None else f"{stats.detector_ms:.0f} ms")
        d.metric("Detector sees", f"{stats.scale:.0%}", help="The share of the frame's side the detector searches at.")
        if stats.error:
            st.error(stats.error)
        if stats.in_view:
            st.dataframe(detections_table(list(stats.in_view)), hide_index=True, width="stretch")
        seen = ", ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in sorted(stats.seen.items()))
        width, height = stats.frame_size or (0, 0)
        st.caption(
            f"Counted since the start: {seen or 'nothing'} · {stats.frames:,} frames of {width}x{height}, "
            f"{stats.detected_frames:,} searched"
        )
        chart = counts_chart(stats.history)
        if chart is not None:
            st.plotly_chart(chart, width="stretch", key="det_live_chart")

    panel()


def counts_chart(history: tuple[dict[str, float], ...]):
    """Objects in view per label over the last minute (a point every quarter second)."""
    if not history:
        return None
    frame = pd.DataFrame(list(history)).fillna(0)
    frame = frame[frame["time"] >= frame["time"].max() - CHART_SECONDS]
    frame["time"] = (frame["time"] * 4).round() / 4
    frame = frame.groupby("time").max().reset_index()
    labels = [c for c in frame.columns if c != "time"]
    if not labels:
        frame["in view"] = 0
        labels = ["in view"]
    long = frame.melt(id_vars="time", value_vars=labels, var_name="label", value_name="objects")
    figure = px.line(long, x="time", y="objects", color="label", line_shape="hv", title="In view, last minute")
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title="seconds")
    return figure


def snapshot_panel(session: LiveSession) -> None:
    if st.button("📸 Snapshot of the annotated frame", key="det_snap"):
        frame = session.snapshot()
        if frame is None:
            st.error("There is no frame yet: start the camera first, then take a snapshot.")
        else:
            st.session_state[SNAPSHOT_KEY] = frame
    frame = st.session_state.get(SNAPSHOT_KEY)
    if frame is not None:
        st.image(frame, caption="Snapshot", width=480)
        st.download_button("Download the snapshot (PNG)", png_bytes(frame), file_name="snapshot.png", mime="image/png")


# ------------------------------------------------------------------ 🖼️ photo
def sample_photos() -> dict[str, Path]:
    """Sample photos: those of the data directory (when set), then matplotlib's portrait of Grace Hopper."""
    found: dict[str, Path] = {}
    folder = settings.data_dir()
    if folder is not None:
        for name, what in SAMPLE_PHOTOS.items():
            path = folder / "sample-images" / name
            if path.is_file():
                found[f"{name}: {what} (data directory, Darknet samples)"] = path
    try:
        import matplotlib

        hopper = Path(matplotlib.get_data_path()) / "sample_data" / HOPPER
        if hopper.is_file():
            found["Grace Hopper, a portrait (matplotlib's sample photo)"] = hopper
    except ImportError:  # matplotlib comes with prophet; without it there is one sample fewer
        pass
    return found


def render_photo(detector: Detector, threshold: float, classes: list[str]) -> None:
    source = st.radio(
        "Photo", ["Sample photo", "Upload a photo", "Take a photo"], horizontal=True, key="det_photo_source"
    )
    data, name = None, ""
    if source == "Sample photo":
        samples = sample_photos()
        if not samples:
            st.info("No sample photo here (set the data directory, see the README): upload or take a photo.")
        else:
            choice = st.selectbox("Sample", list(samples), key="det_sample")
            data, name = samples[choice].read_bytes(), samples[choice].name
    elif source == "Upload a photo":
        upload = st.file_uploader(
            "A photo (PNG, JPEG, WebP, …)", type=IMAGE_TYPES, key="det_upload",
            help=f"Up to {MAX_UPLOAD_BYTES // 2**20} MB; it stays in memory and is never stored.",
        )  # fmt: skip
        if upload is not None:
            data, name = upload.getvalue(), ui.upload_name(upload)
    else:
        shot = st.camera_input("Take a photo", key="det_camera")
        if shot is not None:
            data, name = shot.getvalue(), "camera.jpg"
    if data is None:
        return
    try:
        # A visitor's bytes are decoded in a worker process with a hard memory cap (issue 26); the samples here.
        reader = read_image if source == "Sample photo" else read_image_isolated
        loaded = reader(data, name, max_side=PHOTO_SIDE)
        frame = np.asarray(loaded.image.convert("RGB"))
        started = time.perf_counter()
        found = keep(detector.detect(frame, threshold), classes)
        took = time.perf_counter() - started
    except InputError as exc:
        st.error(str(exc))
        return
    left, right = st.columns([3, 2])
    with left:
        annotated = annotate(frame, found)
        st.image(annotated, caption=f"{name}: {count_phrase(found)}", width="stretch")
    with right:
        st.metric("Objects found", len(found))
        st.caption(
            f"{detector.name} at threshold {threshold:.2f}, {took * 1000:.0f} ms on a {frame.shape[1]}x"
            f"{frame.shape[0]} picture." + (f" {' '.join(loaded.notes)}" if loaded.notes else "")
        )
        if found:
            st.dataframe(detections_table(found), hide_index=True, width="stretch")
        else:
            st.info(
                "Nothing at this threshold. Lower it, or try another detector: HOG looks for whole standing "
                "people, the Haar cascade for faces seen from the front."
            )
        st.download_button(
            "Download the annotated photo (PNG)",
            png_bytes(annotated),
            file_name=f"{Path(name).stem or 'photo'}-detected.png",
            mime="image/png",
        )


# ------------------------------------------------------------------ 🎞️ video
def sample_clip() -> tuple[bytes, str]:
    """A short clip made here: a slow pan across the first sample photo."""
    samples = sample_photos()
    if not samples:
        raise InputError("There is no sample photo to make a clip from: upload a video instead.")
    path = next(iter(samples.values()))
    frame = np.asarray(read_image(path.read_bytes(), path.name, max_side=PHOTO_SIDE).image.convert("RGB"))
    with tempfile.TemporaryDirectory(prefix="detect-clip-") as folder:
        clip = write_webm(pan_frames(frame, frames=CLIP_SECONDS * CLIP_FPS), Path(folder) / "clip.webm", CLIP_FPS)
        return clip.read_bytes(), f"pan across {path.name}.webm"


def render_video(detector: Detector, threshold: float, classes: list[str]) -> None:
    source = st.radio(
        "Video", ["Sample clip", "Upload a video"], horizontal=True, key="det_video_source",
        help="The sample is a 4-second pan across a sample photo, made on the spot.",
    )  # fmt: skip
    upload = None
    if source == "Upload a video":
        upload = st.file_uploader(
            "A video (MP4, MOV, WebM, AVI, MKV)", type=[e.lstrip(".") for e in VIDEO_EXTENSIONS], key="det_video_up",
            help=f"Up to {MAX_UPLOAD_BYTES // 2**20} MB; the first minute is processed, in a temporary folder "
            "that is removed afterwards.",
        )  # fmt: skip
    if st.button(
        "Detect in the video", type="primary", key="det_video_go", disabled=source != "Sample clip" and upload is None
    ):
        try:
            data, name = sample_clip() if upload is None else (upload.getvalue(), ui.upload_name(upload))
            wanted = ClassFilter(detector, classes)
            with (
                ui.progress_status("Detecting frame by frame") as progress,
                tempfile.TemporaryDirectory(prefix="detect-video-") as folder,
            ):
                summary = annotate_video(
                    data, name, wanted, workdir=Path(folder), threshold=threshold, progress=progress
                )
                video = summary.output.read_bytes()
            st.session_state[VIDEO_RESULT] = (name, summary, video)
        except InputError as exc:
            st.error(str(exc))
    result = st.session_state.get(VIDEO_RESULT)
    if result is None:
        return
    name, summary, video = result
    left, right = st.columns([3, 2])
    with left:
        st.video(video, format="video/webm")
        st.download_button(
            "Download the annotated video (WebM)", video, file_name=f"{Path(name).stem}-detected.webm",
            mime="video/webm",
        )  # fmt: skip
    with right:
        counted = ", ".join(f"{n} {label}{'s' if n != 1 else ''}" for label, n in sorted(summary.objects.items()))
        st.metric("Distinct objects tracked", sum(summary.objects.values()))
        st.caption(
            f"`{name}`: {summary.frames:,} frames of {summary.size[0]}x{summary.size[1]} at {summary.fps:.0f} fps, "
            f"processed at {summary.frames_per_second:.1f} frames a second. Counted: {counted or 'nothing'}."
        )
        for note in summary.notes:
            st.info(note)
        timeline = pd.DataFrame(summary.timeline).fillna(0)
        labels = [c for c in timeline.columns if c != "time"]
        if labels:
            long = timeline.melt(id_vars="time", value_vars=labels, var_name="label", value_name="objects")
            figure = px.line(long, x="time", y="objects", color="label", line_shape="hv", title="In view over time")
            figure.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title="seconds")
            st.plotly_chart(figure, width="stretch", key="det_video_chart")


class ClassFilter:
    """A detector that keeps only the chosen classes (for the video, which calls ``detect`` directly)."""

    def __init__(self, detector: Detector, classes: list[str]) -> None:
        self.detector, self.classes = detector, classes
        self.name, self.labels = detector.name, detector.labels

    def detect(self, frame: np.ndarray, threshold: float = 0.5) -> list[Detection]:
        return keep(self.detector.detect(frame, threshold), self.classes)


# ------------------------------------------------------------------ 🪪 about the detectors
ABOUT = """
| detector | what it finds | trained on | how it scores |
|---|---|---|---|
| **HOG people** (Dalal & Triggs, 2005) | whole, upright people at least 64x128 pixels | the INRIA Person dataset | an SVM margin m, shown as 1 / (1 + e^-m): 50% is its decision boundary |
| **Haar faces** (Viola & Jones, 2001) | faces seen from the front, at least 24x24 pixels | OpenCV's frontal-face training set | the cascade's last-stage weight, mapped the same way |
| **YOLOS-tiny** (Fang et al., 2021) or **RT-DETR R18** (Zhao et al., 2023) | 80 COCO classes (people, vehicles, animals, everyday things) | COCO 2017 (118k images) | the model's class probability |

**How the live video keeps its pace.** The detector's time per frame is smoothed; when it exceeds the
frame budget (1/15 s) the detector looks at a smaller copy of the frame (down to 35% of its side), and
when that is not enough it searches every second or third frame and reuses the last boxes in between.
**Tracking.** Each detection is matched to the previous frame's boxes of the same label by overlap
(IoU of at least 0.3), then what is left by distance (a centre within one box size, a similar size: an
object that moved between two searched frames); an object keeps its number while it is missed for up to
10 searched frames, and stays on screen for 3.

**Limitations.** HOG misses people who sit, crouch or are cut off by the frame's edge, and mistakes
upright things (poles, coats) for people now and then. The Haar cascade misses faces in profile or
under strong shadow. Neither knows any other class. The COCO models are larger and slower on a CPU:
the live video then searches fewer frames. None of these models was trained or evaluated by this
project; the benchmark measures their speed here.
"""


def render_about(detector: Detector) -> None:
    st.markdown(ABOUT)
    st.markdown(f"**In use now:** {detector.name}. Classes: {', '.join(detector.labels[:20])}"
                + (f" and {len(detector.labels) - 20} more" if len(detector.labels) > 20 else "") + ".")  # fmt: skip
    if st.button("Measure its speed on this machine (640x480)", key="det_speed"):
        frame = next(pan_frames(np.full((480, 640, 3), 128, np.uint8)))
        samples = sample_photos()
        if samples:
            picture = read_image(next(iter(samples.values())).read_bytes(), max_side=PHOTO_SIDE).image
            frame = np.asarray(picture.convert("RGB").resize((640, 480)))
        times = []
        for _ in range(5):
            started = time.perf_counter()
            detector.detect(frame, 0.5)
            times.append(time.perf_counter() - started)
        median = float(np.median(times))
        st.success(
            f"{detector.name}: {median * 1000:.0f} ms per 640x480 frame (median of 5), about {1 / median:.0f} "
            f"frames a second at full size on {os.cpu_count()} CPU cores."
        )


# ------------------------------------------------------------------ the page
key, detector, threshold, classes = controls()
ui.stateful_tabs(
    {
        LIVE_TAB: lambda: render_live(key, detector, threshold, classes),
        PHOTO_TAB: lambda: render_photo(detector, threshold, classes),
        VIDEO_TAB: lambda: render_video(detector, threshold, classes),
        ABOUT_TAB: lambda: render_about(detector),
    },
    key=TAB_KEY,
)

"""AppTest of the live object detection page, with streamlit-webrtc's component replaced.

The component cannot run under AppTest (it needs a live server and a browser: TESTING.md), so
``app_pages.webrtc.stream`` is replaced by a fake that records its arguments and, like the real
component, calls the page's frame callback with ``av.VideoFrame``s, here made from matplotlib's
portrait of Grace Hopper (installed with prophet), where OpenCV's face cascade finds one face. The
real WebRTC path is covered by the browser suite.
"""

from __future__ import annotations

import io
import types
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from app_pages import webrtc as rtc
from tests.app.helpers import metric, open_page, open_tab, texts
from tests.conftest import require_dataset
from tests.tiny_detector import make_tiny_yolos

pytestmark = pytest.mark.usefixtures("no_hf_cache")

TAB = "det_tab"
LIVE, PHOTO, VIDEO, ABOUT = "🎥 Live camera", "🖼️ Photo", "🎞️ Video", "🪪 About the detectors"
HOPPER_SAMPLE = "Grace Hopper, a portrait (matplotlib's sample photo)"


def hopper() -> np.ndarray:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return np.asarray(Image.open(path).convert("RGB"))


def camera_frame() -> np.ndarray:
    """A 640x480 camera frame: the portrait, upright and undistorted, on a grey background."""
    portrait = Image.fromarray(hopper()).resize((410, 480))
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(portrait, (115, 0))
    return np.asarray(canvas)


def jpeg(frame: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG")
    return buffer.getvalue()


class FakeStream:
    """Stands in for the WebRTC component: records the call, feeds frames to the callback, reports playing."""

    def __init__(self, frames: int = 0, playing: bool = False) -> None:
        self.frames, self.playing = frames, playing
        self.calls: list[dict] = []
        self.outputs: list[np.ndarray] = []

    def __call__(self, key, *, ice, video_frame_callback=None, **kwargs):
        self.calls.append({"key": key, "ice": ice, "callback": video_frame_callback, **kwargs})
        if video_frame_callback is not None:
            frame = camera_frame()
            for _ in range(self.frames):
                out = video_frame_callback(av.VideoFrame.from_ndarray(frame, format="rgb24"))
                self.outputs.append(out.to_ndarray(format="rgb24"))
            self.frames = 0  # like a camera, each frame is delivered once
        return types.SimpleNamespace(state=types.SimpleNamespace(playing=self.playing))


@pytest.fixture
def stream(monkeypatch) -> FakeStream:
    fake = FakeStream()
    monkeypatch.setattr(rtc, "stream", fake)
    monkeypatch.setenv("GALLERY_ICE_SERVERS", "[]")
    return fake


def test_opens_offline_on_the_opencv_detectors_and_says_which_model(stream):
    at = open_page("detect")
    assert at.selectbox(key="det_detector").value == "people+faces"
    assert any("opencv-python-headless" in c for c in texts(at.caption))
    assert stream.calls and stream.calls[0]["key"] == "det-webrtc"
    assert stream.calls[0]["ice"].rtc_configuration() == {"iceServers": []}, "ICE servers come from the environment"
    assert stream.calls[0]["video"]["width"] == {"ideal": 640}
    assert any("Nothing yet" in i for i in texts(at.info)), "before any frame the panel says what to do"
    assert not at.error


def test_frames_from_the_camera_are_annotated_and_fill_the_live_panel(stream):
    at = open_page("detect")
    at.selectbox(key="det_detector").set_value("faces").run()
    stream.frames, stream.playing = 12, True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(stream.outputs) == 12
    frame = camera_frame()
    assert stream.outputs[-1].shape == frame.shape
    assert np.abs(stream.outputs[-1].astype(int) - frame).sum() > 0, "boxes and the rate are drawn in"
    assert metric(at, "In view now") == "1"
    table = at.dataframe[0].value
    assert list(table["label"]) == ["face"] and table["score"].iloc[0] >= 0.5
    assert any("Counted since the start: 1 face" in c and "640x480" in c for c in texts(at.caption))


def test_the_classes_filter_reaches_the_frame_thread(stream):
    at = open_page("detect")
    at.selectbox(key="det_detector").set_value("people+faces").run()
    at.multiselect(key="det_classes").set_value(["person"]).run()
    stream.frames, stream.playing = 6, True
    at.run()
    assert metric(at, "In view now") == "0", "the face is filtered out"
    at.multiselect(key="det_classes").set_value([]).run()
    stream.frames = 6
    at.run()
    assert metric(at, "In view now") == "1"


def test_a_snapshot_before_any_frame_says_so_and_after_frames_offers_a_download(stream):
    at = open_page("detect")
    at.button(key="det_snap").click().run()
    assert any("start the camera first" in e for e in texts(at.error))
    stream.frames, stream.playing = 3, True
    at.run()
    at.button(key="det_snap").click().run()
    assert not at.error
    assert any(b.label.startswith("Download the snapshot") for b in at.get("download_button"))


def test_bad_ice_settings_are_ignored_with_a_warning(stream, monkeypatch):
    monkeypatch.setenv("GALLERY_ICE_SERVERS", "{not json")
    at = open_page("detect")
    assert any("GALLERY_ICE_SERVERS was ignored" in w for w in texts(at.warning))
    assert stream.calls[-1]["ice"].servers == rtc.DEFAULT_ICE


def test_the_coco_detector_falls_back_offline_with_a_notice(stream):
    at = open_page("detect")
    at.selectbox(key="det_detector").set_value("coco").run()
    assert not at.exception
    assert any("COCO detector is not available" in w for w in texts(at.warning))
    assert any("People + Faces" in c for c in texts(at.caption))


def test_a_photo_upload_is_annotated_and_bad_ones_get_a_message(stream):
    at = open_page("detect")
    open_tab(at, TAB, PHOTO)
    at.radio(key="det_photo_source").set_value("Upload a photo").run()
    at.selectbox(key="det_detector").set_value("faces").run()
    at.file_uploader(key="det_upload").set_value(("hopper.jpg", jpeg(hopper()), "image/jpeg")).run()
    assert not at.error and not at.exception
    assert metric(at, "Objects found") == "1"
    assert any(b.label.startswith("Download the annotated photo") for b in at.get("download_button"))
    for name, data in (("notes.png", b"hello, not an image"), ("empty.png", b"")):
        at.file_uploader(key="det_upload").set_value((name, data, "image/png")).run()
        assert not at.exception
        assert at.error and name in at.error[0].value, f"{name}: {texts(at.error)}"
    at.radio(key="det_photo_source").set_value("Sample photo").run()
    assert HOPPER_SAMPLE in at.selectbox(key="det_sample").options
    assert not at.error


def test_a_sample_photo_with_people_from_the_data_directory(stream, shared_data, monkeypatch):
    require_dataset(shared_data, "sample-images")
    monkeypatch.setenv("GALLERY_DATA_DIR", str(shared_data))
    at = open_page("detect")
    open_tab(at, TAB, PHOTO)
    at.selectbox(key="det_detector").set_value("people").run()
    sample = at.selectbox(key="det_sample")
    assert sample.value.startswith("person.jpg")
    assert int(metric(at, "Objects found")) >= 1
    assert "person" in list(at.dataframe[0].value["label"])


def test_the_sample_clip_is_annotated_with_a_video_and_a_timeline(stream):
    at = open_page("detect")
    open_tab(at, TAB, VIDEO)
    at.selectbox(key="det_detector").set_value("faces").run()
    at.button(key="det_video_go").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.get("video"), "the annotated clip plays on the page"
    assert any(b.label.startswith("Download the annotated video") for b in at.get("download_button"))
    assert int(metric(at, "Distinct objects tracked")) >= 1
    assert any("60 frames" in c for c in texts(at.caption))


def test_a_corrupt_or_wrongly_named_video_gets_a_message(stream):
    at = open_page("detect")
    open_tab(at, TAB, VIDEO)
    at.radio(key="det_video_source").set_value("Upload a video").run()
    at.file_uploader(key="det_video_up").set_value(("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"x" * 500, "video/mp4"))
    at.run()
    at.button(key="det_video_go").click().run()
    assert not at.exception
    assert at.error and "clip.mp4" in at.error[0].value
    at.file_uploader(key="det_video_up").set_value(("clip.mp4", b"", "video/mp4")).run()
    at.button(key="det_video_go").click().run()
    assert at.error and "empty" in at.error[0].value


def test_the_about_tab_explains_the_detectors_and_measures_their_speed(stream):
    at = open_page("detect")
    open_tab(at, TAB, ABOUT)
    assert any("Dalal" in m and "Viola" in m for m in texts(at.markdown))
    at.button(key="det_speed").click().run()
    assert any("ms per 640x480 frame" in s for s in texts(at.success))


def test_a_local_coco_detector_is_used_after_an_offline_fallback(stream, tmp_path, monkeypatch):
    """The COCO detector is cached per data and model settings: a model put in place is picked up."""
    at = open_page("detect")
    at.selectbox(key="det_detector").set_value("coco").run()
    assert any("COCO detector is not available" in w for w in texts(at.warning))
    make_tiny_yolos(tmp_path / "models" / "yolos-tiny")
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    at = open_page("detect")
    at.selectbox(key="det_detector").set_value("coco").run()
    assert not at.warning and not at.exception
    assert any("YOLOS-tiny" in c for c in texts(at.caption))
    assert {"person", "dog"} <= set(at.multiselect(key="det_classes").options)
    stream.frames, stream.playing = 3, True
    at.run()
    assert not at.exception and metric(at, "In view now").isdigit()

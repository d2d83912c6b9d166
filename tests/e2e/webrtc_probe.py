"""The live camera and microphone end to end: the app and Chromium in a private network namespace, fed media.

    unshare -n python -m tests.e2e.webrtc_probe camera PHOTO --out DIR [--seconds 20]
    unshare -n python -m tests.e2e.webrtc_probe microphone SPEECH.wav [MORE.wav ...] --out DIR

Run as root inside a fresh network namespace (``unshare -n``; :func:`run_probe` does that for the tests and
the benchmark), following ``TESTING.md``: loopback up plus a second address on it (aiortc skips 127.0.0.1
when it gathers candidates), the app on 127.0.0.1 with no ICE servers (``GALLERY_ICE_SERVERS=[]``), and
Chromium's fake camera playing a y4m clip made from the photo (a slow pan, forward then back, so it loops
without a jump), or its fake microphone playing the speech files with pauses between them. It opens the
detection (or voice) page, presses START in the WebRTC component, and reads the page's own figures: frames
processed per second and what is in view every second, or the transcript, the number of utterances and the
delay to each final text. It prints one JSON object and writes ``live.png`` (a screenshot) and
``server.log`` into ``--out``. Nothing can leave the namespace.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECOND_ADDRESS = "10.77.0.1/32"
EXTRA_ARGS = [
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--allow-loopback-in-peer-connection",
]
FPS_LABEL = "Frames processed per second"


def write_y4m(photo: Path, path: Path, frames: int = 90, fps: int = 30) -> Path:
    """A 640x480 y4m clip (I420) panning across ``photo`` and back."""
    import cv2
    import numpy as np

    from engines.detect.video import pan_frames

    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    forward = list(pan_frames(rgb, frames=frames // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W640 H480 F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in forward + forward[::-1]:
            out.write(b"FRAME\n")
            out.write(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)).tobytes())
    return path


def write_speech(files: list[Path], path: Path, gap_s: float = 1.5) -> Path:
    """The WAV files one after another, each followed by ``gap_s`` of silence, as one 16 kHz mono WAV."""
    import numpy as np

    from engines.speech.audio import decode_audio, to_wav

    silence = np.zeros(int(gap_s * 16_000), np.float32)
    pieces = [piece for f in files for piece in (decode_audio(Path(f).read_bytes(), Path(f).name).samples, silence)]
    path.write_bytes(to_wav(np.concatenate([silence, *pieces])))
    return path


def _network() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", SECOND_ADDRESS, "dev", "lo"], check=True)


def _serve(out: Path) -> tuple[subprocess.Popen, str]:
    from tests.e2e.conftest import SERVER_START_TIMEOUT_S, _free_port

    port = _free_port()
    env = {
        **os.environ,
        "GALLERY_OFFLINE": "1",
        "GALLERY_ICE_SERVERS": "[]",
        "GALLERY_CACHE_DIR": str(out / "cache"),
        "PYTHONUNBUFFERED": "1",
        # As the browser suite's server: no warm-up. It waits while a stream is live, but a model load that began
        # just before START still holds the GIL for a second or two, and this measures the live pipeline itself.
        "GALLERY_WARM_UP": "0",
    }
    log = (out / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return process, base
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"the app did not start within {SERVER_START_TIMEOUT_S} s")


def _metric(page, label: str) -> str | None:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    if not box.count():
        return None
    return box.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _camera(page, seconds: float, result: dict) -> None:
    """Read the detection page's figures once a second: frames processed per second, objects in view."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _metric(page, FPS_LABEL) is None:
        time.sleep(0.5)
    if _metric(page, FPS_LABEL) is None:
        result["errors"].append("no live figures appeared within 60 s of START")
        return
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        time.sleep(1.0)
        fps, in_view = _metric(page, FPS_LABEL), _metric(page, "In view now")
        if fps is not None:
            result["fps"].append(float(fps))
            result["in_view"].append(int(in_view or 0))
    caption = page.get_by_text(re.compile(r"Counted since the start"))
    result["counted"] = caption.first.inner_text() if caption.count() else ""


def _microphone(page, seconds: float, result: dict) -> None:
    """Let the speech play for ``seconds``, then read the voice page's transcript and figures."""
    time.sleep(seconds)
    result["utterances"] = int(_metric(page, "Utterances") or 0)
    delay = _metric(page, "Final text after") or ""
    result["delay_s"] = float(delay.rstrip(" s")) if delay[:1].isdigit() else None
    block = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile(r"^Transcript"))
    result["transcript"] = block.last.inner_text() if block.count() else ""


READERS = {"camera": ("detect", _camera), "microphone": ("voice", _microphone)}


def probe(kind: str, media: list[Path], out: Path, seconds: float) -> dict:
    """Feed the media to the fake camera or microphone of the page's WebRTC component; what the page showed."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _is_deep_link_probe, _stop, wait_for_app_idle

    out.mkdir(parents=True, exist_ok=True)
    _network()
    page_path, read = READERS[kind]
    if kind == "camera":
        fake = f"--use-file-for-fake-video-capture={write_y4m(media[0], out / 'clip.y4m')}"
    else:
        fake = f"--use-file-for-fake-audio-capture={write_speech(media, out / 'speech.wav')}"
    server, base = _serve(out)
    result: dict = {"fps": [], "in_view": [], "errors": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *EXTRA_ARGS, fake]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1500})  # tall enough for the chart
            page.set_default_timeout(60_000)

            def on_console(message) -> None:
                url = (message.location or {}).get("url") or "?"
                if message.type == "error" and not _is_deep_link_probe(message.text, url):
                    result["errors"].append(f"{message.text} (at {url})")

            page.on("console", on_console)
            page.on("pageerror", lambda e: result["errors"].append(f"uncaught: {e}"))
            page.goto(f"{base}/{page_path}", wait_until="domcontentloaded")
            wait_for_app_idle(page)
            component = page.frame_locator('iframe[title*="streamlit_webrtc"]')
            component.get_by_role("button", name="START").click()
            read(page, seconds, result)
            page.screenshot(path=str(out / "live.png"))
            browser.close()
    finally:
        _stop(server)
    return result


def unavailable() -> str | None:
    """Why the probe cannot run here (it needs root and unshare for its private network), or None."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return "the live WebRTC probe needs root and unshare (util-linux) for a private network namespace (TESTING.md)"
    return None


def run_probe(kind: str, media: list[Path], out: Path, seconds: float = 20.0, timeout: float = 240.0) -> dict:
    """Run :func:`probe` in a fresh network namespace (``unshare -n``, as root); its JSON result."""
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "tests.e2e.webrtc_probe", kind, *map(str, media), "--out", str(out),
         "--seconds", str(seconds)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the probe failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(READERS))
    parser.add_argument("media", type=Path, nargs="+", help="a photo (camera) or speech WAV files (microphone)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(json.dumps(probe(args.kind, args.media, args.out, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

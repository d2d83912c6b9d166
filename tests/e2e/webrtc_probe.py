"""The live camera end to end: the app and Chromium in a private network namespace, a fake camera fed a clip.

    unshare -n python -m tests.e2e.webrtc_probe --photo PHOTO --out DIR [--seconds 20]

Run as root inside a fresh network namespace (``unshare -n``; :func:`run_probe` does that for the tests and
the benchmark), following ``TESTING.md``: loopback up plus a second address on it (aiortc skips 127.0.0.1
when it gathers candidates), the app on 127.0.0.1 with no ICE servers (``GALLERY_ICE_SERVERS=[]``), and
Chromium's fake camera playing a y4m clip made from the photo (a slow pan, forward then back, so it loops
without a jump). It opens the detection page, presses START in the WebRTC component, and reads the page's
own figures every second: frames processed per second, and what is in view. It prints one JSON object and
writes ``live.png`` (a screenshot) and ``server.log`` into ``--out``. Nothing can leave the namespace.
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


def probe(photo: Path, out: Path, seconds: float, page_path: str = "detect") -> dict:
    """Stream the clip to the page for ``seconds`` after the first figures appear; what the page showed."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _is_deep_link_probe, _stop, wait_for_app_idle

    out.mkdir(parents=True, exist_ok=True)
    _network()
    clip = write_y4m(photo, out / "clip.y4m")
    server, base = _serve(out)
    result: dict = {"fps": [], "in_view": [], "errors": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[*CHROMIUM_ARGS, *EXTRA_ARGS, f"--use-file-for-fake-video-capture={clip}"],
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
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and _metric(page, FPS_LABEL) is None:
                time.sleep(0.5)
            if _metric(page, FPS_LABEL) is None:
                result["errors"].append("no live figures appeared within 60 s of START")
            else:
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    time.sleep(1.0)
                    fps, in_view = _metric(page, FPS_LABEL), _metric(page, "In view now")
                    if fps is not None:
                        result["fps"].append(float(fps))
                        result["in_view"].append(int(in_view or 0))
                caption = page.get_by_text(re.compile(r"Counted since the start"))
                result["counted"] = caption.first.inner_text() if caption.count() else ""
            page.screenshot(path=str(out / "live.png"))
            browser.close()
    finally:
        _stop(server)
    return result


def run_probe(photo: Path, out: Path, seconds: float = 20.0, timeout: float = 240.0) -> dict:
    """Run :func:`probe` in a fresh network namespace (``unshare -n``, as root); its JSON result."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        raise RuntimeError("the live camera test needs root and unshare (util-linux) for a private network")
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "tests.e2e.webrtc_probe", "--photo", str(photo), "--out", str(out),
         "--seconds", str(seconds)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the probe failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(json.dumps(probe(args.photo, args.out, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The one place pages reach streamlit-webrtc: ICE servers from secrets or the environment, and the streamer.

Page tests replace :func:`stream` (streamlit-webrtc's component needs a live server and a browser); the
browser suite covers the real thing. ``streamlit_webrtc`` is imported only when a stream is drawn.

ICE servers, first found wins:

1. ``GALLERY_ICE_SERVERS``: a JSON list, e.g. ``[{"urls": ["turn:turn.example.com:3478"], "username": "u",
   "credential": "p"}]``; ``[]`` means no STUN or TURN at all (direct connections only: a local run, the tests);
2. ``[webrtc] ice_servers`` in ``.streamlit/secrets.toml`` (or Community Cloud's Secrets box);
3. Google's public STUN server, which is enough on a home network but not behind Community Cloud's NAT,
   where a TURN server is needed (see the README, "Deploy").
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from engines.core import jobs

ENV_VAR = "GALLERY_ICE_SERVERS"
DEFAULT_ICE = ({"urls": ["stun:stun.l.google.com:19302"]},)


@dataclass(frozen=True)
class IceConfig:
    """The ICE servers a stream will use, where they came from, and any problem reading them."""

    servers: tuple[dict[str, Any], ...]
    source: str
    problem: str | None = None

    @property
    def has_turn(self) -> bool:
        """Whether a TURN relay is configured (needed behind strict NATs such as Community Cloud's)."""
        return any(
            str(url).startswith(("turn:", "turns:"))
            for server in self.servers
            for url in (server.get("urls") if isinstance(server.get("urls"), list) else [server.get("urls")])
        )

    def rtc_configuration(self) -> dict[str, Any]:
        """The RTCConfiguration for both ends of the connection."""
        return {"iceServers": [dict(server) for server in self.servers]}


def _check(servers: object, where: str) -> tuple[dict[str, Any], ...]:
    if not isinstance(servers, (list, tuple)):
        raise ValueError(f"{where} must be a list of servers, not {type(servers).__name__}")
    out = []
    for i, server in enumerate(servers):
        if not hasattr(server, "get") or not server.get("urls"):
            raise ValueError(f"server {i + 1} in {where} needs a `urls` entry")
        urls = server["urls"]
        urls = [urls] if isinstance(urls, str) else list(urls) if isinstance(urls, (list, tuple)) else [urls]
        schemes = {"stun", "stuns", "turn", "turns"}
        if not all(isinstance(u, str) and ":" in u and u.split(":", 1)[0] in schemes for u in urls):
            raise ValueError(f"server {i + 1} in {where}: each url must start with stun:, stuns:, turn: or turns:")
        clean = {"urls": urls}
        for key in ("username", "credential"):
            if server.get(key) is not None:
                clean[key] = str(server[key])
        out.append(clean)
    return tuple(out)


def ice_config() -> IceConfig:
    """The ICE servers from the environment, then secrets, then the public STUN default."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw:
        try:
            return IceConfig(_check(json.loads(raw), ENV_VAR), f"the {ENV_VAR} environment variable")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return IceConfig(DEFAULT_ICE, "the public STUN default", f"{ENV_VAR} was ignored: {exc}.")
    try:
        section = st.secrets.get("webrtc", {}) if st.secrets else {}
    except Exception:  # noqa: BLE001 (no secrets file, or one that does not parse: Streamlit raises its own kinds)
        section = {}
    if section and section.get("ice_servers") is not None:
        try:
            return IceConfig(_check(section["ice_servers"], "[webrtc] ice_servers"), "the app's secrets")
        except ValueError as exc:
            return IceConfig(DEFAULT_ICE, "the public STUN default", f"The secrets' ICE servers were ignored: {exc}.")
    return IceConfig(DEFAULT_ICE, "the public STUN default")


def _noted(callback: Callable) -> Callable:
    """``callback``, telling the job queue that a live stream runs (the warm-up waits meanwhile)."""

    def noted(frame: Any) -> Any:
        jobs.note_live()
        return callback(frame)

    return noted


def stream(
    key: str,
    *,
    ice: IceConfig,
    video_frame_callback: Callable | None = None,
    audio_frame_callback: Callable | None = None,
    audio_sink: Callable | None = None,
    video: bool | dict = True,
    audio: bool | dict = False,
) -> Any:
    """Draw the WebRTC component; returns its context (``.state.playing`` says whether it streams).

    Args:
        key: The component's widget key.
        ice: ICE servers (see :func:`ice_config`).
        video_frame_callback: Called in a worker thread with each ``av.VideoFrame``; returns the frame to show.
        audio_frame_callback: The same for ``av.AudioFrame``.
        audio_sink: Called with every ``av.AudioFrame`` the browser sends, in order and none dropped, on
            aiortc's event loop (so it must return quickly); the stream then only sends (nothing plays back).
        video: Whether to ask for the camera, or the video constraints.
        audio: Whether to ask for the microphone, or the audio constraints.
    """
    from streamlit_webrtc import WebRtcMode, create_audio_sink_track, webrtc_streamer

    video_frame_callback, audio_frame_callback, audio_sink = (
        None if f is None else _noted(f) for f in (video_frame_callback, audio_frame_callback, audio_sink)
    )
    sink = None if audio_sink is None else create_audio_sink_track(audio_sink, key=f"{key}-sink")
    return webrtc_streamer(
        key=key,
        mode=WebRtcMode.SENDONLY if sink is not None else WebRtcMode.SENDRECV,
        rtc_configuration=ice.rtc_configuration(),
        media_stream_constraints={"video": video, "audio": audio},
        video_frame_callback=video_frame_callback,
        audio_frame_callback=audio_frame_callback,
        sink_audio_track=sink,
        async_processing=True,
    )

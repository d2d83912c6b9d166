"""Page tests run offline with a private cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def offline_env(tmp_path_factory, monkeypatch, tiny_encoder_dir):
    cache = tmp_path_factory.getbasetemp() / "app-cache"  # shared: each model trains once per session
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(cache))
    monkeypatch.delenv("GALLERY_DATA_DIR", raising=False)
    # Pages that fine-tune or embed with MiniLM get a tiny random one: seconds, not minutes. The real
    # weights are exercised by the engine tests and by the browser tests (whose server has no model dir).
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_encoder_dir))
    # The test process holds every page's models at once; the memory guard (which clears the caches over the
    # budget) would make runs depend on what ran before. Its own test sets a budget it can cross.
    monkeypatch.setenv("GALLERY_MEMORY_BUDGET_MB", "1000000")
    # A page whose model must be trained shows a progress panel and stops; AppTest cannot follow its fragment,
    # so the script waits for the queued job instead (same queue, same job) and the test sees the model.
    monkeypatch.setenv("GALLERY_WAIT_FOR_TRAINING", "1")
    monkeypatch.setenv("GALLERY_WARM_UP", "0")


@pytest.fixture(autouse=True)
def no_webrtc_component(monkeypatch):
    """streamlit-webrtc's component cannot run under AppTest (it needs a live server): every page test gets a
    stand-in that draws nothing and never plays. Pages with a camera or microphone test their callbacks by
    replacing ``app_pages.webrtc.stream`` with a fake of their own; the browser suite runs the real one."""
    import types

    from app_pages import webrtc

    def stand_in(key, **kwargs):
        return types.SimpleNamespace(state=types.SimpleNamespace(playing=False))

    monkeypatch.setattr(webrtc, "stream", stand_in)

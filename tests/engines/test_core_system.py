"""engines.core.system: memory, versions, heavy modules, sources, without importing anything heavy."""

from __future__ import annotations

import mmap
import sys
import types

import pytest

from engines.core import system


def test_memory_is_read_from_the_process_and_the_budget_from_the_environment(monkeypatch):
    monkeypatch.delenv("GALLERY_MEMORY_BUDGET_MB", raising=False)
    before = system.memory()
    assert before.budget_mb == system.DEFAULT_BUDGET_MB
    assert 10 < before.current_mb < 100_000 and before.peak_mb >= before.current_mb * 0.9
    # 64 MiB of fresh pages, touched so that they are resident. An anonymous mapping, not a bytearray: after
    # earlier tests free hundreds of MiB, malloc can hand back heap pages that are already resident.
    block = mmap.mmap(-1, 64 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    after = system.memory()
    assert after.current_mb - before.current_mb > 50, (before, after)
    assert after.share == pytest.approx(after.current_mb / after.budget_mb)
    block.close()
    monkeypatch.setenv("GALLERY_MEMORY_BUDGET_MB", "2700")
    assert system.budget_mb() == 2700.0
    monkeypatch.setenv("GALLERY_MEMORY_BUDGET_MB", "lots")
    assert system.budget_mb() == system.DEFAULT_BUDGET_MB
    assert system.resident_mb("no-such-process") == 0.0


def test_versions_come_from_metadata_without_importing(monkeypatch):
    monkeypatch.delitem(sys.modules, "prophet", raising=False)
    found = system.versions(("streamlit", "prophet", "no-such-package-xyz"))
    import streamlit

    assert found["streamlit"] == streamlit.__version__
    assert found["no-such-package-xyz"] == "not installed"
    assert found["prophet"] != "not installed" and "prophet" not in sys.modules, "reading a version imports nothing"


def test_loaded_heavy_modules_reflects_sys_modules(monkeypatch):
    monkeypatch.delitem(sys.modules, "cv2", raising=False)
    assert system.loaded_heavy_modules()["OpenCV (object detection)"] is False
    monkeypatch.setitem(sys.modules, "cv2", types.ModuleType("cv2"))
    assert system.loaded_heavy_modules()["OpenCV (object detection)"] is True


def test_sources_and_folder_sizes_follow_the_settings(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "bbc-news").mkdir(parents=True)
    (data / "tiny-shakespeare").mkdir()
    cache = tmp_path / "cache"
    (cache / "artifacts").mkdir(parents=True)
    (cache / "artifacts" / "model.bin").write_bytes(b"\0" * 2**20)
    monkeypatch.setenv("GALLERY_DATA_DIR", str(data))
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(cache))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    rows = {r["setting"]: r for r in system.sources()}
    assert rows["Data directory (GALLERY_DATA_DIR)"]["detail"] == "2 datasets: bbc-news, tiny-shakespeare"
    assert rows["Cache (GALLERY_CACHE_DIR)"]["detail"] == "1.0 MiB on disk"
    assert rows["Downloads"]["value"] == "off (offline mode)"
    assert system.folder_mb(tmp_path / "missing") == 0.0
    monkeypatch.delenv("GALLERY_DATA_DIR")
    assert system.sources()[0]["value"].startswith("not set")


def test_the_memory_guard_checks_at_most_every_interval_and_releases_at_most_once_per_cooldown():
    guard = system.MemoryGuard(check_every_s=30, cooldown_s=600)
    reads = []

    def rss(value):
        def read():
            reads.append(value)
            return value

        return read

    assert not guard.due(0.0, rss(500.0), budget=1000.0), "under the budget: nothing to release"
    assert not guard.due(10.0, rss(5000.0), budget=1000.0) and reads == [500.0], "memory is not read again within 30 s"
    assert guard.due(31.0, rss(5000.0), budget=1000.0) and guard.releases == 1
    assert not guard.due(100.0, rss(5000.0), budget=1000.0), "no second release within the cooldown"
    assert guard.due(700.0, rss(5000.0), budget=1000.0) and guard.releases == 2
    assert system.memory_guard() is system.memory_guard(), "one guard per server process"

"""The one page helper (app_pages/lifecycle.py) under AppTest: cached, shipped, stale, training, a job that
outlives its visitor and is never duplicated."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import lifecycle as page_lifecycle
from engines.core import artifacts, jobs, lifecycle
from engines.core.artifacts import ArtifactStore
from tests.app import lifecycle_toy as toy

TIMEOUT = 120  # AppTest runs and waits: a loaded 2-core CI machine needs the margin


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A private queue, shipped store and memory cache; the script does not wait for training."""
    queue = jobs.JobQueue(concurrency=1)
    monkeypatch.setattr(jobs, "queue", lambda: queue)
    monkeypatch.setattr(lifecycle, "SHIPPED_ROOT", tmp_path / "shipped")
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GALLERY_WAIT_FOR_TRAINING", raising=False)
    page_lifecycle._loaded.clear()
    toy.GATE.clear()
    toy.TRAINED.clear()
    yield queue
    toy.GATE.set()  # never leave a training thread waiting
    assert queue.wait_idle(TIMEOUT)
    page_lifecycle._loaded.clear()


def visit() -> AppTest:
    at = AppTest.from_function(toy.page, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def answer(at: AppTest) -> str | None:
    values = [m.value for m in at.metric if m.label == "Answer"]
    return values[0] if values else None


def test_a_shipped_model_answers_at_once_and_stays_in_memory(fresh, tmp_path):
    toy.GATE.set()
    lifecycle.build_shipped([toy.request()], root=tmp_path / "shipped")
    toy.TRAINED.clear()
    at = visit()
    assert answer(at) == "20.0"
    assert "shipped with the gallery" in at.caption[0].value
    assert fresh.jobs() == [] and toy.TRAINED == []
    # The memory cache answers the next visitor even once the files are gone.
    for path in (tmp_path / "shipped").rglob("model.joblib"):
        path.unlink()
    assert answer(visit()) == "20.0" and toy.TRAINED == []


def test_a_model_of_other_libraries_is_retrained_in_the_background(fresh, tmp_path, monkeypatch):
    toy.GATE.set()
    lifecycle.build_shipped([toy.request()], root=tmp_path / "shipped")
    toy.TRAINED.clear()
    toy.GATE.clear()
    real = artifacts.library_versions
    monkeypatch.setattr(
        artifacts, "library_versions", lambda names, python=True: {**real(names, python=python), "numpy": "9.9"}
    )
    at = visit()
    assert answer(at) is None
    assert any("for the first time" in i.value for i in at.info)
    assert [j.title for j in fresh.active()] == ["Training the toy"]


def test_training_runs_in_the_queue_outlives_the_visit_and_is_never_duplicated(fresh):
    first = visit()
    assert answer(first) is None, "the page must not wait for training"
    assert any("for the first time" in i.value for i in first.info)
    assert [p.value for p in first.get("progress")], "a progress bar"
    second = visit()  # another visitor meanwhile: the same job, not a second one
    assert answer(second) is None
    assert len(fresh.jobs()) == 1
    del first, second  # both visitors leave
    toy.GATE.set()
    assert fresh.wait_idle(TIMEOUT)
    assert toy.TRAINED == [2.0]
    request = toy.request()
    assert ArtifactStore().exists(request.engine, request.key), "saved for the next visitor"
    returning = visit()
    assert answer(returning) == "20.0"
    assert "trained a moment ago" in returning.caption[0].value.lower()
    assert toy.TRAINED == [2.0]


def test_a_disk_cached_model_is_loaded_not_retrained(fresh):
    toy.GATE.set()
    request = toy.request(3.0)
    request.load_or_train()
    assert toy.TRAINED == [3.0]
    at = AppTest.from_function(toy.page, default_timeout=TIMEOUT)
    at.session_state["weight"] = 3.0
    at.run()
    assert answer(at) == "30.0" and "earlier (disk cache" in at.caption[0].value
    assert toy.TRAINED == [3.0] and fresh.jobs() == []


def test_the_warm_up_loads_what_ships_and_rebuilds_what_does_not(fresh, tmp_path):
    toy.GATE.set()
    lifecycle.build_shipped([toy.request(2.0)], root=tmp_path / "shipped")
    toy.TRAINED.clear()
    toy.GATE.clear()

    wanted = [toy.request(2.0), toy.request(7.0)]
    state = page_lifecycle.warm_up(lambda: wanted, import_delay_s=0.0, delay_s=0.0, pause_s=0.0, then=())
    assert state.done.wait(TIMEOUT)
    assert state.loaded == ["toy"] and state.rebuilding == ["toy"] and state.failed == []
    assert [(j.title, j.priority) for j in fresh.active()] == [("Training the toy", jobs.BACKGROUND)]
    at = visit()  # the shipped model is in memory now: no file is read again
    assert answer(at) == "20.0" and toy.TRAINED == []
    toy.GATE.set()
    assert fresh.wait_idle(TIMEOUT) and toy.TRAINED == [7.0]
    failing = page_lifecycle.warm_up(lambda: [broken_request()], import_delay_s=0.0, delay_s=0.0, pause_s=0.0, then=())
    assert failing.done.wait(TIMEOUT) and failing.failed == ["broken"]


def broken_request():
    """A request whose lookup fails (an unreadable store): the warm-up reports it and goes on."""
    request = toy.request(9.0)

    class Broken(type(request)):
        def find(self, store=None, shipped=None):
            raise OSError("unreadable")

    return Broken(request.cache, request.config, request.data_sha256, request.train, request.title, "broken")


def test_the_warm_up_waits_while_a_live_stream_runs(fresh, tmp_path, monkeypatch):
    """A camera streaming: nothing is imported or loaded until its frames stop (they would hold the GIL)."""
    toy.GATE.set()
    lifecycle.build_shipped([toy.request(2.0)], root=tmp_path / "shipped")
    monkeypatch.setattr(jobs, "LIVE_WINDOW_S", 10.0)
    jobs.note_live()
    assert jobs.live_now()
    assert 0.3 <= jobs.wait_while_live(0.3, step_s=0.05) < 5.0  # bounded: a stream that never stops
    monkeypatch.setattr(jobs, "LIVE_WINDOW_S", 0.8)
    waited = []
    real_wait = jobs.wait_while_live

    def watched(max_wait_s, step_s=0.5):
        waited.append(real_wait(max_wait_s, 0.05))
        return waited[-1]

    monkeypatch.setattr(jobs, "wait_while_live", watched)
    jobs.note_live()  # the last frame: the stream stops here
    state = page_lifecycle.warm_up(lambda: [toy.request(2.0)], import_delay_s=0.0, delay_s=0.0, pause_s=0.0, then=())
    assert state.done.wait(TIMEOUT) and state.loaded == ["toy"]
    assert waited[0] >= 0.4 and waited[-1] < 0.2  # the first step waited out the stream, the last did not wait
    assert not jobs.live_now()


def test_the_warm_up_runs_its_later_steps_after_the_models(fresh, tmp_path):
    """The shared encoder's load comes after the shipped models; one failing step is reported, the rest go on."""
    toy.GATE.set()
    lifecycle.build_shipped([toy.request(2.0)], root=tmp_path / "shipped")
    order = []

    def broken():
        raise OSError("no weights")

    steps = (("first", lambda: order.append("first")), ("broken", broken), ("last", lambda: order.append("last")))
    state = page_lifecycle.warm_up(lambda: [toy.request(2.0)], import_delay_s=0.0, delay_s=0.0, pause_s=0.0, then=steps)
    assert state.done.wait(TIMEOUT)
    assert state.loaded == ["toy", "first", "last"] and state.failed == ["broken"] and order == ["first", "last"]
    assert page_lifecycle.ENCODER  # the server's default step (app_pages/ui.warm_up_once passes no ``then``)

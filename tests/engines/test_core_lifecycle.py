"""The model lifecycle: thread budget, the background queue, shipped models and the one load order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest

from engines.core import jobs, lifecycle, threads
from engines.core.artifacts import ArtifactStore, EngineCache
from engines.core.card import ModelCard
from engines.registry import ROOT

WAIT_S = 30.0  # bound on every wait below (the jobs take milliseconds)


# ---------------------------------------------------------------- thread budget


def test_budget_follows_a_cgroup_quota(tmp_path, monkeypatch):
    monkeypatch.delenv("GALLERY_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs
    assert threads.available_cpus(tmp_path) == (2, "cgroup CPU quota")
    plan = threads.budget(tmp_path)
    assert (plan.cpus, plan.per_operation, plan.concurrent_jobs) == (2, 1, 1)
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads.available_cpus(tmp_path) == (8, "CPU affinity")
    assert threads.budget(tmp_path).per_operation == 4


def test_budget_reads_cgroup_v1_and_the_override(tmp_path, monkeypatch):
    monkeypatch.delenv("GALLERY_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("400000")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert threads.available_cpus(tmp_path) == (4, "cgroup CPU quota")
    monkeypatch.setenv("GALLERY_THREADS", "3")
    assert threads.available_cpus(tmp_path) == (3, "GALLERY_THREADS")


def configured_in_fresh_interpreter(code: str, threads: str):
    """Run ``code`` in a new interpreter with a GALLERY_THREADS budget and no thread variables set; its last line as
    JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "OPENBLAS_", "MKL_", "GOMP_", "KMP_"))}
    env |= {"GALLERY_THREADS": threads, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_configure_sizes_every_pool_before_the_libraries_load():
    """In a fresh interpreter with a 2-CPU budget: OpenMP, BLAS and torch get one thread, OpenMP sleeps."""
    code = (
        "import json, os\n"
        "from engines.core import threads\n"
        "threads.configure()\n"
        "import numpy, torch\n"
        "from sklearn.utils._openmp_helpers import _openmp_effective_n_threads\n"
        "print(json.dumps({'env': {k: os.environ.get(k) for k in ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY',"
        " 'GOMP_SPINCOUNT', 'OPENBLAS_NUM_THREADS')}, 'torch': torch.get_num_threads(),"
        " 'sklearn': _openmp_effective_n_threads()}))\n"
    )
    facts = configured_in_fresh_interpreter(code, threads="2")
    assert facts["env"] == {
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": None,  # one thread: no OpenMP worker to spin
        "GOMP_SPINCOUNT": None,
        "OPENBLAS_NUM_THREADS": None,  # the BLAS keeps its default on two CPUs (see threads.configure)
    }
    assert facts["torch"] == 1 and facts["sklearn"] == 1


def test_configure_quiets_openmp_and_sizes_blas_on_a_bigger_budget():
    code = (
        "import json, os\n"
        "from engines.core import threads\n"
        "threads.configure()\n"
        "print(json.dumps({k: os.environ.get(k) for k in ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT',"
        " 'OPENBLAS_NUM_THREADS')}))\n"
    )
    assert configured_in_fresh_interpreter(code, threads="8") == {
        "OMP_NUM_THREADS": "4",
        "OMP_WAIT_POLICY": "PASSIVE",
        "GOMP_SPINCOUNT": "0",
        "OPENBLAS_NUM_THREADS": "4",
    }


def test_configure_keeps_an_operators_choice(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    threads.configure()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


# ---------------------------------------------------------------- the queue


def _blocked(gate: threading.Event, result: str = "model"):
    def work(job: jobs.Job) -> str:
        job.report(0.5, "half way")
        if not gate.wait(WAIT_S):
            raise TimeoutError("the test never opened the gate")
        job.report(0.9, "nearly")
        return result

    return work


def test_a_job_is_never_duplicated_and_runs_one_at_a_time():
    queue, gate = jobs.JobQueue(concurrency=1), threading.Event()
    first = queue.submit("a", "A", _blocked(gate))
    again = queue.submit("a", "A again", _blocked(gate, "other"))
    second = queue.submit("b", "B", _blocked(gate, "b"))
    assert again is first
    deadline = time.monotonic() + WAIT_S
    while first.state != jobs.RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.state == jobs.RUNNING and second.state == jobs.QUEUED
    assert "waiting" in second.status_line()
    gate.set()
    assert queue.wait_idle(WAIT_S)
    assert (first.result, second.result) == ("model", "b")
    assert second.started >= first.finished  # never both at once
    assert queue.submit("a", "A", _blocked(gate, "new")) is first  # a finished job answers until forgotten


def test_a_visitor_goes_before_background_work():
    queue, gate, order = jobs.JobQueue(concurrency=1), threading.Event(), []

    def record(name):
        def work(job):
            order.append(name)
            return name

        return work

    queue.submit("blocker", "Blocker", _blocked(gate))
    queue.submit("warm", "Warm", record("warm"), priority=jobs.BACKGROUND)
    queue.submit("visitor", "Visitor", record("visitor"), priority=jobs.VISITOR)
    gate.set()
    assert queue.wait_idle(WAIT_S)
    assert order == ["visitor", "warm"]


def test_cancel_stops_at_the_next_report_and_failures_are_words():
    queue, gate = jobs.JobQueue(), threading.Event()
    job = queue.submit("c", "C", _blocked(gate))
    while job.fraction < 0.5 and not job.done.is_set():
        time.sleep(0.01)
    job.cancel()
    gate.set()
    assert job.done.wait(WAIT_S) and job.state == jobs.CANCELLED and job.result is None

    def broken(job):
        raise RuntimeError("boom")

    failed = queue.submit("d", "D", broken)
    assert failed.done.wait(WAIT_S)
    assert failed.state == jobs.FAILED and "D failed unexpectedly" in failed.error and "boom" not in failed.error
    assert queue.submit("d", "D", lambda job: 1) is not failed  # a failed job is tried afresh


def test_a_private_job_nobody_watches_is_cancelled():
    queue, gate = jobs.JobQueue(), threading.Event()
    job = queue.submit("p", "Private", _blocked(gate), private=True, unwatched_s=0.2)
    time.sleep(0.4)  # the visitor left: nobody calls touch()
    gate.set()
    assert job.done.wait(WAIT_S) and job.state == jobs.CANCELLED


def test_a_shared_job_finishes_after_its_visitor_left():
    queue, gate = jobs.JobQueue(), threading.Event()
    job = queue.submit("s", "Shared", _blocked(gate), unwatched_s=0.2)
    time.sleep(0.4)
    gate.set()
    assert job.done.wait(WAIT_S) and job.state == jobs.DONE and job.result == "model"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_a_job_runs_at_a_lower_os_priority_than_the_pages():
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = jobs.JobQueue().submit("nice", "Nice", lambda job: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert job.done.wait(WAIT_S) and job.state == jobs.DONE
    assert job.result == min(19, here + jobs.JOB_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here  # the caller is untouched


def test_time_estimate_from_the_pace():
    job = jobs.Job("k", "K", lambda job: None, state=jobs.RUNNING, started=100.0, fraction=0.25)
    assert job.eta_s(now=110.0) == pytest.approx(30.0)
    assert "about 30 s left" in job.status_line(now=110.0)
    assert jobs.format_seconds(95) == "1 min 35 s"
    assert job.harvest() is False  # not done yet
    job.state = jobs.DONE
    assert job.harvest("session") is True and job.harvest("session") is False and job.harvest("other") is True


# ---------------------------------------------------------------- shipped, disk, trained


@dataclass
class Toy:
    """A trained model as the contract wants it: a card and metrics."""

    weight: float
    engine_version: int = 1
    card_: ModelCard | None = None
    metrics_: dict | None = None


@dataclass(frozen=True)
class ToyConfig:
    weight: float = 2.0


def _request(calls: list, weight: float = 2.0, data: str = "d" * 64) -> lifecycle.ModelRequest[Toy]:
    cache = EngineCache("toy", 1, Toy, ("numpy",))

    def train(progress):
        calls.append(weight)
        progress(0.5, "fitting")
        card = ModelCard("Toy", "why", "data", "bundled sample", "split", {"acc": 1.0}, 0.1, 1, 1)
        return Toy(weight, card_=card, metrics_={"acc": 1.0})

    return lifecycle.ModelRequest(cache, ToyConfig(weight), data, train, f"Training toy {weight}", f"toy/{weight}")


def test_the_order_is_shipped_then_disk_then_training(tmp_path):
    shipped, disk, calls = lifecycle.ShippedStore(tmp_path / "shipped"), ArtifactStore(tmp_path / "disk"), []
    request = _request(calls)
    model, source = request.load_or_train(disk, shipped)
    assert (source, calls, model.weight) == (lifecycle.TRAINED, [2.0], 2.0)
    assert request.load_or_train(disk, shipped)[1] == lifecycle.DISK and calls == [2.0]
    lifecycle.build_shipped([request], root=tmp_path / "shipped")
    assert calls == [2.0, 2.0]
    assert request.load_or_train(disk, shipped)[1] == lifecycle.SHIPPED
    manifest = json.loads((tmp_path / "shipped" / "toy" / request.shipped_key / "manifest.json").read_text())
    assert manifest["info"]["label"] == "toy/2.0" and "numpy" in manifest["versions"]
    assert request.shipped_key != request.key


def test_the_shipped_key_leaves_pythons_version_out(monkeypatch):
    """A 3.12 deployment finds what a 3.11 machine built; its disk cache does not mix versions."""
    import platform

    request = _request([])
    shipped, disk = request.shipped_key, request.key
    monkeypatch.setattr(platform, "python_version", lambda: "3.12.99")
    assert request.shipped_key == shipped and request.key != disk


def test_the_shipped_key_ignores_a_local_version_label(monkeypatch):
    """torch 2.13.0+cpu (this machine) and 2.13.0 (PyPI on a deployment) are one release."""
    from importlib import metadata

    from engines.core.artifacts import installed_version

    monkeypatch.setattr(metadata, "version", metadata.version)  # restored afterwards, then the cache is emptied
    real = metadata.version
    installed_version.cache_clear()
    monkeypatch.setattr(metadata, "version", lambda name: "2.4.6+cpu" if name == "numpy" else real(name))
    labelled = _request([]).shipped_key
    installed_version.cache_clear()
    monkeypatch.setattr(metadata, "version", lambda name: "2.4.6" if name == "numpy" else real(name))
    assert _request([]).shipped_key == labelled
    installed_version.cache_clear()
    monkeypatch.setattr(metadata, "version", lambda name: "2.4.7" if name == "numpy" else real(name))
    assert _request([]).shipped_key != labelled
    installed_version.cache_clear()


def test_a_shipped_model_of_other_libraries_is_not_found(tmp_path, monkeypatch):
    root, calls = tmp_path / "shipped", []
    request = _request(calls)
    lifecycle.build_shipped([request], root=root)
    from engines.core import artifacts

    real = artifacts.library_versions
    monkeypatch.setattr(
        artifacts, "library_versions", lambda names, python=True: {**real(names, python=python), "numpy": "0.0"}
    )
    assert request.find(ArtifactStore(tmp_path / "disk"), lifecycle.ShippedStore(root)) is None


def test_a_corrupted_shipped_model_is_skipped_but_never_deleted(tmp_path):
    root, calls = tmp_path / "shipped", []
    request = _request(calls)
    (folder,) = lifecycle.build_shipped([request], root=root)
    (folder / "model.joblib").write_bytes(b"not the model")
    assert request.find(ArtifactStore(tmp_path / "disk"), lifecycle.ShippedStore(root)) is None
    assert (folder / "model.joblib").exists() and (folder / "manifest.json").exists()


def test_build_shipped_removes_models_no_request_wrote(tmp_path):
    root = tmp_path / "shipped"
    (old,) = lifecycle.build_shipped([_request([], 1.0)], root=root)
    (new,) = lifecycle.build_shipped([_request([], 3.0)], root=root)
    assert not old.exists() and new.exists()


def test_generic_load_or_train_follows_the_engine_contract(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_CACHE_DIR", str(tmp_path))
    calls: list = []

    class Engine:
        ENGINE, CACHE = "toy", EngineCache("toy", 1, Toy, ())

        def request(self, config, data):
            return _request(calls, config.weight, data)

        def shipped_requests(self):
            return []

    model = lifecycle.load_or_train(Engine(), ToyConfig(5.0), "e" * 64)
    assert isinstance(model, lifecycle.TrainedModel) and model.weight == 5.0
    assert lifecycle.load_or_train(Engine(), ToyConfig(5.0), "e" * 64).weight == 5.0 and calls == [5.0]


def test_every_shipped_model_is_present_and_verified():
    """What `python -m engines.build_models --check` checks: a stale or missing shipped model fails here."""
    from engines import build_models

    assert build_models.engines_with_shipped(), "no engine ships a model"
    assert build_models.check() == []


def test_shipped_models_stay_small():
    total = sum(f.stat().st_size for f in (ROOT / "assets" / "models").rglob("*") if f.is_file())
    assert total < 60e6, f"the shipped models take {total / 1e6:.1f} MB"

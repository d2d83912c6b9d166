"""The decoder sandbox: plain data in and out, a memory cap, a deadline, and clear messages (issue 26)."""

from __future__ import annotations

import time

import pytest

from engines.core.errors import InputError
from engines.core.sandbox import SandboxError, run_isolated
from tests.security import sandbox_targets as t


def test_plain_data_goes_in_and_json_comes_back():
    assert run_isolated(t.echo, 21, scale=2) == {"value": 42, "pair": [1, 2]}
    assert run_isolated(t.length, b"\x00" * 1_000_000) == 1_000_000


def test_an_input_error_keeps_its_message():
    with pytest.raises(InputError, match=r"^`x\.pdf` is broken\. Re-export it\.$"):
        run_isolated(t.refuse, "`x.pdf` is broken. Re-export it.")


def test_memory_past_the_cap_is_refused_with_what_to_do():
    stats = {}
    assert run_isolated(t.allocate, 50, memory_mb=200, stats=stats) == 50 * 2**20
    assert 0 < stats["peak_mb"] < 300 and stats["seconds"] > 0
    with pytest.raises(
        InputError, match=r"^This PDF needs more memory than the gallery allows for one upload \(100 MB\)"
    ):
        run_isolated(t.allocate, 500, memory_mb=100, what="this PDF")


def test_a_worker_past_its_deadline_is_killed():
    for target in (t.spin, t.sleep_in_c):
        start = time.monotonic()
        with pytest.raises(InputError, match=r"took longer than 2 s to read.*stopped\. Try a smaller file"):
            run_isolated(target, 60, timeout_s=2, what="this Word file")
        assert time.monotonic() - start < 4


def test_progress_is_replayed_in_the_caller():
    reports = []
    assert run_isolated(t.report, 3, progress=lambda f, m: reports.append((f, m))) == 3
    assert reports == [(1 / 3, "step 1"), (2 / 3, "step 2"), (1.0, "step 3")]


def test_bugs_are_not_blamed_on_the_user():
    with pytest.raises(SandboxError, match="KeyError"):
        run_isolated(t.fail)
    with pytest.raises(SandboxError, match="TypeError"):
        run_isolated(t.not_json)


def test_a_killed_worker_is_an_input_error_and_prints_do_not_corrupt_replies():
    with pytest.raises(InputError, match="needs more memory"):
        run_isolated(t.die, what="this file")
    assert run_isolated(t.noisy) == "quiet"


def test_overhead_per_call_is_small():
    run_isolated(t.length, b"")
    start = time.perf_counter()
    for _ in range(5):
        run_isolated(t.length, b"x")
    per_call = (time.perf_counter() - start) / 5
    print(f"sandbox overhead per call: {per_call * 1000:.0f} ms")
    assert per_call < 1.5

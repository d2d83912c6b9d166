"""The cold mode of ``python -m benchmarks.load`` (issue 25): its settled rule, table and neighbours, no browser."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from benchmarks import load
from engines.registry import DEMOS

SETTLED = {
    "app": True,
    "connection": "CONNECTED",
    "script": "notRunning",
    "stale": 0,
    "status_widget": False,
    "heading": True,
    "spinners": 0,
    "running_status": 0,
    "skeletons": 0,
    "training": ["Models drop implausible training rows."],
    "bars": [],
    "runs": 1,
}


@pytest.mark.parametrize(
    "text",
    [
        "Training gradient boosting on 2,000 rows",
        "⏳ Training the digits CNN (20 epochs, width 32).",
        "Training Fine-tuned MiniLM on 1,000 sentences (first visit only; the result is cached on disk).",
        "Measuring the loss before training…",
        "The fine-tuned model is still training; answers come from VADER.",
        "The model is being trained.",
    ],
)
def test_text_that_says_training_is_under_way(text):
    assert load.is_training_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "The outlier step drops implausible training rows.",
        "Measured on 400 held-out messages the model never saw in training.",
        "Typical values are averages over the training messages of each class.",
        "Trained on the bundled sample in 3.2 s.",
    ],
)
def test_prose_about_training_is_not_training(text):
    assert not load.is_training_text(text)


def test_a_finished_page_has_no_busy_reason():
    assert load.busy_reasons(SETTLED) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"script": "running"}, "script running"),
        ({"status_widget": True}, "running indicator"),
        ({"stale": 3}, "stale elements"),
        ({"heading": False}, "title not shown"),
        ({"spinners": 1}, "spinner"),
        ({"running_status": 1}, "status running"),
        ({"skeletons": 2}, "skeleton"),
        ({"training": ["Training gradient boosting on 2,000 rows"]}, "training text: Training gradient boosting"),
    ],
)
def test_each_sign_of_work_holds_the_page(change, reason):
    reasons = load.busy_reasons({**SETTLED, **change})
    assert len(reasons) == 1
    assert reasons[0].startswith(reason)


def test_a_page_not_connected_or_not_answering_is_busy():
    assert load.busy_reasons(None) == ["the page did not answer"]
    assert load.busy_reasons({**SETTLED, "connection": "INITIAL"}) == ["not connected (INITIAL)"]
    assert load.busy_reasons({**SETTLED, "app": False})


def test_a_click_counts_only_once_its_rerun_has_started():
    assert load.busy_reasons(SETTLED, min_runs=2) == ["its rerun has not started"]
    assert load.busy_reasons({**SETTLED, "runs": 2}, min_runs=2) == []


def test_the_clock_reports_the_start_of_the_first_long_enough_quiet_stretch():
    clock = load.SettleClock(settle_s=1.0)
    assert clock.observe(0.0, ["script running"]) is None
    assert clock.observe(0.5, []) is None
    assert clock.observe(0.9, ["spinner"]) is None  # the stretch that began at 0.5 is broken
    assert clock.observe(1.2, []) is None
    assert clock.observe(2.0, []) is None
    assert clock.observe(2.2, []) == 1.2


def test_a_rerun_or_a_moving_bar_restarts_the_stretch_and_a_still_gauge_does_not():
    clock = load.SettleClock(settle_s=1.0)
    gauge = (1, ("40 40% of the budget in use",))
    assert clock.observe(0.0, [], gauge) is None
    assert clock.observe(1.0, [], gauge) == 0.0  # a bar that stands still with no run is a gauge

    clock = load.SettleClock(settle_s=1.0)
    for step in range(10):  # a fragment reruns every 0.5 s and its bar moves
        assert clock.observe(step * 0.5, [], (step, (f"{step * 10} Training",))) is None
    assert clock.last_reasons == ["reruns or a moving progress bar"]
    assert clock.observe(5.0, [], (9, ("90 Training",))) is None
    assert clock.observe(5.5, [], (9, ("90 Training",))) == 4.5


def timing(seconds=None, **extra):
    return {"seconds": seconds, "capped": False, "waiting_on": [], "error": None, "skipped": None, **extra}


def row(key, title, first, action, label=None, when="", reference=False):
    return {
        "key": key,
        "title": title,
        "first": first,
        "action": action,
        "action_label": label,
        "when": when,
        "reference": reference,
        "exceptions": [],
    }


def result(passes):
    return {
        "commit": "c4edafdca1cb71258a6b88c7e45e2a635f87f610",
        "changed_files": 0,
        "cpus": 2,
        "cap_s": 600.0,
        "goals": {"first_idle_s": 3.0, "first_busy_s": 6.0, "action_s": 2.0},
        "passes": {
            name: {
                "neighbours": n,
                "server_start_s": 2.0,
                "load_average_start": (0.5, 0, 0),
                "load_average_end": (1.5, 0, 0),
                "rows": rows,
                "console_errors": [],
            }
            for name, (n, rows) in passes.items()
        },
    }


def test_the_table_marks_each_number_against_its_goal():
    idle = [
        row("trivial", "Trivial", timing(0.8), timing(0.2), "Go", when="start", reference=True),
        row("spam", "Spam detector", timing(2.5), timing(1.1), "Classify"),
        row(
            "house_prices",
            "House price estimator",
            timing(capped=True, waiting_on=["status running"]),
            timing(skipped="the first result never came"),
            "Estimate the price",
        ),
        row("system", "System", timing(1.0), None),
    ]
    busy = [
        row("trivial", "Trivial", timing(1.9), timing(0.4), "Go", when="start", reference=True),
        row("spam", "Spam detector", timing(5.0), timing(2.4), "Classify"),
        row("house_prices", "House price estimator", timing(error="TimeoutError: goto"), None),
        row("system", "System", timing(7.0), None),
    ]
    text = load.cold_markdown(result({"idle": (0, idle), "busy": (2, busy)}))
    lines = text.splitlines()
    assert lines[0] == "| page | first result idle | main action idle | first result busy | main action busy |"
    assert "| trivial page (2nd server, reference, at the start) | 0.8 s | 0.2 s | 1.9 s | 0.4 s |" in lines
    assert "| Spam detector | 2.5 s ✅ | 1.1 s ✅ | 5.0 s ✅ | 2.4 s ❌ |" in lines
    assert "| House price estimator | > 600 s ❌ | not reached | error ❌ | — |" in lines
    assert "| System | 1.0 s ✅ | — | 7.0 s ❌ | — |" in lines
    assert "commit c4edafdca1cb" in text
    assert "- idle, house_prices first: still status running at the cap" in lines
    assert "- busy, house_prices first: TimeoutError: goto" in lines
    assert "Spam detector: Classify" in text


def test_a_pass_not_run_says_so_and_the_goals_judge_only_the_demos():
    idle = [
        row("trivial", "Trivial", timing(9.0), timing(5.0), "Go", when="start", reference=True),
        row("spam", "Spam detector", timing(2.5), timing(1.1), "Classify"),
        row("system", "System", timing(1.0), None),
    ]
    done = result({"idle": (0, idle)})
    assert "| Spam detector | 2.5 s ✅ | 1.1 s ✅ | not run | not run |" in load.cold_markdown(done)
    assert load.cold_goals_met(done)  # the slow trivial reference is not judged
    idle[1]["action"] = timing(2.1)
    assert not load.cold_goals_met(done)
    idle[1]["action"] = timing(capped=True)
    assert not load.cold_goals_met(done)


def test_cold_pages_are_home_every_demo_and_system_in_order():
    pages = load.cold_pages()
    assert [p.key for p in pages] == ["home", *(d.key for d in DEMOS), "system"]
    assert [p.path for p in load.cold_pages(("system", "spam"))] == ["spam", "system"]


def test_the_cold_server_gets_a_visitors_environment(monkeypatch, tmp_path):
    for name in ("GALLERY_DATA_DIR", "GALLERY_MODEL_DIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "x")
    env = load.cold_env(tmp_path / "cache")
    assert env["GALLERY_OFFLINE"] == "1"
    assert env["GALLERY_CACHE_DIR"] == str(tmp_path / "cache")
    assert env["HF_HOME"].startswith(str(tmp_path / "cache"))
    assert not {"GALLERY_DATA_DIR", "GALLERY_MODEL_DIR", "OMP_NUM_THREADS", "MKL_NUM_THREADS"} & set(env)
    assert load.cold_env(tmp_path / "cache", Path("/data"))["GALLERY_DATA_DIR"] == "/data"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_neighbours_spin_inside_the_block_and_are_killed_even_when_it_fails():
    pids = []
    with pytest.raises(RuntimeError), load.neighbours(2) as processes:
        pids = [p.pid for p in processes]
        time.sleep(0.3)
        assert all(p.poll() is None for p in processes)  # spinning, not exited
        raise RuntimeError("the pass failed")
    assert len(pids) == 2
    assert not any(_alive(pid) for pid in pids)


def test_unknown_pages_are_refused():
    with pytest.raises(SystemExit):
        load.main(["--cold", "--pages", "nope"])


def test_a_rerun_too_quick_to_draw_counts_by_its_server_messages():
    """The trivial page's Go on an idle server: no "running" state is ever drawn, but the deltas arrive."""
    before = {**SETTLED, "runs": 3, "frames": 40}
    assert load.rerun_since(before) == (4, 41)
    assert load.busy_reasons({**SETTLED, "runs": 3, "frames": 40}, *load.rerun_since(before)) == [
        "its rerun has not started"
    ]
    assert load.busy_reasons({**SETTLED, "runs": 3, "frames": 43}, *load.rerun_since(before)) == []
    assert load.busy_reasons({**SETTLED, "runs": 4, "frames": 40}, *load.rerun_since(before)) == []
    assert load.rerun_since(None) == (0, None)  # no look before the click: nothing to wait for

"""The contention mode of ``python -m benchmarks.load`` (issue 25): its pure parts, no browser."""

from __future__ import annotations

import pytest

from benchmarks import load

JOB_HEAD = ["job", "state", "progress", "message", "seconds", "left"]


def test_the_job_table_is_found_among_the_system_pages_tables():
    tables = [
        [["setting", "value", "detail"], ["CPUs this server may use", "2", "CPU affinity"]],
        [
            JOB_HEAD,
            ["Training the digits CNN (200 epochs, width 32)", "running", "0.4", "Epoch 80", "30.1", "45 s"],
            ["Warm-up", "done", "1", "Warm", "21.8", ""],
        ],
    ]
    rows = load.job_table(tables)
    assert [r["state"] for r in rows] == ["running", "done"]
    assert load.job_row(rows, "Training the digits CNN")["seconds"] == "30.1"
    assert load.job_row(rows, "Fine-tuning") is None
    assert load.job_table(tables[:1]) == []


@pytest.mark.parametrize(
    ("panel", "state"),
    [
        (None, "gone"),
        ({"bars": [], "stop": False}, "gone"),
        ({"bars": ["Training the digits CNN: waiting for another training to finish"], "stop": True}, "queued"),
        ({"bars": ["Starting (0%)"], "stop": True}, "starting"),
        ({"bars": ["Loading the handwritten digits (0%)"], "stop": True}, "starting"),
        ({"bars": ["Epoch 3 of 200 (2%, about 1 min left)"], "stop": True}, "running"),
        ({"bars": [], "stop": True}, "starting"),
    ],
)
def test_the_trainers_panel_says_whether_its_job_runs(panel, state):
    assert load.panel_state(panel) == state


def test_the_summary_compares_the_medians_against_the_goal():
    summary = load.contention_summary([1.0, 0.8, 5.0, 0.9, 1.1], [1.5, 1.9, 2.0, 1.4, 9.0])
    assert summary["baseline_median_s"] == 1.0
    assert summary["loaded_median_s"] == 1.9
    assert summary["ratio"] == pytest.approx(1.9)
    assert summary["passed"]
    assert not load.contention_summary([1.0], [2.1])["passed"]
    assert load.contention_summary([1.0], [])["ratio"] is None
    assert not load.contention_summary([], [1.0])["passed"]


def timing(seconds, **extra):
    return {"seconds": seconds, "capped": False, "waiting_on": [], "error": None, "skipped": None, **extra}


def test_the_markdown_gives_both_medians_the_ratio_and_the_raw_timings():
    baseline = [timing(s, action="Classify") for s in (0.5, 0.6, 0.7)]
    loaded = [timing(s, action="Classify", trainer="running") for s in (0.9, 1.6, 1.0)]
    result = {
        "victim": "Spam detector",
        "trainer": "the digits CNN",
        "trainer_button": "Train the CNN",
        "cap_s": 600.0,
        "neighbours": 0,
        "load_average_start": (0.4, 0, 0),
        "load_average_end": (1.6, 0, 0),
        "commit": "c76a7aa0000000000000",
        "changed_files": 1,
        "cpus": 2,
        "baseline": baseline,
        "loaded": loaded,
        "loaded_while_running": 3,
        "job_start": {"state": "running", "seconds": 9.2, "seen": {"starting": 0.5, "running": 9.2}},
        "job_after_close": {"finished": True, "seconds_after_close": 40.0, "row": {"state": "done", "seconds": "80"}},
        **load.contention_summary([0.5, 0.6, 0.7], [0.9, 1.6, 1.0]),
    }
    lines = load.contention_markdown(result).splitlines()
    assert lines[0] == "| Spam detector: Classify | median | timings |"
    assert "| alone | 0.60 s | 0.5 s, 0.6 s, 0.7 s |" in lines
    assert "| while a training runs in another tab | 1.00 s | 0.9 s, 1.6 s, 1.0 s |" in lines
    assert "| ratio (goal ≤ 2×) | 1.67× ✅ | |" in lines
    assert any("done after 80 s of training" in line for line in lines)
    assert "- The trainer's panel after the click: starting at 0.5 s, running at 9.2 s (timing began then)." in lines


@pytest.mark.parametrize(
    "argv",
    [
        ["--contention", "--victim", "nope"],
        ["--contention", "--victim", "imageclf", "--trainer", "imageclf"],
        ["--contention", "--repeats", "0"],
        ["--contention", "--trainer", "nope"],
    ],
)
def test_bad_contention_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        load.main(argv)

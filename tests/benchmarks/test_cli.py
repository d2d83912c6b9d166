"""The benchmark command: its JSON schema, anchors and skip behaviour (on a tiny stand-in corpus)."""

from __future__ import annotations

import json
import shutil

from benchmarks.__main__ import main
from engines.spam.model import SMS_SPAM


def test_spam_benchmark_writes_plain_records(tmp_path, capsys):
    folder = tmp_path / "data" / "sms-spam-collection"
    folder.mkdir(parents=True)
    shutil.copy(SMS_SPAM.sample, folder / "SMSSpamCollection")  # the synthetic sample in the reference layout
    out = tmp_path / "results.json"
    assert main(["spam", "--data-dir", str(tmp_path / "data"), "--seeds", "2", "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    assert {tuple(sorted(r)) for r in records} == {("dataset", "default", "engine", "metric", "model", "value")}
    main_rows = [r for r in records if r["dataset"] == "sms-spam-collection"]
    assert {r["metric"] for r in main_rows} == {"accuracy", "spam_caught", "blocked_ham", "roc_auc", "train_s"}
    defaults = {r["model"] for r in main_rows if r["default"]}
    assert len(defaults) == 1
    assert all(0.0 <= r["value"] <= 1.0 for r in main_rows if r["metric"] != "train_s")
    # issue 28: how the explanations behave on held-out spam, one row per tokeniser (the default's is marked)
    explained = [r for r in records if r not in main_rows]
    assert {r["metric"] for r in explained} == {"promo_credited_spam", "removal_agrees"}
    assert all(0.0 <= r["value"] <= 1.0 for r in explained)
    assert len({r["model"] for r in explained if r["default"]}) == 1
    table = capsys.readouterr().out
    assert "anchor: Almeida et al. 2011, SVM (published)" in table
    assert "0.9764" in table


def test_missing_dataset_is_skipped_with_a_reason(tmp_path, capsys):
    assert main(["spam", "--data-dir", str(tmp_path)]) == 0
    assert "spam: skipped" in capsys.readouterr().out


def test_movie_benchmark_runs_all_three_protocols_on_the_sample(tmp_path, monkeypatch):
    from benchmarks import movies as bench
    from engines.movies.data import MOVIELENS

    folder = tmp_path / "data" / "movielens-100k"
    shutil.copytree(MOVIELENS.sample, folder)  # the made-up sample in the reference layout
    monkeypatch.setattr(bench, "FOLDS", 2)
    records, anchors = bench.run(tmp_path / "data", seeds=1, progress=lambda _: None)
    by = {(r.model, r.metric): r.value for r in records}
    assert by[("Surprise SVD (defaults)", "fit_vs_svd")] == 1.0
    assert by[("Hybrid (ours)", "rmse")] < by[("Surprise SVD (defaults)", "rmse")]
    assert 0.0 < by[("Hybrid (ours), new user", "new_user_s")] < 1.0
    assert [r.model for r in records if r.default and r.metric == "precision_at_10"] == [
        "Hybrid (stacked blend) [75/25]"
    ]
    assert {a.metric for a in anchors} == {"rmse", "precision_at_10"}


def test_movie_benchmark_skips_without_movielens(tmp_path):
    import pytest

    from benchmarks import movies as bench
    from benchmarks.common import Skip

    with pytest.raises(Skip, match=r"u\.data"):
        bench.run(tmp_path, seeds=1)

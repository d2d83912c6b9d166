"""The summariser benchmark on a tiny made-up stand-in for the CNN/DailyMail sample, and its skip."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks.__main__ import main
from engines.summarizer import model as sm


def test_summarizer_benchmark_scores_every_row(tmp_path, monkeypatch, capsys):
    from benchmarks import summarizer as bench

    folder = tmp_path / "data" / bench.FOLDER
    folder.mkdir(parents=True)
    sample = sm.load_samples()["news_ferry"]
    byline = "By . Staff Reporter . PUBLISHED: . 10:00 EST, 1 May 2024 . | . UPDATED: . 11:00 EST, 1 May 2024 . "
    rows = [
        {"id": str(i), "article": byline + sample.text.replace("\n", " "), "highlights": sample.reference}
        for i in range(4)
    ]
    pd.DataFrame(rows).to_csv(folder / bench.FILE)
    monkeypatch.setattr(bench, "HELD_OUT", slice(2, 4))
    monkeypatch.setattr(bench, "ROWS", {k: v for k, v in bench.ROWS.items() if "minilm" not in k})
    out = tmp_path / "results.json"
    assert main(["summarizer", "--data-dir", str(tmp_path / "data"), "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    casing = [r for r in records if "original casing" in r["dataset"] or "tokenised" in r["dataset"]]
    records = [r for r in records if r not in casing]
    # issue 28: the default on the original and on lower-case tokenised text, dev and held-out halves
    assert any("tokenised" in r["dataset"] for r in casing) and any("original" in r["dataset"] for r in casing)
    assert {r["model"] for r in casing} == {"centrality_tfidf"}
    assert {r["metric"] for r in records} == {"rouge1", "rouge2", "rougeL", "words", "s_per_article"}
    assert {r["model"] for r in records} == {"lead3", "lead3_clean", "textrank", "centrality_tfidf"}
    assert {r["model"] for r in records if r["default"]} == {"centrality_tfidf"}
    by = {(r["dataset"], r["model"], r["metric"]): r["value"] for r in records}
    whole = f"{bench.FOLDER} (all 4)"
    assert by[(whole, "lead3_clean", "rouge1")] > by[(whole, "lead3", "rouge1")]  # the byline hurts raw Lead-3
    table = capsys.readouterr().out
    assert "anchor: Lead-3, See et al. 2017" in table and "0.4034" in table


def test_summarizer_benchmark_skips_without_the_sample(tmp_path):
    from benchmarks import summarizer as bench
    from benchmarks.common import Skip

    with pytest.raises(Skip, match=r"cnn_dailymail_train_sample\.csv"):
        bench.run(tmp_path, progress=lambda _: None)

"""The text generator benchmark on a stand-in Tiny Shakespeare (the bundled fables), and its skip."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from benchmarks.__main__ import main


def test_textgen_benchmark_reports_every_row(tmp_path, monkeypatch, capsys):
    from engines import textgen as tg

    folder = tmp_path / "data" / "tiny-shakespeare"
    folder.mkdir(parents=True)
    (folder / "input.txt").write_text(tg.corpus.bundled().text[:20_000])
    monkeypatch.setattr(tg, "PAGE_DEFAULT", replace(tg.PAGE_DEFAULT, max_steps=12, eval_every=4))
    monkeypatch.setattr(tg, "PAGE_WORD_DEFAULT", replace(tg.PAGE_WORD_DEFAULT, max_steps=12, eval_every=4))
    out = tmp_path / "results.json"
    assert main(["textgen", "--data-dir", str(tmp_path / "data"), "--json", str(out)]) == 0
    records = json.loads(out.read_text())
    by = {(r["model"], r["metric"]): r["value"] for r in records}
    assert {r["model"] for r in records if r["default"]} == {"lstm_2x512", "lstm_page_default_char"}
    ngram = next(m for m, _ in by if m.startswith("kneser_ney_") and not m.endswith(("_char", "_word")))
    assert 2 <= int(ngram.removeprefix("kneser_ney_").removesuffix("gram")) <= 8
    assert 0 < by[("lstm_2x512", "val_loss")] < by[("lstm_2x512", "val_loss_ctx256")] + 0.5
    assert by[("lstm_2x512", "chars_per_s_1core")] > 0 and by[("lstm_2x512", "peer_ratio")] > 0
    assert by[("lstm_2x512", "parameters")] > 1e6
    for level in ("char", "word"):
        assert by[(f"lstm_page_default_{level}", "val_loss")] < by[(f"lstm_page_default_{level}", "val_loss_start")]
        assert 0 <= by[(f"lstm_page_default_{level}", "improving_evals")] <= 1
    table = capsys.readouterr().out
    assert "anchor: nanoGPT 6-layer Transformer, GPU (README)" in table and "1.4697" in table


def test_textgen_benchmark_skips_without_tiny_shakespeare(tmp_path):
    from benchmarks import textgen as bench
    from benchmarks.common import Skip

    with pytest.raises(Skip, match=r"tiny-shakespeare/input\.txt"):
        bench.run(tmp_path, progress=lambda _: None)

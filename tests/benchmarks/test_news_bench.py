"""The news benchmark's near-duplicate rows (the bundled sample needs no data directory)."""

from __future__ import annotations

from benchmarks import news as bench


def test_dedupe_rows_score_three_settings_side_by_side():
    lines: list[str] = []
    records = bench.dedupe_rows(lines.append)
    by = {(r.model, r.metric): r.value for r in records}
    models = {r.model for r in records}
    assert len(models) == 3 and {r.model for r in records if r.default} == {
        "TF-IDF cosine >= 0.5, shared name, no contradiction"
    }
    assert {r.metric for r in records} == {"pair_precision", "pair_recall", "pair_f1", "clusters"}
    default, names_only, cosine = (
        "TF-IDF cosine >= 0.5, shared name, no contradiction",
        "TF-IDF cosine >= 0.5, shared name",
        "TF-IDF cosine >= 0.5 only",
    )
    # On this sample each check adds precision and splits groups.
    assert by[(cosine, "pair_precision")] < by[(names_only, "pair_precision")] < by[(default, "pair_precision")]
    assert by[(cosine, "clusters")] <= by[(names_only, "clusters")] <= by[(default, "clusters")]
    assert all(0 <= by[(m, "pair_recall")] <= 1 for m in models)
    assert len(lines) == 3 and all("pair precision" in line for line in lines)

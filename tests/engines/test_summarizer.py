"""Summariser engine: known answers for every method, cleaning, length control, ROUGE, bad input, abstractive path."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engines.core.errors import InputError
from engines.summarizer import extractive
from engines.summarizer import model as sm
from engines.summarizer.preprocess import repair_artefacts, strip_boilerplate
from tests.conftest import require_dataset

# One sentence states the topic that every later sentence elaborates on; the others are about one detail each.
CENTRAL = "The city council approved a new budget for schools, roads and parks on Monday."
TOPICAL = [
    "Weather in the region was mild this week.",
    CENTRAL,
    "The budget gives schools more money for teachers and books next year.",
    "Roads in the budget get repairs to bridges and new cycle lanes.",
    "Parks in the budget get new trees, benches and playgrounds for children.",
    "The council said the budget for schools, roads and parks is the largest in a decade.",
]


def doc(sentences: list[str]) -> str:
    return " ".join(sentences)


def test_a_clearly_central_sentence_is_chosen():
    summary = sm.summarize(doc(TOPICAL), sm.SummarizerConfig(sentences=1))
    assert summary.sentences == [CENTRAL]
    textrank = sm.summarize(doc(TOPICAL), sm.SummarizerConfig(method="textrank", sentences=1))
    assert textrank.sentences[0] != TOPICAL[0]  # the off-topic opener is never the most central


def test_lead_k_picks_the_first_k_sentences():
    summary = sm.summarize(doc(TOPICAL), sm.SummarizerConfig(method="lead", sentences=3))
    assert summary.sentences == TOPICAL[:3]
    assert list(summary.scores.loc[summary.scores["chosen"], "position"]) == [0, 1, 2]


def test_redundancy_control_drops_a_near_duplicate():
    duplicate = "The city council approved the new budget for schools, roads and parks on Monday."
    sentences = [*TOPICAL[:2], duplicate, *TOPICAL[2:]]
    with_mmr = sm.summarize(doc(sentences), sm.SummarizerConfig(sentences=2, redundancy=1.0))
    assert CENTRAL in with_mmr.sentences and duplicate not in with_mmr.sentences
    without = sm.summarize(doc(sentences), sm.SummarizerConfig(sentences=2, redundancy=0.0))
    assert set(without.sentences) == {CENTRAL, duplicate}  # the penalty is what keeps them apart
    penalised = with_mmr.scores.set_index("text").loc[duplicate, "redundancy"]
    assert penalised > 0.5


def test_mmr_and_pagerank_known_answers():
    sim = np.array([[0, 0.9, 0.1], [0.9, 0, 0.1], [0.1, 0.1, 0]])
    picked, penalty = extractive.mmr_select(np.array([1.0, 0.95, 0.5]), sim, 2, redundancy=1.0)
    assert picked == [0, 2] and penalty[1] == pytest.approx(0.9)
    rank = extractive.pagerank(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    assert rank.sum() == pytest.approx(1.0) and rank[0] > rank[1] == pytest.approx(rank[2])
    centrality, backward, forward = extractive.directed_centrality(sim, beta=0.0, lambda1=0.3, lambda2=0.7)
    assert backward[0] > 0 and forward[0] == 0 and centrality[0] > centrality[1]


def test_length_control_by_ratio_and_sentences():
    text = doc(TOPICAL * 1)
    assert len(sm.summarize(text, sm.SummarizerConfig(ratio=0.5)).chosen) == 3
    assert len(sm.summarize(text, sm.SummarizerConfig(ratio=0.01)).chosen) == 1  # at least one
    assert len(sm.summarize(text, sm.SummarizerConfig(sentences=10)).chosen) == len(TOPICAL)  # at most all
    stats = sm.summarize(text, sm.SummarizerConfig(sentences=2)).stats
    assert stats["summary_sentences"] == 2 and 0 < stats["word_ratio"] < 1
    assert stats["source_words"] == sum(len(s.split()) for s in TOPICAL)


def test_cleaning_strips_bylines_datelines_and_artefacts():
    daily_mail = (
        "By . Associated Press . PUBLISHED: . 14:11 EST, 25 October 2013 . | . UPDATED: . 15:36 EST, "
        "25 October 2013 . The bishop has exposed church members to the virus. His injections have lowered his . "
        "voice over the weeks ."
    )
    text, removed = strip_boilerplate(daily_mail)
    assert text.startswith("The bishop")
    assert any("Associated Press" in r for r in removed) and any("PUBLISHED" in r for r in removed)
    assert repair_artefacts(text).endswith("lowered his voice over the weeks.")
    cnn, removed = strip_boilerplate("Canberra, Australia (CNN) -- At first glance, it does not look like much.")
    assert cnn == "At first glance, it does not look like much." and removed == ["Canberra, Australia (CNN) --"]
    pasted, removed = strip_boilerplate("By Jane Doe, Science Editor\nPublished 3 May 2024\n\nThe story starts here.")
    assert pasted == "The story starts here." and len(removed) == 1
    kept, removed = strip_boilerplate("By the end of the year the bridge will reopen to traffic and the ferries stop.")
    assert removed == [] and kept.startswith("By the end")  # prose that starts with "By" stays
    summary = sm.summarize(daily_mail + " " + doc(TOPICAL), sm.SummarizerConfig(method="lead", sentences=1))
    assert summary.sentences == ["The bishop has exposed church members to the virus."]
    raw = sm.summarize(daily_mail, sm.SummarizerConfig(method="lead", sentences=1, strip_boilerplate=False))
    assert raw.sentences[0].startswith("By")


def test_structure_headings_paragraphs_and_highlight_escaping():
    text = (
        "# Report\n\n## Schools\n\n" + doc(TOPICAL[1:3]) + "\n\n## Roads\n\n" + doc(TOPICAL[3:5]) + "\n\n"
        "Attack <script>alert(1)</script> and **bold** text should never render as markup here."
    )
    summary = sm.summarize(text, sm.SummarizerConfig(sentences=3))
    headings = [s.text for s in summary.document.sentences if s.is_heading]
    assert headings == ["# Report", "## Schools", "## Roads"]
    assert all(not summary.document.sentences[i].is_heading for i in summary.chosen)
    sections = summary.sections
    assert next(s.heading for s in sections) in {"Report", "Schools", "Roads"}
    assert sum(len(p) for s in sections for p in s.paragraphs) == 3
    page = sm.highlight(summary.document, [s.index for s in summary.document.body])
    assert "<script>" not in page and "&#60;script&#62;" in page and "**" not in page
    assert page.count("<mark") == len(summary.document.sentences) - len(headings)


def test_rouge_helper_agrees_with_rouge_score():
    from rouge_score import rouge_scorer

    summary, reference = (
        "The council approved a budget for schools.",
        "A new school budget was approved by the council.",
    )
    ours = sm.rouge(summary, reference)
    theirs = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(reference, summary)
    assert ours == {k: pytest.approx(theirs[k].fmeasure) for k in ("rouge1", "rouge2", "rougeL")}
    assert sm.rouge(reference, reference)["rouge1"] == pytest.approx(1.0)


BAD_TEXTS = [
    ("", "is empty"),
    ("   \n\n  ", "is empty"),
    ("😀🎉 !!! ??? ...", "no words"),
    (
        "Der Gemeinderat hat am Montag einen neuen Haushalt für Schulen, Straßen und Parks beschlossen. "
        "Die Mitglieder sagten, der Plan werde teurer als erwartet.",
        "German",
    ),
    (12345, "must be a string of text"),
]


@pytest.mark.parametrize(("text", "message"), BAD_TEXTS, ids=["empty", "blank", "emoji", "german", "number"])
def test_bad_text_raises_a_helpful_input_error(text, message):
    with pytest.raises(InputError, match=message):
        sm.summarize(text)


def test_bad_config_and_reference_raise_input_errors():
    with pytest.raises(InputError, match="Unknown method"):
        sm.SummarizerConfig(method="magic")
    with pytest.raises(InputError, match="between 1 and"):
        sm.SummarizerConfig(sentences=0)
    with pytest.raises(InputError, match="ratio"):
        sm.SummarizerConfig(ratio=1.5)
    with pytest.raises(InputError, match="reference summary is empty"):
        sm.rouge("a summary", "  ")
    with pytest.raises(InputError, match="no words"):
        sm.rouge("a summary", "!!! ???")
    with pytest.raises(InputError, match="only headings"):
        sm.summarize("# Title\n\n## Another heading")


def test_huge_text_is_capped_and_still_fast_and_progress_ends_at_one():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda"]
    rng = np.random.default_rng(0)
    sentences = [" ".join(rng.choice(words, 12)).capitalize() + " the end of it." for _ in range(40_000)]
    text = doc(sentences)  # ~2.4 MB
    assert len(text) > 2_000_000
    reports: list[tuple[float, str]] = []
    started = time.perf_counter()
    summary = sm.summarize(text, progress=lambda f, m: reports.append((f, m)))
    assert time.perf_counter() - started < 60
    assert any("Cut to the first" in n for n in summary.notes)
    assert any("closest to its overall topic" in n for n in summary.notes)  # the graph is capped
    assert len(summary.chosen) == 3
    fractions = [f for f, _ in reports]
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_compare_methods_lists_every_method_with_rouge():
    sample = sm.load_samples()["news_ferry"]
    table = sm.compare_methods(sample.text, reference=sample.reference)
    assert list(table["key"]) == ["lead", "textrank", "centrality"]
    assert table["rouge1"].between(0, 1).all() and table["default"].sum() == 1
    no_ref = sm.compare_methods(sample.text)
    assert no_ref["rouge1"].isna().all()


def test_bundled_samples_and_card():
    samples = sm.load_samples()
    assert len(samples) == 3
    assert all(s.reference and len(s.text.split()) >= 300 for s in samples.values())
    news = sm.summarize(samples["news_ferry"].text)
    assert not any("Elena Marsh" in s for s in news.sentences) and news.document.removed
    card = sm.model_card(samples=samples)
    assert set(card.metrics) == {"rouge1", "rouge2", "rougeL"} and card.metrics["rouge1"] > 0.3
    assert "Model card" in card.to_markdown()


# ---------------------------------------------------------------- abstractive (a tiny random BART, never a download)


@pytest.fixture(scope="module")
def tiny_bart_dir(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.tiny_bart import make_tiny_bart

    root = tmp_path_factory.mktemp("models")
    make_tiny_bart(root / "distilbart-cnn-12-6", max_length=64)
    return root


def test_abstractive_falls_back_when_no_model_is_found():
    from engines.summarizer import abstractive

    resolved = abstractive.resolve()
    assert resolved.is_offline and "extractive" in resolved.notice
    assert abstractive.load(resolved) is None


def test_abstractive_path_chunks_a_long_document_and_is_bounded(tiny_bart_dir, monkeypatch):
    from engines.summarizer import abstractive

    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_bart_dir))
    resolved = abstractive.resolve()
    assert resolved.kind == "local directory" and resolved.spec is abstractive.DISTILBART
    config = abstractive.AbstractiveConfig(max_new_tokens=8, min_new_tokens=2, num_beams=1, max_chunks=5)
    model = abstractive.load(resolved, config)
    assert model is not None and model.max_input <= 64
    generated: list[int] = []
    real_generate = model.model.generate

    def counting(**kwargs):
        out = real_generate(**kwargs)
        generated.append(out.shape[1])
        return out

    monkeypatch.setattr(model.model, "generate", counting)
    reports: list[float] = []
    result = model.summarize(doc(TOPICAL * 3), progress=lambda f, _: reports.append(f))
    default = abstractive.load(resolved)  # default bound (120 tokens) is cut to what the tiny decoder can hold
    assert default is not None and default.max_new_tokens <= 64 + 8 - 2
    assert isinstance(default.summarize(doc(TOPICAL)).text, str)
    assert len(result.chunks) == 5 and len(result.chunk_summaries) == 5  # capped at max_chunks
    assert any("first 5 were summarised" in n for n in result.notes)
    assert len(generated) == 6  # five map steps and one reduce step
    assert max(generated) <= 8 + 1  # max_new_tokens bounds every generation (+1 start token)
    assert reports[-1] == 1.0 and isinstance(result.text, str)
    assert result.stats["source_words"] == 3 * sum(len(s.split()) for s in TOPICAL)
    with pytest.raises(InputError, match="is empty"):
        model.summarize("")
    table = sm.compare_methods(doc(TOPICAL), extra=abstractive.as_extra(model))
    assert len(table) == 4 and table.iloc[-1]["method"] == model.title


# ---------------------------------------------------------------- real data


@pytest.mark.realdata
def test_default_beats_lead3_on_cnn_dailymail_sample(shared_data):
    from benchmarks.summarizer import FILE, ROWS, evaluate

    folder = require_dataset(shared_data, "cnn-dailymail-sample")
    import pandas as pd

    frame = pd.read_csv(folder / FILE).iloc[50:100]  # the half the tuning never saw
    default = evaluate(frame, sm.SummarizerConfig())
    lead3 = evaluate(frame, ROWS["lead3"])
    for metric in sm.ROUGE_TYPES:
        assert default[metric] >= lead3[metric], (metric, default, lead3)
    assert default["s_per_article"] < 1.0


def test_a_bundled_sample_skips_the_language_detector_and_gets_the_same_summary():
    from engines.core.text import clean_text

    for sample in sm.load_samples().values():
        clean = clean_text(sample.text)
        assert clean.text == sample.text and clean.language == "en", f"{sample.key} is not clean English"
        for config in (sm.SummarizerConfig(), sm.SummarizerConfig(method="textrank", sentences=5)):
            fast, checked = sm.summarize_sample(sample, config), sm.summarize(sample.text, config)
            assert fast.text == checked.text and fast.chosen == checked.chosen, sample.key
            assert fast.original_chars == checked.original_chars and fast.notes == checked.notes

"""Predictive text generator engine: vocabularies, the LSTM's files, training (curve, seed, stop, budget, early
stopping, bad settings), sampling and next-word suggestions, the Kneser-Ney baseline, corpora and uploads, the
pretrained GPT-2 path with a tiny local GPT-2, the shipped Tiny Shakespeare model and the model card."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import math
import random
import threading
import time

import numpy as np
import pytest
import torch

from engines import textgen
from engines.core.errors import InputError, SourceError
from engines.core.hashing import sha256_bytes
from engines.textgen import corpus, gpt2, sampling
from engines.textgen import model as model_io
from engines.textgen.ngram import NGramModel, best_order
from engines.textgen.sampling import SamplingConfig, filtered_probs, generate, loss_on, next_words
from engines.textgen.train import TrainConfig, split_text, train
from engines.textgen.vocab import UNK, Level, Vocabulary, join_words, word_tokens
from tests.conftest import require_dataset
from tests.sample_files import text_pdf
from tests.tiny_gpt2 import THE, make_tiny_gpt2

CAT = "the cat sat on the mat. " * 200  # 4,800 characters; after "the cat" always comes "sat"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
# A tiny model that learns CAT in about a second on one thread.
TINY = TrainConfig(
    embed_dim=16,
    hidden_size=32,
    seq_len=32,
    batch_size=16,
    learning_rate=1e-2,
    warmup_steps=5,
    max_steps=80,
    eval_every=10,
    patience=100,
)
TINY_WORD = dataclasses.replace(TINY, level=Level.WORD, seq_len=16, batch_size=8, max_steps=60, min_count=1)
NO_FILTER = SamplingConfig(temperature=1.0, top_k=0, top_p=1.0, seed=0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@dataclasses.dataclass
class Trained:
    model: textgen.LanguageModel
    evaluations: list
    progress: list


@pytest.fixture(scope="module")
def char_run() -> Trained:
    evaluations, progress = [], []
    model = train(
        CAT,
        TINY,
        data_name="the cat corpus",
        on_eval=evaluations.append,
        progress=lambda f, m: progress.append((f, m)),
    )
    return Trained(model, evaluations, progress)


@pytest.fixture(scope="module")
def char_model(char_run) -> textgen.LanguageModel:
    return char_run.model


@pytest.fixture(scope="module")
def word_model() -> textgen.LanguageModel:
    return train(CAT, TINY_WORD, data_name="the cat corpus (words)")


def random_text(n: int, alphabet: str = "abcdefghijklmnopqrst", seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


# ---------------------------------------------------------------- vocab


def test_char_vocabulary_round_trip_and_unknown_characters():
    vocab = Vocabulary.build("hello world", Level.CHAR)
    assert vocab.tokens[0] == UNK and vocab.tokens[1:] == tuple(sorted(set("hello world")))
    assert len(vocab) == 1 + len(set("hello world"))
    assert vocab.decode(vocab.encode("world hello")) == "world hello"
    ids = vocab.encode("hex!")
    assert ids[0] == vocab.id("h") != 0 and ids[1] == vocab.id("e") != 0 and ids[2:] == [0, 0]
    assert vocab.unknown("hex!x!") == ["x", "!"]
    assert vocab.unknown("hello") == []
    assert vocab.id("z") == 0


def test_word_tokens_and_join_words_spacing():
    assert word_tokens("Don't STOP, he said.\nOK (now)") == [
        "don't",
        "stop",
        ",",
        "he",
        "said",
        ".",
        "\n",
        "ok",
        "(",
        "now",
        ")",
    ]
    assert join_words(["hello", ",", "world", ".", "\n", "next", "(", "a", ")", "!"]) == "hello, world.\nnext (a)!"
    assert join_words([]) == ""


def test_word_vocabulary_round_trip_min_count_and_unknowns():
    vocab = Vocabulary.build("The cat sat. The cat ran. A dog!", Level.WORD, min_count=2)
    assert vocab.level is Level.WORD
    assert set(vocab.tokens[1:]) == {"the", "cat", "."}  # sat, ran, a, dog and ! occur once
    assert vocab.decode(vocab.encode("The cat.")) == "the cat."
    assert vocab.encode("the dog") == [vocab.id("the"), 0]
    assert vocab.unknown("the dog sat, the dog") == ["dog", "sat", ","]
    capped = Vocabulary.build("a a a a b b b c c d", Level.WORD, max_size=3)
    assert capped.tokens == (UNK, "a", "b")  # max_size counts the unknown token


@pytest.mark.parametrize("level", [Level.CHAR, Level.WORD])
def test_a_corpus_with_one_distinct_token_is_refused(level):
    with pytest.raises(InputError, match="only 1 distinct"):
        Vocabulary.build("aaaaaaaa" if level is Level.CHAR else "aaaa aaaa\taaaa", level)


def test_vocabulary_json_round_trip():
    for vocab in (Vocabulary.build("hello world\n", "char"), Vocabulary.build("the cat sat on the mat.", "word")):
        data = json.loads(json.dumps(vocab.to_json()))
        back = Vocabulary.from_json(data)
        assert back == vocab and back.level is vocab.level
        assert back.encode("the cat\n") == vocab.encode("the cat\n")
    with pytest.raises(ValueError, match="unknown token"):
        Vocabulary(Level.CHAR, ("a", "b"))


# ---------------------------------------------------------------- model files


def test_save_load_round_trip_gives_identical_logits(char_model, tmp_path):
    folder = model_io.save(char_model, tmp_path / "m")
    loaded = model_io.load(folder)
    ids = torch.tensor([char_model.vocab.encode("the cat sat on the")])
    with torch.no_grad():
        expected, _ = char_model.net.eval()(ids)
        got, _ = loaded.net(ids)
    assert torch.equal(expected, got)
    assert loaded.vocab == char_model.vocab and loaded.config == char_model.config
    assert loaded.info["metrics"] == char_model.info["metrics"]
    assert not loaded.net.training


def test_one_token_steps_match_the_full_lstm(char_model):
    """The written-out single-token step (used when generating) gives nn.LSTM's numbers, state carried."""
    net = char_model.net.eval()
    ids = torch.tensor([char_model.vocab.encode("the cat sat"), char_model.vocab.encode("on the mat.")])
    with torch.no_grad():
        full, (h_full, c_full) = net(ids, None)
        state, stepped = None, []
        for t in range(ids.shape[1]):
            logits, state = net(ids[:, t : t + 1], state)
            stepped.append(logits)
    assert torch.allclose(torch.cat(stepped, 1), full, atol=1e-5)
    assert torch.allclose(state[0], h_full, atol=1e-5) and torch.allclose(state[1], c_full, atol=1e-5)


def test_half_precision_save_is_smaller_and_close(char_model, tmp_path):
    full = model_io.save(char_model, tmp_path / "full")
    half = model_io.save(char_model, tmp_path / "half", half=True)
    assert (half / model_io.WEIGHTS).stat().st_size < 0.6 * (full / model_io.WEIGHTS).stat().st_size
    assert json.loads((half / model_io.MANIFEST).read_text())["weights"]["dtype"] == "float16"
    loaded = model_io.load(half)
    assert next(loaded.net.parameters()).dtype == torch.float32
    ids = torch.tensor([char_model.vocab.encode("the cat sat on the")])
    with torch.no_grad():
        expected, _ = char_model.net.eval()(ids)
        got, _ = loaded.net(ids)
    assert torch.allclose(expected, got, atol=0.05) and not torch.equal(expected, got)


def test_a_corrupted_weights_file_is_refused(char_model, tmp_path):
    folder = model_io.save(char_model, tmp_path / "m")
    weights = folder / model_io.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="does not match its manifest"):
        model_io.load(folder)


def test_missing_files_are_refused(char_model, tmp_path):
    folder = model_io.save(char_model, tmp_path / "m")
    (folder / model_io.WEIGHTS).unlink()
    with pytest.raises(SourceError, match="missing"):
        model_io.load(folder)
    (folder / model_io.MANIFEST).unlink()
    with pytest.raises(SourceError, match="No readable language model"):
        model_io.load(folder)
    with pytest.raises(SourceError):
        model_io.load(tmp_path / "never-written")


def test_an_inconsistent_or_foreign_manifest_is_refused(char_model, tmp_path):
    folder = model_io.save(char_model, tmp_path / "m")
    path = folder / model_io.MANIFEST
    manifest = json.loads(path.read_text())
    path.write_text(
        json.dumps({**manifest, "vocabulary": {"level": "char", "tokens": manifest["vocabulary"]["tokens"][:-1]}})
    )
    with pytest.raises(SourceError, match="inconsistent"):
        model_io.load(folder)
    path.write_text(json.dumps({**manifest, "format": model_io.FORMAT + 1}))
    with pytest.raises(SourceError, match="another format"):
        model_io.load(folder)
    path.write_text("{not json")
    with pytest.raises(SourceError, match="No readable language model"):
        model_io.load(folder)


def test_manifest_keeps_config_vocabulary_metrics_and_data_checksum(char_model, tmp_path):
    folder = model_io.save(char_model, tmp_path / "m")
    manifest = json.loads((folder / model_io.MANIFEST).read_text())
    assert manifest["config"] == dataclasses.asdict(char_model.config)
    assert manifest["vocabulary"] == {"level": "char", "tokens": list(char_model.vocab.tokens)}
    assert manifest["metrics"]["val_loss"] == pytest.approx(char_model.info["metrics"]["val_loss"])
    assert manifest["metrics"]["stopped_by"] == "step limit"
    assert manifest["data"]["sha256"] == sha256_bytes(CAT.encode("utf-8"))
    assert manifest["data"]["name"] == "the cat corpus"
    assert manifest["parameters"] == char_model.net.parameter_count()
    assert len(manifest["curve"]) == len(char_model.info["curve"])
    assert manifest["training"]["hidden_size"] == TINY.hidden_size


# ---------------------------------------------------------------- training


def test_training_learns_the_pattern_and_records_the_curve(char_run):
    model, curve = char_run.model, char_run.model.info["curve"]
    start, best = curve[0]["val_loss"], model.info["metrics"]["val_loss"]
    assert start > 0.8 * math.log(len(model.vocab))  # an untrained model is close to uniform
    assert best < 0.3 * start and best < 0.5 * math.log(len(model.vocab))
    assert best == pytest.approx(min(p["val_loss"] for p in curve))
    assert [p["step"] for p in curve] == list(range(0, TINY.max_steps + 1, TINY.eval_every))
    assert [dataclasses.asdict(e) for e in char_run.evaluations] == curve  # on_eval saw every point
    assert all(b["tokens_seen"] > a["tokens_seen"] for a, b in itertools.pairwise(curve))
    assert model.info["metrics"]["steps"] == TINY.max_steps
    _, val_text = split_text(CAT, TINY.val_fraction)
    assert loss_on(model, val_text) == pytest.approx(best, rel=1e-4)  # the best weights are the ones returned


def test_training_reports_progress_up_to_one(char_run):
    fractions = [f for f, _ in char_run.progress]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(fractions))
    assert "validation loss" in char_run.progress[-1][1]


def test_same_seed_gives_identical_weights_and_curve():
    config = dataclasses.replace(TINY, max_steps=20)
    first, second = train(CAT, config), train(CAT, config)
    a, b = first.net.state_dict(), second.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    strip = [{k: v for k, v in p.items() if k != "seconds"} for p in first.info["curve"]]
    assert strip == [{k: v for k, v in p.items() if k != "seconds"} for p in second.info["curve"]]
    other = train(CAT, dataclasses.replace(config, seed=1)).net.state_dict()
    assert not all(torch.equal(a[k], other[k]) for k in a)


def test_a_stop_event_ends_training_early_and_keeps_the_best_weights():
    stop = threading.Event()

    def on_eval(point):
        if point.step >= 20:
            stop.set()

    config = dataclasses.replace(TINY, max_steps=500)
    model = train(CAT, config, on_eval=on_eval, stop=stop)
    metrics = model.info["metrics"]
    assert metrics["stopped_by"] == "stopped by the user"
    assert metrics["steps"] == 20
    assert metrics["val_loss"] == pytest.approx(min(p["val_loss"] for p in model.info["curve"]))
    _, val_text = split_text(CAT, config.val_fraction)
    assert loss_on(model, val_text) == pytest.approx(metrics["val_loss"], rel=1e-4)


def test_training_can_continue_from_a_model_and_return_its_last_weights(char_model):
    dog = "the dog ran to the cat. " * 200  # the same characters, new words
    more = dataclasses.replace(TINY, max_steps=20, warmup_steps=0, learning_rate=3e-3, hidden_size=64, eval_every=10)
    continued = train(dog, more, validation_text=CAT, init=char_model, keep_best=False)
    assert continued.vocab.tokens == char_model.vocab.tokens  # the model's vocabulary, not one built from `dog`
    assert continued.config.hidden_size == char_model.config.hidden_size  # its architecture, not `more`'s
    before = dict(char_model.net.state_dict())
    assert any(not v.equal(before[k]) for k, v in continued.net.state_dict().items())  # it trained on
    curve = continued.info["curve"]
    assert curve[0]["val_loss"] < 1.0  # it started from the trained weights (a fresh model starts near log(vocab))
    assert continued.info["metrics"]["val_loss"] == curve[-1]["val_loss"]  # the last weights, not the best
    assert continued.info["metrics"]["best_step"] == 20
    assert loss_on(continued, dog) < loss_on(char_model, dog)


def test_without_a_weight_average_only_the_weights_are_measured(char_run):
    assert all(p["average_val_loss"] is None for p in char_run.model.info["curve"])
    assert char_run.model.info["metrics"]["best_weights"] == "weights"


def test_a_weight_average_is_measured_beside_the_weights_and_the_better_one_kept():
    # Random text at a high, constant learning rate: the weights chase noise and overfit, the average less so.
    text = random_text(4000)
    config = dataclasses.replace(
        TINY, hidden_size=64, learning_rate=2e-2, min_lr_ratio=1.0, ema_decay=0.9, max_steps=100
    )
    model = train(text, config)
    metrics, curve = model.info["metrics"], model.info["curve"]
    assert curve[0]["average_val_loss"] is None  # nothing averaged before the first step
    assert all(p["average_val_loss"] is not None for p in curve[1:])
    assert all(p["average_val_loss"] < p["val_loss"] for p in curve[1:])
    best = min(p["average_val_loss"] for p in curve[1:])
    assert metrics["best_weights"] == "weight average"
    assert metrics["val_loss"] == pytest.approx(best)
    assert metrics["best_step"] == next(p["step"] for p in curve[1:] if p["average_val_loss"] == best)
    _, val_text = split_text(text, config.val_fraction)
    assert loss_on(model, val_text) == pytest.approx(best, rel=1e-4)  # the averaged weights are the ones returned
    assert "by the running average of the weights" in textgen.model_card(model).split


def test_the_time_budget_ends_training():
    config = dataclasses.replace(TINY, max_steps=1_000_000, eval_every=1_000_000, max_seconds=1.0)
    started = time.perf_counter()
    model = train(CAT, config)
    metrics = model.info["metrics"]
    assert metrics["stopped_by"] == "time budget"
    assert 0 < metrics["steps"] < 1_000_000
    assert time.perf_counter() - started < 30  # not the million steps


def test_early_stopping_on_unlearnable_text_keeps_the_best_weights():
    text = random_text(4000)  # every character independent and uniform: nothing to learn beyond frequencies
    config = dataclasses.replace(TINY, hidden_size=64, learning_rate=2e-2, max_steps=400, eval_every=5, patience=3)
    model = train(text, config)
    metrics, curve = model.info["metrics"], model.info["curve"]
    assert metrics["stopped_by"] == "early stopping"
    assert metrics["steps"] < config.max_steps
    best = min(p["val_loss"] for p in curve)
    assert metrics["val_loss"] == pytest.approx(best) and curve[-1]["val_loss"] > best
    assert metrics["best_step"] == next(p["step"] for p in curve if p["val_loss"] == best)
    assert best > 0.9 * math.log(20)  # random text stays close to the uniform loss
    _, val_text = split_text(text, config.val_fraction)
    assert loss_on(model, val_text) == pytest.approx(best, rel=1e-4)


def test_gradient_clipping_is_validated_and_applied(monkeypatch):
    for bad in (0, -1.0, math.nan, 1e9):
        with pytest.raises(InputError, match="Gradient clipping norm"):
            train(CAT, dataclasses.replace(TINY, clip_norm=bad))
    seen = []
    real = torch.nn.utils.clip_grad_norm_

    def recording(parameters, max_norm, *args, **kwargs):
        seen.append(max_norm)
        return real(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", recording)
    train(CAT, dataclasses.replace(TINY, max_steps=3, clip_norm=0.25))
    assert seen == [0.25, 0.25, 0.25]


ABSURD = [
    ({"hidden_size": 0}, "Hidden units must be between 8 and 2048"),
    ({"learning_rate": 10.0}, "Learning rate must be between"),
    ({"dropout": 1.5}, "Dropout must be between 0 and 0.9"),
    ({"num_layers": 100}, "LSTM layers must be between 1 and 6"),
    ({"seq_len": 0}, "Sequence length must be between"),
    ({"learning_rate": math.nan}, "Learning rate must be a number"),
    ({"embed_dim": math.inf}, "Embedding size must be a number"),
    ({"batch_size": 0}, "Batch size must be between"),
    ({"max_steps": 0}, "Training steps must be between"),
    ({"val_fraction": 0.9}, "Validation fraction must be between"),
    ({"hidden_size": "256"}, "Hidden units must be a number"),
    ({"max_seconds": -5.0}, "time budget"),
    ({"hidden_size": 2048, "num_layers": 6}, "million weights: too big"),
    ({"ema_decay": 1.0}, "Weight-average decay must be between 0 and 0.9999"),
]


@pytest.mark.parametrize(
    ("changes", "message"), ABSURD, ids=[next(iter(c)) + str(i) for i, (c, _) in enumerate(ABSURD)]
)
def test_absurd_settings_raise_input_errors_naming_the_setting(changes, message):
    with pytest.raises(InputError, match=message):
        train(CAT, dataclasses.replace(TINY, **changes))


def test_an_unknown_level_raises_an_input_error():
    with pytest.raises(InputError, match=r"[Ll]evel"):
        train(CAT, dataclasses.replace(TINY, level="sentence"))


def test_a_fractional_layer_size_raises_an_input_error():
    with pytest.raises(InputError, match="Hidden units"):
        train(CAT, dataclasses.replace(TINY, hidden_size=32.5))


@pytest.mark.parametrize(
    ("text", "level", "message"),
    [
        ("a", Level.CHAR, "distinct characters"),
        ("a" * 500, Level.CHAR, "only 1 distinct character"),
        ("The quick brown fox jumps over the lazy dog again.", Level.CHAR, "at least 200"),
        ("the cat sat on the mat. " * 5, Level.WORD, "at least 60"),
    ],
    ids=["one-character", "one-distinct-character", "fifty-characters", "thirty-words"],
)
def test_a_corpus_too_short_is_refused(text, level, message):
    with pytest.raises(InputError, match=message):
        train(text, dataclasses.replace(TINY, level=level, min_count=1))


def test_word_level_training_learns(word_model):
    assert word_model.vocab.level is Level.WORD
    assert set(word_model.vocab.tokens[1:]) == {"the", "cat", "sat", "on", "mat", "."}
    curve = word_model.info["curve"]
    assert word_model.info["metrics"]["val_loss"] < 0.3 * curve[0]["val_loss"]
    assert word_model.info["data"]["unit"] == "words"
    pieces = list(generate(word_model, "the cat", 12, NO_FILTER))
    assert len(pieces) == 12 and all(p.strip() in word_model.vocab.tokens for p in pieces)


# ---------------------------------------------------------------- sampling

LOGITS = torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0])


def test_temperature_sharpens_and_flattens():
    base = filtered_probs(LOGITS, NO_FILTER)
    sharp = filtered_probs(LOGITS, dataclasses.replace(NO_FILTER, temperature=0.5))
    flat = filtered_probs(LOGITS, dataclasses.replace(NO_FILTER, temperature=2.0))
    assert torch.allclose(base, torch.softmax(LOGITS, -1))
    assert sharp[0] > base[0] > flat[0] and sharp[-1] < base[-1] < flat[-1]
    for p in (base, sharp, flat):
        assert p.sum().item() == pytest.approx(1.0) and (p > 0).all()


@pytest.mark.parametrize("k", [1, 2, 4])
def test_top_k_keeps_exactly_k_tokens(k):
    p = filtered_probs(LOGITS, dataclasses.replace(NO_FILTER, top_k=k))
    assert int((p > 0).sum()) == k and set(torch.nonzero(p).flatten().tolist()) == set(range(k))
    assert p.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize(("top_p", "kept"), [(0.5, 1), (0.8, 2), (0.9, 3), (0.97, 4), (1.0, 5)])
def test_top_p_keeps_the_smallest_set_reaching_p(top_p, kept):
    # softmax(LOGITS) is about 0.636, 0.234, 0.086, 0.032, 0.012: cumulative 0.636, 0.870, 0.956, 0.988, 1.
    p = filtered_probs(LOGITS, dataclasses.replace(NO_FILTER, top_p=top_p))
    assert int((p > 0).sum()) == kept and (p[:kept] > 0).all()
    assert p.sum().item() == pytest.approx(1.0)
    full = torch.softmax(LOGITS, -1)
    assert torch.allclose(p[:kept], full[:kept] / full[:kept].sum())


def test_generate_yields_length_tokens_reproducibly(char_model):
    config = SamplingConfig(seed=3)
    first = list(generate(char_model, "the cat", 50, config))
    assert len(first) == 50 and all(len(piece) == 1 for piece in first)
    assert first == list(generate(char_model, "the cat", 50, config))
    assert first != list(generate(char_model, "the cat", 50, SamplingConfig(temperature=2.0, top_p=1.0, seed=4)))
    assert "".join(first).startswith(" sat on the ")  # a well-learnt pattern is continued


def test_generate_handles_empty_and_unseen_prompts_and_never_emits_unknown(char_model):
    assert len(list(generate(char_model, "", 20))) == 20
    assert len(list(generate(char_model, "€€ ZZZ ¿", 20))) == 20
    # Make the unknown token by far the most likely: it must still never be emitted.
    biased = textgen.LanguageModel(model_io.LSTMLanguageModel(char_model.config), char_model.vocab, {})
    biased.net.load_state_dict(char_model.net.state_dict())
    with torch.no_grad():
        biased.net.head.bias[0] = 50.0
    text = "".join(generate(biased, "€€ the", 200, dataclasses.replace(NO_FILTER, temperature=5.0)))
    assert len(text) == 200 and UNK not in text


@pytest.mark.parametrize(
    ("length", "config", "message"),
    [
        (10, SamplingConfig(temperature=0), "Temperature"),
        (10, SamplingConfig(temperature=math.nan), "Temperature"),
        (10, SamplingConfig(top_k=-1), "Top-k"),
        (10, SamplingConfig(top_p=0), "Top-p"),
        (0, SamplingConfig(), "Length must be between 1 and"),
        (sampling.MAX_GENERATE + 1, SamplingConfig(), "Length must be between 1 and"),
        ("10", SamplingConfig(), "Length must be between 1 and"),
    ],
)
def test_invalid_sampling_settings_raise_input_errors(char_model, length, config, message):
    with pytest.raises(InputError, match=message):
        list(generate(char_model, "the", length, config))


def test_next_words_ranks_the_obvious_word_first(char_model):
    suggestions = next_words(char_model, "the cat", 5)
    assert len(suggestions) == 5
    assert suggestions[0].word == "sat" and suggestions[0].text == " sat"  # mid-word prompt: a space first
    assert all(s.text.startswith(" ") and s.text.strip() == s.word for s in suggestions)
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0 < p <= 1 for p in probabilities) and sum(probabilities) <= 1 + 1e-6
    assert len({s.word for s in suggestions}) == 5
    after_space = next_words(char_model, "the cat sat on the ", 3)
    assert len(after_space) == 3 and after_space[0].word == "mat"  # "on the" is always followed by "mat"
    assert all(not s.text.startswith(" ") for s in after_space)


def test_next_words_after_punctuation_start_with_a_space(char_model):
    suggestions = next_words(char_model, "the cat sat on the mat.", 3)
    assert suggestions[0].word == "the" and suggestions[0].text == " the"
    assert suggestions[0].probability > 0.5


def test_word_level_next_words(word_model):
    suggestions = next_words(word_model, "the cat", 3)
    assert suggestions[0].word == "sat" and suggestions[0].text == " sat"
    assert len(suggestions) == 3 and all(s.word.isalpha() for s in suggestions)  # no punctuation, no unknown
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True) and all(0 < p <= 1 for p in probabilities)
    assert next_words(word_model, "the cat ", 1)[0].text == "sat"


def test_word_generation_after_a_trailing_space_adds_no_second_space(word_model):
    greedy = SamplingConfig(temperature=0.05, top_p=1.0, seed=0)
    assert next(generate(word_model, "the cat", 1, greedy)) == " sat"  # the spacing after a word is right
    assert next(generate(word_model, "the cat ", 1, greedy)) == "sat"
    ngram_model = NGramModel.fit(CAT, Level.WORD, order=3)
    assert not next(ngram_model.generate("the cat ", 1, temperature=0.05)).startswith(" ")


def test_perplexity_and_loss(char_model):
    loss = loss_on(char_model, "the cat sat on the mat. " * 3)
    assert 0 < loss < 0.5 * math.log(len(char_model.vocab))
    assert textgen.perplexity(char_model, "the cat sat on the mat. ") == pytest.approx(
        math.exp(loss_on(char_model, "the cat sat on the mat. "))
    )
    assert loss_on(char_model, "zq!zq!zq!zq!") > loss
    with pytest.raises(InputError, match="at least two tokens"):
        loss_on(char_model, "t")


# ---------------------------------------------------------------- n-gram baseline

SENTENCES = [
    "the cat sat on the mat.",
    "a dog ran in the park.",
    "the bird sang on the tree.",
    "my fish swam in a bowl.",
]
_RNG = random.Random(0)
VARIED = " ".join(_RNG.choice(SENTENCES) for _ in range(400))  # about 9,000 characters, four sentences in random order


@pytest.mark.parametrize("level", [Level.CHAR, Level.WORD])
def test_ngram_next_probs_sum_to_one_for_seen_and_unseen_contexts(level):
    model = NGramModel.fit(VARIED, level, order=3)
    seen = model.vocab.encode("the cat sat on the")[-2:]
    unseen = model.vocab.encode("bowl bowl" if level is Level.WORD else "..")[-2:]  # never seen together
    for history in (seen, unseen, [], [0, 0]):
        p = model.next_probs(history)
        assert p.shape == (len(model.vocab),) and p.sum() == pytest.approx(1.0) and (p > 0).all()
    after = model.next_probs(model.vocab.encode("on the" if level is Level.WORD else "t th")[-2:])
    expected = {"mat", "tree"} if level is Level.WORD else {"e"}
    assert model.vocab.tokens[int(np.argmax(after))] in expected and after.max() > 0.4


def test_ngram_training_loss_falls_with_order():
    text = corpus.bundled().text
    losses = [NGramModel.fit(text, order=n).loss(text) for n in range(1, 6)]
    assert all(b < a for a, b in itertools.pairwise(losses)), losses


def test_a_higher_order_beats_the_unigram_on_held_out_text():
    train_text, held_out = VARIED[: int(0.8 * len(VARIED))], VARIED[int(0.8 * len(VARIED)) :]
    vocab = Vocabulary.build(train_text, Level.CHAR)
    unigram = NGramModel.fit(train_text, order=1, vocab=vocab).loss(held_out)
    five = NGramModel.fit(train_text, order=5, vocab=vocab).loss(held_out)
    assert five < 0.5 * unigram
    best, losses = best_order(train_text, held_out, orders=range(1, 7))
    assert set(losses) == set(range(1, 7)) and best == min(losses, key=losses.get) and best > 1
    assert losses[5] == pytest.approx(five)


def test_ngram_generate_is_reproducible_and_has_the_asked_length():
    for level in (Level.CHAR, Level.WORD):
        model = NGramModel.fit(VARIED, level, order=4)
        first = list(model.generate("the", 40, seed=1))
        assert len(first) == 40 and first == list(model.generate("the", 40, seed=1))
        assert first != list(model.generate("the", 40, seed=2))
        assert all(piece.strip() != UNK for piece in first)
    assert len(list(NGramModel.fit(VARIED, order=3).generate("", 10))) == 10


def test_ngram_bad_orders_are_refused():
    with pytest.raises(InputError, match="from 1 to 12"):
        NGramModel.fit(VARIED, order=13)
    with pytest.raises(InputError, match="from 1 to 12"):
        NGramModel.fit(VARIED, order=0)
    many_words = " ".join(f"w{i}" for i in range(2000))
    with pytest.raises(InputError, match="too large"):
        NGramModel.fit(many_words, Level.WORD, order=6)
    with pytest.raises(InputError, match="needs more text"):
        NGramModel.fit("abab", order=5)


def test_ngram_on_tiny_shakespeare_matches_the_known_figure(shared_data):
    text = (require_dataset(shared_data, "tiny-shakespeare") / "input.txt").read_text(encoding="utf-8")
    cut = int(0.9 * len(text))
    loss = NGramModel.fit(text[:cut], Level.CHAR, order=5).loss(text[cut:])
    assert 1.45 <= loss <= 1.75, loss


# ---------------------------------------------------------------- corpora and uploads


def test_the_bundled_corpus():
    bundled = corpus.bundled()
    assert bundled.characters > 20_000 and bundled.name == corpus.BUNDLED_TITLE
    assert bundled.sha256 == sha256_bytes(bundled.text.encode("utf-8"))
    assert len(set(bundled.text)) > 30


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.txt", "is empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "picture.txt", "not a text file"),
        (bytes(random.Random(0).randrange(256) for _ in range(4000)) + b"\x00" * 100, "noise.txt", "binary data"),
        (b"The quick brown fox. " * 1_300_000, "huge.txt", "the limit is 25 MB"),
        (b"x", "one.txt", "only 1 character of"),
        (b"a" * 500, "aaaa.txt", "repeats a single character"),
        (b"The quick brown fox jumps over the lazy dog.", "short.txt", "at least 200"),
        (b"some text " * 50, "notes.exe", "unsupported type"),
    ],
    ids=["empty", "png", "binary", "27MB", "one-character", "one-distinct-character", "short", "exe"],
)
def test_bad_uploads_are_refused_with_a_message(data, filename, message):
    with pytest.raises(InputError, match=message) as info:
        corpus.from_upload(data, filename)
    assert filename in str(info.value)  # the message names the file


def test_a_text_upload_works():
    text = corpus.bundled().text[:5000]
    upload = corpus.from_upload(text.encode("utf-8"), "fables.txt")
    assert upload.name == "fables.txt" and upload.source == "your upload"
    assert upload.text == corpus.from_text(text, "x").text and upload.characters > 4000


def test_a_pdf_upload_works():
    paragraphs = [
        "Once upon a time a small fox lived at the edge of a great forest, and every morning it ran to the river.",
        "The river was wide and cold, and the fox watched the fish swim past the stones and the reeds.",
        "One day an old heron came to the river and asked the fox why it never tried to catch a fish itself.",
    ]
    upload = corpus.from_upload(text_pdf([paragraphs, paragraphs[::-1]]), "story.pdf")
    assert "old heron" in upload.text and "small fox" in upload.text and upload.characters > 200


# ---------------------------------------------------------------- pretrained GPT-2


@pytest.fixture(scope="module")
def tiny_gpt2_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("gpt2-models")
    make_tiny_gpt2(root / gpt2.DISTILGPT2.name)
    return root


@pytest.fixture
def tiny_gpt2(tiny_gpt2_root, monkeypatch):
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tiny_gpt2_root))
    lm, resolved = gpt2.load()
    assert resolved.kind == "local directory" and resolved.spec is gpt2.DISTILGPT2
    return lm


def test_gpt2_loads_from_the_model_directory(tiny_gpt2, tiny_gpt2_root):
    assert isinstance(tiny_gpt2, gpt2.PretrainedLM)
    assert tiny_gpt2.path == tiny_gpt2_root / "distilgpt2" and tiny_gpt2.title == gpt2.DISTILGPT2.title


def test_gpt2_generate_streams_reproducible_pieces(tiny_gpt2):
    config = SamplingConfig(temperature=1.0, top_p=1.0, seed=7)
    pieces = list(tiny_gpt2.generate("Hello there", 20, config))
    assert pieces and all(isinstance(p, str) and p for p in pieces)
    assert pieces == list(tiny_gpt2.generate("Hello there", 20, config))
    assert pieces != list(tiny_gpt2.generate("Hello there", 20, dataclasses.replace(config, seed=8)))
    assert list(tiny_gpt2.generate("", 5, config))  # an empty prompt starts from the BOS token
    with pytest.raises(InputError, match="Length"):
        list(tiny_gpt2.generate("Hello", 0, config))


def test_gpt2_generation_stops_at_its_context_length(tiny_gpt2):
    pieces = list(tiny_gpt2.generate("Hi", 200, SamplingConfig(seed=0)))
    assert 0 < len(pieces) <= 64  # n_positions is 64: it stops instead of failing


def test_gpt2_next_words_and_loss(tiny_gpt2):
    suggestions = tiny_gpt2.next_words("Hello", 5)
    assert 1 <= len(suggestions) <= 5
    assert all(s.word and s.word[0].isalnum() and s.text.endswith(s.word) for s in suggestions)
    assert all(s.text.startswith(" ") for s in suggestions)  # the prompt ends inside a word
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True) and all(0 < p <= 1 for p in probabilities)
    loss = tiny_gpt2.loss("The quick brown fox jumps over the lazy dog. " * 3)
    assert math.isfinite(loss) and 0 < loss < 2 * math.log(257)  # one byte per token: about log(257) per char
    assert tiny_gpt2.perplexity("Hello world, hello.") == pytest.approx(math.exp(tiny_gpt2.loss("Hello world, hello.")))
    with pytest.raises(InputError, match="two tokens"):
        tiny_gpt2.loss("a")


def favour_the(lm: gpt2.PretrainedLM) -> gpt2.PretrainedLM:
    """Make the token " the" by far the most likely next token of ``lm``."""
    real, the = lm.model, lm.tokenizer.convert_tokens_to_ids(THE)

    def model(**kwargs):
        out = real(**kwargs)
        out.logits[..., the] += 100.0
        return out

    model.config = real.config
    lm.model = model
    return lm


def test_gpt2_next_word_with_a_leading_space_after_a_word(tiny_gpt2):
    best = favour_the(tiny_gpt2).next_words("Hello", 3)[0]
    assert best.word == "the" and best.text == " the" and best.probability > 0.99


def test_gpt2_next_word_after_a_space_has_no_second_space(tiny_gpt2):
    best = favour_the(tiny_gpt2).next_words("Hello ", 3)[0]
    assert best.word == "the" and best.text == "the"


def test_gpt2_second_rung_is_gpt2_small(tmp_path, monkeypatch):
    make_tiny_gpt2(tmp_path / gpt2.GPT2.name)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))
    lm, resolved = gpt2.load()
    assert lm is not None and resolved.spec is gpt2.GPT2


def test_gpt2_offline_without_a_model_folder(tmp_path, monkeypatch):
    from huggingface_hub import constants

    (tmp_path / "models").mkdir()
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("GALLERY_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))  # an empty Hugging Face cache
    lm, resolved = gpt2.load()
    assert lm is None and resolved.is_offline and resolved.path is None
    assert "not available" in resolved.notice


# ---------------------------------------------------------------- the shipped model (part of the product)


@functools.cache
def shipped() -> textgen.LanguageModel:
    """The shipped model; a missing model raises SourceError, which fails (never skips) these tests."""
    return textgen.load_shipped()


def test_the_shipped_model_generates_fast():
    model = shipped()
    started = time.perf_counter()
    text = "".join(generate(model, "ROMEO:\n", 200, SamplingConfig(seed=0)))
    elapsed = time.perf_counter() - started
    assert len(text) == 200 and UNK not in text
    assert elapsed < 5.0, f"200 characters took {elapsed:.1f} s"  # a generous guard; benchmarks measure speed


def test_the_shipped_model_suggests_next_words():
    suggestions = next_words(shipped(), "ROMEO:\nI will", 5)
    assert len(suggestions) == 5
    assert all(s.word.isalpha() or "'" in s.word for s in suggestions)
    assert all(s.text.startswith((" ", "\n")) for s in suggestions)
    probabilities = [s.probability for s in suggestions]
    assert probabilities == sorted(probabilities, reverse=True) and all(0 < p <= 1 for p in probabilities)


def test_the_shipped_manifest_records_data_metrics_and_vocabulary():
    manifest = model_io.read_manifest(textgen.SHIPPED_DIR)
    assert manifest["data"]["sha256"] == SHAKESPEARE_SHA256
    assert len(manifest["vocabulary"]["tokens"]) == 66 and manifest["vocabulary"]["level"] == "char"
    val_loss = manifest["metrics"]["val_loss"]
    assert isinstance(val_loss, float) and 0.5 < val_loss < 2.5
    model = shipped()
    assert len(model.vocab) == 66 and model.info["metrics"]["val_loss"] == val_loss


def test_the_shipped_model_card():
    card = textgen.model_card(shipped()).to_markdown()
    assert "Tiny Shakespeare" in card and "validation loss" in card
    assert f"{shipped().info['metrics']['val_loss']:.4f}" in card
    assert "Karpathy" in card  # its citation


# ---------------------------------------------------------------- model card


def test_model_card_names_the_data_and_the_validation_loss(char_model, tmp_path):
    card = textgen.model_card(char_model)
    markdown = card.to_markdown()
    val_loss = char_model.info["metrics"]["val_loss"]
    assert "the cat corpus" in markdown
    assert "validation loss (nats per token)" in markdown and f"{val_loss:.4f}" in markdown
    assert f"{math.exp(val_loss):.4f}" in markdown
    assert "1-layer character-level LSTM (32 units" in markdown
    assert "step limit" in markdown and sha256_bytes(CAT.encode())[:12] in markdown
    reloaded = textgen.model_card(model_io.load(model_io.save(char_model, tmp_path / "m")))
    assert reloaded.metrics == card.metrics and reloaded.data == card.data
    assert textgen.model_card(char_model, name="My model").model == "My model"

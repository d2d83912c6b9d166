"""Tiny randomly initialised transformer models saved locally, for tests of the pretrained code paths.

This is how transformers tests its own pipelines: a config with a few small layers,
random weights, a real tokenizer over a small vocabulary. Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

# A small English vocabulary: enough for the words tests feed in; the rest become [UNK].
WORDS = [
    "the", "a", "an", "and", "or", "but", "not", "no", "is", "was", "are", "were", "be", "been",
    "it", "this", "that", "i", "you", "he", "she", "we", "they", "my", "your", "good", "great",
    "love", "loved", "excellent", "amazing", "best", "nice", "happy", "fine", "wonderful",
    "perfect", "recommend", "bad", "terrible", "awful", "hate", "hated", "worst", "poor", "boring",
    "broken", "waste", "disappointed", "sad", "angry", "movie", "film", "phone", "food", "service",
    "place", "battery", "price", "quality", "product", "time", "story", "acting", "very", "really",
    "so", "too", "just", "ok", "okay", "still", "never", "ever", "again", "would", "will", "can",
    "could", "do", "did", "to", "of", "in", "on", "at", "for", "with", "from", "by", "as", "about",
    "after", "before", "over", "under", "up", "down", "out", "news", "report", "said", "says",
    "year", "day", "people", "city", "government", "company", "market", "world", "team", "summary",
    "document", "article", "sentence", "first", "second", "third", "last", "new", "old", "long",
    "short"
]  # fmt: skip
SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PUNCTUATION = tuple(".,!?;:'\"()-")


def make_tiny_bert(folder: Path, *, seed: int = 0, head: str = "", **config: object) -> Path:
    """Write a 2-layer, 32-wide random BERT and its WordPiece tokenizer to ``folder``.

    Args:
        folder: Where to save it.
        seed: torch seed for the random weights.
        head: "" for the bare encoder (``BertModel``), "classifier" for ``BertForSequenceClassification``.
        **config: Extra ``BertConfig`` fields (``num_labels``, ``id2label``...).

    Returns:
        ``folder``, which ``from_pretrained`` of the model class and ``AutoTokenizer`` load.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join((*SPECIAL, *PUNCTUATION, *sorted(set(WORDS)))) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(vocab), do_lower_case=True)  # transformers 5: `vocab`, not `vocab_file`
    tokenizer.save_pretrained(folder)
    settings = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        **config,
    )
    torch.manual_seed(seed)
    model_class = {"": BertModel, "classifier": BertForSequenceClassification}[head]
    model_class(settings).save_pretrained(folder)
    return folder

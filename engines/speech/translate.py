"""English to other languages with Helsinki-NLP's opus-mt Marian models through transformers, offline first.

One model per target language (``Helsinki-NLP/opus-mt-en-<code>``, about 300 MB each), found on the usual
ladder (``GALLERY_MODEL_DIR/opus-mt-en-<code>``, the Hugging Face cache, a download when allowed). Without one
the page shows the transcript untranslated. Marian tokenizers need the ``sentencepiece`` package.
Translation is batched, inputs are truncated to the model's length limit, and generation is greedy-ish and
bounded (about twice the input's tokens), so a call always ends.
"""

from __future__ import annotations

from typing import Any

from engines.core.errors import InputError, SourceError
from engines.core.model_sources import ModelSpec, ResolvedModel, from_folder, load_first, quiet_transformers
from engines.core.progress import Progress, null_progress

# Only languages with a single-target Helsinki-NLP/opus-mt-en-<code> model: en-zh and en-ar need a >>lang<< token
# first, and there is no opus-mt-en-pt.
TARGETS: dict[str, str] = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "sv": "Swedish",
    "fi": "Finnish",
}
OFFLINE = "no translation (the transcript is shown untranslated)"
BATCH = 8  # texts per generate call
MAX_INPUT_TOKENS = 512  # Marian's position table
MAX_NEW_TOKENS = 256  # the hard bound on one translation
NUM_BEAMS = 2  # most of beam search's gain at a fraction of opus-mt's default 4 beams, on a CPU


def check_target(code: Any) -> str:
    """``code`` as a supported target language code ("de").

    Raises:
        InputError: for anything else; the message lists the supported languages.
    """
    key = code.strip().lower() if isinstance(code, str) else None
    if key not in TARGETS:
        supported = ", ".join(f"{c} ({name})" for c, name in TARGETS.items())
        raise InputError(f"Cannot translate into {code!r}: choose one of {supported}.")
    return key


def spec(code: str) -> ModelSpec:
    """The opus-mt model that translates English into ``code``."""
    code = check_target(code)
    return ModelSpec(
        name=f"opus-mt-en-{code}",
        title=f"opus-mt English → {TARGETS[code]} (Helsinki-NLP Marian, 75M parameters, 300 MB)",
        offline=OFFLINE,
        hub_id=f"Helsinki-NLP/opus-mt-en-{code}",
    )


class Translator:
    """A loaded English-to-``target`` model and its tokenizer.

    Attributes:
        name: Shown on pages ("opus-mt English → German").
        target: The target language code.
        resolved: Where the model was found.
    """

    def __init__(self, model: Any, tokenizer: Any, resolved: ResolvedModel, target: str) -> None:
        self.model, self.tokenizer, self.resolved, self.target = model.eval(), tokenizer, resolved, target
        self.name = resolved.spec.title.split(" (")[0]
        limits = [MAX_INPUT_TOKENS]
        tokenizer_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(tokenizer_max, int) and 0 < tokenizer_max < 100_000:
            limits.append(tokenizer_max)
        positions = getattr(model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            limits.append(positions)
        self.max_input = max(8, min(limits))
        # The decoder cannot go past its position table either: a small model stops early rather than crash
        self.max_new_cap = MAX_NEW_TOKENS
        if isinstance(positions, int) and positions > 2:
            self.max_new_cap = min(self.max_new_cap, positions - 2)

    @property
    def notice(self) -> str:
        """Which model is in use, and where it was found."""
        return self.resolved.notice

    def _batch(self, texts: list[str]) -> list[str]:
        import torch  # here, not at the top: the page imports this module for its language list on every visit

        batch = self.tokenizer(texts, truncation=True, max_length=self.max_input, padding=True, return_tensors="pt")
        longest = int(batch["attention_mask"].sum(dim=1).max())
        with quiet_transformers(), torch.inference_mode():
            output = self.model.generate(
                **batch,
                max_new_tokens=max(1, min(self.max_new_cap, 2 * longest + 10)),
                num_beams=NUM_BEAMS,
                do_sample=False,
            )
        return [text.strip() for text in self.tokenizer.batch_decode(output, skip_special_tokens=True)]

    def translate(self, texts: list[str]) -> list[str]:
        """One translation per text, in order; '' for an empty or blank text (or None).

        Raises:
            InputError: when ``texts`` is not a list of strings.
        """
        if isinstance(texts, (str, bytes)) or not isinstance(texts, (list, tuple)):
            raise InputError("Pass a list of texts to translate (one string per segment).")
        if any(text is not None and not isinstance(text, str) for text in texts):
            raise InputError("Every text to translate must be a string.")
        clean = [" ".join(text.split()) if text else "" for text in texts]
        result = [""] * len(clean)
        todo = [i for i, text in enumerate(clean) if text]
        for start in range(0, len(todo), BATCH):
            chosen = todo[start : start + BATCH]
            for i, translated in zip(chosen, self._batch([clean[i] for i in chosen]), strict=True):
                result[i] = translated
        return result


def _loader(code: str):
    def load(resolved: ResolvedModel) -> Translator:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        tokenizer, model = from_folder(resolved, "a translation model", AutoTokenizer, AutoModelForSeq2SeqLM)
        if not getattr(model.config, "is_encoder_decoder", False):
            raise SourceError(f"{resolved.path} holds a {model.config.model_type} model, not a translation model.")
        return Translator(model, tokenizer, resolved, code)

    return load


def load_translator(code: str, progress: Progress = null_progress) -> Translator:
    """The English-to-``code`` model, found offline first.

    Raises:
        InputError: for an unsupported language code.
        SourceError: when the model is not available; the message says where it looked and how to provide it.
    """
    code = check_target(code)
    model = spec(code)
    try:
        return load_first(model, _loader(code), f"English → {TARGETS[code]} translation model", progress)
    except SourceError as exc:
        raise SourceError(
            f"{exc} For translation, save both MarianMTModel.from_pretrained('{model.hub_id}') and "
            f"MarianTokenizer.from_pretrained('{model.hub_id}') (needs sentencepiece) with save_pretrained into "
            f"GALLERY_MODEL_DIR/{model.name}."
        ) from exc

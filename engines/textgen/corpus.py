"""Where training text comes from: the bundled fables, Tiny Shakespeare, or an upload.

Every corpus is cleaned the same way (Unicode NFC, control characters removed,
line breaks kept) and capped in length, and carries its name, provenance and
checksum so the model card can say exactly what a model was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engines.core.data_sources import DatasetSpec, RemoteFile, resolve_dataset
from engines.core.documents import read_document
from engines.core.errors import InputError
from engines.core.hashing import sha256_bytes
from engines.core.progress import Progress, null_progress
from engines.core.text import clean_text
from engines.registry import ROOT

MAX_CORPUS_CHARS = 2_000_000  # about two Tiny Shakespeares; more is cut (with a note) so training stays interactive
BUNDLED_PATH = ROOT / "data" / "textgen" / "fables.txt"
BUNDLED_TITLE = "Fables of the Gallery (written for this project)"

SHAKESPEARE = DatasetSpec(
    name="tiny-shakespeare",
    title="Tiny Shakespeare",
    files={"input.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"},
    remote={
        "input.txt": RemoteFile(
            "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt"
        )
    },
    citation="Andrej Karpathy, char-rnn (2015): tinyshakespeare, a concatenation of works of Shakespeare.",
    licence="Shakespeare's text is in the public domain; char-rnn is MIT-licensed.",
    homepage="https://github.com/karpathy/char-rnn",
)


@dataclass(frozen=True)
class Corpus:
    """A training text and where it came from."""

    name: str  # shown on the page and in the model card
    text: str
    source: str  # bundled, upload, or the dataset's provenance
    notes: tuple[str, ...] = field(default=())  # what cleaning changed

    @property
    def sha256(self) -> str:
        """Checksum of the text (kept in the model's manifest)."""
        return sha256_bytes(self.text.encode("utf-8"))

    @property
    def characters(self) -> int:
        """Length in characters."""
        return len(self.text)


def from_text(raw: str, name: str, source: str = "typed") -> Corpus:
    """Clean and cap ``raw`` (InputError when nothing usable is left)."""
    if not isinstance(raw, str):
        raise InputError("The corpus must be text.")
    clean = clean_text(raw, max_chars=MAX_CORPUS_CHARS, what="corpus")
    return Corpus(name, clean.text, source, tuple(clean.notes))


def bundled() -> Corpus:
    """The short text written by this project (the offline default)."""
    return from_text(BUNDLED_PATH.read_text(encoding="utf-8"), BUNDLED_TITLE, "bundled with the gallery")


def shakespeare(progress: Progress = null_progress) -> Corpus:
    """Tiny Shakespeare from the data directory, the cache or the publisher (SourceError when unavailable)."""
    resolved = resolve_dataset(SHAKESPEARE, progress)
    raw = resolved.paths["input.txt"].read_text(encoding="utf-8")
    return from_text(raw, SHAKESPEARE.title, resolved.notice)


def from_upload(data: bytes, filename: str) -> Corpus:
    """An uploaded TXT, Markdown, PDF or DOCX file as a corpus (read in memory, never saved)."""
    document = read_document(data, filename)
    corpus = from_text(document.text, filename, "your upload")
    if len(corpus.text) < 200:
        raise InputError(
            f"`{filename}` holds only {len(corpus.text):,} character{'' if len(corpus.text) == 1 else 's'} of text; a language model needs at least 200. "
            "Upload a longer text."
        )
    distinct = len(set(corpus.text))
    if distinct < 2:
        raise InputError(
            f"`{filename}` repeats a single character ({corpus.text[0]!r}); there is nothing to predict. "
            "Upload real text."
        )
    return corpus

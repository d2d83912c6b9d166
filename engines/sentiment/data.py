"""Labelled sentences for the sentiment analyzer: UCI Sentiment Labelled Sentences, or the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engines.core.data_sources import DatasetSpec, RemoteFile, ResolvedDataset, resolve_dataset
from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress

ROOT = Path(__file__).resolve().parents[2]
LABELS = ("negative", "neutral", "positive")  # the three classes the analyzer reports
SOURCES = {  # original file -> short source name used in tables
    "amazon_cells_labelled.txt": "amazon",
    "imdb_labelled.txt": "imdb",
    "yelp_labelled.txt": "yelp",
}
ZIP_FOLDER = "sentiment labelled sentences/"
UCI_ZIP = "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
MIN_PER_CLASS = 10  # fewer positive or negative examples than this cannot train a classifier

UCI_SENTENCES = DatasetSpec(
    name="sentiment-labelled-sentences",
    title="UCI Sentiment Labelled Sentences (Kotzias et al., 3,000 sentences from Amazon, IMDb, Yelp)",
    files={
        # Pinned: the shared copy matches an independent pin of the UCI zip member.
        "amazon_cells_labelled.txt": "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3",
        # Not pinned: the shared copies (from a GitHub mirror) differ from a third party's pins of the
        # UCI zip members, so we cannot vouch for either checksum; the parser counts rows instead.
        "imdb_labelled.txt": None,
        "yelp_labelled.txt": None,
    },
    remote={name: RemoteFile(UCI_ZIP, member=ZIP_FOLDER + name) for name in SOURCES},
    sample=ROOT / "data" / "sentiment_sample.tsv",
    citation=(
        "Kotzias, D., Denil, M., de Freitas, N., Smyth, P. From Group to Individual Labels using Deep Features. "
        "KDD 2015. UCI Machine Learning Repository, doi:10.24432/C57604."
    ),
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    homepage="https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences",
)


def parse_labelled_file(path: Path, source: str) -> pd.DataFrame:
    """Read one UCI file: ``sentence<TAB>0|1`` per line, no header, no quoting.

    The label is split off the *last* tab, so quotes and stray tabs inside a sentence never
    merge or split lines (pandas' default quoting reads about 748 of IMDb's 1,000 rows).

    Raises:
        InputError: for a line without a 0/1 label after its last tab.
    """
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        text, _, label = line.rpartition("\t")
        label = label.strip()
        if not _ or label not in ("0", "1"):
            raise InputError(
                f"{Path(path).name}, line {number}: expected 'sentence<TAB>0' or 'sentence<TAB>1', got {line[:60]!r}."
            )
        rows.append((text.strip(), "positive" if label == "1" else "negative", source))
    return pd.DataFrame(rows, columns=["text", "label", "source"])


def parse_uci(paths: dict[str, Path]) -> pd.DataFrame:
    """The three UCI files as one frame (``text``, ``label``, ``source``), in file order."""
    frames = [parse_labelled_file(paths[name], source) for name, source in SOURCES.items() if name in paths]
    return validate_training_frame(pd.concat(frames, ignore_index=True))


def parse_sample(path: Path) -> pd.DataFrame:
    """The bundled sample: header ``text<TAB>label<TAB>domain``; the domain becomes ``source``."""
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3, encoding="utf-8")
    return validate_training_frame(frame.rename(columns={"domain": "source"}))


def validate_training_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a labelled frame; returns a clean copy with ``text``, ``label`` and ``source``.

    Labels may be negative/neutral/positive or 0/1 (UCI's coding). Neutral rows are kept for
    evaluation; classifiers learn from the positive and negative rows.

    Raises:
        InputError: when a column is missing, a label is unknown, or a class is too small.
    """
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        raise InputError(f"Training data needs columns 'text' and 'label'; missing: {', '.join(sorted(missing))}.")
    frame = frame.copy()
    if "source" not in frame.columns:
        frame["source"] = "data"
    frame = frame[["text", "label", "source"]].astype(str)
    label = frame["label"].str.strip().str.lower().replace({"1": "positive", "0": "negative"})
    bad = sorted(set(label) - set(LABELS))
    if bad:
        raise InputError(
            f"Labels must be positive, negative or neutral (or 1/0); found {', '.join(map(repr, bad[:5]))}."
        )
    frame = frame.assign(label=label, text=frame["text"].str.strip())
    frame = frame[frame["text"] != ""]
    counts = frame["label"].value_counts()
    if counts.get("positive", 0) < MIN_PER_CLASS or counts.get("negative", 0) < MIN_PER_CLASS:
        raise InputError(f"Training needs at least {MIN_PER_CLASS} positive and {MIN_PER_CLASS} negative sentences.")
    return frame.reset_index(drop=True)


def load_dataset(progress: Progress = null_progress) -> tuple[ResolvedDataset, pd.DataFrame]:
    """Resolve UCI Sentiment Labelled Sentences (or the bundled sample) and parse it.

    Returns:
        The provenance and a frame with columns ``text``, ``label`` and ``source``.
    """
    resolved = resolve_dataset(UCI_SENTENCES, progress)
    if resolved.is_sample:
        return resolved, parse_sample(resolved.paths["sample"])
    return resolved, parse_uci(dict(resolved.paths))

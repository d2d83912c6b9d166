"""A transcript: its segments, their translations, exports (TXT, SRT) and an analysis (sentiment, keywords)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from engines.speech.segments import Segment

WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def srt_time(seconds: float) -> str:
    """Seconds as an SRT timestamp, ``HH:MM:SS,mmm``."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def to_srt(segments: list[Segment], translations: list[str] | None = None) -> str:
    """SubRip subtitles: one cue per final segment (its translation on a second line when given)."""
    cues = []
    finals = [s for s in segments if s.final and s.text.strip()]
    for i, segment in enumerate(finals, start=1):
        end = max(segment.end, segment.start + 0.5)
        lines = [segment.text.strip()]
        if translations and i - 1 < len(translations) and translations[i - 1].strip():
            lines.append(translations[i - 1].strip())
        cues.append(f"{i}\n{srt_time(segment.start)} --> {srt_time(end)}\n" + "\n".join(lines) + "\n")
    return "\n".join(cues)


def to_text(segments: list[Segment], translations: list[str] | None = None, language: str = "") -> str:
    """Plain text: the transcript, one utterance per line, then the translation when given."""
    finals = [s.text.strip() for s in segments if s.final and s.text.strip()]
    text = "\n".join(finals)
    if translations and any(t.strip() for t in translations):
        text += f"\n\n--- Translation{f' ({language})' if language else ''} ---\n" + "\n".join(
            t.strip() for t in translations
        )
    return text + "\n" if text else ""


@dataclass(frozen=True)
class Analysis:
    """What the transcript says, roughly."""

    words: int
    sentiment: float  # VADER's compound score of the whole transcript, -1..1
    label: str  # positive / negative / neutral (VADER's own +-0.05 rule)
    per_segment: tuple[float, ...]  # the same score per final segment
    keywords: tuple[tuple[str, int], ...]  # (word, count), most frequent content words first


def keywords(text: str, top: int = 8) -> list[tuple[str, int]]:
    """The most frequent content words (English stop words and words under 3 letters left out)."""
    from engines.core.text import ENGLISH_STOPWORDS

    words = [w.lower().strip("'") for w in WORD.findall(text)]
    counts = Counter(w for w in words if len(w) >= 3 and w not in ENGLISH_STOPWORDS)
    return counts.most_common(top)


def analyse(segments: list[Segment]) -> Analysis:
    """Sentiment (VADER, from the sentiment engine) and keywords of the final segments."""
    from engines.sentiment.scorers import VaderScorer

    finals = [s.text.strip() for s in segments if s.final and s.text.strip()]
    text = " ".join(finals)
    scorer = VaderScorer()
    whole = float(scorer.scores([text])[0]) if text else 0.0
    label = "positive" if whole >= 0.05 else "negative" if whole <= -0.05 else "neutral"
    return Analysis(
        words=len(WORD.findall(text)),
        sentiment=whole,
        label=label,
        per_segment=tuple(float(v) for v in scorer.scores(finals)) if finals else (),
        keywords=tuple(keywords(text)),
    )


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words, on lower-cased words.

    Punctuation is ignored and digits are kept as written (so "1, 2, 3" against "one two three" counts
    three errors, as a strict WER does).
    """
    ref = re.findall(r"[a-z0-9']+", reference.lower())
    hyp = re.findall(r"[a-z0-9']+", hypothesis.lower())
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / len(ref)

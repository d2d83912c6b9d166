"""Text normalisation and the hand-made spam indicators.

The indicators follow the seed article's list (suspicious phrases, excessive
punctuation, promotional keywords, link-heavy content) plus the patterns that
mark SMS spam in particular (premium numbers, short codes, money amounts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|co\.uk|biz|info)\b", re.IGNORECASE)
LONG_NUMBER_RE = re.compile(r"\b\d{5,}\b")
MONEY_RE = re.compile(r"[£$€]\s?\d[\d,.]*|\b\d+\s?(?:p|pence|gbp|usd|eur)\b", re.IGNORECASE)
PROMO_WORDS = (
    "free",
    "win",
    "won",
    "winner",
    "prize",
    "claim",
    "cash",
    "award",
    "urgent",
    "offer",
    "guaranteed",
    "bonus",
    "txt",
    "text",
    "reply",
    "call",
    "mobile",
    "voucher",
    "selected",
    "congratulations",
    "subscribe",
    "ringtone",
    "entry",
    "draw",
    "discount",
    "deal",
    "loan",
)
PROMO_RE = re.compile(r"\b(?:" + "|".join(PROMO_WORDS) + r")\b", re.IGNORECASE)
SUSPICIOUS_PHRASES = (
    "you have won",
    "you have been selected",
    "claim your",
    "call now",
    "act now",
    "limited time",
    "click here",
    "verify your",
    "account has been suspended",
    "t&c",
    "opt out",
    "stop to",
    "18+",
    "no credit check",
    "valid 12",
    "final notice",
    "to claim",
)
INDICATOR_LABELS = {
    "suspicious_phrases": "Suspicious phrases",
    "promo_words": "Promotional keywords",
    "links": "Links",
    "long_numbers": "Phone numbers / short codes",
    "money": "Money amounts",
    "exclamations": "Exclamation marks",
    "capitals_ratio": "Share of capital letters",
    "digits_ratio": "Share of digits",
    "length": "Length (characters)",
}


def normalise(text: str) -> str:
    """Replace URLs, long numbers and money amounts by tokens a word model can count."""
    text = URL_RE.sub(" urltoken ", text)
    text = MONEY_RE.sub(" moneytoken ", text)
    return LONG_NUMBER_RE.sub(lambda m: f" longnum{min(len(m.group()), 12)} ", text)


def normalise_all(texts: Iterable[str]) -> list[str]:
    """:func:`normalise` over many texts (a module-level function, so pipelines pickle)."""
    return [normalise(t) for t in texts]


def indicators(text: str) -> dict[str, float]:
    """The hand-made spam indicators of one message."""
    letters = [c for c in text if c.isalpha()]
    lower = text.lower()
    return {
        "suspicious_phrases": float(sum(lower.count(p) for p in SUSPICIOUS_PHRASES)),
        "promo_words": float(len(PROMO_RE.findall(text))),
        "links": float(len(URL_RE.findall(text))),
        "long_numbers": float(len(LONG_NUMBER_RE.findall(text))),
        "money": float(len(MONEY_RE.findall(text))),
        "exclamations": float(text.count("!")),
        "capitals_ratio": sum(c.isupper() for c in letters) / len(letters) if letters else 0.0,
        "digits_ratio": sum(c.isdigit() for c in text) / len(text) if text else 0.0,
        "length": float(len(text)),
    }

"""The project's skills taxonomy (``data/resume_skills.tsv``) and a matcher that finds its skills in text.

Every skill has a category and synonyms. Terms match on word boundaries, longest first, so "React Native"
is not also "React" and "JavaScript" is not "Java". Ambiguous short words follow case and context rules
written in the taxonomy file: "Python, R, SQL" names R but "R&D" does not, and "Go to market" is not Go.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engines.core.errors import InputError

TAXONOMY_PATH = Path(__file__).resolve().parents[2] / "data" / "resume_skills.tsv"
PLURAL_FROM = 3  # terms longer than this also match with a plural "s"
SHORT_TERM = 2  # terms this short (R, C, Go, UX) only count in a list context
# Characters that glue onto a term and make it another word ("C++", "C#", ".NET", "Node.js", "x-y").
_BEFORE = r"(?<![\w+#@/.&-])"
_AFTER = r"(?![\w+#&]|[.-]\w)"
# List context: the term stands between list separators (commas, slashes, bullets, "and"/"or", line ends).
_LIST_BEFORE = r"(?:(?<=^)|(?<=[,;|/(•·:\uf0b7\x7f])|(?<=[,;|/(•·:\uf0b7\x7f] )|(?<=\band )|(?<=\bor )|(?<=  ))"
_LIST_AFTER = r"(?=\s*(?:$|[,;|/)•·\uf0b7\x7f]|\band\b|\bor\b|  ))"
# A skill name that is also an everyday word, and what follows it when it is the word: "Spring 2017" is a
# term, "Front End Supervisor" a shop's checkout.
NOT_BEFORE = {
    "Spring": re.compile(
        r"[\s,]+(?:(?:semester|term|quarter|break|season)\b|'?\d{2}\b|(?:19|20)\d{2}\b)", re.IGNORECASE
    ),
    "Front-end development": re.compile(
        r"[\s-]+(?:supervisor|cashier|clerk|associate|desk|attendant|staff|team member|checker)s?\b", re.IGNORECASE
    ),
}


@dataclass(frozen=True)
class Skill:
    """One skill of the taxonomy.

    Attributes:
        name: Canonical name shown to the user.
        category: Its group (Languages, Frontend, Data & ML, ...).
        synonyms: Other spellings, with their rule prefix ("=" case-sensitive, "~" list context).
    """

    name: str
    category: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkillHit:
    """A taxonomy skill found in a text.

    Attributes:
        name: Canonical skill name.
        category: Its category.
        count: How many times it was mentioned (the evidence).
        terms: The spellings that matched, as written in the text.
    """

    name: str
    category: str
    count: int
    terms: tuple[str, ...]

    def to_dict(self) -> dict:
        """Plain form for tables and JSON."""
        return {"skill": self.name, "category": self.category, "count": self.count, "terms": ", ".join(self.terms)}


def _term_pattern(term: str) -> tuple[str, bool]:
    """Regex source of one taxonomy term and whether it is case-sensitive."""
    rule = term[0] if term[:1] in "=~" else ""
    word = term[1:] if rule else term
    if len(word) <= SHORT_TERM:
        rule = "~"
    body = re.escape(word).replace(r"\ ", r"[\s-]+")  # "machine learning" also across a line break or hyphen
    if len(word) > PLURAL_FROM and word[-1].isalpha():
        body += "(?:e?s)?"  # "front-ends", "APIs", "databases"
    if rule == "~":
        return f"{_LIST_BEFORE}{_BEFORE}{body}{_AFTER}{_LIST_AFTER}", True
    return f"{_BEFORE}{body}{_AFTER}", rule == "="


def load_taxonomy(path: Path = TAXONOMY_PATH) -> tuple[Skill, ...]:
    """Read a taxonomy TSV (skill, category, synonyms separated by ``|``; ``#`` starts a comment line).

    Raises:
        InputError: when the file is missing or a row is malformed.
    """
    return _load_taxonomy(Path(path))


@functools.lru_cache(maxsize=4)
def _load_taxonomy(path: Path) -> tuple[Skill, ...]:
    if not path.is_file():
        raise InputError(f"The skills taxonomy {path} is missing; restore data/resume_skills.tsv from the repository.")
    skills: list[Skill] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#") or line.startswith("skill\t"):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError(f"{path.name} line {number}: expected 'skill<TAB>category<TAB>synonyms'.")
        name, category = parts[0].strip(), parts[1].strip()
        if name.lower() in seen:
            raise InputError(f"{path.name} line {number}: the skill {name!r} is listed twice.")
        seen.add(name.lower())
        synonyms = tuple(s.strip() for s in (parts[2] if len(parts) > 2 else "").split("|") if s.strip())
        skills.append(Skill(name, category, synonyms))
    return tuple(skills)


class SkillMatcher:
    """Finds taxonomy skills in text: one compiled pattern per term, longest terms claim their span first."""

    def __init__(self, skills: Iterable[Skill] | None = None) -> None:
        self.skills = tuple(skills) if skills is not None else load_taxonomy()
        self.by_name = {s.name: s for s in self.skills}
        terms: list[tuple[int, str, re.Pattern[str]]] = []
        for skill in self.skills:
            spelled = {t.lstrip("=~").lower() for t in skill.synonyms}
            wanted = list(skill.synonyms)
            if skill.name.lower() not in spelled:
                wanted.insert(0, skill.name)
            for term in wanted:
                source, case = _term_pattern(term)
                flags = re.MULTILINE if case else re.MULTILINE | re.IGNORECASE
                terms.append((len(term.lstrip("=~")), skill.name, re.compile(source, flags)))
        terms.sort(key=lambda t: -t[0])  # longest first: "React Native" before "React"
        self._terms = [(name, pattern) for _, name, pattern in terms]

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping ``(start, end, skill)`` spans in ``text``, in reading order."""
        taken = bytearray(len(text))
        found: list[tuple[int, int, str]] = []
        for name, pattern in self._terms:
            veto = NOT_BEFORE.get(name)
            for m in pattern.finditer(text):
                start, end = m.span()
                if veto is not None and veto.match(text, end):
                    continue
                if end > start and not any(taken[start:end]):
                    taken[start:end] = b"\x01" * (end - start)
                    found.append((start, end, name))
        return sorted(found)

    def find(self, text: str) -> list[SkillHit]:
        """Every skill mentioned in ``text`` with its count, most mentioned first (ties: taxonomy order)."""
        counts: dict[str, int] = {}
        spellings: dict[str, dict[str, None]] = {}
        for start, end, name in self.spans(text):
            counts[name] = counts.get(name, 0) + 1
            spellings.setdefault(name, {})[" ".join(text[start:end].split())] = None
        order = {s.name: i for i, s in enumerate(self.skills)}
        return [
            SkillHit(name, self.by_name[name].category, counts[name], tuple(spellings[name]))
            for name in sorted(counts, key=lambda n: (-counts[n], order[n]))
        ]

    def names(self, text: str) -> set[str]:
        """The set of skill names mentioned in ``text``."""
        return {name for _, _, name in self.spans(text)}


@functools.lru_cache(maxsize=2)
def default_matcher() -> SkillMatcher:
    """The matcher over the project's taxonomy (compiled once per process)."""
    return SkillMatcher()


# Notes written beside a listed skill: "Java (5 years)", "SQL (Less than 1 year)", "Python - Expert".
_SKILL_NOTE = re.compile(
    r"\((?:less than\s+)?[\d.+\s]*(?:years?|yrs?|months?)\)|\(\s*\)|[-–]\s*(?:expert|advanced|intermediate|beginner|basic)\b",
    re.IGNORECASE,
)
_LIST_SPLIT = re.compile(r"\s*(?:[,;|•·\u2022]|\s[-–]\s|\n)\s*")
MAX_LISTED_WORDS = 5  # a longer item is a sentence, not a skill
MAX_LISTED_CHARS = 40
WRAPPED_LINE = 60  # a comma list this long that runs on at the next line was wrapped


def listed_skills(section: str) -> list[str]:
    """Skills as the candidate lists them in a skills section ("Azure (8 years), C#, Web API"), each once.

    A comma list wrapped over lines is joined back; "Languages: C, C++" gives C and C++; year notes go.
    Items longer than a few words are sentences and are left out; so are bare numbers.
    """
    joined: list[str] = []
    for line in section.split("\n"):
        line = line.strip()
        if not line:
            continue
        wrapped = len(joined[-1]) >= WRAPPED_LINE and "," in joined[-1] if joined else False
        if wrapped and not line.startswith("•") and not joined[-1].endswith((":", ".")):
            joined[-1] = f"{joined[-1]} {line}"  # a wrapped comma list
        else:
            joined.append(line)
    items: list[str] = []
    from engines.resume.experience import RANGE  # a dated line is a position or a course, not a skill

    for line in joined:
        if RANGE.search(line):
            continue
        line = _SKILL_NOTE.sub(" ", line)
        if ":" in line:
            label, rest = line.split(":", 1)
            line = rest if len(label.split()) <= 4 and rest.strip() else line
        for item in _LIST_SPLIT.split(line):
            item = re.sub(r"^(?:and|or|&)\s+", "", " ".join(item.split())).strip(" .*-–:()")
            if not item or re.fullmatch(r"[\d\W]+", item) or re.match(r"(?:https?://|www\.)", item):
                continue
            if len(item.split()) <= MAX_LISTED_WORDS and len(item) <= MAX_LISTED_CHARS:
                items.append(item)
    return list(dict.fromkeys(items))

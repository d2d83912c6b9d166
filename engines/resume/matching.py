"""Job descriptions and resume-to-job matching: one 0-100 score that is a weighted sum of named parts.

The parts: required skills covered, nice-to-have skills covered, the job ad's keywords found in the resume,
semantic similarity of the two texts (MiniLM sentence embeddings, when an encoder is given) and years of
experience against the years asked for. A part that cannot be measured (no encoder, no years asked) is left
out and the other weights are scaled up to sum to one; the result says so. The weights were set by hand
before any evaluation (skills first, meaning second, words and years last) and checked on the project's own
sample resumes and job descriptions.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from engines.core.errors import InputError
from engines.resume.extract import ResumeText, read_resume_file, read_text
from engines.resume.sections import JOB_HEADINGS, section_texts, split_sections
from engines.resume.skills import SkillMatcher, default_matcher

NICE_CUES = re.compile(
    r"\b(nice[- ]to[- ]have|a plus|is a plus|are a plus|bonus|preferred|preferably|ideally|desirable|"
    r"good to have|would be great|not required|optional)\b",
    re.IGNORECASE,
)
ALTERNATIVE_CUES = re.compile(r"\b(or|such as|e\.g\.|like|one of|at least one|any of)\b", re.IGNORECASE)
YEARS_ASKED = re.compile(r"(\d{1,2})\s*\+?\s*(?:-\s*\d{1,2}\s*)?(?:years?|yrs?)\b", re.IGNORECASE)
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "across",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "may",
        "me",
        "might",
        "more",
        "most",
        "must",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "per",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "within",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "etc",
        "e.g",
        "i.e",
        "via",
        "able",
        "ability",
        "abilities",
        "strong",
        "excellent",
        "good",
        "great",
        "solid",
        "proven",
        "plus",
        "years",
        "year",
        "experience",
        "experienced",
        "knowledge",
        "proficiency",
        "proficient",
        "familiarity",
        "familiar",
        "understanding",
        "skills",
        "skill",
        "work",
        "working",
        "role",
        "team",
        "candidate",
        "candidates",
        "including",
        "include",
        "includes",
        "related",
        "similar",
        "field",
        "new",
        "using",
        "use",
        "used",
        "well",
        "highly",
        "successful",
        "preferred",
        "required",
        "requirements",
        "responsibilities",
        "responsible",
        "demonstrated",
        "least",
        "join",
        "looking",
        "seeking",
        "company",
        "us",
        "it's",
        "we're",
        "you'll",
        "you're",
        "other",
        "others",
        "various",
        "every",
        "make",
        "ensure",
    ]
)
KEYWORD_SECTIONS = ("description", "responsibilities", "requirements", "nice_to_have")
SENIORITY = frozenset(
    [
        "senior",
        "junior",
        "lead",
        "principal",
        "staff",
        "sr",
        "jr",
        "i",
        "ii",
        "iii",
        "iv",
        "intern",
        "head",
        "chief",
        "associate",
        "entry",
        "level",
        "mid",
    ]
)
# Title words that name the same role: a Java developer is a Java engineer.
TITLE_SYNONYMS = {"developer": "engineer", "dev": "engineer", "programmer": "engineer", "swe": "engineer",
                  "frontend": "front end", "front-end": "front end", "backend": "back end", "back-end": "back end",
                  "fullstack": "full stack", "full-stack": "full stack", "pm": "product manager"}  # fmt: skip
TITLE_LINES = 3  # the candidate's headline is within the first lines of the header
MAX_KEYWORDS = 40  # the job ad's most frequent content words; more would reward long resumes for volume


@dataclass(frozen=True)
class MatchConfig:
    """Weights of the match score (each part is 0..1; the score is 100 x the weighted sum).

    Attributes:
        required_weight: Required skills covered: the first thing a recruiter checks.
        semantic_weight: Meaning of the whole resume against the job (MiniLM), catches paraphrases.
        title_weight: The job title's words found in the candidate's own titles (headline, positions).
        keyword_weight: The job ad's own words found in the resume (what keyword-based ATS filters check).
        nice_weight: Nice-to-have skills covered: a bonus, so a small weight.
        experience_weight: Years of experience against the years the job asks for.
        semantic_floor: Cosine similarity counted as 0 (unrelated English texts score about this).
        semantic_ceiling: Cosine similarity counted as 1 (a close paraphrase scores about this).
    """

    required_weight: float = 0.35  # skills first
    semantic_weight: float = 0.20  # meaning second
    title_weight: float = 0.15  # the role itself: a PM who lists SQL is still a PM
    keyword_weight: float = 0.10  # exact words, as an ATS would
    nice_weight: float = 0.10  # bonus skills
    experience_weight: float = 0.10  # years asked for
    semantic_floor: float = 0.2  # MiniLM cosine of unrelated texts
    semantic_ceiling: float = 0.8  # MiniLM cosine of a close paraphrase

    def __post_init__(self) -> None:
        weights = (
            self.required_weight,
            self.semantic_weight,
            self.title_weight,
            self.keyword_weight,
            self.nice_weight,
            self.experience_weight,
        )
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise InputError("Match weights must be zero or more, and at least one must be above zero.")
        if not 0 <= self.semantic_floor < self.semantic_ceiling <= 1:
            raise InputError("semantic_floor must be below semantic_ceiling, both between 0 and 1.")


class Encoder(Protocol):
    """Anything with ``encode(texts) -> unit-length rows`` (engines.core.embeddings.SentenceEncoder)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # noqa: D102
        ...


@dataclass(frozen=True)
class JobDescription:
    """A job ad, parsed.

    Attributes:
        title: Job title (first line, "Job Description:" removed).
        text: The full text.
        sections: Section name -> text (about, description, responsibilities, requirements, nice_to_have, ...).
        required: Required skill groups; a group of several names is satisfied by any one ("React, Vue or Angular").
        nice: Nice-to-have skill groups (its own section, lines marked "preferred"/"a plus", or skills only
            mentioned outside the requirements).
        keywords: The ad's most frequent content words (lower case).
        min_years: Years of experience asked for (None when the ad asks none).
        notes: How the ad was read (no requirements section found, ...).
    """

    title: str
    text: str
    sections: dict[str, str]
    required: tuple[tuple[str, ...], ...]
    nice: tuple[tuple[str, ...], ...]
    keywords: tuple[str, ...]
    min_years: int | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain form for JSON."""
        return asdict(self)

    @property
    def required_skills(self) -> list[str]:
        """Every skill named in the requirements (flattened)."""
        return [name for group in self.required for name in group]

    @property
    def nice_skills(self) -> list[str]:
        """Every nice-to-have skill (flattened)."""
        return [name for group in self.nice for name in group]


@dataclass(frozen=True)
class ScoreComponent:
    """One part of the match score.

    Attributes:
        name: "required skills", "semantic similarity", ...
        weight: Its weight after renormalisation (the weights used sum to 1).
        value: Its value, 0..1.
        points: ``100 * weight * value``: what it adds to the score.
        detail: One sentence on how the value was measured.
    """

    name: str
    weight: float
    value: float
    points: float
    detail: str


@dataclass(frozen=True)
class MatchResult:
    """How well a resume fits a job.

    Attributes:
        score: 0..100, the sum of the components' points.
        components: The parts of the score.
        matched_required: Required skill groups met (the resume's skill names).
        missing_required: Required skill groups not met (" / " joins alternatives).
        matched_nice: Nice-to-have groups met.
        missing_nice: Nice-to-have groups not met.
        matched_keywords: The ad's keywords found in the resume.
        missing_keywords: The ad's keywords not found.
        semantic_similarity: Raw cosine similarity (None without an encoder).
        explanations: Plain-English sentences, most important first.
        job_title: The job's title.
        candidate: The candidate's name (or file name).
    """

    score: float
    components: tuple[ScoreComponent, ...]
    matched_required: tuple[str, ...]
    missing_required: tuple[str, ...]
    matched_nice: tuple[str, ...]
    missing_nice: tuple[str, ...]
    matched_keywords: tuple[str, ...]
    missing_keywords: tuple[str, ...]
    semantic_similarity: float | None
    explanations: tuple[str, ...]
    job_title: str = ""
    candidate: str = ""
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain form for JSON."""
        return asdict(self)


def stem(word: str) -> str:
    """A light English stem ("developing" -> "develop", "databases" -> "databas") so word forms meet."""
    word = word.lower()
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ers", "er", "ed", "es", "s"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str) -> list[str]:
    """Lower-case content words (letters, and tech spellings like c++, node.js, ci/cd), stopwords removed."""
    words = re.findall(r"[a-z][a-z0-9+#]*(?:[./-][a-z0-9+#]+)*", text.lower())
    return [w for w in words if w not in STOPWORDS and len(w) > 1]


def _title(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"^(?:job\s+(?:description|title)|position|role)\s*[:\-–]\s*", "", first, flags=re.IGNORECASE)
    return re.sub(r"\s*\(.*$", "", first).strip()  # "(5+ Years of Experience)", even when cut by a line break


def title_words(title: str) -> set[str]:
    """The role words of a job title: lower case, seniority dropped, synonyms merged ("Sr. Frontend Dev" -> front, end, engineer)."""
    text = title.lower()
    for word, same in TITLE_SYNONYMS.items():
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", same, text)
    return {stem(w) for w in re.findall(r"[a-z][a-z+#.]*", text) if w not in SENIORITY and w not in STOPWORDS}


def title_fit(job_title: str, candidate_titles: Sequence[str]) -> tuple[float, str]:
    """Share of the job title's role words found in the candidate's best-matching title, and that title."""
    wanted = title_words(job_title)
    if not wanted:
        return 0.0, ""
    best, which = 0.0, ""
    for title in candidate_titles:
        share = len(wanted & title_words(title)) / len(wanted)
        if share > best:
            best, which = share, title
    return best, which


def _groups(text: str, matcher: SkillMatcher) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Required-looking and nice-looking skill groups of a block of text, one item (line) at a time."""
    required: list[tuple[str, ...]] = []
    nice: list[tuple[str, ...]] = []
    items = re.split(r"\n(?=•)|\n{2,}", text) if "•" in text else text.split("\n")
    for item in items:
        names = list(dict.fromkeys(name for _, _, name in matcher.spans(item)))
        if not names:
            continue
        target = nice if NICE_CUES.search(item) else required
        if len(names) > 1 and ALTERNATIVE_CUES.search(item):
            target.append(tuple(names))  # "React, Vue, or Angular": any one will do
        else:
            target.extend((name,) for name in names)
    return required, nice


def _dedupe(groups: list[tuple[str, ...]], exclude: set[str] = frozenset()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    seen: set[str] = set(exclude)
    for group in groups:
        if len(group) == 1 and group[0] in seen:
            continue
        if group in out:
            continue
        out.append(group)
        if len(group) == 1:
            seen.add(group[0])
    # a singleton already required makes a group containing it redundant
    return [g for g in out if len(g) == 1 or not (set(g) & {s[0] for s in out if len(s) == 1})]


def parse_job(document: ResumeText, matcher: SkillMatcher | None = None) -> JobDescription:
    """A job ad's title, sections, required and nice-to-have skills, keywords and years asked for."""
    matcher = matcher or default_matcher()
    text = document.text
    sections = section_texts(split_sections(text, JOB_HEADINGS))
    notes: list[str] = []
    title = _title(text)
    requirement_text = "\n".join(sections.get(name, "") for name in ("requirements",)).strip()
    if requirement_text:
        required, nice = _groups(requirement_text, matcher)
        elsewhere = "\n".join(
            sections.get(name, "") for name in ("header", "description", "responsibilities") if name in sections
        )
        mentioned, mentioned_nice = _groups(f"{title}\n{elsewhere}", matcher)
        nice += mentioned + mentioned_nice
    else:
        notes.append(
            "No 'Requirements' section found: every skill the ad names outside its benefits counts as required."
        )
        body = "\n".join(v for k, v in sections.items() if k not in ("benefits", "apply", "about", "nice_to_have"))
        required, nice = _groups(body, matcher)
    if sections.get("nice_to_have"):
        extra_required, extra_nice = _groups(sections["nice_to_have"], matcher)
        nice = extra_required + extra_nice + nice
    required = _dedupe(required)
    nice = _dedupe(nice, exclude={n for g in required for n in g})
    if not required and not nice:
        notes.append("The ad names no skill from the taxonomy; the score rests on keywords and meaning.")
    keyword_text = "\n".join([title, *(sections.get(k, "") for k in KEYWORD_SECTIONS)])
    counts = Counter(stem(w) for w in content_words(keyword_text))
    keywords = tuple(w for w, _ in counts.most_common(MAX_KEYWORDS))
    years_text = "\n".join([requirement_text, text.splitlines()[0] if text else "", sections.get("description", "")])
    years = [int(m.group(1)) for m in YEARS_ASKED.finditer(years_text) if 0 < int(m.group(1)) <= 40]
    return JobDescription(
        title=title,
        text=text,
        sections=sections,
        required=tuple(required),
        nice=tuple(nice),
        keywords=keywords,
        min_years=max(years) if years else None,
        notes=tuple(notes),
    )


def read_job(text_or_bytes: str | bytes, filename: str | None = None, *, check_language: bool = True) -> JobDescription:
    """Read a job description from pasted text or an uploaded file's bytes.

    Args:
        text_or_bytes: The ad's text, or the file's bytes (then ``filename`` picks the reader).
        filename: The upload's name (.pdf, .docx, .txt); needed for bytes.
        check_language: Refuse a job description that is not English.

    Raises:
        InputError: when the ad is empty, too short to match against, unreadable or not English.
    """
    if isinstance(text_or_bytes, bytes | bytearray):
        if not filename:
            raise InputError("Name the job description file (its extension picks the reader), or paste its text.")
        document = read_resume_file(
            bytes(text_or_bytes), filename, max_pages=20, check_language=check_language, what="job ad"
        )
    elif isinstance(text_or_bytes, str):
        if not text_or_bytes.strip():
            raise InputError(
                "The job description is empty. Paste the job ad's text (its title, responsibilities and "
                "requirements) to match the resume against it."
            )
        document = read_text(text_or_bytes, "job description", check_language=check_language, what="job ad")
    else:
        raise InputError("Give the job description as text, or as a file's bytes with its filename.")
    if len(content_words(document.text)) < 5:
        raise InputError(
            "The job description is too short to match against: paste the whole ad, with its responsibilities "
            "and requirements."
        )
    return parse_job(document)


def _chunks_of_resume(profile) -> list[str]:
    """Pieces of a resume small enough for the encoder: summary, skills, each job, projects."""
    chunks = [profile.summary, profile.sections.get("skills", "")]
    for job in profile.jobs:
        chunks.append(" ".join([job.title, job.organisation, *job.bullets]))
    chunks.append(profile.sections.get("projects", ""))
    chunks = [c for c in chunks if c and c.strip()]
    return chunks or [profile.text[:2000]]


def _chunks_of_job(job: JobDescription) -> list[str]:
    chunks = [
        f"{job.title}. {job.sections.get('description', '')}",
        job.sections.get("responsibilities", ""),
        job.sections.get("requirements", ""),
        job.sections.get("nice_to_have", ""),
    ]
    chunks = [c for c in chunks if c and c.strip(" .")]
    return chunks or [job.text[:2000]]


def semantic_similarity(resume_chunks: list[str], job_chunks: list[str], encoder: Encoder) -> float:
    """For each part of the job, the closest part of the resume; their mean cosine similarity."""
    vectors = np.asarray(encoder.encode([*resume_chunks, *job_chunks]), dtype=np.float32)
    resume, job = vectors[: len(resume_chunks)], vectors[len(resume_chunks) :]
    return float((job @ resume.T).max(axis=1).mean())


def _groups_met(groups: Sequence[tuple[str, ...]], have: set[str]) -> tuple[list[str], list[str]]:
    met, missing = [], []
    for group in groups:
        hits = [name for name in group if name in have]
        (met if hits else missing).append(" / ".join(hits) if hits else " / ".join(group))
    return met, missing


def match(
    profile,
    job: JobDescription,
    encoder: Encoder | None = None,
    *,
    config: MatchConfig | None = None,
) -> MatchResult:
    """Score how well a resume fits a job, with the parts of the score and an explanation.

    Args:
        profile: A ResumeProfile (engines.resume.analyze).
        job: The parsed job description.
        encoder: A sentence encoder (MiniLM); None scores on skills, words and years only (and says so).
        config: The weights.
    """
    config = config or MatchConfig()
    have = {s.name for s in profile.skills}
    met_req, miss_req = _groups_met(job.required, have)
    met_nice, miss_nice = _groups_met(job.nice, have)
    resume_stems = {stem(w) for w in content_words(profile.text)}
    found_kw = [k for k in job.keywords if k in resume_stems]
    missing_kw = [k for k in job.keywords if k not in resume_stems]
    parts: list[tuple[str, float, float, str]] = []
    if job.required:
        parts.append(
            (
                "required skills",
                config.required_weight,
                len(met_req) / len(job.required),
                f"{len(met_req)} of {len(job.required)} required skills found in the resume.",
            )
        )
    if job.nice:
        parts.append(
            (
                "nice-to-have skills",
                config.nice_weight,
                len(met_nice) / len(job.nice),
                f"{len(met_nice)} of {len(job.nice)} nice-to-have skills found.",
            )
        )
    if job.keywords:
        parts.append(
            (
                "keyword coverage",
                config.keyword_weight,
                len(found_kw) / len(job.keywords),
                f"{len(found_kw)} of the ad's {len(job.keywords)} most frequent words appear in the resume.",
            )
        )
    if job.title:
        titles = [j.title for j in profile.jobs if j.title]
        titles += [line for line in profile.sections.get("header", "").splitlines()[:TITLE_LINES] if line.strip()]
        fit, which = title_fit(job.title, titles)
        parts.append(
            (
                "job title",
                config.title_weight,
                fit,
                f"{fit:.0%} of the role words of '{job.title}' appear in "
                + (f"the candidate's title '{which}'." if which else "none of the candidate's titles."),
            )
        )
    similarity = None
    if encoder is not None:
        similarity = semantic_similarity(_chunks_of_resume(profile), _chunks_of_job(job), encoder)
        value = (similarity - config.semantic_floor) / (config.semantic_ceiling - config.semantic_floor)
        parts.append(
            (
                "semantic similarity",
                config.semantic_weight,
                float(np.clip(value, 0.0, 1.0)),
                f"MiniLM cosine similarity {similarity:.2f} (counted from {config.semantic_floor} = 0 "
                f"to {config.semantic_ceiling} = 1).",
            )
        )
    if job.min_years:
        parts.append(
            (
                "years of experience",
                config.experience_weight,
                min(1.0, profile.total_years / job.min_years),
                f"{profile.total_years:g} years in the resume; the job asks for {job.min_years}.",
            )
        )
    total_weight = sum(w for _, w, _, _ in parts if w > 0)
    components = tuple(
        ScoreComponent(name, w / total_weight, v, 100 * w / total_weight * v, detail)
        for name, w, v, detail in parts
        if w > 0 and total_weight > 0
    )
    score = float(sum(c.points for c in components))
    explanations = _explain(score, components, miss_req, miss_nice, missing_kw, encoder is None, job)
    return MatchResult(
        score=score,
        components=components,
        matched_required=tuple(met_req),
        missing_required=tuple(miss_req),
        matched_nice=tuple(met_nice),
        missing_nice=tuple(miss_nice),
        matched_keywords=tuple(found_kw),
        missing_keywords=tuple(missing_kw),
        semantic_similarity=similarity,
        explanations=explanations,
        job_title=job.title,
        candidate=profile.contact.name or profile.filename,
        notes=job.notes,
    )


def _explain(
    score: float,
    components: Sequence[ScoreComponent],
    missing_required: Sequence[str],
    missing_nice: Sequence[str],
    missing_keywords: Sequence[str],
    lexical_only: bool,
    job: JobDescription,
) -> tuple[str, ...]:
    verdict = "a strong" if score >= 75 else "a good" if score >= 60 else "a partial" if score >= 40 else "a weak"
    lines = [f"Match score {score:.0f}/100: {verdict} fit for {job.title or 'this job'}."]
    sum_text = " + ".join(f"{c.weight:.2f} x {100 * c.value:.0f} ({c.name})" for c in components)
    lines.append(f"Score = {sum_text}.")
    for c in sorted(components, key=lambda c: -c.weight):
        lines.append(f"{c.name.capitalize()}: {c.detail}")
    if missing_required:
        lines.append(f"Missing required skills: {', '.join(missing_required[:8])}.")
    if missing_nice:
        lines.append(f"Missing nice-to-have skills: {', '.join(missing_nice[:8])}.")
    if missing_keywords:
        lines.append(f"Words from the ad not in the resume: {', '.join(missing_keywords[:10])}.")
    if lexical_only:
        lines.append("Semantic similarity was not measured (no sentence encoder): the score is lexical only.")
    if job.min_years is None:
        lines.append("The ad asks for no number of years, so experience is not scored.")
    return tuple(lines)


def rank(profiles: Sequence, job: JobDescription, encoder: Encoder | None = None, **kwargs) -> list[MatchResult]:
    """Match several resumes against one job, best first (ties keep the input order)."""
    results = [match(p, job, encoder, **kwargs) for p in profiles]
    order = sorted(range(len(results)), key=lambda i: -results[i].score)
    return [results[i] for i in order]


def rank_jobs(profile, jobs: Sequence[JobDescription], encoder: Encoder | None = None, **kwargs) -> list[MatchResult]:
    """Match one resume against several jobs, best first (ties keep the input order)."""
    results = [match(profile, j, encoder, **kwargs) for j in jobs]
    order = sorted(range(len(results)), key=lambda i: -results[i].score)
    return [results[i] for i in order]

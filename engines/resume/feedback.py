"""Prioritised suggestions for a resume: missing skills, weak bullets, length, sections and ATS-friendliness.

Every rule is written out here (no model): a bullet is weak when it does not open with an action verb from
:data:`ACTION_VERBS` or has no number in it; the length and section rules follow common recruiting advice
(one page early in a career, two at most for most people; contact, experience, education and skills present).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal

Priority = Literal["high", "medium", "low"]
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
ACTION_VERBS = frozenset(
    [
        "accelerated",
        "achieved",
        "acquired",
        "adapted",
        "added",
        "addressed",
        "administered",
        "advised",
        "advocated",
        "analysed",
        "analyzed",
        "architected",
        "arranged",
        "assembled",
        "assessed",
        "audited",
        "authored",
        "automated",
        "balanced",
        "boosted",
        "budgeted",
        "built",
        "calculated",
        "championed",
        "clarified",
        "closed",
        "coached",
        "collaborated",
        "combined",
        "completed",
        "composed",
        "conceived",
        "conducted",
        "configured",
        "consolidated",
        "constructed",
        "consulted",
        "contributed",
        "controlled",
        "converted",
        "coordinated",
        "created",
        "cultivated",
        "customized",
        "cut",
        "debugged",
        "decreased",
        "defined",
        "delivered",
        "demonstrated",
        "deployed",
        "designed",
        "detected",
        "developed",
        "devised",
        "diagnosed",
        "directed",
        "discovered",
        "doubled",
        "drafted",
        "drove",
        "earned",
        "edited",
        "eliminated",
        "enabled",
        "engineered",
        "enhanced",
        "established",
        "evaluated",
        "executed",
        "expanded",
        "expedited",
        "facilitated",
        "forecasted",
        "formulated",
        "founded",
        "generated",
        "grew",
        "guided",
        "halved",
        "handled",
        "headed",
        "identified",
        "implemented",
        "improved",
        "increased",
        "influenced",
        "initiated",
        "innovated",
        "inspected",
        "installed",
        "instituted",
        "integrated",
        "interviewed",
        "introduced",
        "invented",
        "investigated",
        "launched",
        "led",
        "lowered",
        "maintained",
        "managed",
        "mapped",
        "maximized",
        "measured",
        "mentored",
        "merged",
        "migrated",
        "minimized",
        "modeled",
        "modelled",
        "modernized",
        "monitored",
        "motivated",
        "negotiated",
        "operated",
        "optimized",
        "orchestrated",
        "organized",
        "outperformed",
        "overhauled",
        "oversaw",
        "owned",
        "partnered",
        "performed",
        "piloted",
        "pioneered",
        "planned",
        "prepared",
        "presented",
        "prioritized",
        "produced",
        "programmed",
        "promoted",
        "proposed",
        "prototyped",
        "published",
        "raised",
        "ran",
        "rebuilt",
        "recommended",
        "recruited",
        "redesigned",
        "reduced",
        "refactored",
        "refined",
        "reorganized",
        "replaced",
        "researched",
        "resolved",
        "restructured",
        "revamped",
        "reviewed",
        "revised",
        "saved",
        "scaled",
        "scheduled",
        "secured",
        "selected",
        "served",
        "set",
        "shipped",
        "simplified",
        "slashed",
        "solved",
        "spearheaded",
        "standardized",
        "started",
        "streamlined",
        "strengthened",
        "structured",
        "supervised",
        "supported",
        "surpassed",
        "synthesized",
        "tested",
        "trained",
        "transformed",
        "translated",
        "tripled",
        "troubleshot",
        "tuned",
        "unified",
        "upgraded",
        "utilized",
        "validated",
        "won",
        "wrote",
    ]
)
# Openers that describe duties rather than achievements ("Responsible for", "Worked on", "Helped with").
WEAK_OPENERS = re.compile(
    r"^(?:responsible for|worked on|working on|helped|assisted|involved in|participated in|duties included|"
    r"tasked with|in charge of|did|was|were|i |my )",
    re.IGNORECASE,
)
OPENING_ADVERBS = frozenset({"successfully", "independently", "jointly", "personally", "also"})
IRREGULAR_ING = {"leading": "led", "building": "built", "writing": "wrote", "driving": "drove", "cutting": "cut",
                 "overseeing": "oversaw", "winning": "won", "running": "operated"}  # fmt: skip
NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?)\b", re.IGNORECASE
)
WORDS_PER_PAGE = 500  # a dense resume page
SHORT_RESUME_WORDS = 200  # fewer: too thin to show experience
LONG_RESUME_WORDS_PER_DECADE = 700  # about a page and a half per ten years of experience
MAX_BULLET_EXAMPLES = 3  # weak bullets quoted per kind; the rest are counted
REWRITE_VERBS = {
    "responsible for": "Led",
    "worked on": "Built",
    "working on": "Building",
    "helped": "Delivered",
    "assisted": "Supported",
    "involved in": "Contributed to",
    "participated in": "Contributed to",
}


@dataclass(frozen=True)
class Suggestion:
    """One piece of advice.

    Attributes:
        category: "skills", "bullets", "length", "sections", "contact" or "ats".
        priority: "high", "medium" or "low".
        message: What to change and why.
        example: A rewrite or an example, "" when none applies.
    """

    category: str
    priority: Priority
    message: str
    example: str = ""

    def to_dict(self) -> dict:
        """Plain form for tables and JSON."""
        return asdict(self)


def _clip(text: str, limit: int = 70) -> str:
    """A bullet quoted in a message: whole words up to ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def action_verb(bullet: str) -> str:
    """The bullet's opening verb when it is a strong action verb (past, or "-ing" for a current job), else ""."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", bullet)]
    if not words:
        return ""
    first = words[1] if words[0] in OPENING_ADVERBS and len(words) > 1 else words[0]
    if first in ACTION_VERBS:
        return first
    if first.endswith("ing"):  # "Leading", "Developing", "Optimizing": present-tense duties of a current job
        base = first[:-3]
        if IRREGULAR_ING.get(first) in ACTION_VERBS or f"{base}ed" in ACTION_VERBS or f"{base}d" in ACTION_VERBS:
            return first
    return ""


def bullet_issues(bullet: str) -> list[str]:
    """What makes a bullet weak: "no action verb" and/or "no numbers"; empty for a strong bullet."""
    issues = []
    if WEAK_OPENERS.match(bullet.strip()) or not action_verb(bullet):
        issues.append("no action verb")
    if not NUMBER.search(bullet):
        issues.append("no numbers")
    return issues


def rewrite_hint(bullet: str, issues: list[str]) -> str:
    """A suggested rewrite of a weak bullet (a pattern to follow, with a placeholder for the number)."""
    text = bullet.strip().rstrip(".")
    if "no action verb" in issues:
        opener = WEAK_OPENERS.match(text)
        if opener:
            verb = REWRITE_VERBS.get(opener.group(0).strip().lower(), "Delivered")
            text = f"{verb} {text[opener.end() :].strip()}"
        else:
            text = f"Open with what you did (Built, Led, Reduced...): {text}"
    if "no numbers" in issues:
        text = f"{text}, [result with a number: e.g. cutting load time by 30% for 10K users]"
    return text


def review(profile, job=None, result=None) -> list[Suggestion]:
    """Suggestions for a resume, most important first.

    Args:
        profile: A ResumeProfile (engines.resume.analyze).
        job: A JobDescription, for missing-skill advice (optional).
        result: A MatchResult of ``profile`` against ``job`` (optional; computed from the job's skills otherwise).
    """
    out: list[Suggestion] = []
    out += _contact(profile)
    out += _skills(profile, job, result)
    out += _sections(profile)
    out += _bullets(profile)
    out += _length(profile)
    out += _ats(profile)
    return sorted(out, key=lambda s: PRIORITY_ORDER[s.priority])


def _contact(profile) -> list[Suggestion]:
    out = []
    if not profile.contact.email:
        out.append(
            Suggestion(
                "contact",
                "high",
                "No email address found: recruiters and ATS need one at the top.",
                "jane.doe@example.com",
            )
        )
    if not profile.contact.phone:
        out.append(
            Suggestion("contact", "high", "No phone number found: add one next to your email.", "+1 555-123-4567")
        )
    if not profile.contact.name:
        out.append(
            Suggestion("contact", "medium", "Your name was not found on the first lines: put it alone on line one.")
        )
    return out


def _skills(profile, job, result) -> list[Suggestion]:
    if job is None:
        return []
    have = {s.name for s in profile.skills}
    missing_required = (
        list(result.missing_required)
        if result is not None
        else [" / ".join(g) for g in job.required if not set(g) & have]
    )
    missing_nice = (
        list(result.missing_nice) if result is not None else [" / ".join(g) for g in job.nice if not set(g) & have]
    )
    out = []
    if missing_required:
        out.append(
            Suggestion(
                "skills",
                "high",
                f"The job requires {len(missing_required)} skill(s) your resume does not mention: "
                f"{', '.join(missing_required[:8])}. If you have them, name them in your skills and show them in a bullet.",
                f"Used {missing_required[0].split(' / ')[0]} to ... (with a result).",
            )
        )
    if missing_nice:
        out.append(
            Suggestion(
                "skills",
                "low",
                f"Nice-to-have skills not mentioned: {', '.join(missing_nice[:8])}.",
            )
        )
    return out


def _sections(profile) -> list[Suggestion]:
    present = set(profile.sections)
    wanted = (
        ("experience", "high", "Add a 'Work Experience' section with your positions, dates and results."),
        ("education", "medium", "Add an 'Education' section (degree, school, year)."),
        ("skills", "medium", "Add a 'Skills' section listing your tools and technologies: ATS match on it."),
        ("summary", "low", "Add a two-line 'Summary' at the top: role, years of experience, strongest skills."),
    )
    out = []
    for name, priority, message in wanted:
        if name not in present or not profile.sections.get(name, "").strip():
            if name == "experience" and profile.jobs:
                continue
            out.append(Suggestion("sections", priority, f"Missing section '{name}'. {message}"))
    return out


def _bullets(profile) -> list[Suggestion]:
    no_verb, no_number = [], []
    total = 0
    for job in profile.jobs:
        for bullet in job.bullets:
            total += 1
            issues = bullet_issues(bullet)
            if "no action verb" in issues:
                no_verb.append((bullet, issues))
            if "no numbers" in issues:
                no_number.append((bullet, issues))
    out = []
    if no_verb:
        bullet, issues = no_verb[0]
        quoted = "; ".join(f"'{_clip(b)}'" for b, _ in no_verb[:MAX_BULLET_EXAMPLES])
        out.append(
            Suggestion(
                "bullets",
                "high" if len(no_verb) > total / 2 else "medium",
                f"{len(no_verb)} of {total} bullets do not open with an action verb (Built, Led, Reduced...): {quoted}.",
                rewrite_hint(bullet, issues),
            )
        )
    if no_number:
        bullet, issues = no_number[0]
        quoted = "; ".join(f"'{_clip(b)}'" for b, _ in no_number[:MAX_BULLET_EXAMPLES])
        out.append(
            Suggestion(
                "bullets",
                "high" if len(no_number) > total * 0.75 else "medium",
                f"{len(no_number)} of {total} bullets have no number (users, %, time, money): {quoted}.",
                rewrite_hint(bullet, ["no numbers"]),
            )
        )
    return out


def _length(profile) -> list[Suggestion]:
    words = profile.word_count
    out = []
    if words < SHORT_RESUME_WORDS:
        out.append(
            Suggestion(
                "length",
                "medium",
                f"The resume has only {words} words: add results to each position and a skills section "
                f"(aim for {SHORT_RESUME_WORDS}-{2 * WORDS_PER_PAGE} words).",
            )
        )
    limit = max(2 * WORDS_PER_PAGE, LONG_RESUME_WORDS_PER_DECADE * max(profile.total_years, 1) / 10)
    if words > limit or profile.pages > 2:
        out.append(
            Suggestion(
                "length",
                "medium" if profile.pages > 2 else "low",
                f"The resume is {profile.pages} page(s) and {words} words: keep it to two pages; cut old or "
                "repeated bullets first.",
            )
        )
    return out


def _ats(profile) -> list[Suggestion]:
    out = []
    if profile.odd_glyphs:
        out.append(
            Suggestion(
                "ats",
                "medium",
                f"{profile.odd_glyphs} icon or symbol glyph(s) came out of the file as odd characters (icon fonts for "
                "phone/email, symbol-font bullets). ATS read them as garbage: use plain text labels and '•' or '-'.",
                "Phone: (555) 123-4567 | Email: jane.doe@example.com",
            )
        )
    if profile.layout_tables:
        out.append(
            Suggestion(
                "ats",
                "high",
                "The page is laid out in a table (a two-column template): many ATS read such a table across its "
                "columns and mix the sections up. This analyzer read each column top to bottom; a single-column "
                "layout of plain paragraphs and bullet lists is safest.",
            )
        )
    if profile.tables > profile.layout_tables:
        out.append(
            Suggestion(
                "ats",
                "high" if profile.table_share > 0.3 else "medium",
                f"The file has {profile.tables - profile.layout_tables} table(s) holding {profile.table_share:.0%} of the text: many ATS "
                "read tables out of order. Use plain paragraphs and bullet lists.",
            )
        )
    if profile.columns_hint:
        out.append(
            Suggestion(
                "ats",
                "medium",
                "The layout looks like several columns side by side: ATS may read across the columns and mix "
                "them up. A single-column layout is safest.",
            )
        )
    if any("no text" in n or "images only" in n for n in profile.notes):
        out.append(
            Suggestion(
                "ats",
                "high",
                "Some pages are images without a text layer: ATS cannot read them. Export the resume from your "
                "editor as a text PDF.",
            )
        )
    if profile.kind == "pdf" and not profile.sections:
        out.append(
            Suggestion("ats", "high", "No section headings were recognised: use standard ones such as 'Experience'.")
        )
    return out

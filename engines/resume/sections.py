"""Find a resume's (or a job ad's) sections from their headings, also when a heading is glued into a line.

A heading is a line that is a known heading phrase (any case, an optional colon, optionally followed by the
section's first content after a colon: "Skills: Python, SQL"). Text reflowed from a PDF can put a heading
after other text on the same line ("Seattle, WA PROFESSIONAL SUMMARY"); such a heading is found when it is
written in capitals, or in Title Case at the end of the line, and the line is split there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RESUME_HEADINGS: dict[str, tuple[str, ...]] = {
    "summary": (
        "professional summary", "summary", "career summary", "executive summary", "profile", "professional profile",
        "objective", "career objective", "about me", "about", "personal statement", "summary of qualifications",
    ),
    "experience": (
        "work experience", "professional experience", "experience", "employment history", "work history",
        "employment", "career history", "relevant experience", "industry experience",
    ),
    "education": ("education", "academic background", "education and training", "academic qualifications"),
    "skills": (
        "technical skills", "skills", "core competencies", "key skills", "skills and tools", "skills & tools",
        "technologies", "tech stack", "competencies", "areas of expertise", "skills summary", "skill set", "skillset",
        "key technical skills", "it skills", "computer skills", "software skills", "technical proficiency",
    ),
    "projects": ("projects", "personal projects", "selected projects", "side projects", "key projects", "project details"),
    "certifications": (
        "certifications", "certificates", "licenses and certifications", "licenses & certifications",
        "certifications and licenses", "courses", "training", "certifications/licenses", "licenses/certifications",
    ),
    "other": (
        "awards", "honors", "honours", "achievements", "publications", "languages", "interests", "hobbies",
        "volunteering", "volunteer experience", "references", "activities", "leadership", "links",
        "additional information", "awards/achievements", "groups", "publications/presentations", "declaration",
        "personal details", "personal information",
    ),
}  # fmt: skip
JOB_HEADINGS: dict[str, tuple[str, ...]] = {
    "about": ("about us", "about the company", "who we are", "company overview", "about the role", "the role"),
    "description": ("job description", "description", "overview", "role overview", "position summary", "summary"),
    "responsibilities": (
        "responsibilities", "key responsibilities", "what you will do", "what you'll do", "your role", "duties",
        "the job", "day to day", "you will",
    ),
    "requirements": (
        "requirements", "required qualifications", "minimum qualifications", "basic qualifications", "qualifications",
        "must have", "must-have", "must haves", "what you will need", "what you'll need", "what we're looking for",
        "what we are looking for", "required skills", "you have", "skills", "who you are",
    ),
    "nice_to_have": (
        "nice to have", "nice-to-have", "nice to haves", "preferred qualifications", "preferred", "bonus points",
        "bonus", "pluses", "desirable", "good to have", "extra credit", "preferred skills",
    ),
    "benefits": ("benefits", "perks", "what we offer", "compensation", "perks and benefits", "why join us"),
    "apply": ("how to apply", "to apply", "application process"),
}  # fmt: skip
HEADER = "header"  # the text before the first heading (name and contact lines)
MAX_HEADING_WORDS = 6  # a longer line is prose, even if it starts like a heading
SMALL_WORDS = frozenset({"and", "of", "&", "to", "the", "for", "a", "you", "we", "will"})  # lower case in Title Case


@dataclass(frozen=True)
class Section:
    """One section of a document.

    Attributes:
        name: Canonical section name ("experience"), "header" for the text before the first heading.
        heading: The heading as written ("WORK EXPERIENCE").
        text: The section's text, without its heading.
        start_line: Index of its first content line in the split document.
    """

    name: str
    heading: str
    text: str
    start_line: int


def _lookup(headings: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {variant: name for name, variants in headings.items() for variant in variants}


def _normal(phrase: str) -> str:
    return re.sub(r"\s+", " ", phrase.strip().strip(":").strip()).lower().replace("’", "'")


def _inline_pattern(variants: list[str]) -> re.Pattern[str]:
    """Known headings after other text on a line, longest first."""
    alternatives = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<=\S)\s+({alternatives})\s*:?\s*$|(?<=\S)\s+({alternatives})(?=\s|:|$)", re.IGNORECASE)


def split_glued_headings(text: str, headings: dict[str, tuple[str, ...]] = RESUME_HEADINGS) -> str:
    """Put headings that were glued after other text ("Seattle, WA PROFESSIONAL SUMMARY") on their own line.

    A glued heading is accepted when written in capitals anywhere in the line, or in Title Case at the end
    of the line; lower-case words ("years of experience") are never headings.
    """
    lookup = _lookup(headings)
    pattern = _inline_pattern(list(lookup))
    out: list[str] = []
    for line in text.split("\n"):
        if heading_of(line, headings) is not None:
            out.append(line)
            continue
        pieces = [line]
        while True:
            head = pieces[-1]
            if heading_of(head, headings) is not None:
                break
            cut = None
            for m in pattern.finditer(head):
                word = m.group(1) or m.group(2)
                at_end = m.group(1) is not None
                caps = word.isupper() and len(word) > 3
                title = at_end and all(w[:1].isupper() for w in word.split() if w.lower() not in SMALL_WORDS)
                before = head[: m.start()].rstrip()
                if before.isupper():
                    continue  # inside a line of capitals ("PROFESSIONAL SUMMARY" is one heading)
                if caps or (title and before and (before[-1] in ".!?)" or before[-1].isalnum())):
                    cut = m
                    break
            if cut is None:
                break
            start = cut.start(1) if cut.group(1) is not None else cut.start(2)
            end = cut.end(1) if cut.group(1) is not None else cut.end(2)
            for earlier in re.finditer(r"\S+\s+", head[:start]):  # "... Professional Summary": the longer heading
                if _normal(head[earlier.start() : end]) in lookup:
                    start = earlier.start()
                    break
            if start == 0:
                break
            pieces[-1:] = [head[:start].rstrip(), head[start:].strip()]
        out.extend(p for p in pieces if p)
    return "\n".join(out)


def heading_of(line: str, headings: dict[str, tuple[str, ...]] = RESUME_HEADINGS) -> tuple[str, str, str] | None:
    """``(section, heading, rest)`` when ``line`` is a heading (``rest`` is text after "Heading:"), else None."""
    stripped = line.strip().lstrip("#").strip()
    if not stripped or stripped.startswith("•"):
        return None
    lookup = _lookup(headings)
    key = _normal(stripped)
    if key in lookup and len(stripped.split()) <= MAX_HEADING_WORDS:
        return lookup[key], stripped.rstrip(":").strip(), ""
    if ":" in stripped:  # "Skills: Python, SQL" or "Requirements:"
        head, rest = stripped.split(":", 1)
        key = _normal(head)
        if key in lookup and lookup[key] != "other" and len(head.split()) <= MAX_HEADING_WORDS:
            return lookup[key], head.strip(), rest.strip()  # not "Languages: Python, R" inside a skills list
    return None


def split_sections(text: str, headings: dict[str, tuple[str, ...]] = RESUME_HEADINGS) -> list[Section]:
    """The document's sections in reading order, the text before the first heading as "header".

    A section name that appears twice (a second "Experience" heading on page two) is kept as two sections;
    :func:`section_texts` joins them.
    """
    lines = split_glued_headings(text, headings).split("\n")
    sections: list[Section] = []
    name, heading, start, body = HEADER, "", 0, []
    for index, line in enumerate(lines):
        found = heading_of(line, headings)
        if found is None:
            body.append(line)
            continue
        if body or name != HEADER:
            sections.append(Section(name, heading, "\n".join(body).strip(), start))
        name, heading, rest = found
        body = [rest] if rest else []
        start = index + 1
    sections.append(Section(name, heading, "\n".join(body).strip(), start))
    return [s for s in sections if s.text or s.name != HEADER]


def section_texts(sections: list[Section]) -> dict[str, str]:
    """Section name -> its text (repeated sections joined), in order of first appearance."""
    texts: dict[str, str] = {}
    for s in sections:
        texts[s.name] = f"{texts[s.name]}\n{s.text}".strip() if s.name in texts else s.text
    return texts

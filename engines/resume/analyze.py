"""The one call a page makes: a resume file -> a :class:`ResumeProfile` (contact, sections, jobs, skills, ...).

Reading (extract) -> sections -> contact and entities -> jobs, education and years -> skills. Matching
against a job and feedback are separate calls (:func:`match`, :func:`review`) so a page can show the profile
before the user pastes a job ad.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, replace

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress, scaled
from engines.resume.entities import (
    KNOWN_ORGANISATIONS,
    Contact,
    Entities,
    NerTagger,
    find_contact,
    merge_entities,
    rule_entities,
)
from engines.resume.experience import Education, Job, Period, parse_education, parse_jobs, total_years
from engines.resume.extract import ResumeText, read_resume_file, read_text
from engines.resume.sections import HEADER, section_texts, split_sections
from engines.resume.skills import SkillHit, default_matcher, listed_skills


@dataclass(frozen=True)
class ResumeConfig:
    """How resumes are read.

    Attributes:
        max_pages: PDFs with more pages are refused (a resume is one to three pages).
        max_table_share: Word files with more of their text in grid tables are refused (reading order unknown);
            a page laid out in a table (a two-column template) is read cell by cell instead.
        check_language: Refuse resumes that are not in English (every rule here is English).
        min_words: Fewer words are not a resume.
    """

    max_pages: int = 10  # a long academic CV; more is a portfolio or a book
    max_table_share: float = 0.8  # a Word resume laid out entirely in a table grid
    check_language: bool = True  # section names, verbs, dates and skills are English rules
    min_words: int = 30  # fewer words cannot describe a career

    def __post_init__(self) -> None:
        if self.max_pages < 1:
            raise InputError("max_pages must be at least 1.")
        if not 0 < self.max_table_share <= 1:
            raise InputError("max_table_share must be above 0 and at most 1.")
        if self.min_words < 1:
            raise InputError("min_words must be at least 1.")


@dataclass(frozen=True)
class ResumeProfile:
    """Everything read from a resume.

    Attributes:
        contact: Name, email, phone, links, location.
        summary: The summary (or objective) section's text.
        sections: Section name -> text (header, summary, experience, education, skills, projects, ...).
        jobs: Positions with dates and bullets, in the resume's order.
        education: Degrees.
        skills: Taxonomy skills found, most mentioned first.
        total_years: Years of experience (overlapping jobs counted once).
        entities: Organisations, places and dates.
        language: Detected language code ("en"; "" when too short to tell).
        notes: What the reader had to do.
        word_count: Words in the text.
        pages: Pages (PDF) or an estimate.
        text: The extracted text.
        filename: The upload's name.
        kind: "pdf", "docx" or "txt".
        odd_glyphs: Icon or symbol glyphs removed from the text.
        tables: Word tables in the file.
        table_share: Share of the text in tables.
        columns_hint: The PDF looks multi-column.
        layout_tables: Word tables that lay the page out in columns (read cell by cell).
        listed_skills: The skills section's items as written ("Azure", "Web API"), taxonomy or not.
    """

    contact: Contact
    summary: str
    sections: dict[str, str]
    jobs: tuple[Job, ...]
    education: tuple[Education, ...]
    skills: tuple[SkillHit, ...]
    total_years: float
    entities: Entities
    language: str
    notes: tuple[str, ...]
    word_count: int
    pages: int
    text: str
    filename: str
    kind: str = "txt"
    odd_glyphs: int = 0
    tables: int = 0
    table_share: float = 0.0
    columns_hint: bool = False
    layout_tables: int = 0
    listed_skills: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain nested dicts and lists (for JSON and tables)."""
        return asdict(self)


def profile_from_text(
    document: ResumeText,
    *,
    config: ResumeConfig | None = None,
    ner: NerTagger | None = None,
    today: dt.date | None = None,
    progress: Progress = null_progress,
) -> ResumeProfile:
    """Analyse text already read from a file (see :func:`analyze_resume`)."""
    config = config or ResumeConfig()
    text = document.text
    words = len(re.findall(r"\S+", text))
    if words < config.min_words:
        raise InputError(
            f"`{document.filename}` has only {words} words; a resume needs at least {config.min_words}. "
            "Upload the full resume."
        )
    progress(0.1, "Finding sections")
    sections = section_texts(split_sections(text))
    header = sections.get(HEADER, "\n".join(text.splitlines()[:4]))
    notes = list(document.notes)
    if len(sections) <= 1:
        notes.append("No section headings were recognised; the whole text was treated as one block.")
    progress(0.3, "Reading contact details and names")
    contact = find_contact(text, header)
    entities = rule_entities(text)
    if ner is not None:
        progress(0.4, f"Tagging names with {ner.resolved.spec.title}")
        entities = merge_entities(entities, ner.tag(text), ner.resolved.spec.title)
    progress(0.6, "Reading positions and dates")
    experience_text = sections.get("experience")
    if experience_text is None:  # no heading: take dated lines anywhere but in education
        experience_text = "\n".join(v for k, v in sections.items() if k not in ("education", "projects"))
    jobs = parse_jobs(experience_text, today)
    education = parse_education(sections.get("education", ""), (*KNOWN_ORGANISATIONS, *entities.organisations))
    entities = replace(  # employers and schools found by position parsing are organisations too
        entities,
        organisations=tuple(
            dict.fromkeys(
                [*entities.organisations, *(j.organisation for j in jobs if j.organisation)]
                + [e.institution for e in education if e.institution]
            )
        ),
    )
    progress(0.8, "Matching skills against the taxonomy")
    skills = default_matcher().find(text)
    profile = ResumeProfile(
        contact=contact,
        summary=sections.get("summary", ""),
        sections=sections,
        jobs=tuple(jobs),
        education=tuple(education),
        skills=tuple(skills),
        total_years=total_years(_job_periods(jobs)),
        entities=entities,
        language=document.language,
        notes=tuple(notes),
        word_count=words,
        pages=document.pages,
        text=text,
        filename=document.filename,
        kind=document.kind,
        odd_glyphs=document.odd_glyphs,
        tables=document.tables,
        table_share=document.table_share,
        columns_hint=document.columns_hint,
        layout_tables=document.layout_tables,
        listed_skills=tuple(listed_skills(sections.get("skills", ""))),
    )
    progress(1.0, f"Analysed {document.filename}")
    return profile


def _job_periods(jobs: list[Job]) -> list[Period]:
    return [Period(j.dates, j.start, j.end, j.months, j.current, (0, 0)) for j in jobs if j.months > 0]


def analyze_resume(
    data: bytes,
    filename: str,
    *,
    config: ResumeConfig | None = None,
    ner: NerTagger | None = None,
    today: dt.date | None = None,
    progress: Progress = null_progress,
) -> ResumeProfile:
    """Read and analyse a resume file (PDF, DOCX, TXT).

    Args:
        data: The file's bytes (never written to disk).
        filename: Its name; the extension picks the reader.
        config: Reading limits.
        ner: A NER model from :func:`engines.resume.entities.load_ner`; None uses rules and gazetteers only.
        today: What "Present" means in date ranges (default: today), for reproducible results.
        progress: Receives each step; ends at 1.0.

    Raises:
        InputError: for an empty, corrupt, encrypted, scanned (image-only), too long, table-only or
            non-English file, or one with too few words to be a resume.
    """
    config = config or ResumeConfig()
    document = read_resume_file(
        data,
        filename,
        max_pages=config.max_pages,
        max_table_share=config.max_table_share,
        check_language=config.check_language,
        progress=scaled(progress, 0.0, 0.5),
    )
    return profile_from_text(document, config=config, ner=ner, today=today, progress=scaled(progress, 0.5, 1.0))


def analyze_text(
    text: str,
    *,
    name: str = "pasted resume",
    config: ResumeConfig | None = None,
    ner: NerTagger | None = None,
    today: dt.date | None = None,
    progress: Progress = null_progress,
) -> ResumeProfile:
    """Analyse a resume pasted as text (same rules as :func:`analyze_resume`).

    Raises:
        InputError: for empty, too short or non-English text.
    """
    config = config or ResumeConfig()
    document = read_text(text, name, check_language=config.check_language)
    return profile_from_text(document, config=config, ner=ner, today=today, progress=progress)


def model_card() -> dict:
    """What the page shows about the analyzer: data, methods, models and limitations."""
    from engines.resume.matching import MatchConfig
    from engines.resume.skills import load_taxonomy

    taxonomy = load_taxonomy()
    return {
        "name": "Resume analyzer",
        "data": (
            f"A skills taxonomy written by the project ({len(taxonomy)} skills in "
            f"{len({s.category for s in taxonomy})} categories, with synonyms), project-written lists of section "
            "headings, action verbs, employers, cities and countries. Sample resumes and job ads in "
            "assets/resumes/ are fictional and generated by data/make_resume_samples.py. Nothing is trained."
        ),
        "methods": [
            "Text: pypdf (PDF, line breaks kept), python-docx (Word, paragraphs and tables in body order), "
            "plain text; scanned, encrypted, corrupt and over-long files are refused with a reason.",
            "Sections: known headings on their own line, after a colon, or glued after other text in capitals.",
            "Contact: regular expressions for email, phone and profile links; the name is the first header line "
            "that reads like a name.",
            "Organisations and places: gazetteers and rules (company suffixes, 'University of ...', 'City, ST'); "
            "optionally a BERT NER model (dslim/bert-base-NER) when available offline.",
            "Experience: date ranges ('Jan 2019 – Present', '2017 – 2020', '03/2018 - 11/2021', '06/15 - Now'), "
            "overlaps merged, months counted inclusively; positions laid out 'Title / Employer - City, ST - / dates', "
            "'Title - Employer / dates' or 'Employer, City, ST - dates / Title'; club and society memberships are "
            "not positions.",
            "Education: 'Degree / School - City / years' blocks or a line naming a degree; notes such as "
            "'Expected Graduation: May' are dropped.",
            "Skills: taxonomy terms on word boundaries, longest first, case and list-context rules for short "
            "ambiguous names (R, C, Go), and everyday readings left out ('Spring 2017', 'Front End Supervisor'); "
            "the skills section's own items are listed as written.",
            "Match score: weighted sum of required-skill coverage ({w.required_weight:.2f}), MiniLM semantic "
            "similarity ({w.semantic_weight:.2f}), the job title in the candidate's titles ({w.title_weight:.2f}), "
            "keyword coverage ({w.keyword_weight:.2f}), nice-to-have coverage ({w.nice_weight:.2f}) and years of "
            "experience ({w.experience_weight:.2f}); parts that cannot be measured are dropped and the rest "
            "rescaled.".format(w=MatchConfig()),
            "Feedback: rules for action verbs, numbers in bullets, length, missing sections, ATS hazards.",
        ],
        "models": {
            "sentence embeddings": "all-MiniLM-L6-v2 (engines.core.embeddings), optional: lexical only without it",
            "named entities": "dslim/bert-base-NER, optional: rules and gazetteers without it",
        },
        "limitations": [
            "English only: other languages are refused rather than analysed badly.",
            "No OCR: scanned resumes (images) cannot be read.",
            "Skills outside the taxonomy are not recognised; a skill mentioned in passing counts like a listed one.",
            "Multi-column and table layouts can come out in a mixed reading order.",
            "Job boundaries come from date ranges; a position without dates is not counted in total years.",
            "The match score's weights were set by hand, not learned; it ranks, it does not decide.",
        ],
    }

"""Resume analyzer: read a resume, find its parts, match it against a job, suggest improvements.

Reads PDF, DOCX and TXT; finds sections, contact, jobs, skills and years; scores the fit with a job
description as one explained number; and lists prioritised suggestions.

Nothing heavy is imported here; pypdf, python-docx, langid, and the optional MiniLM encoder and NER model
load only when used.
"""

from engines.resume.analyze import ResumeConfig, ResumeProfile, analyze_resume, analyze_text, model_card
from engines.resume.entities import Contact, Entities, load_ner
from engines.resume.experience import Education, Job
from engines.resume.feedback import Suggestion, review
from engines.resume.matching import (
    JobDescription,
    MatchConfig,
    MatchResult,
    ScoreComponent,
    match,
    rank,
    rank_jobs,
    read_job,
)
from engines.resume.skills import SkillHit

__all__ = [
    "Contact",
    "Education",
    "Entities",
    "Job",
    "JobDescription",
    "MatchConfig",
    "MatchResult",
    "ResumeConfig",
    "ResumeProfile",
    "ScoreComponent",
    "SkillHit",
    "Suggestion",
    "analyze_resume",
    "analyze_text",
    "load_ner",
    "match",
    "model_card",
    "rank",
    "rank_jobs",
    "read_job",
    "review",
]

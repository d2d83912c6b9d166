"""Resume analyzer: job matching, contact extraction, text extraction and speed on the fictional shared resumes.

Data: ``<data_dir>/resumes/`` (see its SOURCE.md): ``resume_matcher_pdfs/`` (5 fictional resumes, 4 job
descriptions, and the text Resume-Matcher extracted from each PDF) and ``sample_pdfs/`` (5 synthetic
resumes). Nothing from there is copied into the repository; the expected contact details below were read
from the PDFs by hand (all fictional).

Rows:

- ``analyzer, lexical only``: match_top1 without an encoder (skills, title, keywords, years);
- ``analyzer + MiniLM`` (default): the same with MiniLM semantic similarity; also contact_exact,
  name_exact, extraction similarity to Resume-Matcher's text (difflib ratio after whitespace normalisation,
  mean and min), analysis seconds per two-page resume (median, read + analyse + match with MiniLM, model
  load excluded) and the model load time;
- ``TF-IDF cosine (whole texts)``: the baseline Resume-Matcher-style tools use, run in the same process.

``match_top1``: the share of resumes whose best-scoring job description is an intended one
(barry_allen_fe -> front_end_engineer; bruce_wayne_fullstack and john_doe -> full_stack_engineer or
java_developer; alfred_pennyworth_pm -> product_manager). harvey_dent_mle (an ML engineer) has no intended
job; its best job is printed and left out.

Anchors: issue 12's targets (match_top1 1.0, contact_exact 1.0, analysis under 2 s).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import statistics
import time
from pathlib import Path

from benchmarks.common import Anchor, Record, Skip

ENGINE = "resume"
DATASET = "fictional resumes (Resume-Matcher + Cv_App samples)"
TODAY = dt.date(2024, 6, 1)  # "Present" in the resumes; fixed so years are reproducible
INTENDED = {
    "alfred_pennyworth_pm": {"product_manager"},
    "barry_allen_fe": {"front_end_engineer"},
    "bruce_wayne_fullstack": {"full_stack_engineer", "java_developer"},
    "john_doe": {"full_stack_engineer", "java_developer"},
}
NO_INTENDED_JOB = ("harvey_dent_mle",)
# Read by hand from each PDF's text (all fictional people, 555 or (123) numbers).
CONTACTS = {
    "alfred_pennyworth_pm": ("Alfred Pennyworth", "alfred.pennyworth@email.com", "(123) 456-7890"),
    "barry_allen_fe": ("Barry Allen", "allthe.stars@google.com", "(123) 456-7890"),
    "bruce_wayne_fullstack": ("Bruce Wayne", "bwayne@email.com", "(123) 456-7890"),
    "harvey_dent_mle": ("Harvey Dent", "hdent@email.com", "(123) 456-7891"),
    "john_doe": ("JOHN DOE", "john.doe@email.com", "(123) 456-7890"),
    "David_Kim_Backend_Developer": ("David Kim", "david.kim@email.com", "555-456-7890"),
    "Emily_Rodriguez_Data_Scientist": ("Emily Rodriguez", "emily.rodriguez@email.com", "555-345-6789"),
    "Jessica_Williams_Frontend_Engineer": ("Jessica Williams", "jessica.williams@email.com", "555-567-8901"),
    "Michael_Chen_Full_Stack_Engineer": ("Michael Chen", "michael.chen@email.com", "555-234-5678"),
    "Sarah_Johnson_Senior_React_Developer": ("Sarah Johnson", "sarah.johnson@email.com", "555-123-4567"),
}
TIMING_RUNS = 7
ANCHORS = [
    Anchor(ENGINE, DATASET, "issue 12 target", "match_top1", 1.0),
    Anchor(ENGINE, DATASET, "issue 12 target", "contact_exact", 1.0),
    Anchor(ENGINE, DATASET, "issue 12 target", "analysis_s", 2.0),
]


def normalise(text: str) -> str:
    """Whitespace collapsed, for comparing extractions."""
    return " ".join(text.split())


def char_similarity(a: str, b: str) -> float:
    """difflib's ratio of two texts after whitespace normalisation."""
    return difflib.SequenceMatcher(None, normalise(a), normalise(b), autojunk=False).ratio()


def tfidf_top1(resume_texts: dict[str, str], job_texts: dict[str, str]) -> dict[str, str]:
    """Best job per resume by TF-IDF cosine of the whole texts (the plain baseline)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    names, jobs = list(resume_texts), list(job_texts)
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(
        [*resume_texts.values(), *job_texts.values()]
    )
    sims = cosine_similarity(
        vectorizer.transform(list(resume_texts.values())), vectorizer.transform(list(job_texts.values()))
    )
    return {name: jobs[int(row.argmax())] for name, row in zip(names, sims, strict=True)}


def top1_share(best: dict[str, str]) -> float:
    """Share of the resumes with an intended job whose best job is one of them."""
    return sum(best[name] in wanted for name, wanted in INTENDED.items()) / len(INTENDED)


def run(data_dir: Path, seeds: int = 1, progress=print) -> tuple[list[Record], list[Anchor]]:  # noqa: ARG001 (no randomness)
    """Analyse every shared resume, match it against the four job descriptions, time a two-page resume."""
    root = Path(data_dir) / "resumes"
    matcher_dir = root / "resume_matcher_pdfs"
    if not (matcher_dir / "resumes").is_dir():
        raise Skip(f"{matcher_dir} not found (the fictional resumes of ../shared/data/resumes)")
    import torch

    from engines.core.embeddings import load_encoder
    from engines.resume import analyze_resume, rank_jobs, read_job
    from engines.resume.extract import read_resume_file

    torch.set_num_threads(1)
    started = time.perf_counter()
    encoder, resolved = load_encoder(max_length=256)
    load_s = time.perf_counter() - started
    progress(f"resume: {resolved.notice} loaded in {load_s:.1f} s")

    job_files = sorted((matcher_dir / "job_descriptions").glob("*.pdf"))
    jobs = {p.stem.removeprefix("job_desc_"): read_job(p.read_bytes(), p.name) for p in job_files}
    titles = {job.title: key for key, job in jobs.items()}
    resume_files = sorted((matcher_dir / "resumes").glob("*.pdf"))
    profiles = {p.stem: analyze_resume(p.read_bytes(), p.name, today=TODAY) for p in resume_files}

    best: dict[str, dict[str, str]] = {"lexical": {}, "minilm": {}}
    for name, profile in profiles.items():
        for mode, enc in (("lexical", None), ("minilm", encoder)):
            ranked = rank_jobs(profile, list(jobs.values()), enc)
            best[mode][name] = titles[ranked[0].job_title]
            progress(
                f"resume: {name} [{mode}] -> "
                + ", ".join(f"{titles[r.job_title]} {r.score:.1f}" for r in ranked)
                + (" (no intended job)" if name in NO_INTENDED_JOB else "")
            )
    baseline = tfidf_top1({name: p.text for name, p in profiles.items()}, {key: job.text for key, job in jobs.items()})
    for name in NO_INTENDED_JOB:
        progress(
            f"resume: {name} has no intended job; best: MiniLM {best['minilm'].get(name)}, TF-IDF {baseline.get(name)}"
        )

    # Contact details over both folders.
    all_files = [*resume_files, *sorted((root / "sample_pdfs").glob("*.pdf"))]
    contact_hits = name_hits = checked = 0
    for path in all_files:
        if path.stem not in CONTACTS:
            continue
        profile = profiles.get(path.stem) or analyze_resume(path.read_bytes(), path.name, today=TODAY)
        name, email, phone = CONTACTS[path.stem]
        ok = profile.contact.email == email and profile.contact.phone == phone
        contact_hits += ok
        name_hits += profile.contact.name == name
        checked += 1
        if not ok:
            progress(f"resume: contact miss in {path.name}: {profile.contact.email!r} {profile.contact.phone!r}")

    # Extraction against Resume-Matcher's own text of the same PDFs.
    similarities = []
    reference = matcher_dir / "extracted_text.jsonl"
    if reference.is_file():
        for line in reference.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            pdf = matcher_dir / row["file"]
            if pdf.is_file():
                ours = read_resume_file(pdf.read_bytes(), pdf.name, max_pages=20).raw
                similarities.append(char_similarity(ours, row["text"]))
                progress(f"resume: extraction similarity {row['file']}: {similarities[-1]:.3f}")

    # Speed: a two-page resume, read + analysed + matched with MiniLM, model load excluded.
    two_page = next(p for p in resume_files if re.search(r"bruce_wayne", p.name))
    job = jobs["full_stack_engineer"]
    times = []
    for _ in range(TIMING_RUNS):
        t0 = time.perf_counter()
        profile = analyze_resume(two_page.read_bytes(), two_page.name, today=TODAY)
        rank_jobs(profile, [job], encoder)
        times.append(time.perf_counter() - t0)

    default = "analyzer + MiniLM"
    records = [
        Record(ENGINE, DATASET, "analyzer, lexical only", "match_top1", top1_share(best["lexical"]), False),
        Record(ENGINE, DATASET, default, "match_top1", top1_share(best["minilm"]), True),
        Record(ENGINE, DATASET, default, "contact_exact", contact_hits / max(checked, 1), True),
        Record(ENGINE, DATASET, default, "name_exact", name_hits / max(checked, 1), True),
        Record(ENGINE, DATASET, default, "resumes", float(checked), True),
        Record(ENGINE, DATASET, default, "analysis_s", statistics.median(times), True),
        Record(ENGINE, DATASET, default, "model_load_s", load_s, True),
        Record(ENGINE, DATASET, "TF-IDF cosine (whole texts)", "match_top1", top1_share(baseline), False),
    ]
    if similarities:
        records += [
            Record(ENGINE, DATASET, default, "extract_sim_mean", statistics.fmean(similarities), True),
            Record(ENGINE, DATASET, default, "extract_sim_min", min(similarities), True),
        ]
    return records, ANCHORS

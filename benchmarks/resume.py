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

Entities on real resumes (issue 28): ``<data_dir>/resume-entities/resumes-dev.jsonl`` (150 real resumes
with human annotations; see its SOURCE.md: real personal data, read here, never copied). They are split
once, seeded (``ENTITY_SEED``), into ``dev`` (100, the only split rules were tuned on) and ``test`` (50).
Per field (titles, employers, degrees, colleges, skills, names) and split: micro precision, recall and F1
over all resumes, where a resume's gold values and predicted values are each normalised (lower case,
punctuation to spaces, whitespace collapsed), de-duplicated, and paired one to one by fuzzy matching
(:func:`fuzzy_equal`). Gold skills are the annotated spans split into list items with "(N years)" notes
removed; predicted skills are the profile's ``listed_skills`` (the skills section's items as written).
The extractor is :func:`engines.resume.analyze_text` on the plain text (rules only, no NER model), with
the language check off and "Present" fixed at ``ENTITY_TODAY``.

Measured (F1, dev / test; the rules were tuned on dev only):

- before issue 28 (commit d64902e, skills = taxonomy terms as written): titles 0.022 / 0.053, employers
  0.011 / 0.020, degrees 0.608 / 0.510, colleges 0.236 / 0.222, skills 0.201 / 0.256, names 0.937 / 0.990;
- after: titles 0.580 / 0.595, employers 0.609 / 0.527, degrees 0.795 / 0.758, colleges 0.849 / 0.784,
  skills 0.607 / 0.559, names 0.990 / 1.000.

The annotations miss many real titles and employers (a position's title is often marked in the header
only), which caps precision: most "false" titles on dev are real titles nobody marked.
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
    """The fictional-resume benchmark and the real-resume entity benchmark, each when its data is there."""
    records: list[Record] = []
    anchors: list[Anchor] = []
    reasons = []
    for part in (matching_run, entity_run):
        try:
            got, anchor = part(Path(data_dir), progress)
        except Skip as reason:
            reasons.append(str(reason))
            progress(f"resume: skipped a part: {reason}")
            continue
        records += got
        anchors += anchor
    if not records:
        raise Skip("; ".join(reasons))
    return records, anchors


# ---------------------------------------------------------------- entities on real resumes (issue 28)

ENTITY_FILE = Path("resume-entities") / "resumes-dev.jsonl"
ENTITY_SEED = 28  # fixed once: issue 28
DEV_SIZE = 100  # the rest (50) is the held-out test split
FIELDS = ("titles", "employers", "degrees", "colleges", "skills", "names")
LABELS = {
    "Designation": "titles",
    "Companies worked at": "employers",
    "Degree": "degrees",
    "College Name": "colleges",
    "Skills": "skills",
    "Name": "names",
}
FUZZY_RATIO = 0.8  # difflib ratio of the normalised strings
FUZZY_COVER = 0.6  # or: the shorter's words are consecutive words of the longer, and this share of them
ENTITY_TODAY = dt.date(2018, 12, 31)  # the resumes were posted up to 2018
ENTITY_ANCHORS = [
    Anchor(ENGINE, f"resume-entities {split}", "issue 28 target", f"{field}_f1", goal)
    for split in ("test",)
    for field, goal in (
        ("titles", 0.75),
        ("employers", 0.75),
        ("degrees", 0.8),
        ("colleges", 0.8),
        ("skills", 0.6),
        ("names", 0.95),
    )
]


def normalise_value(text: str) -> str:
    """Lower case, punctuation to spaces, whitespace collapsed (how gold and predicted values are compared)."""
    return " ".join(re.sub(r"[^\w+#]+", " ", text.lower()).split())


def fuzzy_equal(a: str, b: str) -> bool:
    """Two normalised values name the same thing: near-equal strings, or one is most of the other's words."""
    if not a or not b:
        return False
    if a == b or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= FUZZY_RATIO:
        return True
    short, long_ = sorted((a.split(), b.split()), key=len)
    if len(short) / len(long_) < FUZZY_COVER:
        return False
    return any(long_[i : i + len(short)] == short for i in range(len(long_) - len(short) + 1))


def split_skill_span(text: str) -> list[str]:
    """An annotated skills span -> its list items ("Java (3 years), SQL" -> Java, SQL)."""
    text = re.sub(r"\((?:less\s+than\s+)?[\d+\s]*(?:years?|months?)\)", " ", text, flags=re.IGNORECASE)
    items = re.split(r"[,;\n•●▪➢\u2022|]+|\s{2,}|\band\b", text)
    return [item.strip(" .:-") for item in items if item.strip(" .:-")]


def gold_values(row: dict) -> dict[str, set[str]]:
    """Field -> normalised gold values of one annotated resume."""
    out: dict[str, set[str]] = {f: set() for f in FIELDS}
    for annotation in row.get("annotation") or []:
        for label in annotation.get("label") or []:
            field = LABELS.get(label)
            if field is None:
                continue
            for point in annotation.get("points") or []:
                texts = split_skill_span(point["text"]) if field == "skills" else [point["text"]]
                out[field].update(v for v in map(normalise_value, texts) if v)
    return out


def predicted_values(profile) -> dict[str, set[str]]:
    """Field -> normalised values the analyzer found (None: the resume was refused)."""
    raw = {
        "titles": [j.title for j in profile.jobs],
        "employers": [j.organisation for j in profile.jobs],
        "degrees": [e.degree for e in profile.education],
        "colleges": [e.institution for e in profile.education],
        "skills": list(profile.listed_skills),
        "names": [profile.contact.name],
    }
    return {field: {v for v in map(normalise_value, values) if v} for field, values in raw.items()}


def match_count(gold: set[str], predicted: set[str]) -> int:
    """One-to-one fuzzy pairs, exact matches first."""
    gold_left, hits = set(gold), 0
    for value in sorted(predicted, key=lambda v: v not in gold):
        partner = value if value in gold_left else next((g for g in sorted(gold_left) if fuzzy_equal(value, g)), None)
        if partner is not None:
            gold_left.discard(partner)
            hits += 1
    return hits


def entity_split(rows: list[dict]) -> dict[str, list[dict]]:
    """The fixed dev/test split of the annotated resumes."""
    import random

    order = list(range(len(rows)))
    random.Random(ENTITY_SEED).shuffle(order)  # noqa: S311 (a fixed split, not security)
    return {"dev": [rows[i] for i in order[:DEV_SIZE]], "test": [rows[i] for i in order[DEV_SIZE:]]}


def load_entity_rows(data_dir: Path) -> list[dict]:
    """The annotated resumes, or Skip when the data dir lacks them."""
    path = Path(data_dir) / ENTITY_FILE
    if not path.is_file():
        raise Skip(f"{path} not found (the annotated real resumes of ../shared/data/resume-entities)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_entities(rows: list[dict], analyse=None, misses=None) -> dict[str, tuple[float, float, float]]:
    """Field -> (precision, recall, F1) over ``rows`` (micro: counts summed over resumes).

    ``misses``, when a dict, receives per field a list of (resume index, gold, predicted) for inspection.
    """
    from engines.core.errors import InputError
    from engines.resume import ResumeConfig, analyze_text

    analyse = analyse or (
        lambda text: analyze_text(text, config=ResumeConfig(check_language=False), today=ENTITY_TODAY)
    )
    counts = {f: [0, 0, 0] for f in FIELDS}  # hits, predicted, gold
    for index, row in enumerate(rows):
        gold = gold_values(row)
        try:
            predicted = predicted_values(analyse(row["content"]))
        except InputError:
            predicted = {f: set() for f in FIELDS}
        for field in FIELDS:
            hits = match_count(gold[field], predicted[field])
            counts[field][0] += hits
            counts[field][1] += len(predicted[field])
            counts[field][2] += len(gold[field])
            if misses is not None and (hits < len(gold[field]) or hits < len(predicted[field])):
                misses.setdefault(field, []).append((index, gold[field], predicted[field]))
    out = {}
    for field, (hits, n_pred, n_gold) in counts.items():
        precision = hits / n_pred if n_pred else 0.0
        recall = hits / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[field] = (precision, recall, f1)
    return out


def entity_run(data_dir: Path, progress=print) -> tuple[list[Record], list[Anchor]]:
    """Per-field precision, recall and F1 on the dev and the held-out test split of the annotated resumes."""
    splits = entity_split(load_entity_rows(data_dir))
    records = []
    for split, rows in splits.items():
        dataset = f"resume-entities {split}"
        started = time.perf_counter()
        scores = score_entities(rows)
        progress(f"resume: entities {split} ({len(rows)} resumes) in {time.perf_counter() - started:.1f} s")
        records.append(Record(ENGINE, dataset, "analyzer (rules)", "resumes", float(len(rows)), True))
        for field, (precision, recall, f1) in scores.items():
            records += [
                Record(ENGINE, dataset, "analyzer (rules)", f"{field}_p", precision, True),
                Record(ENGINE, dataset, "analyzer (rules)", f"{field}_r", recall, True),
                Record(ENGINE, dataset, "analyzer (rules)", f"{field}_f1", f1, True),
            ]
    return records, ENTITY_ANCHORS


# ---------------------------------------------------------------- matching on fictional resumes (issue 12)


def matching_run(data_dir: Path, progress=print) -> tuple[list[Record], list[Anchor]]:
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

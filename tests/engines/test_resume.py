"""Resume analyzer engine: reading, sections, contact, dates, skills, matching, feedback and bad input."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pytest

from engines.core.errors import InputError
from engines.resume import (
    MatchConfig,
    analyze_resume,
    analyze_text,
    match,
    model_card,
    rank,
    rank_jobs,
    read_job,
    review,
)
from engines.resume.experience import find_periods, parse_jobs, total_years
from engines.resume.feedback import bullet_issues
from engines.resume.sections import split_glued_headings, split_sections
from engines.resume.skills import default_matcher
from tests.conftest import require_dataset

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "assets" / "resumes"
TODAY = dt.date(2024, 6, 1)
# The project's own fictional samples (data/make_resume_samples.py): file -> (name, email, phone, intended job).
SAMPLE_RESUMES = {
    "priya_raman_data_scientist.pdf": ("Priya Raman", "priya.raman@example.com", "+1 (555) 201-3344", "Data Scientist"),
    "lucas_moreau_frontend.pdf": ("Lucas Moreau", "lucas.moreau@example.com", "555-310-4477", "Front-End Engineer"),
    "hannah_okafor_product_manager.pdf": (
        "Hannah Okafor",
        "hannah.okafor@example.com",
        "(555) 402-9120",
        "Product Manager",
    ),
    "hannah_okafor_product_manager.docx": (
        "Hannah Okafor",
        "hannah.okafor@example.com",
        "(555) 402-9120",
        "Product Manager",
    ),
    "tom_becker_junior_backend.pdf": ("Tom Becker", "tom.becker@example.com", "555.617.2289", "Backend Engineer"),
}


@pytest.fixture(scope="module")
def profiles():
    return {name: analyze_resume((SAMPLES / name).read_bytes(), name, today=TODAY) for name in SAMPLE_RESUMES}


@pytest.fixture(scope="module")
def jobs():
    return [read_job((SAMPLES / p.name).read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("job_*.txt"))]


def job_named(jobs, title):
    return next(j for j in jobs if j.title == title)


class BagOfWords:
    """A stand-in sentence encoder: hashed word counts, unit length (deterministic, no model)."""

    def encode(self, texts):
        rows = np.zeros((len(texts), 256), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                rows[i, sum(map(ord, word)) % 256] += 1
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)


# ----- samples: files, sections, contact --------------------------------------------------------------


def test_sample_files_are_small_and_complete():
    names = {p.name for p in SAMPLES.iterdir()}
    assert set(SAMPLE_RESUMES) <= names
    assert len([n for n in names if n.startswith("job_")]) == 4
    assert all(p.stat().st_size < 100_000 for p in SAMPLES.iterdir())


@pytest.mark.parametrize("name", list(SAMPLE_RESUMES))
def test_samples_sections_and_contact(profiles, name):
    profile = profiles[name]
    person, email, phone, _ = SAMPLE_RESUMES[name]
    assert {"experience", "education", "skills"} <= set(profile.sections)
    assert (profile.contact.name, profile.contact.email, profile.contact.phone) == (person, email, phone)
    assert profile.language == "en"
    assert profile.jobs and all(job.bullets for job in profile.jobs)
    assert profile.education and profile.education[0].year is not None


def test_two_page_sample_and_all_sections(profiles):
    priya = profiles["priya_raman_data_scientist.pdf"]
    assert priya.pages == 2
    assert {"summary", "skills", "experience", "projects", "education", "certifications"} <= set(priya.sections)
    assert [j.organisation for j in priya.jobs] == ["Northwind Analytics", "Bluefin Logistics", "Maple Street Bank"]
    assert priya.jobs[0].title == "Senior Data Scientist" and priya.jobs[0].place == "Chicago, IL"
    assert "linkedin.com/in/priya-raman-example" in priya.contact.links
    assert priya.contact.location == "Chicago, IL"
    # Mar 2021-Jun 2024 (40) + Jun 2018-Feb 2021 (33) + Jul 2016-May 2018 (23) months, no overlap.
    assert priya.total_years == round(96 / 12, 1)


def test_docx_reads_like_the_pdf(profiles):
    pdf, docx = profiles["hannah_okafor_product_manager.pdf"], profiles["hannah_okafor_product_manager.docx"]
    assert docx.kind == "docx"
    assert set(pdf.sections) == set(docx.sections)
    assert [(j.title, j.organisation, j.months) for j in pdf.jobs] == [
        (j.title, j.organisation, j.months) for j in docx.jobs
    ]
    assert {s.name for s in pdf.skills} == {s.name for s in docx.skills}


def test_headings_glued_into_lines_are_found():
    text = (
        "Jane Roe\njane.roe@example.com | 555-111-2222 | Seattle, WA PROFESSIONAL SUMMARY\n"
        "Data engineer with 6 years of experience building pipelines. Python and Machine Learning basics Experience\n"
        "Data Engineer, Acme Inc., Seattle, WA, Jan 2019 - Present\n"
        "• Built 40 Airflow pipelines processing 2 TB a day\n"
        "Proficient in Python and SQL. EDUCATION\n"
        "Bachelor of Science in Computer Science, University of Washington, 2018"
    )
    split = split_glued_headings(text).splitlines()
    assert "PROFESSIONAL SUMMARY" in split and "Experience" in split and "EDUCATION" in split
    assert "jane.roe@example.com | 555-111-2222 | Seattle, WA" in split
    names = [s.name for s in split_sections(text)]
    assert names == ["header", "summary", "experience", "education"]
    # A skills list with a capitalised word at the end of a line is not a heading.
    assert split_glued_headings("Agile methodologies, Leadership") == "Agile methodologies, Leadership"
    assert split_glued_headings("years of experience in web development") == "years of experience in web development"


def test_reflowed_pdf_text_still_finds_sections():
    from engines.core.documents import read_document

    data = (SAMPLES / "lucas_moreau_frontend.pdf").read_bytes()
    reflowed = read_document(data, "lucas.pdf").text
    profile = analyze_text(reflowed, today=TODAY)
    assert {"summary", "skills", "experience", "education"} <= set(profile.sections)
    assert profile.contact.email == "lucas.moreau@example.com"


# ----- dates and years --------------------------------------------------------------------------------


def test_date_formats_and_present_uses_today():
    text = "Jan 2019 – Present\n2017 – 2020\n03/2018 - 11/2021\nSept. 2015 to May 2016"
    periods = find_periods(text, dt.date(2024, 6, 15))
    assert [(p.start, p.end, p.months) for p in periods] == [
        ("2019-01", "2024-06", 66),
        ("2017-01", "2019-12", 36),
        ("2018-03", "2021-11", 45),
        ("2015-09", "2016-05", 9),
    ]
    assert periods[0].current
    later = find_periods("Jan 2019 – Present", dt.date(2025, 6, 15))
    assert later[0].months == 78


def test_overlapping_jobs_are_merged():
    section = (
        "Engineer, Acme Inc.\nJan 2019 - Present\n• Built things\n"
        "Consultant, Side Co.\nJun 2020 - Dec 2021\n• Advised people\n"
        "Analyst, Old Bank\n2010 - 2012\n• Analyzed data"
    )
    jobs = parse_jobs(section, dt.date(2024, 6, 1))
    assert [j.organisation for j in jobs] == ["Acme Inc.", "Side Co.", "Old Bank"]
    periods = find_periods(section, dt.date(2024, 6, 1))
    assert total_years(periods) == 7.5  # 66 + 24 months; the 2020-2021 side job lies inside the first


def test_date_ranges_are_not_phone_numbers():
    profile = analyze_text(
        "Sam Lee\nsam@example.com\nEXPERIENCE\nEngineer, Acme Inc.\n2017 - 2020\n• Built 3 services used by 2000 users "
        "and many more words to pass the minimum length of a resume for this test to run through the analyzer",
        today=TODAY,
    )
    assert profile.contact.phone == ""
    assert profile.total_years == 3.0


# ----- skills -----------------------------------------------------------------------------------------


def test_skill_synonyms_and_categories():
    found = {h.name: h for h in default_matcher().find("ReactJS, Golang, K8s, Postgres, scikit learn and sklearn")}
    assert set(found) == {"React", "Go", "Kubernetes", "PostgreSQL", "scikit-learn"}
    assert found["scikit-learn"].count == 2 and found["scikit-learn"].category == "Data & ML"
    assert found["Go"].category == "Languages"


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("We plan the go to market and Go-to-market launch", "Go"),
        ("Our R&D team", "R"),
        ("JavaScript and TypeScript", "Java"),
        ("React Native apps", "React"),
        ("a node in a tree", "Node.js"),
        ("grade C average", "C"),
        ("swift delivery", "Swift"),
    ],
)
def test_ambiguous_words_are_not_skills(text, absent):
    assert absent not in default_matcher().names(text)


def test_ambiguous_words_in_lists_are_skills():
    names = default_matcher().names("Python, R, SQL\nGo and Rust\nC, C++, C#\nNode.js, CI/CD")
    assert {"R", "Go", "Rust", "C", "C++", "C#", "Node.js", "CI/CD"} <= names


# ----- matching ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoder", [None, BagOfWords()], ids=["lexical", "semantic"])
def test_each_sample_ranks_its_own_job_first(profiles, jobs, encoder):
    for name, (_, _, _, intended) in SAMPLE_RESUMES.items():
        ranked = rank_jobs(profiles[name], jobs, encoder)
        assert ranked[0].job_title == intended, (name, [(r.job_title, round(r.score, 1)) for r in ranked])


def test_rank_orders_candidates_for_a_job(profiles, jobs):
    job = job_named(jobs, "Backend Engineer")
    ranked = rank([profiles[n] for n in SAMPLE_RESUMES], job)
    assert ranked[0].candidate == "Tom Becker"
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_required_and_nice_to_have_are_split(jobs):
    backend = job_named(jobs, "Backend Engineer")
    assert ("PostgreSQL",) in backend.required and ("Docker",) in backend.required
    assert ("Python", "Django", "Flask") in backend.required  # "Python with Django or Flask": any one
    assert ("Redis", "Kafka", "RabbitMQ") in backend.nice
    assert "Kubernetes" in backend.nice_skills and "Kubernetes" not in backend.required_skills
    assert backend.min_years == 2
    frontend = job_named(jobs, "Front-End Engineer")
    assert ("React", "Vue.js", "Angular") in frontend.required
    assert "Next.js" in frontend.nice_skills and "Next.js" not in frontend.required_skills


def test_score_is_the_sum_of_its_components(profiles, jobs):
    job = job_named(jobs, "Data Scientist")
    for encoder in (None, BagOfWords()):
        result = match(profiles["priya_raman_data_scientist.pdf"], job, encoder)
        assert 0 <= result.score <= 100
        assert sum(c.points for c in result.components) == pytest.approx(result.score)
        assert sum(c.weight for c in result.components) == pytest.approx(1.0)
        for c in result.components:
            assert c.points == pytest.approx(100 * c.weight * c.value)
        names = {c.name for c in result.components}
        assert ("semantic similarity" in names) == (encoder is not None)
        assert result.explanations[0].startswith("Match score")
    lexical = match(profiles["priya_raman_data_scientist.pdf"], job)
    assert lexical.semantic_similarity is None
    assert any("lexical only" in line for line in lexical.explanations)


def test_missing_required_skills_are_reported(profiles, jobs):
    result = match(profiles["tom_becker_junior_backend.pdf"], job_named(jobs, "Data Scientist"))
    assert "Statistics" in result.missing_required
    assert result.score < 50


def test_match_config_is_validated():
    with pytest.raises(InputError, match="weights"):
        MatchConfig(required_weight=-1)
    with pytest.raises(InputError, match="semantic_floor"):
        MatchConfig(semantic_floor=0.9, semantic_ceiling=0.5)


# ----- feedback ---------------------------------------------------------------------------------------


def test_weak_and_strong_bullets():
    assert bullet_issues("Reduced API response time by 40% by adding Redis caching") == []
    assert bullet_issues("Responsible for the REST API of the mobile app") == ["no action verb", "no numbers"]
    assert bullet_issues("Built the billing service in Go") == ["no numbers"]
    assert bullet_issues("Leading a team of 5 engineers") == []


def test_feedback_on_the_weak_sample(profiles, jobs):
    tom = profiles["tom_becker_junior_backend.pdf"]
    suggestions = review(tom, job_named(jobs, "Data Scientist"))
    categories = [(s.category, s.priority) for s in suggestions]
    assert ("bullets", "high") in categories
    assert ("skills", "high") in categories
    assert any(s.category == "sections" and "summary" in s.message for s in suggestions)
    weak = next(s for s in suggestions if s.category == "bullets" and "action verb" in s.message)
    assert "Responsible for the REST API" in weak.message
    assert weak.example.startswith("Led the REST API")
    order = [s.priority for s in suggestions]
    assert order == sorted(order, key=["high", "medium", "low"].index)
    strong = review(profiles["priya_raman_data_scientist.pdf"])
    assert not any(s.category == "bullets" and "action verb" in s.message for s in strong)
    assert not any(s.category in ("contact", "sections") and s.priority == "high" for s in strong)


def test_feedback_flags_ats_problems_and_missing_contact():
    text = (
        "Alex Kim\n\uf0b7 Portland, OR\nSUMMARY\nBackend engineer with many years of work on services and tools "
        "for teams across the company.\nEXPERIENCE\nEngineer, Acme Inc.\n2018 - 2022\n\uf0b7 Worked on the API\n"
        "EDUCATION\nBachelor of Science, Oregon State University, 2018"
    )
    suggestions = review(analyze_text(text, today=TODAY))
    kinds = {(s.category, s.priority) for s in suggestions}
    assert ("contact", "high") in kinds  # no email, no phone
    assert any(s.category == "ats" and "glyph" in s.message for s in suggestions)
    assert any(s.category == "sections" and "skills" in s.message for s in suggestions)


# ----- bad input --------------------------------------------------------------------------------------


def _fpdf_pages(pages: int, text: str | None) -> bytes:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=11)
    for n in range(pages):
        pdf.add_page()
        if text is None:
            pdf.set_fill_color(30, 30, 30)
            pdf.rect(20, 20, 150, 200, style="F")  # a "scan": drawing, no text layer
        else:
            pdf.cell(text=f"{text} page {n + 1}")
    return bytes(pdf.output())


def test_scanned_pdf_says_no_ocr():
    with pytest.raises(InputError, match=r"(?s)no text layer.*no OCR"):
        analyze_resume(_fpdf_pages(2, None), "scan.pdf")


def test_encrypted_pdf():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(SAMPLES / "lucas_moreau_frontend.pdf").pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(InputError, match="password-protected"):
        analyze_resume(buffer.getvalue(), "locked.pdf")


def test_corrupt_and_mislabelled_files():
    data = (SAMPLES / "lucas_moreau_frontend.pdf").read_bytes()
    with pytest.raises(InputError, match=r"damaged|no text layer|could not be read"):
        analyze_resume(data[: len(data) // 3], "broken.pdf")
    with pytest.raises(InputError, match="not a PDF"):
        analyze_resume(b"hello, this is plain text", "resume.pdf")
    with pytest.raises(InputError, match="not a valid Word document"):
        analyze_resume(b"PK\x03\x04 not really a zip", "resume.docx")
    with pytest.raises(InputError, match="unsupported type"):
        analyze_resume(b"\x89PNG....", "resume.png")
    with pytest.raises(InputError, match="empty"):
        analyze_resume(b"", "resume.txt")


def test_three_hundred_page_pdf_is_refused():
    with pytest.raises(InputError, match=r"300 pages.*resume alone"):
        analyze_resume(_fpdf_pages(300, "Experience with Python and SQL"), "book.pdf")


def test_table_layout_docx_is_refused_and_some_tables_are_flagged():
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("Casey Table")
    table = document.add_table(rows=12, cols=2)
    for i, row in enumerate(table.rows):
        row.cells[0].text = f"Skill area {i} with Python, SQL and Docker for data work"
        row.cells[1].text = f"Jan 20{10 + i} - Dec 20{10 + i}: Engineer at Acme Inc. building services"
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(InputError, match=r"table.*plain paragraphs"):
        analyze_resume(buffer.getvalue(), "grid.docx")
    # A resume with a small table is read (rows in place) and gets an ATS warning instead.
    document = docx.Document()
    for line in (SAMPLES / "job_backend_engineer.txt").read_text().splitlines()[:3]:
        document.add_paragraph(line)
    document.add_paragraph("jo@example.com | 555-222-3333")
    document.add_paragraph("EXPERIENCE")
    document.add_paragraph("Engineer, Acme Inc., Austin, TX")
    document.add_paragraph("Jan 2019 - Dec 2022")
    for bullet in ("Built 12 REST APIs in Python", "Reduced costs by 20% with caching", "Led a team of 4 engineers"):
        document.add_paragraph(bullet, style="List Bullet")
    small = document.add_table(rows=1, cols=2)
    small.rows[0].cells[0].text, small.rows[0].cells[1].text = "Python", "SQL"
    document.add_paragraph("EDUCATION")
    document.add_paragraph("Bachelor of Science in Computer Science, Texas State University, 2018")
    buffer = io.BytesIO()
    document.save(buffer)
    profile = analyze_resume(buffer.getvalue(), "mixed.docx", today=TODAY)
    assert profile.tables == 1 and profile.jobs[0].bullets[0] == "Built 12 REST APIs in Python"
    assert any(s.category == "ats" and "table" in s.message for s in review(profile))


def test_a_two_column_table_layout_docx_is_read_column_by_column():
    docx = pytest.importorskip("docx")
    document = docx.Document()
    layout = document.add_table(rows=1, cols=2)
    left, right = layout.rows[0].cells
    left.text = "Jordan Lee"
    for line in ("jordan.lee@example.com", "555-222-3333", "SKILLS", "Python", "SQL", "Docker"):
        left.add_paragraph(line)
    right.text = "EXPERIENCE"
    right.add_paragraph("Backend Engineer, Acme Inc., Austin, TX")
    right.add_paragraph("Jan 2019 - Dec 2022")
    for bullet in ("Built 12 REST APIs in Python", "Reduced costs by 20% with caching"):
        right.add_paragraph(bullet, style="List Bullet")
    right.add_paragraph("EDUCATION")
    right.add_paragraph("Bachelor of Science in Computer Science, Texas State University, 2018")
    buffer = io.BytesIO()
    document.save(buffer)
    profile = analyze_resume(buffer.getvalue(), "two-column.docx", today=TODAY)  # all its text is in the table
    assert profile.tables == 1 and profile.layout_tables == 1 and profile.table_share == 0.0
    assert profile.contact.email == "jordan.lee@example.com"
    assert profile.jobs and profile.jobs[0].bullets[0] == "Built 12 REST APIs in Python"  # the right column, in order
    assert {"Python", "SQL", "Docker"} <= {hit.name for hit in profile.skills}
    assert any("layout table" in note and "cell by cell" in note for note in profile.notes), profile.notes
    ats = [s.message for s in review(profile) if s.category == "ats"]
    assert any("laid out in a table" in m for m in ats) and not any("table(s) holding" in m for m in ats), ats


def test_a_merged_cell_of_a_layout_table_is_read_once():
    docx = pytest.importorskip("docx")
    from engines.resume.extract import _docx_lines

    document = docx.Document()
    first, second, third = document.add_table(rows=1, cols=3).rows[0].cells
    merged = first.merge(second)  # one cell spanning two grid columns: row.cells lists it twice
    merged.text = "SUMMARY"
    for line in ("Engineer of ten years", "Python and SQL", "Austin, TX"):
        merged.add_paragraph(line)
    third.text = "EXPERIENCE"
    third.add_paragraph("Engineer, Acme Inc.")
    buffer = io.BytesIO()
    document.save(buffer)
    text, tables, share, layout = _docx_lines(buffer.getvalue())
    assert text.splitlines() == [
        "SUMMARY", "Engineer of ten years", "Python and SQL", "Austin, TX", "EXPERIENCE", "Engineer, Acme Inc."
    ]  # fmt: skip
    assert (tables, share, layout) == (1, 0.0, 1)


def test_non_english_resume_is_refused():
    spanish = (
        "María García\nmaria@example.com\nEXPERIENCIA PROFESIONAL\nIngeniera de software con ocho años de experiencia "
        "en el desarrollo de aplicaciones web para empresas de la región. Dirigí un equipo de cinco personas y "
        "mejoré el rendimiento de los servicios de la empresa. Trabajé con los clientes para definir los "
        "requisitos del producto y la planificación de las entregas durante todo el año en la oficina de Madrid."
    )
    with pytest.raises(InputError, match=r"Spanish.*English-only"):
        analyze_resume(spanish.encode(), "cv.txt")


def test_bad_job_descriptions():
    with pytest.raises(InputError, match="job description is empty"):
        read_job("   \n ")
    with pytest.raises(InputError, match="too short"):
        read_job("Engineer.")
    with pytest.raises(InputError, match="Name the job description file"):
        read_job(b"bytes without a name")
    with pytest.raises(InputError, match="empty"):
        read_job(b"", "job.txt")


def test_too_short_resume():
    with pytest.raises(InputError, match="only 3 words"):
        analyze_resume(b"Hello my resume", "short.txt")


# ----- progress, NER model, card ----------------------------------------------------------------------


def test_progress_ends_at_one(progress_log):
    analyze_resume((SAMPLES / "lucas_moreau_frontend.pdf").read_bytes(), "lucas.pdf", progress=progress_log)
    progress_log.assert_complete()


def test_ner_with_a_tiny_random_model(tmp_path, monkeypatch, no_hf_cache, one_torch_thread):
    from transformers import BertConfig, BertForTokenClassification

    from engines.resume.entities import NER_MODEL, load_ner
    from tests.tiny_models import make_tiny_bert

    labels = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
    folder = make_tiny_bert(tmp_path / NER_MODEL.name)
    config = BertConfig.from_pretrained(folder)
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    BertForTokenClassification(config).save_pretrained(folder)
    monkeypatch.setenv("GALLERY_MODEL_DIR", str(tmp_path))

    ner = load_ner()
    assert ner.resolved.kind == "local directory"
    tagged = ner.tag("The team said the company was in the city.\nA new market report.")
    assert set(tagged) <= {"PER", "ORG", "LOC", "MISC"}
    assert all(isinstance(v, str) for values in tagged.values() for v in values)
    data = (SAMPLES / "tom_becker_junior_backend.pdf").read_bytes()
    profile = analyze_resume(data, "tom.pdf", ner=ner, today=TODAY)
    assert NER_MODEL.title in profile.entities.source
    assert "Cactus Apps" in profile.entities.organisations  # the rules' finds are kept


def test_ner_missing_says_where_it_looked(no_hf_cache):
    from engines.core.errors import SourceError
    from engines.resume.entities import load_ner

    with pytest.raises(SourceError, match="GALLERY_MODEL_DIR"):
        load_ner()


def test_model_card_and_plain_results(profiles):
    card = model_card()
    assert {"data", "methods", "models", "limitations"} <= set(card)
    assert any("English only" in line for line in card["limitations"])
    as_dict = profiles["lucas_moreau_frontend.pdf"].to_dict()
    assert as_dict["contact"]["email"] == "lucas.moreau@example.com"
    assert as_dict["jobs"][0]["title"] == "Front-End Developer"


def test_sample_generator_is_deterministic(tmp_path, monkeypatch):
    pytest.importorskip("fpdf")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_resume_samples", ROOT / "data" / "make_resume_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path)
    module.main()
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.parent.name == "layouts" for path in written)
    for path in written:
        name = path.relative_to(tmp_path)
        assert path.read_bytes() == (SAMPLES / name).read_bytes(), name


# ----- the fictional shared resumes (skips without ../shared/data/resumes) ------------------------------

SHARED_CONTACTS = {
    "alfred_pennyworth_pm": ("alfred.pennyworth@email.com", "(123) 456-7890"),
    "barry_allen_fe": ("allthe.stars@google.com", "(123) 456-7890"),
    "bruce_wayne_fullstack": ("bwayne@email.com", "(123) 456-7890"),
    "harvey_dent_mle": ("hdent@email.com", "(123) 456-7891"),
    "john_doe": ("john.doe@email.com", "(123) 456-7890"),
    "David_Kim_Backend_Developer": ("david.kim@email.com", "555-456-7890"),
    "Emily_Rodriguez_Data_Scientist": ("emily.rodriguez@email.com", "555-345-6789"),
    "Jessica_Williams_Frontend_Engineer": ("jessica.williams@email.com", "555-567-8901"),
    "Michael_Chen_Full_Stack_Engineer": ("michael.chen@email.com", "555-234-5678"),
    "Sarah_Johnson_Senior_React_Developer": ("sarah.johnson@email.com", "555-123-4567"),
}
INTENDED = {
    "alfred_pennyworth_pm": {"product_manager"},
    "barry_allen_fe": {"front_end_engineer"},
    "bruce_wayne_fullstack": {"full_stack_engineer", "java_developer"},
    "john_doe": {"full_stack_engineer", "java_developer"},
}
MIN_EXTRACTION_SIMILARITY = 0.97  # measured 0.992-0.996 per file against Resume-Matcher's text


@pytest.mark.realdata
def test_shared_resumes(shared_data):
    import difflib
    import json

    from engines.resume.extract import read_resume_file

    root = require_dataset(shared_data, "resumes")
    matcher_dir = root / "resume_matcher_pdfs"
    jobs = {
        p.stem.removeprefix("job_desc_"): read_job(p.read_bytes(), p.name)
        for p in (matcher_dir / "job_descriptions").glob("*.pdf")
    }
    by_title = {job.title: key for key, job in jobs.items()}
    files = [*(matcher_dir / "resumes").glob("*.pdf"), *(root / "sample_pdfs").glob("*.pdf")]
    assert len(files) == 10
    for path in files:
        profile = analyze_resume(path.read_bytes(), path.name, today=TODAY)
        assert (profile.contact.email, profile.contact.phone) == SHARED_CONTACTS[path.stem], path.name
        assert {"experience", "education", "skills"} <= set(profile.sections), path.name
        if path.stem in INTENDED:
            best = rank_jobs(profile, list(jobs.values()))[0]
            assert by_title[best.job_title] in INTENDED[path.stem], (path.name, best.job_title)
    for line in (matcher_dir / "extracted_text.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        pdf = matcher_dir / row["file"]
        ours = " ".join(read_resume_file(pdf.read_bytes(), pdf.name, max_pages=20).raw.split())
        ratio = difflib.SequenceMatcher(None, ours, " ".join(row["text"].split()), autojunk=False).ratio()
        assert ratio > MIN_EXTRACTION_SIMILARITY, (row["file"], ratio)

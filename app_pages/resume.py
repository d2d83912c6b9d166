"""Resume analyzer page: a resume (sample or upload) -> engines.resume -> profile, match with a job, suggestions."""

import time
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app_pages import minilm, ui
from engines import resume as rs
from engines.core.errors import InputError, SourceError
from engines.registry import ROOT, get_demo

DEMO = get_demo("resume")
SAMPLES_DIR = ROOT / "assets" / "resumes"
RESUME_TYPES = ["pdf", "docx", "txt"]
MAX_COMPARE = 8  # resumes ranked at once: more would keep one visitor's session busy for long
PRIORITY_ICON = {"high": "🔴", "medium": "🟠", "low": "🟡"}
CATEGORY_COLOURS = ("blue", "green", "orange", "violet", "red", "gray", "primary")

ui.page_header(
    DEMO,
    "A recruiter gives a resume a few seconds, and an applicant-tracking system (ATS) even fewer. This analyzer "
    "reads a resume the way both do: it finds the sections, the contact details, every position with its dates "
    "(and the years of experience they add up to), the education and the skills, matched against a taxonomy of "
    "267 skills with their synonyms. Give it a job description and it scores the fit out of 100 with every point "
    "explained: required and nice-to-have skills, the meaning of the whole text (MiniLM sentence embeddings), the "
    "job title, the ad's own keywords and the years asked for. Then it says what to improve, most important "
    "first: missing skills, bullets without an action verb or a number, length, missing sections, and layout "
    "that trips an ATS. Rank several resumes against one job to see the explanation side by side.",
)
st.caption(
    "🔒 **Privacy:** files are read in memory for your session only; nothing is stored, logged or sent anywhere. "
    "The samples are fictional people written for this demo."
)


# ------------------------------------------------------------------ resources
@st.cache_data(max_entries=1, show_spinner=False)
def samples() -> dict[str, dict[str, Path]]:
    """The bundled sample resumes and job descriptions, by display name."""
    resumes = {}
    for path in sorted(SAMPLES_DIR.glob("*")):
        if path.suffix in (".pdf", ".docx") and not path.name.startswith("job_"):
            person = " ".join(w.capitalize() for w in path.stem.split("_")[:2])
            role = " ".join(path.stem.split("_")[2:]).replace("frontend", "front-end")
            resumes[f"{person}, {role} ({path.suffix[1:].upper()})"] = path
    jobs = {
        path.stem.removeprefix("job_").replace("_", " ").capitalize(): path
        for path in sorted(SAMPLES_DIR.glob("job_*.txt"))
    }
    return {"resumes": resumes, "jobs": jobs}


@st.cache_resource(max_entries=1, show_spinner="Looking for the BERT named-entity model…")
def ner_model(settings_key: tuple):
    """The NER model (None and the reason when it cannot be loaded)."""
    try:
        return rs.load_ner(), ""
    except SourceError as exc:
        return None, str(exc)


@st.cache_data(max_entries=64, show_spinner=False)
def analyse(data: bytes, filename: str, use_ner: bool, settings_key: tuple) -> tuple[rs.ResumeProfile, float]:
    """The profile of one resume file and the seconds it took (InputError for a file that cannot be read)."""
    ner = ner_model(settings_key)[0] if use_ner else None
    started = time.perf_counter()
    profile = rs.analyze_resume(data, filename, ner=ner)
    return profile, time.perf_counter() - started


# ------------------------------------------------------------------ sidebar
SAMPLES = samples()
with st.sidebar:
    st.subheader("Analyzer")
    use_ner = st.toggle(
        "BERT named-entity model",
        value=False,
        key="resume_ner",
        help="dslim/bert-base-NER finds organisations and places beyond the built-in lists. It is loaded from "
        "GALLERY_MODEL_DIR or the Hugging Face cache (or downloaded, about 430 MB, when the network is allowed).",
    )
    use_minilm = st.toggle(
        "MiniLM semantic similarity",
        value=True,
        key="resume_minilm",
        bind="query-params",
        help="Off: the match score is lexical only (skills, keywords, title, years).",
    )

loaded = minilm.loaded_encoder() if use_minilm else (None, "switched off")  # None while it loads (see the end)
ner_note = ""
if use_ner:
    tagger, ner_note = ner_model(ui.settings_key())
    if tagger is None:
        st.info(
            f"**The NER model is not available here**, so organisations and places come from rules and "
            f"gazetteers. {ner_note}",
            icon="ℹ️",
        )
model_title = "rules, gazetteers and a 267-skill taxonomy"
if loaded is None:
    model_title += " · all-MiniLM-L6-v2 for the match (loading in the background; a match waits for it)"
elif loaded[0] is not None:
    model_title += f" · {getattr(loaded[1], 'notice', loaded[1])}"
else:
    model_title += f" · MiniLM off ({getattr(loaded[1], 'notice', loaded[1])}): lexical match only"
ui.source_caption(
    "Your resume, or fictional samples generated by data/make_resume_samples.py", "", "read in memory", "yours",
    model_title,
)  # fmt: skip


# ------------------------------------------------------------------ helpers
def semantic_encoder():
    """MiniLM for the match score (waited for: it has been loading since the page opened), None when off or absent."""
    if not use_minilm:
        return None
    with st.spinner("Loading the MiniLM sentence encoder (once per server)…"):
        return minilm.encoder(wait=True)[0]


def read_upload(upload) -> tuple[rs.ResumeProfile, float] | None:
    """Analyse an uploaded file, or show what to fix (None)."""
    try:
        return analyse(upload.getvalue(), ui.upload_name(upload), use_ner, ui.settings_key())
    except InputError as exc:
        message = str(exc)
        st.error(message if ui.upload_name(upload) in message else f"`{ui.upload_name(upload)}`: {message}")
        return None


def read_sample(name: str) -> tuple[rs.ResumeProfile, float]:
    path = SAMPLES["resumes"][name]
    return analyse(path.read_bytes(), path.name, use_ner, ui.settings_key())


def chips(names: list[str], colour: str) -> str:
    """Skill names as coloured badges (names come from the project's taxonomy, escaped anyway)."""
    return " ".join(f":{colour}-badge[{ui.escape_markdown(n)}]" for n in names)


def current_profile() -> rs.ResumeProfile | None:
    """The resume chosen in the Analyze tab, or its default sample when that tab was not opened yet."""
    if "resume_profile" in st.session_state:
        return st.session_state["resume_profile"]
    if st.session_state.get("resume_source", "Sample") == "Sample":
        return read_sample(st.session_state.get("resume_sample", next(iter(SAMPLES["resumes"]))))[0]
    return None


def job_input(key: str) -> rs.JobDescription | None:
    """A job description from the samples, pasted text or an upload; None (with a message) when there is none."""
    jobs = SAMPLES["jobs"]
    choice = st.selectbox("Job description", [*jobs, "Paste or upload your own"], key=f"{key}_job")
    try:
        if choice in jobs:
            text = jobs[choice].read_text(encoding="utf-8")
            with st.expander("The job ad"):
                st.text(text)
            return rs.read_job(text, jobs[choice].name)
        upload = st.file_uploader("Upload a job ad", type=RESUME_TYPES, key=f"{key}_job_upload")
        if upload is not None:
            return rs.read_job(upload.getvalue(), ui.upload_name(upload))
        text = st.text_area("…or paste it", key=f"{key}_job_text", height=200,
                            placeholder="Job title on the first line, then the requirements…")  # fmt: skip
        if not text.strip():
            st.info("Paste a job description (or pick a sample) to score the resume against it.", icon="ℹ️")
            return None
        return rs.read_job(text)
    except InputError as exc:
        st.error(str(exc))
        return None


def gauge(score: float, title: str) -> go.Figure:
    figure = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=score,
            number={"suffix": "/100", "valueformat": ".0f"},
            title={"text": title},
            gauge={
                "axis": {"range": [0, 100]},
                "bar": {"color": "#1f77b4"},
                "steps": [
                    {"range": [0, 50], "color": "#fde2e1"},
                    {"range": [50, 75], "color": "#fff1d6"},
                    {"range": [75, 100], "color": "#dff5e3"},
                ],
            },
        )
    )
    figure.update_layout(height=260, margin={"l": 35, "r": 35, "t": 50, "b": 10})
    return figure


def show_suggestions(suggestions: list[rs.Suggestion]) -> None:
    if not suggestions:
        st.success("Nothing to fix: every check passed.", icon="✅")
        return
    for s in suggestions:
        st.markdown(f"{PRIORITY_ICON.get(s.priority, '•')} **{s.priority.capitalize()} · {s.category}:** "
                    f"{ui.escape_markdown(s.message)}")  # fmt: skip
        if s.example:
            st.caption(f"Example: {ui.escape_markdown(s.example)}")  # may quote a bullet of the resume


# ------------------------------------------------------------------ 📄 analyze
def render_profile(profile: rs.ResumeProfile, seconds: float) -> None:
    contact = profile.contact
    st.subheader(ui.escape_markdown(contact.name or profile.filename))
    details = [x for x in (contact.email, contact.phone, contact.location) if x]
    st.markdown(" · ".join(ui.escape_markdown(x) for x in details) or "*No contact details found.*")
    if contact.links:
        st.caption("Links: " + " · ".join(ui.escape_markdown(link) for link in contact.links))  # shown, not followed
    a, b, c, d = st.columns(4)
    a.metric("Years of experience", f"{profile.total_years:.1f}", help="Overlapping positions are counted once.")
    b.metric("Positions", len(profile.jobs))
    c.metric("Skills found", len(profile.skills))
    d.metric("Pages · words", f"{profile.pages} · {profile.word_count}")
    st.caption(f"Read {profile.kind.upper()} and analysed in {seconds * 1000:.0f} ms · entities: "
               f"{profile.entities.source}")  # fmt: skip
    for note in profile.notes:
        st.caption(f"ℹ️ {note}")
    if profile.summary:
        st.markdown(f"> {ui.escape_markdown(profile.summary[:600])}")

    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Experience**")
        dated = [j for j in profile.jobs if j.months > 0]
        if dated:
            frame = pd.DataFrame(
                {
                    "position": [f"{j.title or 'Position'} · {j.organisation}".strip(" ·") for j in dated],
                    "start": pd.to_datetime([j.start for j in dated]),
                    "end": pd.to_datetime([j.end for j in dated]) + pd.offsets.MonthEnd(0),
                    "months": [j.months for j in dated],
                }
            )
            figure = px.timeline(frame, x_start="start", x_end="end", y="position", hover_data=["months"])
            figure.update_yaxes(autorange="reversed", title=None)
            figure.update_layout(height=80 + 45 * len(frame), margin={"l": 10, "r": 10, "t": 10, "b": 10})
            st.plotly_chart(figure, width="stretch", key="resume_timeline")
        if profile.jobs:
            for job in profile.jobs:
                with st.expander(f"{job.title or 'Position'} — {job.organisation or '?'} ({job.dates or 'no dates'})"):
                    if job.place:
                        st.caption(job.place)
                    for bullet in job.bullets:
                        st.markdown(f"- {ui.escape_markdown(bullet)}")
        else:
            st.caption("No positions found (a position is a date range, or a title over an 'Employer -' line).")
        if profile.education:
            st.markdown("**Education**")
            for e in profile.education:
                year = f" ({e.year})" if e.year else ""
                parts = [e.degree or "School", e.institution or "?"]
                st.markdown(f"- {ui.escape_markdown(', '.join(parts))}{year}")
    with right:
        st.markdown("**Skills by category**")
        if profile.skills:
            by_category: dict[str, list[str]] = {}
            for skill in profile.skills:
                by_category.setdefault(skill.category, []).append(skill.name)
            for i, (category, names) in enumerate(sorted(by_category.items())):
                st.markdown(f"*{category}*  \n" + chips(names, CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]))
            counts = pd.DataFrame({"category": list(by_category), "skills": [len(v) for v in by_category.values()]})
            figure = px.bar(counts.sort_values("skills"), x="skills", y="category", orientation="h")
            figure.update_layout(height=60 + 28 * len(counts), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                                 yaxis_title=None)  # fmt: skip
            st.plotly_chart(figure, width="stretch", key="resume_skill_chart")
        else:
            st.caption("No skills from the taxonomy were found.")
        if profile.listed_skills:
            st.markdown("**Listed in the skills section**")
            st.caption(", ".join(ui.escape_markdown(s) for s in profile.listed_skills[:60]))
        st.markdown("**Sections found**")
        st.markdown(" ".join(f":gray-badge[{ui.escape_markdown(name)}]" for name in profile.sections))
    with st.expander("Organisations, places and dates found"):
        st.dataframe(
            pd.DataFrame(
                {
                    "kind": ["organisations", "places", "dates"],
                    "found": [
                        ", ".join(getattr(profile.entities, k)) or "—" for k in ("organisations", "places", "dates")
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
    with st.expander("The extracted text"):
        st.text(profile.text[:20_000])
    st.markdown("#### What to improve")
    show_suggestions(rs.review(profile))


def render_analyze() -> None:
    source = st.radio("Resume", ["Sample", "Upload"], horizontal=True, key="resume_source", bind="query-params")
    result = None
    if source == "Sample":
        name = st.selectbox("Sample resume", list(SAMPLES["resumes"]), key="resume_sample", bind="query-params")
        result = read_sample(name)
    else:
        upload = st.file_uploader("Your resume (PDF, Word or text)", type=RESUME_TYPES, key="resume_upload")
        if upload is None:
            st.info("Upload a resume, or switch to a sample.", icon="ℹ️")
        else:
            result = read_upload(upload)
    if result is None:
        st.session_state.pop("resume_profile", None)
        return
    profile, seconds = result
    st.session_state["resume_profile"] = profile
    render_profile(profile, seconds)


# ------------------------------------------------------------------ 🎯 match
def render_match() -> None:
    profile = current_profile()
    if profile is None:
        st.info("Pick or upload a resume in the **Analyze** tab first.", icon="ℹ️")
        return
    st.markdown(f"Resume: **{ui.escape_markdown(profile.contact.name or profile.filename)}**")
    job = job_input("resume_match")
    if job is None:
        return
    for note in job.notes:
        st.caption(f"ℹ️ {note}")
    result = rs.match(profile, job, semantic_encoder())
    left, right = st.columns([2, 3])
    with left:
        st.plotly_chart(gauge(result.score, job.title or "Match"), width="stretch", key="resume_gauge")
    with right:
        parts = pd.DataFrame(
            {
                "part": [c.name for c in result.components],
                "points": [c.points for c in result.components],
                "out of": [100 * c.weight for c in result.components],
            }
        )
        figure = go.Figure()
        figure.add_bar(y=parts["part"], x=parts["out of"], orientation="h", name="possible", marker_color="#dddddd")
        figure.add_bar(y=parts["part"], x=parts["points"], orientation="h", name="earned", marker_color="#1f77b4")
        figure.update_layout(barmode="overlay", height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                             title="Where the points come from", legend={"orientation": "h"})  # fmt: skip
        st.plotly_chart(figure, width="stretch", key="resume_parts")
    for line in result.explanations[:2]:
        st.markdown(ui.escape_markdown(line))
    with st.expander("How each part was measured"):
        for c in result.components:
            st.markdown(f"- **{c.name}** ({c.weight:.2f} × {c.value * 100:.0f} = {c.points:.1f} points): "
                        f"{ui.escape_markdown(c.detail)}")  # fmt: skip
        for line in result.explanations[2:]:
            st.caption(line)
    a, b = st.columns(2)
    with a:
        st.markdown("**Required skills**")
        st.markdown(chips(list(result.matched_required), "green") or "—")
        if result.missing_required:
            st.markdown("Missing: " + chips(list(result.missing_required), "red"))
    with b:
        st.markdown("**Nice to have**")
        st.markdown(chips(list(result.matched_nice), "green") or "—")
        if result.missing_nice:
            st.markdown("Missing: " + chips(list(result.missing_nice), "orange"))
    st.markdown("#### Suggestions for this job, most important first")
    show_suggestions(rs.review(profile, job, result))


# ------------------------------------------------------------------ ⚖️ compare
def render_compare() -> None:
    st.markdown("Rank several resumes against one job: the same explained score for each, side by side.")
    chosen = st.multiselect("Sample resumes", list(SAMPLES["resumes"]), default=list(SAMPLES["resumes"])[:4],
                            key="resume_compare_samples")  # fmt: skip
    uploads = st.file_uploader("Add your own resumes", type=RESUME_TYPES, accept_multiple_files=True,
                               key="resume_compare_uploads") or []  # fmt: skip
    if len(chosen) + len(uploads) > MAX_COMPARE:
        st.error(f"{len(chosen) + len(uploads)} resumes chosen; compare at most {MAX_COMPARE} at once. "
                 "Remove some samples or uploads.")  # fmt: skip
        return
    profiles = []
    for name in chosen:
        profiles.append(read_sample(name)[0])
    for upload in uploads:
        result = read_upload(upload)
        if result is not None:
            profiles.append(result[0])
    if not profiles:
        st.info("Choose at least one resume.", icon="ℹ️")
        return
    job = job_input("resume_compare")
    if job is None:
        return
    ranked = rs.rank(profiles, job, semantic_encoder())
    table = pd.DataFrame(
        {
            "rank": range(1, len(ranked) + 1),
            "candidate": [r.candidate for r in ranked],
            "score": [round(r.score, 1) for r in ranked],
            **{
                c.name: [round(next((x.points for x in r.components if x.name == c.name), 0.0), 1) for r in ranked]
                for c in ranked[0].components
            },
            "missing required": [", ".join(r.missing_required) or "—" for r in ranked],
        }
    )
    long = table.melt(id_vars=["candidate"], value_vars=[c.name for c in ranked[0].components],
                      var_name="part", value_name="points")  # fmt: skip
    figure = px.bar(long, x="points", y="candidate", color="part", orientation="h",
                    title=f"Match with {job.title or 'the job'}")  # fmt: skip
    figure.update_yaxes(categoryorder="total ascending", title=None)
    figure.update_layout(height=120 + 50 * len(ranked), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    st.plotly_chart(figure, width="stretch", key="resume_compare_chart")
    st.dataframe(table, hide_index=True, width="stretch")
    for position, r in enumerate(ranked, start=1):
        with st.expander(f"{position}. {r.candidate}: {r.score:.0f}/100"):
            for line in r.explanations:
                st.markdown(f"- {ui.escape_markdown(line)}")


# ------------------------------------------------------------------ 🪪 model card
def render_card() -> None:
    card = rs.model_card()
    lines = [f"### {card['name']}", "", f"**Data.** {card['data']}", "", "**Methods.**"]
    lines += [f"- {m}" for m in card["methods"]]
    lines += ["", "**Models.**"] + [f"- {k}: {v}" for k, v in card["models"].items()]
    lines += ["", "**Limitations.**"] + [f"- {m}" for m in card["limitations"]]
    text = "\n".join(lines)
    st.markdown(text)
    st.download_button("Download the model card (Markdown)", text, file_name="resume_analyzer_card.md",
                       mime="text/markdown", key="resume_card_download")  # fmt: skip


ui.stateful_tabs(
    {
        "📄 Analyze": render_analyze,
        "🎯 Match a job": render_match,
        "⚖️ Compare resumes": render_compare,
        "🪪 Model card": render_card,
    },
    key="resume_tabs",
)

if use_minilm:
    minilm.encoder()  # loads in the background once the page is drawn (an import holds the GIL): a match waits for it

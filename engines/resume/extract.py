"""Resume and job-description files (PDF, DOCX, TXT) -> text in reading order, one visual line per line.

:func:`engines.core.documents.read_document` does the safety checks (empty, oversize, corrupt, encrypted,
image-only PDF, zip bomb). Its PDF text is reflowed into paragraphs, which glues a resume's headings onto
the line before them; resumes are read again here with pypdf's own line breaks kept, and Word files in
body order (paragraphs and tables interleaved, list items marked as bullets).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass

from engines.core.documents import pdf_lines, pdf_page_count, read_document
from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress, scaled

log = logging.getLogger(__name__)

MIN_LANGUAGE_WORDS = 40  # fewer words: too little text to tell the language reliably, so it is not checked
ENGLISH_FUNCTION_SHARE = 0.04  # English prose has far more "the/and/of/to/in/..." than this; other languages fewer
ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "for",
        "with",
        "a",
        "an",
        "on",
        "at",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "this",
        "that",
        "our",
        "we",
        "you",
        "your",
        "using",
        "used",
        "including",
        "have",
        "has",
        "will",
        "who",
        "which",
    ]
)
LANGUAGE_NAMES = {
    "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
    "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "tr": "Turkish",
    "ru": "Russian", "uk": "Ukrainian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
    "hi": "Hindi", "id": "Indonesian", "vi": "Vietnamese", "cs": "Czech", "ro": "Romanian", "el": "Greek",
}  # fmt: skip
BULLET = "•"
# Glyphs an icon font or a symbol font leaves in the text layer: private-use code points, DEL, and the
# FontAwesome glyph names that some LaTeX templates emit ("/envel⌢pe", "♂¶obile-alt", "/linkedin-in").
PRIVATE_GLYPH = re.compile(r"[\ue000-\uf8ff\x7f\u25aa\u25cf\u25e6\u2023\u2043\u2219\uf0b7]")
ICON_NAMES = re.compile(
    r"(?:♂¶obile-alt|/envel⌢pe|/linkedin-in|/github|/globe|/phone|/map-marker(?:-alt)?|[✉☎✆📞📧🔗])"
)


@dataclass(frozen=True)
class ResumeText:
    """A file read for resume analysis.

    Attributes:
        text: The text, one visual line per line, bullets normalised to "•", icon glyphs removed.
        raw: The text as the reader returned it (for ATS checks and extraction comparisons).
        kind: "pdf", "docx" or "txt".
        filename: The upload's name.
        pages: Pages read (PDF), else an estimate from the word count (500 words a page).
        notes: What the reader had to do, for the page to show.
        odd_glyphs: Icon-font or symbol glyphs removed from the text.
        tables: Word tables in the file (DOCX only).
        table_share: Share of the file's characters that sit in grid tables (DOCX only; layout tables, read cell by
            cell, count as text).
        language: ISO code of the language detected ("en"), or "" when there was too little text to tell.
        columns_hint: The PDF layout looks like several columns side by side.
        layout_tables: Word tables that lay the page out in columns (DOCX only; read cell by cell).
    """

    text: str
    raw: str
    kind: str
    filename: str
    pages: int
    notes: tuple[str, ...] = ()
    odd_glyphs: int = 0
    tables: int = 0
    table_share: float = 0.0
    language: str = ""
    columns_hint: bool = False
    layout_tables: int = 0


def _pdf_lines(data: bytes, filename: str, pages: int) -> tuple[str, bool]:
    """Pypdf's text with its line breaks kept, and whether the layout looks like several columns.

    Read in the sandbox (engines.core.documents.pdf_lines, issue 26): a hostile PDF costs a worker process, never
    the server's memory or time.
    """
    texts, layouts = pdf_lines(data, filename, pages, layout_pages=3)  # the first pages show the columns
    gapped = lines = 0
    for layout in layouts:
        for line in layout.splitlines():
            if line.strip():
                lines += 1
                gapped += bool(re.search(r"\S {8,}\S", line.strip()))
    return "\n".join(texts), lines > 0 and gapped / lines > 0.3


LAYOUT_MAX_ROWS = 3  # a table this short whose cells hold whole sections is a page layout, not a grid of data
LAYOUT_MIN_PARAGRAPHS = 3  # ... "whole sections": a cell with at least this many non-empty paragraphs


def _paragraph_line(paragraph) -> str:
    """A paragraph's text, list items marked with a bullet."""
    text = paragraph.text.strip()
    style = (paragraph.style.name if paragraph.style is not None else "").lower()
    is_list = "list" in style or (paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None)
    if text and is_list and not text.startswith(BULLET):
        text = f"{BULLET} {text}"
    return text


def _is_layout(table) -> bool:
    """A few rows of cells that each hold sections (the two-column resume templates), not a grid of data."""
    rows = table.rows
    return len(rows) <= LAYOUT_MAX_ROWS and any(
        sum(1 for p in cell.paragraphs if p.text.strip()) >= LAYOUT_MIN_PARAGRAPHS for row in rows for cell in row.cells
    )


def _docx_blocks(container, counts: dict[str, int]) -> list[str]:
    """Lines of a document body or a table cell in order; counts tables, layout tables and characters."""
    lines: list[str] = []
    for block in container.iter_inner_content():
        if not hasattr(block, "rows"):
            text = _paragraph_line(block)
            counts["total"] += len(text)
            lines.append(text)
            continue
        counts["tables"] += 1
        if _is_layout(block):
            # A page laid out in a table: each cell is a column of sections, read top to bottom, then the next.
            counts["layout"] += 1
            seen = set()  # the cells' XML elements, held so that lxml keeps one proxy per element
            for row in block.rows:
                for cell in row.cells:
                    if cell._tc in seen:  # a merged cell appears once per grid column it spans
                        continue
                    seen.add(cell._tc)
                    lines.extend(_docx_blocks(cell, counts))
            continue
        for row in block.rows:  # a grid: one line per row, cells left to right, merged cells once
            cells = [c.text.strip() for c in row.cells]
            text = " | ".join(c for c in dict.fromkeys(cells) if c)
            counts["in_tables"] += len(text)
            counts["total"] += len(text)
            lines.extend(text.splitlines() if text else [])
    return lines


def _docx_lines(data: bytes) -> tuple[str, int, float, int]:
    """A Word file's text in body order, its table count, the share of text in grid tables and the layout tables.

    Tables stand where they are. A layout table (a two-column template: a few rows whose cells hold whole
    sections) is read cell by cell, each cell top to bottom; any other table row by row.
    """
    import docx

    counts = {"total": 0, "in_tables": 0, "tables": 0, "layout": 0}
    lines = _docx_blocks(docx.Document(io.BytesIO(data)), counts)
    share = counts["in_tables"] / counts["total"] if counts["total"] else 0.0
    return "\n".join(lines), counts["tables"], share, counts["layout"]


def clean_lines(raw: str) -> tuple[str, int]:
    """Normalise a raw text: bullet glyphs -> "•", icon glyph names removed, spaces tidied, page numbers dropped.

    Returns:
        The clean text and how many odd glyphs were replaced or removed.
    """
    text = unicodedata.normalize("NFKC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    odd = len(PRIVATE_GLYPH.findall(text)) + len(ICON_NAMES.findall(text))
    text = ICON_NAMES.sub(" ", text)
    out: list[str] = []
    for line in text.split("\n"):
        line = PRIVATE_GLYPH.sub(f" {BULLET} ", line)
        line = re.sub(r"^\s*[-*▪►◆➢✓o]\s+(?=\S)", f"{BULLET} ", line)  # "- text" and "* text" bullets
        line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        line = re.sub(rf"^(?:{BULLET} )+", f"{BULLET} ", line)
        if re.fullmatch(r"(?:page\s*)?\d{1,2}(?:\s*(?:/|of)\s*\d{1,2})?", line, re.IGNORECASE):
            continue  # a page number ("1", "1/2", "Page 2 of 3")
        m = re.match(r"^(\d{1,2}/\d{1,2}) (?=[A-Z])", line)
        if m:  # a page number glued to the next heading ("1/2 Projects")
            line = line[m.end() :]
        if line == BULLET:
            continue
        out.append(line)
    text = "\n".join(out)
    text = re.sub(r"(\w)-\n([a-z])", r"\1\2", text)  # "Devel-\noping" -> "Developing"
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip(), odd


def detect_language(text: str) -> str:
    """ISO code of the text's language ("en"), or "" when there are too few words to tell."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < MIN_LANGUAGE_WORDS:
        return ""
    share = sum(w in ENGLISH_FUNCTION_WORDS for w in words) / len(words)
    if share >= ENGLISH_FUNCTION_SHARE:
        # English by its function words whatever langid says (resumes are terse lists of tool names, and langid
        # alone mistakes some for other languages), so langid's model (2-10 s to load on a cold server) is not read.
        return "en"
    import langid  # lazy: loads its model on first use

    code, _ = langid.classify(text[:5000])
    return code


def check_english(language: str, filename: str, what: str = "resume") -> None:
    """Raise when the detected language is not English (the analysis is English-only).

    Args:
        language: The detected language code ("" when the text was too short to tell).
        filename: The upload's name, or how the text was given ("job description").
        what: What the text is ("resume" or "job ad"), for the message.
    """
    if language and language != "en":
        name = LANGUAGE_NAMES.get(language, f"language code '{language}'")
        raise InputError(
            f"`{filename}` looks like it is written in {name}. The analysis is English-only (section names, "
            f"action verbs, skills and dates are English rules): give an English version of the {what}."
        )


def read_resume_file(
    data: bytes,
    filename: str,
    *,
    max_pages: int = 10,
    max_table_share: float = 0.8,
    check_language: bool = True,
    what: str = "resume",
    progress: Progress = null_progress,
) -> ResumeText:
    """Read a resume (or a job description) from an upload's bytes.

    Args:
        data: The file's bytes.
        filename: Its name; the extension picks the reader (.pdf, .docx, .txt, .md).
        max_pages: Longer PDFs are refused: a resume is one to three pages.
        max_table_share: A Word file with more of its text in tables than this is refused.
        check_language: Refuse text that is not English.
        what: What the file is ("resume" or "job ad"), for the messages.
        progress: Receives the reading steps; ends at 1.0.

    Raises:
        InputError: for anything :func:`read_document` refuses, a PDF past ``max_pages``, a Word file laid
            out in tables, or a non-English text.
    """
    if not isinstance(data, bytes | bytearray):
        raise InputError("Upload the resume file itself (its bytes), or paste its text.")
    data = bytes(data)
    lower = filename.lower()
    if lower.endswith(".pdf"):
        count = pdf_page_count(data, filename)
        if count is not None and count > max_pages:
            raise InputError(
                f"`{filename}` has {count:,} pages; a resume is one to three (this analyzer reads at most {max_pages}). "
                "Upload the resume alone, not a portfolio or a document that contains it."
            )
    try:
        document = read_document(data, filename, progress=scaled(progress, 0.0, 0.6))
    except InputError as exc:
        if "no text layer" in str(exc):
            raise InputError(f"{exc} This analyzer has no OCR, so it cannot read scanned resumes itself.") from exc
        raise
    notes = list(document.notes)
    tables, table_share, columns, layout = 0, 0.0, False, 0
    if document.kind == "pdf":
        progress(0.7, "Reading the lines of the PDF")
        raw, columns = _pdf_lines(data, filename, document.pages or max_pages)
        pages = document.pages or 1
    elif document.kind == "docx":
        raw, tables, table_share, layout = _docx_lines(data)
        if table_share > max_table_share:
            raise InputError(
                f"`{filename}` keeps {table_share:.0%} of its text in {tables} table(s). Applicant tracking systems "
                "and this analyzer cannot tell the reading order of a table layout. Save a version written as "
                "plain paragraphs (one column, headings and bullet lists) and upload that."
            )
        if layout:
            notes.append(
                f"Read {layout} layout table(s) (a page laid out in columns) cell by cell, each column top to bottom."
            )
        if tables > layout:
            notes.append(f"Read {tables - layout} table(s) row by row.")
        pages = 0
    else:
        raw, pages = document.text, 0
    text, odd = clean_lines(raw)
    if not re.search(r"[^\W\d_]{2,}", text):
        raise InputError(f"`{filename}` has no readable words. Upload a resume with a text layer, or paste its text.")
    if not pages:
        pages = max(1, round(len(text.split()) / 500))
    if odd:
        notes.append(f"Removed {odd} icon or symbol glyph(s) from the text.")
    language = detect_language(text)
    if check_language:
        check_english(language, filename, what)
    progress(1.0, "Read the file")
    return ResumeText(
        text, raw, document.kind, filename, pages, tuple(notes), odd, tables, table_share, language, columns, layout
    )


def read_text(text: str, name: str = "pasted text", *, check_language: bool = True, what: str = "resume") -> ResumeText:
    """Treat pasted text like an uploaded .txt file (same cleaning and language check).

    Raises:
        InputError: when the text is empty or not English.
    """
    if not isinstance(text, str) or not re.search(r"[^\W\d_]{2,}", text):
        raise InputError(f"The {name} is empty. Paste its text, or upload the file.")
    clean, odd = clean_lines(text)
    language = detect_language(clean)
    if check_language:
        check_english(language, name, what)
    pages = max(1, round(len(clean.split()) / 500))
    notes = (f"Removed {odd} icon or symbol glyph(s) from the text.",) if odd else ()
    return ResumeText(clean, text, "txt", name, pages, notes, odd, language=language)

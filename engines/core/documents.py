"""Uploaded documents (TXT, PDF, DOCX) -> plain text with its paragraphs, safely.

Bytes come in and text goes out; nothing is written to disk or executed. A file that
is empty, too big, mislabelled, corrupt, encrypted, a zip bomb, or a PDF of scanned
images (no text layer) raises :class:`InputError` with what to do instead.
"""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
import zipfile
from dataclasses import dataclass
from typing import Literal

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress
from engines.core.uploads import MAGIC, MAX_UPLOAD_BYTES, decode_text

DOCUMENT_EXTENSIONS = (".txt", ".md", ".pdf", ".docx")
MAX_PDF_PAGES = 300  # a long report; later pages are skipped with a note
PDF_TIME_BUDGET_S = 60.0  # stop extracting (with a note) rather than keep a user waiting on a pathological PDF
MAX_DOCX_UNZIPPED = 200 * 1024 * 1024  # a Word file that inflates past this is a zip bomb
MIN_LETTERS_PER_PAGE = 20  # fewer: the PDF has no usable text layer (scanned images)
DOCUMENT_EXPECTED = "a .txt, .pdf or .docx file with some text in it"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    """Text extracted from an upload.

    Attributes:
        text: The text, paragraphs separated by blank lines.
        kind: The file type read.
        filename: The upload's name.
        pages: Pages read (PDF only).
        notes: What the reader had to do (pages skipped, pages without text), for the page to show.
    """

    text: str
    kind: Literal["txt", "pdf", "docx"]
    filename: str
    pages: int | None = None
    notes: tuple[str, ...] = ()


def _check_size(data: bytes, filename: str) -> None:
    if not data or not data.strip():
        raise InputError(f"`{filename}` is empty. Upload {DOCUMENT_EXPECTED}.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"`{filename}` is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 2**20:.0f} MB. "
            "Upload a shorter document or paste the part you need."
        )


def _reflow(page_text: str) -> str:
    """Join a PDF page's hard-wrapped lines into paragraphs; keep short heading lines on their own."""
    lines = [line.strip() for line in page_text.splitlines()]
    widths = sorted(len(line) for line in lines if line)
    typical = widths[int(len(widths) * 0.8)] if widths else 0
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current.endswith("-") and line[:1].islower():
            current = current[:-1] + line  # "exam-" + "ple"
        else:
            current = f"{current} {line}" if current else line
        short = len(line) < 0.7 * typical
        if short and (line[-1] in ".!?:" or (line[:1].isupper() and not line.endswith(","))):
            paragraphs.append(current)  # a short last line of a paragraph, or a heading
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


def _read_pdf(data: bytes, filename: str, progress: Progress) -> Document:
    from pypdf import PdfReader  # lazy: only pages that take documents need it
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PdfStreamError

    if b"%PDF" not in data[:1024]:
        raise InputError(f"`{filename}` is not a PDF (it has no PDF header). Upload the original PDF, or a .txt/.docx.")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed files make pypdf log a warning per object
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    unlocked = reader.decrypt("")  # many "encrypted" PDFs only restrict printing, with no password
                except (DependencyError, NotImplementedError) as exc:
                    raise InputError(
                        f"`{filename}` is encrypted with a method this app cannot open. Save an unprotected copy "
                        "(Print -> Save as PDF) and upload that."
                    ) from exc
                if not unlocked:
                    raise InputError(
                        f"`{filename}` is password-protected. Open it, save a copy without a password, and upload that."
                    )
            total = len(reader.pages)
    except InputError:
        raise
    except (PdfReadError, PdfStreamError, FileNotDecryptedError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(
            f"`{filename}` could not be read as a PDF ({type(exc).__name__}): it may be damaged or incomplete. "
            "Re-export it, or paste its text."
        ) from exc
    if total == 0:
        raise InputError(f"`{filename}` has no pages. Upload {DOCUMENT_EXPECTED}.")
    notes = []
    wanted = min(total, MAX_PDF_PAGES)
    if total > MAX_PDF_PAGES:
        notes.append(f"Read the first {MAX_PDF_PAGES} of {total} pages.")
    pages: list[str] = []
    failed = 0
    started = time.monotonic()
    for number in range(wanted):
        if time.monotonic() - started > PDF_TIME_BUDGET_S:
            notes.append(f"Stopped after {number} of {wanted} pages: this PDF is very slow to read.")
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pages.append(_reflow(reader.pages[number].extract_text() or ""))
        except Exception as exc:  # noqa: BLE001 (pypdf raises many kinds on damaged pages; one bad page is skipped)
            log.info("page %d of %s unreadable: %s", number + 1, filename, exc)
            failed += 1
            pages.append("")
        progress((number + 1) / wanted, f"Read page {number + 1} of {wanted}")
    if failed:
        notes.append(f"Skipped {failed} damaged page(s).")
    text = "\n\n".join(p for p in pages if p.strip())
    letters = len(re.findall(r"[^\W\d_]", text))
    if letters < MIN_LETTERS_PER_PAGE * max(len(pages), 1) and letters < 200:
        raise InputError(
            f"`{filename}` has no text layer: its pages are probably scanned images. Run it through OCR "
            "(for example 'Make searchable' in a PDF tool), or paste the text."
        )
    blank = sum(1 for p in pages if not p.strip())
    if blank > failed:
        notes.append(f"{blank - failed} page(s) had no text (images only).")
    progress(1.0, f"Read {len(pages)} page(s)")
    return Document(text, "pdf", filename, len(pages), tuple(notes))


def _read_docx(data: bytes, filename: str, progress: Progress) -> Document:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"`{filename}` is an old Word .doc file. Save it as .docx (File -> Save As) and upload that.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise InputError(
            f"`{filename}` is not a valid Word document (not a .docx archive). Re-save it as .docx."
        ) from exc
    if "word/document.xml" not in names:
        raise InputError(
            f"`{filename}` is a zip archive but not a Word document. Upload a .docx saved by Word or LibreOffice."
        )
    if inflated > MAX_DOCX_UNZIPPED:
        raise InputError(
            f"`{filename}` unpacks to {inflated / 1e6:,.0f} MB, far more than any real document. Upload a normal .docx."
        )
    import docx  # lazy: python-docx pulls in lxml

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx/lxml raise many kinds on damaged XML
        raise InputError(
            f"`{filename}` could not be read as a Word document ({type(exc).__name__}): it may be damaged. "
            "Re-save it as .docx, or paste its text."
        ) from exc
    blocks = [p.text.strip() for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            blocks.append(" | ".join(c for c in dict.fromkeys(cells) if c))
    text = "\n\n".join(b for b in blocks if b)
    if not re.search(r"[^\W\d_]", text):
        raise InputError(f"`{filename}` has no text. Upload {DOCUMENT_EXPECTED}.")
    progress(1.0, "Read the document")
    return Document(text, "docx", filename)


def read_document(data: bytes, filename: str, *, progress: Progress = null_progress) -> Document:
    """Extract the text of an uploaded TXT, Markdown, PDF or DOCX file.

    Args:
        data: The file's bytes (never written to disk).
        filename: Its name; the extension picks the reader, and the content must match it.
        progress: Receives a report per PDF page; ends at 1.0.

    Raises:
        InputError: for an unsupported, empty, oversize, mislabelled, corrupt or encrypted file,
            or a PDF without a text layer.
    """
    lower = filename.lower()
    if not lower.endswith(DOCUMENT_EXTENSIONS):
        raise InputError(f"`{filename}` has an unsupported type. Upload a .txt, .md, .pdf or .docx file.")
    _check_size(data, filename)
    if lower.endswith(".pdf"):
        return _read_pdf(data, filename, progress)
    if lower.endswith(".docx"):
        return _read_docx(data, filename, progress)
    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"`{filename}` is {kind}, not a text file. Upload it with its real extension.")
    text = decode_text(data, filename, expected=DOCUMENT_EXPECTED)
    progress(1.0, "Read the text file")
    return Document(text, "txt", filename)

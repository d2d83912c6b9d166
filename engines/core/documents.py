"""Uploaded documents (TXT, PDF, DOCX) -> plain text with its paragraphs, safely.

Bytes come in and text goes out; nothing is written to disk or executed. A file that
is empty, too big, mislabelled, corrupt, encrypted, a zip bomb, or a PDF of scanned
images (no text layer) raises :class:`InputError` with what to do instead.

PDF and Word files are decoded in a worker process (:func:`engines.core.sandbox.run_isolated`) with a memory
cap and a deadline: pypdf and python-docx/lxml run C code and long loops that a server thread cannot interrupt,
so a crafted file could otherwise hold the server for minutes or take gigabytes (issue 26). Inside the worker
each reader also checks what it can before it inflates anything: a PDF's declared page count and the size of
each decompressed stream (pypdf's configuration), a Word file's part count and sizes, read from the zip
directory and then counted again while the XML inflates (a zip's headers can lie).
"""

from __future__ import annotations

import io
import logging
import re
import signal
import threading
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any, Literal

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress
from engines.core.sandbox import run_isolated

DOCUMENT_EXTENSIONS = (".txt", ".md", ".pdf", ".docx")
MAX_PDF_PAGES = 300  # a long report; later pages are skipped with a note
MAX_PDF_DECLARED_PAGES = 5_000  # a PDF that says it has more is refused before its page tree is walked
PDF_TIME_BUDGET_S = 18.0  # stop extracting (with a note) rather than keep a user waiting on a pathological PDF
PDF_TIMEOUT_S = 25.0  # the worker reading a PDF is killed after this (issue 26: an upload is settled within 30 s)
MAX_PDF_STREAM_BYTES = 20 * 2**20  # one decompressed PDF stream (a page's content) at most; a page past it is skipped
MAX_PDF_PAGE_TOKENS = 300_000  # operators and operands in one content stream (a dense real page has tens of thousands;
# 2 MB of "(ab) Tj" took pypdf 8.7 s on the loaded 2-core host, so pypdf's own default of 2 million allows a minute)
MAX_DOCX_UNZIPPED = 64 * 1024 * 1024  # all parts of a Word file, media included; past it: a zip bomb
MAX_DOCX_XML = 10 * 1024 * 1024  # its XML: a 300-page report holds 2-5 MB; 20 MB took python-docx 150 s and 400 MB
MAX_DOCX_PARTS = 2_000  # files inside a Word file (a long one with images has a few hundred)
DOCX_TIMEOUT_S = 25.0
MAX_PDF_CHARS = 4_000_000  # text kept from one PDF (pages after it are skipped with a note); the demos use far less
MIN_LETTERS_PER_PAGE = 20  # fewer: the PDF has no usable text layer (scanned images)
DOCUMENT_EXPECTED = "a .txt, .pdf or .docx file with some text in it"
PDF_ADVICE = "Upload a smaller PDF (print the pages you need to a new PDF), or save it as plain text (.txt)."
DOCX_ADVICE = "Split it into smaller files, or save it as plain text (.txt) and upload that."

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
    from engines.core.uploads import MAX_UPLOAD_BYTES  # here, not at the top: the PDF/DOCX worker needs no pandas

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


class _OutOfTime(BaseException):
    """Raised by the PDF worker's timer inside a slow page (a BaseException: pypdf's ``except Exception`` lets it by)."""


def _on_alarm(_signum: int, _frame: Any) -> None:
    raise _OutOfTime


def _pdf_error(filename: str, exc: BaseException) -> InputError:
    """The message for a PDF that pypdf could not open (any pypdf, zlib or parsing error class)."""
    from pypdf.errors import LimitReachedError

    if isinstance(exc, LimitReachedError):
        return InputError(
            f"`{filename}` goes past a safety limit of the PDF reader ({exc}): it has too many pages or objects, "
            f"or loops back on itself. {PDF_ADVICE}"
        )
    return InputError(
        f"`{filename}` could not be read as a PDF ({type(exc).__name__}): it may be damaged or incomplete. "
        "Re-export it, or paste its text."
    )


def _declared_pages(reader: Any) -> int | None:
    """The page count the PDF's page tree root states (/Count), read without walking the tree; None if absent."""
    try:
        count = reader.trailer["/Root"].get_object()["/Pages"].get_object().get("/Count")
        return int(count.get_object()) if count is not None else None
    except Exception:  # noqa: BLE001 (a missing or odd root: len(reader.pages) then decides, under the limits)
        return None


def _pdf_text(
    data: bytes,
    filename: str,
    max_pages: int,
    max_declared: int,
    budget_s: float,
    stream_cap: int,
    token_cap: int,
    max_chars: int = MAX_PDF_CHARS,
    *,
    progress: Progress = null_progress,
) -> dict[str, Any]:
    """Text of a PDF's pages, in the sandbox's worker: ``{"text", "pages", "notes"}`` (JSON data)."""
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import DependencyError, LimitReachedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed files make pypdf log a warning per object
    limits = _pdf_limits(stream_cap, token_cap, max_declared)
    with apply_configuration(**limits), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
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
            declared = _declared_pages(reader)
            if declared is not None and declared > max_declared:
                raise InputError(
                    f"`{filename}` says it has {declared:,} pages; the gallery reads PDFs of up to "
                    f"{max_declared:,} pages (the first {max_pages} of them). {PDF_ADVICE}"
                )
            total = len(reader.pages)
        except InputError:
            raise
        except MemoryError:
            raise
        except Exception as exc:  # pypdf, zlib and its parsers raise many kinds on crafted files
            raise _pdf_error(filename, exc) from exc
        too_big = (
            f"more than {stream_cap // 2**20} MB of content or {token_cap:,} drawing instructions, "
            "far more than the text of a page"
        )
        limits = (max_pages, max_chars, budget_s, too_big)
        return _pdf_pages(reader, total, filename, limits, progress, LimitReachedError)


def _pdf_pages(
    reader: Any,
    total: int,
    filename: str,
    limits: tuple[int, int, float, str],
    progress: Progress,
    limit_error: type[Exception],
) -> dict[str, Any]:
    max_pages, max_chars, budget_s, too_big = limits
    if total == 0:
        raise InputError(f"`{filename}` has no pages. Upload {DOCUMENT_EXPECTED}.")
    notes = []
    wanted = min(total, max_pages)
    if total > max_pages:
        notes.append(f"Read the first {max_pages} of {total} pages.")
    pages: list[str] = []
    failed = oversize = chars = 0
    stopped = False
    started = time.monotonic()
    # In the worker's main thread a timer also stops a page that is slow by itself (checked only between pages,
    # one page inflating to 70 MB took 105 s); elsewhere the check between pages and the sandbox's kill remain.
    timed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if timed else None
    try:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, budget_s)
        for number in range(wanted):
            if time.monotonic() - started > budget_s:
                raise _OutOfTime
            if chars > max_chars:
                notes.append(
                    f"Stopped after {number} of {wanted} pages: the text is longer than the gallery reads from one "
                    f"document ({max_chars:,} characters)."
                )
                break
            try:
                pages.append(_reflow(reader.pages[number].extract_text() or ""))
                chars += len(pages[-1])
            except limit_error as exc:
                log.info("page %d of %s too large: %s", number + 1, filename, exc)
                oversize += 1
                pages.append("")
            except (MemoryError, _OutOfTime):
                raise
            except Exception as exc:  # noqa: BLE001 (pypdf raises many kinds on damaged pages; one bad page is skipped)
                log.info("page %d of %s unreadable: %s", number + 1, filename, exc)
                failed += 1
                pages.append("")
            progress((number + 1) / wanted, f"Read page {number + 1} of {wanted}")
    except _OutOfTime:
        stopped = True
        notes.append(
            f"Stopped after {len(pages)} of {wanted} pages: this PDF is very slow to read (the limit is "
            f"{budget_s:.0f} s)."
        )
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if failed:
        notes.append(f"Skipped {failed} damaged page(s).")
    if oversize:
        notes.append(f"Skipped {oversize} page(s) too large to read ({too_big}).")
    text = "\n\n".join(p for p in pages if p.strip())
    letters = len(re.findall(r"[^\W\d_]", text))
    if letters < MIN_LETTERS_PER_PAGE * max(len(pages), 1) and letters < 200:
        if stopped:
            raise InputError(
                f"`{filename}` is too slow to read: it gave no text in {budget_s:.0f} s, the most the gallery "
                f"spends on one upload. {PDF_ADVICE}"
            )
        if oversize and oversize >= len(pages) - failed:
            raise InputError(
                f"`{filename}` has no readable text: its pages are too large to read ({too_big}). {PDF_ADVICE}"
            )
        raise InputError(
            f"`{filename}` has no text layer: its pages are probably scanned images. Run it through OCR "
            "(for example 'Make searchable' in a PDF tool), or paste the text."
        )
    blank = sum(1 for p in pages if not p.strip())
    if blank > failed + oversize:
        notes.append(f"{blank - failed - oversize} page(s) had no text (images only).")
    progress(1.0, f"Read {len(pages)} page(s)")
    return {"text": text, "pages": len(pages), "notes": notes}


def _read_pdf(data: bytes, filename: str, progress: Progress) -> Document:
    if b"%PDF" not in data[:1024]:
        raise InputError(f"`{filename}` is not a PDF (it has no PDF header). Upload the original PDF, or a .txt/.docx.")
    out = run_isolated(
        _pdf_text,
        data,
        filename,
        MAX_PDF_PAGES,
        MAX_PDF_DECLARED_PAGES,
        PDF_TIME_BUDGET_S,
        MAX_PDF_STREAM_BYTES,
        MAX_PDF_PAGE_TOKENS,
        timeout_s=PDF_TIMEOUT_S,
        what=f"`{filename}`",
        advice=PDF_ADVICE,
        progress=progress,
    )
    return Document(out["text"], "pdf", filename, out["pages"], tuple(out["notes"]))


def _pdf_limits(stream_cap: int, token_cap: int, max_declared: int) -> dict[str, int]:
    """The pypdf configuration for an upload: every decompressed stream, content stream and page tree bounded."""
    return {
        "zlib_maximum_output_length": stream_cap,
        "lzw_maximum_output_length": stream_cap,
        "run_length_maximum_output_length": stream_cap,
        "brotli_maximum_output_length": stream_cap,
        "array_based_stream_maximum_output_length": stream_cap,
        "jbig2_maximum_output_length": stream_cap,
        "stream_parsing_work_maximum_count": token_cap,
        "page_tree_maximum_entries": max(2 * max_declared, 1_000),
        "page_tree_maximum_page_entries": max(200 * max_declared, 100_000),
    }


def _pdf_count_worker(data: bytes, max_declared: int, stream_cap: int, token_cap: int) -> int | None:
    from pypdf import PdfReader, apply_configuration

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    with apply_configuration(**_pdf_limits(stream_cap, token_cap, max_declared)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return None
            declared = _declared_pages(reader)
            return declared if declared is not None else len(reader.pages)
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 (read_document says what is wrong with a file that does not open)
            return None


def pdf_page_count(data: bytes, filename: str) -> int | None:
    """The pages an unencrypted PDF says it has, read in the sandbox; None when it cannot tell.

    For a page that refuses long files with its own message before reading them (the resume analyzer): the
    count is the page tree's declared ``/Count`` (a lie there is caught by :func:`read_document`'s limits).
    None for an encrypted, damaged or non-PDF file: :func:`read_document` then says what is wrong.
    """
    if b"%PDF" not in data[:1024]:
        return None
    return run_isolated(
        _pdf_count_worker,
        data,
        MAX_PDF_DECLARED_PAGES,
        MAX_PDF_STREAM_BYTES,
        MAX_PDF_PAGE_TOKENS,
        timeout_s=PDF_TIMEOUT_S,
        what=f"`{filename}`",
        advice=PDF_ADVICE,
    )


def _pdf_lines_worker(data: bytes, pages: int, layout_pages: int, stream_cap: int, token_cap: int) -> list[list[str]]:
    from pypdf import PdfReader, apply_configuration

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    texts: list[str] = []
    layouts: list[str] = []
    with apply_configuration(**_pdf_limits(stream_cap, token_cap, MAX_PDF_DECLARED_PAGES)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                reader.decrypt("")
            total = len(reader.pages)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 (read_document says what is wrong with a file that does not open)
            log.info("PDF unreadable: %s", exc)
            return [texts, layouts]
        for number in range(min(pages, total)):
            page = reader.pages[number]
            try:
                texts.append(page.extract_text() or "")
                if number < layout_pages:
                    layouts.append(page.extract_text(extraction_mode="layout") or "")
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 (one damaged or oversized page is skipped; read_document noted it)
                log.info("page %d unreadable: %s", number + 1, exc)
                texts.append("")
    return [texts, layouts]


def pdf_lines(data: bytes, filename: str, pages: int, *, layout_pages: int = 3) -> tuple[list[str], list[str]]:
    """The text of the first ``pages`` pages with line breaks kept, and the layout-mode text of the first few.

    Read in the sandbox under :func:`read_document`'s limits (call that first: it refuses what cannot be read);
    a page that fails or passes a limit gives ``""``. For pages that look at a PDF's lines and columns
    (the resume analyzer) without decoding the upload in the server process.
    """
    texts, layouts = run_isolated(
        _pdf_lines_worker,
        data,
        pages,
        layout_pages,
        MAX_PDF_STREAM_BYTES,
        MAX_PDF_PAGE_TOKENS,
        timeout_s=PDF_TIMEOUT_S,
        what=f"`{filename}`",
        advice=PDF_ADVICE,
    )
    return list(texts), list(layouts)


def _docx_parts(data: bytes, filename: str, max_unzipped: int, max_xml: int, max_parts: int) -> None:
    """Check a Word file's zip before python-docx inflates it: part count, stated sizes, then the real sizes."""
    damaged = f"`{filename}` is not a valid Word document (not a .docx archive). Re-save it as .docx."
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError, IndexError) as exc:
        raise InputError(damaged) from exc
    if len(infos) > max_parts:
        raise InputError(
            f"`{filename}` holds {len(infos):,} files; a Word document holds a few dozen (the limit is "
            f"{max_parts:,}). Upload a normal .docx."
        )
    if "word/document.xml" not in {info.filename for info in infos}:
        raise InputError(
            f"`{filename}` is a zip archive but not a Word document. Upload a .docx saved by Word or LibreOffice."
        )
    inflated = sum(info.file_size for info in infos)
    if inflated > max_unzipped:
        raise InputError(
            f"`{filename}` unpacks to {inflated / 1e6:,.0f} MB, far more than any real document. Upload a normal .docx."
        )
    xml = [info for info in infos if info.filename.lower().endswith((".xml", ".rels"))]
    stated = sum(info.file_size for info in xml)
    too_much = (
        f"`{filename}` unpacks to more than {max_xml / 1e6:,.0f} MB of text markup (XML), the most the gallery "
        f"reads from a Word file. {DOCX_ADVICE}"
    )
    if stated > max_xml:
        raise InputError(too_much)
    # The sizes above are what the zip says; count what the XML really inflates to, a chunk at a time.
    seen = 0
    try:
        for info in xml:
            with archive.open(info) as part:
                while chunk := part.read(1 << 20):
                    seen += len(chunk)
                    if seen > max_xml:
                        raise InputError(too_much)
    except InputError:
        raise
    except RuntimeError as exc:  # an encrypted part
        raise InputError(
            f"`{filename}` is password-protected. Open it, save a copy without a password, and upload that."
        ) from exc
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, OSError, EOFError) as exc:
        raise InputError(
            f"`{filename}` is damaged: its parts do not match what its zip directory says "
            f"({type(exc).__name__}). Re-save it as .docx."
        ) from exc


def _docx_text(data: bytes, filename: str, max_unzipped: int, max_xml: int, max_parts: int) -> str:
    """Text of a Word file, in the sandbox's worker."""
    _docx_parts(data, filename, max_unzipped, max_xml, max_parts)
    import docx  # lazy: python-docx pulls in lxml

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [p.text.strip() for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                cells = [cell.text.strip() for cell in row.cells]
                blocks.append(" | ".join(c for c in dict.fromkeys(cells) if c))
    except MemoryError:
        raise
    except Exception as exc:  # python-docx/lxml raise many kinds on damaged XML
        raise InputError(
            f"`{filename}` could not be read as a Word document ({type(exc).__name__}): it may be damaged. "
            "Re-save it as .docx, or paste its text."
        ) from exc
    text = "\n\n".join(b for b in blocks if b)
    if not re.search(r"[^\W\d_]", text):
        raise InputError(f"`{filename}` has no text. Upload {DOCUMENT_EXPECTED}.")
    return text


def _read_docx(data: bytes, filename: str, progress: Progress) -> Document:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"`{filename}` is an old Word .doc file. Save it as .docx (File -> Save As) and upload that.")
    if not data.startswith(b"PK"):
        raise InputError(f"`{filename}` is not a valid Word document (not a .docx archive). Re-save it as .docx.")
    text = run_isolated(
        _docx_text,
        data,
        filename,
        MAX_DOCX_UNZIPPED,
        MAX_DOCX_XML,
        MAX_DOCX_PARTS,
        timeout_s=DOCX_TIMEOUT_S,
        what=f"`{filename}`",
        advice=DOCX_ADVICE,
    )
    progress(1.0, "Read the document")
    return Document(text, "docx", filename)


def read_document(data: bytes, filename: str, *, progress: Progress = null_progress) -> Document:
    """Extract the text of an uploaded TXT, Markdown, PDF or DOCX file.

    Args:
        data: The file's bytes (never written to disk).
        filename: Its name; the extension picks the reader, and the content must match it.
        progress: Receives a report per PDF page; ends at 1.0.

    Raises:
        InputError: for an unsupported, empty, oversize, mislabelled, corrupt or encrypted file, a PDF without
            a text layer, or a PDF or Word file that needs more memory or time than one upload may take
            (they are read in a worker process: see the module docstring).
    """
    lower = filename.lower()
    if not lower.endswith(DOCUMENT_EXTENSIONS):
        raise InputError(f"`{filename}` has an unsupported type. Upload a .txt, .md, .pdf or .docx file.")
    _check_size(data, filename)
    if lower.endswith(".pdf"):
        return _read_pdf(data, filename, progress)
    if lower.endswith(".docx"):
        return _read_docx(data, filename, progress)
    from engines.core.uploads import MAGIC, decode_text

    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"`{filename}` is {kind}, not a text file. Upload it with its real extension.")
    text = decode_text(data, filename, expected=DOCUMENT_EXPECTED)
    progress(1.0, "Read the text file")
    return Document(text, "txt", filename)

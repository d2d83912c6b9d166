"""Read user uploads (CSV, TSV, TXT) safely into plain data.

Nothing uploaded is unpickled, executed or written to disk: bytes come in, a
DataFrame of strings goes out, or an :class:`InputError` that says what to fix.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass

import pandas as pd

from engines.core.errors import InputError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # also set as server.maxUploadSize in .streamlit/config.toml
SNIFF_BYTES = 64 * 1024
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
TEXT_EXPECTED = "a file with one message per line, or a CSV with a text column"  # what an empty upload should have held
# Leading bytes of common binary formats, so a renamed file gets a precise message.
MAGIC = {
    b"PK\x03\x04": "a zip archive (or an Excel/Word file)",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "an executable",
    b"MZ": "a Windows executable",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Office document",
    b"SQLite format 3": "an SQLite database",
    b"\x80\x04\x95": "a Python pickle",
}


@dataclass(frozen=True)
class TableUpload:
    """A parsed upload.

    Attributes:
        frame: Rows as strings (at most ``max_rows``).
        total_rows: Rows in the file before capping.
        text_column: Best guess for the column holding text, or None.
    """

    frame: pd.DataFrame
    total_rows: int
    text_column: str | None

    @property
    def truncated(self) -> bool:
        """True when rows past the cap were dropped."""
        return self.total_rows > len(self.frame)


def decode_text(data: bytes, filename: str, *, max_bytes: int = MAX_UPLOAD_BYTES, expected: str = TEXT_EXPECTED) -> str:
    """Bytes of an uploaded text file -> str, or an InputError saying what to fix.

    ``expected`` names what the page wants (``"a CSV with a date column and a value column"``); an empty
    file's message asks for it.
    """
    if not data or not data.strip():
        raise InputError(f"`{filename}` is empty. Upload {expected}.")
    if len(data) > max_bytes:
        raise InputError(
            f"`{filename}` is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB. Split it into smaller files."
        )
    for magic, kind in MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"`{filename}` is {kind}, not a text file. Upload a .csv or .txt saved as UTF-8 text.")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise InputError(f"`{filename}` contains binary data, not text. Upload a .csv or .txt saved as UTF-8 text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"`{filename}` is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start:,}). "
            "Re-save it as UTF-8 (in Excel: Save As -> 'CSV UTF-8') and upload it again."
        ) from exc


def _delimiter(text: str, filename: str) -> str:
    if filename.lower().endswith(".tsv"):
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:SNIFF_BYTES], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def guess_text_column(frame: pd.DataFrame, preferred: tuple[str, ...]) -> str | None:
    """The column that most likely holds free text.

    A column named like one of ``preferred`` wins; otherwise the column with the
    longest average content, if that is long enough to be prose.
    """
    by_lower = {str(c).strip().lower(): c for c in frame.columns}
    for name in preferred:
        if name in by_lower:
            return str(by_lower[name])
    if frame.empty:
        return None
    lengths = {c: frame[c].fillna("").astype(str).str.len().mean() for c in frame.columns}
    best = max(lengths, key=lambda c: lengths[c])
    return str(best) if lengths[best] >= 15 else None


def read_table(
    data: bytes,
    filename: str,
    *,
    max_rows: int,
    preferred_columns: tuple[str, ...] = ("text", "message", "sms", "body", "content"),
    max_bytes: int = MAX_UPLOAD_BYTES,
    expected: str = TEXT_EXPECTED,
) -> TableUpload:
    """Parse an uploaded CSV/TSV (header row) or TXT (one item per line).

    Args:
        data: The file's bytes.
        filename: Its name; the extension picks the parser.
        max_rows: Rows kept; the rest are dropped and reported via ``total_rows``.
        preferred_columns: Lower-case names that identify the text column.
        max_bytes: Size limit.
        expected: What the file should hold, in words, for the message about an empty file.

    Raises:
        InputError: for an empty, oversize, binary, non-UTF-8 or unparsable file,
            or one with an unsupported extension.
    """
    lower = filename.lower()
    if not lower.endswith(TEXT_EXTENSIONS):
        raise InputError(f"`{filename}` has an unsupported type. Upload a .csv, .tsv or .txt file.")
    text = decode_text(data, filename, max_bytes=max_bytes, expected=expected)
    if lower.endswith(".txt"):
        lines = [line.strip() for line in text.splitlines()]
        lines = [line for line in lines if line]
        frame = pd.DataFrame({"text": lines[:max_rows]}, dtype=object)
        return TableUpload(frame, len(lines), "text")
    quote_hint = 'If a text contains the separator, put it in double quotes ("hello, world").'
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: a row with an extra field must not silently become the index.
            frame = pd.read_csv(
                io.StringIO(text),
                sep=_delimiter(text, filename),
                dtype=str,
                keep_default_na=False,
                index_col=False,
                on_bad_lines="error",
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if ragged:
            expected, line, saw = ragged.groups()
            raise InputError(
                f"`{filename}` has rows with more fields than its header row (line {line} has {saw}, the header "
                f"{expected}). {quote_hint}"
            ) from exc
        reason = " ".join(str(exc).split())
        raise InputError(
            f"`{filename}` could not be read as CSV ({reason}). Check it has a header row and one record per line. "
            f"{quote_hint}"
        ) from exc
    if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
        raise InputError(f"`{filename}` has rows with more fields than its header row. {quote_hint}")
    if frame.empty or len(frame.columns) == 0:
        raise InputError(f"`{filename}` has a header but no rows. Add at least one row of data under the header.")
    frame.columns = [str(c).strip() or f"column {i + 1}" for i, c in enumerate(frame.columns)]
    total = len(frame)
    frame = frame.head(max_rows).reset_index(drop=True)
    return TableUpload(frame, total, guess_text_column(frame, preferred_columns))


FORMULA_START = re.compile(r"^\s*[=+\-@\t\r]")  # what a spreadsheet reads as a formula (OWASP: CSV injection)
FORMULA_NOTE = (
    "{n} cell(s) start like a spreadsheet formula (=, +, -, @): they are shown and exported with a leading ' "
    "so a spreadsheet opens them as text instead of running them."
)


def defuse_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """A copy whose text cells that a spreadsheet would run as a formula start with ``'``, and how many changed.

    Results are downloaded as CSV; a cell such as ``=HYPERLINK(...)`` from an uploaded file would otherwise run
    when the download is opened in Excel or LibreOffice.
    """
    out = frame.copy()
    changed = 0
    for column in out.columns:
        if not (pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column])):
            continue
        cells = out[column]
        risky = cells.map(lambda v: isinstance(v, str) and bool(FORMULA_START.match(v)))
        if risky.any():
            out[column] = cells.where(~risky, "'" + cells.astype(str))
            changed += int(risky.sum())
    return out, changed

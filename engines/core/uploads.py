"""Read user uploads (CSV, TSV, TXT) safely into plain data.

Nothing uploaded is unpickled, executed or written to disk: bytes come in, a
DataFrame of strings goes out, or an :class:`InputError` that says what to fix.

Every step is linear in the upload's size and bounded in memory (issue 26): the delimiter is guessed by
counting candidates outside quotes in the first lines (``csv.Sniffer`` is quadratic on text such as
``,"a`` repeated: 64 KB froze every session of the server for 23 s), the header's column count is checked
before pandas allocates anything, pandas parses only the rows that are kept, and the rest are counted by
:func:`count_records` (numpy, a block at a time) instead of parsed.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engines.core.errors import InputError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # also set as server.maxUploadSize in .streamlit/config.toml
SNIFF_BYTES = 64 * 1024  # bytes checked for NUL (binary data)
SNIFF_CHARS = 8 * 1024  # characters from which the delimiter is guessed
SNIFF_LINES = 20  # ... at most this many lines of them
DELIMITERS = ",;\t|"
MAX_HEADER_CHARS = 256 * 1024  # a header row longer than this is not a header (1,000 long column names fit)
MAX_COLUMNS = 1_000  # columns in a CSV; a wider one is refused before pandas allocates them
MAX_CELLS = 2_000_000  # cells kept: a CSV this wide keeps fewer than max_rows rows (total_rows says how many)
COUNT_BLOCK_BYTES = 4 << 20  # records are counted this many bytes at a time
COUNT_CHUNK_ROWS = 1_000_000  # ... or, when quotes span lines, pandas counts this many rows at a time
TXT_CHUNK_CHARS = 1 << 20  # a text file is split into lines this much at a time
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


def _field_counts(sample: str, delimiters: str = DELIMITERS, max_lines: int = SNIFF_LINES) -> list[dict[str, int]]:
    """Per line of ``sample`` (records: line breaks inside quotes do not count), the delimiters outside quotes.

    One pass over the characters; the last line is included only when it ended in the sample.
    """
    lines: list[dict[str, int]] = []
    current = dict.fromkeys(delimiters, 0)
    quoted = False
    for char in sample:
        if char == '"':
            quoted = not quoted  # a doubled quote inside a quoted field toggles twice
        elif quoted:
            continue
        elif char == "\n":
            lines.append(current)
            if len(lines) >= max_lines:
                break
            current = dict.fromkeys(delimiters, 0)
        elif char in current:
            current[char] += 1
    if not lines:
        lines.append(current)  # a file of one line (or one unfinished record)
    return lines


def _delimiter(text: str, filename: str) -> str:
    """The column separator: a tab for .tsv; else the candidate that splits the first lines alike, most often.

    Linear in :data:`SNIFF_CHARS` (``csv.Sniffer`` was quadratic on crafted text). A candidate that appears
    the same number of times (at least once) on every line wins over one that does not; ties go to the
    order of :data:`DELIMITERS` (comma first); no candidate at all means a comma (a single column).
    """
    if filename.lower().endswith(".tsv"):
        return "\t"
    lines = _field_counts(text[:SNIFF_CHARS])
    header = lines[0]

    def score(delimiter: str) -> tuple[bool, int]:
        consistent = header[delimiter] > 0 and all(line[delimiter] == header[delimiter] for line in lines[1:])
        return consistent, header[delimiter]

    best = max(DELIMITERS, key=score)  # max keeps the first of equal scores
    return best if score(best)[1] > 0 else ","


def _check_width(text: str, filename: str, delimiter: str) -> int:
    """The header's column count, refused past :data:`MAX_COLUMNS` before pandas allocates a column each."""
    end = text.find("\n", 0, MAX_HEADER_CHARS + 1)
    if end < 0 and len(text) > MAX_HEADER_CHARS:
        raise InputError(
            f"`{filename}` has a first line longer than {MAX_HEADER_CHARS // 1024} KB, so it has no header row the "
            "gallery can read. Put the column names on the first line and one record on each line after it."
        )
    header = text[: end if end >= 0 else len(text)]
    columns = _field_counts(header, delimiter, 1)[0][delimiter] + 1
    if columns > MAX_COLUMNS:
        raise InputError(
            f"`{filename}` has {columns:,} columns; the gallery reads at most {MAX_COLUMNS:,}. Keep the columns the "
            "page needs (for example the text column) and upload that."
        )
    return columns


def _text_lines(text: str, max_rows: int) -> tuple[list[str], int]:
    """The first ``max_rows`` non-blank lines (stripped) and the count of all of them, a chunk at a time.

    ``str.splitlines`` of a whole 25 MB file of short lines held over 400 MB of line objects; a chunk ends just
    after a newline, so every line break (CR LF included) falls inside one chunk.
    """
    kept: list[str] = []
    total = 0
    start = 0
    while start < len(text):
        end = text.find("\n", start + TXT_CHUNK_CHARS)
        end = len(text) if end < 0 else end + 1
        lines = [line.strip() for line in text[start:end].splitlines()]
        lines = [line for line in lines if line]
        if len(kept) < max_rows:
            kept.extend(lines[: max_rows - len(kept)])
        total += len(lines)
        start = end
    return kept, total


def count_records(data: bytes, *, quotes: bool = True) -> int:
    """Records (header included) in CSV bytes, as pandas counts them, in linear time and bounded memory.

    A record ends at a line break outside double quotes; lines of only spaces or tabs are not records (pandas
    skips them). Quotes are paired by parity (a doubled quote toggles twice), which is exact for well-formed
    CSV; a stray quote inside a field (``12" pizza``) shifts it, and :func:`_count_rows` then lets pandas count.
    ``quotes=False`` counts non-blank lines.
    numpy does the work a block at a time: 25 MB of 2-byte rows are counted in a fraction of a second,
    where parsing them into cells took pandas 3.6 s and 800 MB.
    """
    quoted = 0  # quote parity carried from the previous block
    records = 0
    segment = 0  # line breaks outside quotes seen before this block
    last = -1  # the last segment that held content
    view = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(view), COUNT_BLOCK_BYTES):
        block = view[start : start + COUNT_BLOCK_BYTES]
        parity = (np.cumsum(block == 34, dtype=np.int64) + quoted) & 1 if quotes else np.zeros(block.size, np.int64)
        breaks = (block == 10) | (block == 13)
        ends = breaks & (parity == 0)
        content = ~(breaks | (block == 32) | (block == 9))
        ids = np.cumsum(ends, dtype=np.int64)[content] + segment
        if ids.size:
            records += int(np.count_nonzero(np.diff(ids))) + 1 - int(ids[0] == last)
            last = int(ids[-1])
        segment += int(np.count_nonzero(ends))
        quoted = int(parity[-1]) if block.size else quoted
    return records


def _count_rows(data: bytes, text: str, delimiter: str) -> int:
    """Data rows in a CSV (header excluded) without keeping them: numpy when quotes do not span lines, else pandas."""
    quoted = count_records(data)
    if quoted == count_records(data, quotes=False):
        return quoted - 1
    # A quoted field spans lines, or a stray quote sits inside a field: pandas' own tokenizer decides, one block of
    # rows at a time and only the first column kept (25 MB of short rows: under 2 s).
    total = 0
    try:
        with pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            index_col=False,
            usecols=[0],
            on_bad_lines="skip",
            chunksize=COUNT_CHUNK_ROWS,
        ) as reader:
            for chunk in reader:
                total += len(chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError):
        return quoted - 1
    return total


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
        lines, total = _text_lines(text, max_rows)
        frame = pd.DataFrame({"text": lines}, dtype=object)
        return TableUpload(frame, total, "text")
    quote_hint = 'If a text contains the separator, put it in double quotes ("hello, world").'
    delimiter = _delimiter(text, filename)
    columns = _check_width(text, filename, delimiter)
    keep = max(1, min(max_rows, MAX_CELLS // columns))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: a row with an extra field must not silently become the index.
            # nrows: rows past the kept ones are counted below, never parsed into cells.
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                index_col=False,
                on_bad_lines="error",
                nrows=keep,
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
    total = len(frame) if len(frame) < keep else max(len(frame), _count_rows(data, text, delimiter))
    return TableUpload(frame.reset_index(drop=True), total, guess_text_column(frame, preferred_columns))


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

"""Crafted CSV and TXT uploads (issue 26): refused with what to do, or read, within 5 s and 400 MB.

Before this work a 64 KB CSV of ``,"a`` repeated made ``csv.Sniffer`` quadratic while it held the GIL:
every session of the server froze for about 23 s. Every attack file is built here, at test time.
"""

from __future__ import annotations

import pytest

from engines.core.uploads import MAX_COLUMNS, MAX_UPLOAD_BYTES, _delimiter, count_records, read_table
from tests.security.measure import CSV_TIME_LIMIT_S, MEMORY_LIMIT_MB, measure
from tests.security.test_documents import check as check_outcome

TARGET = "engines.core.uploads:read_table"


def check(outcome, *, kind: str = "refused", match: str | None = None):
    """The outcome, within the CSV time limit (5 s) and 400 MB (see test_documents.check)."""
    check_outcome(outcome, kind=kind, match=match, limit_s=CSV_TIME_LIMIT_S)


def fill(unit: bytes, size: int, head: bytes = b"") -> bytes:
    return head + unit * ((size - len(head)) // len(unit))


@pytest.mark.parametrize("size", [64 * 1024, MAX_UPLOAD_BYTES - 1024], ids=["64 KB", "25 MB"])
def test_quote_comma_csv_that_made_the_sniffer_quadratic_is_refused_fast(size):
    data = fill(b',"a', size)
    outcome = measure(TARGET, data, "sniff.csv", max_rows=1000, timeout_s=60)
    check(outcome)
    assert "columns; the gallery reads at most" in outcome.message or "first line longer" in outcome.message


def test_quote_comma_lines_under_a_header_are_refused_fast():
    data = fill(b',"a,"a\n', 64 * 1024, head=b"label,message\n")
    outcome = measure(TARGET, data, "sniff.csv", max_rows=1000, timeout_s=60)
    print(outcome)
    assert outcome.kind in ("ok", "refused") and outcome.seconds < CSV_TIME_LIMIT_S


def test_delimiter_guess_is_linear_in_a_bounded_sample():
    import time

    for text in (',"a' * 8_000_000, ";" * 25_000_000, "a\n" * 10_000_000):
        start = time.perf_counter()
        _delimiter(text, "x.csv")
        assert time.perf_counter() - start < 0.5


def test_csv_with_a_huge_number_of_columns_is_refused_before_pandas():
    header = b",".join(b"c%d" % i for i in range(20_000)) + b"\n"  # 129 KB
    data = header + b",".join(b"1" for _ in range(20_000)) + b"\n"
    outcome = measure(TARGET, data, "wide.csv", max_rows=1000, timeout_s=60)
    check(outcome, match=f"has 20,000 columns; the gallery reads at most {MAX_COLUMNS:,}")


def test_csv_whose_first_line_is_the_whole_file_is_refused():
    data = fill(b"a,", MAX_UPLOAD_BYTES - 1024)  # 12 million columns, no line break
    check(measure(TARGET, data, "wide.csv", max_rows=1000, timeout_s=60), match="has a first line longer than 256 KB")


def test_widest_allowed_csv_of_25_mb_is_read_in_bounded_memory():
    columns = MAX_COLUMNS
    row = b",".join(b"1" for _ in range(columns)) + b"\n"
    header = b",".join(b"c%d" % i for i in range(columns)) + b"\n"
    data = fill(row, MAX_UPLOAD_BYTES - 1024, head=header)  # 13,104 rows x 1,000 columns
    outcome = measure(TARGET, data, "wide.csv", max_rows=10_000, timeout_s=60)
    check(outcome, kind="ok")  # keeps MAX_CELLS // 1,000 = 2,000 rows
    upload = read_table(data, "wide.csv", max_rows=10_000)
    assert upload.frame.shape == (2_000, 1_000) and upload.total_rows == (len(data) - len(header)) // len(row)


def test_csv_of_12_million_short_rows_is_counted_not_kept():
    data = fill(b"a\n", MAX_UPLOAD_BYTES - 1024, head=b"text\n")
    outcome = measure(TARGET, data, "long.csv", max_rows=10_000, timeout_s=60)
    check(outcome, kind="ok")
    assert "total_rows=13106685" in outcome.result[-120:]


def test_txt_of_8_million_short_lines_is_counted_not_kept():
    data = fill(b"ab\n", MAX_UPLOAD_BYTES - 1024)
    outcome = measure(TARGET, data, "long.txt", max_rows=10_000, timeout_s=60)
    check(outcome, kind="ok")


def test_one_quoted_field_of_25_mb_is_read_or_refused_fast():
    data = b'text\n"' + b"x" * (MAX_UPLOAD_BYTES - 1024) + b'"\n'
    outcome = measure(TARGET, data, "field.csv", max_rows=10, timeout_s=60)
    print(outcome)
    assert outcome.kind in ("ok", "refused") and outcome.seconds < CSV_TIME_LIMIT_S
    assert outcome.growth_mb < MEMORY_LIMIT_MB


def test_csv_of_only_separators_is_handled():
    data = fill(b";;;;;;;;;\n", 5 * 2**20, head=b"a;b;c;d;e;f;g;h;i;j\n")
    check(measure(TARGET, data, "semi.csv", max_rows=100, timeout_s=60), kind="ok")


def test_formula_cells_stay_text():
    upload = read_table(b'message\n"=HYPERLINK(""http://evil.example"")"\n', "f.csv", max_rows=10)
    assert upload.frame["message"].tolist() == ['=HYPERLINK("http://evil.example")']


@pytest.mark.parametrize(
    ("text", "records"),
    [
        ("a,b\n1,2\n", 2),
        ("a,b\r\n1,2\r\n\r\n   \n3,4", 3),
        ('a,b\n1,"two\nlines"\n2,"say ""hi""\n"\n', 3),
        ("\n\na\n", 1),
        ("", 0),
    ],
)
def test_count_records_matches_pandas(text, records):
    assert count_records(text.encode()) == records
    assert count_records(text.encode() * 1) == records


def test_count_records_carries_state_across_blocks(monkeypatch):
    import engines.core.uploads as uploads

    text = ('h\n"x\ny"\n\n  \nplain\n' * 50).encode()
    expected = uploads.count_records(text)
    monkeypatch.setattr(uploads, "COUNT_BLOCK_BYTES", 3)
    assert uploads.count_records(text) == expected == 150


def test_stray_quotes_inside_fields_do_not_hide_rows_from_the_total():
    rows = "".join(f'{i},a 12" pizza order {i}\n' if i % 3 else f'{i},"two\nlines"\n' for i in range(3_000))
    data = ("id,text\n" + rows).encode()
    upload = read_table(data, "pizza.csv", max_rows=10)
    assert len(upload.frame) == 10 and upload.total_rows == 3_000
    assert upload.frame["text"].tolist()[:2] == ["two\nlines", 'a 12" pizza order 1']


def test_quoted_lines_25_mb_are_counted_within_the_csv_limit():
    data = fill(b'"a\nb"\n', MAX_UPLOAD_BYTES - 1024, head=b"text\n")
    outcome = measure(TARGET, data, "quoted.csv", max_rows=10_000, timeout_s=60)
    check(outcome, kind="ok")
    assert f"total_rows={(len(data) - 5) // 6}" in outcome.result[-120:]


def test_capped_csv_reports_its_total_and_keeps_the_first_rows():
    rows = "".join(f"{i};message {i}\n" for i in range(30_000))
    upload = read_table(("id;message\n" + rows).encode(), "big.csv", max_rows=25)
    assert upload.total_rows == 30_000 and len(upload.frame) == 25
    assert upload.frame["message"].tolist()[-1] == "message 24"

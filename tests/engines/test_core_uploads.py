"""Uploads: CSV/TSV/TXT parsed into plain strings; every kind of bad file gets a helpful InputError."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from engines.core.errors import InputError
from engines.core.uploads import decode_text, guess_text_column, read_table

LONG = "Congratulations you have won a two week holiday so call now to claim it"


def test_csv_with_a_message_column_is_guessed():
    data = b"label,message\nham,see you at the station\nspam,WIN a prize now\n"
    upload = read_table(data, "sms.csv", max_rows=100)
    assert list(upload.frame.columns) == ["label", "message"]
    assert upload.text_column == "message"
    assert upload.frame["message"].tolist() == ["see you at the station", "WIN a prize now"]
    assert upload.total_rows == 2
    assert not upload.truncated


def test_preferred_column_names_match_case_and_spaces():
    upload = read_table(b"ID, Text \n1,hi\n", "a.csv", max_rows=10)
    assert upload.text_column == "Text"


def test_values_stay_strings():
    upload = read_table(b"id,message,flag\n007,NA,TRUE\n1.50,,null\n", "a.csv", max_rows=10)
    assert upload.frame.to_dict("list") == {"id": ["007", "1.50"], "message": ["NA", ""], "flag": ["TRUE", "null"]}


def test_unrelated_column_names_guess_the_longest_prose():
    data = f"id,note,code\n1,{LONG},A\n2,{LONG} today,B\n".encode()
    assert read_table(data, "x.csv", max_rows=10).text_column == "note"


def test_unrelated_short_columns_guess_nothing():
    assert read_table(b"id,code\n1,A\n2,B\n", "x.csv", max_rows=10).text_column is None


def test_guess_text_column_on_an_empty_frame():
    assert guess_text_column(pd.DataFrame({"a": []}), ("text",)) is None
    assert guess_text_column(pd.DataFrame({"Body": []}), ("body",)) == "Body"


def test_semicolon_separated_file_is_sniffed():
    upload = read_table(b"label;text\nham;hello there\nspam;free entry\n", "x.csv", max_rows=10)
    assert list(upload.frame.columns) == ["label", "text"]
    assert upload.frame["text"].tolist() == ["hello there", "free entry"]


def test_commas_inside_quoted_text_do_not_split_columns():
    data = b'label,message\nham,"yes, see you at 5, ok?"\nspam,"FREE; reply STOP, now"\n'
    upload = read_table(data, "x.csv", max_rows=10)
    assert upload.frame["message"].tolist() == ["yes, see you at 5, ok?", "FREE; reply STOP, now"]


def test_utf8_bom_is_removed_from_the_header():
    data = "\ufeffmessage\ncafé crème\n".encode()
    upload = read_table(data, "excel.csv", max_rows=10)
    assert upload.text_column == "message"
    assert upload.frame["message"].tolist() == ["café crème"]


def test_tsv_is_split_on_tabs_even_when_text_has_commas():
    data = b"label\ttext\nham\thi, how are you, mate\nspam\tWIN, WIN, WIN\n"
    upload = read_table(data, "SMS.TSV", max_rows=10)
    assert list(upload.frame.columns) == ["label", "text"]
    assert upload.frame["text"].tolist() == ["hi, how are you, mate", "WIN, WIN, WIN"]
    assert upload.text_column == "text"


def test_txt_is_one_item_per_line_and_blank_lines_are_dropped():
    data = b"first message\n\n   \n  second message  \r\nthird, with a comma\n\n"
    upload = read_table(data, "notes.txt", max_rows=10)
    assert upload.frame["text"].tolist() == ["first message", "second message", "third, with a comma"]
    assert upload.text_column == "text"
    assert upload.total_rows == 3


def test_txt_is_capped_at_max_rows():
    data = "\n".join(f"line {i}" for i in range(50)).encode()
    upload = read_table(data, "notes.txt", max_rows=7)
    assert len(upload.frame) == 7
    assert upload.total_rows == 50
    assert upload.truncated


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  "], ids=["empty", "whitespace only"])
@pytest.mark.parametrize("name", ["a.csv", "a.txt", "a.tsv"])
def test_empty_file_is_rejected(data, name):
    with pytest.raises(InputError, match=rf"`{name}` is empty\. Upload a file with one message per line"):
        read_table(data, name, max_rows=10)


def test_non_utf8_bytes_are_rejected_with_a_fix():
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 0xe9 at position 3\).*Re-save it as UTF-8"):
        read_table(b"caf\xe9\n", "latin1.csv", max_rows=10)
    with pytest.raises(InputError, match="UTF-8"):
        decode_text("message\ncrème brûlée\n".encode("latin-1"), "menu.txt")


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("sheet.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "a PNG image"),
        (zip_bytes(), r"a zip archive \(or an Excel/Word file\)"),
        (b"%PDF-1.7\n%...", "a PDF"),
        (b"\xff\xd8\xff\xe0JFIF", "a JPEG image"),
        (b"\x80\x04\x95\x10\x00\x00\x00", "a Python pickle"),
        (b"\x7fELF\x02\x01\x01", "an executable"),
    ],
    ids=["png", "zip", "pdf", "jpeg", "pickle", "elf"],
)
def test_binary_file_renamed_to_csv_names_its_kind(data, kind):
    with pytest.raises(InputError, match=rf"`data\.csv` is {kind}, not a text file\. Upload a \.csv or \.txt"):
        read_table(data, "data.csv", max_rows=10)


def test_nul_bytes_are_reported_as_binary():
    with pytest.raises(InputError, match=r"contains binary data, not text"):
        read_table(b"message\nhello\x00\x01\x02world\n", "data.csv", max_rows=10)


@pytest.mark.parametrize("name", ["book.xlsx", "model.pkl", "photo.png", "noextension", "data.csv.exe"])
def test_unsupported_extension_is_rejected(name):
    with pytest.raises(InputError, match=r"unsupported type\. Upload a \.csv, \.tsv or \.txt file"):
        read_table(b"message\nhello\n", name, max_rows=10)


def test_oversize_file_is_rejected_with_the_limit():
    data = b"message\n" + b"hello there\n" * 200_000  # 2.3 MB (2,400,008 bytes)
    with pytest.raises(InputError, match=r"is 2\.3 MB; the limit is 1 MB\. Split it into smaller files"):
        read_table(data, "big.csv", max_rows=10, max_bytes=1_000_000)
    assert len(read_table(data, "big.csv", max_rows=10, max_bytes=3_000_000).frame) == 10


def test_large_csv_is_capped_and_reports_the_total():
    rows = "".join(f"{i},message number {i} about a prize\n" for i in range(200_000))
    data = ("id,message\n" + rows).encode()

    upload = read_table(data, "big.csv", max_rows=10_000)

    assert len(upload.frame) == 10_000
    assert upload.total_rows == 200_000
    assert upload.truncated
    assert upload.frame["message"].iloc[-1] == "message number 9999 about a prize"
    assert upload.frame.index.tolist() == list(range(10_000))


def test_header_only_csv_is_rejected():
    with pytest.raises(InputError, match=r"has a header but no rows\. Add at least one row"):
        read_table(b"label,message\n", "header.csv", max_rows=10)


@pytest.mark.parametrize(
    "cell",
    [
        "=cmd|' /C calc'!A0",
        "<script>alert(1)</script>",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "__import__('os').system('echo pwned')",
        "{{7*7}} ${7*7}",
    ],
)
def test_malicious_cells_come_back_as_plain_unchanged_text(cell, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a cell managed to write would land here
    quoted = '"' + cell.replace('"', '""') + '"'
    upload = read_table(f"message\n{quoted}\n".encode(), "evil.csv", max_rows=10)
    assert upload.frame["message"].tolist() == [cell]
    assert isinstance(upload.frame["message"].iloc[0], str)

    txt = read_table(f"{cell}\n".encode(), "evil.txt", max_rows=10)
    assert txt.frame["text"].tolist() == [cell]
    assert list(tmp_path.iterdir()) == []


def test_decode_text_returns_the_text():
    assert decode_text("naïve café\n".encode(), "a.txt") == "naïve café\n"
    with pytest.raises(InputError, match="limit"):
        decode_text(b"abc", "a.txt", max_bytes=2)


def test_unquoted_commas_do_not_shift_columns_silently():
    data = b"id,message\n1,hello, how are you\n2,fine thanks\n"
    try:
        upload = read_table(data, "x.csv", max_rows=10)
    except InputError as exc:
        assert "quote" in str(exc).lower()
        return
    assert upload.frame["id"].tolist() == ["1", "2"]


def test_an_empty_upload_asks_for_what_the_page_expects():
    with pytest.raises(InputError, match=r"`ratings\.csv` is empty\. Upload a CSV of ratings\.$"):
        read_table(b"", "ratings.csv", max_rows=10, expected="a CSV of ratings")


def test_defuse_formulas_quotes_cells_a_spreadsheet_would_run():
    import pandas as pd

    from engines.core.uploads import defuse_formulas

    frame = pd.DataFrame(
        {
            "message": ['=HYPERLINK("http://evil.example")', "hello", " +cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", ""],
            "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        }
    )
    out, changed = defuse_formulas(frame)
    assert changed == 4
    assert list(out["message"]) == ["'=HYPERLINK(\"http://evil.example\")", "hello", "' +cmd|' /C calc'!A0",
                                    "'@SUM(1+1)", "'-2+3", ""]  # fmt: skip
    assert list(out["score"]) == list(frame["score"]) and frame["message"][0].startswith("="), "the input is untouched"
    assert defuse_formulas(pd.DataFrame({"a": ["x", "y"]}))[1] == 0


def test_a_row_with_more_fields_than_the_header_is_named_with_its_line():
    with pytest.raises(InputError, match=r"more fields than its header row \(line 3 has 4, the header 2\)"):
        read_table(b"id,message\n1,hello\n2,hi, there, friend\n", "ragged.csv", max_rows=100)

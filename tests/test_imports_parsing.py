"""Reading import files: encodings, delimiters, header aliases, metadata columns, bad files."""

from __future__ import annotations

import pytest

from imports.parsing import ASSIGNEE, CUSTOMER, DESCRIPTION, SEVERITY, UID, BadFile, parse

HEADER = "Severity,Study description,Study Instance UID"


def test_utf8_with_and_without_bom_reads_the_same() -> None:
    text = f"{HEADER}\nSTAT,Tête IRM,1.2.3\n"
    plain = parse(text.encode())
    bom = parse(b"\xef\xbb\xbf" + text.encode())
    assert plain.rows == bom.rows
    assert bom.rows[0].cells == {SEVERITY: "STAT", DESCRIPTION: "Tête IRM", UID: "1.2.3"}
    assert bom.columns[0].header == "Severity"  # the BOM is not part of the first header


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_comma_semicolon_and_tab(delimiter: str, name: str) -> None:
    text = delimiter.join(["Severity", "Description", "UID"]) + "\n"
    text += delimiter.join(["high", '"CT, with contrast; late"', "1.2.3"]) + "\n"
    parsed = parse(text.encode())
    assert parsed.delimiter_name == name
    assert parsed.rows[0].cells[DESCRIPTION] == "CT, with contrast; late"


def test_a_block_pasted_from_a_spreadsheet() -> None:
    pasted = "severity\tstudy description\tstudy instance uid\r\nNormal\tChest\t1.2.840.1\r\n"
    parsed = parse(pasted.encode())
    assert parsed.rows[0].cells == {SEVERITY: "Normal", DESCRIPTION: "Chest", UID: "1.2.840.1"}


def test_header_aliases_are_case_insensitive_and_metadata_keys_keep_their_case() -> None:
    text = (
        "PRIORITY, description ,Study_Instance_UID,Assigned To,Customer,metadata.Ward,Notes\n"
        "stat,Head,1.2.3,ann@example.org,Lakeside,W1,ignored\n"
    )
    parsed = parse(text.encode())
    row = parsed.rows[0]
    assert row.cells == {
        SEVERITY: "stat",
        DESCRIPTION: "Head",
        UID: "1.2.3",
        ASSIGNEE: "ann@example.org",
        CUSTOMER: "Lakeside",
        "metadata.Ward": "W1",
    }
    assert parsed.metadata_keys == ["Ward"]
    assert parsed.ignored == ["Notes"]
    assert parsed.header_of(UID) == "Study_Instance_UID"


def test_row_numbers_follow_the_file_and_blank_rows_are_skipped() -> None:
    text = f'{HEADER}\nnormal,A,1.1\n,,\n\nnormal,"multi\nline",1.2\nnormal,C,1.3\n'
    parsed = parse(text.encode())
    assert [row.number for row in parsed.rows] == [2, 5, 6]
    assert parsed.rows[1].cells[DESCRIPTION] == "multi\nline"


def test_short_rows_are_padded_and_extra_cells_are_counted() -> None:
    parsed = parse(f"{HEADER}\nnormal,A\nnormal,B,1.2,surprise\n".encode())
    assert parsed.rows[0].cells[UID] == ""
    assert parsed.rows[1].extra_cells == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "This file is empty."),
        (b"  \n\n", "This file is empty."),
        (HEADER.encode() + b"\n", "has a header row but no rows"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"%PDF-1.7\n", "PDF"),
        (b"Severity,UID\x00\x01\x02", "not text"),
        ("\ufeffSeverity".encode("utf-16"), "UTF-16"),
        ("Severity,Study description,UID\nnormal,Tête,1.2\n".encode("latin-1"), "not UTF-8"),
        (b"Severity,UID\nnormal,1.2\n", "no column for Study description"),
        (b"name,date\nx,y\n", "Severity, Study description and Study Instance UID"),
        (b"Severity,Description,UID,Study UID\nnormal,A,1,2\n", "both give the Study Instance"),
        (f'{HEADER}\nnormal,"unclosed,1.2\n'.encode(), "not a readable CSV"),
    ],
)
def test_bad_files_get_one_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(BadFile) as raised:
        parse(data)
    assert message in raised.value.message


def test_limits_on_rows_and_size() -> None:
    rows = "".join(f"normal,Study {n},1.2.{n}\n" for n in range(11))
    assert len(parse(f"{HEADER}\n{rows}".encode(), max_rows=11).rows) == 11
    with pytest.raises(BadFile, match="more than 10 rows"):
        parse(f"{HEADER}\n{rows}".encode(), max_rows=10)
    with pytest.raises(BadFile, match="at most 1 MB"):
        parse(f"{HEADER}\n".encode() + b"x" * (1024 * 1024), max_bytes=1024 * 1024)

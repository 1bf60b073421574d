"""Reading an import file: bytes (an upload, or a block pasted from a spreadsheet) into rows of
cells keyed by field.

Accepted: UTF-8 text with or without a byte-order mark; comma, semicolon or tab between cells
(whichever the header line uses most); a header row whose names are matched case-insensitively
against the aliases below; `metadata.<key>` columns. Anything else is a `BadFile` with one
message for the coordinator, and nothing is kept.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Final

from django.conf import settings

# Our field names (StudyCreate's, but for the two that are resolved through the API).
SEVERITY: Final = "severity"
DESCRIPTION: Final = "study_description"
UID: Final = "study_instance_uid"
ASSIGNEE: Final = "assignee"
CUSTOMER: Final = "express_customer"
REQUIRED: Final = (SEVERITY, DESCRIPTION, UID)
METADATA_PREFIX: Final = "metadata."

# The header each field is written with (the export writes these) and the names it is read by.
HEADERS: Final = {
    SEVERITY: "Severity",
    DESCRIPTION: "Study description",
    UID: "Study Instance UID",
    ASSIGNEE: "Assignee",
    CUSTOMER: "Express customer",
}
ALIASES: Final = {
    SEVERITY: ("severity", "priority"),
    DESCRIPTION: ("study description", "description", "studydescription"),
    UID: ("study instance uid", "studyinstanceuid", "study uid", "uid", "dicom uid"),
    ASSIGNEE: ("assignee", "assigned to", "assignedto", "assignee email", "assignee id"),
    CUSTOMER: (
        "express customer",
        "expresscustomer",
        "customer",
        "express customer id",
        "expresscustomerid",
        "express customer name",
    ),
}
_BY_ALIAS: Final = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_DELIMITERS: Final = (",", ";", "\t")
_SPACES = re.compile(r"[\s_\-]+")
# Magic numbers of files people upload by mistake.
_NOT_CSV: Final = {
    b"PK\x03\x04": "an Excel workbook or another zip file",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"%PDF": "a PDF document",
    b"\xff\xfe": "UTF-16 text",
    b"\xfe\xff": "UTF-16 text",
}
_SAVE_AS = "Save it from the spreadsheet as \u201cCSV UTF-8\u201d and upload that file."


class BadFile(Exception):
    """The file cannot be imported at all; `message` says why, for the coordinator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    """One column of the file: its header as written and the field it feeds."""

    index: int
    header: str
    field: str  # one of HEADERS' keys, "metadata.<key>", or "" (ignored)

    @property
    def metadata_key(self) -> str | None:
        return self.field.removeprefix(METADATA_PREFIX) if self.is_metadata else None

    @property
    def is_metadata(self) -> bool:
        return self.field.startswith(METADATA_PREFIX)


@dataclass(frozen=True)
class ParsedRow:
    number: int  # the row of the file, the header being row 1
    cells: dict[str, str]  # by field (or "metadata.<key>")
    extra_cells: int = 0  # cells beyond the header's columns that were not empty


@dataclass(frozen=True)
class ParsedFile:
    delimiter: str
    columns: list[Column]
    rows: list[ParsedRow] = field(default_factory=list)

    @property
    def ignored(self) -> list[str]:
        return [column.header for column in self.columns if not column.field]

    @property
    def metadata_keys(self) -> list[str]:
        return [column.metadata_key for column in self.columns if column.metadata_key]

    def header_of(self, name: str) -> str:
        """The header, as the file writes it, of a field."""
        for column in self.columns:
            if column.field == name:
                return column.header
        return HEADERS.get(name, name)

    @property
    def delimiter_name(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]


def normalise_header(text: str) -> str:
    return _SPACES.sub(" ", text.strip()).lower()


def decode(data: bytes) -> str:
    """The text of a file, or BadFile: UTF-8 (a BOM is dropped), not binary."""
    for magic, kind in _NOT_CSV.items():
        if data.startswith(magic):
            raise BadFile(f"This file is {kind}, not a CSV file. {_SAVE_AS}")
    if b"\x00" in data[:65536]:
        raise BadFile(f"This file is not text (it contains binary data). {_SAVE_AS}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadFile(
            f"This file is not UTF-8 text (line {line} has a character in another encoding). "
            f"{_SAVE_AS}"
        ) from None
    return text


def parse(data: bytes, *, max_rows: int | None = None, max_bytes: int | None = None) -> ParsedFile:
    """Read a whole file; BadFile when it cannot be imported."""
    max_rows = max_rows or settings.IMPORT_MAX_ROWS
    max_bytes = max_bytes or settings.IMPORT_MAX_BYTES
    if len(data) > max_bytes:
        raise BadFile(
            f"This file is {len(data) / 1024 / 1024:.1f} MB; an import takes at most "
            f"{max_bytes // 1024 // 1024} MB. Split it into smaller files."
        )
    text = decode(data)
    if not text.strip():
        raise BadFile("This file is empty.")
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns: list[Column] | None = None
        rows: list[ParsedRow] = []
        for number, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            if columns is None:
                columns = _columns(record)
                continue
            if len(rows) >= max_rows:
                raise BadFile(
                    f"This file has more than {max_rows:,} rows; an import takes at most "
                    f"{max_rows:,}. Split it into smaller files."
                )
            rows.append(_row(number, record, columns))
    except csv.Error as exc:
        raise BadFile(
            f"This file is not a readable CSV file (line {reader.line_num}: {exc}). "
            "Check its quotes, or save it again as CSV."
        ) from None
    if columns is None:
        raise BadFile("This file is empty.")
    if not rows:
        raise BadFile("This file has a header row but no rows of studies.")
    return ParsedFile(delimiter=delimiter, columns=columns, rows=rows)


def _columns(header: list[str]) -> list[Column]:
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        text = raw.strip()
        normal = normalise_header(text)
        if normal.startswith(METADATA_PREFIX):
            key = text[len(METADATA_PREFIX) :].strip()
            name = METADATA_PREFIX + key if key else ""
        else:
            name = _BY_ALIAS.get(normal, "")
        if name and name in seen:
            raise BadFile(
                f"The columns \u201c{seen[name]}\u201d and \u201c{text}\u201d both give "
                f"the {HEADERS.get(name, name)}. Keep one of them."
            )
        if name:
            seen[name] = text
        columns.append(Column(index=index, header=text or f"(column {index + 1})", field=name))
    missing = [HEADERS[name] for name in REQUIRED if name not in seen]
    if missing:
        found = ", ".join(f"\u201c{c.header}\u201d" for c in columns) or "none"
        wanted = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
        raise BadFile(
            f"The header row has no column for {wanted} (columns found: {found}). The first "
            "row of the file must name the columns."
        )
    return columns


def _row(number: int, record: list[str], columns: list[Column]) -> ParsedRow:
    cells = {
        column.field: record[column.index].strip() if column.index < len(record) else ""
        for column in columns
        if column.field
    }
    extra = sum(1 for cell in record[len(columns) :] if cell.strip())
    return ParsedRow(number=number, cells=cells, extra_cells=extra)

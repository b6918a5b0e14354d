"""Read a raw per-patient file and validate it against the data dictionary.

The file is read as text, never written to. Validation uses a pandera schema
built from ``data/dictionary.csv`` (types, allowed values, ranges, missingness,
unique ids) plus cross-field rules (date order, reasons that need dates); every
problem is collected (pandera's lazy mode) and reported at once with the file,
the column, the row, the value and what was expected.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import paths

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# (earlier, later, why): later may not precede earlier; both must be present to be checked.
DATE_ORDER = [
    ("diagnosis_date", "first_line_start_date", "first-line therapy starts after diagnosis"),
    ("first_line_start_date", "len_start_date", "first-line lenalidomide starts within first line"),
    ("len_start_date", "len_end_date", "lenalidomide ends after it starts"),
    ("first_line_start_date", "first_relapse_date", "first relapse follows first-line start"),
    ("first_relapse_date", "daravd_start_date", "DaraVd is given at first relapse"),
    ("birth_date", "diagnosis_date", "diagnosis after birth"),
    ("daravd_start_date", "daravd_end_date", "DaraVd ends after it starts"),
    ("daravd_start_date", "best_response_date", "best response is documented on DaraVd"),
    ("daravd_start_date", "progression_date", "progression after the start of DaraVd"),
    ("daravd_start_date", "next_treatment_date", "the next line starts after DaraVd starts"),
    ("next_treatment_date", "second_progression_date", "second progression occurs on the next line"),
    ("daravd_start_date", "death_date", "death after the start of DaraVd"),
    ("daravd_start_date", "last_followup_date", "follow-up after the start of DaraVd"),
    ("progression_date", "last_followup_date", "progression within follow-up"),
    ("next_treatment_date", "last_followup_date", "next line within follow-up"),
    ("second_progression_date", "last_followup_date", "second progression within follow-up"),
    ("daravd_end_date", "last_followup_date", "last DaraVd dose within follow-up"),
]
# (column, condition column, why): column must be filled exactly when the condition holds.
PAIRED = [
    ("daravd_end_reason", "daravd_end_date", "a stop reason goes with a stop date"),
    ("death_cause", "death_date", "a cause of death goes with a date of death"),
]
LEN_REFRACTORY_DAYS = 60


class DataValidationError(ValueError):
    """The input file does not follow the data dictionary; ``problems`` lists every issue."""

    def __init__(self, source: str, problems: pd.DataFrame):
        self.source, self.problems = source, problems
        lines = [f"{source} does not follow data/dictionary.csv ({len(problems)} problem(s)):"]
        for p in problems.itertuples(index=False):
            where = f"column '{p.column}'" + (f", row {p.row} (patient {p.patient_id})" if p.row else "")
            value = f": value {p.value!r}" if p.value != "" else ""
            lines.append(f"  - {where}{value}; expected {p.expected}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class RawData:
    frame: pd.DataFrame  # typed: dates as datetime64, numbers as float, flags/integers as Int64
    source: Path
    sha256: str


def load_dictionary(path: Path | None = None) -> pd.DataFrame:
    return pd.read_csv(path or paths.DICTIONARY, dtype=str, keep_default_na=False)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def read_text_table(path: Path) -> pd.DataFrame:
    """Every cell as text ('' for empty), from CSV or the first sheet of an XLSX."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() == ".xlsx":
        frame = pd.read_excel(path, dtype=object, engine="openpyxl")
        frame = frame.apply(lambda col: col.map(_cell_text))
    elif path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    else:
        raise ValueError(f"{path}: expected a .csv or .xlsx file")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (datetime.datetime, datetime.date)):  # Excel date cells
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _allowed(spec: pd.Series) -> tuple[str, list | tuple | None]:
    allowed = spec["allowed"]
    if not allowed:
        return "any", None
    if "|" in allowed or spec["type"] in ("category", "flag"):
        return "set", allowed.split("|")
    lo, hi = allowed.split("-")
    return "range", (float(lo), float(hi))


def _column_check(spec: pd.Series) -> pa.Check:
    """One element-wise check per column: type, allowed values or range, missingness."""
    kind, allowed = _allowed(spec)
    typ, nullable = spec["type"], spec["nullable"] == "yes"

    def ok(value: str) -> bool:
        if value == "":
            return nullable
        if typ == "date":
            if not DATE_RE.match(value):
                return False
            try:
                pd.Timestamp(value)
            except ValueError:
                return False
            return True
        if typ in ("number", "integer"):
            try:
                number = float(value)
            except ValueError:
                return False
            if typ == "integer" and not number.is_integer():
                return False
            if kind == "set":
                return any(abs(number - float(a)) < 1e-9 for a in allowed)
            if kind == "range":
                return allowed[0] <= number <= allowed[1]
            return True
        if kind == "set":
            return value in allowed
        return True

    return pa.Check(ok, element_wise=True, error=expectation(spec))


def expectation(spec: pd.Series) -> str:
    kind, allowed = _allowed(spec)
    typ = spec["type"]
    text = {"date": "a date YYYY-MM-DD", "number": "a number", "integer": "a whole number"}.get(typ, "")
    if kind == "set":
        text = "one of " + ", ".join(allowed)
    elif kind == "range":
        text = f"{text} from {allowed[0]:g} to {allowed[1]:g}"
    text = text or "text"
    return text + (" or empty" if spec["nullable"] == "yes" else " (required)")


def schema(dictionary: pd.DataFrame | None = None) -> pa.DataFrameSchema:
    dictionary = load_dictionary() if dictionary is None else dictionary
    columns = {
        spec["name"]: pa.Column(str, checks=_column_check(spec), nullable=False,
                                unique=spec["name"] == "patient_id", required=True)
        for _, spec in dictionary.iterrows()
    }
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _problem(column, row, patient, value, expected) -> dict:
    return {"column": column, "row": row, "patient_id": patient, "value": value, "expected": expected}


def _schema_problems(text: pd.DataFrame, dictionary: pd.DataFrame) -> list[dict]:
    try:
        schema(dictionary).validate(text, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    specs = dictionary.set_index("name")
    problems = []
    for case in cases.itertuples(index=False):
        column = case.column
        if case.index is None or pd.isna(case.index):  # column-level: missing column
            missing = str(case.failure_case)
            problems.append(_problem(missing if missing in specs.index else column, None, "", "",
                                     "this column, as named in the data dictionary"))
            continue
        row = int(case.index)
        expected = "a value not used by another row" if "unique" in str(case.check) or "duplicates" in str(case.check) \
            else expectation(specs.loc[column])
        problems.append(_problem(column, row + 1, _pid(text, row), str(case.failure_case), expected))
    return problems


def _pid(text: pd.DataFrame, row: int) -> str:
    return text["patient_id"].iat[row] if "patient_id" in text.columns else "?"


def _cross_field_problems(text: pd.DataFrame) -> list[dict]:
    """Rules between columns, checked where the values themselves are valid."""
    problems = []
    dates = {c: pd.to_datetime(text[c], format="%Y-%m-%d", errors="coerce")
             for c in text.columns if c.endswith("_date")}
    for early, late, why in DATE_ORDER:
        if early in dates and late in dates:
            bad = dates[late] < dates[early]
            for row in np.flatnonzero(bad.to_numpy()):
                problems.append(_problem(late, row + 1, _pid(text, row), text[late].iat[row],
                                         f"on or after {early} ({text[early].iat[row]}): {why}"))
    for col, cond, why in PAIRED:
        if col in text and cond in text:
            bad = (text[col] == "") != (text[cond] == "")
            for row in np.flatnonzero(bad.to_numpy()):
                problems.append(_problem(col, row + 1, _pid(text, row), text[col].iat[row],
                                         f"filled exactly when {cond} is filled ({why})"))
    if {"death_date", "last_followup_date"} <= set(text):
        bad = (text["death_date"] != "") & (text["death_date"] != text["last_followup_date"])
        for row in np.flatnonzero(bad.to_numpy()):
            problems.append(_problem("last_followup_date", row + 1, _pid(text, row), text["last_followup_date"].iat[row],
                                     f"equal to death_date ({text['death_date'].iat[row]}) for a patient who died"))
    if {"len_end_date", "first_relapse_date"} <= set(dates):
        gap = (dates["first_relapse_date"] - dates["len_end_date"]).dt.days
        for row in np.flatnonzero((gap > LEN_REFRACTORY_DAYS).to_numpy()):
            problems.append(_problem("len_end_date", row + 1, _pid(text, row), text["len_end_date"].iat[row],
                                     f"within {LEN_REFRACTORY_DAYS} days before first_relapse_date "
                                     f"({text['first_relapse_date'].iat[row]}): patients must be lenalidomide-refractory"))
    if {"bortezomib_dose_reduced", "bortezomib_reduction_cycle"} <= set(text):
        bad = (text["bortezomib_dose_reduced"] == "1") != (text["bortezomib_reduction_cycle"] != "")
        for row in np.flatnonzero(bad.to_numpy()):
            problems.append(_problem("bortezomib_reduction_cycle", row + 1, _pid(text, row),
                                     text["bortezomib_reduction_cycle"].iat[row],
                                     "filled exactly when bortezomib_dose_reduced is 1"))
    return problems


def validate_text(text: pd.DataFrame, source: str, dictionary: pd.DataFrame | None = None) -> None:
    """Raise :class:`DataValidationError` listing every problem, or return quietly."""
    dictionary = load_dictionary() if dictionary is None else dictionary
    problems = _schema_problems(text, dictionary)
    if not any(p["row"] is None for p in problems):  # cross-field rules need every column
        flagged = {(p["column"], p["row"]) for p in problems}
        problems += [p for p in _cross_field_problems(text) if (p["column"], p["row"]) not in flagged]
    if problems:
        frame = pd.DataFrame(problems).fillna({"patient_id": ""})
        frame["row"] = frame["row"].astype("Int64")
        frame = frame.sort_values(["row", "column"], na_position="first", kind="stable").reset_index(drop=True)
        frame["row"] = frame["row"].astype(object).where(frame["row"].notna(), None)
        raise DataValidationError(source, frame)


def typed(text: pd.DataFrame, dictionary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Convert validated text to analysis types; columns outside the dictionary are dropped."""
    dictionary = load_dictionary() if dictionary is None else dictionary
    out = pd.DataFrame(index=text.index)
    for _, spec in dictionary.iterrows():
        col, typ = spec["name"], spec["type"]
        values = text[col].replace("", np.nan)
        if typ == "date":
            out[col] = pd.to_datetime(values, format="%Y-%m-%d")
        elif typ == "number":
            out[col] = pd.to_numeric(values).astype(float)
        elif typ in ("integer", "flag"):
            out[col] = pd.to_numeric(values).astype("Int64")
        else:
            out[col] = values.astype("string")
    return out


def load_raw(path: Path | str, mapping=None) -> RawData:
    """Validated, typed raw data with the file's sha256; the file itself is only read.

    ``mapping`` (a :class:`compendium.mapping.Mapping`) renames and recodes an export in memory
    before validation.
    """
    path = Path(path)
    digest = sha256(path)
    text = read_text_table(path)
    if mapping is not None:
        text = mapping.apply(text, paths.relative(path), load_dictionary())
    validate_text(text, paths.relative(path))
    return RawData(frame=typed(text), source=path, sha256=digest)

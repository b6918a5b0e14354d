"""Read a raw per-patient file and validate it against the data dictionary.

The file is read as text, never written to; problems with the file as a whole (empty, not UTF-8,
another delimiter, header not on row 1, ...) are caught first by :mod:`compendium.data.inputs`, each
with one message. Validation then uses a pandera schema
built from ``data/dictionary.csv`` (types, allowed values, ranges, missingness,
unique ids) plus cross-field rules (date order, reasons that need dates) and named
plausibility rules (age at start, no date after the data cut-off, ...); every
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

from compendium import paths
from compendium.data.inputs import InputFileError, read_table  # noqa: F401  (InputFileError re-exported)
from compendium.report.cells import FORMULA_STARTS


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
    ("daravd_start_date", "vgpr_first_date", ">=VGPR is reached on DaraVd"),
    ("vgpr_first_date", "best_response_date", ">=VGPR is first reached no later than the best response"),
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
# Dictionary columns a file may leave out altogether (read as empty).
OPTIONAL_COLUMNS = {"vgpr_first_date"}
# What spreadsheets and statistics packages write for a missing value; the dictionary wants an empty cell.
MISSING_CODES = {"NA", "N/A", "NAN", "NULL", "NONE", "-", ".", "#N/A", "MISSING"}
# Plausibility: the study enrolled patients "aged 18 years and older" (Methods); older than 100 at
# the start of second-line therapy is taken as a typing error in the birth date.
AGE_AT_START = (18, 100)
# (column, condition column, condition, rule): column is filled exactly when the condition holds;
# condition: a value, "!value" (any other value) or ">0".
FILLED_WHEN = [
    ("bortezomib_reduction_cycle", "bortezomib_dose_reduced", "1", None),
    ("salvage_asct_cycle", "salvage_asct", "1", ("salvage ASCT cycle", "a transplant cycle goes with a salvage ASCT")),
    ("ae_pn_outcome", "ae_pn_grade", ">0", ("neuropathy outcome", "an outcome is recorded for a neuropathy only")),
    ("best_response_date", "best_response", "!NE", ("response date", "a response not evaluable has no date")),
]
# Codes a spreadsheet would run as a formula (OWASP's CSV-injection list, compendium.report.cells) are
# refused in these columns: they are copied into data/derived/analysis.csv and the results, which
# clinicians open in Excel. Refused even where the code reads as a number ('-1'): a code is not one.
IDENTIFIER_COLUMNS = ("patient_id", "center")
# DaraVd cycles 1-8 last 21 days, later ones 28 (CASTOR schedule): n cycles need about 21 (n - 1) days
# from the first dose to the last date on treatment. One cycle of tolerance covers how the last cycle
# is dated (and generated cohorts that give every eligible patient at least two cycles).
SHORTEST_CYCLE_DAYS = 21
CYCLE_TOLERANCE = 1
# (column, cycle column): a cycle number cannot exceed the cycles received.
WITHIN_CYCLES = [
    ("bortezomib_reduction_cycle", "a dose reduction happens during the cycles received"),
    ("salvage_asct_cycle", "the salvage ASCT follows a cycle that was received"),
]


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
    notices: tuple[str, ...] = ()  # what was ignored in the file (extra columns, blank rows), one line each


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
    return read_table(path, list(load_dictionary()["name"])).frame


def _allowed(spec: pd.Series) -> tuple[str, list | tuple | None]:
    allowed = spec["allowed"]
    if not allowed:
        return "any", None
    if "|" in allowed or spec["type"] in ("category", "flag"):
        return "set", allowed.split("|")
    lo, hi = allowed.split("-")
    return "range", (float(lo), float(hi))


try:  # pandas' factorisation without the missing-value scans pd.factorize adds (twice as fast; text has none)
    from pandas.core.algorithms import factorize_array as _factorize_array

    def _factorize(array: np.ndarray):
        return _factorize_array(array, use_na_sentinel=False)
except ImportError:  # pragma: no cover - another pandas: the public function, slower, same answer
    def _factorize(array: np.ndarray):
        return pd.factorize(array, use_na_sentinel=False)


def by_value(values: pd.Series, convert) -> pd.Series:
    """``convert`` applied to each distinct text of a column once, and spread back over its rows.

    A registry's column of 10^6 cells holds a few thousand distinct values (dates, doses, codes):
    parsing those, not every cell, is what makes validation and typing fast at any N.
    """
    codes, uniques = _factorize(values.to_numpy(dtype=object))
    converted = convert(pd.Series(uniques, dtype=object))
    out = converted.take(codes)
    out.index = values.index
    return out


def column_ok(values: pd.Series, spec: pd.Series) -> pd.Series:
    """Whether each text value follows its dictionary entry (type, allowed values or range, missingness),
    checked once per distinct value (:func:`by_value`)."""
    return by_value(values, lambda distinct: _distinct_ok(distinct, spec))


def _distinct_ok(values: pd.Series, spec: pd.Series) -> pd.Series:
    kind, allowed = _allowed(spec)
    typ = spec["type"]
    if typ == "date":
        # YYYY-MM-DD: ten characters in the exact format (and a real day), without a regex per cell
        good = (values.str.len() == 10) & pd.to_datetime(values, format="%Y-%m-%d", errors="coerce").notna()
    elif typ in ("number", "integer"):
        number = pd.to_numeric(values, errors="coerce").astype(float)
        good = pd.Series(np.isfinite(number), index=values.index)
        if typ == "integer":
            good &= np.floor(number) == number
        if kind == "set":
            good &= np.isclose(number.to_numpy()[:, None], np.array(allowed, dtype=float)[None, :],
                               rtol=0, atol=1e-9).any(axis=1)
        elif kind == "range":
            good &= number.between(*allowed)
    elif kind == "set":
        good = values.isin(allowed)
    else:
        good = pd.Series(True, index=values.index)
    return good.where(values != "", spec["nullable"] == "yes").astype(bool)


def _column_check(spec: pd.Series) -> pa.Check:
    # ignore_na=False: every cell is text ('' when empty, which column_ok judges), so pandera's own
    # scan for missing values before the check (1e-1 s a column at 10^6 rows) finds nothing to drop
    return pa.Check(lambda values: column_ok(values, spec), element_wise=False, error=expectation(spec),
                    ignore_na=False)


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
        # no dtype: every cell is text by construction, and pandera's per-cell type test is costly
        spec["name"]: pa.Column(None, checks=_column_check(spec), nullable=False,
                                unique=spec["name"] == "patient_id", required=spec["name"] not in OPTIONAL_COLUMNS)
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
            missing = missing if missing in specs.index else column
            problems.append(_problem(missing, None, "", "",
                                     "this column, as named in the data dictionary" + _near_name(missing, text)))
            continue
        row = int(case.index)
        value = str(case.failure_case)
        if "unique" in str(case.check) or "duplicates" in str(case.check):
            expected = "a value not used by another row"
        else:
            expected = expectation(specs.loc[column])
            if value.strip().upper() in MISSING_CODES and specs.loc[column, "nullable"] == "yes":
                expected += " (a missing value is an empty cell, not a code)"
        problems.append(_problem(column, row + 1, _pid(text, row), value, expected))
    return problems


def _near_name(name: str, text: pd.DataFrame) -> str:
    """Point at a header name that differs from the dictionary's only in case or punctuation."""
    def key(s):
        return re.sub(r"[^a-z0-9]", "", str(s).lower())
    near = [c for c in text.columns if key(c) == key(name)]
    return f" (the header has '{near[0]}': names must match exactly, lower case with underscores)" if near else ""


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
    for col, cond, value, why in FILLED_WHEN:
        if {col, cond} <= set(text):
            if value == ">0":
                holds, shown = pd.to_numeric(text[cond], errors="coerce") > 0, "above 0"
            elif value.startswith("!"):
                holds, shown = text[cond] != value[1:], f"not {value[1:]}"
            else:
                holds, shown = text[cond] == value, value
            bad = holds != (text[col] != "")
            for row in np.flatnonzero(bad.to_numpy()):
                problems.append(_problem(col, row + 1, _pid(text, row), text[col].iat[row],
                                         f"filled exactly when {cond} is {shown}" + (f" {_rule(*why)}" if why else "")))
    return problems


def _rule(name: str, why: str) -> str:
    return f"(rule '{name}': {why})"


def _identifier_problems(text: pd.DataFrame) -> list[dict]:
    """Patient and centre codes that a spreadsheet would evaluate (``=HYPERLINK(...)``, ``+1+1``, ``@SUM``)."""
    names = [c if c.isprintable() else {"\t": "a tab", "\r": "a carriage return"}[c] for c in FORMULA_STARTS]
    shown = ", ".join(names[:-1]) + " or " + names[-1]
    problems = []
    for col in IDENTIFIER_COLUMNS:
        if col in text:
            bad = text[col].str.startswith(FORMULA_STARTS)
            for row in np.flatnonzero(bad.to_numpy(dtype=bool)):
                problems.append(_problem(col, row + 1, _pid(text, row), text[col].iat[row],
                                         f"a code that does not start with {shown} "
                                         + _rule("no formula in an identifier", "a spreadsheet would run such "
                                                 "a code as a formula when the data or the results are opened")))
    return problems


def _plausibility_problems(text: pd.DataFrame, today: datetime.date | None = None) -> list[dict]:
    """Named rules from the study's eligibility and clinical sense, on values that are themselves valid."""
    today = pd.Timestamp(today or datetime.date.today())
    problems = []
    dates = {c: pd.to_datetime(text[c], format="%Y-%m-%d", errors="coerce")
             for c in text.columns if c.endswith("_date")}
    if {"birth_date", "daravd_start_date"} <= set(dates):
        birth, start = dates["birth_date"], dates["daravd_start_date"]
        before_birthday = (start.dt.month < birth.dt.month) | (
            (start.dt.month == birth.dt.month) & (start.dt.day < birth.dt.day))
        age = start.dt.year - birth.dt.year - before_birthday.astype(int)
        lo, hi = AGE_AT_START
        for row in np.flatnonzero(((age < lo) | (age > hi)).to_numpy()):
            problems.append(_problem(
                "birth_date", row + 1, _pid(text, row), text["birth_date"].iat[row],
                f"an age of {lo} to {hi} years at daravd_start_date ({text['daravd_start_date'].iat[row]}), "
                f"not {int(age.iat[row])} " + _rule(f"age at start {lo}-{hi}", "the study enrolled patients aged "
                                                    f"{lo} or older; over {hi} is taken as a typing error")))
    future = {}
    for col, values in dates.items():
        for row in np.flatnonzero((values > today).to_numpy()):
            future[(col, row)] = True
            problems.append(_problem(col, row + 1, _pid(text, row), text[col].iat[row],
                                     f"a date not after today ({today.date()}) "
                                     + _rule("no date in the future", "a date cannot lie after the export")))
    if "last_followup_date" in dates:
        followup = dates["last_followup_date"]
        cutoff = followup[followup <= today].max()
        if pd.notna(cutoff):
            for col, values in dates.items():
                for row in np.flatnonzero((values > cutoff).to_numpy()):
                    if (col, row) not in future:
                        problems.append(_problem(
                            col, row + 1, _pid(text, row), text[col].iat[row],
                            f"on or before the data cut-off ({cutoff.date()}, the latest last_followup_date) "
                            + _rule("no date after the data cut-off",
                                    "nothing is known about a patient after the data were frozen")))
    if {"cycles_received", "daravd_start_date", "daravd_end_date", "last_followup_date"} <= set(text):
        cycles = pd.to_numeric(text["cycles_received"], errors="coerce")
        end_col = np.where(text["daravd_end_date"] != "", "daravd_end_date", "last_followup_date")
        end = dates["daravd_end_date"].fillna(dates["last_followup_date"])
        days = (end - dates["daravd_start_date"]).dt.days
        most = days // SHORTEST_CYCLE_DAYS + 1 + CYCLE_TOLERANCE
        for row in np.flatnonzero(((cycles > most) & (days >= 0)).to_numpy()):
            problems.append(_problem(
                "cycles_received", row + 1, _pid(text, row), text["cycles_received"].iat[row],
                f"at most {int(most.iat[row])} cycles in the {int(days.iat[row])} days from daravd_start_date to "
                f"{end_col[row]} " + _rule("cycles fit the time on treatment",
                                           f"a DaraVd cycle lasts at least {SHORTEST_CYCLE_DAYS} days, "
                                           f"with {CYCLE_TOLERANCE} cycle of tolerance")))
        for col, why in WITHIN_CYCLES:
            if col in text:
                bad = pd.to_numeric(text[col], errors="coerce") > cycles
                for row in np.flatnonzero(bad.to_numpy()):
                    problems.append(_problem(col, row + 1, _pid(text, row), text[col].iat[row],
                                             f"at most cycles_received ({text['cycles_received'].iat[row]}) "
                                             + _rule("cycle within the cycles received", why)))
    return problems


def validate_text(text: pd.DataFrame, source: str, dictionary: pd.DataFrame | None = None) -> None:
    """Raise :class:`DataValidationError` listing every problem, or return quietly."""
    dictionary = load_dictionary() if dictionary is None else dictionary
    problems = _schema_problems(text, dictionary)
    flagged = {(p["column"], p["row"]) for p in problems}
    later = _identifier_problems(text)
    if not any(p["row"] is None for p in problems):  # cross-field rules need every column
        later += _cross_field_problems(text) + _plausibility_problems(text)
    for p in later:
        if (p["column"], p["row"]) not in flagged:
            flagged.add((p["column"], p["row"]))
            problems.append(p)
    if problems:
        frame = pd.DataFrame(problems).fillna({"patient_id": ""})
        frame["row"] = frame["row"].astype("Int64")
        frame = frame.sort_values(["row", "column"], na_position="first", kind="stable").reset_index(drop=True)
        frame["row"] = frame["row"].astype(object).where(frame["row"].notna(), None)
        raise DataValidationError(source, frame)


#: text to analysis type, by the dictionary's type (anything else stays text)
CONVERT = {"date": lambda v: pd.to_datetime(v, format="%Y-%m-%d"),
           "number": lambda v: pd.to_numeric(v).astype(float),
           "integer": lambda v: pd.to_numeric(v).astype("Int64"),
           "flag": lambda v: pd.to_numeric(v).astype("Int64")}


def typed(text: pd.DataFrame, dictionary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Convert validated text to analysis types, each distinct value once; columns outside the
    dictionary are dropped."""
    dictionary = load_dictionary() if dictionary is None else dictionary
    out = pd.DataFrame(index=text.index)
    for _, spec in dictionary.iterrows():
        col = spec["name"]
        convert = CONVERT.get(spec["type"], lambda v: v.astype("string"))
        if col in text:
            out[col] = by_value(text[col], lambda v, convert=convert: convert(v.mask(v == "")))
        else:
            out[col] = convert(pd.Series(np.nan, index=text.index, dtype=object))
    return out


def load_raw(path: Path | str, mapping=None, reuse: Path | str | None = None) -> RawData:
    """Validated, typed raw data with the file's sha256; the file itself is only read.

    ``mapping`` (a :class:`compendium.data.mapping.Mapping`) renames and recodes an export in memory
    before validation. ``reuse`` names a run's output folder: when the runner has validated this
    very input there (:mod:`compendium.data.validated`, keyed by the file's bytes, the mapping, the
    dictionary and the validating code), its typed frame is read back instead of validated again.
    """
    path = Path(path)
    if reuse is not None and path.is_file():
        from compendium.data import validated

        digest = sha256(path)
        stored = validated.load(validated.location(Path(reuse), digest, mapping and mapping.path))
        if stored is not None:
            return RawData(frame=stored[0], source=path, sha256=digest, notices=stored[1])
    dictionary = load_dictionary()
    # file-level problems: one message each; a mapped export's header is the columns its mapping names
    names = (mapping.export_columns() if mapping is not None else []) or list(dictionary["name"])
    table = read_table(path, names)
    digest = sha256(path)
    text = table.frame
    if mapping is not None:
        text = mapping.apply(text, paths.relative(path), dictionary)
    validate_text(text, paths.relative(path), dictionary)
    extra = [c for c in text.columns if c not in set(dictionary["name"])]
    notices = table.notices + ((f"ignored {len(extra)} column(s) not in data/dictionary.csv: "
                                + ", ".join(extra),) if extra else ())
    frame = typed(text, dictionary)
    _refuse_without_eligible(frame, paths.relative(path))
    return RawData(frame=frame, source=path, sha256=digest, notices=notices)


def _refuse_without_eligible(frame: pd.DataFrame, source: str) -> None:
    """A file none of whose patients meets the study's eligibility has nothing to analyse."""
    from compendium.data.endpoints import cohort_flow

    flow, eligible = cohort_flow(frame)
    if not eligible.any():
        excluded = flow[flow["step"] == "excluded"]
        reasons = "; ".join(f"{r.reason}: {r.n}" for r in excluded.itertuples())
        raise InputFileError(source, f"none of its {len(frame)} patient(s) meets the study's eligibility ({reasons})",
                             "check daravd_start_date and cycles_received against the paper's inclusion criteria")

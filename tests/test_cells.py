"""Nothing a spreadsheet would execute (OWASP CSV injection): refused in identifiers, neutralised on write.

The written files are read back with the csv module, byte for byte as a spreadsheet sees them,
not with pandas (which would hide a leading quote or a formula behind its own parsing).
"""

import ast
import csv
import io
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.data import loading
from compendium.report import cells

STARTS = cells.FORMULA_STARTS
# any text a cell may hold (NUL aside, which no CSV writer or spreadsheet keeps)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
DANGEROUS = st.builds(lambda start, rest: start + rest, st.sampled_from(STARTS), TEXT)
CELL = st.one_of(TEXT, DANGEROUS, st.none())
# floats as a results CSV holds them: the 12 significant digits paths.write_csv writes, read back exactly
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64).map(lambda x: float(f"{x:.12g}"))
INTS = st.integers(-10**15, 10**15)


def _number_text():
    plain = st.one_of(FLOATS.map(repr), FLOATS.map(lambda x: f"{x:.12g}"), INTS.map(str),
                      st.builds(lambda i, d: f"{i}.{d}", st.integers(-999, 999), st.integers(0, 999)))
    return plain


def _read_raw(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@st.composite
def frames(draw):
    n = draw(st.integers(1, 8))
    return pd.DataFrame({
        "code": draw(st.lists(CELL, min_size=n, max_size=n)),
        "hr": draw(st.lists(FLOATS, min_size=n, max_size=n)),
        "n": pd.array(draw(st.lists(INTS, min_size=n, max_size=n)), dtype="int64"),
        "label": pd.Series(draw(st.lists(st.one_of(TEXT, DANGEROUS), min_size=n, max_size=n)), dtype="string"),
        draw(st.one_of(DANGEROUS, st.just("reason"))): draw(st.lists(CELL, min_size=n, max_size=n)),
    })


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames())
def test_written_csv_starts_no_text_cell_with_a_formula_and_numbers_round_trip(frame, tmp_path):
    before = frame.copy(deep=True)
    path = paths.write_csv(frame, tmp_path / "table.csv")
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified
    header, *rows = _read_raw(path)
    assert len(rows) == len(frame)
    assert header == [cells.neutralise(c) for c in frame.columns]
    text_columns = [i for i, c in enumerate(frame.columns) if c not in ("hr", "n")]
    for row, (_, original) in zip(rows, frame.iterrows()):
        for i in text_columns:
            written, value = row[i], original.iloc[i]
            assert not cells.starts_formula(written), written
            if isinstance(value, str):
                # lossless: the cell is the text itself, or the text behind one added quote
                assert written == (("'" + value) if cells.starts_formula(value) else value)
            else:
                assert written == ""
        # numbers are numbers: written as they are (a leading minus included) and read back exactly
        assert float(row[frame.columns.get_loc("hr")]) == original["hr"]
        assert int(row[frame.columns.get_loc("n")]) == original["n"]


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TEXT, DANGEROUS))
def test_neutralise_is_safe_idempotent_and_only_adds_one_quote(text):
    safe = cells.neutralise(text)
    assert not cells.starts_formula(safe)
    assert cells.neutralise(safe) == safe
    assert safe in (text, "'" + text)
    assert (safe != text) == (text[:1] in STARTS and not _is_plain_number(text))


def _is_plain_number(text: str) -> bool:
    """A second reading of 'a spreadsheet takes this as a number': Python's float(), without its extras."""
    if text != text.strip() or any(c.isalpha() and c not in "eE" for c in text) or "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return all(c.isdigit() or c in "+-.eE" for c in text) and text.isascii()


@settings(max_examples=300, deadline=None)
@given(text=_number_text())
def test_text_that_is_a_plain_number_is_left_alone(text):
    assert cells.neutralise(text) == text
    assert _is_plain_number(text)


def test_known_payloads_are_neutralised_and_numbers_kept():
    for payload in ['=HYPERLINK("http://example.invalid","x")', "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)",
                    "\t=1", "\r=1", "-", "-inf", "=", "+"]:
        assert cells.neutralise(payload) == "'" + payload
    for number in ["-0.5", "-1", "+3", "-1e-05", "-.5", "-3.", "1e5", "0.26", "NR", "<0.001", "", "'=x"]:
        assert cells.neutralise(number) == number


def test_nothing_to_change_writes_the_same_bytes_as_before():
    frame = pd.DataFrame({"endpoint": ["pfs", "os"], "hr": [-0.25, 1.5], "level": ["<60%", "IgG"]})
    assert cells.neutralise_frame(frame) is frame  # the committed outputs stay byte-identical
    frame["level"] = frame["level"].astype("category")
    assert cells.neutralise_frame(frame) is frame
    frame.loc[0, "endpoint"] = "=1"
    assert cells.neutralise_frame(frame)["endpoint"].tolist() == ["'=1", "os"]
    assert frame.loc[0, "endpoint"] == "=1"


@st.composite
def _cohort_with_codes(draw, codes):
    rows = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
    column = draw(st.sampled_from(loading.IDENTIFIER_COLUMNS))
    values = draw(st.lists(codes, min_size=len(rows), max_size=len(rows), unique=True))
    return column, dict(zip(rows, values))


SAFE_CODES = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=1, max_size=8)
# printable formula codes (a leading tab or carriage return is stripped by the reader before validation)
FORMULA_CODES = st.builds(lambda s, r: s + r, st.sampled_from(STARTS[:4]),
                          st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Po", "Sm")), max_size=8))


@pytest.fixture(scope="module")
def six_patients():
    return pd.read_csv(paths.SYNTHETIC_COHORT, dtype=str, keep_default_na=False, nrows=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cohort_with_codes(FORMULA_CODES))
def test_validation_refuses_formula_codes_by_column_row_and_value(case, six_patients):
    column, edits = case
    text = six_patients.copy()
    for row, value in edits.items():
        text.loc[row, column] = value
    with pytest.raises(loading.DataValidationError) as err:
        loading.validate_text(text, "export.csv")
    problems = err.value.problems
    refused = problems[problems["expected"].str.contains("rule 'no formula in an identifier'", regex=False)]
    assert sorted(zip(refused["column"], refused["row"], refused["value"])) == \
        sorted((column, row + 1, value) for row, value in edits.items())
    assert "export.csv" in str(err.value)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cohort_with_codes(SAFE_CODES))
def test_validation_accepts_codes_that_start_otherwise(case, six_patients):
    column, edits = case
    text = six_patients.copy()
    for row, value in edits.items():
        text.loc[row, column] = value
    if column == "patient_id" and text["patient_id"].duplicated().any():
        return  # another rule (unique ids) would speak
    loading.validate_text(text, "export.csv")


def test_every_writer_in_the_package_neutralises_what_it_writes():
    """No CSV or XLSX is written from a frame but through compendium.report.cells; a DOCX writer uses it too."""
    unguarded = []
    for file in sorted((paths.ROOT / "compendium").rglob("*.py")):
        if file == paths.ROOT / "compendium" / "report" / "cells.py":
            continue
        source = file.read_text()
        for node in ast.walk(ast.parse(source, filename=str(file))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "to_csv", "to_excel", "ExcelWriter"):
                if getattr(node.func.value, "id", None) != "cells":
                    unguarded.append(f"{paths.relative(file)}:{node.lineno}")
        if re.search(r"^\s*(import docx|from docx)", source, re.M) and "neutralise" not in source:
            unguarded.append(f"{paths.relative(file)}: writes DOCX without compendium.report.cells.neutralise")
    assert not unguarded, unguarded


def test_a_carriage_return_inside_a_cell_cannot_start_a_row_of_its_own(tmp_path):
    frame = pd.DataFrame({"code": ["ok\r=HYPERLINK(1)", "\r=1", "a\nb"], "hr": [-0.5, 1.0, 2.0]})
    path = paths.write_csv(frame, tmp_path / "t.csv")
    assert _read_raw(path) == [["code", "hr"], ["ok\r=HYPERLINK(1)", "-0.5"], ["'\r=1", "1"], ["a\nb", "2"]]
    assert path.read_bytes().count(b'"') == 6  # the three cells with a line break are quoted
    plain = paths.write_csv(frame.iloc[[2]], tmp_path / "u.csv").read_bytes()
    assert b"\r" not in plain  # rows end in \n as before when no cell holds a carriage return


def test_the_site_offers_neutralised_csv_tables(tmp_path):
    from compendium.run import site

    site._csv_table(pd.DataFrame({"claim": ["=1+1", "ok"], "value": [-0.5, 2.0]}), "t", "n", tmp_path, "t")
    assert _read_raw(tmp_path / "t.csv") == [["claim", "value"], ["'=1+1", "-0.5"], ["ok", "2.0"]]


def test_generated_cohort_text_is_neutralised():
    from compendium import synthetic as generator

    raw = pd.DataFrame({"patient_id": ["SYN001", "-SYN002"], "age": [np.int64(60), np.int64(70)]})
    header, *rows = list(csv.reader(io.StringIO(generator.fast_csv_text(raw))))
    assert rows == [["SYN001", "60"], ["'-SYN002", "70"]]


# ---- float columns formatted once per distinct value, byte for byte as pandas writes them ----------------

def _to_csv_per_cell(frame, target=None, **options):
    """cells.to_csv as it was before float columns were preformatted: pandas formats every float cell."""
    safe = cells.neutralise_frame(frame)
    terminator = "\r\n" if cells._holds_carriage_return(safe) else "\n"
    return safe.to_csv(target, index=False, lineterminator=terminator, **options)


EDGE_FLOATS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e300, -1e300, 1e-300, 5e-324, 2.0**53, 1e16 + 2,
               0.1, 1 / 3, 123456789012.5, -0.5, 1e-05]
FLOAT32_EDGES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, 0.1, 1 / 3, 1e-05, -0.5, 3e38, 1e-45]
ANY_FLOAT = st.one_of(st.floats(width=64), st.sampled_from(EDGE_FLOATS), st.integers(-10**18, 10**18).map(float))


@st.composite
def float_frames(draw):
    n = draw(st.integers(0, 12))
    column = lambda cells_: draw(st.lists(cells_, min_size=n, max_size=n))  # noqa: E731
    # a few distinct values repeated, as a cohort's columns hold them, or any floats at all
    pool = draw(st.lists(ANY_FLOAT, min_size=1, max_size=4))
    return pd.DataFrame({
        "hr": pd.array(column(ANY_FLOAT), dtype="float64"),
        "repeated": pd.array(column(st.sampled_from(pool)), dtype="float64"),
        "single": pd.array(column(st.sampled_from(FLOAT32_EDGES)), dtype="float32"),
        "code": pd.array(column(CELL), dtype=object),
        "text_numbers": pd.array(column(st.one_of(st.sampled_from(["-inf", "inf", "nan", "-0", "1e+300"]), TEXT)),
                                 dtype=object),
        "label": pd.Series(column(st.one_of(TEXT, DANGEROUS, st.none())), dtype="string"),
        "n": pd.array(column(st.one_of(INTS, st.none())), dtype="Int64"),
        "k": pd.array(column(INTS), dtype="int64"),
        draw(st.one_of(DANGEROUS, st.just("reason"), st.just("hr"))): pd.array(column(ANY_FLOAT), dtype="float64"),
    })


@settings(max_examples=150, deadline=None, derandomize=True)
@given(frame=float_frames(), float_format=st.sampled_from([f"%.{paths.CSV_DIGITS}g", "%g", "%.17g", "%.3f", "%e"]),
       extra=st.sampled_from([{}, {"na_rep": "NA"}, {"sep": ";"}, {"sep": "\t"}, {"quoting": csv.QUOTE_NONNUMERIC},
                              {"quoting": csv.QUOTE_ALL}, {"header": False}]))
def test_to_csv_writes_float_columns_byte_for_byte_as_pandas_per_cell(frame, float_format, extra):
    before = frame.copy(deep=True)
    written = cells.to_csv(frame, float_format=float_format, **extra)
    assert written.encode() == _to_csv_per_cell(frame, float_format=float_format, **extra).encode()
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified
    assert all(frame.dtypes == before.dtypes)


def test_write_csv_writes_the_committed_analysis_dataset_byte_for_byte_as_before(tmp_path):
    frame = pd.read_csv(paths.ROOT / "data" / "derived" / "analysis.csv", keep_default_na=True)
    assert (frame.dtypes == float).sum() >= 5
    written = paths.write_csv(frame, tmp_path / "analysis.csv").read_bytes()
    assert written == _to_csv_per_cell(frame, float_format=f"%.{paths.CSV_DIGITS}g").encode()


def test_minus_zero_and_zero_stay_apart():
    frame = pd.DataFrame({"x": [0.0, -0.0, np.nan, np.inf, -np.inf, 3.0]})
    expected = 'x\n0\n-0\n""\ninf\n-inf\n3\n'  # the csv module quotes an empty field that is a whole row
    assert cells.to_csv(frame, float_format="%.12g") == expected == _to_csv_per_cell(frame, float_format="%.12g")

"""The loader: every malformed input gives one clear message naming file, column, row and expectation."""

import hashlib

import pandas as pd
import pytest

from compendium import loading, paths


def _problems(path):
    with pytest.raises(loading.DataValidationError) as info:
        loading.load_raw(path)
    return info.value


def test_committed_synthetic_cohort_is_valid():
    raw = loading.load_raw(paths.SYNTHETIC_COHORT)
    assert len(raw.frame) == 85
    assert raw.frame["daravd_start_date"].dtype.kind == "M"
    assert str(raw.frame["emd_relapse"].dtype) == "Int64"
    assert raw.sha256 == hashlib.sha256(paths.SYNTHETIC_COHORT.read_bytes()).hexdigest()


def test_missing_column_is_named(synthetic_text, write_csv):
    path = write_csv(synthetic_text.drop(columns=["isotype"]))
    err = _problems(path)
    assert "export.csv" in str(err)
    assert list(err.problems["column"]) == ["isotype"]
    assert "column 'isotype'" in str(err) and "data dictionary" in str(err)


def test_unknown_category_names_row_patient_value_and_allowed(synthetic_text, write_csv):
    text = synthetic_text.copy()
    text.loc[11, "sex"] = "X"
    err = _problems(write_csv(text))
    row = err.problems.iloc[0]
    assert (row["column"], row["row"], row["value"]) == ("sex", 12, "X")
    assert row["patient_id"] == text.loc[11, "patient_id"]
    assert "one of M, F" in row["expected"]
    assert "row 12" in str(err)


def test_end_date_before_start_date(synthetic_text, write_csv):
    text = synthetic_text.copy()
    i = text.index[text["daravd_end_date"] != ""][0]
    text.loc[i, "daravd_end_date"] = "2017-01-01"
    err = _problems(write_csv(text))
    hit = err.problems[err.problems["column"] == "daravd_end_date"]
    assert len(hit) == 1 and hit["row"].iloc[0] == i + 1
    assert "on or after daravd_start_date" in hit["expected"].iloc[0]


def test_duplicate_patient(synthetic_text, write_csv):
    text = synthetic_text.copy()
    text.loc[5, "patient_id"] = text.loc[4, "patient_id"]
    err = _problems(write_csv(text))
    dup = err.problems[err.problems["column"] == "patient_id"]
    assert set(dup["row"]) == {5, 6}
    assert "not used by another row" in dup["expected"].iloc[0]


def test_every_problem_is_reported_at_once(synthetic_text, write_csv):
    text = synthetic_text.copy()
    text.loc[0, "best_response"] = "nCR"
    text.loc[1, "creatinine_mg_dl"] = "high"
    text.loc[2, "death_date"] = "2021-02-30"
    err = _problems(write_csv(text))
    assert {("best_response", 1), ("creatinine_mg_dl", 2), ("death_date", 3)} <= set(
        zip(err.problems["column"], err.problems["row"]))


def test_cross_field_rules(synthetic_text, write_csv):
    text = synthetic_text.copy()
    dead = text.index[text["death_date"] != ""][0]
    text.loc[dead, "death_cause"] = ""
    text.loc[0, "len_end_date"] = "2000-01-01"  # stopped lenalidomide long before relapse: not refractory
    err = _problems(write_csv(text))
    columns = set(zip(err.problems["column"], err.problems["row"]))
    assert ("death_cause", dead + 1) in columns
    assert ("len_end_date", 1) in columns


def test_raw_file_is_never_modified(synthetic_text, write_csv):
    text = synthetic_text.copy()
    text.loc[3, "sex"] = "?"
    path = write_csv(text)
    before = path.read_bytes()
    _problems(path)
    assert path.read_bytes() == before


def test_xlsx_reads_like_csv(synthetic_text, tmp_path):
    path = tmp_path / "export.xlsx"
    typed_csv = loading.typed(synthetic_text)
    typed_csv.to_excel(path, index=False)  # dates and numbers as Excel would store them
    raw = loading.load_raw(path)
    pd.testing.assert_frame_equal(raw.frame, typed_csv, check_dtype=False)


def test_wrong_suffix_is_refused(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("a,b\n")
    with pytest.raises(ValueError, match="expected a .csv or .xlsx"):
        loading.load_raw(path)

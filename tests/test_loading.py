"""The loader: every malformed input gives one clear message naming file, column, row and expectation."""

import hashlib
import re

import pandas as pd
import pytest

from compendium.data import inputs, loading
from compendium import paths


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


# -- file-level problems (compendium.data.inputs) and plausibility rules ------------------------------------

def _refused(path, match):
    with pytest.raises(loading.InputFileError, match=match) as info:
        loading.load_raw(path)
    assert path.name in str(info.value)
    return str(info.value)


def test_byte_order_mark_is_accepted(synthetic_text, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(synthetic_text.to_csv(index=False).encode("utf-8-sig"))
    raw = loading.load_raw(path)
    assert list(raw.frame.columns)[0] == "patient_id" and len(raw.frame) == 85


def test_napoli_coded_na_is_text_in_csv_and_xlsx(synthetic_text, tmp_path):
    """'NA' is a centre code (Napoli) where the dictionary expects text: no reader may make it missing."""
    text = synthetic_text.copy()
    text.loc[[0, 5], "center"] = "NA"
    text.to_csv(tmp_path / "export.csv", index=False)
    loading.typed(text).to_excel(tmp_path / "export.xlsx", index=False)
    from_csv = loading.load_raw(tmp_path / "export.csv").frame
    from_xlsx = loading.load_raw(tmp_path / "export.xlsx").frame
    assert list(from_csv.loc[[0, 5], "center"]) == ["NA", "NA"]
    pd.testing.assert_frame_equal(from_csv, from_xlsx, check_dtype=False)


def test_not_utf8_names_the_line_and_the_remedy(synthetic_text, tmp_path):
    text = synthetic_text.copy()
    text.loc[40, "center"] = "Università"
    path = tmp_path / "latin.csv"
    path.write_bytes(text.to_csv(index=False).encode("cp1252"))
    message = _refused(path, "is not UTF-8 text: line 42 has the byte 0xE0")
    assert "Università" in message and "Re-save the file as UTF-8" in message


@pytest.mark.parametrize("sep, word", [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")])
def test_other_delimiters_are_named(synthetic_text, tmp_path, sep, word):
    path = tmp_path / "export.csv"
    # a European export: semicolons between fields, decimal commas inside them
    synthetic_text.to_csv(path, index=False, sep=sep, decimal=",")
    _refused(path, f"separates its fields with {word}, not commas")


def test_quoted_commas_and_line_breaks_are_values_not_delimiters(synthetic_text, tmp_path):
    text = synthetic_text.copy()
    text.loc[2, "center"] = "Napoli, Federico II"
    text.loc[3, "center"] = "Bologna\nSant'Orsola"
    path = tmp_path / "export.csv"
    text.to_csv(path, index=False)  # pandas quotes both
    raw = loading.load_raw(path)
    assert raw.frame.loc[2, "center"] == "Napoli, Federico II" and len(raw.frame) == 85


def test_rows_with_wrong_field_counts_are_all_named(synthetic_text, tmp_path):
    lines = synthetic_text.to_csv(index=False).splitlines()
    bad = [5, 17, 30, 31, 32, 33, 34, 35, 36, 37]  # data rows (1-based)
    for row in bad:
        lines[row] = lines[row] + ",extra" if row % 2 else lines[row].rsplit(",", 1)[0]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    fields = synthetic_text.shape[1]
    message = _refused(path, f"10 row\\(s\\) do not have the header's {fields} fields")
    assert f"row 5 (line 6, patient SYN005: {fields + 1} fields)" in message
    assert f"row 30 (line 31, patient SYN030: {fields - 1} fields)" in message
    assert "and 2 more" in message and "row 37" not in message


def test_trailing_blank_rows_are_dropped_with_a_notice(synthetic_text, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(synthetic_text.to_csv(index=False) + ("," * 63 + "\n") * 129 + "\n\n")
    raw = loading.load_raw(path)
    assert len(raw.frame) == 85
    assert raw.notices == ("ignored 131 blank row(s) at the end (rows 86-216: no values, only delimiters or "
                           "nothing), as a spreadsheet export leaves them",)


def test_extra_columns_are_ignored_with_one_notice(synthetic_text, tmp_path):
    text = synthetic_text.copy()
    text.insert(3, "hospital_name", "x")
    text["comment"] = ""
    path = tmp_path / "export.csv"
    text.to_csv(path, index=False)
    raw = loading.load_raw(path)
    assert raw.notices == ("ignored 2 column(s) not in data/dictionary.csv: hospital_name, comment",)
    assert "hospital_name" not in raw.frame.columns


def test_header_found_lower_down_is_named(synthetic_text, tmp_path):
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as writer:
        loading.typed(synthetic_text).to_excel(writer, index=False, startrow=4)
    _refused(path, "row 5 looks like the header")


def test_directory_and_unreadable_paths(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    folder.mkdir()
    _refused(folder, "is a folder, not a file")
    path = tmp_path / "locked.csv"
    path.write_text("patient_id\n")
    monkeypatch.setattr(inputs.os, "access", lambda *args: False)  # chmod does not stop root
    _refused(path, r"cannot be read \(permission denied\)")


def test_a_file_that_cannot_be_read_midway_gives_a_message(tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_text("patient_id\n")

    def fail(self):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(type(path), "read_bytes", fail)
    _refused(path, r"cannot be read \(Input/output error\)")


def test_capitalised_header_names_point_at_the_dictionary_name(synthetic_text, write_csv):
    err = _problems(write_csv(synthetic_text.rename(columns={"daravd_start_date": "DaraVd Start Date"})))
    assert list(err.problems["column"]) == ["daravd_start_date"]
    assert "the header has 'DaraVd Start Date'" in str(err)


def _one_patient(synthetic_text, **values):
    text = synthetic_text.iloc[[0]].reset_index(drop=True).copy()
    for column, value in values.items():
        text.loc[0, column] = value
    return text


@pytest.mark.parametrize("birth, start, age", [
    ("2003-12-01", "2021-11-30", 17),   # the day before the 18th birthday
    ("1921-11-30", "2021-11-30", 100),  # the 100th birthday itself: accepted
    ("1920-11-29", "2021-11-30", 101),
    ("2003-11-30", "2021-11-30", 18),
])
def test_age_at_start_rule_counts_completed_years(synthetic_text, birth, start, age):
    text = _one_patient(synthetic_text, birth_date=birth, diagnosis_date="2021-01-01")
    text.loc[0, "daravd_start_date"] = start
    hits = [p for p in loading._plausibility_problems(text) if p["column"] == "birth_date"]
    if 18 <= age <= 100:
        assert hits == []
    else:
        assert len(hits) == 1 and f"not {age} (rule 'age at start 18-100'" in hits[0]["expected"]


def test_future_and_cutoff_rules(synthetic_text):
    text = synthetic_text.copy()
    text.loc[4, "best_response_date"] = "2031-01-01"
    cutoff = max(text["last_followup_date"])
    text.loc[6, "best_response_date"] = str((pd.Timestamp(cutoff) + pd.Timedelta(days=1)).date())
    problems = loading._plausibility_problems(text, today=pd.Timestamp("2030-06-01").date())
    found = {(p["row"], p["expected"].split("(rule ")[1]) for p in problems}
    assert found == {(5, "'no date in the future': a date cannot lie after the export)"),
                     (7, "'no date after the data cut-off': nothing is known about a patient after the data "
                         "were frozen)")}
    assert f"data cut-off ({cutoff}" in next(p["expected"] for p in problems if p["row"] == 7)


def test_synthetic_cohort_passes_every_plausibility_rule(synthetic_text):
    assert loading._plausibility_problems(synthetic_text) == []


@pytest.mark.parametrize("end, cycles, refused", [
    ("2021-01-22", "3", False),  # 21 days: cycle 2 began on day 21, plus one cycle of tolerance
    ("2021-01-22", "4", True),
    ("2021-01-21", "3", True),   # 20 days: cycle 2 cannot have begun
])
def test_cycles_fit_the_time_on_treatment(synthetic_text, end, cycles, refused):
    text = _one_patient(synthetic_text, daravd_start_date="2021-01-01", daravd_end_date=end,
                        cycles_received=cycles)
    hits = [p for p in loading._plausibility_problems(text) if p["column"] == "cycles_received"]
    assert bool(hits) == refused
    if refused:
        days = (pd.Timestamp(end) - pd.Timestamp("2021-01-01")).days
        assert f"at most {days // 21 + 2} cycles in the {days} days" in hits[0]["expected"]


def test_not_evaluable_response_has_no_date(synthetic_text):
    text = _one_patient(synthetic_text, best_response="NE")
    hits = loading._cross_field_problems(text)
    assert [(p["column"], p["expected"][:45]) for p in hits] == [
        ("best_response_date", "filled exactly when best_response is not NE (")]
    text.loc[0, "best_response_date"] = ""
    assert loading._cross_field_problems(text) == []


@pytest.mark.parametrize("value", [" IgG", "IgG ", "\tIgG", '" IgG "'])
def test_padding_around_one_value_is_stripped(synthetic_text, tmp_path, value):
    """White space is looked for in the text before any cell is stripped: one padded cell must still be found."""
    lines = synthetic_text.to_csv(index=False).splitlines()
    lines[1] = lines[1].replace(",IgG,", f",{value},", 1)
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    assert value in path.read_text()
    assert loading.read_text_table(path).loc[0, "isotype"] == "IgG"


def test_an_unclosed_quote_in_a_large_file_names_where_it_opens(synthetic_text, tmp_path):
    lines = synthetic_text.to_csv(index=False).splitlines()
    lines[3] = lines[3].replace(",C", ',"C', 1)  # the quote swallows every later row into one field
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines + lines[4:] * 400) + "\n")
    _refused(path, "cannot be split into fields from line 4 on")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings(synthetic_text, tmp_path, newline):
    path = tmp_path / "export.csv"
    text = synthetic_text.copy()
    text.loc[30, "center"] = "Forlì"
    path.write_bytes(text.to_csv(index=False, lineterminator=newline).encode("utf-8"))
    assert len(loading.load_raw(path).frame) == 85
    path.write_bytes(text.to_csv(index=False, lineterminator=newline).encode("latin-1"))
    _refused(path, "line 32 has the byte 0xEC .*'SYN031,Forlì,")


def test_a_damaged_workbook_gives_a_message(synthetic_text, tmp_path):
    import zipfile

    path = tmp_path / "export.xlsx"
    loading.typed(synthetic_text).to_excel(path, index=False)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as book, zipfile.ZipFile(damaged, "w") as copy:
        for item in book.infolist():
            data = book.read(item.filename)
            copy.writestr(item, data[: len(data) // 2] if "sheet1" in item.filename else data)  # cut XML
    _refused(damaged, "is not a readable Excel workbook")


def _reference_ok(value: str, spec) -> bool:
    """The check as first written, one value at a time: the reference for the vectorised one."""
    kind, allowed = loading._allowed(spec)
    if value == "":
        return spec["nullable"] == "yes"
    if spec["type"] == "date":
        try:
            # within datetime64[ns] (1677-2262), which the typed frame needs
            return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and pd.Timestamp(value).as_unit("ns") is not None
        except ValueError:
            return False
    if spec["type"] in ("number", "integer"):
        try:
            number = float(value)
        except ValueError:
            return False
        if spec["type"] == "integer" and not number.is_integer():
            return False
        if kind == "set":
            return any(abs(number - float(a)) < 1e-9 for a in allowed)
        return allowed[0] <= number <= allowed[1] if kind == "range" else True
    return value in allowed if kind == "set" else True


TRICKY = ["", "0", "1", "2", "5", "-1", "1.0", "1.5", "2.5", "10", "15.0", "1e1", ".5", "+3", "0.7", "1.3",
          "1.30", "200", "201", "100", "100.0001", "abc", "NA", "N/A", "nan", "inf", "M", "F", "m", "IgG",
          "full", "80", "2021-02-28", "2021-02-29", "2020-02-29", "2021-13-01", "2021-1-01", "0001-01-01",
          "2262-04-11", "2262-04-12", "21-01-2021", "2021-01-01x", "PD", "NE", "resolved", "0.2", "15", "16.5"]


def test_vectorised_column_check_matches_the_value_by_value_reference():
    for _, spec in loading.load_dictionary().iterrows():
        got = loading.column_ok(pd.Series(TRICKY, dtype=object), spec).tolist()
        want = [_reference_ok(v, spec) for v in TRICKY]
        assert got == want, (spec["name"], [v for v, g, w in zip(TRICKY, got, want) if g != w])

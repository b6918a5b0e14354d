"""Data queries (issue 17, part 3): the clinical rules read against an export, reported by `validate` and
notebook 01 for the data manager; a query never refuses a file and never changes an analysis."""

from __future__ import annotations

import pandas as pd
import pytest

from compendium import paths
from compendium.data import endpoints, loading, queries, rules
from compendium.run import runner


def _edits(text: pd.DataFrame) -> dict[str, tuple[int, dict]]:
    """Rule name -> (row, {column: new text}): one plausible-looking history that breaks it, each
    accepted by the dictionary's own checks."""
    raw = loading.typed(text)
    age = (raw["first_line_start_date"] - raw["birth_date"]).dt.days / 365.25
    old = int(age.idxmax())
    late = int(raw["daravd_start_date"].idxmin())
    return {
        "first_line_asct_age": (old, {"asct_first_line": "single"}),
        "daratumumab_route_by_date": (late, {"dara_route_start": "SC"}),
    }


@pytest.mark.parametrize("rule", ["first_line_asct_age", "daratumumab_route_by_date"])
def test_validate_lists_a_broken_rule_as_a_query_and_accepts_the_file(rule, synthetic_text, write_csv, capsys,
                                                                      tmp_path):
    row, change = _edits(synthetic_text)[rule]
    edited = synthetic_text.copy()
    for column, value in change.items():
        edited.loc[row, column] = value
    patient = edited.loc[row, "patient_id"]
    path = write_csv(edited)
    out_csv = tmp_path / "queries.csv"
    assert runner.main(["validate", str(path), "--queries", str(out_csv)]) == 0, "a query never refuses a file"
    said = capsys.readouterr().out
    description = next(r.description for r in rules.RULES if r.name == rule)
    assert "data quer" in said and description in said
    written = pd.read_csv(out_csv, dtype=str)
    hit = written[(written["patient_id"] == patient) & (written["rule"] == rule)]
    assert len(hit) == 1 and all(f"{c}=" in hit["values"].iloc[0] for c in change)
    # the analysis is the data as recorded: the queried value is analysed as it stands
    typed = loading.load_raw(path).frame
    assert typed.loc[row, list(change)].astype(str).tolist() == list(change.values())


def test_every_rule_is_counted_even_when_it_queries_no_one():
    empty = pd.DataFrame(columns=["patient_id", "rule", "description", "values"])
    counted = queries.by_rule(empty)
    assert list(counted["rule"]) == [r.name for r in rules.RULES] and (counted["patients"] == 0).all()
    assert "no data queries" in queries.report(empty, "x.csv")


def test_the_report_counts_patients_per_rule_and_lists_the_first():
    found = pd.DataFrame({"patient_id": ["A", "A", "B"], "rule": [rules.RULES[0].name, rules.RULES[1].name,
                                                                  rules.RULES[0].name],
                          "description": ["d0", "d1", "d0"], "values": ["x=1", "y=2", "x=3"]})
    counted = queries.by_rule(found).set_index("rule")["patients"]
    assert counted[rules.RULES[0].name] == 2 and counted[rules.RULES[1].name] == 1
    text = queries.report(found, "f.csv", printed=2)
    assert "3 data queries" in text and "2 patient(s)" in text and "and 1 more" in text


def test_queries_do_not_change_the_analysis_dataset(synthetic_text, write_csv):
    row, change = _edits(synthetic_text)["first_line_asct_age"]
    edited = synthetic_text.copy()
    edited.loc[row, "asct_first_line"] = change["asct_first_line"]
    raw = loading.load_raw(write_csv(edited)).frame
    flow, eligible = endpoints.cohort_flow(raw)
    assert eligible.sum() == endpoints.cohort_flow(loading.load_raw(paths.SYNTHETIC_COHORT).frame)[1].sum()


def test_queries_refuse_to_overwrite_the_input(synthetic_text, write_csv, capsys):
    path = write_csv(synthetic_text)
    assert runner.main(["validate", str(path), "--queries", str(path)]) == 2
    assert "is the input itself" in capsys.readouterr().err
    assert pd.read_csv(path, dtype=str, keep_default_na=False).equals(synthetic_text)


# ---- rule_breaches against a cell-by-cell reference ---------------------------------------------------

import functools  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from compendium import synthetic  # noqa: E402


def _shown_cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _breaches_cell_by_cell(raw: pd.DataFrame, cutoff=None) -> pd.DataFrame:
    """The first implementation of rules.rule_breaches, kept as the reference: one cell at a time."""
    broken = rules._broken(raw, cutoff)
    rows = []
    for r in rules.RULES:
        cols = [c for c in r.columns if c in raw]
        for i in raw.index[broken[r.name].to_numpy()]:
            rows.append({"patient_id": str(raw.at[i, "patient_id"]), "rule": r.name, "description": r.description,
                         "values": "; ".join(f"{c}={_shown_cell(raw.at[i, c])}" for c in cols)})
    return pd.DataFrame(rows, columns=["patient_id", "rule", "description", "values"])


@functools.cache
def _committed_typed() -> pd.DataFrame:
    return loading.load_raw(paths.SYNTHETIC_COHORT).frame


@pytest.fixture(scope="module")
def generated_typed(tmp_path_factory):
    """A generated 1,500-patient cohort, written and read back through the validating loader."""
    path = tmp_path_factory.mktemp("generated") / "cohort.csv"
    synthetic.write_any(path, 1_500, seed=5)
    return loading.load_raw(path).frame


RULE_COLUMNS = sorted({c for r in rules.RULES for c in r.columns} | {"patient_id"})
CODES = ["PD", "SD", "PR", "VGPR", "CR", "sCR", "SC", "IV", "death", "toxicity", "ASCT", "myeloma", "adverse_event",
         "single", "double", "none", "I", "II", "III", "standard", "high", ""]


def _new_value(draw, raw: pd.DataFrame, row: int, column: str):
    values = raw[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        here = values.iat[row]
        anchor = here if pd.notna(here) else raw["daravd_start_date"].iat[row]
        return draw(st.one_of(st.just(pd.NaT), st.integers(-900, 900).map(lambda d: anchor + pd.Timedelta(days=d))))
    if isinstance(values.dtype, pd.Int64Dtype):  # whole numbers only
        if column.startswith("ae_"):
            return draw(st.one_of(st.just(pd.NA), st.integers(0, 5)))
        return draw(st.one_of(st.just(pd.NA), st.integers(-3, 60), st.integers(-10**12, 10**12)))
    if values.dtype == float:
        return draw(st.one_of(st.just(np.nan), st.floats(width=64), st.integers(-10**6, 10**6).map(float),
                              st.sampled_from([0.7, 1.0, 1.3, -0.0, 1e300, 5e-324, np.inf, -np.inf])))
    seen = sorted(values.dropna().unique().tolist())
    return draw(st.one_of(st.just(pd.NA), st.sampled_from(seen + CODES), st.text(max_size=6)))


@st.composite
def _edited_exports(draw, generated):
    raw = (generated if draw(st.booleans()) else _committed_typed()).copy()
    n = len(raw)
    for row, column in draw(st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(RULE_COLUMNS)), max_size=40)):
        raw.iloc[row, raw.columns.get_loc(column)] = _new_value(draw, raw, row, column)
    # some patients left out, so that the frame's labels are no longer its positions
    dropped = draw(st.sets(st.integers(0, n - 1), max_size=n // 2))
    raw = raw.drop(index=raw.index[sorted(dropped)])
    cutoff = draw(st.one_of(st.none(), st.dates(pd.Timestamp("2019-01-01").date(), pd.Timestamp("2026-12-31").date())))
    return raw, cutoff


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_rule_breaches_equal_the_cell_by_cell_reference_on_edited_exports(data, generated_typed):
    raw, cutoff = data.draw(_edited_exports(generated_typed))
    found = rules.rule_breaches(raw, cutoff)
    expected = _breaches_cell_by_cell(raw, cutoff)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert found["values"].tolist() == expected["values"].tolist()


def _with_breaches(raw: pd.DataFrame) -> pd.DataFrame:
    """The generator breaks no rule, so break three of them on a share of the patients: R-ISS I beside ISS III,
    grade-3 neuropathy without a reduction or switch, subcutaneous daratumumab before its approval."""
    raw = raw.copy()
    every = np.arange(len(raw))
    raw.loc[raw.index[(every % 7 == 0) & raw["iss_dx"].eq("III").fillna(False).to_numpy(bool)], "riss_dx"] = "I"
    raw.loc[raw.index[every % 5 == 0], "ae_pn_grade"] = 3
    raw.loc[raw.index[(every % 3 == 0) & raw["dara_route_start"].eq("IV").fillna(False).to_numpy(bool)], "dara_route_start"] = "SC"
    return raw


def test_rule_breaches_equal_the_reference_on_the_committed_and_a_generated_cohort(generated_typed):
    for raw in (_committed_typed(), generated_typed, _with_breaches(_committed_typed()),
                _with_breaches(generated_typed)):
        found = rules.rule_breaches(raw)
        pd.testing.assert_frame_equal(found, _breaches_cell_by_cell(raw), check_exact=True)
    assert len(rules.rule_breaches(_with_breaches(generated_typed))) > 0
    nobody = _committed_typed().iloc[:0]
    pd.testing.assert_frame_equal(rules.rule_breaches(nobody), _breaches_cell_by_cell(nobody), check_exact=True)

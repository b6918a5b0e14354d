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

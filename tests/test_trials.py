"""The evidence table: validated on load, every number sourced, lookups that cannot pick the wrong row."""

import shutil

import pandas as pd
import pytest

from compendium.report import claims, trials


@pytest.fixture
def evidence_copy(tmp_path):
    path = tmp_path / "evidence.csv"
    shutil.copy(trials.EVIDENCE, path)
    return path


def edit(path, row: int, column: str, value: str):
    """Change one cell (row counted as in the file, header = 1) and write it back as text."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    t.loc[row - 2, column] = value
    t.to_csv(path, index=False)


def test_committed_evidence_is_valid_and_sourced():
    e = trials.load_evidence()
    assert (e["source"] != "").all() and (e["location"] != "").all()
    assert ((e["doi"] != "") | (e["url"] != "")).all()
    assert set(e["population_type"]) <= set(trials.POPULATION_TYPES)
    # a row with no result says why
    empty = e[e[["median_months", "rate_pct", "hr", "orr_pct"]].isna().all(axis=1) & ~e["median_not_reached"]]
    assert (empty["missing_reason"] != "").all() and len(empty) > 0
    # the populations closest to this cohort are represented
    assert {"lenref_first_relapse", "lenref_any_line", "one_prior_line", "whole_trial"} <= set(e["population_type"])


def test_select_finds_one_row_and_refuses_ambiguity():
    e = trials.load_evidence()
    castor = trials.select(e, "CASTOR", "pfs", "lenref_any_line", "experimental")
    assert castor["hr_lcl"] < castor["hr"] < castor["hr_ucl"]
    with pytest.raises(KeyError, match="expected one"):
        trials.select(e, "CASTOR", "pfs")  # several CASTOR PFS rows
    with pytest.raises(KeyError):
        trials.select(e, "NO-SUCH-TRIAL", "pfs")


@pytest.mark.parametrize("column,value,message", [
    ("median_months", "abc", "column median_months: 'abc' is not a number"),
    ("lcl", "20", "lower limit 20 above the estimate 16.7"),
    ("hr_ucl", "0.2", "upper limit 0.2 below the estimate 0.31"),
    ("source", "", "column source: empty"),
    ("population_type", "everyone", "column population_type: 'everyone'"),
    ("endpoint", "ttnt", "column endpoint: 'ttnt'"),
    ("n", "12.5", "column n: 12.5; expected a positive whole number"),
    ("share_lenref_pct", "140", "expected a percentage between 0 and 100"),
    ("doi", "doi.org/10.1", "is not a DOI"),
    ("source_type", "tertiary", "column source_type: 'tertiary'"),
    ("median_not_reached", "1", "cannot be both given and not reached"),
])
def test_bad_cells_are_named_by_file_row_and_column(evidence_copy, column, value, message):
    edit(evidence_copy, 2, column, value)  # row 2: CASTOR, all patients, PFS
    with pytest.raises(trials.EvidenceError) as err:
        trials.load_evidence(evidence_copy)
    text = str(err.value)
    assert "evidence.csv: row 2" in text and message in text


def test_a_row_without_result_or_reason_is_refused(evidence_copy):
    for col in ("median_months", "hr", "hr_lcl", "hr_ucl"):
        edit(evidence_copy, 2, col, "")
    with pytest.raises(trials.EvidenceError, match="missing_reason: empty"):
        trials.load_evidence(evidence_copy)


def test_a_row_without_doi_or_url_is_refused(evidence_copy):
    edit(evidence_copy, 2, "doi", "")
    edit(evidence_copy, 2, "url", "")
    with pytest.raises(trials.EvidenceError, match="a source needs a DOI or a URL"):
        trials.load_evidence(evidence_copy)


def test_duplicates_and_missing_columns_are_refused(evidence_copy, tmp_path):
    t = pd.read_csv(evidence_copy, dtype=str, keep_default_na=False)
    pd.concat([t, t.iloc[[0]]]).to_csv(evidence_copy, index=False)
    with pytest.raises(trials.EvidenceError, match="repeat the same"):
        trials.load_evidence(evidence_copy)
    t.drop(columns="location").to_csv(evidence_copy, index=False)
    with pytest.raises(trials.EvidenceError, match=r"missing columns \['location'\]"):
        trials.load_evidence(evidence_copy)
    with pytest.raises(trials.EvidenceError, match="file not found"):
        trials.load_evidence(tmp_path / "nope.csv")


def test_forest_rows_group_like_with_like_and_put_the_cohort_first():
    e = trials.load_evidence()
    cohort = [{"label": "cohort", "median": 14.0, "lcl": 10.0, "ucl": float("nan"), "n": 85,
               "population_type": "lenref_first_relapse"}]
    rows = trials.forest_rows(e, "pfs", cohort)
    assert rows.iloc[0]["kind"] == "header" and rows.iloc[1]["kind"] == "cohort"
    order = [t for t in trials.POPULATION_TYPES if t in set(rows["population_type"])]
    assert list(rows.loc[rows["kind"] == "header", "population_type"]) == order
    # every plotted trial row has a published median or is flagged not reached
    trial_rows = rows[rows["kind"].isin(["trial", "secondary"])]
    assert (trial_rows["median"].notna() | trial_rows["not_reached"]).all()
    assert (rows["kind"] == "secondary").any()  # secondary sources are told apart


def test_literature_basis_is_kept_on_real_data(tmp_path):
    from compendium import paths

    run = paths.Paths.for_run(tmp_path)
    reg = claims.load_registry()
    lit = reg[reg["basis"] == "literature"].iloc[[0]]
    other = reg[reg["basis"] == "emergent"].iloc[[0]]
    both = pd.concat([lit, other])
    rec = claims.Recorder("07_comparison", run, both)
    rec.record(lit["claim_id"].iloc[0], float(lit["published"].iloc[0]))
    rec.save()
    out = claims.reconcile(run, synthetic=False, registry=both).set_index("claim_id")
    assert out.loc[lit["claim_id"].iloc[0], "basis"] == "literature"
    assert out.loc[other["claim_id"].iloc[0], "basis"] == "observed"
    assert out.loc[lit["claim_id"].iloc[0], "status"] == "match"


def test_every_literature_claim_is_checked_or_explained():
    reg = claims.load_registry()
    literature = set(reg.loc[reg["basis"] == "literature", "claim_id"])
    mapped = set(trials.QUOTES) | set(trials.DERIVED_SHARES) | set(trials.NOT_FOUND)
    assert literature == mapped
    e = trials.load_evidence()
    for claim_id in literature:
        value, reason = trials.quoted_value(e, claim_id)
        assert (value == value) or reason or claim_id in ("I_cartitude4_pfs", "I_dreamm8_pfs")


def test_quoted_values_come_from_the_evidence_table():
    e = trials.load_evidence()
    castor = trials.select(e, "CASTOR", "pfs", "whole_trial", "experimental")
    assert trials.quoted_value(e, "I_castor_pfs") == (castor["median_months"], "")
    lenref = trials.select(e, "CASTOR", "pfs", "lenref_any_line", "experimental")
    assert trials.quoted_value(e, "I_castor_lenref")[0] == pytest.approx(100 * lenref["n"] / castor["n"])
    value, reason = trials.quoted_value(e, "I_cartitude4_pfs")  # not reached, as quoted
    assert value != value and reason == ""
    value, reason = trials.quoted_value(e, "D_optimismm_lenref_pfs")  # not found: the row's reason
    assert value != value and "could not be checked" in reason


def test_cohort_label_names_the_data_source():
    assert trials.cohort_label({"synthetic": True, "input_file": "x.csv"}) == "This cohort (synthetic data)"
    assert trials.cohort_label({"synthetic": False, "input_file": "data/raw/export.xlsx"}) == \
        "This cohort (export.xlsx)"


def test_maic_targets_are_validated(tmp_path):
    t = pd.read_csv(trials.MAIC_TARGETS, dtype=str, keep_default_na=False)
    t.loc[1, "value"] = "1.5"
    t.loc[0, "source"] = ""
    t.to_csv(tmp_path / "targets.csv", index=False)
    with pytest.raises(trials.EvidenceError) as err:
        trials.load_maic_targets(tmp_path / "targets.csv")
    assert "row 3" in str(err.value) and "proportion strictly between 0 and 1" in str(err.value)
    assert "row 2" in str(err.value) and "needs its source" in str(err.value)

"""The evidence table: validated on load, every number sourced, lookups that cannot pick the wrong row,
and forest-plot groups that set like beside like by construction."""

import itertools
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


def file_row(trial: str, population: str, endpoint: str, analysis: str | None = None) -> int:
    t = pd.read_csv(trials.EVIDENCE, dtype=str, keep_default_na=False)
    hit = t[(t["trial"] == trial) & (t["population"] == population) & (t["endpoint"] == endpoint)]
    if analysis:
        hit = hit[hit["analysis"] == analysis]
    return int(hit.index[0]) + 2


def test_committed_evidence_is_valid_and_sourced():
    e = trials.load_evidence()
    assert (e["source"] != "").all() and (e["location"] != "").all()
    assert ((e["doi"] != "") | (e["url"] != "")).all()
    assert set(e["population_type"]) <= set(trials.POPULATION_TYPES)
    # a row with no result says why, in the agreed words
    empty = e[e[["median_months", "rate_pct", "hr", "orr_pct"]].isna().all(axis=1) & ~e["median_not_reached"]]
    assert len(empty) > 0 and empty["missing_reason"].str.startswith(trials.UNREADABLE).all()
    # a median's limits are never a bare blank: the words say what the empty cells mean
    has_median = e["median_months"].notna() | e["median_not_reached"]
    assert e.loc[has_median & e["lcl"].isna(), "median_limits"].eq("not reported").all()
    assert e.loc[has_median & e["lcl"].notna() & e["ucl"].isna(), "median_limits"].eq("upper not reached").all()
    # secondary sources: at most a quarter, none of them a promotional page or a news aggregator
    assert (e["source_type"] == "secondary").mean() <= trials.MAX_SECONDARY_SHARE
    assert not any(d in url for url in e["url"] for d in trials.EXCLUDED_SOURCES)
    # the populations closest to this cohort are represented
    assert {"lenref_first_relapse", "lenref_any_line", "len_exposed", "one_prior_line",
            "whole_trial"} <= set(e["population_type"])


def test_the_matching_population_is_represented_by_the_trials_the_paper_compares_with():
    e = trials.load_evidence()
    first = e[(e["population_type"] == "lenref_first_relapse") & (e["endpoint"] == "pfs") & e["current"]]
    assert {"OPTIMISMM", "CASTOR", "DREAMM-7"} <= set(first["trial"])
    optimismm = trials.select(e, "OPTIMISMM", "pfs", "lenref_first_relapse", "experimental")
    assert optimismm["doi"] == "10.1038/s41375-020-01021-3" and optimismm["source_type"] == "primary"
    # a number that could not be read is not typed in from memory: the row is empty and says why
    if pd.isna(optimismm["median_months"]):
        assert optimismm["missing_reason"].startswith(trials.UNREADABLE)
    else:
        assert optimismm["median_limits"] in ("reported", "upper not reached", "not reported")


@pytest.mark.parametrize("status,lines", itertools.product(trials.LEN_STATUS, trials.PRIOR_LINES))
def test_groups_are_built_from_the_codes_alone(status, lines):
    group = trials.population_group(status, lines)
    assert group in trials.POPULATION_TYPES
    # only a refractory population at first relapse is grouped with this cohort; refractory and first
    # relapse are each necessary
    assert (group == "lenref_first_relapse") == (status == "refractory" and lines == "1")
    assert group.startswith("lenref") == (status == "refractory")
    assert (group == "len_exposed") == (status == "exposed")
    assert (group == "one_prior_line") == (status == "mixed" and lines == "1")


def test_every_forest_row_stands_in_the_group_its_codes_define():
    e = trials.load_evidence()
    for endpoint in trials.ENDPOINTS:
        rows = trials.forest_rows(e, endpoint, [])
        body = rows[rows["kind"] != "header"]
        current = e[(e["endpoint"] == endpoint) & e["current"]]
        assert len(body) == len(current)  # nothing dropped, nothing duplicated, superseded analyses left out
        expected = [trials.population_group(s, p) for s, p in zip(current["len_status"], current["prior_lines"])]
        assert sorted(body["population_type"]) == sorted(expected)


def test_a_series_partly_refractory_is_not_grouped_as_refractory():
    e = trials.load_evidence()
    barila = trials.select(e, "Barila 2024 (real life)", "pfs", arm="single arm", population_type="len_exposed")
    assert barila["share_lenref_pct"] < 100 and barila["len_status"] == "exposed"
    refractory_groups = e[e["population_type"].str.startswith("lenref")]
    assert (refractory_groups["len_status"] == "refractory").all()
    assert ((refractory_groups["share_lenref_pct"] == 100) | refractory_groups["share_lenref_pct"].isna()).all()


def test_coding_a_partly_refractory_population_as_refractory_is_refused(evidence_copy):
    row = file_row("Barila 2024 (real life)", "lenalidomide-exposed (77.2% refractory), any line", "pfs")
    edit(evidence_copy, row, "len_status", "refractory")
    with pytest.raises(trials.EvidenceError, match=r"77.2% refractory is not a refractory population"):
        trials.load_evidence(evidence_copy)


COHORT = {"median": 14.0, "lcl": 10.0, "ucl": float("nan"), "n": 85}


@pytest.mark.parametrize("endpoint", trials.ENDPOINTS)
@pytest.mark.parametrize("ptype,selected_on", itertools.product([*trials.POPULATION_TYPES], ["", "response >=VGPR"]))
def test_no_outcome_selected_row_of_this_cohort_sits_beside_a_trial_population(endpoint, ptype, selected_on):
    e = trials.load_evidence()
    rows = [trials.cohort_row("This cohort", COHORT),
            trials.cohort_row("This cohort, >=VGPR only", COHORT, ptype, selected_on=selected_on or None)]
    if not selected_on and ptype != trials.COHORT_POPULATION:
        with pytest.raises(ValueError, match="selected_on"):
            trials.forest_rows(e, endpoint, rows)
        return
    out = trials.forest_rows(e, endpoint, rows)
    for ptype_, group in out[out["kind"] != "header"].groupby("population_type"):
        if group["selected"].any():
            assert (group["kind"] == "cohort").all() and group["selected"].all(), "selected row beside trials"
            assert ptype_ == trials.SELECTED_ON_OUTCOME
    header = out.loc[(out["kind"] == "header") & (out["population_type"] == trials.SELECTED_ON_OUTCOME), "label"]
    # the figure itself says why the row stands apart
    assert header.tolist() == ([trials.SELECTED_TITLE] if selected_on else [])
    assert "outcome" in trials.SELECTED_TITLE and "comparable" in trials.SELECTED_TITLE


def test_select_finds_one_current_row_and_refuses_ambiguity():
    e = trials.load_evidence()
    castor = trials.select(e, "CASTOR", "pfs", "lenref_any_line", "experimental")
    assert castor["hr_lcl"] < castor["hr"] < castor["hr_ucl"]
    itt = trials.select(e, "CASTOR", "pfs", "whole_trial", "experimental")
    assert itt["analysis"] == "3-year update"  # the latest analysis read, not the 2016 primary one
    with pytest.raises(KeyError, match="expected one"):
        trials.select(e, "CASTOR", "pfs", "whole_trial", "experimental", current=False)  # three analyses
    with pytest.raises(KeyError, match="expected one"):
        trials.select(e, "CASTOR", "pfs")  # several CASTOR PFS rows
    with pytest.raises(KeyError):
        trials.select(e, "NO-SUCH-TRIAL", "pfs")


@pytest.mark.parametrize("column,value,message", [
    ("median_months", "abc", "column median_months: 'abc' is not a number"),
    ("lcl", "20", "lower limit 20 above the estimate 16.7"),
    ("lcl", "12", "column median_limits: 'not reported', but the limit columns say 'upper not reached'"),
    ("hr_ucl", "0.2", "upper limit 0.2 below the estimate 0.31"),
    ("hr_limits", "not reported", "column hr_limits: 'not reported', but the hazard-ratio columns say 'reported'"),
    ("source", "", "column source: empty"),
    ("analysis", "", "column analysis: empty"),
    ("len_status", "everyone", "column len_status: 'everyone'"),
    ("prior_lines", "2-3", "column prior_lines: '2-3'"),
    ("analysis_set", "vgpr_only", "column analysis_set: 'vgpr_only'"),
    ("current", "2", "column current: 2"),
    ("endpoint", "ttnt", "column endpoint: 'ttnt'"),
    ("n", "12.5", "column n: 12.5; expected a positive whole number"),
    ("share_lenref_pct", "140", "expected a percentage between 0 and 100"),
    ("share_lenref_pct", "100", "every patient refractory; code it 'refractory'"),
    ("doi", "doi.org/10.1", "is not a DOI"),
    ("url", "https://gskpro.com/en-gb/products/blenrep", "is a promotional page or a news aggregator"),
    ("source_type", "tertiary", "column source_type: 'tertiary'"),
    ("median_not_reached", "1", "cannot be both given and not reached"),
])
def test_bad_cells_are_named_by_file_row_and_column(evidence_copy, column, value, message):
    edit(evidence_copy, 2, column, value)  # row 2: CASTOR, all patients, PFS, 3-year update
    with pytest.raises(trials.EvidenceError) as err:
        trials.load_evidence(evidence_copy)
    text = str(err.value)
    assert "evidence.csv: row 2" in text and message in text


def test_a_row_without_result_or_reason_is_refused(evidence_copy):
    for col, value in (("median_months", ""), ("hr", ""), ("hr_lcl", ""), ("hr_ucl", ""),
                       ("median_limits", "not applicable"), ("hr_limits", "not applicable")):
        edit(evidence_copy, 2, col, value)
    with pytest.raises(trials.EvidenceError, match="missing_reason: '', but the row reports no result") as err:
        trials.load_evidence(evidence_copy)
    assert str(err.value).count("\n") == 0  # the one problem, not a cascade
    edit(evidence_copy, 2, "missing_reason", "could not find it")
    with pytest.raises(trials.EvidenceError, match="beginning with 'not found in a readable source'"):
        trials.load_evidence(evidence_copy)
    edit(evidence_copy, 2, "missing_reason", trials.UNREADABLE + ": the abstract is cut off")
    assert len(trials.load_evidence(evidence_copy)) == len(trials.load_evidence())


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
    # two analyses of one result may both be listed, but only one of them is current
    later = t.iloc[[0]].assign(analysis="5-year update")
    pd.concat([t, later]).to_csv(evidence_copy, index=False)
    with pytest.raises(trials.EvidenceError, match="among current rows"):
        trials.load_evidence(evidence_copy)
    pd.concat([t, later.assign(current="0")]).to_csv(evidence_copy, index=False)
    assert len(trials.load_evidence(evidence_copy)) == len(t) + 1
    t.drop(columns="location").to_csv(evidence_copy, index=False)
    with pytest.raises(trials.EvidenceError, match=r"missing columns \['location'\]"):
        trials.load_evidence(evidence_copy)
    with pytest.raises(trials.EvidenceError, match="file not found"):
        trials.load_evidence(tmp_path / "nope.csv")


def test_forest_rows_group_like_with_like_and_put_the_cohort_first():
    e = trials.load_evidence()
    cohort = [trials.cohort_row("cohort", COHORT)]
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
    assert trials.quoted_value(e, "I_optimismm_lenexp") == (100.0, "")  # eligibility, from the code
    value, reason = trials.quoted_value(e, "D_optimismm_lenref_pfs")
    row = trials.select(e, "OPTIMISMM", "pfs", "lenref_first_relapse", "experimental")
    assert (value, reason) == ((row["median_months"], "") if row["median_months"] == row["median_months"]
                               else (value, row["missing_reason"]))


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

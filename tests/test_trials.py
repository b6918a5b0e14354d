"""Trial results: one sourced row per result, and lookups that cannot pick the wrong row."""

import pandas as pd
import pytest

from compendium import trials


def test_committed_trials_are_sourced_and_unique():
    t = trials.load_trials()
    assert t["doi"].str.startswith("10.").all()
    assert not t.duplicated(["trial", "population", "endpoint"]).any()
    castor = trials.lookup(t, "CASTOR", "lenalidomide-refractory", "pfs")
    assert castor["median_months"] < castor["comparator_median_months"] * 2  # sanity: 7.8 vs 4.9
    assert castor["hr_lcl"] < castor["hr"] < castor["hr_ucl"]


def test_lookup_refuses_ambiguity(tmp_path):
    t = trials.load_trials()
    with pytest.raises(KeyError):
        trials.lookup(t, "CASTOR", "", "pfs")  # three CASTOR PFS rows match an empty prefix


def test_duplicates_and_missing_sources_are_refused(tmp_path):
    t = trials.load_trials()
    path = tmp_path / "trials.csv"
    pd.concat([t, t.iloc[[0]]]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="more than one row"):
        trials.load_trials(path)
    t2 = t.copy()
    t2.loc[0, "doi"] = None
    t2.to_csv(path, index=False)
    with pytest.raises(ValueError, match="source and DOI"):
        trials.load_trials(path)


def test_medians_for_plot_puts_the_cohort_first():
    t = trials.load_trials()
    rows = trials.medians_for_plot(t, {"median": 14.0, "lcl": 10.0, "ucl": float("nan"), "n": 85}, "pfs", "cohort")
    assert rows.iloc[0]["kind"] == "cohort" and (rows.iloc[1:]["kind"] == "trial").all()
    assert len(rows) == 1 + (t["endpoint"] == "pfs").sum()

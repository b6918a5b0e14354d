"""Events per parameter, complete-case loss, the eligibility landmark, the four-way model table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.stats import estimable as ne
from compendium.stats import firth, sensitivity
from compendium.stats import survival as sv


def frame():
    rng = np.random.default_rng(2)
    n = 60
    df = pd.DataFrame({"pfs_months": rng.exponential(10, n).round(2) + 0.1, "pfs_event": rng.integers(0, 2, n),
                       "x": rng.integers(0, 2, n).astype(float), "z": rng.integers(0, 2, n).astype(float)})
    df.loc[:9, "z"] = np.nan
    return df


def test_events_per_parameter_and_rule_of_ten():
    df = frame()
    fit = sv.cox_fit(df, "pfs", ["x", "z"])
    out = sensitivity.events_per_parameter({"m": fit}).iloc[0]
    assert out["parameters"] == 2 and out["events"] == fit.events
    assert out["events_per_parameter"] == fit.events / 2
    assert out["meets_rule_of_ten"] == (fit.events / 2 >= 10)


def test_complete_case_loss_counts_patients_and_events():
    df = frame()
    out = sensitivity.complete_case_loss(df, "pfs", ["x", "z"]).set_index("covariate")
    assert out.loc["z", "missing"] == 10 and out.loc["x", "missing"] == 0
    assert out.loc["any", "events_lost"] == int(df.loc[:9, "pfs_event"].sum())


def test_model_sensitivity_has_the_four_fits():
    out = sensitivity.model_sensitivity(frame(), "pfs", ["x", "z"], "z", m=5)
    assert set(out["model"]) == {"complete_case", "without_z", "multiple_imputation", "firth"}
    assert (out.loc[out.model == "without_z", "n"] == 60).all() and (out.loc[out.model == "complete_case", "n"] == 50).all()
    assert (out.loc[out.model == "multiple_imputation", "n"] == 60).all()


def test_eligibility_landmark():
    df = pd.DataFrame({"pfs_months": [1.0, 2.0, 3.0, 4.0, 5.0], "pfs_event": [1, 1, 1, 1, 0]})
    row = sensitivity.eligibility_landmark(df, ("pfs",), landmark=1.5).iloc[0]
    assert row["events_before_landmark"] == 1 and row["n_at_landmark"] == 4
    # from the landmark: 0.5, 1.5, 2.5 events, 3.5 censored -> S = 3/4, 1/2 at 1.5: median 1.5 + (2.5-1.5)/2
    assert row["median_from_landmark"] == pytest.approx(sv.km_median([0.5, 1.5, 2.5, 3.5], [1, 1, 1, 0])["median"])
    assert row["median_from_landmark_plus"] == pytest.approx(row["median_from_landmark"] + 1.5)


def test_constant_sparse_covariate_is_not_estimable_in_every_fit():
    # a sparse covariate with one value: each of the four fits keeps its row, empty, with the reason,
    # and estimates the other covariate as if it were alone (the penalised fit of x alone)
    df = frame()
    df.loc[df["z"].notna(), "z"] = 0.0
    alone = firth.firth_model(df.dropna(subset=["z"]), "pfs", ["x"])
    got = firth.firth_model(df, "pfs", ["x", "z"]).set_index("covariate")
    assert got.loc["z", "reason"] == ne.ONE_LEVEL and np.isnan(got.loc["z", "hr"])
    assert got.loc["x", "reason"] == "" and got.loc["x", "hr"] == pytest.approx(alone["hr"].iloc[0], rel=1e-12)
    out = sensitivity.model_sensitivity(df, "pfs", ["x", "z"], "z", m=3)
    assert set(out["model"]) == {"complete_case", "without_z", "multiple_imputation", "firth"}
    z = out[out.covariate == "z"]
    assert (z["reason"] == ne.ONE_LEVEL).all() and z["hr"].isna().all()
    assert (out.loc[out.covariate == "x", "reason"] == "").all()

"""MAIC: parity with R on the NICE DSU TSD 18 example, and recovery of a known truth."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from compendium.stats import maic

REF = Path(__file__).resolve().parent / "reference"
R_OUT = REF / "r_out"
RERUN = "rerun `Rscript tests/reference/maic_reference.R` from the repository root"


@pytest.fixture(scope="module")
def tsd18():
    ipd = pd.read_csv(REF / "maic" / "AB_IPD.csv", dtype={"ID": str})
    agd = pd.read_csv(REF / "maic" / "AC_AgD.csv").iloc[0]
    ipd["male"] = (ipd["gender"] == "Male").astype(int)
    targets = [maic.Target("age", agd["age.mean"], agd["age.sd"]), maic.Target("male", agd["prop.male"])]
    return ipd, targets


@pytest.fixture(scope="module")
def r_summary():
    out = pd.read_csv(R_OUT / "maic_tsd18.csv", keep_default_na=False)
    assert (out.loc[out["quantity"] == "optim_convergence", "value"] == 0).all(), "R optim did not converge"
    return {(q, a): v for q, a, v in out.itertuples(index=False)}


def test_tsd18_weights_match_r(tsd18, r_summary):
    ipd, targets = tsd18
    x, names = maic.design(ipd, targets)
    a, w = maic.fit_weights(x)
    assert names == ["age (mean)", "age (second moment)", "male (mean)"]
    np.testing.assert_allclose(a, [r_summary[(f"coef_{c}", "")] for c in ("age", "age2", "male")], rtol=1e-6)
    r_w = pd.read_csv(R_OUT / "maic_tsd18_weights.csv", dtype={"ID": str})
    assert list(r_w["ID"]) == list(ipd["ID"]), RERUN
    np.testing.assert_allclose(maic.weights(ipd, targets), r_w["weight_rescaled"], rtol=1e-6)
    assert maic.ess(w) == pytest.approx(r_summary[("ess", "")], rel=1e-6)


def test_tsd18_weighted_outcome_per_arm_matches_r(tsd18, r_summary):
    ipd, targets = tsd18
    w = maic.weights(ipd, targets)
    for arm in ("A", "B"):
        s = (ipd["trt"] == arm).to_numpy()
        assert np.average(ipd.loc[s, "y"], weights=w[s]) == pytest.approx(r_summary[("weighted_mean_y", arm)],
                                                                          rel=1e-6)
        assert maic.ess(w[s]) == pytest.approx(r_summary[("ess_arm", arm)], rel=1e-6)


def test_balance_reaches_the_targets_exactly(tsd18):
    ipd, targets = tsd18
    bal = maic.balance(ipd, targets, maic.weights(ipd, targets))
    np.testing.assert_allclose(bal["weighted"], bal["target"], rtol=1e-9)
    assert not np.allclose(bal["unweighted"], bal["target"], rtol=1e-2)  # matching did something
    assert list(bal["statistic"]) == ["mean", "SD (population)", "mean"]


def test_weighted_km_and_median_match_r():
    lung = pd.read_csv(REF / "lung.csv")
    w = np.exp((lung["age"] - 60) / 10)
    km = maic.weighted_km(lung["time"], lung["status"], w)
    r_km = pd.read_csv(R_OUT / "maic_weighted_km_lung.csv")
    assert len(km) == len(r_km), RERUN
    for col in ("time", "n_risk", "n_event", "surv"):
        np.testing.assert_allclose(km[col], r_km[col], rtol=1e-9)
    r_med = pd.read_csv(R_OUT / "maic_weighted_median_lung.csv")["median"].iloc[0]
    assert maic.weighted_median(lung["time"], lung["status"], w) == pytest.approx(r_med, abs=1e-6)


def test_unit_weights_give_the_plain_kaplan_meier():
    from compendium.stats import survival as sv

    lung = pd.read_csv(REF / "lung.csv")
    plain = sv.km_median(lung["time"], lung["status"])["median"]
    assert maic.weighted_median(lung["time"], lung["status"], np.ones(len(lung))) == plain


def _population(rng, n, p_high, rate=0.05, log_hr=1.0):
    """Patients with a binary risk factor; exponential PFS with hazard rate * exp(log_hr * x)."""
    x = rng.binomial(1, p_high, n)
    age = rng.normal(65 - 5 * x, 8)
    t_event = rng.exponential(1 / (rate * np.exp(log_hr * x)))
    t_cens = rng.uniform(0, 120, n)
    return pd.DataFrame({"high_risk": x, "age": age, "pfs_months": np.minimum(t_event, t_cens),
                         "pfs_event": (t_event <= t_cens).astype(int)})


def test_simulation_recovers_the_target_populations_median():
    """Reweighting a low-risk sample to a high-risk target recovers the target's true median PFS."""
    rng = np.random.default_rng(11)
    rate, log_hr, p_target = 0.05, 1.0, 0.6
    ipd = _population(rng, 3000, 0.2, rate, log_hr)

    def surv(t):  # the target population's true survival
        return (1 - p_target) * np.exp(-rate * t) + p_target * np.exp(-rate * np.exp(log_hr) * t)

    truth = brentq(lambda t: surv(t) - 0.5, 0.1, 100)
    targets = [maic.Target("high_risk", p_target)]
    w = maic.weights(ipd, targets)
    weighted = maic.weighted_median(ipd["pfs_months"], ipd["pfs_event"], w)
    naive = maic.weighted_median(ipd["pfs_months"], ipd["pfs_event"], np.ones(len(ipd)))
    assert abs(weighted - truth) / truth < 0.06
    assert abs(naive - truth) / truth > 0.3  # without matching the answer is far off
    # the ESS of matching 20% to 60% is well below n: the price of the adjustment
    assert 0.2 * len(ipd) < maic.ess(w) < 0.8 * len(ipd)


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    rng = np.random.default_rng(5)
    ipd = _population(rng, 150, 0.3)
    targets = [maic.Target("high_risk", 0.5), maic.Target("age", 62.0)]
    a = maic.bootstrap_median(ipd, targets, "pfs_months", "pfs_event", n_boot=200, seed=3)
    b = maic.bootstrap_median(ipd, targets, "pfs_months", "pfs_event", n_boot=200, seed=3)
    assert a == b
    assert a["lcl"] < a["median"] < a["ucl"]


def test_bootstrap_resamples_whole_patients_as_the_definition_says():
    """The array-based bootstrap equals the definition: resample rows of the patient table,
    re-estimate the weights on the resample, take the weighted KM median; percentile interval."""
    rng = np.random.default_rng(8)
    ipd = _population(rng, 120, 0.3)
    targets = [maic.Target("high_risk", 0.45), maic.Target("age", 61.0, 7.0)]
    got = maic.bootstrap_median(ipd, targets, "pfs_months", "pfs_event", n_boot=60, seed=4)
    draws, meds, failed = np.random.default_rng(4), [], 0
    for _ in range(60):
        sample = ipd.iloc[draws.integers(0, len(ipd), len(ipd))].reset_index(drop=True)
        try:  # a resample whose weights cannot reach the target is left out, and counted
            w = maic.weights(sample, targets)
        except ValueError:
            failed += 1
            continue
        m = maic.weighted_median(sample["pfs_months"], sample["pfs_event"], w)
        meds.append(np.inf if np.isnan(m) else m)
    lo, hi = np.quantile(meds, [0.025, 0.975])
    assert got["failed"] == failed and len(meds) > 40
    assert got["lcl"] == pytest.approx(lo, abs=1e-12) and got["ucl"] == pytest.approx(hi, abs=1e-12)


def test_an_unreachable_target_is_refused():
    ipd = pd.DataFrame({"age": [50.0, 55.0, 60.0]})
    with pytest.raises(ValueError, match="cannot be reached"):
        maic.weights(ipd, [maic.Target("age", 70.0)])
    with pytest.raises(ValueError, match="missing values"):
        maic.weights(pd.DataFrame({"age": [50.0, np.nan]}), [maic.Target("age", 52.0)])


# --------------------------------------------------------------------------- medians, overlap, balance
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(ages=st.lists(st.integers(40, 90), min_size=6, max_size=80), q=st.floats(0.15, 0.85),
       shift=st.floats(-0.5, 0.5))
def test_a_median_is_matched_by_the_share_below_it(ages, q, shift):
    """As the R package maic does: after weighting, half the weight lies below the target's median
    (whatever the data's own median, ties included)."""
    ages = np.asarray(ages, float)
    median = float(np.quantile(ages, q)) + shift
    target = maic.Target("age", median, statistic="median")
    below = ages < median
    if below.all() or not below.any():  # no weights can reach one half: reported, not matched
        assert "age" in maic.unmatchable(pd.DataFrame({"age": ages}), [target])
        return
    w = maic.weights(pd.DataFrame({"age": ages}), [target])
    assert w[below].sum() / w.sum() == pytest.approx(0.5, abs=1e-9)
    bal = maic.balance(pd.DataFrame({"age": ages}), [target], w)
    assert bal["statistic"].tolist() == ["share below the median"] and bal["smd_after"].abs().max() < 1e-6


def test_a_covariate_no_weighting_can_reach_is_reported_and_the_rest_matched():
    rng = np.random.default_rng(2)
    ipd = _population(rng, 200, 0.3).assign(refractory=1.0)
    targets = [maic.Target("high_risk", 0.4, statistic="proportion"), maic.Target("refractory", 0.35,
                                                                                    statistic="proportion")]
    fit = maic.estimate(ipd, targets, "pfs_months", "pfs_event", n_boot=20, seed=1)
    assert list(fit["unmatched"]) == ["refractory"] and "refractory = 1" in fit["unmatched"]["refractory"]
    assert not fit["reason"] and [t.column for t in fit["matched"]] == ["high_risk"]
    assert np.average(ipd["high_risk"], weights=fit["weights"]) == pytest.approx(0.4, abs=1e-9)
    word, why = maic.wording(fit)
    assert word == "illustrative" and "refractory" in why[0]


def test_standardised_differences_by_hand():
    ipd = pd.DataFrame({"x": [0, 0, 0, 1.0], "age": [50, 60, 70, 80.0]})
    w = np.ones(4)
    bal = maic.balance(ipd, [maic.Target("x", 0.5, statistic="proportion"), maic.Target("age", 60.0, 10.0)], w)
    p, q = 0.25, 0.5
    assert bal.loc[0, "smd_before"] == pytest.approx((p - q) / np.sqrt((p * (1 - p) + q * (1 - q)) / 2))
    sd = np.std([50, 60, 70, 80.0])
    assert bal.loc[1, "smd_before"] == pytest.approx((65 - 60) / np.sqrt((sd ** 2 + 100) / 2))


def test_wording_is_informative_only_with_overlap_balance_and_a_large_ess():
    rng = np.random.default_rng(3)
    ipd = _population(rng, 400, 0.3)
    near = maic.estimate(ipd, [maic.Target("high_risk", 0.32, statistic="proportion")], "pfs_months",
                         "pfs_event", n_boot=10)
    far = maic.estimate(ipd, [maic.Target("high_risk", 0.9, statistic="proportion")], "pfs_months",
                        "pfs_event", n_boot=10)
    assert maic.wording(near)[0] == "informative"
    assert maic.wording(far)[0] == "illustrative" and "effective sample size" in maic.wording(far)[1][0]


def test_weighted_cox_matches_r():
    lung = pd.read_csv(REF / "lung.csv")
    w = np.exp((lung["age"] - 60) / 10)
    r_hr = pd.read_csv(R_OUT / "maic_weighted_cox_lung.csv")["hr"].iloc[0]
    assert maic.weighted_cox_hr(lung["time"], lung["status"], lung["female"], w) == pytest.approx(r_hr, rel=1e-8)
    assert np.isnan(maic.weighted_cox_hr([1, 2], [0, 0], [0, 1], [1, 1]))  # no events
    assert np.isnan(maic.weighted_cox_hr([1, 2, 3], [1, 1, 0], [1, 1, 1], [1, 1, 1]))  # one group


def test_the_unanchored_bootstrap_resamples_both_sides():
    rng = np.random.default_rng(6)
    ipd = _population(rng, 150, 0.3)
    targets = [maic.Target("high_risk", 0.4, statistic="proportion")]
    t_event = rng.exponential(1 / 0.1, 300)
    comparator = pd.DataFrame({"time": np.minimum(t_event, 30), "event": (t_event <= 30).astype(int)})
    alone = maic.bootstrap_median(ipd, targets, "pfs_months", "pfs_event", n_boot=200, seed=9)
    both = maic.bootstrap_median(ipd, targets, "pfs_months", "pfs_event", n_boot=200, seed=9, comparator=comparator)
    # the cohort's resamples are the same with or without the comparator (its own random stream) ...
    assert (both["lcl"], both["ucl"]) == (alone["lcl"], alone["ucl"])
    assert both["hr_lcl"] < both["hr"] < both["hr_ucl"]
    # ... and the comparator is resampled too: a fixed comparator gives a narrower interval
    fixed = maic.bootstrap_median(ipd, targets, "pfs_months", "pfs_event", n_boot=200, seed=9,
                                  comparator=pd.concat([comparator] * 20, ignore_index=True))
    assert np.log(fixed["hr_ucl"] / fixed["hr_lcl"]) < np.log(both["hr_ucl"] / both["hr_lcl"])

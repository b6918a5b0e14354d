"""Our estimators against independent Python implementations (used in the tests only).

* Firth's Cox (``compendium.stats.firth``) against ``firthmodels.FirthCoxPH`` (0.8.x, NumPy
  backend: numba is not installed). Both use Breslow's partial likelihood for tied times
  (firthmodels: d log S0 per tied block, its ``compute_cox_quantities``; ours: ``_Breslow``), both
  maximise l + 0.5 log det I, and both give profile penalised-likelihood limits and LR p-values,
  so every number must agree; firthmodels is used with its default stopping rule (max |score|
  < 1e-4, step < 1e-6), so coefficients agree only to what that rule leaves, 2e-6 here (found
  5e-7), while the limits (root-found to 1e-10) and the penalised log-likelihood at the maximum
  agree to rounding (limits 1e-9 relative, found 7e-13; p 1e-6 relative, found 1e-7).
* Kaplan-Meier with delayed entry (``survival.km_table_entry``) against lifelines'
  ``KaplanMeierFitter(entry=...)`` on survival::myeloma: 1e-12 (found 6e-16).
* Cumulative incidence (``competing.cumulative_incidence``) against lifelines'
  ``AalenJohansenFitter``, on drawn cohorts without tied times (lifelines jitters ties at random,
  so tied data would not be a fixed reference): 1e-12.
* ``pycmprsk`` (a Python port of cmprsk) is not used: its only release (1.0.0) requires Python
  >= 3.13 and numba, and this project runs on 3.11, so Gray's test and cuminc's variance are
  checked against R's cmprsk only (tests/test_competing.py). Installed once outside the project
  (ignoring its Python requirement) it agreed with us on mgus2: CIF 7e-16, variance 2e-14
  relative, Gray's statistic 9e-15 relative (sex, age70, three age groups); but its
  ``timepoints`` gives F(t-) at a time where the curve jumps (``np.searchsorted(side="left")``),
  where cmprsk's gives F(t): 0.0326 against 0.0341 for progression by 60 months.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from firthmodels import FirthCoxPH
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st
from lifelines import AalenJohansenFitter, KaplanMeierFitter

from compendium.stats import competing, firth
from compendium.stats import survival as sv
from referee_reference import REF, assert_close


def theirs_firth(x: np.ndarray, time, event, features) -> FirthCoxPH:
    model = FirthCoxPH(backend="numpy").fit(x, (np.asarray(event).astype(bool), np.asarray(time, float)))
    assert model.converged_
    return model.lrt(features)


def myeloma_censored_at_4_months():
    """TT2 by molecular group, follow-up cut at 4 months: two levels (the reference one of them)
    without a death, so the ordinary Cox estimates run off; 14 tied times."""
    d = pd.read_csv(REF / "myeloma_tt2.csv")
    levels = sorted(d["molecular_group"].unique())
    x = np.column_stack([(d["molecular_group"] == lev).to_numpy(float) for lev in levels[1:]])
    return x, np.minimum(d["time"], 4.0), np.where(d["time"] <= 4, d["event"], 0)


def fixture_case(name: str):
    if name == "myeloma_censored4":
        return myeloma_censored_at_4_months()
    d = pd.read_csv(REF / f"{name}.csv")
    if name == "separation":
        return d[["x", "z"]].to_numpy(float), d["time"], d["event"]
    return d[["female", "age"]].to_numpy(float), d["time"], d["status"]


@pytest.mark.parametrize("name", ["separation", "lung", "myeloma_censored4"])
def test_firth_against_firthmodels(name):
    x, time, event = fixture_case(name)
    # on the myeloma data (firthmodels' profiles take 10 s for all six there): a level that ran off
    # in the ordinary fit, and one that, like the reference, has no death
    features = [0, 5] if name == "myeloma_censored4" else list(range(x.shape[1]))
    ours = firth.firth_cox(x, time, event).iloc[features]
    theirs = theirs_firth(x, time, event, features)
    assert_close(ours["coef"], theirs.coef_[features], atol=2e-6, what=f"{name} coef")
    assert ours.attrs["penalised_loglik"] == pytest.approx(theirs.loglik_, abs=1e-9)
    limits = np.exp(theirs.conf_int(method="pl", features=features, tol=1e-10, max_iter=200)[features])
    assert_close(ours[["lcl", "ucl"]], limits, rtol=1e-9, what=f"{name} profile limits")
    assert_close(ours["p"], theirs.lrt_pvalues_[features], rtol=1e-6, what=f"{name} LR p")


@st.composite
def firth_cohorts(draw):
    """Small cohorts, tied integer times, one or two 0/1 covariates that may separate the deaths."""
    n = draw(st.integers(8, 40))
    p = draw(st.integers(1, 2))
    x = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=p, max_size=p), min_size=n, max_size=n)), float)
    time = np.array(draw(st.lists(st.integers(1, 10), min_size=n, max_size=n)), float)
    event = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    return x, time, event


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much])
@given(firth_cohorts())
def test_firth_point_estimates_against_firthmodels(cohort):
    x, time, event = cohort
    assume(event.sum() >= 2)
    assume(all(0 < x[:, j].sum() < len(x) for j in range(x.shape[1])))  # each covariate varies
    assume(x.shape[1] == 1 or np.linalg.matrix_rank(np.column_stack([np.ones(len(x)), x])) == 3)
    model = firth._Breslow(x, time, event)
    try:
        beta, pl, _ = firth._maximise(model, x.shape[1])
    except np.linalg.LinAlgError:  # a singular information (everyone at risk dies at once): firth_model
        reject()                   # reports it as not estimable, tests/test_degenerate_estimators.py
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fit that does not converge is dropped below, not an error here
        try:
            theirs = FirthCoxPH(backend="numpy", gtol=1e-8, xtol=1e-10, max_iter=200).fit(x, (event.astype(bool), time))
        except np.linalg.LinAlgError:  # the reference's own failure on a degenerate draw: nothing to compare
            reject()
    assume(theirs.converged_)
    assert pl == pytest.approx(theirs.loglik_, abs=1e-9)
    # both stop where the penalised score is ~0 (firthmodels at |score| < 1e-8): the estimates then
    # differ by at most about the inverse information times that score, far more on a flat ridge
    # near separation (found: 6e-6 at a coefficient of 3.15) than at a well-defined maximum
    _, _, info, _ = firth._penalised(model, beta)
    slack = 10 * 1e-8 * np.linalg.norm(np.linalg.inv(info), 2)
    np.testing.assert_allclose(beta, theirs.coef_, atol=1e-6 + slack)


def test_delayed_entry_km_against_lifelines():
    d = pd.read_csv(REF / "myeloma_mayo.csv")
    ours = sv.km_table_entry(d["entry"], d["futime"], d["death"])
    kmf = KaplanMeierFitter().fit(d["futime"], d["death"], entry=d["entry"])
    theirs = kmf.survival_function_at_times(ours["time"]).to_numpy()
    assert_close(ours["surv"], theirs, atol=1e-12, what="S(t) with delayed entry")


@st.composite
def competing_cohorts(draw):
    n = draw(st.integers(2, 40))
    time = np.array(draw(st.lists(st.floats(0.1, 100.0, allow_nan=False), min_size=n, max_size=n, unique=True)))
    status = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return time, status


@settings(max_examples=30, deadline=None)
@given(competing_cohorts(), st.integers(1, 3))
def test_cumulative_incidence_against_lifelines(cohort, cause):
    time, status = cohort
    assume((status == cause).any())
    ours = competing.cumulative_incidence(time, status, cause)
    ajf = AalenJohansenFitter(calculate_variance=False).fit(time, status, event_of_interest=cause)
    theirs = ajf.cumulative_density_.iloc[:, 0]
    at = theirs.reindex(ours["time"].to_numpy(), method="ffill").to_numpy()
    np.testing.assert_allclose(ours["cif"].to_numpy(), at, atol=1e-12)

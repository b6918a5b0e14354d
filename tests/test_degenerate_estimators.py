"""Degenerate data have defined results (issue 16, part 3): property tests over drawn data sets.

Every estimator of ``compendium.stats`` is run on small survival data sets drawn by hypothesis
(0 to 30 patients; all censored, all events, tied times; one group, a group without events;
missing, constant and all-missing covariates; references the data lack) and must return its
documented columns with, on every row, either finite estimates and an empty ``reason`` or
empty estimates and a reason from the vocabulary of ``compendium.stats.estimable`` — never an
exception. Where a value has an independent definition the test checks it too: a median left
empty with no reason must belong to a curve that never reaches 0.5 (a product-limit computed
here), and a hazard ratio reported as estimable must have an interval around it.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compendium.stats import competing, firth, imputation, maic, multiplicity, rates, schoenfeld, sensitivity
from compendium.stats import estimable as ne
from compendium.stats import survival as sv

#: NOSHRINK=1 reports the first failing example as drawn (shrinking a pandas-heavy example takes minutes)
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] if os.environ.get("NOSHRINK") else list(Phase)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES,
                    derandomize=True)
TIED_TIMES = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)


def _flags(draw, n: int, mode: str) -> list:
    if mode == "all_missing":
        return [None] * n
    if mode == "constant":
        return [draw(st.sampled_from([0, 1]))] * n
    return draw(st.lists(st.sampled_from([0, 1, 1, 0, None]), min_size=n, max_size=n))


@st.composite
def survival_data(draw) -> pd.DataFrame:
    """An analysis-like frame: PFS, a competing-risk status, groups and covariates, typed as
    ``dataset.read_analysis`` types them (floats for months, nullable integers for flags)."""
    n = draw(st.integers(0, 30))
    if draw(st.booleans()):
        times = draw(st.lists(st.sampled_from(TIED_TIMES), min_size=n, max_size=n))
    else:
        times = draw(st.lists(st.floats(0.05, 60, allow_nan=False).map(lambda x: round(x, 2)), min_size=n,
                              max_size=n))
    mode = draw(st.sampled_from(["censored", "events", "mixed", "mixed"]))
    events = [0] * n if mode == "censored" else [1] * n if mode == "events" else \
        draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    group_mode = draw(st.sampled_from(["one", "two", "no_events_in_one"]))
    group = [0] * n if group_mode == "one" else draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    if group_mode == "no_events_in_one":
        group = [g if e == 0 else 0 for g, e in zip(group, events)]
    cause = [e * draw(st.sampled_from([1, 2])) for e in events]
    cat_pool = draw(st.sampled_from([("full", "80", "40"), ("80", "40"), ("full",)]))
    df = pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(n)],
        "pfs_months": pd.array(times, dtype=float),
        "pfs_event": pd.array(events, dtype="Int64"),
        "status": cause,
        "g": pd.array(group, dtype="Int64"),
        "flag": pd.array(_flags(draw, n, draw(st.sampled_from(["varying", "varying", "constant", "all_missing"]))),
                         dtype="Int64"),
        "sparse": pd.array(_flags(draw, n, draw(st.sampled_from(["varying", "constant", "all_missing"]))),
                           dtype="Int64"),
        "cont": pd.array(draw(st.lists(st.one_of(st.none(), st.floats(0, 20, allow_nan=False)), min_size=n,
                                       max_size=n)) if draw(st.booleans()) else [3.0] * n, dtype=float),
        "cat": pd.array(draw(st.lists(st.sampled_from(cat_pool + (None,)), min_size=n, max_size=n)),
                        dtype="string"),
        "resp_months": pd.array(draw(st.lists(st.one_of(st.none(), st.floats(0, 10, allow_nan=False)),
                                              min_size=n, max_size=n)), dtype=float),
    })
    return df


def _km_never_reaches_half(time, event) -> bool:
    """The product-limit estimate, written out here, stays above 0.5 (so the median is not reached)."""
    t, e = np.asarray(time, float), np.asarray(event, float)
    ok = ~(np.isnan(t) | np.isnan(e))
    t, e = t[ok], e[ok]
    s = 1.0
    for u in np.unique(t[e == 1]):
        s *= 1 - ((t == u) & (e == 1)).sum() / (t >= u).sum()
    return s > 0.5 + 1e-8


def check_rows(frame: pd.DataFrame, columns: list[str], estimates: list[str], ranges: dict | None = None):
    """Documented columns; each row estimable (finite estimates, empty reason) or not (empty estimates, reason)."""
    assert list(frame.columns) == columns
    ranges = ranges or {}
    for _, row in frame.iterrows():
        reason = row["reason"]
        assert isinstance(reason, str) and (reason == "" or reason in ne.ALL), reason
        values = row[estimates].to_numpy(float)
        if reason:
            assert np.isnan(values).all(), (reason, row.to_dict())
        else:
            assert np.isfinite(values).all(), row.to_string()
            for col, (lo, hi) in ranges.items():
                assert lo <= row[col] <= hi, (col, row.to_dict())


def check_dict(result: dict, estimates: list[str]):
    reason = result["reason"]
    assert reason == "" or reason in ne.ALL
    values = np.array([result[k] for k in estimates], float)
    assert np.isnan(values).all() if reason else np.isfinite(values).all(), result


def check_cox(frame: pd.DataFrame, model: bool = False):
    cols = sv.COX_COLUMNS if not model else sv.COX_COLUMNS[:1] + ["model"] + sv.COX_COLUMNS[1:]
    check_rows(frame, cols, ["hr", "lcl", "ucl", "p"], {"p": (0, 1)})
    ok = frame[frame["reason"] == ""]
    assert ((ok["lcl"] > 0) & (ok["lcl"] <= ok["hr"] * (1 + 1e-12)) & (ok["hr"] <= ok["ucl"] * (1 + 1e-12))).all()


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """A degenerate input must not even warn (a warning is where an exception would have been)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@SETTINGS
@given(survival_data())
def test_kaplan_meier_log_rank_and_rates(df):
    km = sv.km_summary(df, "pfs", group="g")
    check_rows(km, ["endpoint", "group", "n", "events", "median", "lcl", "ucl", "conf_type", "reason"], [])
    assert set(km["group"]) == ({"g=0", "g=1"} if df["g"].notna().any() else set())  # a flag keeps both levels
    for _, row in km.iterrows():
        sub = df[df["g"] == int(row["group"][-1])]
        assert (row["reason"] != "") == (row["n"] == 0)
        if not row["reason"] and np.isnan(row["median"]):
            assert _km_never_reaches_half(sub["pfs_months"], sub["pfs_event"])
    whole = sv.km_summary(df, "pfs")
    assert (whole["reason"] == "").all() == (len(df) > 0)
    check_dict(sv.logrank_test(df, "pfs", "g"), ["chisq", "p"])
    rt = rates.fixed_time_rates(df, endpoints=("pfs",), groups=(None, "g"))
    check_rows(rt, ["endpoint", "group", "n", "events", "time", "n_risk", "events_by", "surv", "std_err", "lower",
                    "upper", "conf_type", "reason"], ["surv"], {"surv": (0, 1)})
    assert (rt.loc[rt["reason"] == ne.NO_ONE_AT_RISK, "n_risk"] == 0).all()
    mar = rates.medians_at_risk(df, km)
    assert list(mar.columns)[-1] == "reason" and len(mar) == (km["conf_type"] == "log").sum()
    elig = sensitivity.eligibility_landmark(df, ("pfs",))
    assert list(elig.columns)[-1] == "reason" and set(elig["reason"]) <= set(ne.ALL) | {""}


@SETTINGS
@given(survival_data())
def test_cox_models_and_their_tests(df):
    for covariate, reference in (("flag", None), ("cont", None), ("cat", "full"), ("cat", None), ("flag", 1)):
        check_cox(sv.cox_univariate(df, "pfs", covariate, reference))
    multi = sv.cox_multivariable(df, "pfs", ["flag", "cont", "cat"], "m", {"cat": "full"})
    check_cox(multi, model=True)
    if "full" not in set(df["cat"].dropna()):
        assert (multi["reason"] != "").all()  # a reference the data lack: the model is not fitted
    fit = sv.cox_fit(df, "pfs", ["flag", "cont"])
    g = sv.cox_global_tests(fit)
    check_dict(g, ["lr_chisq", "lr_p"])
    zph = sv.cox_zph(fit)
    check_rows(zph, ["covariate", "chisq", "df", "p", "reason"], ["chisq", "p"], {"p": (0, 1)})
    assert zph["covariate"].tolist() == ["flag", "cont", "GLOBAL"]
    smooth = schoenfeld.zph_smooth(fit)
    assert list(smooth.columns) == schoenfeld.COLUMNS and len(smooth) > 0
    assert ((smooth["reason"] != "") == smooth["fit"].isna()).all()
    epp = sensitivity.events_per_parameter({"m": fit})
    check_rows(epp, ["model", "n", "events", "parameters", "events_per_parameter", "meets_rule_of_ten", "reason"],
               ["events_per_parameter"])
    ft = multiplicity.factor_test(df, "pfs", "cat", "full")
    check_dict(ft, ["chisq", "p"])
    uni = pd.concat([sv.cox_univariate(df, "pfs", c, r) for c, r in (("flag", None), ("cat", "full"))])
    screen = multiplicity.screen(uni, pd.DataFrame([ft]), endpoints=("pfs",))
    assert list(screen.columns) == ["endpoint", "covariate", "test", "p", "holm", "significant_raw",
                                    "significant_holm", "reason"]
    assert (screen["p"].isna() == (screen["reason"] != "")).all()


@SETTINGS
@given(survival_data())
def test_landmark_and_time_dependent_models(df):
    lm = sv.landmark(df, "pfs", 3.0, "resp_months", "flag")
    check_cox(sv.cox_univariate(lm, "pfs", "responded_by_landmark"))
    cp = sv.time_dependent_response(df, "pfs", "resp_months", "flag")
    fit = sv.cox_fit(cp, "pfs", ["responded"], start="tstart")
    check_cox(fit.table(blank=True)[sv.COX_COLUMNS])
    check_rows(sv.cox_zph(fit), ["covariate", "chisq", "df", "p", "reason"], ["chisq", "p"])


@SETTINGS
@given(survival_data())
def test_competing_risks(df):
    cif = competing.cif_at(df["pfs_months"], df["status"], (1.0, 6.0, 100.0))
    check_rows(cif, ["time", "n_risk", "cif", "var", "lower", "upper", "reason"], ["cif", "var"], {"cif": (0, 1)})
    assert cif["reason"].iloc[-1] != ""  # 100 months is after every observation
    for cause in (1, 2):
        check_dict(competing.gray_test(df["pfs_months"], df["status"], df["g"], cause), ["stat", "p"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
          phases=PHASES)
@given(survival_data())
def test_firth_imputation_sensitivity_and_maic(df):
    fm = firth.firth_model(df, "pfs", ["flag", "sparse"])
    check_cox(fm, model=True)
    pooled = imputation.pooled_cox(imputation.impute_binary(df, "sparse", ["flag"], "pfs", 3, 7), "pfs",
                                   ["flag", "sparse"], "mi")
    check_cox(pooled.drop(columns="fmi"), model=True)
    if df["sparse"].isna().all():
        assert set(pooled["reason"]) == {ne.ALL_MISSING if len(df) else ne.NO_PATIENTS}
    sens = sensitivity.model_sensitivity(df, "pfs", ["flag", "sparse"], "sparse", m=3)
    check_cox(sens, model=True)
    assert set(sens["model"]) == {"complete_case", "without_sparse", "multiple_imputation", "firth"}
    ipd = df.dropna(subset=["cont"])
    fit = maic.estimate(ipd, [maic.Target("cont", 5.0)], "pfs_months", "pfs_event", n_boot=10, seed=1)
    assert fit["reason"] == "" or fit["reason"] in ne.ALL
    assert np.isfinite(fit["ess"]) == (fit["reason"] == "")


@settings(max_examples=60, deadline=None, derandomize=True, phases=PHASES)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=20),
       st.lists(st.floats(-3, 3), max_size=6), st.lists(st.floats(0, 2), max_size=6))
def test_holm_and_rubin_never_fail(p, estimates, variances):
    adjusted = multiplicity.holm([np.nan if v is None else v for v in p])
    assert len(adjusted) == len(p)
    assert all(np.isnan(a) == (v is None) for a, v in zip(adjusted, p))
    k = min(len(estimates), len(variances))
    out = imputation.rubin(estimates[:k], variances[:k])
    assert np.isnan(out["estimate"]) == (k == 0)


def test_not_estimable_is_said_one_way():
    assert ne.label(ne.NO_EVENTS) == "not estimable (no events)" and ne.label("") == ""
    assert ne.first("", None, ne.ONE_LEVEL, ne.NO_EVENTS) == ne.ONE_LEVEL
    from compendium.report import narrative
    from compendium.stats import models
    assert narrative.NOT_ESTIMABLE == ne.label(ne.MONOTONE)
    assert models.format_hr(np.nan, np.nan, np.nan, ne.NO_EVENTS) == "not estimable (no events)"


def test_a_level_without_events_is_not_reported_as_a_number():
    # R: coxph warns "Loglik converged before variable 1; beta may be infinite" and prints HR ~ 1e-9, 0-Inf
    df = pd.DataFrame({"pfs_months": np.arange(1.0, 13.0), "pfs_event": [1] * 6 + [0] * 6, "x": [1] * 6 + [0] * 6})
    fit = sv.cox_fit(df, "pfs", ["x"])
    assert fit.reasons == [ne.MONOTONE] and fit.coef[0] > 20  # R's number is kept on the fit
    row = sv.cox_univariate(df, "pfs", "x").iloc[0]
    assert row["reason"] == ne.MONOTONE and np.isnan(row[["hr", "lcl", "ucl", "p"]].astype(float)).all()
    # the likelihood-ratio test of the factor stays valid: the likelihood converges to a finite supremum
    assert multiplicity.factor_test(df, "pfs", "x")["reason"] == ""


def test_rows_the_results_do_not_hold_are_not_estimable():
    from compendium.data.spec import PaperRow
    from compendium.stats import models
    uni = sv.cox_univariate(pd.DataFrame({"pfs_months": [1.0, 2, 3], "pfs_event": [1, 0, 1],
                                          "dex": ["full", "full", "full"]}), "pfs", "dex", "full")
    assert uni[["level", "reason"]].values.tolist() == [["", ne.ONE_LEVEL]]
    got = models.oriented(uni, PaperRow("T3_dex80", "80 mg", "pfs", "dex", "80", False))
    assert got["reason"] == ne.ONE_LEVEL and np.isnan(got["hr"]) and got["n"] == 3
    got = models.oriented(uni, PaperRow("x", "x", "os", "dex", "80", False))
    assert got["reason"] == ne.NOT_IN_RESULTS
    km = sv.km_summary(pd.DataFrame({"pfs_months": [1.0, 2], "pfs_event": [1, 1], "v": [0, 0]}), "pfs", "v")
    assert models.median_of(km, "pfs", "v=1")["reason"] == ne.NO_PATIENTS
    assert models.median_of(km, "pfs", "v=2")["reason"] == ne.NOT_IN_RESULTS
    assert models.km_display(km)["median (95% CI, log)"].tolist() == ["1.5 (1.0–NR)", "not estimable (no patients)"]

"""Unit tests of compendium.stats.survival and compendium.report.plots on hand-computed data.

Every expected value here is worked out by hand (in the comments) or quoted
from R 4.2.2 / survival 3.5-3 with the call that produced it; the R-generated
reference files are checked in test_r_parity.py.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest

from compendium.stats import estimable as ne
from compendium.stats import survival as sv

Z975 = 1.959963984540054

# Ties of events and censoring at the same time (t = 2, 4, 6).
TIES_T = [1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8]
TIES_E = [1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0]


def frame(time, event, **cols) -> pd.DataFrame:
    return pd.DataFrame({"pfs_months": time, "pfs_event": event, **cols})


# ------------------------------------------------------------------ Kaplan-Meier


def test_km_table_ties_by_hand():
    km = sv.km_table(TIES_T, TIES_E)
    assert km["time"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    # a subject censored at t is still at risk at t: 11 at risk at t = 2
    assert km["n_risk"].tolist() == [12, 11, 8, 7, 5, 4, 2, 1]
    assert km["n_event"].tolist() == [1, 2, 0, 1, 1, 1, 1, 0]
    assert km["n_censor"].tolist() == [0, 1, 1, 1, 0, 1, 0, 1]
    s = [11 / 12, 9 / 12, 9 / 12, 9 / 14, 36 / 70, 27 / 70, 27 / 140, 27 / 140]
    np.testing.assert_allclose(km["surv"], s, rtol=1e-12)
    # Greenwood: sum d / (n (n - d)) = 1/132, + 2/99 = 1/36, + 1/42, + 1/20, + 1/12, + 1/2
    var = [1 / 132, 1 / 36, 1 / 36, 13 / 252, 32 / 315, 233 / 1260, 863 / 1260, 863 / 1260]
    np.testing.assert_allclose(km["std_err"], np.sqrt(var), rtol=1e-12)
    # R's default log band at t = 2: S exp(+-z se), se = 1/6, upper capped at 1
    np.testing.assert_allclose(km.loc[1, "lower"], 0.75 * np.exp(-Z975 / 6), rtol=1e-12)
    assert km.loc[1, "upper"] == pytest.approx(min(1.0, 0.75 * np.exp(Z975 / 6)))
    # log-log band: exp(-exp(log(-log S) -+ z se / log S))
    ll = sv.km_table(TIES_T, TIES_E, "log-log").loc[1]
    c = np.log(-np.log(0.75))
    np.testing.assert_allclose([ll["lower"], ll["upper"]],
                               [np.exp(-np.exp(c - Z975 / 6 / np.log(0.75))),
                                np.exp(-np.exp(c + Z975 / 6 / np.log(0.75)))], rtol=1e-12)


def test_km_matches_lifelines_point_estimate():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(1)
    t = rng.integers(1, 30, 60).astype(float)
    e = rng.integers(0, 2, 60)
    ours = sv.km_table(t, e).set_index("time")["surv"]
    kmf = KaplanMeierFitter().fit(t, e)
    theirs = kmf.survival_function_.iloc[:, 0].reindex(ours.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12)


def test_median_is_first_time_at_or_below_half():
    assert sv.km_median(TIES_T, TIES_E)["median"] == 6  # S(5) = 0.514, S(6) = 0.386


def test_median_midpoint_when_curve_equals_half():
    # S = 5/6, 4/6, 3/6 at t = 1, 2, 3; censored at 4; next event at 5:
    # S = 0.5 on [3, 5), R takes the midpoint 4 (not 3 as lifelines does)
    t, e = [1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 1]
    assert sv.km_median(t, e)["median"] == 4.0
    assert sv.km_median(t, e, rule="print")["median"] == 4.0


def test_median_flat_half_to_the_end_quantile_vs_print():
    # S = 0.5 from t = 2 to the last (censored) time 4
    t, e = [1, 2, 3, 4], [1, 1, 0, 0]
    assert sv.km_median(t, e)["median"] == 3.0  # quantile.survfit: (2 + 4) / 2
    assert sv.km_median(t, e, rule="print")["median"] == 2.0  # print.survfit


def test_median_not_reached_is_nan():
    t = np.arange(1, 11)
    e = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    res = sv.km_median(t, e)  # S = 8/9 at t = 2, 8/9 * 5/6 = 0.741 at t = 5
    assert np.isnan(res["median"]) and np.isnan(res["ucl"])
    # ... yet the lower band reaches 0.5 at t = 5: se^2 = 1/72 + 1/30,
    # 0.741 exp(-1.96 * 0.217) = 0.484. R reports LCL 5 with the median NR
    assert res["lcl"] == 5
    assert (res["n"], res["events"]) == (10, 2)


def test_upper_limit_not_reached():
    # 20 patients, deaths at 1..11, censored at 12..20: S(10) = 10/20 = 0.5 exactly,
    # so the median is (10 + 11) / 2; the upper band never reaches 0.5
    # (at t = 11: 0.45 exp(1.96 * 0.247) = 0.73). R: median 10.5, LCL 7, UCL NA
    t = np.arange(1, 21)
    e = (t <= 11).astype(int)
    res = sv.km_median(t, e)
    assert res["median"] == 10.5
    assert np.isnan(res["ucl"])
    assert res["lcl"] == 7


def test_survival_to_zero_has_undefined_band_at_zero():
    km = sv.km_table([1, 2, 3, 4, 5], [1, 1, 1, 1, 1])
    assert km["surv"].iloc[-1] == 0 and np.isinf(km["std_err"].iloc[-1])
    assert np.isnan(km["lower"].iloc[-1]) and np.isnan(km["upper"].iloc[-1])
    assert sv.km_median([1, 2, 3, 4, 5], [1] * 5)["median"] == 3


def test_timefix_merges_rounding_noise_into_a_tie():
    km = sv.km_table([1.0, 1.0 + 1e-12, 2.0], [1, 1, 0])
    assert km["n_event"].tolist() == [2, 0]


def test_missing_values_dropped_and_counted():
    res = sv.km_median([1, 2, np.nan, 4], [1, np.nan, 1, 0])
    assert (res["n"], res["events"]) == (2, 1)


def test_followup_is_km_of_censoring():
    t, e = [1, 2, 3, 4, 5, 6], [1, 0, 1, 0, 0, 1]
    assert sv.followup_reverse_km(t, e) == sv.km_median(t, [1 - x for x in e])
    # reverse KM: censorings at 2, 4, 5 are the events: S = 4/5, 8/15, 4/15
    assert sv.followup_reverse_km(t, e)["median"] == 5


def test_km_summary_contract():
    df = frame(TIES_T, TIES_E, vgpr_or_better=[1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, np.nan])
    df["os_months"], df["os_event"] = df["pfs_months"], df["pfs_event"]
    out = sv.km_summary(df, "pfs", "vgpr_or_better")
    assert list(out.columns) == ["endpoint", "group", "n", "events", "median", "lcl", "ucl", "conf_type", "reason"]
    assert out["group"].tolist() == ["vgpr_or_better=0"] * 2 + ["vgpr_or_better=1"] * 2
    assert out["conf_type"].tolist() == ["log", "log-log"] * 2
    assert out["n"].sum() == 2 * 11  # the row without a group value is left out
    fu = sv.km_summary(df, "followup")
    assert fu["median"].iloc[0] == sv.followup_reverse_km(TIES_T, TIES_E)["median"]


# ------------------------------------------------------------------ log-rank


def test_logrank_matches_lifelines():
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    rng = np.random.default_rng(7)
    g = rng.integers(0, 3, 80)
    t = np.round(rng.exponential(10 / (1 + g)), 1) + 0.1
    e = rng.integers(0, 2, 80)
    df = frame(t, e, grp=g)
    two = df[df.grp < 2]
    ours = sv.logrank_test(two, "pfs", "grp")
    ref = logrank_test(two.pfs_months[two.grp == 0], two.pfs_months[two.grp == 1],
                       two.pfs_event[two.grp == 0], two.pfs_event[two.grp == 1])
    assert ours["df"] == 1
    assert ours["chisq"] == pytest.approx(ref.test_statistic, rel=1e-10)
    three = sv.logrank_test(df, "pfs", "grp")
    ref3 = multivariate_logrank_test(df.pfs_months, df.grp, df.pfs_event)
    assert three["df"] == 2
    assert three["chisq"] == pytest.approx(ref3.test_statistic, rel=1e-10)


# ------------------------------------------------------------------ Cox


def test_efron_and_breslow_partial_likelihood_by_hand():
    # three subjects, two tied deaths at t = 1, one censored at t = 2; at beta = 0
    # Efron:   -[log 3 + log(3 - 1/2 * 2)] = -log 6
    # Breslow: -2 log 3 = -log 9
    df = frame([1, 1, 2], [1, 1, 0], x=[1, 0, 0])
    assert sv.cox_fit(df, "pfs", ["x"]).loglik[0] == pytest.approx(-np.log(6), rel=1e-12)
    assert sv.cox_fit(df, "pfs", ["x"], ties="breslow").loglik[0] == pytest.approx(-np.log(9), rel=1e-12)


def _ties_data() -> pd.DataFrame:
    return pd.DataFrame({
        "pfs_months": [1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 8],
        "pfs_event": [1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1],
        "x": [1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0],
        "z": [2.1, 3.5, 1.2, 4.4, 0.5, 2.8, 3.3, 1.9, 4.1, 2.2, 0.9, 3.7, 1.6, 2.5, 3.0]})


def test_default_ties_are_efron_as_in_r():
    # R: coxph(Surv(time, event) ~ x, data = tests/reference/ties.csv, ties = ...)
    r_efron, r_breslow = 0.285292871001971, 0.286255303813165
    df = _ties_data()
    efron = np.log(sv.cox_univariate(df, "pfs", "x")["hr"].iloc[0])
    breslow = sv.cox_fit(df, "pfs", ["x"], ties="breslow").coef[0]
    assert efron == pytest.approx(r_efron, abs=1e-9)
    assert breslow == pytest.approx(r_breslow, abs=1e-9)
    assert abs(efron - breslow) > 1e-4


def test_cox_matches_lifelines_efron():
    from lifelines import CoxPHFitter

    df = _ties_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df[["pfs_months", "pfs_event", "x", "z"]], "pfs_months", "pfs_event")
    ours = sv.cox_fit(df, "pfs", ["x", "z"])
    np.testing.assert_allclose(ours.coef, cph.params_[["x", "z"]].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.var)),
                               cph.standard_errors_[["x", "z"]].to_numpy(), rtol=1e-6)


def _grouped() -> pd.DataFrame:
    # level "b" dies early, "a" late, "c" in between
    return frame([10, 12, 9, 11, 8, 2, 3, 1, 4, 2.5, 5, 6, 7, 5.5, 6.5],
                 [1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1],
                 grp=list("aaaaabbbbbccccc"))


def test_categorical_dummy_coding_and_orientation():
    df = _grouped()
    # the levels are perfectly ordered in time (monotone likelihood: R runs out of iterations), so
    # the result rows are not estimable; R's numbers, as fit.table() keeps them, still show the coding
    assert set(sv.cox_univariate(df, "pfs", "grp")["reason"]) == {ne.NOT_CONVERGED}
    out = sv.cox_fit(df, "pfs", ["grp"]).table()  # reference: first level in sorted order
    assert out[["level", "reference"]].values.tolist() == [["b", "a"], ["c", "a"]]
    hr_b = out.set_index("level").loc["b", "hr"]
    assert hr_b > 1  # "b" dies earlier than the reference "a"
    flipped = sv.cox_fit(df, "pfs", ["grp"], {"grp": "b"}).table().set_index("level")
    assert flipped["reference"].unique().tolist() == ["b"]
    assert flipped.loc["a", "hr"] == pytest.approx(1 / hr_b, rel=1e-8)
    assert flipped.loc["a", "p"] == pytest.approx(out.set_index("level").loc["b", "p"], rel=1e-6)


def test_binary_flag_is_presence_and_reference_flips_it():
    df = frame([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 0, 1, 1, 0, 1], emd_relapse=[1, 1, 0, 1, 0, 0, 1, 0])
    out = sv.cox_univariate(df, "pfs", "emd_relapse")
    assert out[["covariate", "level", "reference"]].values.tolist() == [["emd_relapse", "1", "0"]]
    absent = sv.cox_univariate(df, "pfs", "emd_relapse", reference=1)
    assert absent[["level", "reference"]].values.tolist() == [["0", "1"]]
    assert absent["hr"].iloc[0] == pytest.approx(1 / out["hr"].iloc[0], rel=1e-8)


def test_continuous_covariate_labels():
    out = sv.cox_univariate(_ties_data(), "pfs", "z")
    assert out[["level", "reference"]].values.tolist() == [["per unit", ""]]


def test_complete_case_counts():
    df = _ties_data()
    df.loc[[0, 3], "z"] = np.nan  # rows 0 and 3 are both events
    out = sv.cox_multivariable(df, "pfs", ["x", "z"], "m")
    assert list(out.columns) == ["endpoint", "model", "covariate", "level", "reference", "hr", "lcl",
                                 "ucl", "p", "n", "events", "reason"]
    assert (out["n"].iloc[0], out["events"].iloc[0]) == (13, 9)


def test_separation_gives_r_huge_finite_hr():
    # all events in x = 1: the MLE is infinite; R stops at coef 22.3178758932643
    # (coxph(Surv(time, event) ~ x, data = tests/reference/separation.csv))
    df = frame(np.arange(1, 13), [1] * 6 + [0] * 6, x=[1] * 6 + [0] * 6)
    fit = sv.cox_fit(df, "pfs", ["x"])
    assert fit.coef[0] == pytest.approx(22.3178758932643, rel=1e-8)
    row = fit.table().iloc[0]
    assert row["p"] > 0.99 and row["lcl"] == 0 and np.isinf(row["ucl"])


def test_constant_covariate_is_dropped_like_r():
    df = frame([1, 2, 3, 4, 5], [1, 1, 0, 1, 1], x=[0, 0, 0, 0, 0], z=[1.0, 2.5, 0.3, 4.0, 2.2])
    out = sv.cox_multivariable(df, "pfs", ["x", "z"], "m").set_index("covariate")
    assert np.isnan(out.loc["x", "hr"]) and np.isfinite(out.loc["z", "hr"])


def test_global_tests_agree_for_one_binary_covariate():
    fit = sv.cox_fit(_ties_data(), "pfs", ["x"])
    g = sv.cox_global_tests(fit)
    assert g["wald_p"] == pytest.approx(fit.table()["p"].iloc[0], rel=1e-10)
    assert g["df"] == 1 and g["converged"]


def test_cox_zph_global_equals_single_term_and_residuals_shape():
    fit = sv.cox_fit(_ties_data(), "pfs", ["x", "z"])
    one = sv.cox_zph(sv.cox_fit(_ties_data(), "pfs", ["x"]))
    assert one["chisq"].iloc[0] == pytest.approx(one["chisq"].iloc[1], rel=1e-12)
    tab = sv.cox_zph(fit)
    assert tab["covariate"].tolist() == ["x", "z", "GLOBAL"] and (tab["p"].between(0, 1)).all()
    res = sv.scaled_schoenfeld(fit)
    assert list(res.columns) == ["time", "gtime", "x", "z"] and len(res) == fit.events
    # the scaled residuals average (with weights I) around beta-hat
    assert np.isfinite(res[["x", "z"]].to_numpy()).all()


# ------------------------------------------------------------------ landmark, time-dependent


def test_landmark_dataset():
    df = pd.DataFrame({"patient_id": list("abcde"), "pfs_months": [2, 5, 8, 10, 3],
                       "pfs_event": [1, 0, 1, 1, 0], "resp_months": [1, 2, 7, np.nan, 2.5],
                       "vgpr": [1, 1, 1, 0, 1]})
    lm = sv.landmark(df, "pfs", 3, "resp_months", "vgpr")
    # a (event at 2) and e (censored at 3) are not at risk after the landmark
    assert lm["patient_id"].tolist() == ["b", "c", "d"]
    assert lm["responded_by_landmark"].tolist() == [1, 0, 0]  # c responded only at 7
    assert lm["pfs_months"].tolist() == [2, 5, 7]


def test_time_dependent_response_split():
    df = pd.DataFrame({"patient_id": ["a", "b", "c"], "pfs_months": [10.0, 4.0, 6.0],
                       "pfs_event": [1, 1, 0], "resp_months": [3.0, 5.0, np.nan], "vgpr": [1, 1, 0]})
    cp = sv.time_dependent_response(df, "pfs", "resp_months", "vgpr")
    assert cp.values.tolist() == [["a", 0.0, 3.0, 0, 0], ["a", 3.0, 10.0, 1, 1],
                                  ["b", 0.0, 4.0, 1, 0], ["c", 0.0, 6.0, 0, 0]]
    fit = sv.cox_fit(cp, "pfs", ["responded"], start="tstart")
    assert fit.n == 4 and fit.events == 2


# ------------------------------------------------------------------ figures


def test_km_plot_and_byte_identical_files(tmp_path):
    from compendium.report import plots

    df = frame(TIES_T, TIES_E, vgpr_or_better=[1, 0] * 6)
    fig = plots.km_plot(df, "pfs", "vgpr_or_better", labels={1: ">= VGPR", 0: "< VGPR"})
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[0].startswith("< VGPR (") and "events): median" in texts[0] and "95% CI" in texts[0]
    assert texts[-1].startswith("Log-rank p")
    first = plots.save_figure(fig, tmp_path / "a" / "km", provenance="Data: test.csv")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in first]
    again = plots.save_figure(plots.km_plot(df, "pfs", "vgpr_or_better", labels={1: ">= VGPR", 0: "< VGPR"}),
                              tmp_path / "a" / "km", provenance="Data: test.csv")
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in again] == digest
    assert b"<dc:date>" not in first[1].read_bytes()
    assert b"Data: test.csv" in first[1].read_bytes()  # the provenance, also as metadata
    with pytest.raises(FileNotFoundError, match="analysis.meta.json"):  # no run to take it from
        plots.save_figure(fig, tmp_path / "b" / "km")


def test_median_label_nr():
    from compendium.report import plots

    assert plots.median_label({"median": np.nan, "lcl": 3.0, "ucl": np.nan}) == "median NR"
    assert plots.median_label({"median": 14.0, "lcl": 10.25, "ucl": np.nan}) == \
        "median 14.0 mo (95% CI 10.2\u2013NR)"
    assert plots.format_p(0.0004) == "< 0.001" and plots.format_p(0.0456) == "0.046"


def test_response_not_evaluable_is_left_out_everywhere():
    """A patient with best response NE has no response to classify: left out of the landmark and
    time-dependent data, as the time-zero Cox models of the flag leave them out (complete cases)."""
    df = pd.DataFrame({"pfs_months": [5.0, 8.0, 12.0], "pfs_event": [1, 1, 0],
                       "vgpr_or_better": pd.array([1, pd.NA, 0], dtype="Int64"),
                       "response_months": [2.0, np.nan, 3.0], "patient_id": ["a", "b", "c"]})
    lm = sv.landmark(df, "pfs", 3, "response_months", "vgpr_or_better")
    assert lm["patient_id"].tolist() == ["a", "c"] and lm["responded_by_landmark"].tolist() == [1, 0]
    cp = sv.time_dependent_response(df, "pfs", "response_months", "vgpr_or_better")
    assert cp["patient_id"].tolist() == ["a", "a", "c"]
    assert cp["responded"].tolist() == [0, 1, 0] and cp["pfs_event"].tolist() == [0, 1, 0]
    assert sv.cox_fit(df, "pfs", ["vgpr_or_better"]).n == 2


def _naive_derivs(beta, x, start, stop, event, method):
    """Log partial likelihood, score and information by visiting every risk set (the textbook
    definition, O(N) per death time): the reference for the one-pass implementation."""
    eta = x @ beta
    r = np.exp(eta)
    loglik, u, imat = 0.0, np.zeros(x.shape[1]), np.zeros((x.shape[1], x.shape[1]))
    for t in np.unique(stop[event == 1]):
        at_risk = (stop >= t) if start is None else (stop >= t) & (start < t)
        dead = at_risk & (stop == t) & (event == 1)
        d = int(dead.sum())
        s0, s1 = r[at_risk].sum(), r[at_risk] @ x[at_risk]
        s2 = (x[at_risk] * r[at_risk, None]).T @ x[at_risk]
        d0, d1 = r[dead].sum(), r[dead] @ x[dead]
        d2 = (x[dead] * r[dead, None]).T @ x[dead]
        loglik += eta[dead].sum()
        u += x[dead].sum(axis=0)
        for k in range(d):
            f = k / d if method == "efron" else 0.0
            den = s0 - f * d0
            mean = (s1 - f * d1) / den
            loglik -= np.log(den)
            u -= mean
            imat += (s2 - f * d2) / den - np.outer(mean, mean)
    return loglik, u, imat


@pytest.mark.parametrize("method", ["efron", "breslow"])
@pytest.mark.parametrize("counting", [False, True])
def test_one_pass_cox_derivatives_equal_the_risk_set_definition(method, counting):
    rng = np.random.default_rng(5 + counting)
    n = 400
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.normal(2, 3, n)])
    stop = rng.integers(1, 40, n).astype(float)  # many ties
    event = rng.integers(0, 2, n)
    start = np.floor(stop * rng.uniform(0, 0.9, n)) if counting else None
    beta = np.array([0.3, -0.5, 0.1])
    ours = sv._coxph_derivs(beta, x, start, stop, event, method)
    ref = _naive_derivs(beta, x, start, stop, event, method)
    assert ours[0] == pytest.approx(ref[0], rel=1e-12)
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours[2], ref[2], rtol=1e-10, atol=1e-10)


def test_vectorised_km_and_logrank_equal_their_definitions_on_ties():
    rng = np.random.default_rng(9)
    t = rng.integers(1, 30, 500).astype(float)
    e = rng.integers(0, 2, 500)
    km = sv.km_table(t, e)
    surv = 1.0
    for row in km.itertuples():
        n = (t >= row.time).sum()
        d = ((t == row.time) & (e == 1)).sum()
        assert row.n_risk == n and row.n_event == d
        surv *= 1 - d / n
        assert row.surv == pytest.approx(surv, rel=1e-13)
    g = rng.integers(0, 3, 500)
    df = pd.DataFrame({"pfs_months": t, "pfs_event": e, "arm": g})
    o_e, var = np.zeros(3), np.zeros((3, 3))
    for u in np.unique(t[e == 1]):
        risk = t >= u
        n, d = risk.sum(), ((t == u) & (e == 1)).sum()
        nk = np.bincount(g[risk], minlength=3)
        o_e += np.bincount(g[(t == u) & (e == 1)], minlength=3) - d * nk / n
        var += d * (n - d) / (n * n * (n - 1)) * (np.diag(nk) * n - np.outer(nk, nk))
    chisq = o_e[1:] @ np.linalg.solve(var[1:, 1:], o_e[1:])
    assert sv.logrank_test(df, "pfs", "arm")["chisq"] == pytest.approx(chisq, rel=1e-10)

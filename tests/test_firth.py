"""Firth-penalised Cox regression: a hand-worked case, and R by an independent route."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from compendium.stats import firth
from referee_reference import REF, analysis_or_skip, assert_close, check_inputs, r_out

SCRIPT = "tests/reference/methods_reference.R"


@pytest.fixture(scope="module")
def manifest():
    return check_inputs("methods_manifest.csv", SCRIPT)


def test_hand_worked_separation():
    """Four patients, deaths at 1-4, the first two exposed: the ordinary MLE is infinite.

    By hand (Breslow, no ties): l(b) = 2b - log(2e^b + 2) - log(e^b + 2) + const and
    I(b) = 4e^b / (2e^b + 2)^2 + 2e^b / (e^b + 2)^2; Firth maximises l + log(I) / 2.
    """
    def penalised(b):
        e = np.exp(b)
        return 2 * b - np.log(2 * e + 2) - np.log(e + 2) + 0.5 * np.log(4 * e / (2 * e + 2) ** 2 + 2 * e / (e + 2) ** 2)

    best = optimize.minimize_scalar(lambda b: -penalised(b), bounds=(-10, 10), method="bounded",
                                    options={"xatol": 1e-12}).x
    fit = firth.firth_cox(np.array([1, 1, 0, 0]), [1, 2, 3, 4], [1, 1, 1, 1])
    assert np.isfinite(fit.loc[0, "coef"]) and fit.loc[0, "coef"] == pytest.approx(best, abs=1e-7)
    crit = 3.841458820694124
    lo = optimize.brentq(lambda b: 2 * (penalised(best) - penalised(b)) - crit, best - 20, best)
    assert fit.loc[0, "lcl"] == pytest.approx(np.exp(lo), rel=1e-6)
    assert fit.loc[0, "p"] == pytest.approx(__import__("scipy").stats.chi2.sf(2 * (penalised(best) - penalised(0)), 1))


def test_firth_shrinks_the_ordinary_estimate_towards_zero():
    lung = pd.read_csv(REF / "lung.csv")
    from compendium.stats import survival as sv
    ordinary = sv.cox_fit(lung.rename(columns={"time": "os_months", "status": "os_event"}), "os", ["female"])
    fit = firth.firth_cox(lung[["female"]].to_numpy(), lung["time"], lung["status"])
    assert 0 < abs(fit.loc[0, "coef"]) < abs(ordinary.coef[0])


@pytest.mark.parametrize("dataset, covariates", [("separation", ["x", "z"]), ("lung", ["female", "age"])])
def test_fixtures_against_r(manifest, dataset, covariates):
    d = pd.read_csv(REF / f"{dataset}.csv")
    time, event = ("time", "event") if dataset == "separation" else ("time", "status")
    fit = firth.firth_cox(d[covariates].to_numpy(float), d[time], d[event], covariates)
    r = r_out("firth.csv").query("dataset == @dataset")
    assert_close(fit["coef"], r["coef"], atol=2e-5, what=f"{dataset} coef")
    assert_close(fit[["lcl", "ucl"]], r[["lcl", "ucl"]], rtol=1e-4, what=f"{dataset} limits")
    assert_close(fit["p"], r["p"], rtol=1e-4, what=f"{dataset} p")
    assert fit.attrs["penalised_loglik"] == pytest.approx(r["penalised_loglik"].iloc[0], abs=1e-7)


def test_analysis_against_r(manifest):
    analysis = analysis_or_skip(manifest, SCRIPT)
    r = r_out("firth.csv").query("dataset == 'analysis'")
    for endpoint, rows in r.groupby("endpoint"):
        ours = firth.firth_model(analysis, endpoint, rows["covariate"].tolist())
        assert_close(np.log(ours["hr"]), rows["coef"], atol=2e-5, what=f"{endpoint} coef")
        assert_close(ours[["lcl", "ucl", "p"]], rows[["lcl", "ucl", "p"]], rtol=1e-4, what=f"{endpoint} limits, p")


def test_non_binary_covariate_is_refused():
    df = pd.DataFrame({"pfs_months": [1.0, 2, 3], "pfs_event": [1, 1, 0], "age": [50, 60, 70]})
    with pytest.raises(ValueError, match="age"):
        firth.firth_model(df, "pfs", ["age"])


@pytest.mark.parametrize("design", ["continuous", "binary"])
def test_one_pass_moments_equal_the_risk_set_definition(design):
    """The cumulative-sum risk sets (N p^3 memory; with 0/1 covariates, sums over the covariate
    patterns) give what visiting every risk set gives."""
    import numpy as np

    from compendium.stats.firth import _Breslow

    rng = np.random.default_rng(3)
    n = 200
    first = rng.normal(size=n) if design == "continuous" else rng.integers(0, 2, n)
    x = np.column_stack([first, rng.integers(0, 2, n)]).astype(float)
    t = rng.integers(1, 15, n).astype(float)
    e = rng.integers(0, 2, n)
    beta = np.array([0.3, -0.6])
    model = _Breslow(x, t, e)
    assert (model.patterns is None) == (design == "continuous")  # the path this case exercises
    loglik, score, info, dinfo = model.parts(beta)
    eta = x @ beta
    ref_l, ref_u, ref_i, ref_d = 0.0, np.zeros(2), np.zeros((2, 2)), np.zeros((2, 2, 2))
    for u in np.unique(t[e == 1]):
        risk, dead = t >= u, (t == u) & (e == 1)
        w = np.exp(eta[risk]) / np.exp(eta[risk]).sum()
        xbar = w @ x[risk]
        xc = x[risk] - xbar
        ref_l += eta[dead].sum() - dead.sum() * np.log(np.exp(eta[risk]).sum())
        ref_u += x[dead].sum(axis=0) - dead.sum() * xbar
        ref_i += dead.sum() * np.einsum("n,ni,nj->ij", w, xc, xc)
        ref_d += dead.sum() * np.einsum("n,ni,nj,nr->ijr", w, xc, xc, xc)
    assert loglik == pytest.approx(ref_l, rel=1e-12)
    np.testing.assert_allclose(score, ref_u, atol=1e-11)
    np.testing.assert_allclose(info, ref_i, atol=1e-11)
    np.testing.assert_allclose(dinfo, ref_d, atol=1e-11)

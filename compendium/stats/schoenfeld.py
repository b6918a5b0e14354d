"""The smooth R's ``plot.cox.zph`` draws through scaled Schoenfeld residuals.

R fits, for each coefficient, a least-squares natural cubic spline with 4
degrees of freedom (and an intercept) in the transformed time g(t) (1 - KM by
default), its knots at quantiles of the 40 prediction points and the event
times together, and draws +-2 SE with SE^2 = var_jj * p'(X'X)^-1 p, where
var = d * I^-1 (d events, I the model information: ``cox.zph``'s ``$var``).
The fitted curve and band do not depend on which basis spans the spline space,
so a truncated-power basis of the same knots gives R's numbers
(``tests/test_schoenfeld.py`` checks them against ``splines::ns`` in R).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.stats import estimable as ne
from compendium.stats import survival as sv

COLUMNS = ["coefficient", "x", "time", "fit", "lower", "upper", "reason"]


def natural_spline_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """A basis of the natural cubic splines with these knots (boundary knots first and last), intercept included.

    Hastie, Tibshirani & Friedman, Elements of Statistical Learning, eq. 5.4-5.5:
    1, x, and d_k(x) - d_{K-1}(x) with d_k = ((x - xi_k)+^3 - (x - xi_K)+^3) / (xi_K - xi_k).
    """
    x = np.asarray(x, float)
    k = np.asarray(knots, float)
    kk = len(k)

    def d(j):
        return (np.clip(x - k[j], 0, None) ** 3 - np.clip(x - k[-1], 0, None) ** 3) / (k[-1] - k[j])

    cols = [np.ones_like(x), x] + [d(j) - d(kk - 2) for j in range(kk - 2)]
    return np.column_stack(cols)


def zph_smooth(fit: sv.CoxFit, df: int = 4, nsmo: int = 40, transform: str = "km") -> pd.DataFrame:
    """R's ``plot.cox.zph`` curve and band for every coefficient.

    Columns ``coefficient, x`` (transformed time), ``time`` (months, by
    interpolation, for the axis), ``fit, lower, upper, reason``. With fewer distinct
    event times than the spline has degrees of freedom, or a model without
    residuals, each coefficient has one empty row with the reason.
    """
    res = sv.scaled_schoenfeld(fit, transform)
    names = [c for c in res.columns if c not in ("time", "gtime")]
    xx = res["gtime"].to_numpy(float)

    def not_estimable(reason: str) -> pd.DataFrame:
        labels = names or list(fit.terms)
        return pd.DataFrame({"coefficient": labels, "x": np.nan, "time": np.nan, "fit": np.nan, "lower": np.nan,
                             "upper": np.nan, "reason": reason}, columns=COLUMNS)

    reason = res.attrs.get("reason", "") or (ne.TOO_FEW_EVENTS if len(np.unique(xx)) < df else "")
    if reason:
        return not_estimable(reason)
    pred = np.linspace(xx.min(), xx.max(), nsmo)
    both = np.concatenate([pred, xx])
    n_inner = df - 2  # ns(df = 4, intercept = TRUE): df - 1 - intercept interior knots
    inner = np.quantile(both, np.arange(1, n_inner + 1) / (n_inner + 1))
    knots = np.concatenate([[both.min()], inner, [both.max()]])
    if len(np.unique(knots)) < len(knots):  # tied knots: the spline space collapses
        return not_estimable(ne.TOO_FEW_EVENTS)
    xmat, pmat = natural_spline_basis(xx, knots), natural_spline_basis(pred, knots)
    try:
        xtx_inv = np.linalg.inv(xmat.T @ xmat)
    except np.linalg.LinAlgError:
        return not_estimable(ne.SINGULAR)
    seval = np.einsum("ij,jk,ik->i", pmat, xtx_inv, pmat)
    keep = ~np.isnan(fit.coef)
    var = fit.var[np.ix_(keep, keep)] * fit.events
    order = np.argsort(xx, kind="stable")
    pred_time = np.interp(pred, xx[order], res["time"].to_numpy()[order])
    rows = []
    for j, name in enumerate(names):
        coef, *_ = np.linalg.lstsq(xmat, res[name].to_numpy(), rcond=None)
        yhat = pmat @ coef
        with np.errstate(invalid="ignore"):
            band = 2 * np.sqrt(var[j, j] * seval)
        ok = np.isfinite(yhat).all() and np.isfinite(band).all()
        rows.append(pd.DataFrame({"coefficient": name, "x": pred, "time": pred_time, "fit": yhat,
                                  "lower": yhat - band, "upper": yhat + band,
                                  "reason": ne.ESTIMABLE if ok else ne.SINGULAR}))
    return pd.concat(rows, ignore_index=True)[COLUMNS]

"""Multiple imputation of a missing binary covariate, pooled by Rubin's rules.

The paper's multivariable models need extramedullary disease (EMD), which was
evaluated (PET/CT) in only part of the cohort, so a complete-case fit drops
every patient without it. Multiple imputation keeps them: each missing value
is drawn m times from its predictive distribution, the Cox model is fitted to
each completed data set, and the m estimates are pooled.

* Imputation model (White & Royston 2009, Stat Med 28:1982-1998): logistic
  regression of the missing covariate on the other covariates of the analysis
  model, the event indicator and the Nelson-Aalen cumulative hazard at the
  patient's time, so that the imputations carry the association with the
  outcome. A rare covariate can be separated by the predictors, so the
  logistic fit has a weak normal prior (sd 2.5 on each log-odds slope, Gelman
  et al. 2008, Ann Appl Stat 2:1360); imputation is *proper*: each of the m
  draws first draws the coefficients from their approximate posterior.
* Pooling (Rubin 1987): estimate = mean of the m estimates; total variance
  T = W + (1 + 1/m) B (W: mean within-imputation variance, B: between);
  Wald limits from a t distribution with Rubin's degrees of freedom
  (m - 1) (1 + W / ((1 + 1/m) B))^2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from compendium.stats import estimable as ne
from compendium.stats import survival as sv

PRIOR_SD = 2.5


def nelson_aalen_at(time, event) -> np.ndarray:
    """The Nelson-Aalen cumulative hazard at each patient's own time (events at that time included)."""
    t, e = np.asarray(time, float), np.asarray(event, int)
    ut, deaths = np.unique(t[e == 1], return_counts=True)
    at_risk = len(t) - np.searchsorted(np.sort(t), ut, side="left")  # patients with time >= each event time
    cum = np.concatenate([[0.0], np.cumsum(deaths / at_risk)])
    return cum[np.searchsorted(ut, t, side="right")]


def _logistic_map(x: np.ndarray, y: np.ndarray, prior_sd: float = PRIOR_SD):
    """Posterior mode and covariance of a logistic regression, intercept flat, slopes N(0, prior_sd^2)."""
    x1 = np.column_stack([np.ones(len(x)), x])
    prec = np.full(x1.shape[1], 1 / prior_sd ** 2)
    prec[0] = 0.0
    beta = np.zeros(x1.shape[1])
    for _ in range(100):
        with np.errstate(over="ignore"):  # exp overflows to inf far out: p is then 0, as it should be
            p = 1 / (1 + np.exp(-(x1 @ beta)))
        grad = x1.T @ (y - p) - prec * beta
        hess = (x1 * (p * (1 - p))[:, None]).T @ x1 + np.diag(prec)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    with np.errstate(over="ignore"):
        p = 1 / (1 + np.exp(-(x1 @ beta)))
    hess = (x1 * (p * (1 - p))[:, None]).T @ x1 + np.diag(prec)
    return beta, np.linalg.inv(hess)


@dataclass
class Imputations:
    """m completed copies of a data set, made one at a time as they are taken (m of them at once
    would hold m times the cohort in memory). ``data`` is the data before imputation; ``reason``
    says why no copy can be made (then iterating gives nothing)."""

    data: pd.DataFrame
    reason: str
    _draws: Callable[[], Iterator[pd.DataFrame]]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self._draws() if not self.reason else iter(())


def impute_binary(df: pd.DataFrame, target: str, predictors, endpoint: str, m: int, seed: int,
                  prior_sd: float = PRIOR_SD) -> Imputations:
    """m completed copies of ``df`` (its endpoint, target and predictor columns) with ``target`` (0/1)
    imputed; predictors must be complete where used. ``prior_sd=np.inf`` drops the prior: the
    imputation model of R's ``mice.impute.logreg`` (up to its augmentation). A target never observed cannot be imputed
    (``reason``: all values missing); one observed with one value only is imputed with that value
    (the limit of the posterior as the intercept, which has a flat prior, goes to infinity)."""
    tcol, ecol = sv.endpoint_columns(endpoint)
    data = df[list(dict.fromkeys([tcol, ecol, target, *predictors]))]
    data = data.dropna(subset=[tcol, ecol] + list(predictors)).reset_index(drop=True)
    observed = data[target].notna().to_numpy()
    y = data.loc[observed, target].to_numpy(float)
    reason = ne.of_counts(len(data), n_raw=len(df)) or (ne.ALL_MISSING if not observed.any() else "")
    if reason:
        return Imputations(data, reason, lambda: iter(()))
    if len(np.unique(y)) == 1:
        def constant():
            for _ in range(m):
                copy = data.copy()
                copy.loc[~observed, target] = y[0]
                yield copy
        return Imputations(data, ne.ESTIMABLE, constant)
    design = np.column_stack([data[list(predictors)].to_numpy(float), data[ecol].to_numpy(float),
                              nelson_aalen_at(data[tcol], data[ecol])])
    try:
        beta, cov = _logistic_map(design[observed], y, prior_sd)
    except np.linalg.LinAlgError:
        return Imputations(data, ne.SINGULAR, lambda: iter(()))
    if not (np.isfinite(beta).all() and np.isfinite(cov).all()):
        return Imputations(data, ne.SINGULAR, lambda: iter(()))

    def draws():
        rng = np.random.default_rng(seed)
        x_miss = np.column_stack([np.ones((~observed).sum()), design[~observed]])
        for _ in range(m):
            b = rng.multivariate_normal(beta, cov)
            with np.errstate(over="ignore"):
                p = 1 / (1 + np.exp(-(x_miss @ b)))
            copy = data.copy()
            copy.loc[~observed, target] = (rng.random(len(p)) < p).astype(float)
            yield copy
    return Imputations(data, ne.ESTIMABLE, draws)


def rubin(estimates: np.ndarray, variances: np.ndarray, conf_level: float = 0.95) -> dict:
    """Rubin's rules for one scalar: ``{estimate, se, df, lcl, ucl, p, within, between, fmi}`` (fmi approximate).

    Without estimates, or with a total variance of 0 (nothing varies), the pooled values are NaN.
    """
    q, u = np.asarray(estimates, float), np.asarray(variances, float)
    m = len(q)
    if m == 0 or not (np.isfinite(q).all() and np.isfinite(u).all()):
        return dict.fromkeys(("estimate", "se", "df", "lcl", "ucl", "p", "within", "between", "fmi"), np.nan)
    qbar, w = q.mean(), u.mean()
    b = q.var(ddof=1) if m > 1 else 0.0
    t = w + (1 + 1 / m) * b
    if t <= 0:
        return {**dict.fromkeys(("se", "df", "lcl", "ucl", "p", "fmi"), np.nan), "estimate": qbar, "within": w,
                "between": b}
    df = np.inf if b == 0 else (m - 1) * (1 + w / ((1 + 1 / m) * b)) ** 2
    crit = stats.t.ppf(1 - (1 - conf_level) / 2, df)
    se = np.sqrt(t)
    return {"estimate": qbar, "se": se, "df": df, "lcl": qbar - crit * se, "ucl": qbar + crit * se,
            "p": float(2 * stats.t.sf(abs(qbar / se), df)), "within": w, "between": b,
            "fmi": (1 + 1 / m) * b / t}


def pooled_cox(completed, endpoint: str, covariates, model_name: str) -> pd.DataFrame:
    """Cox fits on each completed data set (any iterable of them), pooled by Rubin's rules, in
    ``cox_multivariable.csv``'s columns (and ``fmi`` before ``reason``).

    A coefficient not estimable in any one completed data set (a level without events in that
    draw, say) is not estimable pooled; with no completed data set (``Imputations.reason``) every
    row is empty with that reason."""
    first, coefs, variances, reasons = None, [], [], []
    for d in completed:  # one completed data set and its fit at a time; only the estimates are kept
        fit = sv.cox_fit(d, endpoint, list(covariates))
        first = fit if first is None else first
        coefs.append(fit.coef)
        variances.append(np.diag(fit.var))
        reasons.append(fit.reasons)
    if first is None:
        base = getattr(completed, "data", None)
        names = sv.design_columns(base, list(covariates), {})[0] if base is not None \
            else [(c, "", "") for c in covariates]
        why = getattr(completed, "reason", "") or ne.NO_PATIENTS
        n = 0 if base is None else len(base)
        events = 0 if base is None else int(base[sv.endpoint_columns(endpoint)[1]].sum())
        return pd.DataFrame([{"endpoint": endpoint, "model": model_name, "covariate": cov, "level": level,
                              "reference": ref, "hr": np.nan, "lcl": np.nan, "ucl": np.nan, "p": np.nan,
                              "n": n, "events": events, "fmi": np.nan, "reason": why} for cov, level, ref in names])
    coefs, variances = np.array(coefs), np.array(variances)
    rows = []
    for j, (cov, level, ref) in enumerate(first.columns):
        why = ne.first(*[r[j] for r in reasons])
        pooled = rubin(coefs[:, j], variances[:, j])
        with np.errstate(over="ignore"):
            hr, lcl, ucl = np.exp(pooled["estimate"]), np.exp(pooled["lcl"]), np.exp(pooled["ucl"])
        why = why or ("" if np.isfinite([hr, lcl, ucl, pooled["p"]]).all() else ne.SINGULAR_COVARIANCE)
        if why:
            hr = lcl = ucl = pooled["p"] = np.nan
        rows.append({"endpoint": endpoint, "model": model_name, "covariate": cov, "level": level, "reference": ref,
                     "hr": hr, "lcl": lcl, "ucl": ucl,
                     "p": pooled["p"], "n": first.n, "events": first.events, "fmi": pooled["fmi"], "reason": why})
    return pd.DataFrame(rows)

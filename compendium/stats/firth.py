"""Firth's penalised Cox regression (Heinze & Schemper 2001).

With 85 patients a covariate that few patients have (extramedullary disease)
gives a Cox estimate with large small-sample bias, and with no events in one
level the ordinary estimate is infinite (monotone likelihood). Firth's penalty,
half the log-determinant of the information, removes the first-order bias and
keeps the estimate finite: maximise

    l*(beta) = l(beta) + 0.5 log det I(beta)

with l the Breslow partial log-likelihood (as R's ``coxphf``, which is not
packaged for Debian, uses). Confidence limits and p-values come from the
profile penalised likelihood (``coxphf``'s default): the limit for beta_j is
where 2 [l*(beta-hat) - max l*(beta | beta_j = b)] reaches the chi-square
(1 df) quantile, and p compares beta_j = 0 the same way.

Heinze G, Schemper M. A solution to the problem of monotone likelihood in Cox
regression. Biometrics 2001;57:114-119. doi:10.1111/j.0006-341X.2001.00114.x
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from compendium.stats import estimable as ne


class _Breslow:
    """Breslow partial likelihood, score and information of one data set.

    Risk-set sums of exp(eta) x^k (k = 0..3) are accumulated once over the time-sorted data (reverse
    cumulative sums), so memory and work grow as N p^3, not as (event times) x N. When the rows take
    few distinct covariate patterns (0/1 covariates: at most 2^p), the sums are taken over patterns
    instead, weighted by how many patients of each pattern are at risk at each event time (counted
    once): then each evaluation costs (event times) x patterns x p^3, whatever N.
    """

    #: the most distinct covariate patterns for which the sums are taken over patterns
    MAX_PATTERNS = 256

    def __init__(self, x: np.ndarray, time: np.ndarray, event: np.ndarray):
        order = np.argsort(-np.asarray(time, float), kind="stable")  # latest first
        self.x = np.asarray(x, float)[order]
        self.time = np.asarray(time, float)[order]
        self.event = np.asarray(event)[order] == 1
        ut = np.unique(self.time[self.event])
        # last row (in latest-first order) of each event time's risk set: everyone with time >= t
        self.risk_end = np.searchsorted(-self.time, -ut, side="right") - 1
        self.d = \
            np.bincount(np.searchsorted(ut, self.time[self.event]), minlength=len(ut)).astype(float)
        self.dead_x = self.x[self.event].sum(axis=0)
        self.dead_rows = self.event
        patterns, which = np.unique(self.x, axis=0, return_inverse=True)
        which = which.ravel()
        self.patterns = None
        if len(patterns) <= min(self.MAX_PATTERNS, len(self.x) // 4):
            self.patterns = patterns
            # at_risk[t, g]: patients of pattern g whose time is >= the t-th event time
            self.at_risk = np.column_stack([np.cumsum(which == g)[self.risk_end] for g in range(len(patterns))])
            self.dead_per_pattern = np.bincount(which[self.event], minlength=len(patterns)).astype(float)

    def _risk_sums(self, beta: np.ndarray):
        """eta of every row (or pattern), its shift, and the risk-set sums s0..s3 at each event time."""
        x = self.x if self.patterns is None else self.patterns
        eta = x @ beta
        shift = eta.max()
        r = np.exp(eta - shift)
        terms = (r, r[:, None] * x, np.einsum("n,ni,nj->nij", r, x, x), np.einsum("n,ni,nj,nr->nijr", r, x, x, x))
        if self.patterns is None:  # reverse cumulative sums over the time-sorted rows
            sums = [np.cumsum(term, axis=0)[self.risk_end] for term in terms]
        else:  # each pattern's terms times its number at risk
            sums = [(self.at_risk @ term.reshape(len(x), -1)).reshape(-1, *term.shape[1:]) for term in terms]
        return (eta, shift, *sums)

    def parts(self, beta: np.ndarray):
        """l, U, I and dI/dbeta_r (p x p x p) at beta."""
        eta, shift, s0, s1, s2, s3 = self._risk_sums(beta)
        xbar = s1 / s0[:, None]                              # times x p
        exx = s2 / s0[:, None, None]
        cov = exx - np.einsum("ti,tj->tij", xbar, xbar)
        dead_eta = self.dead_per_pattern @ eta if self.patterns is not None else eta[self.dead_rows].sum()
        loglik = float(dead_eta - (self.d * (np.log(s0) + shift)).sum())
        score = self.dead_x - self.d @ xbar
        info = np.einsum("t,tij->ij", self.d, cov)
        # d cov / d beta_r = E[(x - xbar)(x - xbar)'(x_r - xbar_r)] (third central moment), from raw moments:
        # E[xxx] - sym(E[xx] xbar) + 2 xbar xbar xbar
        e3 = s3 / s0[:, None, None, None]
        third = (e3 - np.einsum("tij,tr->tijr", exx, xbar) - np.einsum("tir,tj->tijr", exx, xbar)
                 - np.einsum("tjr,ti->tijr", exx, xbar) + 2 * np.einsum("ti,tj,tr->tijr", xbar, xbar, xbar))
        dinfo = np.einsum("t,tijr->ijr", self.d, third)
        return loglik, score, info, dinfo


def _penalised(model: _Breslow, beta: np.ndarray):
    loglik, score, info, dinfo = model.parts(beta)
    sign, logdet = np.linalg.slogdet(info)
    inv = np.linalg.inv(info)
    pscore = score + 0.5 * np.einsum("ij,jir->r", inv, dinfo)
    return loglik + 0.5 * logdet, pscore, info, loglik


def _maximise(model: _Breslow, p: int, fixed: dict[int, float] | None = None, start=None,
              tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, float, int]:
    """Newton-Raphson on the penalised score (information as the curvature), step-halving on l*."""
    fixed = fixed or {}
    free = np.array([j for j in range(p) if j not in fixed], int)
    beta = np.zeros(p) if start is None else np.array(start, float)
    for j, b in fixed.items():
        beta[j] = b
    pl, pscore, info, _ = _penalised(model, beta)
    for it in range(1, max_iter + 1):
        if len(free) == 0:
            return beta, pl, it
        step = np.linalg.solve(info[np.ix_(free, free)], pscore[free])
        step = np.clip(step, -5, 5)
        for _ in range(30):
            trial = beta.copy()
            trial[free] += step
            tpl, tscore, tinfo, _ = _penalised(model, trial)
            # a step is taken when it raises l*, or (where l* is flat to rounding) when it brings the
            # penalised score closer to 0: accepting any step that merely keeps l* let the iteration
            # cycle 6e-5 from the maximum of a small cohort until max_iter
            if np.isfinite(tpl) and (tpl > pl or (tpl >= pl - 1e-12
                                                  and np.max(np.abs(tscore[free])) < np.max(np.abs(pscore[free])))):
                break
            step = step / 2
        pl_old = pl
        beta, pl, pscore, info = trial, tpl, tscore, tinfo
        if np.max(np.abs(pscore[free])) < tol:
            return beta, pl, it
        # a score summed over thousands of patients cannot reach an absolute 1e-10 in floating point:
        # then stop, as R's coxph does, when the likelihood no longer changes and the step is negligible
        if abs(pl - pl_old) <= 1e-12 * (1 + abs(pl_old)) and np.max(np.abs(step)) < 1e-8:
            return beta, pl, it
    return beta, pl, max_iter


def firth_cox(x: np.ndarray, time, event, names=None, conf_level: float = 0.95) -> pd.DataFrame:
    """Penalised (Firth) Cox fit: ``coef, se, hr, lcl, ucl, p`` per column of ``x``.

    ``se`` is the square root of the diagonal of I(beta-hat)^-1 (for reference
    only); ``lcl, ucl`` and ``p`` are profile penalised-likelihood ones.
    """
    x = np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    time, event = np.asarray(time, float), np.asarray(event, int)
    model = _Breslow(x, time, event)
    p = x.shape[1]
    beta, pl_max, _ = _maximise(model, p)
    _, _, info, _ = _penalised(model, beta)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    crit = stats.chi2.ppf(conf_level, 1)

    def deviance(j: int, b: float) -> float:
        _, pl, _ = _maximise(model, p, {j: b}, start=beta)
        return 2 * (pl_max - pl)

    rows = []
    for j in range(p):
        limits = []
        for direction in (-1, 1):
            width = max(se[j], 0.1)
            far = beta[j] + direction * width
            while deviance(j, far) < crit and abs(far - beta[j]) < 50:
                far = beta[j] + 2 * (far - beta[j])
            limits.append(optimize.brentq(lambda b: deviance(j, b) - crit, *sorted((beta[j], far)), xtol=1e-10))
        p_value = float(stats.chi2.sf(deviance(j, 0.0), 1))
        rows.append({"term": names[j] if names is not None else f"x{j + 1}", "coef": beta[j], "se": se[j],
                     "hr": np.exp(beta[j]), "lcl": np.exp(limits[0]), "ucl": np.exp(limits[1]), "p": p_value})
    out = pd.DataFrame(rows)
    out.attrs["penalised_loglik"] = pl_max
    return out


def firth_model(df: pd.DataFrame, endpoint: str, covariates, model_name: str = "firth") -> pd.DataFrame:
    """Firth Cox fit of 0/1-coded covariates on complete cases, in the columns of ``cox_multivariable.csv``.

    A covariate that takes one value among the complete cases is left out of the fit (its row
    says "one level only"), as ``coxph`` drops it; without patients or events, or with a singular
    information, every row is empty with the reason. A covariate that is not 0/1 is refused
    (``ValueError``): the penalised fit here is written for flags.
    """
    covariates = list(covariates)
    tcol, ecol = f"{endpoint}_months", f"{endpoint}_event"
    data = df[[tcol, ecol] + covariates].dropna()
    for cov in covariates:
        if not set(pd.unique(data[cov])) <= {0, 1}:
            raise ValueError(f"firth_model takes 0/1 covariates; {cov} is not one")
    out = pd.DataFrame({"endpoint": endpoint, "model": model_name, "covariate": covariates, "level": "1",
                        "reference": "0", "hr": np.nan, "lcl": np.nan, "ucl": np.nan, "p": np.nan,
                        "n": len(data), "events": int(data[ecol].sum()), "reason": ne.ESTIMABLE})
    reason = ne.of_counts(len(data), int(data[ecol].sum()), len(df))
    varying = [c for c in covariates if data[c].nunique() > 1]
    out.loc[~out["covariate"].isin(varying), "reason"] = ne.ONE_LEVEL
    if reason or not varying:
        out["reason"] = reason or ne.ONE_LEVEL
        return out
    try:
        with np.errstate(all="ignore"):
            fit = firth_cox(data[varying].to_numpy(float), data[tcol], data[ecol], varying)
    except np.linalg.LinAlgError:
        out.loc[out["covariate"].isin(varying), "reason"] = ne.SINGULAR
        return out
    except ValueError:  # a profile limit that no bracket reaches: the penalised likelihood is flat there
        out.loc[out["covariate"].isin(varying), "reason"] = ne.NOT_CONVERGED
        return out
    at = out.set_index("covariate").index.get_indexer(varying)
    for col in ("hr", "lcl", "ucl", "p"):
        out.loc[at, col] = fit[col].to_numpy(float)
    bad = ~np.isfinite(out[["hr", "lcl", "ucl", "p"]].to_numpy(float)).all(axis=1) & (out["reason"] == "")
    out.loc[bad, "reason"] = ne.NOT_CONVERGED
    out.loc[out["reason"] != "", ["hr", "lcl", "ucl", "p"]] = np.nan
    return out

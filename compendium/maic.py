"""Matching-adjusted indirect comparison (Signorovitch et al., Value Health 2010).

Individual patients of one study (here: this cohort) are reweighted so that their
covariate means (and, where asked, second moments) equal the published aggregates
of a target population (a trial arm). The method of moments gives weights
``w_i = exp(x_i' a)`` with ``x_i`` the patient's covariates centred at the target;
``a`` minimises ``sum_i exp(x_i' a)``, a convex function whose gradient is zero
exactly when the weighted means equal the target. We solve it by Newton's method
with the exact Hessian (to machine precision), which the tests compare with an
independent computation in R (base ``optim``, BFGS) on the NICE DSU TSD 18 example.

Matching a standard deviation means matching the population second moment:
the weighted mean of ``x^2`` equals ``mean^2 + sd^2`` (Phillippo et al., TSD 18).

The Python package indcomp (MIT) computes the same weights and ESS but neither
weighted Kaplan-Meier curves nor bootstrap intervals, and is a one-author package;
the maintained implementations (maicplus, maic) are in R. So this module is kept
small and tested: R parity, hand checks and a simulation with known truth
(tests/test_maic.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import survival as sv


@dataclass(frozen=True)
class Target:
    """One matched moment: ``column`` of the individual data against a published aggregate.

    ``kind`` is ``mean`` (the mean of the column, or a proportion of a 0/1 column) or
    ``sd`` (then ``mean`` is also needed: the second moment mean^2 + sd^2 is matched).
    """

    column: str
    mean: float
    sd: float | None = None
    source: str = ""


def design(ipd: pd.DataFrame, targets: list[Target]) -> tuple[np.ndarray, list[str]]:
    """Centred covariate matrix: one column per matched moment."""
    cols, names = [], []
    for t in targets:
        x = pd.to_numeric(ipd[t.column], errors="raise").to_numpy(float)
        if np.isnan(x).any():
            raise ValueError(f"MAIC: column {t.column} has missing values; complete cases are needed")
        cols.append(x - t.mean)
        names.append(f"{t.column} (mean)")
        if t.sd is not None:
            cols.append(x ** 2 - (t.mean ** 2 + t.sd ** 2))
            names.append(f"{t.column} (second moment)")
    return np.column_stack(cols), names


def fit_weights(x: np.ndarray, tol: float = 1e-12, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Method-of-moments coefficients ``a`` and weights ``exp(x a)`` for a centred design ``x``.

    Raises ``ValueError`` when the target lies outside the convex hull of the data
    (no weights can reach it: the objective has no minimum).
    """
    a = np.zeros(x.shape[1])
    for _ in range(max_iter):
        w = np.exp(x @ a)
        grad = x.T @ w
        hess = (x * w[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        # backtracking keeps Newton's method safe far from the optimum
        f0, s = w.sum(), 1.0
        while np.exp(x @ (a - s * step)).sum() > f0 and s > 1e-10:
            s /= 2
        a = a - s * step
        if np.max(np.abs(x.T @ np.exp(x @ a))) / np.exp(x @ a).sum() < tol:
            break
    w = np.exp(x @ a)
    if not np.all(np.isfinite(w)) or np.max(np.abs(x.T @ w)) / w.sum() > 1e-8:
        raise ValueError("MAIC: the target aggregates cannot be reached by reweighting these patients "
                         "(outside the range of the individual data)")
    return a, w


def ess(w: np.ndarray) -> float:
    """Effective sample size (sum w)^2 / sum w^2."""
    return float(w.sum() ** 2 / (w ** 2).sum())


def weights(ipd: pd.DataFrame, targets: list[Target]) -> np.ndarray:
    """Weights rescaled to sum to the number of patients (as TSD 18 reports them)."""
    _, w = fit_weights(design(ipd, targets)[0])
    return w / w.sum() * len(w)


def balance(ipd: pd.DataFrame, targets: list[Target], w: np.ndarray) -> pd.DataFrame:
    """Before and after: the target, the unweighted and the weighted mean (and SD) per covariate."""
    rows = []
    for t in targets:
        x = ipd[t.column].to_numpy(float)
        wm = np.average(x, weights=w)
        rows.append({"covariate": t.column, "statistic": "mean", "target": t.mean, "unweighted": x.mean(),
                     "weighted": wm, "source": t.source})
        if t.sd is not None:
            rows.append({"covariate": t.column, "statistic": "SD (population)", "target": t.sd,
                         "unweighted": x.std(), "weighted": np.sqrt(np.average((x - wm) ** 2, weights=w)),
                         "source": t.source})
    return pd.DataFrame(rows)


def weighted_km(time, event, w) -> pd.DataFrame:
    """Kaplan-Meier with case weights: weighted deaths over weighted numbers at risk.

    ``time, n_risk, n_event, surv`` at each distinct time (R ``survfit(..., weights=w)``).
    """
    t, e, w = (np.asarray(a, float) for a in (time, event, w))
    ut, idx = np.unique(t, return_inverse=True)
    at_time = np.bincount(idx, weights=w, minlength=len(ut))
    n_event = np.bincount(idx, weights=w * (e == 1), minlength=len(ut))
    n_risk = np.cumsum(at_time[::-1])[::-1]  # weight of everyone with time >= each distinct time
    surv = np.cumprod(1 - n_event / n_risk)
    return pd.DataFrame({"time": ut, "n_risk": n_risk, "n_event": n_event, "surv": surv})


def weighted_median(time, event, w) -> float:
    """Median of the weighted Kaplan-Meier curve, by R's quantile rule (midpoint on a flat 0.5)."""
    km = weighted_km(time, event, w)
    x = np.concatenate([[0.0], km["time"].to_numpy()])
    return sv._findq(x, np.concatenate([[0.0], 1 - km["surv"].to_numpy()]), 0.5)


def bootstrap_median(ipd: pd.DataFrame, targets: list[Target], time: str, event: str,
                     n_boot: int = 1000, seed: int = 20250, level: float = 0.95) -> dict:
    """Weighted median with a percentile bootstrap interval (weights re-estimated in every resample).

    A resample whose weighted median is not reached counts as an infinite median (so an
    upper limit that is not reached stays empty); a resample whose weights cannot reach the
    target at all is left out and counted in ``failed``.
    """
    rng = np.random.default_rng(seed)
    est = weighted_median(ipd[time], ipd[event], weights(ipd, targets))
    meds = []
    for _ in range(n_boot):
        sample = ipd.iloc[rng.integers(0, len(ipd), len(ipd))].reset_index(drop=True)
        try:
            m = weighted_median(sample[time], sample[event], weights(sample, targets))
        except (ValueError, np.linalg.LinAlgError):
            continue
        meds.append(np.inf if np.isnan(m) else m)
    if not meds:
        return {"median": est, "lcl": np.nan, "ucl": np.nan, "n_boot": n_boot, "failed": n_boot, "seed": seed}
    with np.errstate(invalid="ignore"):  # medians not reached are inf: a limit between two of them is not reached
        lo, hi = np.quantile(np.asarray(meds), [(1 - level) / 2, (1 + level) / 2])
    return {"median": est, "lcl": float(lo) if np.isfinite(lo) else np.nan,
            "ucl": float(hi) if np.isfinite(hi) else np.nan, "n_boot": n_boot,
            "failed": n_boot - len(meds), "seed": seed}


def analyse(ipd: pd.DataFrame, targets: list[Target], time: str, event: str, n_boot: int = 1000,
            seed: int = 20250) -> dict:
    """Everything notebook 07 shows of one MAIC: weights, ESS, balance, weighted and plain KM, median.

    Raises ``ValueError`` (with the reason) when there are no patients to weight or the target
    cannot be reached.
    """
    if len(ipd) == 0 or ipd[event].sum() == 0:
        raise ValueError("MAIC: no patients with complete matched covariates and an event")
    w = weights(ipd, targets)
    return {"weights": w, "n": len(ipd), "ess": ess(w), "balance": balance(ipd, targets, w),
            "km_weighted": weighted_km(ipd[time], ipd[event], w),
            "km_unweighted": weighted_km(ipd[time], ipd[event], np.ones(len(ipd))),
            **bootstrap_median(ipd, targets, time, event, n_boot=n_boot, seed=seed)}

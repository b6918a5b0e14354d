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

from compendium.stats import estimable as ne
from compendium.stats import survival as sv


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


def fit_weights(x: np.ndarray, counts: np.ndarray | None = None, tol: float = 1e-12,
                max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Method-of-moments coefficients ``a`` and weights ``exp(x a)`` for a centred design ``x``.

    ``counts``: how many times each row counts (a bootstrap resample as multiplicities; rows
    counted 0 times take no part). Raises ``ValueError`` when the target lies outside the convex
    hull of the data (no weights can reach it: the objective has no minimum).
    """
    c = np.ones(len(x)) if counts is None else np.asarray(counts, float)
    present = c > 0
    a = np.zeros(x.shape[1])
    eta = x @ a
    w = c * np.exp(eta)
    for _ in range(max_iter):
        if np.max(eta[present]) < 0:
            # every patient lies strictly on one side of a plane through the target: a certificate
            # that the target is outside their convex hull (for a target inside it, some patient has
            # x a >= 0 for every a, since 0 is a convex combination of the rows of x)
            break
        grad = x.T @ w
        hess = (x * w[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        # backtracking keeps Newton's method safe far from the optimum; near it, the objective
        # changes by less than its rounding error, so a step within rounding of it is accepted
        # (else the line search would reject the Newton steps that still shrink the gradient)
        f0, s = w.sum(), 1.0
        while (c * np.exp(x @ (a - s * step))).sum() > f0 * (1 + 8 * np.finfo(float).eps) and s > 1e-10:
            s /= 2
        a = a - s * step
        eta = x @ a
        w = c * np.exp(eta)
        if np.max(np.abs(x.T @ w)) / w.sum() < tol:
            break
    w = np.exp(eta)
    if not np.all(np.isfinite(w)) or np.max(np.abs(x.T @ (c * w))) / (c * w).sum() > 1e-8:
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


def _km_steps(where: np.ndarray, ut: np.ndarray, dead: np.ndarray, w: np.ndarray):
    """Weighted Kaplan-Meier over the distinct times ``ut`` (row i's time is ``ut[where[i]]``, ``dead``
    its event indicator, ``w`` its weight): the times that carry weight, the weighted numbers at risk
    and events there, and the survival. A row of weight 0 (a patient not drawn into a bootstrap
    resample) takes no part."""
    at_time = np.bincount(where, weights=w, minlength=len(ut))
    n_event = np.bincount(where, weights=w * dead, minlength=len(ut))
    kept = at_time > 0
    n_risk = np.cumsum(at_time[kept][::-1])[::-1]  # weight of everyone with time >= each time
    return ut[kept], n_risk, n_event[kept], np.cumprod(1 - n_event[kept] / n_risk)


def _km(time, event, w):
    t, e, w = (np.asarray(a, float) for a in (time, event, w))
    ut, where = np.unique(t, return_inverse=True)
    return _km_steps(where.ravel(), ut, (e == 1).astype(float), w)


def _median_of_curve(ut: np.ndarray, surv: np.ndarray) -> float:
    """R's quantile rule (midpoint on a flat 0.5) on a KM curve."""
    return sv._findq(np.concatenate([[0.0], ut]), np.concatenate([[0.0], 1 - surv]), 0.5)


def weighted_km(time, event, w) -> pd.DataFrame:
    """Kaplan-Meier with case weights: weighted deaths over weighted numbers at risk.

    ``time, n_risk, n_event, surv`` at each distinct time (R ``survfit(..., weights=w)``).
    """
    ut, n_risk, n_event, surv = _km(time, event, w)
    return pd.DataFrame({"time": ut, "n_risk": n_risk, "n_event": n_event, "surv": surv})


def weighted_median(time, event, w) -> float:
    """Median of the weighted Kaplan-Meier curve, by R's quantile rule (midpoint on a flat 0.5)."""
    ut, _, _, surv = _km(time, event, w)
    return _median_of_curve(ut, surv)


def bootstrap_median(ipd: pd.DataFrame, targets: list[Target], time: str, event: str,
                     n_boot: int = 1000, seed: int = 20250, level: float = 0.95) -> dict:
    """Weighted median with a percentile bootstrap interval (weights re-estimated in every resample).

    A resample whose weighted median is not reached counts as an infinite median (so an
    upper limit that is not reached stays empty); a resample whose weights cannot reach the
    target at all is left out and counted in ``failed``.
    """
    rng = np.random.default_rng(seed)
    est = weighted_median(ipd[time], ipd[event], weights(ipd, targets))
    # the design's distinct rows and the distinct times once; a resample is how many times each
    # patient was drawn, and the weights are fitted on the distinct rows (patients alike in every
    # matched covariate get the same weight), so each resample costs a few O(N) passes (no copy, no sort)
    patterns, pattern = np.unique(design(ipd, targets)[0], axis=0, return_inverse=True)
    ut, where = np.unique(ipd[time].to_numpy(float), return_inverse=True)
    pattern, where = pattern.ravel(), where.ravel()
    dead = (ipd[event].to_numpy(float) == 1).astype(float)
    n, meds = len(ipd), []
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        try:
            _, w = fit_weights(patterns, np.bincount(pattern, weights=counts, minlength=len(patterns)))
        except (ValueError, np.linalg.LinAlgError):
            continue
        w = counts * w[pattern]
        times, _, _, surv = _km_steps(where, ut, dead, w / w.sum() * n)
        m = _median_of_curve(times, surv)
        meds.append(np.inf if np.isnan(m) else m)
    if not meds:
        return {"median": est, "lcl": np.nan, "ucl": np.nan, "n_boot": n_boot, "failed": n_boot, "seed": seed}
    with np.errstate(invalid="ignore"):  # medians not reached are inf: a limit between two of them is not reached
        lo, hi = np.quantile(np.asarray(meds), [(1 - level) / 2, (1 + level) / 2])
    return {"median": est, "lcl": float(lo) if np.isfinite(lo) else np.nan,
            "ucl": float(hi) if np.isfinite(hi) else np.nan, "n_boot": n_boot,
            "failed": n_boot - len(meds), "seed": seed}


def estimate(ipd: pd.DataFrame, targets: list[Target], time: str, event: str, n_boot: int = 1000,
             seed: int = 20250) -> dict:
    """Everything notebook 07 shows of one MAIC: weights, ESS, balance, weighted and plain KM, median,
    and ``reason``. Patients lacking a matched covariate, the time or the status are left out first;
    without patients, without events, or with a target the data cannot reach by reweighting, the
    values are empty and ``reason`` says why (never an exception)."""
    columns = list(dict.fromkeys([t.column for t in targets] + [time, event]))
    ipd = ipd.dropna(subset=columns).reset_index(drop=True)
    empty_km = pd.DataFrame(columns=["time", "n_risk", "n_event", "surv"], dtype=float)
    out = {"weights": np.array([]), "n": len(ipd), "ess": np.nan, "balance": pd.DataFrame(),
           "km_weighted": empty_km, "km_unweighted": empty_km, "median": np.nan, "lcl": np.nan, "ucl": np.nan,
           "n_boot": n_boot, "failed": n_boot, "seed": seed}
    reason = ne.of_counts(len(ipd), int(pd.to_numeric(ipd[event]).sum()))
    if not reason:
        try:
            w = weights(ipd, targets)
        except np.linalg.LinAlgError:
            reason = ne.SINGULAR
        except ValueError:
            reason = ne.UNREACHABLE
    if reason:
        return {**out, "reason": reason}
    return {"weights": w, "n": len(ipd), "ess": ess(w), "balance": balance(ipd, targets, w),
            "km_weighted": weighted_km(ipd[time], ipd[event], w),
            "km_unweighted": weighted_km(ipd[time], ipd[event], np.ones(len(ipd))),
            **bootstrap_median(ipd, targets, time, event, n_boot=n_boot, seed=seed), "reason": ne.ESTIMABLE}


def analyse(ipd: pd.DataFrame, targets: list[Target], time: str, event: str, n_boot: int = 1000,
            seed: int = 20250) -> dict:
    """:func:`estimate`, raising ``ValueError`` with the reason when it is not estimable (the form
    notebook 07 catches; new code takes :func:`estimate` and its ``reason``)."""
    out = estimate(ipd, targets, time, event, n_boot=n_boot, seed=seed)
    if out["reason"]:
        raise ValueError(f"MAIC {ne.label(out['reason'])}")
    return out

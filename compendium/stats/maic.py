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
A published *median* is matched as the R packages do it, by the share of patients below it:
``maic::createMAICInput`` (match.type "median") codes ``x < median`` as 1 and matches its mean to
0.5; ``maicplus::center_ipd`` codes ``x > median`` and centres at 0.5 (the same without ties at the
median). After weighting, half the weight lies below the target's median (tested).
A covariate the data cannot reach at all (every patient on one side of the target, e.g. a cohort
wholly lenalidomide-refractory against a trial one third refractory) is not matched; it is reported
with the reason, as ``maic`` refuses it ("target is above maximum") and TSD 18 calls it a lack of
overlap. Balance is reported as TSD 18 and ``maicplus::check_weights`` do (target, unweighted,
weighted) with standardised differences before and after weighting (Austin, Stat Med 2009).

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
    """One matched aggregate: ``column`` of the individual data against a published number.

    ``statistic`` is ``mean`` (or ``proportion``, of a 0/1 column): ``mean`` is matched, and with
    ``sd`` also the second moment mean^2 + sd^2; or ``median``: ``mean`` holds the published
    median and the share of patients below it is matched to one half.
    """

    column: str
    mean: float
    sd: float | None = None
    source: str = ""
    statistic: str = "mean"

    def moment(self, x: np.ndarray) -> np.ndarray:
        """What is matched, per patient: the value itself, or whether it lies below the median."""
        return (x < self.mean).astype(float) if self.statistic == "median" else x

    @property
    def aim(self) -> float:
        return 0.5 if self.statistic == "median" else self.mean

    @property
    def label(self) -> str:
        return {"median": "share below the median", "proportion": "proportion"}.get(self.statistic, "mean")

    @property
    def binary(self) -> bool:
        return self.statistic in ("median", "proportion")


def design(ipd: pd.DataFrame, targets: list[Target]) -> tuple[np.ndarray, list[str]]:
    """Centred covariate matrix: one column per matched moment."""
    cols, names = [], []
    for t in targets:
        x = pd.to_numeric(ipd[t.column], errors="raise").to_numpy(float)
        if np.isnan(x).any():
            raise ValueError(f"MAIC: column {t.column} has missing values; complete cases are needed")
        cols.append(t.moment(x) - t.aim)
        names.append(f"{t.column} ({'share below the median' if t.statistic == 'median' else 'mean'})")
        if t.sd is not None and t.statistic != "median":
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


def unmatchable(ipd: pd.DataFrame, targets: list[Target]) -> dict[str, str]:
    """Covariates no reweighting can match, with why: every patient lies on one side of the target."""
    out = {}
    for t in targets:
        m = t.moment(pd.to_numeric(ipd[t.column], errors="coerce").dropna().to_numpy(float))
        if len(m) == 0:
            out[t.column] = ne.ALL_MISSING
        elif m.min() >= t.aim or m.max() <= t.aim:
            side = "every patient here has " + (_value_words(t, m) if np.ptp(m) == 0 else "a value on one side of it")
            out[t.column] = f"{ne.UNREACHABLE}: {side}; the target's {_target_words(t)} cannot be reached"
    return out


def _value_words(t: Target, m: np.ndarray) -> str:
    if t.statistic == "median":
        return f"{t.column} {'below' if m[0] == 1 else 'at or above'} {t.mean:g}"
    return f"{t.column} = {m[0]:g}"


def _target_words(t: Target) -> str:
    return {"median": f"median {t.mean:g}", "proportion": f"proportion {t.mean:g}"}.get(t.statistic, f"mean {t.mean:g}")


def smd(value: float, aim: float, t: Target, sd_data: float) -> float:
    """Standardised difference of the data's (weighted) moment from the target's: for a share, over
    the pooled binomial SD; for a mean, over the pooled SD where the target publishes one, else the
    data's unweighted SD (the same denominator before and after weighting)."""
    if t.binary:
        scale = np.sqrt((value * (1 - value) + aim * (1 - aim)) / 2)
    else:
        scale = np.sqrt((sd_data ** 2 + t.sd ** 2) / 2) if t.sd is not None else sd_data
    return float((value - aim) / scale) if scale > 0 else np.nan


def balance(ipd: pd.DataFrame, targets: list[Target], w: np.ndarray) -> pd.DataFrame:
    """Before and after: the target, the unweighted and the weighted moment per covariate, and their
    standardised differences from the target (``smd_before``, ``smd_after``)."""
    rows = []
    for t in targets:
        x = ipd[t.column].to_numpy(float)
        m = t.moment(x)
        before, after, sd_data = m.mean(), np.average(m, weights=w), m.std()
        rows.append({"covariate": t.column, "statistic": t.label,
                     "target": t.aim, "unweighted": before, "weighted": after,
                     "smd_before": smd(before, t.aim, t, sd_data), "smd_after": smd(after, t.aim, t, sd_data),
                     "source": t.source})
        if t.sd is not None and t.statistic != "median":
            wm = np.average(x, weights=w)
            rows.append({"covariate": t.column, "statistic": "SD (population)", "target": t.sd,
                         "unweighted": x.std(), "weighted": np.sqrt(np.average((x - wm) ** 2, weights=w)),
                         "smd_before": np.nan, "smd_after": np.nan, "source": t.source})
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

    ``time, n_risk, n_event, n_censor, surv`` at each distinct time (R ``survfit(..., weights=w)``;
    ``n_censor``: the weight censored there, for the figure's censor marks).
    """
    t, e, w = (np.asarray(a, float) for a in (time, event, w))
    uniq, where = np.unique(t, return_inverse=True)
    where = where.ravel()
    dead = (e == 1).astype(float)
    ut, n_risk, n_event, surv = _km_steps(where, uniq, dead, w)
    at_time = np.bincount(where, weights=w, minlength=len(uniq))
    censored = (at_time - np.bincount(where, weights=w * dead, minlength=len(uniq)))[at_time > 0]
    return pd.DataFrame({"time": ut, "n_risk": n_risk, "n_event": n_event, "n_censor": censored, "surv": surv})


def weighted_median(time, event, w) -> float:
    """Median of the weighted Kaplan-Meier curve, by R's quantile rule (midpoint on a flat 0.5)."""
    ut, _, _, surv = _km(time, event, w)
    return _median_of_curve(ut, surv)


def weighted_cox_hr(time, event, group, w, max_iter: int = 50) -> float:
    """Hazard ratio of ``group`` 1 against 0 from a Cox model with case weights and Breslow's ties
    (R ``coxph(Surv(time, event) ~ group, weights = w, ties = "breslow")``); NaN when not estimable
    (no events, or one group only, or a group without events: the likelihood has no maximum)."""
    t, e, z, w = (np.asarray(a, float) for a in (time, event, group, w))
    ut, where = np.unique(t, return_inverse=True)
    where = where.ravel()
    dead = w * (e == 1)
    d, dz = np.bincount(where, dead, len(ut)), np.bincount(where, dead * z, len(ut))
    if d.sum() == 0 or dz.sum() in (0, d.sum()) or np.ptp(z[w > 0]) == 0:
        return np.nan
    at0, at1 = np.bincount(where, w * (1 - z), len(ut)), np.bincount(where, w * z, len(ut))
    r0, r1 = np.cumsum(at0[::-1])[::-1], np.cumsum(at1[::-1])[::-1]  # weight at risk in each group
    keep = d > 0  # only event times enter the partial likelihood (someone is at risk at each of them)
    d, dz, r0, r1 = d[keep], dz[keep], r0[keep], r1[keep]
    beta = 0.0
    for _ in range(max_iter):
        p1 = r1 * np.exp(beta) / (r0 + r1 * np.exp(beta))  # share of the risk set's hazard in group 1
        score, info = (dz - d * p1).sum(), (d * p1 * (1 - p1)).sum()
        step = score / info if info > 0 else 0.0
        beta += float(np.clip(step, -5, 5))
        if abs(step) < 1e-10:
            break
    return float(np.exp(beta)) if abs(beta) < 20 else np.nan


def bootstrap_median(ipd: pd.DataFrame, targets: list[Target], time: str, event: str,
                     n_boot: int = 1000, seed: int = 20250, level: float = 0.95,
                     comparator: pd.DataFrame | None = None) -> dict:
    """Weighted median with a percentile bootstrap interval (weights re-estimated in every resample).

    A resample whose weighted median is not reached counts as an infinite median (so an
    upper limit that is not reached stays empty); a resample whose weights cannot reach the
    target at all is left out and counted in ``failed``.

    ``comparator`` (columns ``time, event``: a trial arm's reconstructed or pseudo patients) adds the
    unanchored comparison: the hazard ratio of the reweighted cohort against it (weighted Cox, the
    comparator's patients weighted 1, as ``maicplus::maic_unanchored`` fits it), with an interval
    from a bootstrap that resamples *both* sides (the comparator from its own random stream, so that
    the cohort's resamples are those without it).
    """
    rng = np.random.default_rng(seed)
    w0 = weights(ipd, targets)
    est = weighted_median(ipd[time], ipd[event], w0)
    # the design's distinct rows and the distinct times once; a resample is how many times each
    # patient was drawn, and the weights are fitted on the distinct rows (patients alike in every
    # matched covariate get the same weight), so each resample costs a few O(N) passes (no copy, no sort)
    patterns, pattern = np.unique(design(ipd, targets)[0], axis=0, return_inverse=True)
    ut, where = np.unique(ipd[time].to_numpy(float), return_inverse=True)
    pattern, where = pattern.ravel(), where.ravel()
    dead = (ipd[event].to_numpy(float) == 1).astype(float)
    n, meds, others = len(ipd), [], []
    if comparator is not None:
        c_rng = np.random.default_rng([seed, 1])
        c_time, c_event = comparator["time"].to_numpy(float), comparator["event"].to_numpy(float)
        pooled_t = np.concatenate([ipd[time].to_numpy(float), c_time])
        pooled_e = np.concatenate([ipd[event].to_numpy(float), c_event])
        group = np.concatenate([np.ones(n), np.zeros(len(c_time))])
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        c_counts = (np.bincount(c_rng.integers(0, len(c_time), len(c_time)), minlength=len(c_time)).astype(float)
                    if comparator is not None else None)
        try:
            _, w = fit_weights(patterns, np.bincount(pattern, weights=counts, minlength=len(patterns)))
        except (ValueError, np.linalg.LinAlgError):
            continue
        w = counts * w[pattern]
        w = w / w.sum() * n
        times, _, _, surv = _km_steps(where, ut, dead, w)
        m = _median_of_curve(times, surv)
        meds.append(np.inf if np.isnan(m) else m)
        if comparator is not None:
            others.append(weighted_cox_hr(pooled_t, pooled_e, group, np.concatenate([w, c_counts])))
    out = {"median": est, "lcl": np.nan, "ucl": np.nan, "n_boot": n_boot, "failed": n_boot - len(meds), "seed": seed}
    if meds:
        out["lcl"], out["ucl"] = _percentiles(meds, level)
    if comparator is not None:
        hrs = np.asarray(others, float)
        out.update(hr=weighted_cox_hr(pooled_t, pooled_e, group, np.concatenate([w0, np.ones(len(c_time))])),
                   comparator_median=weighted_median(c_time, c_event, np.ones(len(c_time))),
                   hr_boot_failed=int(n_boot - np.isfinite(hrs).sum()))
        out["hr_lcl"], out["hr_ucl"] = _percentiles(hrs[np.isfinite(hrs)], level)
    return out


def _percentiles(values, level: float) -> tuple[float, float]:
    """Percentile limits; a limit that falls among infinite values (a median not reached) is empty."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.nan, np.nan
    with np.errstate(invalid="ignore"):  # medians not reached are inf: a limit between two of them is not reached
        lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo) if np.isfinite(lo) else np.nan), (float(hi) if np.isfinite(hi) else np.nan)


#: when the comparison reads as informative rather than illustrative: every covariate the target
#: reports and the data hold could be matched (overlap), the weights keep at least half the patients'
#: information (ESS / n; TSD 18 reads a large drop as poor overlap) and every matched covariate is
#: balanced after weighting (|standardised difference| < 0.1, Austin 2009)
INFORMATIVE_ESS_SHARE = 0.5
BALANCED_SMD = 0.1


def wording(fit: dict) -> tuple[str, list[str]]:
    """'informative' or 'illustrative', and the reasons for 'illustrative' (computed, not typed)."""
    why = []
    if fit.get("unmatched"):
        why.append("covariates the target reports could not be matched (" + ", ".join(fit["unmatched"]) + ")")
    if fit["n"] and not fit["reason"] and fit["ess"] / fit["n"] < INFORMATIVE_ESS_SHARE:
        why.append(f"the effective sample size is {fit['ess']:.1f} of {fit['n']} patients")
    bal = fit["balance"]
    if len(bal) and (bal["smd_after"].abs() >= BALANCED_SMD).any():
        why.append("a matched covariate is not balanced after weighting")
    if fit["reason"]:
        why.append(fit["reason"])
    return ("illustrative" if why else "informative"), why


def estimate(ipd: pd.DataFrame, targets: list[Target], time: str, event: str, n_boot: int = 1000,
             seed: int = 20250, comparator: pd.DataFrame | None = None) -> dict:
    """Everything notebook 07 shows of one MAIC: weights, ESS, balance, weighted and plain KM, median,
    the covariates left unmatched (``unmatched``: column -> why), with ``comparator`` the unanchored
    comparison, and ``reason``. Patients lacking a matched covariate, the time or the status are left
    out first; a covariate no reweighting can reach is not matched (and said); without patients,
    without events, or with targets the data cannot reach together, the values are empty and
    ``reason`` says why (never an exception)."""
    columns = list(dict.fromkeys([t.column for t in targets] + [time, event]))
    ipd = ipd.dropna(subset=columns).reset_index(drop=True)
    unmatched = unmatchable(ipd, targets) if len(ipd) else {}
    matched = [t for t in targets if t.column not in unmatched]
    empty_km = pd.DataFrame(columns=["time", "n_risk", "n_event", "n_censor", "surv"], dtype=float)
    out = {"weights": np.array([]), "n": len(ipd), "ess": np.nan, "balance": balance(ipd[:0], [], np.array([])),
           "km_weighted": empty_km, "km_unweighted": empty_km, "median": np.nan, "lcl": np.nan, "ucl": np.nan,
           "n_boot": n_boot, "failed": n_boot, "seed": seed, "unmatched": unmatched, "matched": matched}
    reason = ne.of_counts(len(ipd), int(pd.to_numeric(ipd[event]).sum()) if len(ipd) else 0)
    if not reason and not matched:
        reason = ne.NOTHING_TO_MATCH
    if not reason:
        try:
            w = weights(ipd, matched)
        except np.linalg.LinAlgError:
            reason = ne.SINGULAR
        except ValueError:
            reason = ne.UNREACHABLE
    if reason:
        return {**out, "reason": reason}
    return {**out, "weights": w, "ess": ess(w), "balance": balance(ipd, matched, w),
            "km_weighted": weighted_km(ipd[time], ipd[event], w),
            "km_unweighted": weighted_km(ipd[time], ipd[event], np.ones(len(ipd))),
            **bootstrap_median(ipd, matched, time, event, n_boot=n_boot, seed=seed, comparator=comparator),
            "reason": ne.ESTIMABLE}


def analyse(ipd: pd.DataFrame, targets: list[Target], time: str, event: str, n_boot: int = 1000,
            seed: int = 20250) -> dict:
    """:func:`estimate`, raising ``ValueError`` with the reason when it is not estimable (the form
    notebook 07 caught; new code takes :func:`estimate` and its ``reason``)."""
    out = estimate(ipd, targets, time, event, n_boot=n_boot, seed=seed)
    if out["reason"]:
        raise ValueError(f"MAIC {ne.label(out['reason'])}")
    return out

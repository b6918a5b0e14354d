"""Survival statistics with the numerical conventions of R's ``survival`` package.

Our readers know R ``survival`` (>= 3.x) by heart, so every estimate here follows
its algorithm, not merely its method, and ``tests/test_r_parity.py`` checks the
numbers against R itself:

* Kaplan-Meier: ``survfit(Surv(time, event) ~ 1)`` with Greenwood's variance and
  R's pointwise bands (``conf.type`` "log", R's default, "log-log" or "plain");
  with delayed entry (left truncation) as ``survfit(Surv(entry, time, event) ~ 1)``.
* Medians and their confidence limits: ``quantile.survfit`` (the default rule
  here) or ``print.survfit``/``summary(fit)$table`` (``rule="print"``, which is
  what survminer shows). The two differ only when the curve sits exactly on 0.5
  until the last observation time.
* Log-rank test: ``survdiff`` (rho = 0).
* Cox model: ``coxph`` with Efron ties, the Newton-Raphson iteration of R's C
  routine ``coxfit6`` reproduced step by step (centring and scaling of
  non-0/1 covariates, step-halving, convergence on the relative change of the
  log partial likelihood, ``eps = 1e-9``, at most 20 iterations). Reproducing
  the iteration, not just the estimating equation, is what makes the answer
  agree with R also when a coefficient is infinite (monotone likelihood, common
  with 85 patients and a rare covariate): R then stops at a large, finite
  coefficient and so do we, at the same one.
* Proportional hazards: ``cox.zph`` of survival >= 3.0 (a score test for
  adding ``x * g(t)`` to the model, ``g`` = 1 - left-continuous KM by default)
  and its scaled Schoenfeld residuals.

R also merges times that differ only by floating-point noise before any of
this (``aeqSurv``, the ``timefix`` default); ``_timefix`` does the same.

Speed, as R's C code: every estimator runs once through the time-sorted data
with cumulative sums (:class:`_RiskSets`), O(N log N) for the sort and O(N p^2)
per Newton step for the Cox model, (start, stop] data included (R's ``agfit4``:
add at the stop time, remove at the start time); ``cox_zph`` reuses the same
sums with the transformed time as a weight per death time. Nothing of size
(death times x covariates x covariates) is formed, so memory is O(N p).

Why not lifelines for these (lifelines 0.30; checked, not assumed):
``KaplanMeierFitter`` has only the log-log ("exponential Greenwood") band, so
``median_survival_times(kmf.confidence_interval_)`` gives R's log-log limits,
never R's default log ones (lung: 284-361 against R's 285-363); its median is
the first time S(t) <= 0.5 in floating point, with no midpoint rule (S = 5/6,
4/6, 3/6 at 1, 2, 3, next death at 5: lifelines 5, R 4); ``CoxPHFitter``
maximises the same Efron likelihood with its own step control, so with
separation it stops elsewhere (tests/reference/separation.csv: coefficient
18.1 against R's 22.3); and ``proportional_hazard_test`` is the pre-3.0
cox.zph statistic (lung, sex + age: chi-square 2.44 for sex against R's
2.61). lifelines serves in the tests as an independent check of point
estimates on well-behaved data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from compendium.stats import estimable as ne

#: R's ``sqrt(.Machine$double.eps)``: tolerance of ``aeqSurv`` and of the
#: median rules (``findq``, ``survmean``).
R_TOL = float(np.sqrt(np.finfo(float).eps))
CONF_TYPES = ("log", "log-log", "plain")
FOLLOWUP = "followup"  # pseudo-endpoint: reverse Kaplan-Meier on OS


# --------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------


def _timefix(*times: np.ndarray) -> list[np.ndarray]:
    """R ``aeqSurv``: snap times equal up to rounding noise onto one value.

    Months computed from day counts can differ in the last bits; R treats such
    times as tied, so must we, or ties (and Efron's correction) would differ.
    """
    allt = np.concatenate([np.asarray(t, float) for t in times])
    y = np.unique(allt[np.isfinite(allt)])
    if len(y) < 2:
        return [np.asarray(t, float) for t in times]
    dy = np.diff(y)
    tied = (dy <= R_TOL) | (dy / np.mean(np.abs(y)) <= R_TOL)
    if not tied.any():
        return [np.asarray(t, float) for t in times]
    cuts = y[np.concatenate([[True], ~tied])]
    return [cuts[np.searchsorted(cuts, np.asarray(t, float), side="right") - 1] for t in times]


def _clean(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Drop observations with a missing time or status; event coded 0/1."""
    t = np.asarray(time, float)
    e = pd.to_numeric(pd.Series(np.asarray(event)), errors="coerce").to_numpy(float)
    keep = np.isfinite(t) & np.isfinite(e)
    t, e = t[keep], e[keep]
    if not np.isin(e, (0.0, 1.0)).all():
        raise ValueError("event must be coded 0 (censored) / 1 (event)")
    (t,) = _timefix(t)
    return t, e.astype(int)


def endpoint_columns(endpoint: str) -> tuple[str, str]:
    """Names of the time and status columns of an endpoint in the analysis frame."""
    if endpoint == FOLLOWUP:
        return "os_months", "os_event"
    return f"{endpoint}_months", f"{endpoint}_event"


def _fmt_level(value) -> str:
    """A data value as a label: 1.0 (0/1 flags read with NA become float) -> "1"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------


def _conf_band(surv, std_err, conf_type, conf_level):
    """R ``survfit_confint`` with ``logse=TRUE`` (std_err is the SE of -log S)."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            se2 = std_err * surv * z
            return np.maximum(surv - se2, 0), np.minimum(surv + se2, 1)
        if conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            se2 = z * std_err
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1)
        if conf_type == "log-log":
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            se2 = z * std_err / np.log(xx)
            return np.exp(-np.exp(np.log(-np.log(xx)) - se2)), np.exp(-np.exp(np.log(-np.log(xx)) + se2))
    raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")


def km_table(time, event, conf_type: str = "log", conf_level: float = 0.95) -> pd.DataFrame:
    """The Kaplan-Meier curve at every distinct time, as ``summary(survfit(...), censored=TRUE)``.

    Columns ``time, n_risk, n_event, n_censor, surv, std_err, lower, upper``.
    ``std_err`` is R's ``fit$std.err``: the Greenwood standard error of the
    cumulative hazard, sqrt(sum d / (n (n - d))), infinite once S reaches 0.
    The product and sum are accumulated in R's order (``survfitkm.c``) so that
    an S(t) of exactly 0.5 compares equal to 0.5 as it does in R.
    """
    t, e = _clean(time, event)
    ut, slot, n_total = np.unique(t, return_inverse=True, return_counts=True)
    n_event = np.bincount(slot, weights=e, minlength=len(ut))
    n_total = n_total.astype(float)
    n_risk = np.cumsum(n_total[::-1])[::-1]
    return _km_curve(ut, n_risk, n_event, n_total, conf_type, conf_level)


def _km_curve(ut, n_risk, n_event, n_total, conf_type, conf_level) -> pd.DataFrame:
    """The product-limit estimate, Greenwood SE and bands from the counts at each distinct time."""
    # running product and sum in time order, as survfitkm.c (np.cumprod/np.cumsum are sequential)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n_event > 0, (n_risk - n_event) / n_risk, 1.0))
        var = np.cumsum(np.where(n_event > 0, np.where(n_risk > n_event, n_event / (n_risk * (n_risk - n_event)),
                                                        np.inf), 0.0))
    std_err = np.sqrt(var)
    lower, upper = _conf_band(surv, std_err, conf_type, conf_level)
    return pd.DataFrame({"time": ut, "n_risk": n_risk.astype(int), "n_event": n_event.astype(int),
                         "n_censor": (n_total - n_event).astype(int), "surv": surv,
                         "std_err": std_err, "lower": lower, "upper": upper})


def _clean_entry(entry, time, event) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, time] rows with a time, an entry and a status; entry and time snapped together."""
    t0, t = np.asarray(entry, float), np.asarray(time, float)
    e = pd.to_numeric(pd.Series(np.asarray(event)), errors="coerce").to_numpy(float)
    keep = np.isfinite(t0) & np.isfinite(t) & np.isfinite(e)
    t0, t, e = t0[keep], t[keep], e[keep]
    if not np.isin(e, (0.0, 1.0)).all():
        raise ValueError("event must be coded 0 (censored) / 1 (event)")
    t0, t = _timefix(t0, t)
    bad = np.flatnonzero(t0 >= t)
    if len(bad):
        raise ValueError(f"entry must be before the time; {len(bad)} row(s) are not, the first "
                         f"(row {np.flatnonzero(keep)[bad[0]]}) enters at {t0[bad[0]]} and ends at {t[bad[0]]}")
    return t0, t, e.astype(int)


def km_table_entry(entry, time, event, conf_type: str = "log", conf_level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier with delayed entry (left truncation), as ``survfit(Surv(entry, time, event) ~ 1)``.

    A patient is at risk at u when entry < u <= time, so one referred late counts only from
    referral on; otherwise as :func:`km_table` (its columns, at every distinct ``time``, as R).
    """
    t0, t, e = _clean_entry(entry, time, event)
    ut, slot, n_total = np.unique(t, return_inverse=True, return_counts=True)
    n_event = np.bincount(slot, weights=e, minlength=len(ut))
    # at risk: stopped at or after u, less those who entered at or after u
    n_risk = (len(t) - np.searchsorted(np.sort(t), ut, side="left")) - \
        (len(t0) - np.searchsorted(np.sort(t0), ut, side="left"))
    return _km_curve(ut, n_risk.astype(float), n_event, n_total.astype(float), conf_type, conf_level)


def km_median_entry(entry, time, event, conf_type: str = "log", conf_level: float = 0.95,
                    rule: str = "quantile") -> dict:
    """Median survival with delayed entry, by R's rules (see :func:`km_median`); ``n`` counts records."""
    t0, t, e = _clean_entry(entry, time, event)
    if len(t) == 0:
        return {"n": 0, "events": 0, "median": np.nan, "lcl": np.nan, "ucl": np.nan, "conf_type": conf_type}
    med, lcl, ucl = _median_from_table(km_table_entry(t0, t, e, conf_type, conf_level), rule)
    return {"n": int(len(t)), "events": int(e.sum()), "median": med, "lcl": lcl, "ucl": ucl,
            "conf_type": conf_type}


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float = R_TOL) -> float:
    """R ``survival:::findq``: first x where the cumulative failure y reaches p.

    y = 1 - S (with y = 0 at the start, x = 0). When y equals p within ``tol``
    over an interval, the answer is the midpoint of that interval; when that
    interval is the last one it ends at the last observation time.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # duplicated(y), with NA equal to NA: keep the first time each value is reached
    keep = ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    idx = np.arange(len(y))
    ok = ~np.isnan(y)

    def right_index(shift: float) -> float:
        """approx(y + shift, index, p, method="constant", f=1) of R."""
        xs, order = y[ok] + shift, np.argsort(y[ok] + shift, kind="stable")
        xs, ids = xs[order], idx[ok][order]
        if p < xs[0] or p > xs[-1]:
            return np.nan
        return ids[np.searchsorted(xs, p, side="left")]

    i1, i2 = right_index(tol), right_index(-tol)
    quant = np.nan if np.isnan(i1) or np.isnan(i2) else (x[int(i1)] + x[int(i2)]) / 2
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = (x[int(i1)] + xmax) / 2
    return float(quant)


def _minmin(s: np.ndarray, x: np.ndarray, tol: float = R_TOL) -> float:
    """The median rule of R ``print.survfit`` (``survmean``'s ``minmin``)."""
    keep = ~np.isnan(s) & (s < 0.5 + tol)
    if not keep.any():
        return np.nan
    x, s = x[keep], s[keep]
    if abs(s[0] - 0.5) < tol and (s < s[0]).any():
        return float((x[0] + x[np.argmax(s < s[0])]) / 2)
    return float(x[0])


def _median_from_table(km: pd.DataFrame, rule: str) -> tuple[float, float, float]:
    time = km["time"].to_numpy()
    if rule == "quantile":
        x = np.concatenate([[0.0], time])  # R: start.time, else 0
        q = [_findq(x, np.concatenate([[0.0], 1 - km[c].to_numpy()]), 0.5) for c in ("surv", "lower", "upper")]
    elif rule == "print":
        q = [_minmin(km[c].to_numpy(), time) for c in ("surv", "lower", "upper")]
    else:
        raise ValueError("rule must be 'quantile' or 'print'")
    return q[0], q[1], q[2]


def km_median(time, event, conf_type: str = "log", conf_level: float = 0.95, rule: str = "quantile") -> dict:
    """Median survival with its confidence limits, as R reports them.

    Returns ``{n, events, median, lcl, ucl, conf_type, reason}``. The median is the
    first time S(t) <= 0.5; if S(t) is exactly 0.5 (within 1.5e-8) over an
    interval, it is the midpoint of that interval. The lower limit is where
    the *lower* pointwise band reaches 0.5, the upper limit where the *upper*
    band does, by the same rule; a limit (or the median) that is never
    reached is NaN, never a number, and its ``reason`` is empty (not reached is
    a result). ``reason`` is non-empty only without any patient. This is
    ``quantile(survfit(...), 0.5)`` (``rule="quantile"``), equal to
    ``print(survfit(...))`` (``rule="print"``) except when S(t) stays at exactly
    0.5 to the last observation: quantile then takes the midpoint up to the last
    time, print the first time.

    lifelines differs: its median confidence interval can only use the
    log-log band, and it takes no midpoints (see the module docstring).
    """
    n_raw = len(np.asarray(time))
    t, e = _clean(time, event)
    if len(t) == 0:
        return {"n": 0, "events": 0, "median": np.nan, "lcl": np.nan, "ucl": np.nan, "conf_type": conf_type,
                "reason": ne.of_counts(0, n_raw=n_raw)}
    med, lcl, ucl = _median_from_table(km_table(t, e, conf_type, conf_level), rule)
    return {"n": int(len(t)), "events": int(e.sum()), "median": med, "lcl": lcl, "ucl": ucl,
            "conf_type": conf_type, "reason": ne.ESTIMABLE}


def followup_reverse_km(time, event, conf_type: str = "log", conf_level: float = 0.95,
                        rule: str = "quantile") -> dict:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith).

    The KM of the censoring distribution: ``survfit(Surv(time, 1 - event) ~ 1)``,
    so a death ends follow-up information rather than counting as follow-up.
    ``events`` in the result counts the censored observations (the "events" of
    the reverse curve).
    """
    t, e = _clean(time, event)
    return km_median(t, 1 - e, conf_type, conf_level, rule)


def group_levels(values: pd.Series) -> list:
    """The levels of a grouping column, sorted; a 0/1 flag has both levels even where the data
    hold one only (nobody reaching >=VGPR is a group of nobody, reported, not left out)."""
    present = values.dropna().unique()
    if pd.api.types.is_numeric_dtype(values) and len(present) and np.isin(present, (0, 1)).all():
        return [0, 1]
    return sorted(present)


def km_summary(df: pd.DataFrame, endpoint: str, group: str | None = None,
               conf_types=("log", "log-log"), conf_level: float = 0.95) -> pd.DataFrame:
    """Medians of one endpoint, overall or by group: rows of ``results/survival_km.csv``.

    Reads ``{endpoint}_months`` and ``{endpoint}_event``; ``endpoint="followup"``
    is the reverse KM on OS. One row per conf_type, and per level of ``group``
    if given (:func:`group_levels`); the output's ``group`` column says ``"all"``
    or ``"column=value"`` (rows missing the grouping value are left out). Columns:
    ``endpoint, group, n, events, median, lcl, ucl, conf_type, reason``.
    """
    tcol, ecol = endpoint_columns(endpoint)
    estimator = followup_reverse_km if endpoint == FOLLOWUP else km_median
    if group is None:
        subsets = [("all", df)]
    else:
        g = df[group]
        subsets = [(f"{group}={_fmt_level(v)}", df[(g == v).fillna(False).to_numpy(bool)]) for v in group_levels(g)]
    rows = [{"endpoint": endpoint, "group": label, **estimator(sub[tcol], sub[ecol], ct, conf_level)}
            for label, sub in subsets for ct in conf_types]
    cols = ["endpoint", "group", "n", "events", "median", "lcl", "ucl", "conf_type", "reason"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------
# Log-rank test
# --------------------------------------------------------------------------


def logrank_test(df: pd.DataFrame, endpoint: str, group: str) -> dict:
    """Log-rank test of ``group`` on ``endpoint``, as R ``survdiff`` (rho = 0).

    Returns ``{endpoint, group, n, chisq, df, p, reason}``. The statistic is
    (O - E)' V^-1 (O - E) with the hypergeometric variance, over the groups
    with a positive expected count less one. Without two such groups there is
    nothing to compare: the statistic is empty and ``reason`` says why.
    """
    tcol, ecol = endpoint_columns(endpoint)
    data = df[[tcol, ecol, group]].dropna()
    t, e = _clean(data[tcol], data[ecol])
    out = {"endpoint": endpoint, "group": group, "n": int(len(t)), "chisq": np.nan, "df": 0, "p": np.nan}
    levels = sorted(data[group].unique())
    k = len(levels)
    reason = ne.first(ne.of_counts(len(t), int(e.sum()), len(df)), ne.ONE_LEVEL if k < 2 else "")
    if reason:
        return {**out, "reason": reason}
    g = np.searchsorted(levels, data[group].to_numpy())
    # every death time at once: at risk (t >= u) and deaths per group, from sorted times
    times = np.unique(t[e == 1])
    slot = np.searchsorted(times, t)
    dead = (e == 1)
    nk = np.column_stack([len(t[g == j]) - np.searchsorted(np.sort(t[g == j]), times) for j in range(k)]).astype(float)
    dk = np.column_stack([np.bincount(slot[dead & (g == j)], minlength=len(times)) for j in range(k)]).astype(float)
    n, d = nk.sum(axis=1), dk.sum(axis=1)
    expected = (d[:, None] * nk / n[:, None]).sum(axis=0)
    o_minus_e = dk.sum(axis=0) - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
    var = np.diag((w * n) @ nk) - (nk * w[:, None]).T @ nk
    use = np.flatnonzero(expected > 0)[1:]
    if len(use) == 0:  # one group alone at risk at every death time
        return {**out, "reason": ne.NO_ONE_AT_RISK}
    try:
        chisq = float(o_minus_e[use] @ np.linalg.solve(var[np.ix_(use, use)], o_minus_e[use]))
    except np.linalg.LinAlgError:
        return {**out, "reason": ne.SINGULAR_COVARIANCE}
    if not np.isfinite(chisq):
        return {**out, "reason": ne.SINGULAR_COVARIANCE}
    dof = len(use)
    return {**out, "chisq": chisq, "df": dof, "p": float(stats.chi2.sf(chisq, dof)), "reason": ne.ESTIMABLE}


# --------------------------------------------------------------------------
# Cox model: R's coxfit6, step by step
# --------------------------------------------------------------------------


def _cholesky2(m: np.ndarray, toler: float) -> tuple[np.ndarray, int]:
    """R ``cholesky2``: LDL' in place; redundant columns get a zero pivot."""
    m = m.copy()
    n = m.shape[0]
    eps = max([m[i, i] for i in range(n) if m[i, i] > 0], default=0.0)
    if eps == 0:
        return m * 0, 0
    eps *= toler
    rank, nonneg = 0, 1
    for i in range(n):
        pivot = m[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            m[i, i] = 0
            if pivot < -8 * eps:
                nonneg = -1
        else:
            rank += 1
            for j in range(i + 1, n):
                temp = m[j, i] / pivot
                m[j, i] = temp
                m[j, j] -= temp * temp * pivot
                for k in range(j + 1, n):
                    m[k, j] -= temp * m[k, i]
    return m, rank * nonneg


def _chsolve2(ch: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R ``chsolve2``: solve with the LDL' factor; zero pivots give 0."""
    y = y.astype(float).copy()
    n = len(y)
    for i in range(n):
        y[i] -= sum(y[j] * ch[i, j] for j in range(i))
    for i in range(n - 1, -1, -1):
        if ch[i, i] == 0:
            y[i] = 0
        else:
            y[i] = y[i] / ch[i, i] - sum(y[j] * ch[j, i] for j in range(i + 1, n))
    return y


def _chinv2(ch: np.ndarray) -> np.ndarray:
    """R ``chinv2``: inverse from the LDL' factor (a generalised inverse when singular)."""
    m = ch.copy()
    n = m.shape[0]
    for i in range(n):
        if m[i, i] > 0:
            m[i, i] = 1 / m[i, i]
            for j in range(i + 1, n):
                m[j, i] = -m[j, i]
                for k in range(i):
                    m[j, k] += m[j, i] * m[i, k]
    for i in range(n):
        if m[i, i] == 0:
            m[:i, i] = 0
            m[i, i:] = 0
        else:
            for j in range(i + 1, n):
                temp = m[j, i] * m[j, j]
                m[i, j] = temp
                for k in range(i, j):
                    m[i, k] += temp * m[j, k]
    upper = np.triu(m)
    return upper + np.triu(m, 1).T


def _death_times(stop, event):
    return np.unique(stop[event == 1])


def _bincount(index: np.ndarray, values: np.ndarray, length: int) -> np.ndarray:
    """np.bincount with weights, for a vector or column by column for a matrix."""
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=length)
    out = np.empty((length, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(index, weights=values[:, j], minlength=length)
    return out


class _RiskSets:
    """Who is at risk at each death time, from the data alone (no beta).

    Row i is at risk at death time t_k when start_i < t_k <= stop_i (start = -inf
    without (start, stop] data), that is for k in [enter[i], leave[i]) over the sorted
    death times: two binary searches per row, O(N log K). Sums over risk sets are then
    bincounts of per-row values at ``leave`` accumulated from the last death time
    backwards, minus the same at ``enter`` for (start, stop] data: the add-at-stop,
    remove-at-start running sums of R's ``agfit4``, and plain backward sums (no
    subtraction) as R's ``coxfit6`` for right-censored data.
    """

    def __init__(self, start, stop, event):
        self.times = _death_times(stop, event)
        self.k = len(self.times)
        # sorted queries: binary searches over the distinct stop times, then a gather
        ustop, inverse = np.unique(stop, return_inverse=True)
        self.leave = np.searchsorted(self.times, ustop, side="right")[inverse]
        self.enter = None if start is None else np.searchsorted(self.times, start, side="right")
        self.dead = np.flatnonzero(event == 1)
        self.dead_k = self.leave[self.dead] - 1
        self.d = np.bincount(self.dead_k, minlength=self.k)
        # one term per death: its death time, and k/d for the k-th of d tied deaths (Efron)
        self.slot = np.repeat(np.arange(self.k), self.d)
        self.tie_frac = (np.arange(len(self.slot)) - np.repeat(np.cumsum(self.d) - self.d, self.d)) / self.d[self.slot]

    def risk_sum(self, values: np.ndarray) -> np.ndarray:
        """sum of ``values`` (rows, or rows x columns) over the risk set of each death time."""
        out = self._backward(self.leave, values)
        if self.enter is not None:
            out = out - self._backward(self.enter, values)
        return out

    def _backward(self, index, values):
        """S[k] = sum of values of rows with index > k, k = 0..K-1."""
        per = _bincount(index, values, self.k + 1)
        return np.cumsum(per[::-1], axis=0)[::-1][1:]

    def death_sum(self, values: np.ndarray) -> np.ndarray:
        """sum of ``values`` over the rows dying at each death time."""
        return _bincount(self.dead_k, values[self.dead], self.k)

    def at_risk_weight(self, per_time: np.ndarray) -> np.ndarray:
        """For each row, the sum of ``per_time`` over the death times at which it is at risk."""
        cum = np.concatenate([[0.0], np.cumsum(per_time)])
        out = cum[self.leave]
        return out if self.enter is None else out - cum[self.enter]


@dataclass
class _CoxTerms:
    """The partial likelihood at one beta, summarised per death time.

    With d tied deaths at a death time, Efron's k-th term (k = 0..d-1) has the
    denominator den_k = S0 - f_k D0 and the mean (S1 - f_k D1) / den_k, f_k = k/d
    (Breslow: f = 0); S are sums over the risk set, D over the dying. Only sums
    over k of 1/den, f/den, 1/den^2, f/den^2 and f^2/den^2 are needed, so nothing of
    size (deaths x covariates) is formed.
    """

    loglik: float
    score: np.ndarray
    s1: np.ndarray  # death times x covariates
    d1: np.ndarray
    inv: np.ndarray  # sum_k 1/den_k
    frac: np.ndarray  # sum_k f_k/den_k
    inv2: np.ndarray  # sum_k 1/den_k^2
    frac2: np.ndarray  # sum_k f_k/den_k^2
    fracsq2: np.ndarray  # sum_k f_k^2/den_k^2

    def mean_sum(self) -> np.ndarray:
        """sum over each death time's terms of the weighted mean of x."""
        return self.s1 * self.inv[:, None] - self.d1 * self.frac[:, None]


def _cox_terms(beta, x, rs: _RiskSets, method) -> tuple[_CoxTerms, np.ndarray]:
    """One pass: risk-set sums at every death time, then the Efron (or Breslow) terms.

    Returns the terms and the risk scores r = exp(x beta).
    """
    eta = x @ beta if x.shape[1] > 2 else (x * beta).sum(axis=1)  # see _gram
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = np.exp(eta)
        xr = x * r[:, None]
        s0, s1 = rs.risk_sum(r), rs.risk_sum(xr)
        d0, d1 = rs.death_sum(r), rs.death_sum(xr)
        slot = rs.slot
        f = rs.tie_frac if method == "efron" else np.zeros(len(slot))
        den = s0[slot] - f * d0[slot]
        per_time = [np.bincount(slot, weights=w, minlength=rs.k)
                    for w in (1 / den, f / den, 1 / den**2, f / den**2, f * f / den**2)]
        terms = _CoxTerms(float(eta[rs.dead].sum() - np.log(den).sum()), np.zeros(x.shape[1]), s1, d1, *per_time)
        terms.score = x[rs.dead].sum(axis=0) - terms.mean_sum().sum(axis=0)
    return terms, r


def _cox_information(x, r, rs: _RiskSets, terms: _CoxTerms, weight=None) -> np.ndarray:
    """sum over death times of weight * information, in O(N p^2).

    The information at a death time is sum_k [(S2 - f_k D2) / den_k - m_k m_k'],
    with S2 the risk set's sum of r x x'. Summed over death times, S2's part is
    sum_i r_i x_i x_i' * (sum of weight/den over the death times at which i is at
    risk), so no p x p matrix per death time is formed; sum_k m_k m_k' expands
    into S1 S1', S1 D1' and D1 D1' with scalar weights.
    """
    w = np.ones(rs.k) if weight is None else weight
    s1, d1 = terms.s1, terms.d1
    with np.errstate(over="ignore", invalid="ignore"):
        row_w = r * rs.at_risk_weight(w * terms.inv)
        xd = x[rs.dead]
        dead_w = r[rs.dead] * (w * terms.frac)[rs.dead_k]
        cross = (s1 * (w * terms.frac2)[:, None]).T @ d1
        means = ((s1 * (w * terms.inv2)[:, None]).T @ s1 - cross - cross.T
                 + (d1 * (w * terms.fracsq2)[:, None]).T @ d1)
        return _gram(x * row_w[:, None], x) - _gram(xd * dead_w[:, None], xd) - means


def _gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a' b for tall a and b. With one or two columns BLAS takes its threaded dot-product path,
    which stalls on a busy machine (40 ms against 0.1 ms at 100,000 rows): einsum there."""
    return np.einsum("ij,ik->jk", a, b) if a.shape[1] <= 2 else a.T @ b


def _coxph_derivs(beta, x, start, stop, event, method, rs: _RiskSets | None = None):
    """Log partial likelihood, score and information at beta (``coxfit6_iter``)."""
    rs = _RiskSets(start, stop, event) if rs is None else rs
    terms, r = _cox_terms(beta, x, rs, method)
    return terms.loglik, terms.score, _cox_information(x, r, rs, terms)


@dataclass
class CoxFit:
    """A fitted Cox model (the parts of R's ``coxph`` object we use).

    ``columns`` describes each coefficient as ``(covariate, level, reference)``;
    ``coef`` is NaN for a column R would drop as singular. ``reasons`` says per
    coefficient why it is not estimable ("" where it is), ``reason`` why the
    model as a whole is not (it could not be fitted, or R keeps none of its coefficients).
    """

    endpoint: str
    columns: list[tuple[str, str, str]]
    coef: np.ndarray
    var: np.ndarray
    loglik: tuple[float, float]  # at beta = 0 and at the estimate
    score: float  # score (log-rank) test statistic at beta = 0
    iterations: int
    converged: bool
    x: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    event: np.ndarray = field(repr=False)
    start: np.ndarray | None = field(default=None, repr=False)
    method: str = "efron"
    reasons: list[str] = field(default_factory=list)
    reason: str = ""

    def __post_init__(self):
        if not self.reasons:
            self.reasons = [self.reason] * len(self.columns)

    @property
    def n(self) -> int:
        return len(self.time)

    @property
    def events(self) -> int:
        return int(self.event.sum())

    @property
    def terms(self) -> dict[str, list[int]]:
        """Columns of each covariate (a categorical covariate has several)."""
        out: dict[str, list[int]] = {}
        for j, (cov, _, _) in enumerate(self.columns):
            out.setdefault(cov, []).append(j)
        return out

    def table(self, conf_level: float = 0.95, blank: bool = False) -> pd.DataFrame:
        """Hazard ratios with Wald CI and Wald p per coefficient, as ``summary(coxph)``, and ``reason``.

        By default R's numbers as R prints them, also for a coefficient R warns "may be infinite"
        (so that they can be checked against R); ``blank=True`` empties the estimates of every row
        that is not estimable, as the result files show them.
        """
        z = stats.norm.ppf(1 - (1 - conf_level) / 2)
        se = np.sqrt(np.diag(self.var))
        se = np.where(np.isnan(self.coef), np.nan, se)
        keep = np.array([not r for r in self.reasons], bool) if blank else np.ones(len(self.columns), bool)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            p = stats.chi2.sf((self.coef / se) ** 2, 1)
            values = {"hr": np.exp(self.coef), "lcl": np.exp(self.coef - z * se), "ucl": np.exp(self.coef + z * se),
                      "p": p}
        return pd.DataFrame({"endpoint": self.endpoint, "covariate": [c[0] for c in self.columns],
                             "level": [c[1] for c in self.columns], "reference": [c[2] for c in self.columns],
                             **{k: np.where(keep, v, np.nan) for k, v in values.items()},
                             "n": self.n, "events": self.events, "reason": list(self.reasons)},
                            columns=["endpoint", "covariate", "level", "reference", "hr", "lcl", "ucl", "p", "n",
                                     "events", "reason"])


def _coxfit6(x, start, stop, event, method="efron", max_iter=20, eps=1e-9,
             toler_chol=np.finfo(float).eps ** 0.75):
    """Newton-Raphson exactly as R's ``coxfit6`` (survival 3.x).

    Covariates that are not all in {-1, 0, 1} are centred and scaled by their
    mean absolute deviation (R's ``nocenter``); the iteration starts at 0,
    halves the step when the log-likelihood drops, and stops when
    |1 - loglik_old / loglik_new| <= eps. Returns coef, var, loglik pair,
    score test, iterations, converged, rank flag, and the score at the estimate (unscaled, R's
    ``coxfit$u``, from which coxph judges a coefficient "may be infinite").
    """
    nvar = x.shape[1]
    doscale = ~np.all((x == 0) | (x == 1) | (x == -1), axis=0)
    means = np.where(doscale, x.mean(axis=0), 0.0)
    xs = x - means
    mad = np.abs(xs).mean(axis=0)
    scale = np.where(doscale & (mad > 0), 1 / np.where(mad > 0, mad, 1), 1.0)
    xs = xs * scale

    risk_sets = _RiskSets(start, stop, event)

    def derivs(b):
        return _coxph_derivs(b, xs, start, stop, event, method, risk_sets)

    def unscale(b, imat_ch):
        var = _chinv2(imat_ch) * np.outer(scale, scale)
        return b * scale, var

    beta = np.zeros(nvar)
    loglik0, u, imat = derivs(beta)
    ch, flag = _cholesky2(imat, toler_chol)
    step = _chsolve2(ch, u)
    score = float(u @ step)
    best = loglik0
    newbeta = beta + step
    halving = 0
    for it in range(1, max_iter + 1):
        newlk, u, imat = derivs(newbeta)
        ch, flag = _cholesky2(imat, toler_chol)
        finite = np.isfinite(u).all() and np.isfinite(imat).all() and np.isfinite(newlk)
        with np.errstate(divide="ignore", invalid="ignore"):
            done = finite and abs(1 - np.float64(best) / newlk) <= eps  # C arithmetic: 0 / 0 is NaN, not an error
        if done:
            coef, var = unscale(newbeta, ch)
            return coef, var, (loglik0, newlk), score, it, True, flag, u / scale
        if not finite or newlk < best:
            halving += 1
            newbeta = (newbeta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = newlk
            step = _chsolve2(ch, u)
            beta, newbeta = newbeta, newbeta + step
    lk, u, imat = derivs(beta)
    ch, flag = _cholesky2(imat, toler_chol)
    coef, var = unscale(beta, ch)
    return coef, var, (loglik0, lk), score, max_iter, False, 1000, u / scale


#: R's ``coxph.control()`` defaults: ``eps`` and ``toler.inf = sqrt(eps)``, with which ``coxph.fit``
#: warns "Loglik converged before variable ...; beta may be infinite" (survival 3.x, R/coxph.fit.R).
COX_EPS = 1e-9
TOLER_INF = float(np.sqrt(COX_EPS))
#: A Wald interval wider than this on the log scale (z = 4, beyond any confidence level we print)
#: overflows exp(): the information behind it is zero but for rounding.
WALD_SPAN, EXP_MAX = 4.0, float(np.log(np.finfo(float).max))


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype)


def _present(values: pd.Series) -> np.ndarray:
    """The non-missing values of a numeric column, as floats (nullable integers included)."""
    x = values.to_numpy(dtype=float, na_value=np.nan)
    return x[~np.isnan(x)]


def design_columns(whole: pd.DataFrame, covariates, references: dict) -> tuple[list[tuple[str, str, str]], str]:
    """(covariate, level, reference) of every coefficient, from the whole columns (as R's factor
    levels come from the whole data frame, not from the complete cases), and why the model cannot
    be fitted at all ("" if it can).

    * text/categorical columns: one 0/1 column per level other than the
      reference (given, or the first level in sorted order), as R's treatment
      contrasts of ``relevel(factor(x), ref)``;
    * numeric columns holding only 0 and 1: the flag itself, level "1" against
      reference "0" (the hazard ratio of presence); a reference of 1 flips it;
    * other numeric columns: continuous, level "per unit", reference "".

    A covariate with one level only keeps a row (level "") so that the results say so.
    """
    names, reason = [], ne.ESTIMABLE
    for cov in covariates:
        v = whole[cov]
        ref = references.get(cov)
        numeric = _numeric(v)
        present = _present(v) if numeric else v.dropna()
        if len(present) == 0:
            names.append((cov, "", "" if ref is None else _fmt_level(ref)))
            reason = ne.first(reason, ne.ALL_MISSING)
        elif not numeric:
            levels = sorted({_fmt_level(u) for u in pd.unique(present)})
            ref = levels[0] if ref is None else str(ref)
            if ref not in levels:
                reason = ne.first(reason, ne.REFERENCE_ABSENT)
            others = [lev for lev in levels if lev != ref]
            names += [(cov, lev, ref) for lev in others] or [(cov, "", ref)]
        elif np.isin(present, (0.0, 1.0)).all():
            flip = ref is not None and _fmt_level(ref) == "1"
            if ref is not None and _fmt_level(ref) not in ("0", "1"):
                reason = ne.first(reason, ne.REFERENCE_ABSENT)
            names.append((cov, "0", "1") if flip else (cov, "1", "0"))
        else:
            names.append((cov, "per unit", ""))
    return names, reason


def _design_matrix(data: pd.DataFrame, names: list[tuple[str, str, str]]) -> np.ndarray:
    """The design matrix of ``names`` on the complete cases; a placeholder (level "") is a column of
    zeros, which the fit drops as R drops an empty factor level (coefficient NA)."""
    cols = []
    labels: dict[str, np.ndarray] = {}
    for cov, level, ref in names:
        v = data[cov]
        if level == "":
            cols.append(np.zeros(len(data)))
        elif level == "per unit":
            cols.append(v.to_numpy(float))
        elif (level, ref) in (("1", "0"), ("0", "1")) and _numeric(v):
            x = v.to_numpy(float)
            cols.append(1 - x if level == "0" else x)
        else:
            if cov not in labels:  # label each distinct value once, not each row
                codes, uniques = pd.factorize(v)
                labels[cov] = np.array([_fmt_level(u) for u in uniques], dtype=object)[codes] if len(v) \
                    else np.array([], dtype=object)
            cols.append((labels[cov] == level).astype(float))
    return np.column_stack(cols) if cols else np.empty((len(data), 0))


def _coefficient_reasons(x: np.ndarray, coef: np.ndarray, var: np.ndarray, u: np.ndarray, converged: bool,
                         names) -> list[str]:
    """Why each coefficient is not estimable, in R's terms: dropped as redundant (NA), or one whose
    log-likelihood converged before it did (``coxph.fit``'s "beta may be infinite": a level without
    events, a covariate separating events from non-events), or a fit that ran out of iterations."""
    with np.errstate(invalid="ignore"):
        infs = np.abs(np.nan_to_num(u) @ np.nan_to_num(var))
        infinite = (infs > COX_EPS) & (infs > TOLER_INF * np.abs(coef))
    out = []
    for j, (_, level, _) in enumerate(names):
        if np.isnan(coef[j]) and level not in ("", "0", "1", "per unit") and not x[:, j].any():
            out.append(ne.NO_PATIENTS)  # a level of a factor that no complete case has
        elif level == "" or (np.isnan(coef[j]) and np.ptp(x[:, j]) == 0):
            out.append(ne.ONE_LEVEL)
        elif np.isnan(coef[j]):
            out.append(ne.SINGULAR)
        elif not converged:
            out.append(ne.NOT_CONVERGED)
        elif infinite[j]:
            out.append(ne.MONOTONE)
        elif not np.abs(coef[j]) + WALD_SPAN * np.sqrt(max(var[j, j], 0.0)) < EXP_MAX:
            # an information that is zero but for rounding (R: coef 0, HR 1, 95% CI 0-Inf)
            out.append(ne.SINGULAR)
        else:
            out.append(ne.ESTIMABLE)
    return out


def cox_fit(df: pd.DataFrame, endpoint: str, covariates, references: dict | None = None,
            ties: str = "efron", start: str | None = None) -> CoxFit:
    """Fit ``coxph(Surv(time, event) ~ covariates, ties=ties)`` on complete cases.

    Rows missing the time, the status or any covariate are dropped (R's
    ``na.omit``); ``fit.n`` and ``fit.events`` count what was used. With
    ``start`` (a column name) the data are (start, stop] intervals, as
    ``Surv(start, stop, event)``; then ``endpoint`` names the stop/event columns.

    Data that cannot give a model (no patients, no events, a covariate never
    recorded, a reference level the data lack) give a fit whose ``reason``
    says so and whose coefficients are NaN, never an exception; within a
    fitted model, ``reasons`` says which coefficients are not estimable
    (:func:`_coefficient_reasons`) while ``coef`` keeps R's numbers.
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    tcol, ecol = endpoint_columns(endpoint)
    use = [tcol, ecol] + ([start] if start else []) + covariates
    names, reason = design_columns(df, covariates, references or {})
    data = df[use].dropna().reset_index(drop=True)
    x = _design_matrix(data, names)
    event = data[ecol].to_numpy(float).astype(int)
    if start:
        t0, t1 = _timefix(data[start].to_numpy(float), data[tcol].to_numpy(float))
    else:
        t0, (t1,) = None, _timefix(data[tcol].to_numpy(float))
    reason = ne.first(ne.NO_PATIENTS if len(df) == 0 else "",
                      ne.ALL_MISSING if len(data) == 0 and (df[tcol].isna().all() or df[ecol].isna().all()) else "",
                      reason, ne.of_counts(len(data), int(event.sum()), len(df)))
    p = len(names)
    if reason:
        return CoxFit(endpoint, names, np.full(p, np.nan), np.full((p, p), np.nan), (np.nan, np.nan), np.nan,
                      0, False, x, t1, event, t0, ties, reasons=[reason] * p, reason=reason)
    coef, var, loglik, score, it, conv, flag, u = _coxfit6(x, t0, t1, event, ties)
    if flag < x.shape[1]:  # R: the coefficient of a redundant column is NA
        coef = np.where(np.diag(var) == 0, np.nan, coef)
    reasons = _coefficient_reasons(x, coef, var, u, conv, names)
    # a model is not estimable as a whole when R keeps none of its coefficients; with a coefficient
    # that "may be infinite" its likelihood, global tests and cox.zph are still R's (and finite)
    whole = ne.first(*reasons) if np.isnan(coef).all() else ne.ESTIMABLE
    return CoxFit(endpoint, names, coef, var, loglik, score, it, conv, x, t1, event, t0, ties,
                  reasons=reasons, reason=whole)


COX_COLUMNS = ["endpoint", "covariate", "level", "reference", "hr", "lcl", "ucl", "p", "n", "events", "reason"]


def cox_univariate(df: pd.DataFrame, endpoint: str, covariate: str, reference=None) -> pd.DataFrame:
    """One covariate's Cox hazard ratio(s): rows of ``results/cox_univariate.csv``.

    Columns ``endpoint, covariate, level, reference, hr, lcl, ucl, p, n, events, reason``
    (Wald 95% CI and Wald p, as ``summary(coxph)``); one row per non-reference
    level of a categorical covariate. A row that is not estimable has empty
    estimates and its reason (a level without events: R's huge hazard ratio is
    not reported).
    """
    refs = {} if reference is None else {covariate: reference}
    return cox_fit(df, endpoint, [covariate], refs).table(blank=True)[COX_COLUMNS]


def cox_multivariable(df: pd.DataFrame, endpoint: str, covariates, model_name: str,
                      references: dict | None = None) -> pd.DataFrame:
    """A multivariable Cox model: rows of ``results/cox_multivariable.csv``.

    Columns ``endpoint, model, covariate, level, reference, hr, lcl, ucl, p, n,
    events, reason``; complete cases over all covariates, so n may be below the cohort.
    """
    out = cox_fit(df, endpoint, covariates, references).table(blank=True)[COX_COLUMNS]
    out.insert(1, "model", model_name)
    return out


def cox_global_tests(fit: CoxFit) -> dict:
    """The three global tests printed by ``summary(coxph)``: LR, Wald, score (and ``reason``).

    Over the coefficients R keeps (not NA); a model with none, or one that could not be fitted,
    has empty tests and its reason.
    """
    ok = ~np.isnan(fit.coef)
    k = int(ok.sum())
    out = {"endpoint": fit.endpoint, "n": fit.n, "events": fit.events, "df": k,
           "loglik_null": fit.loglik[0], "loglik": fit.loglik[1],
           "lr_chisq": np.nan, "lr_p": np.nan, "wald_chisq": np.nan, "wald_p": np.nan,
           "score_chisq": np.nan, "score_p": np.nan, "iterations": fit.iterations, "converged": fit.converged}
    reason = ne.first(fit.reason, ne.first(*fit.reasons) if k == 0 else "")
    if reason:
        return {**out, "reason": reason}
    b, v = fit.coef[ok], fit.var[np.ix_(ok, ok)]
    try:
        wald = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        wald = np.nan
    lr = 2 * (fit.loglik[1] - fit.loglik[0])
    return {**out, "lr_chisq": lr, "lr_p": float(stats.chi2.sf(lr, k)),
            "wald_chisq": wald, "wald_p": float(stats.chi2.sf(wald, k)),
            "score_chisq": fit.score, "score_p": float(stats.chi2.sf(fit.score, k)), "reason": ne.ESTIMABLE}


# --------------------------------------------------------------------------
# Proportional hazards: cox.zph (survival >= 3.0)
# --------------------------------------------------------------------------


def _zph_time(fit: CoxFit, transform: str) -> np.ndarray:
    t = fit.time
    if transform == "identity":
        return t.copy()
    if transform == "log":
        return np.log(t)
    if transform == "rank":
        return stats.rankdata(t)
    if transform == "km":  # 1 - left-continuous KM of the fitted data
        if fit.start is None:
            km = km_table(t, fit.event)
            times, surv = km["time"].to_numpy(), km["surv"].to_numpy()
        else:
            times, surv = _km_counting(fit.start, t, fit.event)
        idx = np.searchsorted(times, t, side="left")
        return 1.0 - np.concatenate([[1.0], surv])[idx]
    raise ValueError("transform must be 'km', 'rank', 'log' or 'identity'")


def _km_counting(start: np.ndarray, stop: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier of (start, stop] data at its death times: at risk when start < u <= stop."""
    rs = _RiskSets(start, stop, event)
    n_risk = rs.risk_sum(np.ones(len(stop)))
    return rs.times, np.cumprod((n_risk - rs.d) / n_risk)


def _zph_deaths(fit: CoxFit) -> np.ndarray:
    """The dying rows by time; R lists tied deaths in row order, but in reverse row order
    for (start, stop] data (its counting-process sort runs on decreasing stop times)."""
    dead = np.flatnonzero(fit.event == 1)
    if fit.start is not None:
        dead = dead[::-1]
    return dead[np.argsort(fit.time[dead], kind="stable")]


def _zph_parts(fit: CoxFit, transform: str):
    """R's ``zph1``: score u and information of the model with x * g(t) added, at
    (beta-hat, 0), and the Schoenfeld residuals, with Efron's averaging over ties.

    One pass over the risk sets as in the fit: g(t) enters only as a weight per
    death time, so the information blocks are the fit's information weighted by
    1, g and g^2.
    """
    keep = ~np.isnan(fit.coef)
    x, beta = fit.x[:, keep], fit.coef[keep]
    x = x - x.mean(axis=0)
    g = _zph_time(fit, transform)
    g = g - g[fit.event == 1].mean()
    rs = _RiskSets(fit.start, fit.time, fit.event)
    terms, r = _cox_terms(beta, x, rs, fit.method)
    gw = np.empty(rs.k)
    gw[rs.dead_k] = g[rs.dead]  # g depends on the time only: one value per death time
    score_t = _bincount(rs.dead_k, x[rs.dead], rs.k) - terms.mean_sum()
    p = x.shape[1]
    u = np.concatenate([np.zeros(p), gw @ score_t])
    info = [_cox_information(x, r, rs, terms, w) for w in (np.ones(rs.k), gw, gw * gw)]
    imat = np.block([[info[0], info[1]], [info[1], info[2]]])
    xbar = terms.mean_sum() / rs.d[:, None]
    dead_rows = _zph_deaths(fit)
    k_of_row = rs.leave[dead_rows] - 1
    return keep, u, imat, x[dead_rows] - xbar[k_of_row], rs.times[k_of_row]


def cox_zph(fit: CoxFit, transform: str = "km", global_test: bool = True) -> pd.DataFrame:
    """Test of proportional hazards as R ``cox.zph(fit, transform)`` (survival >= 3.0).

    For each covariate (all columns of a categorical one together, R's
    ``terms=TRUE``) the score test for adding ``x * g(t)`` to the fitted model,
    g = 1 - KM(t-) for ``"km"``, with the full information matrix; and a
    GLOBAL test over all of them. Columns ``covariate, chisq, df, p, reason``.
    Works on (start, stop] fits too, where the KM is that of the counting-process data.
    A covariate whose coefficients are all dropped (NA), or a model that could not be
    fitted, has an empty test and the reason; so has a test whose information is singular.
    """
    covariates = list(fit.terms)
    keep = ~np.isnan(fit.coef)
    names = covariates + (["GLOBAL"] if global_test else [])
    reason = ne.first(fit.reason, "" if keep.any() else ne.first(*fit.reasons))
    if reason:
        return pd.DataFrame({"covariate": names, "chisq": np.nan, "df": 0, "p": np.nan, "reason": reason})
    keep, u, imat, _, _ = _zph_parts(fit, transform)
    p = int(keep.sum())
    kept_of = np.cumsum(keep) - 1  # position of each kept column among the kept ones
    rows = []
    for name in names:
        cols = range(len(keep)) if name == "GLOBAL" else fit.terms[name]
        jj = [int(kept_of[j]) for j in cols if keep[j]]
        if not jj:
            why = ne.first(*[fit.reasons[j] for j in cols]) or ne.SINGULAR
            rows.append({"covariate": name, "chisq": np.nan, "df": 0, "p": np.nan, "reason": why})
            continue
        kk = list(range(p)) + [p + j for j in jj]
        uu = np.concatenate([np.zeros(p), u[[p + j for j in jj]]])
        try:
            with np.errstate(all="ignore"):
                chisq = float(np.linalg.solve(imat[np.ix_(kk, kk)], uu) @ uu)
        except np.linalg.LinAlgError:
            chisq = np.nan
        if not np.isfinite(chisq):
            rows.append({"covariate": name, "chisq": np.nan, "df": len(jj), "p": np.nan, "reason": ne.SINGULAR})
            continue
        rows.append({"covariate": name, "chisq": chisq, "df": len(jj), "p": float(stats.chi2.sf(chisq, len(jj))),
                     "reason": ne.ESTIMABLE})
    return pd.DataFrame(rows, columns=["covariate", "chisq", "df", "p", "reason"])


def scaled_schoenfeld(fit: CoxFit, transform: str = "km") -> pd.DataFrame:
    """Scaled Schoenfeld residuals, as ``cox.zph(fit, terms=FALSE)$y``, for plotting.

    One row per event (in time order) with ``time``, the transformed time
    ``gtime`` (R's ``$x``) and one column per coefficient, named
    ``covariate`` or ``covariate=level``: beta_j + d * (I^-1 r)_j, so a smooth
    of it against time estimates beta_j(t) (Grambsch & Therneau 1994).
    A model without estimable coefficients, or with a singular information, has
    no residuals: the frame is empty and ``attrs["reason"]`` says why.
    """
    keep = ~np.isnan(fit.coef)
    names = [c if lev in ("1", "per unit") and len(fit.terms[c]) == 1 else f"{c}={lev}"
             for (c, lev, _), k in zip(fit.columns, keep) if k]
    reason = ne.first(fit.reason, "" if keep.any() else ne.first(*fit.reasons))
    if not reason:
        keep, _, imat, resid, times = _zph_parts(fit, transform)
        p = int(keep.sum())
        try:
            y = np.linalg.solve(imat[:p, :p] / fit.events, resid.T).T + fit.coef[keep]
        except np.linalg.LinAlgError:
            reason = ne.SINGULAR
    if reason:
        out = pd.DataFrame(columns=["time", "gtime", *names], dtype=float)
        out.attrs["reason"] = reason
        return out
    g = _zph_time(fit, transform)
    ev = _zph_deaths(fit)
    out = pd.DataFrame(y, columns=names)
    out.insert(0, "gtime", g[ev])
    out.insert(0, "time", times)
    out.attrs["reason"] = ne.ESTIMABLE
    return out


# --------------------------------------------------------------------------
# Landmark and time-dependent analyses of response
# --------------------------------------------------------------------------


def landmark(df: pd.DataFrame, endpoint: str, landmark_months: float, response_time_col: str,
             response_flag_col: str) -> pd.DataFrame:
    """Landmark dataset: who responded by ``landmark_months``, followed from then on.

    Comparing responders with non-responders from time zero favours
    responders (they had to live long enough to respond: guarantee-time
    bias). The landmark method keeps patients still event-free and under
    observation at the landmark (time > landmark), classifies them by response
    documented at or before it (``responded_by_landmark``), and restarts the
    clock there: ``{endpoint}_months`` becomes time minus landmark.

    A patient whose response is not evaluable (``response_flag_col`` missing)
    is left out, as in every time-zero model of the flag: an unknown response
    is not a non-response.
    """
    tcol, ecol = endpoint_columns(endpoint)
    out = df[(df[tcol] > landmark_months) & df[response_flag_col].notna()].copy()
    resp = (out[response_flag_col] == 1) & (out[response_time_col] <= landmark_months).fillna(False)
    out["responded_by_landmark"] = resp.astype(int)
    out[tcol] = out[tcol] - landmark_months
    return out.reset_index(drop=True)


def time_dependent_response(df: pd.DataFrame, endpoint: str, response_time_col: str,
                            response_flag_col: str, id_col: str = "patient_id") -> pd.DataFrame:
    """Counting-process (start, stop] rows with response as a time-dependent covariate.

    Each patient is unexposed (``responded = 0``) from 0 until the response
    time and exposed afterwards; the event, if any, belongs to the last
    interval. Fit with ``cox_fit(cp, endpoint, ["responded"], start="tstart")``,
    the equivalent of ``coxph(Surv(tstart, tstop, event) ~ responded)``.
    Columns: ``id_col, tstart, {endpoint}_months (stop), {endpoint}_event, responded``.
    Patients whose response is not evaluable (flag missing) are left out, as in
    the time-zero models and the landmark analysis.
    """
    tcol, ecol = endpoint_columns(endpoint)
    data = df.dropna(subset=[tcol, ecol, response_flag_col])  # not evaluable for response: left out
    t = data[tcol].to_numpy(float)
    ev = data[ecol].to_numpy(float).astype(int)
    as_float = lambda col: pd.to_numeric(data[col], errors="coerce").to_numpy(float, na_value=np.nan)  # noqa: E731
    tr = np.where(as_float(response_flag_col) == 1, as_float(response_time_col), np.nan)
    with np.errstate(invalid="ignore"):
        split = (tr > 0) & (tr < t)
        from_start = np.where(np.isnan(tr), 0, tr <= 0).astype(int)
    ids = data[id_col].to_numpy()
    before = pd.DataFrame({id_col: ids[split], "tstart": 0.0, tcol: tr[split], ecol: 0, "responded": 0,
                           "_row": np.flatnonzero(split), "_part": 0})
    after = pd.DataFrame({id_col: ids, "tstart": np.where(split, tr, 0.0), tcol: t, ecol: ev,
                          "responded": np.where(split, 1, from_start), "_row": np.arange(len(t)), "_part": 1})
    out = pd.concat([before, after], ignore_index=True).sort_values(["_row", "_part"], kind="stable")
    return out.drop(columns=["_row", "_part"]).reset_index(drop=True)

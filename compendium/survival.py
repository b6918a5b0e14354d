"""Survival statistics with the numerical conventions of R's ``survival`` package.

Our readers know R ``survival`` (>= 3.x) by heart, so every estimate here follows
its algorithm, not merely its method, and ``tests/test_r_parity.py`` checks the
numbers against R itself:

* Kaplan-Meier: ``survfit(Surv(time, event) ~ 1)`` with Greenwood's variance and
  R's pointwise bands (``conf.type`` "log", R's default, "log-log" or "plain").
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
    ut = np.unique(t)
    n_event = np.array([e[t == u].sum() for u in ut], float)
    n_total = np.array([(t == u).sum() for u in ut], float)
    n_risk = np.array([(t >= u).sum() for u in ut], float)
    surv, var = np.empty(len(ut)), np.empty(len(ut))
    km, v = 1.0, 0.0
    for i, (n, d) in enumerate(zip(n_risk, n_event)):
        if d > 0:
            km *= (n - d) / n
            v += d / (n * (n - d)) if n > d else np.inf
        surv[i], var[i] = km, v
    std_err = np.sqrt(var)
    lower, upper = _conf_band(surv, std_err, conf_type, conf_level)
    return pd.DataFrame({"time": ut, "n_risk": n_risk.astype(int), "n_event": n_event.astype(int),
                         "n_censor": (n_total - n_event).astype(int), "surv": surv,
                         "std_err": std_err, "lower": lower, "upper": upper})


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

    Returns ``{n, events, median, lcl, ucl, conf_type}``. The median is the
    first time S(t) <= 0.5; if S(t) is exactly 0.5 (within 1.5e-8) over an
    interval, it is the midpoint of that interval. The lower limit is where
    the *lower* pointwise band reaches 0.5, the upper limit where the *upper*
    band does, by the same rule; a limit (or the median) that is never
    reached is NaN, never a number. This is ``quantile(survfit(...), 0.5)``
    (``rule="quantile"``), equal to ``print(survfit(...))`` (``rule="print"``)
    except when S(t) stays at exactly 0.5 to the last observation: quantile
    then takes the midpoint up to the last time, print the first time.

    lifelines differs: its median confidence interval can only use the
    log-log band, and it takes no midpoints (see the module docstring).
    """
    t, e = _clean(time, event)
    if len(t) == 0:
        return {"n": 0, "events": 0, "median": np.nan, "lcl": np.nan, "ucl": np.nan, "conf_type": conf_type}
    med, lcl, ucl = _median_from_table(km_table(t, e, conf_type, conf_level), rule)
    return {"n": int(len(t)), "events": int(e.sum()), "median": med, "lcl": lcl, "ucl": ucl,
            "conf_type": conf_type}


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


def km_summary(df: pd.DataFrame, endpoint: str, group: str | None = None,
               conf_types=("log", "log-log"), conf_level: float = 0.95) -> pd.DataFrame:
    """Medians of one endpoint, overall or by group: rows of ``results/survival_km.csv``.

    Reads ``{endpoint}_months`` and ``{endpoint}_event``; ``endpoint="followup"``
    is the reverse KM on OS. One row per conf_type, and per level of ``group``
    if given; the output's ``group`` column says ``"all"`` or ``"column=value"``
    (rows missing the grouping value are left out). Columns:
    ``endpoint, group, n, events, median, lcl, ucl, conf_type``.
    """
    tcol, ecol = endpoint_columns(endpoint)
    estimator = followup_reverse_km if endpoint == FOLLOWUP else km_median
    if group is None:
        subsets = [("all", df)]
    else:
        g = df[group]
        subsets = [(f"{group}={_fmt_level(v)}", df[g == v]) for v in sorted(g.dropna().unique())]
    rows = [{"endpoint": endpoint, "group": label, **estimator(sub[tcol], sub[ecol], ct, conf_level)}
            for label, sub in subsets for ct in conf_types]
    cols = ["endpoint", "group", "n", "events", "median", "lcl", "ucl", "conf_type"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------
# Log-rank test
# --------------------------------------------------------------------------


def logrank_test(df: pd.DataFrame, endpoint: str, group: str) -> dict:
    """Log-rank test of ``group`` on ``endpoint``, as R ``survdiff`` (rho = 0).

    Returns ``{endpoint, group, n, chisq, df, p}``. The statistic is
    (O - E)' V^-1 (O - E) with the hypergeometric variance, over the groups
    with a positive expected count less one.
    """
    tcol, ecol = endpoint_columns(endpoint)
    data = df[[tcol, ecol, group]].dropna()
    t, e = _clean(data[tcol], data[ecol])
    levels = sorted(data[group].unique())
    g = np.searchsorted(levels, data[group].to_numpy())
    k = len(levels)
    o_minus_e, var = np.zeros(k), np.zeros((k, k))
    expected = np.zeros(k)
    for u in np.unique(t[e == 1]):
        at_risk = t >= u
        n = at_risk.sum()
        d = ((t == u) & (e == 1)).sum()
        nk = np.bincount(g[at_risk], minlength=k).astype(float)
        dk = np.bincount(g[(t == u) & (e == 1)], minlength=k).astype(float)
        o_minus_e += dk - d * nk / n
        expected += d * nk / n
        if n > 1:
            var += d * (n - d) / (n * n * (n - 1)) * (np.diag(nk) * n - np.outer(nk, nk))
    use = np.flatnonzero(expected > 0)[1:]
    chisq = float(o_minus_e[use] @ np.linalg.solve(var[np.ix_(use, use)], o_minus_e[use])) if len(use) else np.nan
    dof = len(use)
    return {"endpoint": endpoint, "group": group, "n": int(len(t)), "chisq": chisq, "df": dof,
            "p": float(stats.chi2.sf(chisq, dof)) if dof else np.nan}


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


def _risk_sets(start, stop, event, u):
    """Risk set and deaths at death time u; (start, stop] intervals when start is given."""
    at_risk = stop >= u if start is None else (stop >= u) & (start < u)
    dead = at_risk & (stop == u) & (event == 1)
    return at_risk, dead


def _efron_terms(x, r, at_risk, dead, method):
    """Per-death-time pieces of the partial likelihood (Efron or Breslow).

    Yields, for each of the d tied deaths, the denominator, the weighted mean
    of x and the weighted covariance: Efron removes k/d of the dying subjects'
    risk from the k-th denominator (k = 0..d-1), Breslow none.
    """
    s0, s1 = r[at_risk].sum(), r[at_risk] @ x[at_risk]
    s2 = (x[at_risk] * r[at_risk, None]).T @ x[at_risk]
    d = int(dead.sum())
    d0, d1 = r[dead].sum(), r[dead] @ x[dead]
    d2 = (x[dead] * r[dead, None]).T @ x[dead]
    fracs = np.arange(d) / d if (method == "efron" and d > 1) else np.zeros(d)
    for f in fracs:
        den = s0 - f * d0
        mean = (s1 - f * d1) / den
        yield den, mean, (s2 - f * d2) / den - np.outer(mean, mean)


def _coxph_derivs(beta, x, start, stop, event, method):
    """Log partial likelihood, score and information at beta (``coxfit6_iter``)."""
    eta = x @ beta
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.exp(eta)
        loglik, u = 0.0, np.zeros(x.shape[1])
        imat = np.zeros((x.shape[1], x.shape[1]))
        for t in _death_times(stop, event):
            at_risk, dead = _risk_sets(start, stop, event, t)
            loglik += eta[dead].sum()
            u += x[dead].sum(axis=0)
            for den, mean, cov in _efron_terms(x, r, at_risk, dead, method):
                loglik -= np.log(den)
                u -= mean
                imat += cov
    return loglik, u, imat


@dataclass
class CoxFit:
    """A fitted Cox model (the parts of R's ``coxph`` object we use).

    ``columns`` describes each coefficient as ``(covariate, level, reference)``;
    ``coef`` is NaN for a column R would drop as singular.
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

    def table(self, conf_level: float = 0.95) -> pd.DataFrame:
        """Hazard ratios with Wald CI and Wald p per coefficient, as ``summary(coxph)``."""
        z = stats.norm.ppf(1 - (1 - conf_level) / 2)
        se = np.sqrt(np.diag(self.var))
        se = np.where(np.isnan(self.coef), np.nan, se)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            p = stats.chi2.sf((self.coef / se) ** 2, 1)
            rows = {"covariate": [c[0] for c in self.columns], "level": [c[1] for c in self.columns],
                    "reference": [c[2] for c in self.columns], "hr": np.exp(self.coef),
                    "lcl": np.exp(self.coef - z * se), "ucl": np.exp(self.coef + z * se), "p": p}
        out = pd.DataFrame(rows)
        out.insert(0, "endpoint", self.endpoint)
        out["n"], out["events"] = self.n, self.events
        return out


def _coxfit6(x, start, stop, event, method="efron", max_iter=20, eps=1e-9,
             toler_chol=np.finfo(float).eps ** 0.75):
    """Newton-Raphson exactly as R's ``coxfit6`` (survival 3.x).

    Covariates that are not all in {-1, 0, 1} are centred and scaled by their
    mean absolute deviation (R's ``nocenter``); the iteration starts at 0,
    halves the step when the log-likelihood drops, and stops when
    |1 - loglik_old / loglik_new| <= eps. Returns coef, var, loglik pair,
    score test, iterations, converged, rank flag.
    """
    nvar = x.shape[1]
    doscale = ~np.all(np.isin(x, (-1.0, 0.0, 1.0)), axis=0)
    means = np.where(doscale, x.mean(axis=0), 0.0)
    xs = x - means
    mad = np.abs(xs).mean(axis=0)
    scale = np.where(doscale & (mad > 0), 1 / np.where(mad > 0, mad, 1), 1.0)
    xs = xs * scale

    def derivs(b):
        return _coxph_derivs(b, xs, start, stop, event, method)

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
            done = finite and abs(1 - best / newlk) <= eps
        if done:
            coef, var = unscale(newbeta, ch)
            return coef, var, (loglik0, newlk), score, it, True, flag
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
    return coef, var, (loglik0, lk), score, max_iter, False, 1000


def _design(data: pd.DataFrame, covariates, references: dict) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Design matrix and (covariate, level, reference) per column.

    * text/categorical columns: one 0/1 column per level other than the
      reference (given, or the first level in sorted order), as R's treatment
      contrasts of ``relevel(factor(x), ref)``;
    * numeric columns holding only 0 and 1: the flag itself, level "1" against
      reference "0" (the hazard ratio of presence); a reference of 1 flips it;
    * other numeric columns: continuous, level "per unit", reference "".
    """
    cols, names = [], []
    for cov in covariates:
        v = data[cov]
        ref = references.get(cov)
        if not pd.api.types.is_numeric_dtype(v) or isinstance(v.dtype, pd.CategoricalDtype):
            labels = v.map(_fmt_level)
            levels = sorted(labels.unique())
            ref = levels[0] if ref is None else str(ref)
            if ref not in levels:
                raise ValueError(f"reference {ref!r} is not a level of {cov}: {levels}")
            for lev in levels:
                if lev != ref:
                    cols.append((labels == lev).to_numpy(float))
                    names.append((cov, lev, ref))
        elif set(np.unique(v)) <= {0, 1}:
            flip = ref is not None and _fmt_level(ref) == "1"
            cols.append((1 - v if flip else v).to_numpy(float))
            names.append((cov, "0", "1") if flip else (cov, "1", "0"))
        else:
            cols.append(v.to_numpy(float))
            names.append((cov, "per unit", ""))
    return np.column_stack(cols) if cols else np.empty((len(data), 0)), names


def cox_fit(df: pd.DataFrame, endpoint: str, covariates, references: dict | None = None,
            ties: str = "efron", start: str | None = None) -> CoxFit:
    """Fit ``coxph(Surv(time, event) ~ covariates, ties=ties)`` on complete cases.

    Rows missing the time, the status or any covariate are dropped (R's
    ``na.omit``); ``fit.n`` and ``fit.events`` count what was used. With
    ``start`` (a column name) the data are (start, stop] intervals, as
    ``Surv(start, stop, event)``; then ``endpoint`` names the stop/event columns.
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    tcol, ecol = endpoint_columns(endpoint)
    use = [tcol, ecol] + ([start] if start else []) + covariates
    data = df[use].dropna().reset_index(drop=True)
    if len(data) == 0 or data[ecol].sum() == 0:
        raise ValueError(f"no events for {endpoint} among complete cases of {covariates}")
    x, columns = _design(data, covariates, references or {})
    event = data[ecol].to_numpy(int)
    if start:
        t0, t1 = _timefix(data[start].to_numpy(float), data[tcol].to_numpy(float))
    else:
        t0, (t1,) = None, _timefix(data[tcol].to_numpy(float))
    coef, var, loglik, score, it, conv, flag = _coxfit6(x, t0, t1, event, ties)
    if flag < x.shape[1]:  # R: the coefficient of a redundant column is NA
        coef = np.where(np.diag(var) == 0, np.nan, coef)
    return CoxFit(endpoint, columns, coef, var, loglik, score, it, conv, x, t1, event, t0, ties)


COX_COLUMNS = ["endpoint", "covariate", "level", "reference", "hr", "lcl", "ucl", "p", "n", "events"]


def cox_univariate(df: pd.DataFrame, endpoint: str, covariate: str, reference=None) -> pd.DataFrame:
    """One covariate's Cox hazard ratio(s): rows of ``results/cox_univariate.csv``.

    Columns ``endpoint, covariate, level, reference, hr, lcl, ucl, p, n, events``
    (Wald 95% CI and Wald p, as ``summary(coxph)``); one row per non-reference
    level of a categorical covariate.
    """
    refs = {} if reference is None else {covariate: reference}
    return cox_fit(df, endpoint, [covariate], refs).table()[COX_COLUMNS]


def cox_multivariable(df: pd.DataFrame, endpoint: str, covariates, model_name: str,
                      references: dict | None = None) -> pd.DataFrame:
    """A multivariable Cox model: rows of ``results/cox_multivariable.csv``.

    Columns ``endpoint, model, covariate, level, reference, hr, lcl, ucl, p, n,
    events``; complete cases over all covariates, so n may be below the cohort.
    """
    out = cox_fit(df, endpoint, covariates, references).table()[COX_COLUMNS]
    out.insert(1, "model", model_name)
    return out


def cox_global_tests(fit: CoxFit) -> dict:
    """The three global tests printed by ``summary(coxph)``: LR, Wald, score."""
    ok = ~np.isnan(fit.coef)
    b, v = fit.coef[ok], fit.var[np.ix_(ok, ok)]
    wald = float(b @ np.linalg.solve(v, b)) if ok.any() else np.nan
    lr = 2 * (fit.loglik[1] - fit.loglik[0])
    k = int(ok.sum())
    return {"endpoint": fit.endpoint, "n": fit.n, "events": fit.events, "df": k,
            "loglik_null": fit.loglik[0], "loglik": fit.loglik[1],
            "lr_chisq": lr, "lr_p": float(stats.chi2.sf(lr, k)),
            "wald_chisq": wald, "wald_p": float(stats.chi2.sf(wald, k)),
            "score_chisq": fit.score, "score_p": float(stats.chi2.sf(fit.score, k)),
            "iterations": fit.iterations, "converged": fit.converged}


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
    times = _death_times(stop, event)
    surv, km = np.empty(len(times)), 1.0
    for i, u in enumerate(times):
        at_risk, dead = _risk_sets(start, stop, event, u)
        km *= (at_risk.sum() - dead.sum()) / at_risk.sum()
        surv[i] = km
    return times, surv


def _zph_parts(fit: CoxFit, transform: str):
    """R's ``zph1``: score u and information of the model with x * g(t) added, at
    (beta-hat, 0), and the Schoenfeld residuals, with Efron's averaging over ties."""
    keep = ~np.isnan(fit.coef)
    x, beta = fit.x[:, keep], fit.coef[keep]
    x = x - x.mean(axis=0)
    g = _zph_time(fit, transform)
    g = g - g[fit.event == 1].mean()
    r = np.exp(x @ beta)
    p = x.shape[1]
    u, imat = np.zeros(2 * p), np.zeros((2 * p, 2 * p))
    # R lists tied deaths in row order, but in reverse row order for (start, stop] data
    # (its counting-process sort runs on decreasing stop times)
    rows = np.arange(len(fit.time))
    order = np.lexsort((rows if fit.start is None else -rows, fit.time))
    resid_rows, gt, times = [], [], []
    for t in _death_times(fit.time, fit.event):
        at_risk, dead = _risk_sets(fit.start, fit.time, fit.event, t)
        gw = g[fit.time == t][0]
        terms = list(_efron_terms(x, r, at_risk, dead, fit.method))
        xbar = np.mean([m for _, m, _ in terms], axis=0)
        for i in order[dead[order]]:
            resid_rows.append(x[i] - xbar)
            gt.append(g[i])
            times.append(t)
        score_t = x[dead].sum(axis=0) - sum(m for _, m, _ in terms)
        info_t = sum(c for _, _, c in terms)
        u[p:] += gw * score_t
        imat += np.block([[info_t, gw * info_t], [gw * info_t, gw * gw * info_t]])
    return keep, u, imat, np.array(resid_rows), np.array(times)


def cox_zph(fit: CoxFit, transform: str = "km", global_test: bool = True) -> pd.DataFrame:
    """Test of proportional hazards as R ``cox.zph(fit, transform)`` (survival >= 3.0).

    For each covariate (all columns of a categorical one together, R's
    ``terms=TRUE``) the score test for adding ``x * g(t)`` to the fitted model,
    g = 1 - KM(t-) for ``"km"``, with the full information matrix; and a
    GLOBAL test over all of them. Columns ``covariate, chisq, df, p``. Works on
    (start, stop] fits too, where the KM is that of the counting-process data.
    """
    keep, u, imat, _, _ = _zph_parts(fit, transform)
    p = int(keep.sum())
    kept = [c for c, k in zip(fit.columns, keep) if k]
    terms: dict[str, list[int]] = {}
    for j, (cov, _, _) in enumerate(kept):
        terms.setdefault(cov, []).append(j)
    if global_test:
        terms["GLOBAL"] = list(range(p))
    rows = []
    for name, jj in terms.items():
        kk = list(range(p)) + [p + j for j in jj]
        uu = np.concatenate([np.zeros(p), u[[p + j for j in jj]]])
        chisq = float(np.linalg.solve(imat[np.ix_(kk, kk)], uu) @ uu)
        rows.append({"covariate": name, "chisq": chisq, "df": len(jj), "p": float(stats.chi2.sf(chisq, len(jj)))})
    return pd.DataFrame(rows)


def scaled_schoenfeld(fit: CoxFit, transform: str = "km") -> pd.DataFrame:
    """Scaled Schoenfeld residuals, as ``cox.zph(fit, terms=FALSE)$y``, for plotting.

    One row per event (in time order) with ``time``, the transformed time
    ``gtime`` (R's ``$x``) and one column per coefficient, named
    ``covariate`` or ``covariate=level``: beta_j + d * (I^-1 r)_j, so a smooth
    of it against time estimates beta_j(t) (Grambsch & Therneau 1994).
    """
    keep, _, imat, resid, times = _zph_parts(fit, transform)
    p = int(keep.sum())
    ndead = fit.events
    vmean = imat[:p, :p] / ndead
    y = np.linalg.solve(vmean, resid.T).T + fit.coef[keep]
    g = _zph_time(fit, transform)
    rows = np.arange(len(fit.time))
    order = np.lexsort((rows if fit.start is None else -rows, fit.time))
    ev = order[fit.event[order] == 1]
    names = [c if lev in ("1", "per unit") and len(fit.terms[c]) == 1 else f"{c}={lev}"
             for (c, lev, _), k in zip(fit.columns, keep) if k]
    out = pd.DataFrame(y, columns=names)
    out.insert(0, "gtime", g[ev])
    out.insert(0, "time", times)
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
    rows = []
    for _, r in df.dropna(subset=[tcol, ecol, response_flag_col]).iterrows():
        t, ev = float(r[tcol]), int(r[ecol])
        tr = r[response_time_col] if pd.notna(r[response_flag_col]) and r[response_flag_col] == 1 else np.nan
        if pd.notna(tr) and 0 < tr < t:
            rows.append((r[id_col], 0.0, float(tr), 0, 0))
            rows.append((r[id_col], float(tr), t, ev, 1))
        else:
            rows.append((r[id_col], 0.0, t, ev, int(pd.notna(tr) and tr <= 0)))
    return pd.DataFrame(rows, columns=[id_col, "tstart", tcol, ecol, "responded"])

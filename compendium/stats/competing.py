"""Competing risks: cumulative incidence (Aalen-Johansen) and Gray's test.

Time to next treatment censors a patient who dies before any next treatment,
as if that patient could still start one later; 1 - KM then estimates the
probability of a next treatment in a world without death, and overstates it
when deaths are many. The cumulative incidence function (CIF) of each cause
is what actually happened: the Aalen-Johansen estimator
F_k(t) = sum over event times s <= t of S(s-) d_k(s) / n(s), with S the
all-cause Kaplan-Meier. It equals R's ``survfit`` with a multi-state status
and ``cmprsk::cuminc``.

* ``cumulative_incidence``: the CIF of every cause and its variance as
  ``cmprsk::cuminc`` computes it (the delta-method estimator of Gray's
  ``cinc`` routine, ties handled as there).
* ``gray_test``: Gray's (1988) k-sample test of equal CIFs for one cause
  (Ann Stat 16:1141-1154, rho = 0), the ``Tests`` of ``cmprsk::cuminc``.

Status is coded 0 = censored, 1, 2, ... = cause. ``tests/test_competing.py``
checks all of it against R (``tests/reference/competing_reference.R``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from compendium.stats import estimable as ne
from compendium.stats.rates import level_label
from compendium.stats.survival import group_levels

TIE_TOL = 1e-9


def _prepare(time, status) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, float)
    s = pd.to_numeric(pd.Series(np.asarray(status)), errors="coerce").to_numpy(float)
    keep = np.isfinite(t) & np.isfinite(s)
    t, s = t[keep], s[keep]
    if (s < 0).any() or not np.equal(np.mod(s, 1), 0).all():
        raise ValueError("status must be 0 (censored) or a positive integer cause")
    return t, s.astype(int)


def cumulative_incidence(time, status, cause: int = 1) -> pd.DataFrame:
    """CIF of ``cause`` at every distinct event time (any cause), with cuminc's variance.

    Columns ``time, n_risk, n_cause, n_other, cif, var, surv`` (``surv`` is the
    all-cause KM just after ``time``).
    """
    t, s = _prepare(time, status)
    ut, n_risk, d_cause, d_other = _counts(t, s, cause)
    cifs, variances, survs = np.empty(len(ut)), np.empty(len(ut)), np.empty(len(ut))
    surv, cif = 1.0, 0.0
    v1 = v2 = v3 = 0.0
    var = 0.0
    # the counts come at once (:func:`_counts`); the recurrence runs over the distinct event times only
    for i, (n, d1, d2) in enumerate(zip(n_risk.tolist(), d_cause.tolist(), d_other.tolist())):
        surv_new = surv * (n - d1 - d2) / n
        cif += surv * d1 / n
        # Gray's delta-method pieces: v1 = var of the F part, v3 of the 1/S part, v2 their covariance
        if d2 > 0 and surv_new > 0:
            w = surv * surv * (1 - (d2 - 1) / (n - 1) if d2 > 1 else 1.0) * d2 / (n * n)
            a, b = 1 / surv_new, cif / surv_new
            v1, v2, v3 = v1 + b * b * w, v2 + a * b * w, v3 + a * a * w
        if d1 > 0:
            w = surv * surv * (1 - (d1 - 1) / (n - 1) if d1 > 1 else 1.0) * d1 / (n * n)
            a = 1 / surv_new if surv_new > 0 else 0.0
            b = 1 + a * cif
            v1, v2, v3 = v1 + b * b * w, v2 + a * b * w, v3 + a * a * w
            var = v1 + cif * cif * v3 - 2 * cif * v2
        surv = surv_new
        cifs[i], variances[i], survs[i] = cif, var, surv
    return pd.DataFrame({"time": ut, "n_risk": n_risk.astype(int), "n_cause": d_cause.astype(int),
                         "n_other": d_other.astype(int), "cif": cifs, "var": variances, "surv": survs},
                        columns=["time", "n_risk", "n_cause", "n_other", "cif", "var", "surv"])


def _counts(t: np.ndarray, s: np.ndarray, cause: int, group: np.ndarray | None = None, k: int = 1):
    """At each distinct event time (any cause): the number at risk (time >= it), the events of the
    cause and of the other causes there; per group (columns) when ``group`` (0..k-1) is given.

    Computed at once from sorted times (the risk set by ``searchsorted``, the events by ``bincount``)
    where a pass over every patient at every event time made the estimators quadratic in N."""
    ut = np.unique(t[s > 0])
    g = np.zeros(len(t), dtype=int) if group is None else group
    n_risk = np.empty((len(ut), k))
    for j in range(k):
        times = np.sort(t[g == j])
        n_risk[:, j] = len(times) - np.searchsorted(times, ut, side="left")
    event = s > 0
    at = np.searchsorted(ut, t[event]) * k + g[event]
    mine = s[event] == cause
    d_cause = np.bincount(at[mine], minlength=len(ut) * k).reshape(len(ut), k).astype(float)
    d_other = np.bincount(at[~mine], minlength=len(ut) * k).reshape(len(ut), k).astype(float)
    if group is None:
        return ut, n_risk[:, 0], d_cause[:, 0], d_other[:, 0]
    return ut, n_risk, d_cause, d_other


def _loglog_limits(cif: np.ndarray, var: np.ndarray, conf_level: float = 0.95):
    """Limits on the log(-log) scale, F^exp(+-z se / (F log F)): inside (0, 1) by construction."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (cif > 0) & (cif < 1)
        shift = np.where(ok, z * np.sqrt(var) / (cif * np.log(cif)), np.nan)
        a, b = cif ** np.exp(shift), cif ** np.exp(-shift)
        return np.where(ok, np.minimum(a, b), np.nan), np.where(ok, np.maximum(a, b), np.nan)


def cif_at(time, status, times, cause: int = 1, conf_level: float = 0.95) -> pd.DataFrame:
    """The CIF of ``cause`` at fixed ``times`` (step function; empty beyond the last observation).

    Columns ``time, n_risk, cif, var, lower, upper, reason`` with log(-log) limits from
    cuminc's variance (as ``cmprsk::timepoints`` gives est and var); a time after the
    last observation (or no data at all) is empty, with the reason.
    """
    n_raw = len(np.asarray(time))
    t, s = _prepare(time, status)
    tab = cumulative_incidence(t, s, cause)
    last = t.max() if len(t) else -np.inf
    rows = []
    for x in times:
        past = tab[tab["time"] <= x + TIE_TOL]
        cif, var = (past["cif"].iloc[-1], past["var"].iloc[-1]) if len(past) else (0.0, 0.0)
        reason = ne.of_counts(len(t), n_raw=n_raw) or (ne.NO_ONE_AT_RISK if x > last else ne.ESTIMABLE)
        if reason:
            cif = var = np.nan
        rows.append({"time": float(x), "n_risk": int((t >= x).sum()), "cif": cif, "var": var, "reason": reason})
    out = pd.DataFrame(rows, columns=["time", "n_risk", "cif", "var", "reason"])
    out["lower"], out["upper"] = _loglog_limits(out["cif"].to_numpy(float), out["var"].to_numpy(float), conf_level)
    return out[["time", "n_risk", "cif", "var", "lower", "upper", "reason"]]


def gray_test(time, status, group, cause: int = 1) -> dict:
    """Gray's test that the CIF of ``cause`` is the same in every group (rho = 0).

    Score: for groups 1..k-1, sum over times of the observed cause-specific
    events minus those expected under a common subdistribution hazard, the
    risk sets re-weighted by 1/S_g(t-) (Gray 1988, eq. 2.3); variance: the
    estimator of Gray's section 2 with the same tie corrections as
    ``cmprsk``. Returns ``{stat, df, p, n, reason}``: without two groups, without
    an event of the cause, or with a singular variance (a group whose every
    member is out of the risk set before the first event, say) the test is empty
    and ``reason`` says why.
    """
    t, s = _prepare(time, status)
    g_raw = pd.Series(np.asarray(group)).to_numpy()
    keep = np.isfinite(np.asarray(time, float)) & pd.notna(pd.Series(np.asarray(status))).to_numpy()
    g_raw = g_raw[keep]
    ok = pd.notna(g_raw)
    t, s, g_raw = t[ok], s[ok], g_raw[ok]
    levels = sorted(pd.unique(g_raw))
    g = np.searchsorted(levels, g_raw)
    k = len(levels)
    empty = {"stat": np.nan, "df": 0, "p": np.nan, "n": int(len(t))}
    reason = ne.first(ne.of_counts(len(t), int((s == cause).sum()), len(keep)), ne.ONE_LEVEL if k < 2 else "")
    if reason:
        return {**empty, "reason": reason}
    km1 = k - 1
    score = np.zeros(km1)
    v = np.zeros((km1, km1))
    v2 = np.zeros((km1, k))
    v3 = np.zeros(k)
    c = np.zeros((k, k))
    skmm, f1m = np.ones(k), np.zeros(k)  # all-cause KM and CIF of each group, just before the time
    fm = 0.0  # pooled "CIF" of the test's common subdistribution, just before the time
    _, at_risk, d_cause, d_other = _counts(t, s, cause, g, k)
    for rs, d1, d2 in zip(at_risk, d_cause, d_other):
        nd1 = d1.sum()
        live = rs > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            skm = np.where(live, skmm * (rs - d1 - d2) / rs, skmm)
            f1 = np.where(live, f1m + skmm * d1 / rs, f1m)
            h = np.where(live, rs / skmm, 0.0)
            tr = h.sum()
            tq = np.where(live, rs * (1 - f1m) / skmm, 0.0).sum()
        f = fm + nd1 / tr
        a = (np.diag(h) * tr - np.outer(h, h)) / tr  # a_ii = h_i (1 - h_i / tr), a_ij = -h_i h_j / tr
        c += a * nd1 / (tr * (1 - fm))
        with np.errstate(divide="ignore", invalid="ignore"):
            score += np.where(live, d1 - nd1 * rs * (1 - f1m) / (skmm * tq), 0.0)[:km1]
        if nd1 > 0:
            for j in np.flatnonzero(live):
                t4 = 1 - (1 - f) / skm[j] if skm[j] > 0 else 1.0
                t5 = 1 - (nd1 - 1) / (tr * skmm[j] - 1) if nd1 > 1 else 1.0
                t3 = t5 * skmm[j] * nd1 / (tr * rs[j])
                v3[j] += t4 * t4 * t3
                t1 = a[:km1, j] - t4 * c[:km1, j]
                v2[:, j] += t1 * t4 * t3
                v += np.outer(t1, t1) * t3
        for j in np.flatnonzero((skm > 0) & (d2 > 0)):
            t4 = (1 - f) / skm[j]
            t5 = 1 - (d2[j] - 1) / (rs[j] - 1) if d2[j] > 1 else 1.0
            t3 = t5 * skmm[j] ** 2 * d2[j] / rs[j] ** 2
            v3[j] += t4 * t4 * t3
            t1 = t4 * c[:km1, j]
            v2[:, j] -= t1 * t4 * t3
            v += np.outer(t1, t1) * t3
        fm, f1m, skmm = f, f1, skm
    cc = c[:km1, :]
    v = v + (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T
    try:
        with np.errstate(all="ignore"):
            stat = float(score @ np.linalg.solve(v, score))
    except np.linalg.LinAlgError:
        stat = np.nan
    if not np.isfinite(stat) or stat < 0:
        return {**empty, "reason": ne.SINGULAR_COVARIANCE}
    return {"stat": stat, "df": km1, "p": float(stats.chi2.sf(stat, km1)), "n": int(len(t)), "reason": ne.ESTIMABLE}


# --------------------------------------------------------------------------
# The paper's endpoints as competing risks
# --------------------------------------------------------------------------

#: analysis -> (time column, event of interest, competing event), for readers.
ANALYSES = {
    "next_treatment": ("ttnt_months", "next treatment", "death before a next treatment"),
    "progression": ("pfs_months", "progression", "death without progression"),
}


def competing_status(analysis: pd.DataFrame) -> pd.DataFrame:
    """Per patient: time and status (0 censored, 1 event of interest, 2 death first) of each analysis.

    * next treatment: TTNT's event is the start of a next line; a patient with
      no next line who died (``os_event``) at the end of TTNT's follow-up died
      first (status 2) instead of being censored.
    * progression: a PFS event that is a death at the PFS time (``os_event``
      with ``os_months`` = ``pfs_months``) is a death without progression; any
      other PFS event is a progression. A progression recorded on the day of
      death counts as the death (the dataset holds one date).
    """
    out = pd.DataFrame({"patient_id": analysis["patient_id"]})
    died = analysis["os_event"] == 1
    same = lambda a, b: (analysis[a] - analysis[b]).abs() <= TIE_TOL  # noqa: E731
    ttnt = analysis["ttnt_event"]
    out["next_treatment_months"] = analysis["ttnt_months"]
    out["next_treatment_status"] = np.select([ttnt == 1, died & same("os_months", "ttnt_months")], [1, 2], 0)
    out.loc[analysis["ttnt_event"].isna() | analysis["ttnt_months"].isna(), "next_treatment_status"] = np.nan
    pfs = analysis["pfs_event"]
    out["progression_months"] = analysis["pfs_months"]
    out["progression_status"] = np.select([(pfs == 1) & died & same("os_months", "pfs_months"), pfs == 1], [2, 1], 0)
    out.loc[analysis["pfs_event"].isna() | analysis["pfs_months"].isna(), "progression_status"] = np.nan
    return out


def cif_results(analysis: pd.DataFrame, times=(12.0, 24.0, 36.0), group: str | None = "vgpr_or_better") -> pd.DataFrame:
    """``results/competing_risks.csv``: CIF of each cause at ``times``, overall and by ``group``.

    Columns ``analysis, cause, cause_label, group, n, events, time, n_risk, cif, var, lower, upper, reason``.
    """
    cs = competing_status(analysis)
    rows = []
    for name, (_, lab1, lab2) in ANALYSES.items():
        subsets = [("all", cs)]
        if group is not None:
            gv = analysis[group]
            subsets += [(f"{group}={level_label(v)}", cs[(gv == v).fillna(False).to_numpy(bool)])
                        for v in group_levels(gv)]
        for label, sub in subsets:
            data = sub[[f"{name}_months", f"{name}_status"]].dropna()
            for cause, cause_label in ((1, lab1), (2, lab2)):
                part = cif_at(data.iloc[:, 0], data.iloc[:, 1], times, cause)
                part.insert(0, "events", int((data.iloc[:, 1] == cause).sum()))
                part.insert(0, "n", len(data))
                part.insert(0, "group", label)
                part.insert(0, "cause_label", cause_label)
                part.insert(0, "cause", cause)
                part.insert(0, "analysis", name)
                rows.append(part)
    return pd.concat(rows, ignore_index=True)


def gray_results(analysis: pd.DataFrame, group: str = "vgpr_or_better") -> pd.DataFrame:
    """``results/gray_tests.csv``: Gray's test by ``group`` for each cause of each analysis.

    Columns ``analysis, cause, cause_label, group, stat, df, p, n, reason``."""
    cs = competing_status(analysis)
    rows = []
    for name, (_, lab1, lab2) in ANALYSES.items():
        data = pd.concat([cs[[f"{name}_months", f"{name}_status"]], analysis[[group]]], axis=1).dropna()
        for cause, cause_label in ((1, lab1), (2, lab2)):
            res = gray_test(data.iloc[:, 0], data.iloc[:, 1], data[group], cause)
            rows.append({"analysis": name, "cause": cause, "cause_label": cause_label, "group": group, **res})
    return pd.DataFrame(rows)

"""The multi-state model behind the synthetic histories, and quick estimators to calibrate it.

A DaraVd course moves through these states (months from the first dose)::

    start --> first response (>= PR) --> >=VGPR first reached --> best response
      |              |                          |                      |
      +--------------+---------- progression ---+----------------------+--> next line --> second progression
      |                              |                                          |
      +---------------- death -------+------------------------------------------+--> death

Response kinetics (``ResponseKinetics``) give each responder the dates of first
response, of >=VGPR first reached and of best response, in that order. The
progression hazard is Weibull, proportional in the baseline covariates, and
multiplied by ``exp(vgpr_loghr)`` from the moment >=VGPR is first reached: the
*true effect of response as a time-dependent covariate*. IMWG asks for two
consecutive assessments: a response is confirmed one assessment (4 weeks) after it
is documented, and a confirmed response precedes any progression by at least
another 4 weeks (``CONFIRM_DAYS``). In hazard terms progression is impossible before
that guard and follows the model's hazard after it (the history is drawn given
that the documented response was confirmed). Death without progression has a
constant hazard from every state before progression; after progression, survival
is Weibull with its own covariate effects; the next line starts a gamma gap after
progression, and its own progression is exponential.

Every time is drawn by inverting its cumulative hazard at a uniform number, so the
same draws can be *truncated* to a window (for the 85-patient cohort, whose counts
of progressions, deaths and next lines are fixed) or left free (any other N).

The quick estimators (``cox``, ``km_median``) are small vectorised versions of
Breslow Cox and the Kaplan-Meier median for the calibration search and the
simulation; the analyses use ``compendium.stats.survival`` (tested against R).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import gammainc, gammaincinv

from compendium.data.rules import CONFIRM_DAYS, NEXT_LINE_MIN_DAYS, PD_BEST_MAX_DAYS, UNTREATED_MAX_DAYS

MONTH_DAYS = 30.4375
PD_FIRST_ASSESSMENT_DAYS = 22  # progression documented at the earliest at the start of cycle 2
#: A next line starts within this many days of progression (the rest of a gamma gap's tail is cut off).
NEXT_GAP_MAX_DAYS = 150


@dataclass(frozen=True)
class ResponseKinetics:
    """Months from the first dose to first response, >=VGPR and best response (gamma gaps)."""

    first_min: float = 0.7          # first assessment at the end of cycle 1
    first_shape: float = 2.0
    first_mean: float = 1.4         # + first_min: median first response about 1.3 months
    vgpr_at_first: float = 0.35     # share of >=VGPR patients whose first response is already >=VGPR
    vgpr_shape: float = 1.5
    vgpr_mean: float = 2.2          # first response -> >=VGPR
    cr_shape: float = 2.0
    cr_mean: float = 4.0            # >=VGPR -> CR/sCR (best)
    mrsd_lo: float = 1.4            # MR/SD documented as best at the second or third assessment
    mrsd_hi: float = 2.8


@dataclass(frozen=True)
class MultiStateModel:
    """Transition hazards (months) and covariate effects (log hazard ratios)."""

    kinetics: ResponseKinetics = field(default_factory=ResponseKinetics)
    pfs_scale: float = 13.5
    pfs_shape: float = 1.1
    pfs_loghr: tuple = (("age_ge65", -0.85), ("emd_relapse", 1.6), ("pc_ge60", 1.2),
                        ("cyto_high_dx", 0.2), ("del17p", 1.0), ("amp1q", 1.2), ("dex_full", 0.0),
                        ("aggressive_relapse", 1.3), ("sd_mr_best", 0.8))
    vgpr_loghr: float = -1.2        # from the day >=VGPR is first reached (time-dependent)
    pd_best_mean: float = 0.9       # best response PD: progression this long after the first assessment
    death_noprog_rate: float = 0.004
    pps_scale: float = 40.0
    pps_shape: float = 1.0
    pps_loghr: tuple = (("vgpr_or_better", -2.0), ("pc_ge60", 2.0), ("emd_relapse", 0.5), ("dex_full", 0.0),
                        ("aggressive_relapse", 2.0))
    next_line_share: float = 0.92   # share of progressing patients fit for a next line (the others die within
                                    # UNTREATED_MAX_DAYS of progression, unless follow-up ends first)
    next_gap_shape: float = 1.5
    next_gap_mean: float = 1.2
    next_line_pfs_median: float = 6.0
    loss_to_followup: float = 0.08

    def truth(self) -> dict:
        """The generating parameters, flat, for export beside the cohort."""
        out = {f"kinetics.{k}": v for k, v in asdict(self.kinetics).items()}
        out.update({k: v for k, v in asdict(self).items() if not isinstance(v, (dict, tuple))})
        out.update({f"pfs_loghr.{k}": v for k, v in self.pfs_loghr})
        out.update({f"pps_loghr.{k}": v for k, v in self.pps_loghr})
        out.pop("kinetics", None)
        return out


MODEL = MultiStateModel()

UNIFORMS = ("first", "vgpr_at_first", "vgpr", "cr", "mrsd", "pd", "prog", "dnp", "pps", "gap", "fit",
            "next_pfs", "lost", "loss_t")


def draw_uniforms(rng, n: int) -> dict:
    """One uniform per patient and random component of the history."""
    return {k: rng.uniform(size=n) for k in UNIFORMS}


def _gamma_ppf(u, shape, mean):
    return gammaincinv(shape, u) * (mean / shape)


def _gamma_cdf(x, shape, mean):
    return gammainc(shape, np.maximum(x, 0) / (mean / shape))


def _days(months):
    return np.rint(np.asarray(months, float) * MONTH_DAYS)


def response_times(u: dict, best: np.ndarray, k: ResponseKinetics = MODEL.kinetics, limit=None) -> dict:
    """First response, >=VGPR first reached and best response, in months (NaN where not reached).

    Whole days, so that the dates written to the file keep their order. With
    ``limit`` (months), a course that would reach its best response later than
    ``limit`` less two confirmations is compressed in time to fit (a patient who
    started late documents the response before the data cut-off), though not before the first assessment.
    """
    best = np.asarray(best)
    responder = np.isin(best, ["sCR", "CR", "VGPR", "PR"])
    vgpr = np.isin(best, ["sCR", "CR", "VGPR"])
    deep = np.isin(best, ["sCR", "CR"])
    first = _days(k.first_min + _gamma_ppf(u["first"], k.first_shape, k.first_mean))
    gap_v = np.where(u["vgpr_at_first"] < k.vgpr_at_first, 0.0,
                     np.maximum(_days(_gamma_ppf(u["vgpr"], k.vgpr_shape, k.vgpr_mean)), CONFIRM_DAYS))
    t_vgpr = first + gap_v
    t_cr = t_vgpr + np.maximum(_days(_gamma_ppf(u["cr"], k.cr_shape, k.cr_mean)), CONFIRM_DAYS)
    t_best = np.where(deep, t_cr, np.where(vgpr, t_vgpr, first))
    mrsd = _days(k.mrsd_lo + u["mrsd"] * (k.mrsd_hi - k.mrsd_lo))
    t_best = np.where(np.isin(best, ["MR", "SD"]), mrsd, t_best)
    if limit is not None:
        room = np.floor(np.asarray(limit, float) * MONTH_DAYS) - 2 * CONFIRM_DAYS - 1
        shrink = np.minimum(1.0, room / t_best)
        earliest = _days(k.first_min)  # not before the first assessment (the end of cycle 1)
        first, t_vgpr, t_best = (np.maximum(np.floor(v * shrink), earliest) for v in (first, t_vgpr, t_best))
    nan = np.nan
    return {"first_response": np.where(responder, first, nan) / MONTH_DAYS,
            "vgpr": np.where(vgpr, t_vgpr, nan) / MONTH_DAYS,
            "best": np.where(best == "PD", nan, t_best) / MONTH_DAYS}


def linear_predictor(cov: dict, terms: tuple) -> np.ndarray:
    n = len(next(iter(cov.values())))
    return sum((coef * np.nan_to_num(np.asarray(cov[name], float)) for name, coef in terms), np.zeros(n))


def _truncated_exp(u, lo, hi):
    """Exp(1) restricted to (lo, hi) by inversion at u (hi may be inf)."""
    a = np.exp(-lo)
    b = np.where(np.isinf(hi), 0.0, np.exp(-np.minimum(hi, 700)))
    return -np.log(a - u * (a - b))


def _cum0(t, m: MultiStateModel):
    return (np.maximum(t, 0) / m.pfs_scale) ** m.pfs_shape


def _cum0_inv(h, m: MultiStateModel):
    return m.pfs_scale * np.maximum(h, 0) ** (1 / m.pfs_shape)


def simulate(u: dict, cov: dict, best: np.ndarray, admin: np.ndarray, model: MultiStateModel = MODEL,
             course: dict | None = None) -> dict:
    """The history of each patient in months, censored at the data cut-off ``admin`` or when lost.

    Loss to follow-up (a share ``loss_to_followup``) happens 1 to 37 months after
    the best response is confirmed, so that a documented response is always followed.

    ``course`` (optional) fixes, per patient, how the history ends by the horizon:
    ``outcome`` 1 progression, 2 death without progression, 0 neither; ``next_line``
    True/False among the progressing patients. The times are then drawn from the
    same hazards restricted to the windows that give that course. Without it the
    course follows from the hazards (a free draw).
    """
    best = np.asarray(best)
    n = len(best)
    rt = response_times(u, best, model.kinetics, limit=admin)
    pd_best = best == "PD"
    # Guards: a documented response is confirmed, and precedes progression by 4 weeks.
    guard_prog = np.where(np.isnan(rt["best"]), PD_FIRST_ASSESSMENT_DAYS / MONTH_DAYS,
                          rt["best"] + 2 * CONFIRM_DAYS / MONTH_DAYS)
    guard_death = np.where(np.isnan(rt["best"]), 0.0, rt["best"] + CONFIRM_DAYS / MONTH_DAYS)
    lost = u["lost"] < model.loss_to_followup
    horizon = np.where(lost, np.minimum(admin, guard_prog + 1 + 36 * u["loss_t"]), admin)
    eta = linear_predictor(cov, model.pfs_loghr) + model.vgpr_loghr * np.nan_to_num(cov["vgpr_or_better"])
    rate = np.exp(eta)
    # Progression: cumulative hazard from the guard on (beyond the guard a >=VGPR patient is in state >=VGPR).
    h_lo = _cum0(guard_prog, model)
    e_max = (_cum0(horizon, model) - h_lo) * rate   # cumulative hazard available before the horizon
    dnp_rate = model.death_noprog_rate
    d_max = np.maximum(horizon - guard_death, 0) * dnp_rate
    if course is None:
        e = _truncated_exp(u["prog"], 0.0, np.inf)
        d = _truncated_exp(u["dnp"], 0.0, np.inf)
    else:
        out = np.asarray(course["outcome"])
        e = np.where(out == 1, _truncated_exp(u["prog"], 0.0, e_max), _truncated_exp(u["prog"], e_max, np.inf))
        d = np.where(out == 2, _truncated_exp(u["dnp"], 0.0, d_max), _truncated_exp(u["dnp"], d_max, np.inf))
    prog = _cum0_inv(h_lo + e / rate, model)
    # best response PD is a progression at the first assessments: by PD_BEST_MAX_DAYS (a day's margin for rounding)
    pd_room = np.minimum(horizon, (PD_BEST_MAX_DAYS - 1) / MONTH_DAYS) - PD_FIRST_ASSESSMENT_DAYS / MONTH_DAYS
    pd_prog = PD_FIRST_ASSESSMENT_DAYS / MONTH_DAYS + model.pd_best_mean * -np.log1p(-u["pd"] * (
        1 - np.exp(-np.maximum(pd_room, 1e-9) / model.pd_best_mean)))
    prog = np.where(pd_best, pd_prog, prog)  # best response PD: progression is documented early, by the horizon
    dnp_t = guard_death + d / dnp_rate
    if course is not None:  # who dies first is part of the course
        out = np.asarray(course["outcome"])
        prog = np.where(out == 2, np.maximum(prog, dnp_t + 1.0), prog)
        dnp_t = np.where(out == 1, np.maximum(dnp_t, prog + 1.0), dnp_t)
    dnp_t = np.where(pd_best, np.maximum(dnp_t, prog + 1 / MONTH_DAYS), dnp_t)  # PD as best: progression first
    progressed = (prog <= dnp_t) & (prog <= horizon)
    dnp = (dnp_t < prog) & (dnp_t <= horizon)
    # After progression. A patient unfit for a next line (chosen by the course, or drawn) dies within
    # UNTREATED_MAX_DAYS unless follow-up ends first: relapsed myeloma is treated, or it is fatal.
    if course is None:
        fit = u["fit"] < model.next_line_share
    else:
        fit = np.asarray(course["next_line"], bool)
    pps_rate = np.exp(linear_predictor(cov, model.pps_loghr))
    cap = (UNTREATED_MAX_DAYS - 1) / MONTH_DAYS
    within = np.where(fit, 1.0, -np.expm1(-pps_rate * (cap / model.pps_scale) ** model.pps_shape))
    pps = model.pps_scale * (-np.log1p(-u["pps"] * within) / pps_rate) ** (1 / model.pps_shape)
    pps = np.maximum(pps, 1.0 / MONTH_DAYS)
    death = np.where(progressed, prog + pps, dnp_t)
    died = (progressed & (death <= horizon)) | dnp
    end = np.minimum(np.where(died, death, horizon), horizon)
    room = np.where(progressed, np.maximum(end - prog, 0.0), 0.0)  # time after progression still observed
    shape, mean = model.next_gap_shape, model.next_gap_mean
    gap_max = NEXT_GAP_MAX_DAYS / MONTH_DAYS
    if course is None:
        gap = _gamma_ppf(u["gap"] * _gamma_cdf(gap_max, shape, mean), shape, mean)
        started = progressed & fit & (gap < room)
    else:
        started = fit & progressed
        c_room = _gamma_cdf(np.minimum(room, gap_max), shape, mean)
        gap = _gamma_ppf(np.where(started, u["gap"] * c_room, c_room + u["gap"] * (1 - c_room)), shape, mean)
    next_t = prog + gap
    # the next line's progression is documented at its first assessment at the earliest (a day's margin)
    second = next_t + (NEXT_LINE_MIN_DAYS + 1) / MONTH_DAYS + model.next_line_pfs_median / math.log(2) * -np.log1p(-u["next_pfs"])
    # a death from myeloma on the next line is its progression: documented on the day of death at the latest
    dies_on_next = started & died & (death - next_t >= (NEXT_LINE_MIN_DAYS + 1) / MONTH_DAYS)
    second = np.where(dies_on_next, np.minimum(second, death), second)
    second_prog = started & (second <= end)
    nan = np.nan
    return {
        **{f"{k}_t": v for k, v in rt.items()},
        "progressed": progressed, "progression_t": np.where(progressed, prog, nan),
        "died": died, "death_t": np.where(died, death, nan), "death_noprog": dnp,
        "next_line": started, "next_t": np.where(started, next_t, nan),
        "second_prog": second_prog, "second_t": np.where(second_prog, second, nan),
        "last_t": end,
    }


# ---------------------------------------------------------------------------
# Quick estimators for the calibration search and the simulation.

def cox(time, event, x, start=None, iters: int = 30, beta0=None) -> tuple[np.ndarray, np.ndarray]:
    """Cox coefficients and their standard errors (Breslow ties, Newton-Raphson).

    ``x`` is (n, p); rows with a missing value are dropped. With ``start``, the
    data are (start, stop] intervals (counting process, as ``Surv(start, stop, event)``).
    Returns (beta, se); NaN when not estimable (no events, separation).
    ``beta0`` starts Newton-Raphson there (a warm start for repeated fits).
    """
    time, event = np.asarray(time, float), np.asarray(event, bool)
    x = np.asarray(x, float).reshape(len(time), -1)
    keep = ~np.isnan(x).any(axis=1) & ~np.isnan(time)
    p = x.shape[1]
    nan = (np.full(p, np.nan), np.full(p, np.nan))
    if start is None:
        order = np.argsort(-time[keep], kind="stable")
        t, e, x = time[keep][order], event[keep][order], x[keep][order]
        # the risk set of an event: everybody with a time >= it (the last row of its tie group, descending)
        ends = np.searchsorted(-t, -t, side="right")[e] - 1
        def sums(w):
            return (np.cumsum(w)[ends], np.cumsum(w[:, None] * x, axis=0)[ends],
                    np.cumsum(w[:, None, None] * x[:, :, None] * x[:, None, :], axis=0)[ends])
    else:  # (start, stop]: at risk at t if start < t <= stop, by sorted cumulative sums
        t0 = np.asarray(start, float)[keep]
        t, e, x = time[keep], event[keep], x[keep]
        so, s0_ = np.argsort(t, kind="stable"), np.argsort(t0, kind="stable")
        k_stop = np.searchsorted(t[so], t[e], side="left")
        k_start = np.searchsorted(t0[s0_], t[e], side="left")

        def tail(a, order, k):
            c = np.concatenate([np.cumsum(a[order][::-1], axis=0)[::-1], np.zeros((1,) + a.shape[1:])])
            return c[k]

        def sums(w):
            parts = (w, w[:, None] * x, w[:, None, None] * x[:, :, None] * x[:, None, :])
            return tuple(tail(a, so, k_stop) - tail(a, s0_, k_start) for a in parts)
    if not e.any():
        return nan
    if p == 1 and start is None:
        return _cox1(x[:, 0], e, ends, iters, 0.0 if beta0 is None or not np.isfinite(beta0[0]) else float(beta0[0]))
    xe = x[e].sum(axis=0)
    beta = np.zeros(p) if beta0 is None or not np.isfinite(beta0).all() else np.array(beta0, float)
    for _ in range(iters):
        s0, s1, s2 = sums(np.exp(x @ beta))
        m1 = s1 / s0[:, None]
        grad = xe - m1.sum(axis=0)
        info = (s2 / s0[:, None, None]).sum(axis=0) - m1.T @ m1
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return nan
        beta = beta + step
        if np.abs(beta).max() > 15 or not np.isfinite(beta).all():
            return nan
        if np.abs(step).max() < 1e-9:
            break
    s0, s1, s2 = sums(np.exp(x @ beta))
    m1 = s1 / s0[:, None]
    info = (s2 / s0[:, None, None]).sum(axis=0) - m1.T @ m1
    return beta, np.sqrt(np.diag(np.linalg.inv(info)))


def _cox1(x, e, ends, iters, beta=0.0):
    """One covariate, rows sorted by descending time: scalar Newton-Raphson."""
    xe = x[e].sum()
    x2 = x * x
    for _ in range(iters + 1):
        w = np.exp(beta * x)
        s0, s1, s2 = np.cumsum(w)[ends], np.cumsum(w * x)[ends], np.cumsum(w * x2)[ends]
        m1 = s1 / s0
        info = float((s2 / s0 - m1 * m1).sum())
        if info <= 0:
            return np.array([np.nan]), np.array([np.nan])
        step = (xe - m1.sum()) / info
        if abs(step) < 1e-9:
            return np.array([beta]), np.array([1 / np.sqrt(info)])
        beta += step
        if abs(beta) > 15:
            break
    return np.array([np.nan]), np.array([np.nan])


def cox_each(time, event, x, beta0=None, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Many univariate Cox fits at once, one per column of ``x`` (NaN: not in that fit).

    The same estimates as ``cox`` on each column alone (Breslow ties), with the
    work of all fits shared in one Newton-Raphson on (rows x fits) arrays.
    """
    time, event = np.asarray(time, float), np.asarray(event, bool)
    x = np.asarray(x, float).reshape(len(time), -1)
    order = np.argsort(-time, kind="stable")
    t, e, x = time[order], event[order], x[order]
    ends = (np.searchsorted(-t, -t, side="right") - 1)[e]
    inside = ~np.isnan(x)
    xz = np.where(inside, x, 0.0)
    ev_inside = inside[e]
    xe = xz[e].sum(axis=0)
    k = x.shape[1]
    beta = np.zeros(k) if beta0 is None else np.where(np.isfinite(beta0), beta0, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for _ in range(iters + 1):
            w = inside * np.exp(np.clip(xz * beta, -50, 50))
            s0, s1 = np.cumsum(w, axis=0)[ends], np.cumsum(w * xz, axis=0)[ends]
            s2 = np.cumsum(w * xz * xz, axis=0)[ends]
            m1 = np.where(ev_inside, s1 / s0, 0.0)
            info = np.where(ev_inside, s2 / s0 - m1 * m1, 0.0).sum(axis=0)
            step = (xe - m1.sum(axis=0)) / info
            if np.all(np.abs(step[np.isfinite(step)]) < 1e-9):
                break
            beta = beta + np.where(np.isfinite(step), step, 0.0)
    bad = ~(info > 0) | (np.abs(beta) > 15) | ~np.isfinite(step) | (np.abs(step) >= 1e-6)
    return np.where(bad, np.nan, beta), np.where(bad, np.nan, 1 / np.sqrt(np.where(info > 0, info, np.nan)))


def wald_p(beta, se) -> float:
    return float(math.erfc(abs(beta / se) / math.sqrt(2))) if np.isfinite(beta) and se > 0 else float("nan")


def km_median(time, event) -> float:
    """Kaplan-Meier median as R's ``quantile.survfit``: the first time S <= 0.5, midway on a flat 0.5."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    keep = ~np.isnan(time)
    time, event = time[keep], event[keep]
    ts, d = np.unique(time[event], return_counts=True)
    if len(ts) == 0:
        return float("nan")
    n_risk = len(time) - np.searchsorted(np.sort(time), ts, side="left")
    s = np.cumprod(1 - d / n_risk)
    below = np.flatnonzero(s <= 0.5 + 1e-9)
    if len(below) == 0:
        return float("nan")
    i = below[0]
    if abs(s[i] - 0.5) < 1e-9:
        return float((ts[i] + ts[i + 1]) / 2) if i + 1 < len(ts) else float((ts[i] + time.max()) / 2)
    return float(ts[i])


# ---------------------------------------------------------------------------
# The response analyses of notebook 05, on arrays, for the truth and the simulation.

def counting_process(time, event, flag, t_resp):
    """(start, stop, event, responded) rows: unexposed until the response time, exposed after."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    resp = np.asarray(flag, float) == 1
    tr = np.where(resp, np.asarray(t_resp, float), np.inf)
    split = resp & (tr > 0) & (tr < time)
    start = np.concatenate([np.zeros(len(time)), tr[split]])
    stop = np.concatenate([np.where(split, tr, time), time[split]])
    ev = np.concatenate([event & ~split, event[split]])
    exposed = np.concatenate([(resp & (tr <= 0)).astype(float), np.ones(split.sum())])
    return start, stop, ev, exposed


RESPONSE_ANALYSES = {
    "time_zero": "best response >=VGPR fixed from the first dose (as the paper)",
    "landmark_3m": "3-month landmark, >=VGPR reached by then (first-reached date)",
    "time_dependent": ">=VGPR as a time-dependent covariate from the date it was first reached",
    "time_dependent_best_date": ">=VGPR as a time-dependent covariate from the best-response date",
}


def response_analyses(time, event, flag, t_vgpr, t_best, landmark: float = 3.0) -> dict:
    """log HR and its standard error of >=VGPR by each analysis in ``RESPONSE_ANALYSES``."""
    time, event, flag = np.asarray(time, float), np.asarray(event, bool), np.asarray(flag, float)
    out = {"time_zero": cox(time, event, flag)}
    keep = time > landmark
    by_then = (flag == 1) & (np.nan_to_num(np.asarray(t_vgpr, float), nan=np.inf) <= landmark)
    out["landmark_3m"] = cox(time[keep] - landmark, event[keep], by_then[keep].astype(float))
    for name, tr in (("time_dependent", t_vgpr), ("time_dependent_best_date", t_best)):
        start, stop, ev, exposed = counting_process(time, event, flag, tr)
        out[name] = cox(stop, ev, exposed, start=start)
    return {k: (float(b[0]), float(s[0])) for k, (b, s) in out.items()}


def death_causes(obs) -> np.ndarray:
    """The cause of each death: 'myeloma' after a progression (on a next line, only once that line has
    progressed too), 'other' for a death without progression or early on a next line; '' for the living.
    The adverse-event deaths are set by the treatment layer."""
    died, progressed = np.asarray(obs["died"], bool), np.asarray(obs["progressed"], bool)
    on_next_unprogressed = np.asarray(obs["next_line"], bool) & ~np.asarray(obs["second_prog"], bool)
    cause = np.where(progressed & ~on_next_unprogressed, "myeloma", "other")
    return np.where(died, cause, "").astype(object)

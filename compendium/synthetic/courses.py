"""Layer 3 of the default cohort: the outcome histories, from the multi-state model.

The course of each patient by the data cut-off (progressed, died first, or neither; a next
line or not) is part of the printed counts, so it is fixed, and every time is drawn from the
model's hazards restricted to the window that gives that course
(``multistate.simulate(course=...)``). What the calibration search moves is a ``CourseState``:
the uniform numbers the times are drawn at, and who has which course. The stop reasons and
cycles are then laid on the drawn times (``assign_treatment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import betaincinv

from compendium import paths
from compendium.data.rules import ASCT_MAX_AGE, CYCLE_DELAY, CYCLE_STARTS, ON_TREATMENT_SEEN_DAYS, SC_DARATUMUMAB_DATE
from compendium.synthetic import multistate
from compendium.synthetic.baseline import COUNTS
from compendium.synthetic.seeds import ACCRUAL, DATA_CUTOFF, MONTH_DAYS, N
from compendium.report import cells

COURSES = {1: 51, 2: 4, 0: 30}  # progressed 48 + 3 who stopped for other reasons; died first 3 + 1; neither
TIME_KEYS = multistate.UNIFORMS + ("accrual",)
SEARCH_FILE = paths.SYNTHETIC_SEARCH


def accrual_windows() -> dict:
    """The first and last possible DaraVd start of each route: intravenous daratumumab until the day
    before subcutaneous daratumumab was reimbursed (``rules.SC_DARATUMUMAB_DATE``), subcutaneous from then
    to the end of accrual."""
    sc = np.datetime64(SC_DARATUMUMAB_DATE)
    return {"IV": (np.datetime64(ACCRUAL[0]), sc - np.timedelta64(1, "D")), "SC": (sc, np.datetime64(ACCRUAL[1]))}


def accrual_offsets(u: np.ndarray, span: int, margin: int = 14) -> np.ndarray:
    """Days from the first possible start of a window of ``span`` days, denser later (beta(2.5, 1) at u)."""
    return np.clip(np.rint(betaincinv(2.5, 1.0, u) * span), margin, span - margin).astype(int)


def start_dates(u: np.ndarray, route) -> np.ndarray:
    """DaraVd start dates at the uniforms u, each in the accrual window of its route ("IV" or "SC")."""
    u, route = np.asarray(u, float), np.asarray(route, dtype=object)
    out = np.empty(len(u), dtype="datetime64[D]")
    for name, (lo, hi) in accrual_windows().items():
        at = route == name
        span = int((hi - lo).astype(int))
        out[at] = lo + accrual_offsets(u[at], span, margin=min(14, span // 4)).astype("timedelta64[D]")
    return out


def admin_months(start: np.ndarray) -> np.ndarray:
    return (np.datetime64(DATA_CUTOFF) - start).astype(int) / MONTH_DAYS



def cycles_started(days: np.ndarray, rng) -> np.ndarray:
    """Cycles started up to each duration (days), each course stretched by its own delay factor."""
    stretch = 1 + rng.uniform(0, CYCLE_DELAY, size=len(days))
    started = np.searchsorted(CYCLE_STARTS, np.maximum(np.asarray(days, float), 1) / stretch, side="left")
    return np.maximum(2, started)


def lost_on_treatment(obs: pd.DataFrame, admin: np.ndarray) -> np.ndarray:
    """Patients without progression or death whose follow-up ends more than ``ON_TREATMENT_SEEN_DAYS``
    before the cut-off: a patient on DaraVd is seen every cycle, so these must have stopped it (and were
    lost to follow-up afterwards)."""
    free = ~np.asarray(obs["progressed"], bool) & ~np.asarray(obs["died"], bool)
    gap = np.rint(np.asarray(admin, float) * MONTH_DAYS) - np.rint(np.asarray(obs["last_t"], float) * MONTH_DAYS)
    return free & (gap > ON_TREATMENT_SEEN_DAYS)


def assign_treatment(rng, obs: pd.DataFrame, best: np.ndarray, age: np.ndarray, admin: np.ndarray) -> pd.DataFrame:
    """Stop reasons, stop times and cycles laid exactly on the simulated times (printed counts).

    The salvage transplant goes to a progressing patient of ``ASCT_MAX_AGE`` or younger who had stayed
    on DaraVd beyond cycle 4; the patients lost to follow-up while free of progression are among those
    who stopped for another reason (``lost_on_treatment``)."""
    best = np.asarray(best)
    progressed, dnp = obs["progressed"].to_numpy(), obs["death_noprog"].to_numpy()
    free = ~progressed & ~obs["died"].to_numpy()
    ends = COUNTS["end_reason"]
    reason = np.full(N, "", dtype=object)
    event_t = np.where(progressed, obs["progression_t"], obs["last_t"]).astype(float)
    # Progressors keep PD as the reason unless picked for the 'other' pool; best-response PD always does.
    prog_idx = np.flatnonzero(progressed)
    eligible = prog_idx[best[prog_idx] != "PD"]
    fit = eligible[(np.asarray(age)[eligible] <= ASCT_MAX_AGE) & (event_t[eligible] > 4.5)]
    asct = rng.choice(fit, p=event_t[fit] / event_t[fit].sum()) if len(fit) else rng.choice(eligible)
    rest = eligible[eligible != asct]
    w = event_t[rest]
    other_prog = rng.choice(rest, size=len(prog_idx) - ends["PD"] - 1, replace=False, p=w / w.sum())
    reason[prog_idx] = "PD"
    dnp_idx = np.flatnonzero(dnp)
    death_stop = rng.choice(dnp_idx, size=ends["death"], replace=False)
    reason[death_stop] = "death"
    free_idx = np.flatnonzero(free)
    lost = np.flatnonzero(lost_on_treatment(obs, admin))
    n_other_free = len(free_idx) - ends[""]
    stayed = np.setdiff1d(free_idx, lost)
    other_free = np.concatenate([lost[:n_other_free],
                                 rng.choice(stayed, size=max(0, n_other_free - len(lost)), replace=False)]).astype(int)
    pool = np.concatenate([other_prog, np.setdiff1d(dnp_idx, death_stop), other_free]).astype(int)
    reason[asct] = "ASCT"
    reason[pool] = list(rng.permutation(["toxicity"] * ends["toxicity"] + ["unknown"] * ends["unknown"]))
    stop_t = np.full(N, np.nan)
    stop_t[reason == "PD"] = obs["progression_t"].to_numpy()[reason == "PD"]
    stop_t[reason == "death"] = obs["death_t"].to_numpy()[reason == "death"] - rng.uniform(0.1, 0.6, size=ends["death"])
    for i in pool:  # stopped for another reason after cycle 2 and before the event
        stop_t[i] = rng.uniform(1.5, max(1.6, 0.85 * event_t[i]))
    stop_t[asct] = 3.5
    duration = np.where(np.isnan(stop_t), obs["last_t"], stop_t)
    cycles = cycles_started(np.rint(duration * MONTH_DAYS), rng)
    cycles[reason == "ASCT"] = 5
    next_line = obs["next_line"].to_numpy()
    return pd.DataFrame({"end_reason": reason, "stop_t": stop_t, "duration_t": duration,
                         "cycles_received": cycles, "next_line": next_line})



@dataclass
class CourseState:
    """What the search moves: the uniforms of every transition, and each patient's course."""

    u: dict
    outcome: np.ndarray
    next_line: np.ndarray

    def copy(self) -> "CourseState":
        return CourseState({k: v.copy() for k, v in self.u.items()}, self.outcome.copy(), self.next_line.copy())


def history(base: pd.DataFrame, cov: dict, state: CourseState, model=multistate.MODEL, frame: bool = True):
    """Start dates and the simulated history (months) of the 85 patients for one search state."""
    start = start_dates(state.u["accrual"], base["dara_route_start"].to_numpy())
    obs = multistate.simulate(state.u, cov, base["best_response"].to_numpy(), admin_months(start), model,
                              course={"outcome": state.outcome, "next_line": state.next_line})
    return start, (pd.DataFrame(obs) if frame else obs)


def initial_state(rng, base: pd.DataFrame, cov: dict) -> CourseState:
    u = {k: rng.uniform(size=N) for k in TIME_KEYS}
    risk = np.exp(multistate.linear_predictor(cov, multistate.MODEL.pfs_loghr) + multistate.MODEL.vgpr_loghr * cov["vgpr_or_better"])
    pd_best = (base["best_response"] == "PD").to_numpy()
    outcome = np.zeros(N, dtype=int)
    outcome[pd_best] = 1
    free = np.flatnonzero(~pd_best)
    w = risk[free] / risk[free].sum()
    chosen = rng.choice(free, size=COURSES[1] - pd_best.sum() + COURSES[2], replace=False, p=w)
    outcome[chosen[: COURSES[1] - pd_best.sum()]] = 1
    outcome[chosen[COURSES[1] - pd_best.sum():]] = 2
    prog = np.flatnonzero(outcome == 1)
    next_line = np.zeros(N, dtype=bool)
    next_line[rng.choice(prog, size=COUNTS["next_treatment"], replace=False)] = True
    return CourseState(u, outcome, next_line)


def whole_day_months(t):
    return np.rint(np.asarray(t, float) * MONTH_DAYS) / MONTH_DAYS


def endpoint_times(obs: pd.DataFrame) -> dict:
    """(time, event) per endpoint on whole days, as notebook 01 derives them from the dates."""
    last = whole_day_months(obs["last_t"])
    prog, death, nxt = (whole_day_months(obs[c]) for c in ("progression_t", "death_t", "next_t"))
    pfs_e = ~np.isnan(prog) | ~np.isnan(death)
    pfs_t = np.where(~np.isnan(prog), prog, np.where(~np.isnan(death), death, last))
    return {"pfs": (pfs_t, pfs_e), "os": (last, ~np.isnan(death)), "ttnt": (np.where(np.isnan(nxt), last, nxt), ~np.isnan(nxt)),
            "followup": (last, np.isnan(death))}


def save_state(state: CourseState, path=None) -> None:
    """The search's result, exact (floats written with repr, which reads back bit for bit)."""
    frame = pd.DataFrame({k: [repr(float(x)) for x in v] for k, v in state.u.items()})
    frame["outcome"], frame["next_line"] = state.outcome, state.next_line.astype(int)
    paths.atomic_write_text(Path(path or SEARCH_FILE), cells.to_csv(frame))


def load_state(path=None) -> CourseState:
    frame = pd.read_csv(path or SEARCH_FILE, dtype=str)
    u = {k: frame[k].map(float).to_numpy() for k in TIME_KEYS}
    return CourseState(u, frame["outcome"].astype(int).to_numpy(), frame["next_line"].astype(int).to_numpy() == 1)



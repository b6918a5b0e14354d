"""The calibration of the default cohort's histories to the paper, and its committed result.

A simulated-annealing search, with a fixed seed and a fixed number of steps, over the uniform
numbers that the times are drawn at and over who has which course: a step redraws one
patient's number for one transition (or swaps two patients' courses) and is kept when it
brings the estimates closer to the paper's. The counts cannot move, and every history stays
one the model can produce. The targets are the published values of the claims registry
(``calibration_targets``); the analyses themselves never see them. The search takes minutes,
so its result is committed (``courses.SEARCH_FILE``) and ``calibrated_state`` reads it.

The generator depends on the analyses here (the registry, the paper's specification, and the
R-tested estimators that ``calibration_report`` sets the targets against); nothing of the
analyses depends on the generator.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from compendium.data import spec as specs
from compendium.report import claims
from compendium.stats import models
from compendium.synthetic import multistate
from compendium.synthetic.baseline import COUNTS, construct_baseline, model_covariates
from compendium.synthetic.courses import (COURSES, SEARCH_FILE, TIME_KEYS, CourseState, admin_months, endpoint_times,
                                          history, initial_state, load_state, lost_on_treatment, whole_day_months)
from compendium.synthetic.seeds import CONSTRUCTION_SEED, N, OUTCOME_SEED, POLISH_STEPS, SEARCH_CHAINS, SEARCH_STEPS

#: The paper's tables and text rows the search aims at (data/spec/paper.toml).
PAPER_TABLES = ("T2", "T3", "T4", "T5", "R_pfs")


def analysis_covariates(base: pd.DataFrame) -> dict:
    """The covariates as notebook 04 codes them (NaN where not evaluable)."""
    def flag(cond, evaluable):
        return np.where(np.asarray(evaluable, bool), np.asarray(cond, float), np.nan)
    cyto, rel = base["cyto_risk_dx"], base["cyto_risk_relapse"]
    dex = base["dex_start_group"].to_numpy()
    return {
        "vgpr_or_better": base["best_response"].isin(["sCR", "CR", "VGPR"]).to_numpy(float),
        "age_ge65": (base["age"] >= 65).to_numpy(float),
        "emd_relapse": base["emd_relapse"].to_numpy(float),
        "cyto_high_risk_dx": flag(cyto == "high", cyto != ""),
        "cyto_high_risk_relapse": flag(rel == "high", rel != ""),
        "del17p_relapse": base["del17p_relapse"].to_numpy(float),
        "pc_ge60_relapse": flag(base["bm_pc_pct_relapse"] >= 60, base["bm_pc_pct_relapse"].notna()),
        "dex_dose_group": np.column_stack([(dex == g).astype(float) for g in ("20", "40", "80")]),
    }


def _paper_rows():
    paper = specs.load()
    return [row for table in PAPER_TABLES for row in paper.table(table).rows]


MEDIAN_CLAIMS = {  # claim id: (endpoint, group on >=VGPR or None)
    "R_pfs_median": ("pfs", None), "R_os_median": ("os", None), "R_ttnt_median": ("ttnt", None),
    "R_followup_median": ("followup", None), "R_pfs_median_vgpr": ("pfs", 1), "R_pfs_median_lt_vgpr": ("pfs", 0),
    "R_os_median_vgpr": ("os", 1), "R_os_median_lt_vgpr": ("os", 0),
}


def calibration_targets(registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published values the time layer aims at, read from the claims registry.

    Every hazard ratio, limit and p of Tables 2-5 and of the Results text, the
    Kaplan-Meier medians, and the median time to best response. ``kind``: ``hr``,
    ``limit`` (a 95% limit), ``p``, ``p_below`` (printed "<0.001"), ``months`` or ``not_reached``.
    """
    reg = (claims.load_registry() if registry is None else registry).set_index("claim_id")
    ids = [f"{row.claim}_{key}" for row in _paper_rows() for key in ("hr", "lcl", "ucl", "p")]
    ids += list(MEDIAN_CLAIMS) + ["R_time_to_best_response_median", "A_pfs_vgpr_p"]
    rows = []
    for cid in ids:
        if cid not in reg.index:
            continue
        r = reg.loc[cid]
        kind = r["unit"].lower()
        if kind == "hr" and cid.endswith(("_lcl", "_ucl")):
            kind = "limit"
        if kind == "p" and "<0.001" in r["note"]:
            kind = "p_below"
        if kind == "months" and np.isnan(r["published"]):
            kind = "not_reached"
        rows.append({"claim_id": cid, "published": r["published"], "tolerance": r["tolerance"], "kind": kind,
                     "basis": r["basis"]})
    return pd.DataFrame(rows)


OS_ONLY_KEYS = {"pps", "gap"}      # move these and only OS, TTNT and follow-up change
NO_TARGET_KEYS = {"next_pfs", "fit"}  # second progression is not a target; 'fit' is unused with a fixed course


def estimates(an: dict, obs: pd.DataFrame, best: np.ndarray, rows=None, endpoints=("pfs", "os", "ttnt", "followup"),
              warm: dict | None = None) -> dict:
    """Quick estimates of every calibrated claim (Breslow Cox, R's KM median rule).

    ``endpoints`` limits the work to claims of those endpoints (the time to best
    response goes with PFS); ``warm`` keeps each fit's coefficients to start the next.
    """
    ends = endpoint_times(obs)
    out = {}
    vg = an["vgpr_or_better"]
    for cid, (endpoint, group) in MEDIAN_CLAIMS.items():
        if endpoint in endpoints:
            t, e = ends[endpoint]
            keep = np.ones(len(t), bool) if group is None else vg == group
            out[cid] = multistate.km_median(t[keep], e[keep])
    if "pfs" in endpoints:
        resp = whole_day_months(np.where(best == "PD", obs["progression_t"], obs["best_t"]))
        out["R_time_to_best_response_median"] = float(np.nanmedian(resp))
    fits = {}
    warm = {} if warm is None else warm
    rows = rows or _paper_rows()
    for endpoint in ("pfs", "os"):  # the univariate fits of one endpoint, all at once
        names = sorted({r.covariate for r in rows if r.endpoint == endpoint and r.claim.split("_")[0] not in ("T4", "T5")
                        and r.covariate != "dex_dose_group"})
        if endpoint in endpoints and names:
            beta, se = multistate.cox_each(*ends[endpoint], np.column_stack([an[c] for c in names]),
                                           beta0=warm.get((endpoint, "each")))
            warm[(endpoint, "each")] = beta
            fits.update({(endpoint, c): ((c,), beta[i:i + 1], se[i:i + 1]) for i, c in enumerate(names)})
    for row in rows:
        if row.endpoint not in endpoints:
            continue
        t, e = ends[row.endpoint]
        model = row.claim.split("_")[0] in ("T4", "T5")
        key = (row.endpoint, "mv" if model else row.covariate)
        if key not in fits:
            names = ("vgpr_or_better", "emd_relapse", "age_ge65") if model else (row.covariate,)
            x = np.column_stack([an[c] for c in names])
            beta, se = multistate.cox(t, e, x, beta0=warm.get(key))
            warm[key] = beta
            fits[key] = (names, beta, se)
        names, beta, se = fits[key]
        j = names.index(row.covariate)
        if row.covariate == "dex_dose_group":
            j = ("20", "40", "80").index(row.level)
        b, s = beta[j], se[j]
        sign = -1.0 if row.invert else 1.0
        out[f"{row.claim}_hr"] = float(np.exp(sign * b))
        lo, hi = np.exp(sign * b - 1.959964 * s), np.exp(sign * b + 1.959964 * s)
        out[f"{row.claim}_lcl"], out[f"{row.claim}_ucl"] = float(lo), float(hi)
        out[f"{row.claim}_p"] = multistate.wald_p(b, s)
    if "T2_vgpr_p" in out:
        out["A_pfs_vgpr_p"] = out["T2_vgpr_p"]
    return out


HR_BOUND = 0.1       # the bound: |log HR - log published| <= 0.1
MEDIAN_BOUND = 0.5   # months


def within_bounds(kind: str, value: float, published: float) -> bool:
    """The issue's acceptance bounds for one claim (looser than the printed precision)."""
    if kind == "not_reached":
        return bool(np.isnan(value))
    if np.isnan(value):
        return False
    if kind in ("hr", "limit"):
        return abs(np.log(value / published)) <= HR_BOUND
    if kind == "p_below":
        return value < 0.001
    if kind == "p":
        return (value < 0.05) == (published < 0.05)
    return abs(value - published) <= MEDIAN_BOUND + 1e-9


NOT_ESTIMATED_LOSS = 5000.0  # worse than any estimate: the search must never buy a target by losing a fit


def _claim_loss(kind, value, published, tol) -> float:
    """0 inside the printed precision; grows with the distance; large outside the issue's bounds.

    The issue's bounds bind hazard ratios, the side of p and medians; a confidence
    limit outside them costs a tenth as much, so the search settles those first.
    """
    if kind == "not_reached":
        return 0.0 if np.isnan(value) else 1000.0
    if np.isnan(value):
        return NOT_ESTIMATED_LOSS
    if kind == "p_below":
        return 0.0 if value < 0.0009 else 25 * (1 + 10 * min(np.log(value / 0.0009), 3.0))
    if kind == "months":
        err, width, bound = abs(value - published), tol, MEDIAN_BOUND
    else:
        err, width = abs(np.log(value / published)), np.log1p(tol / published)
        bound = HR_BOUND
    loss = min(max(0.0, err / width - 0.7), 30.0) ** 2 * 0.05
    if kind == "p":
        side = np.log(value / 0.05) if published < 0.05 else np.log(0.05 / value)
        loss += 0.0 if side < -0.05 else 25 * (1 + 10 * min(side + 0.05, 3.0))
    elif err > bound * 0.9:
        loss += (0.1 if kind == "limit" else 1.0) * 25 * (1 + 10 * min((err - bound * 0.9) / bound, 10.0))
    return float(loss)


def calibration_loss(values: dict, targets) -> float:
    """Sum of the claims' losses; ``targets`` as from ``calibration_targets`` (or its records)."""
    records = targets.to_dict("records") if isinstance(targets, pd.DataFrame) else targets
    return float(sum(_claim_loss(t["kind"], values[t["claim_id"]], t["published"], t["tolerance"]) for t in records))


#: A state whose histories the treatment layer cannot lay the printed stop reasons on costs this much per patient.
INFEASIBLE_LOSS = 1000.0


def infeasible(start: np.ndarray, obs) -> int:
    """Patients too many for the printed stop reasons: a patient free of progression and death whose follow-up
    ends long before the cut-off stopped DaraVd (``courses.lost_on_treatment``), and only
    ``COURSES[0] - COUNTS['end_reason']['']`` of them did."""
    lost = int(lost_on_treatment(obs, admin_months(start)).sum())
    return max(0, lost - (COURSES[0] - COUNTS["end_reason"][""]))


def _move(rng, state: CourseState, pd_best: np.ndarray) -> tuple[CourseState, str]:
    """One step of the search: the new state, and which uniform it redrew ('' for a course swap)."""
    new = state.copy()
    r = rng.uniform()
    if r < 0.6:
        key = TIME_KEYS[rng.integers(len(TIME_KEYS))]
        new.u[key][rng.integers(N)] = rng.uniform()
        return new, key
    if r < 0.72:  # two patients exchange their whole draw and course (their covariates stay)
        a, b = rng.integers(N, size=2)
        if not pd_best[a] and not pd_best[b]:
            for v in new.u.values():
                v[a], v[b] = v[b], v[a]
            new.outcome[a], new.outcome[b] = new.outcome[b], new.outcome[a]
            new.next_line[a], new.next_line[b] = new.next_line[b], new.next_line[a]
        return new, ""
    if r < 0.88:
        a, b = rng.integers(N, size=2)
        if new.outcome[a] != new.outcome[b] and not pd_best[a] and not pd_best[b]:
            new.outcome[a], new.outcome[b] = new.outcome[b], new.outcome[a]
            new.next_line[a], new.next_line[b] = new.next_line[b], new.next_line[a]
            # a patient moved out of 'progressed' cannot keep a next line: give it to the one moved in
            for i, j in ((a, b), (b, a)):
                if new.outcome[i] != 1 and new.next_line[i]:
                    new.next_line[i], new.next_line[j] = False, True
    else:
        prog = np.flatnonzero(new.outcome == 1)
        yes, no = prog[new.next_line[prog]], prog[~new.next_line[prog]]
        if len(yes) and len(no):
            new.next_line[rng.choice(yes)], new.next_line[rng.choice(no)] = False, True
    return new, ""


@lru_cache(maxsize=4)
def calibrated_state(outcome_seed: int = OUTCOME_SEED) -> CourseState:
    """The search's result for the default seed as committed (``SEARCH_FILE``); another seed is searched afresh."""
    if outcome_seed == OUTCOME_SEED and SEARCH_FILE.exists():
        return load_state()
    return search(outcome_seed)[0]


def search(outcome_seed: int = OUTCOME_SEED, steps: int = SEARCH_STEPS, progress: bool = False,
           chains: int = SEARCH_CHAINS, polish_steps: int = POLISH_STEPS):
    """The search behind ``calibrated_state``: ``chains`` independent chains, from the seeds
    ``outcome_seed``, ``outcome_seed + 1``, ...; the state of the chain with the lowest final loss (the
    first on a tie), polished by ``polish_steps`` more steps that accept no worse state (from the seed
    ``outcome_seed + chains``), and that chain's trace (step, loss, chain) with the polish after it."""
    best = None
    for chain in range(chains):
        state, trace = search_chain(outcome_seed + chain, steps, progress)
        trace["chain"] = chain
        if progress:
            print(f"chain {chain}: final loss {trace['loss'].iloc[-1]:.3f}", flush=True)
        if best is None or trace["loss"].iloc[-1] < best[1]["loss"].iloc[-1]:
            best = (state, trace)
    if polish_steps:
        state, polished = search_chain(outcome_seed + chains, polish_steps, progress, from_state=best[0], temp0=0.0)
        polished = polished.iloc[1:].assign(step=lambda t: t["step"] + steps, chain=best[1]["chain"].iloc[0])
        best = (state, pd.concat([best[1], polished], ignore_index=True))
        if progress:
            print(f"polished: final loss {best[1]['loss'].iloc[-1]:.3f}", flush=True)
    return best


def search_chain(outcome_seed: int, steps: int = SEARCH_STEPS, progress: bool = False,
                 from_state: CourseState | None = None, temp0: float = 20.0):
    """One chain of the search from its own seed; also returns its trace (step, loss). From ``from_state``
    rather than a drawn state, and at ``temp0 = 0``, it is the polish: it accepts no state of a higher loss,
    nor one with more of the issue's bounds unmet (a lower loss bought with a bound lost)."""
    base = construct_baseline(np.random.default_rng(CONSTRUCTION_SEED))
    cov, an = model_covariates(base), analysis_covariates(base)
    best_resp = base["best_response"].to_numpy()
    pd_best = best_resp == "PD"
    targets = calibration_targets().to_dict("records")
    rng = np.random.default_rng([CONSTRUCTION_SEED, outcome_seed])
    state = initial_state(rng, base, cov) if from_state is None else from_state.copy()
    bounded = [t for t in targets if t["kind"] not in ("limit", "not_reached")]

    def unmet(v: dict) -> int:
        return sum(not within_bounds(t["kind"], v[t["claim_id"]], t["published"]) for t in bounded)
    warm = {}
    start, obs = history(base, cov, state, frame=False)
    values = estimates(an, obs, best_resp, warm=warm)
    bad = infeasible(start, obs)
    loss = calibration_loss(values, targets) + INFEASIBLE_LOSS * bad
    misses = unmet(values)
    trace = [(0, loss)]
    for step in range(1, steps + 1):
        cand, key = _move(rng, state, pd_best)
        if key in NO_TARGET_KEYS:
            cand_values, cand_bad = values, bad
        else:
            scope = ("os", "ttnt", "followup") if key in OS_ONLY_KEYS else ("pfs", "os", "ttnt", "followup")
            start, obs = history(base, cov, cand, frame=False)
            cand_values = {**values, **estimates(an, obs, best_resp, endpoints=scope, warm=warm)}
            cand_bad = infeasible(start, obs)
        cand_loss = calibration_loss(cand_values, targets) + INFEASIBLE_LOSS * cand_bad
        temp = temp0 * (1 - step / steps) + 1e-3
        cand_misses = unmet(cand_values)
        if temp0 == 0:
            take = cand_loss <= loss and cand_misses <= misses
        else:
            take = cand_loss <= loss or rng.uniform() < np.exp(-(cand_loss - loss) / temp)
        if take:
            state, loss, values, bad, misses = cand, cand_loss, cand_values, cand_bad, cand_misses
        if step % 250 == 0:
            trace.append((step, loss))
            if progress:
                print(f"step {step}: loss {loss:.3f}", flush=True)
    return state, pd.DataFrame(trace, columns=["step", "loss"])


def achieved(analysis: pd.DataFrame) -> dict:
    """Every calibration target as the analysis notebooks compute it (R conventions, ``compendium.stats.survival``)."""
    km = models.km_results(analysis, specs.load())
    km = km[km["conf_type"] == "log"].set_index(["endpoint", "group"])["median"]
    out = {}
    for cid, (endpoint, group) in MEDIAN_CLAIMS.items():
        out[cid] = float(km[endpoint, "all" if group is None else f"vgpr_or_better={group}"])
    out["R_time_to_best_response_median"] = float(analysis["response_months"].median())
    uni = models.univariate_results(analysis, specs.load(), endpoints=("pfs", "os"))
    multi = models.multivariable_results(analysis, specs.load())
    for row in _paper_rows():
        table = multi if row.claim.split("_")[0] in ("T4", "T5") else uni
        for key, value in models.oriented(table, row).items():
            if key in ("hr", "lcl", "ucl", "p"):
                out[f"{row.claim}_{key}"] = float(value)
    out["A_pfs_vgpr_p"] = out["T2_vgpr_p"]
    return out


def calibration_report(analysis: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each target beside what the analyses compute: match at the printed precision, and within the issue's bounds."""
    registry = claims.load_registry() if registry is None else registry
    targets = calibration_targets(registry)
    values = achieved(analysis)
    reg = registry.set_index("claim_id")
    rows = []
    for t in targets.itertuples(index=False):
        v = values[t.claim_id]
        precise = claims.status(t.published, v, t.tolerance) == "match"
        if t.kind == "p_below":
            precise = bool(v < 0.001)
        rows.append({"claim_id": t.claim_id, "location": reg.loc[t.claim_id, "location"],
                     "quantity": reg.loc[t.claim_id, "quantity"], "registry basis": t.basis,
                     "published": t.published, "achieved": v, "printed precision": precise,
                     "within bounds": within_bounds(t.kind, v, t.published)})
    return pd.DataFrame(rows)



"""The synthetic cohort: 85 made-up patients in the raw format of ``data/dictionary.csv``.

The study's patient-level data (Zenodo, doi 10.5281/zenodo.16091434) cannot be
fetched here, so the compendium ships a cohort made by this module. It is NOT
patient data. It is built in three layers:

1. **Constructed** marginals: every count the paper prints for Table 1, first-line
   therapy, response, treatment modifications and Table 6 is laid down exactly,
   and continuous variables get the paper's median and quartiles as order
   statistics (R's default quantile, type 7: with n = 85 the quartiles are the
   22nd, 43rd and 64th values, so no interpolation is involved).
2. **Assumed joint structure** where the paper is silent (``ASSUMPTIONS``):
   transplanted patients are younger, full-dose dexamethasone goes to younger
   patients, extramedullary disease goes with poorer response, and so on.
3. **Histories from a multi-state model** (``compendium.synthetic.multistate``): response
   kinetics, progression with response as a time-dependent effect, death from every
   state, next line and second progression. For the 85 patients the course by the
   cut-off is fixed by the printed counts and the times are drawn within it; a
   simulated-annealing search over the draws (``search``, fixed seed, committed
   result ``calibration_search.csv``) brings the survival estimates to the paper's,
   read from the claims registry (``calibration_targets``). The analyses themselves
   never see the targets.

``generate()`` is deterministic: the same code gives the same file, byte for byte.
``generate_any(n, seed)`` draws any number of patients from the same model (nothing
pinned), vectorised; ``truth()`` is the generator's known truth, exported beside the
cohort; ``clinical_rules`` checks every history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from compendium.synthetic import multistate
from compendium import paths
from compendium.report import cells

N = 85
MONTH_DAYS = 30.4375
CONSTRUCTION_SEED = 20251020  # the paper's acceptance date
OUTCOME_SEED = 4729           # choose_seed(calibrate(range(20000))); see notebook 00
ACCRUAL = (date(2018, 6, 1), date(2022, 12, 31))
DATA_CUTOFF = date(2023, 9, 30)

# Counts the paper prints (constructed exactly). Where the paper contradicts
# itself, the choice is named in ASSUMPTIONS.
COUNTS = {
    "sex": {"M": 37, "F": 48},
    "age_group": {"<65": 31, "65-70": 16, ">70": 38},
    "isotype": {"IgG": 51, "IgA": 15, "IgD": 1, "BJ": 18},
    "iss_dx": {"I": 39, "II": 28, "III": 16, "": 2},
    "riss_dx": {"I": 22, "II": 34, "III": 5, "": 24},
    "cyto_risk_dx": {"high": 16, "standard": 44, "": 25},
    "pc_relapse": {"<60": 28, ">=60": 9, "": 48},
    "emd_relapse": {1: 5, 0: 63, "": 17},
    "asct_first_line": {"single": 26, "double": 21, "none": 38},
    "first_line_class": {"bortezomib": 40, "lenalidomide": 35, "carfilzomib": 10},
    "cyto_risk_relapse": {"high": 14, "standard": 10, "": 61},
    "best_response": {"sCR": 4, "CR": 17, "VGPR": 30, "PR": 21, "MR": 3, "SD": 5, "PD": 5},
    "dex_start_group": {"full": 27, "80": 22, "40": 26, "20": 10},
    "end_reason": {"PD": 48, "toxicity": 3, "death": 3, "ASCT": 1, "unknown": 2, "": 28},
    "dara_doses_skipped": {0: 58, 1: 17, 2: 4, 3: 2, 4: 2, 5: 2},
    "bortezomib_dose_reduced": {1: 39, 0: 46},
    "bortezomib_reduced_in_first_3_cycles": 24,
    "bortezomib_weekly_switch": {1: 25, 0: 60},
    "dara_route_start": {"IV": 82, "SC": 3},
    "bortezomib_start_dose_mg_m2": {1.3: 82, 1.0: 2, 0.7: 1},
    "next_treatment": 45,
    "montelukast_omitted": 6,
    "montelukast_omitted_with_irr": 2,
    "any_ae": 77,
    "ae_grade_ge2": 72,
}
# Order statistics at ranks 22, 43 and 64 of 85 (R type-7 quartiles), plus range where printed.
QUANTILES = {
    "creatinine_mg_dl": {"q1": 0.72, "median": 0.85, "q3": 1.01, "lo": 0.48, "hi": 2.6, "decimals": 2},
    "calcium_mg_dl": {"q1": 8.8, "median": 9.1, "q3": 9.6, "lo": 7.9, "hi": 11.4, "decimals": 1},
    "len_exposure_months": {"q1": 7.25, "median": 12.5, "q3": 22.75, "lo": 2.0, "hi": 95.0, "decimals": 2},
}
# Table 6 grade rows, exactly as printed; G3/4 split into G3 and G4 by assumption.
AE_GRADES = {
    "thrombocytopenia": {1: 5, 2: 12, 3: 18, 4: 9},
    "pn": {1: 14, 2: 26, 3: 6},
    "anemia": {1: 28, 2: 15, 3: 5},
    "infection": {1: 6, 2: 18, 3: 12, 4: 1, 5: 2},
    "asthenia": {1: 18, 2: 9, 3: 4},
    "neutropenia": {1: 7, 2: 10, 3: 4, 4: 2},
    "diarrhoea": {1: 11, 2: 7, 3: 1},
    "constipation": {1: 12, 2: 4},
    "pneumonia": {1: 1, 2: 4, 3: 6, 5: 1},
    "irr": {1: 4, 2: 6},
    "nausea": {1: 8, 2: 1},
    "skin_rash": {1: 1, 2: 6},
    "hepatic": {1: 1, 2: 1, 3: 1},
    "herpes_zoster": {2: 1},
}
PN_OUTCOME = {"resolved": 15, "improved": 21, "unchanged": 10}
CENTER_SIZES = [30, 10, 8, 7, 7, 6, 5, 5, 4, 3]

ASSUMPTIONS = [
    "Best response split where the paper gives only ORR 72, >=VGPR 51 and >=CR 21: "
    "sCR 4, CR 17, VGPR 30, PR 21, MR 3, SD 5, PD 5.",
    "Dexamethasone: only the 27 full-dose starters are printed; the other 58 are split "
    "80 mg/week 22, 40 mg/week 26, 20 mg/week 10. Full dose goes preferentially to patients under 65.",
    "Cytogenetic risk at relapse follows the Results (14 high, 10 standard of 24), not the "
    "Abstract (7, 29%), because 14 + 10 adds up to the 24 evaluable patients; del(17p) in 6 of the 14.",
    "Chromosome 1: one del1p, one gain1q, one amp1q at diagnosis and one gain1q, one amp1q at "
    "relapse, in different patients, so two patients carry amp1q.",
    "Table 6: the grade rows are laid down exactly and the any-grade totals are their sums. "
    "Where the printed total differs from the sum of its rows (infusion-related reaction 11 vs 10, "
    "infection 36 vs 39, pneumonia 11 vs 12) the total will not match. G3/4 rows are split into "
    "G3 and G4 by assumption; pneumonia and herpes zoster are nested within infection.",
    "Both adverse-event deaths (infection grade 5, one of them pneumonia grade 5) are among the "
    "three patients who stopped DaraVd because of death.",
    "ISS/R-ISS/FISH are made mutually consistent: R-ISS I only in ISS I with standard risk, "
    "R-ISS III only in ISS III; one R-ISS-evaluable patient has no FISH (61 vs 60 evaluable, as printed).",
    "Lenalidomide dose at relapse: 10 mg 47, 25 mg 16, 15 mg 5, 20 mg 3, 5 mg 7, 2.5 mg 3, unknown 4; "
    "maintenance after ASCT starts at 10 mg, continuous Rd at 25 mg (15 or 10 mg in some).",
    "Accrual is spread from June 2018 to December 2022, denser in later years; data cut-off "
    "30 September 2023; about one patient in twelve is lost to follow-up earlier (after the best response).",
    "Courses by the cut-off: 51 progressed (the 48 who stopped for PD, and 3 who stopped earlier for "
    "another reason), 4 died without progression (the 3 who stopped because of death, and 1 who had "
    "stopped earlier), 30 neither (the 28 still on treatment and 2 who stopped for another reason); "
    "45 of the 51 progressing patients started a next line.",
    "A documented response is confirmed at the next assessment (4 weeks) and precedes progression by "
    "at least 4 more weeks; best response PD is the progression date; stopping for PD happens on the "
    "progression date.",
    "Ages at DaraVd start are whole years; creatinine has two decimals, calcium one; lenalidomide "
    "exposure is drawn to its quartiles in months and stored as dates, so day resolution "
    "moves it by at most 0.02 months.",
]


def _months_to_days(months):
    return np.rint(np.asarray(months, dtype=float) * MONTH_DAYS).astype(int)


def _shuffled(rng, counts: dict) -> np.ndarray:
    values = np.concatenate([[k] * v for k, v in counts.items()]) if counts else np.array([])
    return rng.permutation(np.array(values, dtype=object))


def _assign(rng, counts: dict, weights: dict | None = None, n: int = N) -> np.ndarray:
    """Exact counts per level; ``weights[level]`` (length n, positive) tilts who gets which level.

    Levels are filled in the order given, each by weighted sampling without
    replacement among the patients still free, so the joint structure follows
    the weights while every marginal count stays exact.
    """
    out = np.empty(n, dtype=object)
    free = np.ones(n, dtype=bool)
    levels = list(counts)
    for level in levels[:-1]:
        w = np.ones(n) if not weights or level not in weights else np.asarray(weights[level], float)
        w = np.where(free, w, 0.0)
        chosen = rng.choice(n, size=counts[level], replace=False, p=w / w.sum())
        out[chosen] = level
        free[chosen] = False
    out[free] = levels[-1]
    assert free.sum() == counts[levels[-1]]
    return out


def anchored_sample(rng, q1, median, q3, lo, hi, decimals, n=N) -> np.ndarray:
    """n values whose order statistics 1, 22, 43, 64 and 85 are lo, q1, median, q3, hi."""
    k = (n - 1) // 4  # 21 values strictly between consecutive anchors
    segments = [(lo, q1), (q1, median), (median, q3), (q3, hi)]
    values = [lo, q1, median, q3, hi]
    for a, b in segments:
        inner = rng.uniform(a, b, size=k - 1)
        values.extend(np.clip(np.round(inner, decimals), a, b))
    values = np.sort(np.array(values))
    return values


def _order_by_score(rng, values_sorted: np.ndarray, score: np.ndarray, noise: float) -> np.ndarray:
    """Give higher values to higher scores, loosened by Gaussian noise (rank coupling)."""
    noisy = score + rng.normal(0, noise, size=len(score))
    out = np.empty(len(score))
    out[np.argsort(noisy, kind="stable")] = values_sorted
    return out


def _ages(rng) -> np.ndarray:
    young = rng.integers(44, 65, size=31)
    middle = np.array([65, 65, 66, 66, 66, 67, 67, 67, 68, 68, 68, 68, 69, 69, 70, 70])
    old = rng.integers(71, 84, size=38)
    return rng.permutation(np.concatenate([young, middle, old]))


def construct_baseline(rng) -> pd.DataFrame:
    """Layer 1 and 2: every patient's baseline, exact to the printed counts."""
    age = _ages(rng)
    young = (age < 65).astype(float)
    df = pd.DataFrame({"patient_id": [f"SYN{i:03d}" for i in range(1, N + 1)]})
    df["center"] = rng.permutation(np.repeat([f"C{i:02d}" for i in range(1, 11)], CENTER_SIZES))
    df["age"] = age
    df["sex"] = _assign(rng, COUNTS["sex"])
    df["isotype"] = _assign(rng, COUNTS["isotype"])
    # Transplant goes to the younger patients; double ASCT by centre policy (random).
    asct_w = np.exp(-0.25 * (age - 65))
    asct = _assign(rng, {"any": 47, "none": 38}, {"any": asct_w})
    double = _assign(rng, {"double": 21, "single": 26}, n=47)
    asct[asct == "any"] = double
    df["asct_first_line"] = asct
    # Continuous Rd is the transplant-ineligible backbone; triplets otherwise.
    non_asct = (asct == "none").astype(float)
    df["first_line_class"] = _assign(
        rng, {"lenalidomide": 35, "carfilzomib": 10, "bortezomib": 40},
        {"lenalidomide": 0.02 + 50 * non_asct, "carfilzomib": 0.2 + (1 - non_asct)})
    # Staging: ISS with nested R-ISS and FISH (see ASSUMPTIONS).
    iss = _assign(rng, COUNTS["iss_dx"])
    riss = np.empty(N, dtype=object)
    plan = {"I": {"I": 22, "II": 8, "": 9}, "II": {"II": 19, "": 9}, "III": {"III": 5, "II": 7, "": 4}, "": {"": 2}}
    for stage, split in plan.items():
        idx = np.flatnonzero(iss == stage)
        riss[idx] = _assign(rng, split, n=len(idx))
    cyto = np.full(N, "", dtype=object)
    for stage, split in {"I": {"standard": 22}, "III": {"high": 3, "standard": 2},
                         "II": {"high": 13, "standard": 20, "": 1}}.items():
        idx = np.flatnonzero(riss == stage)
        cyto[idx] = _assign(rng, split, n=len(idx))
    df["iss_dx"], df["riss_dx"], df["cyto_risk_dx"] = iss, riss, cyto
    evaluable = np.flatnonzero(cyto != "")
    chr1 = np.full(N, "", dtype=object)
    chr1[evaluable] = "none"
    picks = rng.choice(evaluable, size=3, replace=False)
    chr1[picks] = ["del1p", "gain1q", "amp1q"]
    df["chr1_dx"] = chr1
    # FISH at relapse in 24: high-risk at diagnosis tends to stay high-risk.
    rel_w = np.where(cyto == "high", 3.0, 1.0)
    tested = _assign(rng, {"yes": 24, "no": 61}, {"yes": rel_w}) == "yes"
    tested_idx = np.flatnonzero(tested)
    hi_w = np.where(cyto[tested_idx] == "high", 6.0, 1.0)
    cyto_rel = np.full(N, "", dtype=object)
    cyto_rel[tested_idx] = _assign(rng, {"high": 14, "standard": 10}, {"high": hi_w}, n=24)
    df["cyto_risk_relapse"] = cyto_rel
    del17p = np.full(N, np.nan)
    del17p[tested_idx] = 0
    del17p[rng.choice(np.flatnonzero(cyto_rel == "high"), size=6, replace=False)] = 1
    df["del17p_relapse"] = del17p
    chr1_rel = np.full(N, "", dtype=object)
    chr1_rel[tested_idx] = "none"
    others = [i for i in tested_idx if chr1[i] != "amp1q"]
    chr1_rel[rng.choice(others, size=2, replace=False)] = ["gain1q", "amp1q"]
    df["chr1_relapse"] = chr1_rel
    # Marrow plasma cells and EMD at relapse.
    pc_cat = _assign(rng, COUNTS["pc_relapse"])
    pc = np.full(N, np.nan)
    pc[pc_cat == "<60"] = np.round(rng.uniform(5, 59, size=28))
    pc[pc_cat == ">=60"] = np.round(rng.uniform(60, 90, size=9))
    df["bm_pc_pct_relapse"] = pc
    emd = _assign(rng, {1: 5, 0: 63, "": 17})
    df["emd_relapse"] = np.where(emd == "", np.nan, emd).astype(float)
    for col in ("creatinine_mg_dl", "calcium_mg_dl"):
        q = QUANTILES[col]
        df[col] = rng.permutation(anchored_sample(rng, q["q1"], q["median"], q["q3"], q["lo"], q["hi"], q["decimals"]))
    # Response: EMD and high-risk FISH make >=VGPR less likely (Table 4 vs Table 2).
    adverse = (df["emd_relapse"].fillna(0) + (cyto == "high") * 0.3).to_numpy()
    good = np.exp(-1.2 * adverse)
    df["best_response"] = _assign(rng, COUNTS["best_response"],
                                  {k: good if k in ("sCR", "CR", "VGPR") else np.ones(N) for k in COUNTS["best_response"]})
    # Dexamethasone: full dose mostly in the under-65s.
    df["dex_start_group"] = _assign(rng, COUNTS["dex_start_group"], {"full": 0.3 + 4 * young, "20": 0.3 + (age >= 75)})
    return df


def _first_line(rng, df: pd.DataFrame, start: np.ndarray) -> pd.DataFrame:
    """First-line dates and lenalidomide doses, working back from the DaraVd start."""
    q = QUANTILES["len_exposure_months"]
    exposure_sorted = anchored_sample(rng, q["q1"], q["median"], q["q3"], q["lo"], q["hi"], q["decimals"])
    # Continuous Rd patients stay on lenalidomide longer than post-ASCT maintenance.
    score = (df["asct_first_line"] == "none").to_numpy(float) * 1.5
    exposure = _order_by_score(rng, exposure_sorted, score, noise=1.0)
    relapse_gap = rng.integers(7, 60, size=N)            # relapse to DaraVd start, days
    len_stop_gap = rng.integers(0, 45, size=N)            # last lenalidomide dose before relapse
    relapse = start - relapse_gap.astype("timedelta64[D]")
    len_end = relapse - len_stop_gap.astype("timedelta64[D]")
    len_start = len_end - _months_to_days(exposure).astype("timedelta64[D]")
    asct = df["asct_first_line"].to_numpy()
    induction = np.where(asct == "none", np.where(df["first_line_class"] == "lenalidomide", 0.0, 5.0),
                         np.where(asct == "double", 14.0, 10.0)) + rng.gamma(4, 0.5, size=N)
    fl_start = len_start - _months_to_days(induction).astype("timedelta64[D]")
    diagnosis = fl_start - rng.integers(5, 40, size=N).astype("timedelta64[D]")
    out = pd.DataFrame({
        "diagnosis_date": diagnosis, "first_line_start_date": fl_start,
        "len_start_date": len_start, "len_end_date": len_end, "first_relapse_date": relapse,
    })
    # Dose at relapse (see ASSUMPTIONS): Rd patients carry the higher doses.
    rd = asct == "none"
    pd_dose = np.full(N, np.nan)
    pd_dose[np.flatnonzero(rd)] = rng.permutation([25] * 16 + [20] * 3 + [15] * 5 + [10] * 10 + [5] * 2 + [np.nan] * 2)
    pd_dose[np.flatnonzero(~rd)] = rng.permutation([10] * 37 + [5] * 5 + [2.5] * 3 + [np.nan] * 2)
    start_dose = np.where(rd, 25.0, 10.0)
    lowered = rd & (pd_dose <= 10)
    start_dose[lowered] = rng.choice([25.0, 15.0, 10.0], size=lowered.sum(), p=[0.6, 0.25, 0.15])
    start_dose[np.isnan(pd_dose)] = np.nan
    out["len_dose_start_mg"], out["len_dose_pd_mg"] = start_dose, pd_dose
    cfz = np.flatnonzero(df["first_line_class"] == "carfilzomib")
    out["carfilzomib_refractory"] = 0
    out.loc[rng.choice(cfz), "carfilzomib_refractory"] = 1
    return out


def model_covariates(df: pd.DataFrame) -> dict:
    """The true covariate values the multi-state model uses (missing = absent)."""
    resp = df["best_response"]
    cov = {
        "vgpr_or_better": resp.isin(["sCR", "CR", "VGPR"]),
        "age_ge65": df["age"] >= 65,
        "emd_relapse": df["emd_relapse"].fillna(0) == 1,
        "pc_ge60": df["bm_pc_pct_relapse"] >= 60,
        "cyto_high_dx": df["cyto_risk_dx"] == "high",
        "del17p": df["del17p_relapse"].fillna(0) == 1,
        "amp1q": (df["chr1_dx"] == "amp1q") | (df["chr1_relapse"] == "amp1q"),
        "dex_full": df["dex_start_group"] == "full",
        "sd_mr_best": resp.isin(["SD", "MR"]),
    }
    return {k: np.asarray(v, float) for k, v in cov.items()}


def accrual_offsets(u: np.ndarray) -> np.ndarray:
    """Days from the first possible start, denser in later years (beta(2.5, 1) at the uniforms u)."""
    from scipy.special import betaincinv
    lo, hi = (np.datetime64(d) for d in ACCRUAL)
    span = int((hi - lo).astype(int))
    return np.clip(np.rint(betaincinv(2.5, 1.0, u) * span), 14, span - 14).astype(int)


def start_dates(u: np.ndarray) -> np.ndarray:
    return np.datetime64(ACCRUAL[0]) + accrual_offsets(u).astype("timedelta64[D]")


def admin_months(start: np.ndarray) -> np.ndarray:
    return (np.datetime64(DATA_CUTOFF) - start).astype(int) / MONTH_DAYS


# Nominal cycle starts (days): eight 21-day DaraVd cycles, then 28-day daratumumab cycles.
CYCLE_STARTS = np.concatenate([np.arange(8) * 21, 168 + np.arange(400) * 28])
CYCLE_DELAY = 0.15  # cycles may stretch by up to 15% (delays for toxicity, holidays)


def _cycles(days: np.ndarray, rng) -> np.ndarray:
    """Cycles started up to each duration (days), each course stretched by its own delay factor."""
    stretch = 1 + rng.uniform(0, CYCLE_DELAY, size=len(days))
    started = np.searchsorted(CYCLE_STARTS, np.maximum(np.asarray(days, float), 1) / stretch, side="left")
    return np.maximum(2, started)


def assign_treatment(rng, obs: pd.DataFrame, best: np.ndarray) -> pd.DataFrame:
    """Stop reasons, stop times and cycles laid exactly on the simulated times (printed counts)."""
    progressed, dnp = obs["progressed"].to_numpy(), obs["death_noprog"].to_numpy()
    free = ~progressed & ~obs["died"].to_numpy()
    reason = np.full(N, "", dtype=object)
    # Progressors keep PD as the reason unless picked for the 'other' pool; best-response PD always does.
    prog_idx = np.flatnonzero(progressed)
    n_other_prog = len(prog_idx) - 48
    eligible = prog_idx[np.asarray(best)[prog_idx] != "PD"]
    w = obs["progression_t"].to_numpy()[eligible]
    other_prog = rng.choice(eligible, size=n_other_prog, replace=False, p=w / w.sum())
    reason[prog_idx] = "PD"
    dnp_idx = np.flatnonzero(dnp)
    death_stop = rng.choice(dnp_idx, size=3, replace=False)
    reason[death_stop] = "death"
    free_idx = np.flatnonzero(free)
    other_free = rng.choice(free_idx, size=len(free_idx) - 28, replace=False)
    pool = np.concatenate([other_prog, np.setdiff1d(dnp_idx, death_stop), other_free]).astype(int)
    event_t = np.where(progressed, obs["progression_t"], obs["last_t"]).astype(float)
    pool = pool[np.argsort(-event_t[pool], kind="stable")]
    reason[pool] = ["ASCT"] + list(rng.permutation(["toxicity"] * 3 + ["unknown"] * 2))
    stop_t = np.full(N, np.nan)
    stop_t[reason == "PD"] = obs["progression_t"].to_numpy()[reason == "PD"]
    stop_t[reason == "death"] = obs["death_t"].to_numpy()[reason == "death"] - rng.uniform(0.1, 0.6, size=3)
    for i in pool:  # stopped for another reason after cycle 2 and before the event
        stop_t[i] = rng.uniform(1.5, max(1.6, 0.85 * event_t[i])) if reason[i] != "ASCT" else 3.5
    duration = np.where(np.isnan(stop_t), obs["last_t"], stop_t)
    cycles = _cycles(np.rint(duration * MONTH_DAYS), rng)
    cycles[reason == "ASCT"] = 5
    next_line = obs["next_line"].to_numpy()
    return pd.DataFrame({"end_reason": reason, "stop_t": stop_t, "duration_t": duration,
                         "cycles_received": cycles, "next_line": next_line})


def _nested_pick(rng, candidates: np.ndarray, size: int, weights=None) -> np.ndarray:
    w = np.ones(len(candidates)) if weights is None else np.asarray(weights, float)
    return rng.choice(candidates, size=size, replace=False, p=w / w.sum())


def assign_adverse_events(rng, treat: pd.DataFrame, death_ae: np.ndarray) -> pd.DataFrame:
    """Maximum grade of each Table 6 event per patient, exact to the grade rows.

    8 patients have no event, 5 only grade 1 and 72 at least one grade >= 2
    (91% any grade, 85% grade >= 2 in the Results). Pneumonia and herpes zoster
    lie within infections, and the two adverse-event deaths are infection grade 5.
    """
    status = _assign(rng, {"ge2": 72, "g1": 5, "none": 8},
                     {"ge2": np.where(np.isin(np.arange(N), death_ae), 1e6, 1.0)})
    ge2, anyae = np.flatnonzero(status == "ge2"), np.flatnonzero(status != "none")
    grades = {ae: np.zeros(N, dtype=int) for ae in AE_GRADES}
    covered = np.zeros(N, dtype=bool)
    toxic = (treat["end_reason"] == "toxicity").to_numpy()
    for ae in ["infection"] + [a for a in AE_GRADES if a not in ("infection", "pneumonia", "herpes_zoster")]:
        counts = AE_GRADES[ae]
        taken = np.zeros(N, dtype=bool)
        for grade in sorted(counts, reverse=True):
            if ae == "infection" and grade == 5:
                chosen = death_ae
            else:
                pool = ge2 if grade >= 2 else anyae
                pool = pool[~taken[pool] & ~np.isin(pool, death_ae if ae == "infection" else [])]
                w = np.where(covered[pool], 1.0, 4.0) * np.where(toxic[pool] & (grade >= 3), 20.0, 1.0)
                if grade == 1:
                    w = w * np.where(status[pool] == "g1", 6.0, 1.0)
                chosen = _nested_pick(rng, pool, counts[grade], w)
            grades[ae][chosen] = grade
            taken[chosen] = True
            covered[chosen] = covered[chosen] | (grade >= 2)
    # Everybody in 'ge2' needs a grade >= 2 event and everybody in 'g1' a grade-1 event: repair by moves.
    _repair_coverage(rng, grades, ge2, min_grade=2)
    _repair_coverage(rng, grades, np.flatnonzero(status == "g1"), min_grade=1)
    inf = grades["infection"]
    pneu = np.zeros(N, dtype=int)
    pneu[death_ae[0]] = 5
    for grade in (3, 2, 1):
        pool = np.flatnonzero((inf >= grade) & (pneu == 0) & (inf < 5))
        pneu[_nested_pick(rng, pool, AE_GRADES["pneumonia"][grade])] = grade
    grades["pneumonia"] = pneu
    hz = np.zeros(N, dtype=int)
    hz[_nested_pick(rng, np.flatnonzero((inf >= 2) & (inf < 5)), 1)] = 2
    grades["herpes_zoster"] = hz
    out = pd.DataFrame({f"ae_{ae}_grade": g for ae, g in grades.items()})
    pn = np.flatnonzero(grades["pn"] > 0)
    outcome = np.full(N, "", dtype=object)
    outcome[pn] = _assign(rng, PN_OUTCOME, n=len(pn))
    out["ae_pn_outcome"] = outcome
    return out


def _repair_coverage(rng, grades: dict, who: np.ndarray, min_grade: int) -> None:
    """Move single events so that every patient in ``who`` has one of at least ``min_grade``.

    A move takes an event of the needed grade from a patient who has another one
    of that level and gives it to an uncovered patient without that event, so the
    grade counts never change.
    """
    names = [a for a in grades if a not in ("pneumonia", "herpes_zoster")]
    for _ in range(500):
        level = np.zeros(N, dtype=int)
        for a in names:
            hit = (grades[a] >= min_grade) if min_grade == 2 else (grades[a] == 1)
            level += hit
        lacking = [i for i in who if level[i] == 0]
        if not lacking:
            return
        i = lacking[0]
        for a in rng.permutation(names):
            g = grades[a]
            donors = np.flatnonzero(((g >= min_grade) if min_grade == 2 else (g == 1)) & (level >= 2) & (g < 5))
            if g[i] == 0 and len(donors):
                d = rng.choice(donors)
                g[i], g[d] = g[d], 0
                break
    raise RuntimeError("could not lay the adverse events on the patients")


def assign_modifications(rng, df: pd.DataFrame, treat: pd.DataFrame, ae: pd.DataFrame, start) -> pd.DataFrame:
    """Dose modifications, route, premedication and salvage ASCT, exact to the printed counts."""
    cycles = treat["cycles_received"].to_numpy()
    out = pd.DataFrame(index=range(N))
    inf = ae["ae_infection_grade"].to_numpy()
    skip = _assign(rng, {k: v for k, v in sorted(COUNTS["dara_doses_skipped"].items(), reverse=True)},
                   {k: (1.0 + 5 * (inf >= 2)) * (cycles >= 3 + k) + 1e-9 for k in range(1, 6)})
    out["dara_doses_skipped"] = skip.astype(int)
    neuro_thr = (ae["ae_pn_grade"].to_numpy() >= 2) | (ae["ae_thrombocytopenia_grade"].to_numpy() >= 2)
    reduced = _assign(rng, {1: 39, 0: 46}, {1: 0.2 + neuro_thr}).astype(int)
    red_idx = np.flatnonzero(reduced == 1)
    late_ok = red_idx[cycles[red_idx] >= 5]
    late = _nested_pick(rng, late_ok, 39 - COUNTS["bortezomib_reduced_in_first_3_cycles"])
    red_cycle = np.full(N, np.nan)
    for i in red_idx:
        red_cycle[i] = rng.integers(4, cycles[i]) if i in late else rng.integers(1, min(3, cycles[i]) + 1)
    out["bortezomib_dose_reduced"], out["bortezomib_reduction_cycle"] = reduced, red_cycle
    out["bortezomib_weekly_switch"] = _assign(rng, {1: 25, 0: 60}, {1: 0.3 + reduced + (cycles >= 9)}).astype(int)
    sc_ok = (start >= np.datetime64("2020-07-01")).astype(float)
    out["dara_route_start"] = _assign(rng, {"SC": 3, "IV": 82}, {"SC": sc_ok + 1e-9})
    pn_idx = np.flatnonzero(ae["ae_pn_grade"].to_numpy() >= 1)
    dose = np.full(N, 1.3)
    dose[_nested_pick(rng, pn_idx, 3)] = [1.0, 1.0, 0.7]
    out["bortezomib_start_dose_mg_m2"] = dose
    irr = ae["ae_irr_grade"].to_numpy() > 0
    monte = np.ones(N, dtype=int)
    monte[_nested_pick(rng, np.flatnonzero(irr), COUNTS["montelukast_omitted_with_irr"])] = 0
    monte[_nested_pick(rng, np.flatnonzero(~irr), COUNTS["montelukast_omitted"] - COUNTS["montelukast_omitted_with_irr"])] = 0
    out["montelukast_premedication"] = monte
    salvage = np.zeros(N, dtype=int)
    salvage_cycle = np.full(N, np.nan)
    asct_stop = np.flatnonzero(treat["end_reason"] == "ASCT")
    young_long = (df["age"].to_numpy() < 66) & (treat["end_reason"].to_numpy() != "ASCT")
    after5 = _nested_pick(rng, np.flatnonzero(young_long & (cycles >= 7)), 1)
    after14 = _nested_pick(rng, np.flatnonzero(young_long & (cycles >= 16) & ~np.isin(np.arange(N), after5)), 1)
    for idx, c in ((asct_stop, 5), (after5, 5), (after14, 14)):
        salvage[idx], salvage_cycle[idx] = 1, c
    out["salvage_asct"], out["salvage_asct_cycle"] = salvage, salvage_cycle
    return out


def generate(outcome_seed: int | None = None) -> pd.DataFrame:
    """The synthetic cohort in the raw format (one row per patient, dates as ISO strings)."""
    outcome_seed = OUTCOME_SEED if outcome_seed is None else outcome_seed
    base = construct_baseline(np.random.default_rng(CONSTRUCTION_SEED))
    cov = model_covariates(base)
    state = calibrated_state(outcome_seed)
    start, obs = history(base, cov, state)
    rng = np.random.default_rng([CONSTRUCTION_SEED, outcome_seed, 1])
    treat = assign_treatment(rng, obs, base["best_response"].to_numpy())
    first = _first_line(rng, base, start)
    death_ae = np.flatnonzero(treat["end_reason"] == "death")[:2]
    ae = assign_adverse_events(rng, treat, death_ae)
    mods = assign_modifications(rng, base, treat, ae, start)
    birth = start - (base["age"].to_numpy() * 365.25 + rng.integers(30, 330, size=N)).astype(int).astype("timedelta64[D]")
    response_t = np.where(base["best_response"] == "PD", obs["progression_t"], obs["best_t"])

    cause = np.full(N, "", dtype=object)
    died = obs["died"].to_numpy()
    cause[died] = np.where(obs["progressed"].to_numpy()[died], "myeloma", "other")
    cause[death_ae] = "adverse_event"
    return assemble_raw(base, start, birth, first, obs, treat, mods, ae, response_t, cause)


def _iso(dates) -> np.ndarray:
    """ISO dates as text, empty where missing (vectorised: each distinct day is formatted once)."""
    days = np.asarray(dates, dtype="datetime64[D]")
    missing = np.isnat(days)
    if missing.all():
        return np.full(days.shape, "", dtype=object)
    number = days.astype(np.int64)
    lo = number[~missing].min()
    table = np.datetime_as_string(np.arange(lo, number[~missing].max() + 1).astype("datetime64[D]"), unit="D").astype(object)
    return np.where(missing, "", table[np.where(missing, lo, number) - lo])


def _date_col(start, months) -> np.ndarray:
    months = np.asarray(months, dtype=float)
    days = np.where(np.isnan(months), 0, np.rint(months * MONTH_DAYS)).astype(int)
    return np.where(np.isnan(months), "", _iso(start + days.astype("timedelta64[D]"))).astype(object)


def assemble_raw(base, start, birth, first, obs, treat, mods, ae, response_t, cause) -> pd.DataFrame:
    """The raw file's columns, in the dictionary's order, from the layers of the generator."""
    raw = pd.DataFrame({
        "patient_id": base["patient_id"], "center": base["center"],
        "birth_date": _iso(birth), "sex": base["sex"], "isotype": base["isotype"],
        "diagnosis_date": _iso(first["diagnosis_date"]),
        "iss_dx": base["iss_dx"], "riss_dx": base["riss_dx"], "cyto_risk_dx": base["cyto_risk_dx"],
        "chr1_dx": base["chr1_dx"], "first_line_class": base["first_line_class"],
        "first_line_start_date": _iso(first["first_line_start_date"]),
        "asct_first_line": base["asct_first_line"], "carfilzomib_refractory": first["carfilzomib_refractory"],
        "bortezomib_refractory": 0,  # "No patients were refractory to bortezomib"
        "len_start_date": _iso(first["len_start_date"]), "len_end_date": _iso(first["len_end_date"]),
        "len_dose_start_mg": first["len_dose_start_mg"], "len_dose_pd_mg": first["len_dose_pd_mg"],
        "first_relapse_date": _iso(first["first_relapse_date"]),
        "creatinine_mg_dl": base["creatinine_mg_dl"], "calcium_mg_dl": base["calcium_mg_dl"],
        "bm_pc_pct_relapse": base["bm_pc_pct_relapse"], "emd_relapse": base["emd_relapse"],
        "cyto_risk_relapse": base["cyto_risk_relapse"], "del17p_relapse": base["del17p_relapse"],
        "chr1_relapse": base["chr1_relapse"],
        "daravd_start_date": _iso(start), "dara_route_start": mods["dara_route_start"],
        "bortezomib_start_dose_mg_m2": mods["bortezomib_start_dose_mg_m2"],
        "dex_start_group": base["dex_start_group"], "cycles_received": treat["cycles_received"],
        "daravd_end_date": _date_col(start, treat["stop_t"]),
        "daravd_end_reason": treat["end_reason"],
        "dara_doses_skipped": mods["dara_doses_skipped"],
        "bortezomib_dose_reduced": mods["bortezomib_dose_reduced"],
        "bortezomib_reduction_cycle": mods["bortezomib_reduction_cycle"],
        "bortezomib_weekly_switch": mods["bortezomib_weekly_switch"],
        "salvage_asct": mods["salvage_asct"], "salvage_asct_cycle": mods["salvage_asct_cycle"],
        "montelukast_premedication": mods["montelukast_premedication"],
        "best_response": base["best_response"],
        "best_response_date": _date_col(start, response_t),
        "vgpr_first_date": _date_col(start, obs["vgpr_t"]),
        "progression_date": _date_col(start, obs["progression_t"]),
        "next_treatment_date": _date_col(start, obs["next_t"]),
        "second_progression_date": _date_col(start, obs["second_t"]),
        "death_date": _date_col(start, obs["death_t"]),
        "death_cause": cause,
        "last_followup_date": _date_col(start, obs["last_t"]),
    })
    return pd.concat([raw, ae], axis=1)


def to_csv_text(raw: pd.DataFrame) -> str:
    """The committed file's exact text: integers without '.0', empty for missing."""
    out = raw.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            whole = out[col].dropna().apply(float.is_integer).all()
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else (f"{int(v)}" if whole else f"{v:g}"))
    return cells.to_csv(out)


def write(path=None, outcome_seed: int | None = None) -> str:
    """Regenerate the committed cohort file; returns its text."""
    text = to_csv_text(generate(outcome_seed))
    paths.atomic_write_text(path or paths.SYNTHETIC_COHORT, text)
    return text


# ---------------------------------------------------------------------------
# The time layer: histories from the multi-state model, calibrated to the paper.
#
# The course of each patient by the data cut-off (progressed, died first, or
# neither; a next line or not) is part of the printed counts, so it is fixed, and
# every time is drawn from the model's hazards restricted to the window that gives
# that course (``multistate.simulate(course=...)``). The calibration then searches,
# by simulated annealing with a fixed seed and a fixed number of steps, over the
# uniform numbers that the times are drawn at and over who has which course: a
# step redraws one patient's number for one transition (or swaps two patients'
# courses) and is kept when it brings the estimates closer to the paper's. The
# counts cannot move, and every history stays one the model can produce.

OUTCOME_SEED = 1           # seed of the first draw and of the search
SEARCH_STEPS = 40000
COURSES = {1: 51, 2: 4, 0: 30}  # progressed 48 + 3 who stopped for other reasons; died first 3 + 1; neither
TIME_KEYS = multistate.UNIFORMS + ("accrual",)


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
    start = start_dates(state.u["accrual"])
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
    from compendium.data import spec as specs
    paper = specs.load()
    return [row for table in ("T2", "T3", "T4", "T5", "R_pfs") for row in paper.table(table).rows]


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
    from compendium.report import claims
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


def _months(t):
    return np.rint(np.asarray(t, float) * MONTH_DAYS) / MONTH_DAYS


def endpoint_times(obs: pd.DataFrame) -> dict:
    """(time, event) per endpoint on whole days, as notebook 01 derives them from the dates."""
    last = _months(obs["last_t"])
    prog, death, nxt = (_months(obs[c]) for c in ("progression_t", "death_t", "next_t"))
    pfs_e = ~np.isnan(prog) | ~np.isnan(death)
    pfs_t = np.where(~np.isnan(prog), prog, np.where(~np.isnan(death), death, last))
    return {"pfs": (pfs_t, pfs_e), "os": (last, ~np.isnan(death)), "ttnt": (np.where(np.isnan(nxt), last, nxt), ~np.isnan(nxt)),
            "followup": (last, np.isnan(death))}


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
        resp = _months(np.where(best == "PD", obs["progression_t"], obs["best_t"]))
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
    limit outside them costs less (weight 0.3), so the search settles those first.
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
        loss += (0.3 if kind == "limit" else 1.0) * 25 * (1 + 10 * min((err - bound * 0.9) / bound, 10.0))
    return float(loss)


def calibration_loss(values: dict, targets) -> float:
    """Sum of the claims' losses; ``targets`` as from ``calibration_targets`` (or its records)."""
    records = targets.to_dict("records") if isinstance(targets, pd.DataFrame) else targets
    return float(sum(_claim_loss(t["kind"], values[t["claim_id"]], t["published"], t["tolerance"]) for t in records))


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


SEARCH_FILE = paths.SYNTHETIC_COHORT.parent / "calibration_search.csv"


def save_state(state: CourseState, path=None) -> None:
    """The search's result, exact (floats written with repr, which reads back bit for bit)."""
    frame = pd.DataFrame({k: [repr(float(x)) for x in v] for k, v in state.u.items()})
    frame["outcome"], frame["next_line"] = state.outcome, state.next_line.astype(int)
    paths.atomic_write_text(Path(path or SEARCH_FILE), cells.to_csv(frame))


def load_state(path=None) -> CourseState:
    frame = pd.read_csv(path or SEARCH_FILE, dtype=str)
    u = {k: frame[k].map(float).to_numpy() for k in TIME_KEYS}
    return CourseState(u, frame["outcome"].astype(int).to_numpy(), frame["next_line"].astype(int).to_numpy() == 1)


@lru_cache(maxsize=4)
def calibrated_state(outcome_seed: int = OUTCOME_SEED) -> CourseState:
    """The search's result for the default seed as committed (``SEARCH_FILE``); another seed is searched afresh."""
    if outcome_seed == OUTCOME_SEED and SEARCH_FILE.exists():
        return load_state()
    return search(outcome_seed)[0]


def search(outcome_seed: int = OUTCOME_SEED, steps: int = SEARCH_STEPS, progress: bool = False):
    """The search behind ``calibrated_state``; also returns its trace (step, loss)."""
    base = construct_baseline(np.random.default_rng(CONSTRUCTION_SEED))
    cov, an = model_covariates(base), analysis_covariates(base)
    best_resp = base["best_response"].to_numpy()
    pd_best = best_resp == "PD"
    targets = calibration_targets().to_dict("records")
    rng = np.random.default_rng([CONSTRUCTION_SEED, outcome_seed])
    state = initial_state(rng, base, cov)
    warm = {}
    values = estimates(an, history(base, cov, state, frame=False)[1], best_resp, warm=warm)
    loss = calibration_loss(values, targets)
    trace = [(0, loss)]
    temp0 = 20.0
    for step in range(1, steps + 1):
        cand, key = _move(rng, state, pd_best)
        if key in NO_TARGET_KEYS:
            cand_values = values
        else:
            scope = ("os", "ttnt", "followup") if key in OS_ONLY_KEYS else ("pfs", "os", "ttnt", "followup")
            cand_values = {**values, **estimates(an, history(base, cov, cand, frame=False)[1], best_resp,
                                                 endpoints=scope, warm=warm)}
        cand_loss = calibration_loss(cand_values, targets)
        temp = temp0 * (1 - step / steps) + 1e-3
        if cand_loss <= loss or rng.uniform() < np.exp(-(cand_loss - loss) / temp):
            state, loss, values = cand, cand_loss, cand_values
        if step % 250 == 0:
            trace.append((step, loss))
            if progress:
                print(f"step {step}: loss {loss:.3f}", flush=True)
    return state, pd.DataFrame(trace, columns=["step", "loss"])


# ---------------------------------------------------------------------------
# Any N: the same multi-state model, free draws, vectorised (no count is pinned).

def _share(counts: dict) -> tuple[list, np.ndarray]:
    levels = list(counts)
    p = np.array([counts[k] for k in levels], float)
    return levels, p / p.sum()


def _draw(rng, counts: dict, n: int) -> np.ndarray:
    levels, p = _share(counts)
    return np.array(levels, dtype=object)[rng.choice(len(levels), size=n, p=p)]


def _by_quartiles(rng, spec: dict, n: int) -> np.ndarray:
    """Piecewise-uniform between the printed minimum, quartiles and maximum."""
    knots = [spec["lo"], spec["q1"], spec["median"], spec["q3"], spec["hi"]]
    return np.round(np.interp(rng.uniform(size=n), [0, .25, .5, .75, 1], knots), spec["decimals"])


def _choice_where(rng, mask, counts, out) -> None:
    out[mask] = _draw(rng, counts, int(mask.sum()))


def baseline_any(rng, n: int) -> pd.DataFrame:
    """Baseline of n patients drawn from the paper's proportions, with the same joint tendencies as N = 85."""
    width = max(3, len(str(n)))
    df = pd.DataFrame({"patient_id": "SYN" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)})
    df["center"] = _draw(rng, {f"C{i:02d}": c for i, c in enumerate(CENTER_SIZES, 1)}, n)
    band = _draw(rng, COUNTS["age_group"], n)
    age = np.where(band == "<65", rng.integers(44, 65, size=n),
                   np.where(band == "65-70", rng.integers(65, 71, size=n), rng.integers(71, 84, size=n)))
    df["age"] = age
    df["sex"], df["isotype"] = _draw(rng, COUNTS["sex"], n), _draw(rng, COUNTS["isotype"], n)
    p_asct = np.where(age < 65, 0.9, np.where(age <= 70, 0.55, 0.2))
    asct = np.where(rng.uniform(size=n) < p_asct, np.where(rng.uniform(size=n) < 21 / 47, "double", "single"), "none")
    df["asct_first_line"] = asct.astype(object)
    cls = np.empty(n, dtype=object)
    _choice_where(rng, asct == "none", {"lenalidomide": 33, "bortezomib": 5}, cls)
    _choice_where(rng, asct != "none", {"bortezomib": 35, "carfilzomib": 10, "lenalidomide": 2}, cls)
    df["first_line_class"] = cls
    iss = _draw(rng, COUNTS["iss_dx"], n)
    riss, cyto = np.empty(n, dtype=object), np.empty(n, dtype=object)
    plan = {"I": {"I": 22, "II": 8, "": 9}, "II": {"II": 19, "": 9}, "III": {"III": 5, "II": 7, "": 4}, "": {"": 2}}
    for stage, split in plan.items():
        _choice_where(rng, iss == stage, split, riss)
    cyto[:] = ""
    for stage, split in {"I": {"standard": 22}, "III": {"high": 3, "standard": 2}, "II": {"high": 13, "standard": 20, "": 1}}.items():
        _choice_where(rng, riss == stage, split, cyto)
    df["iss_dx"], df["riss_dx"], df["cyto_risk_dx"] = iss, riss, cyto
    chr1 = np.where(cyto != "", "none", "").astype(object)
    _choice_where(rng, cyto != "", {"none": 57, "del1p": 1, "gain1q": 1, "amp1q": 1}, chr1)
    df["chr1_dx"] = chr1
    tested = rng.uniform(size=n) < np.where(cyto == "high", 0.55, 0.24)
    rel = np.full(n, "", dtype=object)
    rel[tested] = np.where(rng.uniform(size=tested.sum()) < np.where(cyto[tested] == "high", 0.85, 0.45), "high", "standard")
    df["cyto_risk_relapse"] = rel
    df["del17p_relapse"] = np.where(tested, (rel == "high") & (rng.uniform(size=n) < 6 / 14), np.nan).astype(float)
    chr1_rel = np.where(tested, "none", "").astype(object)
    _choice_where(rng, tested, {"none": 22, "gain1q": 1, "amp1q": 1}, chr1_rel)
    df["chr1_relapse"] = chr1_rel
    pc_cat = _draw(rng, COUNTS["pc_relapse"], n)
    df["bm_pc_pct_relapse"] = np.where(pc_cat == "<60", np.round(rng.uniform(5, 59, n)),
                                       np.where(pc_cat == ">=60", np.round(rng.uniform(60, 90, n)), np.nan))
    emd = _draw(rng, COUNTS["emd_relapse"], n)
    df["emd_relapse"] = np.where(emd == "", np.nan, emd).astype(float)
    for col in ("creatinine_mg_dl", "calcium_mg_dl"):
        df[col] = _by_quartiles(rng, QUANTILES[col], n)
    # Response: EMD and high-risk FISH make >=VGPR less likely (as for N = 85).
    levels, p = _share(COUNTS["best_response"])
    adverse = np.nan_to_num(df["emd_relapse"].to_numpy()) + 0.3 * (cyto == "high")
    deep = np.isin(levels, ["sCR", "CR", "VGPR"])
    tilt = np.exp(-1.2 * adverse)
    w = p[None, :] * np.where(deep[None, :], (tilt / tilt.mean())[:, None], 1.0)  # the average share stays the paper's
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    pick = (rng.uniform(size=n)[:, None] > cum).sum(axis=1)
    df["best_response"] = np.array(levels, dtype=object)[np.minimum(pick, len(levels) - 1)]
    dex = np.empty(n, dtype=object)
    _choice_where(rng, age < 65, {"full": 20, "80": 6, "40": 5}, dex)
    _choice_where(rng, age >= 65, {"full": 7, "80": 16, "40": 21, "20": 10}, dex)
    df["dex_start_group"] = dex
    return df


def _first_line_any(rng, df: pd.DataFrame, start: np.ndarray) -> dict:
    n = len(df)
    exposure = _by_quartiles(rng, QUANTILES["len_exposure_months"], n)
    relapse = start - rng.integers(7, 60, size=n).astype("timedelta64[D]")
    len_end = relapse - rng.integers(0, 45, size=n).astype("timedelta64[D]")
    len_start = len_end - _months_to_days(exposure).astype("timedelta64[D]")
    asct = df["asct_first_line"].to_numpy()
    induction = np.where(asct == "none", np.where(df["first_line_class"] == "lenalidomide", 0.0, 5.0),
                         np.where(asct == "double", 14.0, 10.0)) + rng.gamma(4, 0.5, size=n)
    fl_start = len_start - _months_to_days(induction).astype("timedelta64[D]")
    rd = asct == "none"
    pd_dose = np.where(rd, rng.choice([25, 20, 15, 10, 5, np.nan], size=n, p=[16 / 38, 3 / 38, 5 / 38, 10 / 38, 2 / 38, 2 / 38]),
                       rng.choice([10, 5, 2.5, np.nan], size=n, p=[37 / 47, 5 / 47, 3 / 47, 2 / 47]))
    start_dose = np.where(rd, np.where(pd_dose <= 10, rng.choice([25.0, 15.0, 10.0], size=n, p=[0.6, 0.25, 0.15]), 25.0), 10.0)
    return {"diagnosis_date": fl_start - rng.integers(5, 40, size=n).astype("timedelta64[D]"),
            "first_line_start_date": fl_start, "len_start_date": len_start, "len_end_date": len_end,
            "first_relapse_date": relapse, "len_dose_start_mg": np.where(np.isnan(pd_dose), np.nan, start_dose),
            "len_dose_pd_mg": pd_dose,
            "carfilzomib_refractory": ((df["first_line_class"] == "carfilzomib") & (rng.uniform(size=n) < 0.1)).astype(int)}


def _treatment_any(rng, obs: dict) -> dict:
    """Stop reasons and times: PD at progression, death on treatment, a few stops for other reasons."""
    n = len(obs["last_t"])
    prog, dnp = obs["progressed"], obs["death_noprog"]
    event_t = np.where(prog, obs["progression_t"], obs["last_t"])
    reason = np.where(prog, "PD", "").astype(object)
    reason[dnp] = "death"
    other = (rng.uniform(size=n) < 0.07) & (event_t > 3.0)
    kind = rng.choice(np.array(["toxicity", "unknown", "ASCT"], dtype=object), size=n, p=[0.5, 0.35, 0.15])
    kind[(kind == "ASCT") & (event_t <= 4.0)] = "toxicity"
    reason[other] = kind[other]
    stop = np.full(n, np.nan)
    stop[reason == "PD"] = obs["progression_t"][reason == "PD"]
    death_t = obs["death_t"]
    stop[reason == "death"] = np.maximum(death_t - rng.uniform(0.1, 0.6, size=n), 0.75)[reason == "death"]
    early = 1.5 + rng.uniform(size=n) * (0.85 * event_t - 1.5)  # after cycle 2, before the event
    stop[other] = np.where(kind == "ASCT", 3.5, early)[other]
    duration = np.where(np.isnan(stop), obs["last_t"], stop)
    cycles = _cycles(np.rint(duration * MONTH_DAYS), rng)
    cycles[reason == "ASCT"] = 5
    return {"end_reason": reason, "stop_t": stop, "cycles_received": cycles}


def _adverse_events_any(rng, n: int, died_on_treatment: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Maximum grade per Table 6 event, each from its printed grade shares; the deaths from infection."""
    grades = {}
    for ae, counts in AE_GRADES.items():
        g = np.zeros(n, dtype=int)
        u = rng.uniform(size=n)
        edge = 0.0
        for grade, count in sorted(counts.items(), reverse=True):
            if grade == 5:
                continue  # grade 5 only for the adverse-event deaths below
            g[(u >= edge) & (u < edge + count / N)] = grade
            edge += count / N
        grades[ae] = g
    ae_death = died_on_treatment & (rng.uniform(size=n) < 2 / 3)
    grades["infection"] = np.where(ae_death, 5, np.maximum.reduce([grades["infection"], grades["pneumonia"],
                                                                       grades["herpes_zoster"]]))
    grades["pneumonia"] = np.minimum(grades["pneumonia"], np.where(ae_death, 5, 4))
    out = pd.DataFrame({f"ae_{ae}_grade": g for ae, g in grades.items()})
    outcome = np.where(grades["pn"] > 0, _draw(rng, PN_OUTCOME, n), "").astype(object)
    out["ae_pn_outcome"] = outcome
    return out, ae_death


def _modifications_any(rng, treat: dict, ae: pd.DataFrame, start) -> dict:
    n = len(start)
    cycles = treat["cycles_received"]
    skip = _draw(rng, COUNTS["dara_doses_skipped"], n).astype(int)
    skip = np.where(cycles >= 3 + skip, skip, 0)
    reduced = (rng.uniform(size=n) < 39 / 85).astype(int)
    red_cycle = np.where(reduced == 1, 1 + np.floor(rng.uniform(size=n) * np.minimum(cycles, 6)), np.nan)
    sc_ok = start >= np.datetime64("2020-07-01")
    route = np.where(sc_ok & (rng.uniform(size=n) < 0.06), "SC", "IV").astype(object)
    dose = np.where(rng.uniform(size=n) < 3 / 85, np.where(rng.uniform(size=n) < 2 / 3, 1.0, 0.7), 1.3)
    asct = treat["end_reason"] == "ASCT"
    return {"dara_doses_skipped": skip, "bortezomib_dose_reduced": reduced, "bortezomib_reduction_cycle": red_cycle,
            "bortezomib_weekly_switch": (rng.uniform(size=n) < 25 / 85).astype(int), "dara_route_start": route,
            "bortezomib_start_dose_mg_m2": dose,
            "montelukast_premedication": (rng.uniform(size=n) >= 6 / 85).astype(int),
            "salvage_asct": asct.astype(int), "salvage_asct_cycle": np.where(asct, 5.0, np.nan)}


def generate_any(n: int, seed: int = 0, model=multistate.MODEL) -> pd.DataFrame:
    """n patients from the multi-state model (free draws from ``seed``), in the raw format."""
    if n < 1:
        raise ValueError(f"n must be a positive number of patients, got {n}")
    rng = np.random.default_rng([CONSTRUCTION_SEED, seed, n])
    base = baseline_any(rng, n)
    cov = model_covariates(base)
    start = start_dates(rng.uniform(size=n))
    u = multistate.draw_uniforms(rng, n)
    obs = multistate.simulate(u, cov, base["best_response"].to_numpy(), admin_months(start), model)
    treat = _treatment_any(rng, obs)
    first = _first_line_any(rng, base, start)
    ae, ae_death = _adverse_events_any(rng, n, treat["end_reason"] == "death")
    mods = _modifications_any(rng, treat, ae, start)
    birth = start - (base["age"].to_numpy() * 365.25 + rng.integers(30, 330, size=n)).astype(int).astype("timedelta64[D]")
    response_t = np.where(base["best_response"] == "PD", obs["progression_t"], obs["best_t"])
    cause = np.where(obs["died"], np.where(obs["progressed"], "myeloma", "other"), "").astype(object)
    cause[ae_death] = "adverse_event"
    return assemble_raw(base, start, birth, first, obs, treat, mods, ae, response_t, cause)


def _integers_as_int(raw: pd.DataFrame) -> pd.DataFrame:
    """Integer-valued float columns as nullable integers, so that the CSV has no '.0'."""
    out = raw.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            values = out[col].to_numpy()
            finite = values[~np.isnan(values)]
            if np.all(finite == np.round(finite)):
                out[col] = pd.array(np.where(np.isnan(values), 0, values).astype(np.int64), dtype="Int64")
                out.loc[np.isnan(values), col] = pd.NA
    return out


def fast_csv_text(raw: pd.DataFrame) -> str:
    """CSV text for generated cohorts (large ones too)."""
    return cells.to_csv(_integers_as_int(raw))


def write_any(path: Path, n: int, seed: int) -> None:
    """A generated cohort straight to disk in chunks, atomically (no whole-file string in memory)."""
    import os
    import tempfile
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            cells.to_csv(_integers_as_int(generate_any(n, seed)), handle, chunksize=50_000)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------
# Clinical rules every generated history obeys (tests and notebook 00 check them).

CONFIRM_GAP_DAYS = 2 * multistate.CONFIRM_DAYS


def clinical_rules(raw: pd.DataFrame) -> pd.DataFrame:
    """Each rule, and the patients of a typed raw frame (``loading.typed``) that break it."""
    d = {c: raw[c] for c in raw.columns if c.endswith("_date")}
    days = lambda a, b: (d[b] - d[a]).dt.days  # noqa: E731
    best = raw["best_response"].astype(object)
    reason = raw["daravd_end_reason"].astype(object).fillna("")
    deep = best.isin(["sCR", "CR", "VGPR"])
    has = {k: v.notna() for k, v in d.items()}
    dur = (d["daravd_end_date"].fillna(d["last_followup_date"]) - d["daravd_start_date"]).dt.days.to_numpy(float)
    cyc = raw["cycles_received"].to_numpy(float)
    idx = np.clip(cyc.astype(int), 1, len(CYCLE_STARTS) - 1)
    progressed = has["progression_date"]
    rules = {
        "a response is confirmed at least 4 weeks before progression (best response date 8 weeks or more before it)":
            ~best.eq("PD") & progressed & (days("best_response_date", "progression_date") < CONFIRM_GAP_DAYS),
        "best response PD is a documented progression on that date":
            best.eq("PD") & ~(progressed & (d["best_response_date"] == d["progression_date"])),
        ">=VGPR first reached exactly for >=VGPR patients, no later than the best response":
            (deep != has["vgpr_first_date"]) | (days("vgpr_first_date", "best_response_date") < 0),
        "a response is confirmed (4 weeks) before a death without progression":
            ~progressed & has["death_date"] & has["best_response_date"] &
            (days("best_response_date", "death_date") < multistate.CONFIRM_DAYS),
        "the best response is documented within follow-up":
            days("best_response_date", "last_followup_date") < 0,
        "stopping for PD happens on the progression date; nobody stays on DaraVd after progression or death":
            (reason.eq("PD") & (d["daravd_end_date"] != d["progression_date"]))
            | (reason.eq("") & (progressed | has["death_date"]))
            | (progressed & (days("daravd_end_date", "progression_date") < 0)),
        "stopping for death happens within 3 weeks before the death":
            reason.eq("death") & ~(days("daravd_end_date", "death_date").between(0, 21)),
        "cycles received agree with the schedule (21-day cycles 1-8, then 28-day; up to 15% delay; at least 2)":
            pd.Series((cyc < 2) | (CYCLE_STARTS[idx - 1] > dur)
                      | (CYCLE_STARTS[idx] * (1 + CYCLE_DELAY) < dur) & ~reason.eq("ASCT").to_numpy(), index=raw.index),
        "a death without progression has a cause other than myeloma; an adverse-event death is a grade-5 infection on DaraVd":
            (~progressed & has["death_date"] & raw["death_cause"].eq("myeloma"))
            | (raw["death_cause"].eq("adverse_event") & ~(reason.eq("death") & (raw["ae_infection_grade"] == 5))),
        "the next line follows progression, and second progression the next line, before death":
            (has["next_treatment_date"] & ~(progressed & (days("progression_date", "next_treatment_date") >= 0)))
            | (has["second_progression_date"] & ~(days("next_treatment_date", "second_progression_date") >= 0))
            | (has["second_progression_date"] & has["death_date"] & (days("second_progression_date", "death_date") < 0)),
    }
    rows = []
    for rule, bad in rules.items():
        bad = pd.Series(bad, index=raw.index).fillna(False).astype(bool)
        rows.append({"rule": rule, "patients breaking it": int(bad.sum()),
                     "examples": ", ".join(raw.loc[bad, "patient_id"].astype(str).head(5))})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# The known truth of the guarantee-time analyses, and their behaviour over many cohorts.

TRUTH_FILE = paths.SYNTHETIC_COHORT.parent / "daravd_synthetic_truth.csv"
TRUTH_N = 200_000
TRUTH_SEED = 1


def free_histories(n: int, seed: int, model=multistate.MODEL):
    """Baseline and simulated history of n patients (free draws), without the raw file's other layers."""
    rng = np.random.default_rng([CONSTRUCTION_SEED, seed, n, 2])
    base = baseline_any(rng, n)
    start = start_dates(rng.uniform(size=n))
    obs = multistate.simulate(multistate.draw_uniforms(rng, n), model_covariates(base),
                              base["best_response"].to_numpy(), admin_months(start), model)
    return base, pd.DataFrame(obs)


def _analyses(base: pd.DataFrame, obs: pd.DataFrame) -> list[dict]:
    ends = endpoint_times(obs)
    flag = base["best_response"].isin(["sCR", "CR", "VGPR"]).to_numpy(float)
    best_t = np.where(base["best_response"] == "PD", obs["progression_t"], obs["best_t"])
    rows = []
    for endpoint in ("pfs", "os"):
        t, e = ends[endpoint]
        res = multistate.response_analyses(t, e, flag, _months(obs["vgpr_t"]), _months(best_t))
        rows += [{"endpoint": endpoint, "analysis": k, "loghr": b, "se": s} for k, (b, s) in res.items()]
    return rows


def truth(model=multistate.MODEL, n: int = TRUTH_N, seed: int = TRUTH_SEED) -> pd.DataFrame:
    """The generator's true effects: its parameters, and what each response analysis estimates
    with unlimited patients (its value on ``n`` simulated patients under the same design)."""
    rows = [{"quantity": k, "endpoint": "", "value": float(v),
             "description": "multi-state model parameter (months; log hazard ratios)"} for k, v in model.truth().items()]
    rows.append({"quantity": "hr_vgpr_after_confirmation", "endpoint": "pfs", "value": float(np.exp(model.vgpr_loghr)),
                 "description": "hazard ratio of progression once >=VGPR is reached and confirmed, at equal covariates"})
    base, obs = free_histories(n, seed, model)
    for r in _analyses(base, obs):
        rows.append({"quantity": f"hr_{r['analysis']}", "endpoint": r["endpoint"], "value": float(np.exp(r["loghr"])),
                     "description": f"population value ({n:,} simulated patients): {multistate.RESPONSE_ANALYSES[r['analysis']]}"})
    return pd.DataFrame(rows)


def write_truth(path=None) -> pd.DataFrame:
    table = truth()
    paths.write_csv(table, Path(path or TRUTH_FILE))
    return table


def read_truth(path=None) -> pd.DataFrame:
    return pd.read_csv(path or TRUTH_FILE, keep_default_na=False, na_values={"value": [""]})


#: The response analyses on cohorts drawn from the model: like the truth, a property of the generator
#: (its code and parameters), not of any input, so it is computed once, by ``python -m compendium
#: synthetic``, and committed; a test recomputes it and finds it identical.
SIMULATION_FILE = paths.SYNTHETIC_COHORT.parent / "daravd_response_simulation.csv"
SIMULATION = {"reps": 200, "n": N, "seed": 20251125}


def write_simulation(path=None) -> pd.DataFrame:
    table = response_simulation(**SIMULATION)
    paths.write_csv(table, Path(path or SIMULATION_FILE))
    return table


def read_simulation(path=None) -> pd.DataFrame:
    return pd.read_csv(path or SIMULATION_FILE)


def response_simulation(reps: int = 200, n: int = N, seed: int = 20251125) -> pd.DataFrame:
    """Each response analysis on ``reps`` cohorts of n patients drawn from the model (log HR, se)."""
    rows = []
    for rep in range(reps):
        base, obs = free_histories(n, seed + rep)
        rows += [{"rep": rep, **r} for r in _analyses(base, obs)]
    return pd.DataFrame(rows)


def bias_and_coverage(sim: pd.DataFrame, truth_table: pd.DataFrame, target: str = "hr_time_dependent") -> pd.DataFrame:
    """Per endpoint and analysis: mean HR, bias of the log HR and 95% CI coverage of the true time-dependent effect."""
    true = truth_table[truth_table["quantity"] == target].set_index("endpoint")["value"]
    out = []
    for (endpoint, analysis), g in sim.dropna().groupby(["endpoint", "analysis"], sort=False):
        t = np.log(true[endpoint])
        lo, hi = g["loghr"] - 1.959964 * g["se"], g["loghr"] + 1.959964 * g["se"]
        out.append({"endpoint": endpoint, "analysis": analysis, "cohorts": len(g),
                    "median HR": float(np.exp(g["loghr"].median())), "true HR": float(true[endpoint]),
                    "bias (log HR)": float(g["loghr"].mean() - t),
                    "coverage of 95% CI": float(((lo <= t) & (t <= hi)).mean())})
    return pd.DataFrame(out)


def write_cli(n: int | None = None, seed: int | None = None, out=None) -> str:
    """``python -m compendium synthetic [--n N] [--seed S] [--out FILE]``: the default cohort (N = 85,
    no seed; also its truth file), or a free draw of any N. Returns the path written, as given."""
    if n is not None and n < 1:
        raise ValueError(f"--n must be a positive number of patients, got {n}")
    if (n is None or n == N) and seed is None:
        write(Path(out) if out else None)
        if not out:
            write_truth()
            write_simulation()
        return str(out) if out else str(paths.relative(paths.SYNTHETIC_COHORT))
    if not out:
        raise ValueError("a generated cohort (--n other than 85, or --seed) needs --out FILE")
    target = Path(out)
    if target.exists() and target.resolve() == paths.SYNTHETIC_COHORT.resolve():
        raise ValueError(f"{out}: the committed default cohort is only rewritten by the default command")
    write_any(target, N if n is None else n, 0 if seed is None else seed)
    return str(out)


def achieved(analysis: pd.DataFrame) -> dict:
    """Every calibration target as the analysis notebooks compute it (R conventions, ``compendium.stats.survival``)."""
    from compendium.data import spec as specs
    from compendium.stats import models
    paper = specs.load()
    km = models.km_results(analysis, paper)
    km = km[km["conf_type"] == "log"].set_index(["endpoint", "group"])["median"]
    out = {}
    for cid, (endpoint, group) in MEDIAN_CLAIMS.items():
        out[cid] = float(km[endpoint, "all" if group is None else f"vgpr_or_better={group}"])
    out["R_time_to_best_response_median"] = float(analysis["response_months"].median())
    uni = models.univariate_results(analysis, paper, endpoints=("pfs", "os"))
    multi = models.multivariable_results(analysis, paper)
    for row in _paper_rows():
        table = multi if row.claim.split("_")[0] in ("T4", "T5") else uni
        for key, value in models.oriented(table, row).items():
            if key in ("hr", "lcl", "ucl", "p"):
                out[f"{row.claim}_{key}"] = float(value)
    out["A_pfs_vgpr_p"] = out["T2_vgpr_p"]
    return out


def calibration_report(analysis: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each target beside what the analyses compute: match at the printed precision, and within the issue's bounds."""
    from compendium.report import claims
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


def rerun_search(steps: int = SEARCH_STEPS, seed: int = OUTCOME_SEED, path=None) -> pd.DataFrame:
    """Run the calibration search (minutes): its state to ``path`` (default: the committed one,
    which also rewrites the cohort file), and its trace returned."""
    state, trace = search(seed, steps, progress=True)
    save_state(state, path)
    print(f"final loss {trace['loss'].iloc[-1]:.3f}")
    if path is None:
        calibrated_state.cache_clear()
        write()
    return trace

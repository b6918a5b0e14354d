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
3. **Calibrated times**: progression, death, next treatment and second
   progression come from a parametric model with proportional covariate effects
   (``OUTCOME_MODEL``). The published medians and hazard ratios are approached by
   choosing the random seed of this layer among candidates (``calibrate``) and
   fixing it in ``OUTCOME_SEED``; the analyses themselves never see the targets.

``generate()`` is deterministic: the same code gives the same file, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import paths

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
    "30 September 2023; about one patient in ten is lost to follow-up earlier.",
    "Ages at DaraVd start are whole years; creatinine has two decimals, calcium one; lenalidomide "
    "exposure is drawn to its quartiles in months and stored as dates, so day resolution "
    "moves it by at most 0.02 months.",
]


@dataclass(frozen=True)
class OutcomeModel:
    """Parametric model for the time layer (months; log hazard ratios).

    Progression: Weibull with proportional covariate effects. Death without
    progression: a small constant hazard. Survival after progression: Weibull,
    shortened further by the same adverse features. Next treatment starts a
    gamma-distributed gap after progression, and the next line's own PFS is
    exponential.
    """

    pfs_scale: float = 11.0
    pfs_shape: float = 1.15
    pfs_loghr: tuple = (("vgpr_or_better", -1.45), ("age_ge65", -0.9), ("emd_relapse", 0.9),
                        ("pc_ge60", 0.85), ("cyto_high_dx", 0.5), ("del17p", 0.9),
                        ("amp1q", 1.6), ("dex_full", 0.45), ("cr_or_better", -0.35),
                        ("pd_best", 2.5), ("sd_mr_best", 0.6))
    death_noprog_rate: float = 0.0035
    pps_scale: float = 24.0
    pps_shape: float = 1.0
    pps_loghr: tuple = (("vgpr_or_better", -1.8), ("age_ge65", -0.5), ("pc_ge60", 0.9),
                        ("dex_full", 1.3), ("emd_relapse", 0.4))
    next_gap_mean: float = 1.5
    next_gap_shape: float = 1.5
    next_line_pfs_median: float = 6.0
    loss_to_followup: float = 0.10


OUTCOME_MODEL = OutcomeModel()


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


def _risk(df: pd.DataFrame, terms: tuple) -> np.ndarray:
    return sum(coef * df[name].to_numpy(float) for name, coef in terms)


def model_covariates(df: pd.DataFrame) -> pd.DataFrame:
    """The true covariate values the outcome model uses (missing = absent)."""
    resp = df["best_response"]
    return pd.DataFrame({
        "vgpr_or_better": resp.isin(["sCR", "CR", "VGPR"]).astype(float),
        "cr_or_better": resp.isin(["sCR", "CR"]).astype(float),
        "age_ge65": (df["age"] >= 65).astype(float),
        "emd_relapse": df["emd_relapse"].fillna(0),
        "pc_ge60": (df["bm_pc_pct_relapse"] >= 60).astype(float),
        "cyto_high_dx": (df["cyto_risk_dx"] == "high").astype(float),
        "del17p": df["del17p_relapse"].fillna(0),
        "amp1q": ((df["chr1_dx"] == "amp1q") | (df["chr1_relapse"] == "amp1q")).astype(float),
        "dex_full": (df["dex_start_group"] == "full").astype(float),
        "pd_best": (resp == "PD").astype(float),
        "sd_mr_best": resp.isin(["SD", "MR"]).astype(float),
    })


def simulate_times(rng, cov: pd.DataFrame, model: OutcomeModel = OUTCOME_MODEL) -> pd.DataFrame:
    """Latent event times in months from the DaraVd start, before censoring."""
    def weibull(scale, shape, loghr):
        u = rng.uniform(size=len(cov))
        return scale * (-np.log(u) * np.exp(-loghr)) ** (1 / shape)

    progression = 0.75 + weibull(model.pfs_scale, model.pfs_shape, _risk(cov, model.pfs_loghr))
    death_noprog = 0.75 + rng.exponential(1 / model.death_noprog_rate, size=len(cov))
    pps = weibull(model.pps_scale, model.pps_shape, _risk(cov, model.pps_loghr))
    next_gap = rng.gamma(model.next_gap_shape, model.next_gap_mean / model.next_gap_shape, size=len(cov))
    next_pfs = rng.exponential(model.next_line_pfs_median / np.log(2), size=len(cov))
    loss = np.where(rng.uniform(size=len(cov)) < model.loss_to_followup,
                    rng.uniform(3, 40, size=len(cov)), np.inf)
    return pd.DataFrame({"progression": progression, "death_noprog": death_noprog, "pps": pps,
                         "next_gap": next_gap, "next_pfs": next_pfs, "loss": loss,
                         "u_response": rng.uniform(size=len(cov)), "u_other": rng.uniform(size=len(cov))})


def accrual_dates(rng) -> np.ndarray:
    lo, hi = (np.datetime64(d) for d in ACCRUAL)
    span = (hi - lo).astype(int)
    offsets = np.sort(np.rint(rng.beta(2.2, 1.0, size=N) * span).astype(int))
    offsets[0], offsets[-1] = 14, span - 14  # the paper's accrual window is June 2018 to December 2022
    return lo + rng.permutation(offsets).astype("timedelta64[D]")


def observe(times: pd.DataFrame, start: np.ndarray) -> pd.DataFrame:
    """Censor the latent times at the data cut-off and loss to follow-up (months)."""
    admin = (np.datetime64(DATA_CUTOFF) - start).astype(int) / MONTH_DAYS
    horizon = np.minimum(admin, times["loss"].to_numpy())
    prog, dnp = times["progression"].to_numpy(), times["death_noprog"].to_numpy()
    progressed = (prog < dnp) & (prog <= horizon)
    death_time = np.where(prog < dnp, prog + times["pps"].to_numpy(), dnp)
    died = death_time <= horizon
    next_time = prog + times["next_gap"].to_numpy()
    started_next = progressed & (next_time < np.minimum(death_time, horizon))
    second = next_time + times["next_pfs"].to_numpy()
    second_prog = started_next & (second < np.minimum(death_time, horizon))
    last = np.where(died, death_time, horizon)
    return pd.DataFrame({
        "progressed": progressed, "progression_t": np.where(progressed, prog, np.nan),
        "died": died, "death_t": np.where(died, death_time, np.nan),
        "death_noprog": died & ~progressed & (dnp <= horizon) & (dnp < prog),
        "next_line": started_next, "next_t": np.where(started_next, next_time, np.nan),
        "second_prog": second_prog, "second_t": np.where(second_prog, second, np.nan),
        "last_t": last,
    })


def feasible(obs: pd.DataFrame, cov: pd.DataFrame) -> bool:
    """Can the printed discontinuation counts and 45 next lines be laid on these times?"""
    if not obs["progressed"].to_numpy()[cov["pd_best"].to_numpy() == 1].all():
        return False  # best response PD means a recorded progression
    progressed = int(obs["progressed"].sum())
    dnp = int(obs["death_noprog"].sum())
    free = int((~obs["progressed"] & ~obs["died"]).sum())
    return (48 <= progressed and dnp >= 3 and 28 <= free <= 34
            and (progressed - 48) + (dnp - 3) + (free - 28) == 6
            and int(obs["next_line"].sum()) >= COUNTS["next_treatment"])


def _cycles(days: np.ndarray, rng) -> np.ndarray:
    """Cycle starts up to each duration: eight 21-day cycles, then 28-day cycles, with delays."""
    stretch = 1 + rng.uniform(0, 0.15, size=len(days))
    out = np.empty(len(days), dtype=int)
    for i, (d, s) in enumerate(zip(days, stretch)):
        starts = np.concatenate([np.arange(8) * 21, 168 + np.arange(200) * 28]) * s
        out[i] = max(2, int((starts < max(d, 1)).sum()))
    return out


def assign_treatment(rng, obs: pd.DataFrame, times: pd.DataFrame, cov: pd.DataFrame) -> pd.DataFrame:
    """Stop reasons, stop times and next lines laid exactly on the simulated times."""
    progressed, dnp = obs["progressed"].to_numpy(), obs["death_noprog"].to_numpy()
    free = ~progressed & ~obs["died"].to_numpy()
    reason = np.full(N, "", dtype=object)
    # Progressors keep PD as the reason unless picked for the 'other' pool; best-response PD always does.
    prog_idx = np.flatnonzero(progressed)
    n_other_prog = len(prog_idx) - 48
    eligible = prog_idx[cov["pd_best"].to_numpy()[prog_idx] == 0]
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
    for i in pool:
        stop_t[i] = rng.uniform(1.0, 0.85 * event_t[i]) if reason[i] != "ASCT" else 3.5
    duration = np.where(np.isnan(stop_t), obs["last_t"], stop_t)
    cycles = _cycles(np.rint(duration * MONTH_DAYS), rng)
    cycles[reason == "ASCT"] = 5
    # Next line: the 45 progressors whose next treatment came first (the rest had not started by cut-off).
    nxt = obs["next_t"].to_numpy()
    starters = np.flatnonzero(obs["next_line"].to_numpy())
    starters = starters[np.argsort(nxt[starters], kind="stable")][: COUNTS["next_treatment"]]
    next_line = np.zeros(N, dtype=bool)
    next_line[starters] = True
    return pd.DataFrame({"end_reason": reason, "stop_t": stop_t, "duration_t": duration,
                         "cycles_received": cycles, "next_line": next_line})


def assign_response_times(rng, df: pd.DataFrame, obs: pd.DataFrame) -> np.ndarray:
    """Months from start to best response: median about 3 months (Results), always before progression."""
    resp = df["best_response"].to_numpy()
    limit = np.where(obs["progressed"], obs["progression_t"], obs["last_t"]).astype(float)
    t = np.exp(rng.normal(np.log(3.6), 0.55, size=N))  # centred so that the median over all 85, after the caps, is about 3
    t = np.where(np.isin(resp, ["MR", "SD"]), rng.uniform(1.4, 2.5, size=N), t)
    t = np.minimum(t, 0.9 * limit)
    t = np.where(resp == "PD", limit, t)
    return np.maximum(t, 0.7)


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


def _date_col(start, months) -> pd.Series:
    months = np.asarray(months, dtype=float)
    days = np.where(np.isnan(months), 0, np.rint(months * MONTH_DAYS)).astype(int)
    dates = pd.Series(start + days.astype("timedelta64[D]")).dt.strftime("%Y-%m-%d")
    return dates.where(~np.isnan(months), "")


def _layers(outcome_seed: int):
    rng_c = np.random.default_rng(CONSTRUCTION_SEED)
    base = construct_baseline(rng_c)
    cov = model_covariates(base)
    rng_o = np.random.default_rng([CONSTRUCTION_SEED, outcome_seed])
    start = accrual_dates(rng_o)
    times = simulate_times(rng_o, cov)
    obs = observe(times, start)
    return base, cov, rng_o, start, times, obs


def generate(outcome_seed: int | None = None) -> pd.DataFrame:
    """The synthetic cohort in the raw format (one row per patient, dates as ISO strings)."""
    outcome_seed = OUTCOME_SEED if outcome_seed is None else outcome_seed
    base, cov, rng, start, times, obs = _layers(outcome_seed)
    if not feasible(obs, cov):
        raise ValueError(f"outcome seed {outcome_seed} cannot carry the printed counts; run calibrate()")
    treat = assign_treatment(rng, obs, times, cov)
    first = _first_line(rng, base, start)
    response_t = assign_response_times(rng, base, obs)
    death_ae = np.flatnonzero(treat["end_reason"] == "death")[:2]
    ae = assign_adverse_events(rng, treat, death_ae)
    mods = assign_modifications(rng, base, treat, ae, start)
    birth = start - (base["age"].to_numpy() * 365.25 + rng.integers(30, 330, size=N)).astype(int).astype("timedelta64[D]")

    nl = treat["next_line"].to_numpy()
    cause = np.full(N, "", dtype=object)
    died = obs["died"].to_numpy()
    cause[died] = np.where(obs["progressed"].to_numpy()[died], "myeloma", "other")
    cause[death_ae] = "adverse_event"
    iso = lambda d: pd.Series(d).dt.strftime("%Y-%m-%d")  # noqa: E731
    raw = pd.DataFrame({
        "patient_id": base["patient_id"], "center": base["center"],
        "birth_date": iso(birth), "sex": base["sex"], "isotype": base["isotype"],
        "diagnosis_date": iso(first["diagnosis_date"]),
        "iss_dx": base["iss_dx"], "riss_dx": base["riss_dx"], "cyto_risk_dx": base["cyto_risk_dx"],
        "chr1_dx": base["chr1_dx"], "first_line_class": base["first_line_class"],
        "first_line_start_date": iso(first["first_line_start_date"]),
        "asct_first_line": base["asct_first_line"], "carfilzomib_refractory": first["carfilzomib_refractory"],
        "bortezomib_refractory": 0,  # "No patients were refractory to bortezomib"
        "len_start_date": iso(first["len_start_date"]), "len_end_date": iso(first["len_end_date"]),
        "len_dose_start_mg": first["len_dose_start_mg"], "len_dose_pd_mg": first["len_dose_pd_mg"],
        "first_relapse_date": iso(first["first_relapse_date"]),
        "creatinine_mg_dl": base["creatinine_mg_dl"], "calcium_mg_dl": base["calcium_mg_dl"],
        "bm_pc_pct_relapse": base["bm_pc_pct_relapse"], "emd_relapse": base["emd_relapse"],
        "cyto_risk_relapse": base["cyto_risk_relapse"], "del17p_relapse": base["del17p_relapse"],
        "chr1_relapse": base["chr1_relapse"],
        "daravd_start_date": iso(start), "dara_route_start": mods["dara_route_start"],
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
        "progression_date": _date_col(start, obs["progression_t"]),
        "next_treatment_date": _date_col(start, np.where(nl, obs["next_t"], np.nan)),
        "second_progression_date": _date_col(start, np.where(nl & obs["second_prog"], obs["second_t"], np.nan)),
        "death_date": _date_col(start, obs["death_t"]),
        "death_cause": cause,
        "last_followup_date": _date_col(start, obs["last_t"]),
    })
    raw = pd.concat([raw, ae], axis=1)
    return raw


def to_csv_text(raw: pd.DataFrame) -> str:
    """The committed file's exact text: integers without '.0', empty for missing."""
    out = raw.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            whole = out[col].dropna().apply(float.is_integer).all()
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else (f"{int(v)}" if whole else f"{v:g}"))
    return out.to_csv(index=False, lineterminator="\n")


def write(path=None, outcome_seed: int | None = None) -> str:
    """Regenerate the committed cohort file; returns its text."""
    text = to_csv_text(generate(outcome_seed))
    paths.atomic_write_text(path or paths.SYNTHETIC_COHORT, text)
    return text


# ---------------------------------------------------------------------------
# Calibration of the time layer: choose OUTCOME_SEED among candidates.
# The targets are the paper's headline survival results; the generator may aim
# at them (GUIDE: "the synthetic generator may aim at them; the analyses must compute").
CALIBRATION_TARGETS = {
    "median_pfs": 14.0, "median_os": 47.0, "median_followup": 22.8, "median_ttnt": 20.0,
    "median_pfs_vgpr": 26.0, "median_pfs_lt_vgpr": 7.0, "median_os_lt_vgpr": 17.0,
    "hr_pfs_vgpr": 0.26, "hr_os_vgpr": 0.20, "hr_pfs_age65": 0.47, "hr_os_age65": 0.48,
    "hr_pfs_no_emd": 0.28, "hr_os_no_emd": 0.37, "hr_pfs_pc_lt60": 0.40, "hr_os_pc_lt60": 0.20,
    "hr_pfs_std_risk": 0.54, "hr_pfs_no_del17p": 0.38,
}


def quick_km_median(time, event) -> float:
    """Plain KM median (first time S <= 0.5) for calibration only; the analyses use compendium.survival."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    order = np.lexsort((~event, time))
    t, e = time[order], event[order]
    at_risk = len(t) - np.arange(len(t))
    s = np.cumprod(np.where(e, 1 - 1 / at_risk, 1.0))
    below = np.flatnonzero(e & (s <= 0.5))
    return float(t[below[0]]) if len(below) else float("nan")


def quick_cox_hr(time, event, x) -> float:
    """Univariate Cox hazard ratio (Breslow ties, Newton-Raphson) for calibration only."""
    keep = ~np.isnan(x)
    time, event, x = np.asarray(time)[keep], np.asarray(event)[keep].astype(bool), np.asarray(x)[keep]
    beta = 0.0
    for _ in range(30):
        if abs(beta) > 20:  # separation: no finite estimate
            return float("nan")
        grad = hess = 0.0
        for t in np.unique(time[event]):
            risk = time >= t
            w = np.exp(beta * x[risk])
            d = (event & (time == t)).sum()
            m1, m2 = (w * x[risk]).sum() / w.sum(), (w * x[risk] ** 2).sum() / w.sum()
            grad += x[event & (time == t)].sum() - d * m1
            hess += d * (m2 - m1 ** 2)
        if hess <= 0:
            break
        step = grad / hess
        beta += step
        if abs(step) < 1e-8:
            break
    return float(np.exp(beta))


def calibration_metrics(outcome_seed: int) -> dict | None:
    """The survival summaries a seed produces, or None if it cannot carry the printed counts."""
    base, cov, rng, start, times, obs = _layers(outcome_seed)
    if not feasible(obs, cov):
        return None
    pfs_t = np.where(obs["progressed"], obs["progression_t"], np.where(obs["died"], obs["death_t"], obs["last_t"]))
    pfs_e = (obs["progressed"] | obs["died"]).to_numpy()
    os_t, os_e = obs["last_t"].to_numpy(), obs["died"].to_numpy()
    nxt = obs["next_t"].to_numpy()
    order = np.argsort(np.where(np.isnan(nxt), np.inf, nxt), kind="stable")
    first45 = np.zeros(N, bool)
    first45[order[: COUNTS["next_treatment"]]] = True
    ttnt_t = np.where(first45, nxt, os_t)
    v = cov["vgpr_or_better"].to_numpy() == 1
    inv = lambda col: np.where(np.isnan(col), np.nan, 1 - col)  # noqa: E731  (absence as the paper orients)
    pc60 = np.where(np.isnan(base["bm_pc_pct_relapse"]), np.nan, (base["bm_pc_pct_relapse"] >= 60).astype(float))
    std = np.where(base["cyto_risk_dx"] == "", np.nan, (base["cyto_risk_dx"] == "standard").astype(float))
    return {
        "median_pfs": quick_km_median(pfs_t, pfs_e), "median_os": quick_km_median(os_t, os_e),
        "median_followup": quick_km_median(os_t, ~os_e), "median_ttnt": quick_km_median(ttnt_t, first45),
        "median_pfs_vgpr": quick_km_median(pfs_t[v], pfs_e[v]),
        "median_pfs_lt_vgpr": quick_km_median(pfs_t[~v], pfs_e[~v]),
        "median_os_lt_vgpr": quick_km_median(os_t[~v], os_e[~v]),
        "hr_pfs_vgpr": quick_cox_hr(pfs_t, pfs_e, v.astype(float)),
        "hr_os_vgpr": quick_cox_hr(os_t, os_e, v.astype(float)),
        "hr_pfs_age65": quick_cox_hr(pfs_t, pfs_e, cov["age_ge65"].to_numpy()),
        "hr_os_age65": quick_cox_hr(os_t, os_e, cov["age_ge65"].to_numpy()),
        "hr_pfs_no_emd": quick_cox_hr(pfs_t, pfs_e, inv(base["emd_relapse"].to_numpy())),
        "hr_os_no_emd": quick_cox_hr(os_t, os_e, inv(base["emd_relapse"].to_numpy())),
        "hr_pfs_pc_lt60": quick_cox_hr(pfs_t, pfs_e, inv(pc60)),
        "hr_os_pc_lt60": quick_cox_hr(os_t, os_e, inv(pc60)),
        "hr_pfs_std_risk": quick_cox_hr(pfs_t, pfs_e, std),
        "hr_pfs_no_del17p": quick_cox_hr(pfs_t, pfs_e, inv(base["del17p_relapse"].to_numpy())),
    }


# The headline results weigh three times as much as the secondary hazard ratios.
CALIBRATION_WEIGHTS = {"median_pfs": 3, "median_os": 3, "median_followup": 3, "hr_pfs_vgpr": 3,
                       "hr_os_vgpr": 3, "hr_pfs_age65": 3, "median_pfs_vgpr": 2, "median_pfs_lt_vgpr": 2}


def calibration_loss(metrics: dict) -> float:
    """Weighted sum of squared log ratios to the targets; a value not reached costs as a 3-fold miss."""
    loss = 0.0
    for key, target in CALIBRATION_TARGETS.items():
        value = metrics[key]
        miss = np.log(3) ** 2 if not np.isfinite(value) else np.log(value / target) ** 2
        loss += CALIBRATION_WEIGHTS.get(key, 1) * miss
    return float(loss)


def calibrate(seeds=range(2000)) -> pd.DataFrame:
    """Score candidate outcome seeds that can carry the printed counts, best first."""
    rows = []
    for seed in seeds:
        m = calibration_metrics(seed)
        if m is not None:
            rows.append({"seed": seed, "loss": calibration_loss(m), **m})
    return pd.DataFrame(rows).sort_values(["loss", "seed"]).reset_index(drop=True)


# The headline medians must land near the paper before the loss decides among seeds.
HEADLINE_WINDOWS = {"median_pfs": 1.5, "median_os": 2.5, "median_followup": 2.0}


def choose_seed(scored: pd.DataFrame) -> int:
    """The lowest-loss seed whose PFS, OS and follow-up medians are within HEADLINE_WINDOWS months."""
    ok = np.ones(len(scored), dtype=bool)
    for key, window in HEADLINE_WINDOWS.items():
        ok &= (scored[key] - CALIBRATION_TARGETS[key]).abs().to_numpy() < window
    return int(scored[ok].sort_values(["loss", "seed"]).iloc[0]["seed"])

"""Layers 1 and 2 of the default cohort: the printed counts, laid down exactly, and the assumed
joint structure where the paper is silent (``ASSUMPTIONS``).

Every count of Table 1, first-line therapy, response, treatment modifications and Table 6 is
laid down exactly, and continuous variables get the paper's median and quartiles as order
statistics (R's default quantile, type 7: with n = 85 the quartiles are the 22nd, 43rd and
64th values, so no interpolation is involved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.data.rules import ASCT_MAX_AGE, SC_DARATUMUMAB_DATE
from compendium.synthetic.seeds import ACCRUAL, DATA_CUTOFF, MONTH_DAYS, N

#: Patients with an aggressive relapse (latent, not in the file): all of them start on the full
#: dexamethasone dose, which is how the dose groups come to differ in survival without any effect of the dose.
AGGRESSIVE_N = 25

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
    "80 mg/week 22, 40 mg/week 26, 20 mg/week 10. The dose is chosen by indication: the 25 patients with an "
    "aggressive relapse (a latent trait, not in the file, that raises the hazards of progression and of death "
    "after it) all start on the full dose, the 2 other full-dose starters are mostly under 65, and 20 mg/week "
    "goes mostly to patients of 75 or older. The dose itself has no effect on any hazard, so the dose groups' "
    "hazard ratios are confounding by indication.",
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
    "R-ISS III only in ISS III, R-ISS II from ISS III only with standard-risk FISH; one R-ISS-evaluable "
    "patient (ISS I or II) has no FISH (61 vs 60 evaluable, as printed).",
    "First-line ASCT only at 70 or younger (at DaraVd start, so also at first-line start): with 47 "
    "transplants and 47 patients of 70 or younger, every one of them had one.",
    "Lenalidomide dose at relapse: 10 mg 47, 25 mg 16, 15 mg 5, 20 mg 3, 5 mg 7, 2.5 mg 3, unknown 4; "
    "maintenance after ASCT starts at 10 mg, continuous Rd at 25 mg (15 or 10 mg in some).",
    f"Accrual is spread from {ACCRUAL[0]:%B %Y} to {ACCRUAL[1]:%B %Y}, denser in later years: the 82 intravenous "
    f"starts before {SC_DARATUMUMAB_DATE:%d %B %Y} (subcutaneous daratumumab reimbursed in Italy), the 3 "
    f"subcutaneous ones on or after it; data cut-off {DATA_CUTOFF:%d %B %Y} (not printed); about one patient in "
    "twelve is lost to follow-up earlier (after the best response; a patient lost while free of progression had "
    "stopped DaraVd first).",
    "Every clinical rule of compendium.data.rules holds: bortezomib reduced for every grade-3 neuropathy or "
    "grade-4 thrombocytopenia and only for a toxicity that justifies it, in cycles 1-8; a next line within 6 "
    "months of progression, or death within 6 months for the patients unfit for one; the next line's "
    "progression at least a cycle after it starts; a stop for toxicity with a grade >= 3 event.",
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


def months_to_days(months):
    return np.rint(np.asarray(months, dtype=float) * MONTH_DAYS).astype(int)


def assign_exact(rng, counts: dict, weights: dict | None = None, n: int = N) -> np.ndarray:
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


def order_by_score(rng, values_sorted: np.ndarray, score: np.ndarray, noise: float) -> np.ndarray:
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
    df["sex"] = assign_exact(rng, COUNTS["sex"])
    df["isotype"] = assign_exact(rng, COUNTS["isotype"])
    # Transplant goes to the younger patients, and never beyond ASCT_MAX_AGE (age at DaraVd start is at
    # least the age at first-line start, so the rule holds); double ASCT by centre policy (random).
    asct_w = np.where(age <= ASCT_MAX_AGE, np.exp(-0.25 * (age - 65)), 0.0)
    asct = assign_exact(rng, {"any": 47, "none": 38}, {"any": asct_w})
    double = assign_exact(rng, {"double": 21, "single": 26}, n=47)
    asct[asct == "any"] = double
    df["asct_first_line"] = asct
    # Continuous Rd is the transplant-ineligible backbone; triplets otherwise.
    non_asct = (asct == "none").astype(float)
    df["first_line_class"] = assign_exact(
        rng, {"lenalidomide": 35, "carfilzomib": 10, "bortezomib": 40},
        {"lenalidomide": 0.02 + 50 * non_asct, "carfilzomib": 0.2 + (1 - non_asct)})
    # Staging: ISS with nested R-ISS and FISH (see ASSUMPTIONS).
    iss = assign_exact(rng, COUNTS["iss_dx"])
    riss = np.empty(N, dtype=object)
    plan = {"I": {"I": 22, "II": 8, "": 9}, "II": {"II": 19, "": 9}, "III": {"III": 5, "II": 7, "": 4}, "": {"": 2}}
    for stage, split in plan.items():
        idx = np.flatnonzero(iss == stage)
        riss[idx] = assign_exact(rng, split, n=len(idx))
    cyto = np.full(N, "", dtype=object)
    # R-ISS II from ISS III means standard-risk FISH (high-risk FISH would make it III): those patients
    # are laid down as standard, the high-risk and untested ones of R-ISS II come from ISS I and II.
    for stage, split in {"I": {"standard": 22}, "III": {"high": 3, "standard": 2},
                         "II": {"high": 13, "": 1, "standard": 20}}.items():
        idx = np.flatnonzero(riss == stage)
        not_iss3 = (iss[idx] != "III").astype(float)
        cyto[idx] = assign_exact(rng, split, {"high": not_iss3, "": not_iss3} if stage == "II" else None, n=len(idx))
    df["iss_dx"], df["riss_dx"], df["cyto_risk_dx"] = iss, riss, cyto
    evaluable = np.flatnonzero(cyto != "")
    chr1 = np.full(N, "", dtype=object)
    chr1[evaluable] = "none"
    picks = rng.choice(evaluable, size=3, replace=False)
    chr1[picks] = ["del1p", "gain1q", "amp1q"]
    df["chr1_dx"] = chr1
    # FISH at relapse in 24: high-risk at diagnosis tends to stay high-risk.
    rel_w = np.where(cyto == "high", 3.0, 1.0)
    tested = assign_exact(rng, {"yes": 24, "no": 61}, {"yes": rel_w}) == "yes"
    tested_idx = np.flatnonzero(tested)
    hi_w = np.where(cyto[tested_idx] == "high", 6.0, 1.0)
    cyto_rel = np.full(N, "", dtype=object)
    cyto_rel[tested_idx] = assign_exact(rng, {"high": 14, "standard": 10}, {"high": hi_w}, n=24)
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
    pc_cat = assign_exact(rng, COUNTS["pc_relapse"])
    pc = np.full(N, np.nan)
    pc[pc_cat == "<60"] = np.round(rng.uniform(5, 59, size=28))
    pc[pc_cat == ">=60"] = np.round(rng.uniform(60, 90, size=9))
    df["bm_pc_pct_relapse"] = pc
    emd = assign_exact(rng, {1: 5, 0: 63, "": 17})
    df["emd_relapse"] = np.where(emd == "", np.nan, emd).astype(float)
    for col in ("creatinine_mg_dl", "calcium_mg_dl"):
        q = QUANTILES[col]
        df[col] = rng.permutation(anchored_sample(rng, q["q1"], q["median"], q["q3"], q["lo"], q["hi"], q["decimals"]))
    # Response: EMD and high-risk FISH make >=VGPR less likely (Table 4 vs Table 2).
    adverse = (df["emd_relapse"].fillna(0) + (cyto == "high") * 0.3).to_numpy()
    good = np.exp(-1.2 * adverse)
    df["best_response"] = assign_exact(rng, COUNTS["best_response"],
                                  {k: good if k in ("sCR", "CR", "VGPR") else np.ones(N) for k in COUNTS["best_response"]})
    # Dexamethasone by indication: the full dose for an aggressive relapse (a latent trait the file does not
    # record, which raises the hazards of progression and of death after it), and otherwise mostly for the
    # under-65s; 20 mg/week mostly for the frail elderly (75 or older). The dose itself has no effect.
    aggressive = assign_exact(rng, {1: AGGRESSIVE_N, 0: N - AGGRESSIVE_N}, {1: 1.0 + young})
    df["aggressive_relapse"] = aggressive.astype(int)
    dex_counts = {k: COUNTS["dex_start_group"][k] for k in ("full", "20", "80", "40")}  # the last level takes the rest
    df["dex_start_group"] = assign_exact(rng, dex_counts,
                                         {"full": 0.05 + 100.0 * (aggressive == 1) + 0.3 * young,
                                          "20": 0.1 + (age >= 75)})
    # Daratumumab's route by the start date: subcutaneous only once reimbursed (rules.SC_DARATUMUMAB_DATE);
    # the start date is then drawn in the route's accrual window (courses.start_dates).
    df["dara_route_start"] = assign_exact(rng, COUNTS["dara_route_start"])
    return df


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
        "aggressive_relapse": df["aggressive_relapse"] == 1,
        "sd_mr_best": resp.isin(["SD", "MR"]),
    }
    return {k: np.asarray(v, float) for k, v in cov.items()}


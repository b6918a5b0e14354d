"""The rest of the default cohort's treatment record, exact to the printed counts: first-line
dates and lenalidomide doses, the maximum grade of each Table 6 adverse event, and the dose
modifications, route, premedication and salvage transplants of DaraVd.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.synthetic.baseline import (AE_GRADES, COUNTS, PN_OUTCOME, QUANTILES, assign_exact, months_to_days,
                                           order_by_score, anchored_sample)
from compendium.data.rules import BORTEZOMIB_CYCLES, REDUCTION_CAUSES, REDUCTION_NEEDED, TOXICITY_STOP_MIN_GRADE
from compendium.synthetic.seeds import N


def assign_first_line(rng, df: pd.DataFrame, start: np.ndarray) -> pd.DataFrame:
    """First-line dates and lenalidomide doses, working back from the DaraVd start."""
    q = QUANTILES["len_exposure_months"]
    exposure_sorted = anchored_sample(rng, q["q1"], q["median"], q["q3"], q["lo"], q["hi"], q["decimals"])
    # Continuous Rd patients stay on lenalidomide longer than post-ASCT maintenance.
    score = (df["asct_first_line"] == "none").to_numpy(float) * 1.5
    exposure = order_by_score(rng, exposure_sorted, score, noise=1.0)
    relapse_gap = rng.integers(7, 60, size=N)            # relapse to DaraVd start, days
    len_stop_gap = rng.integers(0, 45, size=N)            # last lenalidomide dose before relapse
    relapse = start - relapse_gap.astype("timedelta64[D]")
    len_end = relapse - len_stop_gap.astype("timedelta64[D]")
    len_start = len_end - months_to_days(exposure).astype("timedelta64[D]")
    asct = df["asct_first_line"].to_numpy()
    induction = np.where(asct == "none", np.where(df["first_line_class"] == "lenalidomide", 0.0, 5.0),
                         np.where(asct == "double", 14.0, 10.0)) + rng.gamma(4, 0.5, size=N)
    fl_start = len_start - months_to_days(induction).astype("timedelta64[D]")
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


def grade_at_least(ae: pd.DataFrame, thresholds: dict) -> np.ndarray:
    out = np.zeros(len(ae), dtype=bool)
    for col, grade in thresholds.items():
        out |= ae[col].to_numpy() >= grade
    return out


def _bortezomib_reductions(rng, ae: pd.DataFrame, cycles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Who had a bortezomib dose reduction (39, as printed) and in which cycle, by the label.

    Everybody with a toxicity that obliges one (``rules.REDUCTION_NEEDED``: grade-3 neuropathy, grade-4
    thrombocytopenia) is reduced; the others are drawn among the patients with a toxicity that justifies
    one (``rules.REDUCTION_CAUSES``), neuropathy or thrombocytopenia of grade 2 or more first. 24 are
    reduced in cycles 1-3 (as printed), the rest in cycles 4-8: bortezomib stops after cycle 8.
    """
    needed = grade_at_least(ae, REDUCTION_NEEDED)
    cause = grade_at_least(ae, REDUCTION_CAUSES)
    neuro_thr = (ae["ae_pn_grade"].to_numpy() >= 2) | (ae["ae_thrombocytopenia_grade"].to_numpy() >= 2)
    n_reduced = COUNTS["bortezomib_dose_reduced"][1]
    pool = np.flatnonzero(cause & ~needed)
    extra = _nested_pick(rng, pool, n_reduced - needed.sum(), 0.2 + neuro_thr[pool])
    reduced = np.zeros(N, dtype=int)
    reduced[needed] = 1
    reduced[extra] = 1
    red_idx = np.flatnonzero(reduced == 1)
    n_late = n_reduced - COUNTS["bortezomib_reduced_in_first_3_cycles"]
    late = _nested_pick(rng, red_idx[cycles[red_idx] >= 4], n_late)
    red_cycle = np.full(N, np.nan)
    for i in red_idx:
        red_cycle[i] = (rng.integers(4, min(cycles[i], BORTEZOMIB_CYCLES) + 1) if i in late
                        else rng.integers(1, min(3, cycles[i]) + 1))
    return reduced, red_cycle


def _nested_pick(rng, candidates: np.ndarray, size: int, weights=None) -> np.ndarray:
    w = np.ones(len(candidates)) if weights is None else np.asarray(weights, float)
    return rng.choice(candidates, size=size, replace=False, p=w / w.sum())


def assign_adverse_events(rng, treat: pd.DataFrame, death_ae: np.ndarray) -> pd.DataFrame:
    """Maximum grade of each Table 6 event per patient, exact to the grade rows.

    8 patients have no event, 5 only grade 1 and 72 at least one grade >= 2
    (91% any grade, 85% grade >= 2 in the Results). Pneumonia and herpes zoster
    lie within infections, and the two adverse-event deaths are infection grade 5.
    """
    toxic = (treat["end_reason"] == "toxicity").to_numpy()
    status = assign_exact(rng, {"ge2": 72, "g1": 5, "none": 8},
                     {"ge2": np.where(np.isin(np.arange(N), death_ae) | toxic, 1e6, 1.0)})
    ge2, anyae = np.flatnonzero(status == "ge2"), np.flatnonzero(status != "none")
    grades = {ae: np.zeros(N, dtype=int) for ae in AE_GRADES}
    covered = np.zeros(N, dtype=bool)
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
    _repair_toxicity_stops(rng, grades, np.flatnonzero(toxic))
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
    outcome[pn] = assign_exact(rng, PN_OUTCOME, n=len(pn))
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


def _repair_toxicity_stops(rng, grades: dict, toxic: np.ndarray) -> None:
    """Give every patient who stopped for toxicity an event of grade >= 3 (``rules.TOXICITY_STOP_MIN_GRADE``).

    A swap of one event's grades between the patient and a donor who has it at grade 3 or 4 and keeps
    another event of grade >= 2 (so the grade rows and every patient's coverage stay as they were).
    Infections are left alone (pneumonia and herpes zoster are nested in them).
    """
    names = [a for a in grades if a not in ("infection", "pneumonia", "herpes_zoster")]
    for i in toxic:
        if max(g[i] for g in grades.values()) >= TOXICITY_STOP_MIN_GRADE:
            continue
        for a in rng.permutation(names):
            g = grades[a]
            others = sum((grades[b] >= 2).astype(int) for b in grades if b != a)
            donors = np.flatnonzero((g >= TOXICITY_STOP_MIN_GRADE) & (g < 5) & ~np.isin(np.arange(N), toxic)
                                    & ((others >= 1) | (g[i] >= 2)))
            if len(donors):
                d = rng.choice(donors)
                g[i], g[d] = g[d], g[i]
                break
        else:
            raise RuntimeError("could not give a toxicity stop its severe event")


def assign_modifications(rng, df: pd.DataFrame, treat: pd.DataFrame, ae: pd.DataFrame) -> pd.DataFrame:
    """Dose modifications, route, premedication and salvage ASCT, exact to the printed counts."""
    cycles = treat["cycles_received"].to_numpy()
    out = pd.DataFrame(index=range(N))
    inf = ae["ae_infection_grade"].to_numpy()
    skip = assign_exact(rng, {k: v for k, v in sorted(COUNTS["dara_doses_skipped"].items(), reverse=True)},
                   {k: (1.0 + 5 * (inf >= 2)) * (cycles >= 3 + k) + 1e-9 for k in range(1, 6)})
    out["dara_doses_skipped"] = skip.astype(int)
    reduced, red_cycle = _bortezomib_reductions(rng, ae, cycles)
    out["bortezomib_dose_reduced"], out["bortezomib_reduction_cycle"] = reduced, red_cycle
    out["bortezomib_weekly_switch"] = assign_exact(rng, {1: 25, 0: 60}, {1: 0.3 + reduced + (cycles >= 9)}).astype(int)
    out["dara_route_start"] = df["dara_route_start"].to_numpy()
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



"""Cohorts of any size: the same multi-state model as the default cohort, with free draws
(no count is pinned to the paper's, only their shares), vectorised, for tests, method checks
and benchmarks (``python -m compendium synthetic --n N --seed S --out FILE``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from compendium.synthetic import multistate
from compendium.synthetic.baseline import (AE_GRADES, CENTER_SIZES, COUNTS, PN_OUTCOME, QUANTILES, model_covariates,
                                           months_to_days)
from compendium.data.rules import (ASCT_MAX_AGE, BORTEZOMIB_CYCLES, REDUCTION_CAUSES, REDUCTION_NEEDED,
                                   TOXICITY_STOP_MIN_GRADE)
from compendium.synthetic.baseline import AGGRESSIVE_N
from compendium.synthetic.courses import admin_months, cycles_started, lost_on_treatment, start_dates
from compendium.synthetic.events import grade_at_least
from compendium.synthetic.rawformat import assemble_raw, integers_as_int
from compendium.synthetic.seeds import ANY_N_SEED, CONSTRUCTION_SEED, MONTH_DAYS, N
from compendium.report import cells


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
    p_asct = np.where(age < 65, 0.97, np.where(age <= ASCT_MAX_AGE, 0.85, 0.0))  # none beyond ASCT_MAX_AGE
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
    cyto[(riss == "II") & (iss == "III")] = "standard"  # high-risk FISH with ISS III would be R-ISS III
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
    # Dexamethasone by indication (as for N = 85): the full dose for an aggressive relapse (latent), else mostly
    # for the under-65s; 20 mg/week mostly from 75 years on.
    young = age < 65
    p_aggressive = AGGRESSIVE_N / N * np.where(young, 2.0, 1.0) / (1.0 + COUNTS["age_group"]["<65"] / N)
    aggressive = rng.uniform(size=n) < p_aggressive
    df["aggressive_relapse"] = aggressive.astype(int)
    dex = np.empty(n, dtype=object)
    dex[aggressive] = "full"
    _choice_where(rng, ~aggressive & young, {"full": 2, "80": 9, "40": 9}, dex)
    _choice_where(rng, ~aggressive & ~young & (age < 75), {"80": 11, "40": 13, "20": 3}, dex)
    _choice_where(rng, ~aggressive & (age >= 75), {"80": 2, "40": 4, "20": 7}, dex)
    df["dex_start_group"] = dex
    df["dara_route_start"] = _draw(rng, COUNTS["dara_route_start"], n)
    return df


def _first_line_any(rng, df: pd.DataFrame, start: np.ndarray) -> dict:
    n = len(df)
    exposure = _by_quartiles(rng, QUANTILES["len_exposure_months"], n)
    relapse = start - rng.integers(7, 60, size=n).astype("timedelta64[D]")
    len_end = relapse - rng.integers(0, 45, size=n).astype("timedelta64[D]")
    len_start = len_end - months_to_days(exposure).astype("timedelta64[D]")
    asct = df["asct_first_line"].to_numpy()
    induction = np.where(asct == "none", np.where(df["first_line_class"] == "lenalidomide", 0.0, 5.0),
                         np.where(asct == "double", 14.0, 10.0)) + rng.gamma(4, 0.5, size=n)
    fl_start = len_start - months_to_days(induction).astype("timedelta64[D]")
    rd = asct == "none"
    pd_dose = np.where(rd, rng.choice([25, 20, 15, 10, 5, np.nan], size=n, p=[16 / 38, 3 / 38, 5 / 38, 10 / 38, 2 / 38, 2 / 38]),
                       rng.choice([10, 5, 2.5, np.nan], size=n, p=[37 / 47, 5 / 47, 3 / 47, 2 / 47]))
    start_dose = np.where(rd, np.where(pd_dose <= 10, rng.choice([25.0, 15.0, 10.0], size=n, p=[0.6, 0.25, 0.15]), 25.0), 10.0)
    return {"diagnosis_date": fl_start - rng.integers(5, 40, size=n).astype("timedelta64[D]"),
            "first_line_start_date": fl_start, "len_start_date": len_start, "len_end_date": len_end,
            "first_relapse_date": relapse, "len_dose_start_mg": np.where(np.isnan(pd_dose), np.nan, start_dose),
            "len_dose_pd_mg": pd_dose,
            "carfilzomib_refractory": ((df["first_line_class"] == "carfilzomib") & (rng.uniform(size=n) < 0.1)).astype(int)}


def _treatment_any(rng, obs: dict, age: np.ndarray, admin: np.ndarray) -> dict:
    """Stop reasons and times: PD at progression, death on treatment, a few stops for other reasons; a
    salvage transplant only at ``ASCT_MAX_AGE`` or younger; a patient lost to follow-up while free of
    progression stopped for an unknown reason at the last visit."""
    n = len(obs["last_t"])
    prog, dnp = obs["progressed"], obs["death_noprog"]
    event_t = np.where(prog, obs["progression_t"], obs["last_t"])
    reason = np.where(prog, "PD", "").astype(object)
    reason[dnp] = "death"
    other = (rng.uniform(size=n) < 0.07) & (event_t > 3.0)
    kind = rng.choice(np.array(["toxicity", "unknown", "ASCT"], dtype=object), size=n, p=[0.5, 0.35, 0.15])
    kind[(kind == "ASCT") & ((event_t <= 4.0) | (age > ASCT_MAX_AGE))] = "toxicity"
    reason[other] = kind[other]
    lost = lost_on_treatment(pd.DataFrame({k: obs[k] for k in ("progressed", "died", "last_t")}), admin)
    reason[lost & ~other] = "unknown"
    stop = np.full(n, np.nan)
    stop[reason == "PD"] = obs["progression_t"][reason == "PD"]
    death_t = obs["death_t"]
    stop[reason == "death"] = np.maximum(death_t - rng.uniform(0.1, 0.6, size=n), 0.75)[reason == "death"]
    early = 1.5 + rng.uniform(size=n) * (0.85 * event_t - 1.5)  # after cycle 2, before the event
    stop[other] = np.where(kind == "ASCT", 3.5, early)[other]
    stop[lost & ~other] = obs["last_t"][lost & ~other]
    duration = np.where(np.isnan(stop), obs["last_t"], stop)
    cycles = cycles_started(np.rint(duration * MONTH_DAYS), rng)
    cycles[reason == "ASCT"] = 5
    return {"end_reason": reason, "stop_t": stop, "cycles_received": cycles}


def _adverse_events_any(rng, n: int, died_on_treatment: np.ndarray, toxic: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Maximum grade per Table 6 event, each from its printed grade shares; the deaths from infection; a stop
    for toxicity has the severe event that caused it (grade 3 of one event, drawn by the printed grade-3 counts)."""
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
    worst = np.maximum.reduce(list(grades.values()))
    lacking = np.flatnonzero(toxic & (worst < TOXICITY_STOP_MIN_GRADE))
    severe = [a for a in AE_GRADES if a not in ("infection", "pneumonia", "herpes_zoster") and 3 in AE_GRADES[a]]
    p3 = np.array([AE_GRADES[a][3] for a in severe], float)
    for i, a in zip(lacking, np.array(severe, dtype=object)[rng.choice(len(severe), size=len(lacking), p=p3 / p3.sum())]):
        grades[a][i] = TOXICITY_STOP_MIN_GRADE
    out = pd.DataFrame({f"ae_{ae}_grade": g for ae, g in grades.items()})
    outcome = np.where(grades["pn"] > 0, _draw(rng, PN_OUTCOME, n), "").astype(object)
    out["ae_pn_outcome"] = outcome
    return out, ae_death


def _modifications_any(rng, treat: dict, ae: pd.DataFrame, base: pd.DataFrame) -> dict:
    """Dose modifications by the label (as for N = 85): a reduction for every toxicity that obliges one, the
    others among the patients with a cause, in cycles 1-8; a reduced starting dose only with neuropathy."""
    n = len(base)
    cycles = treat["cycles_received"]
    skip = _draw(rng, COUNTS["dara_doses_skipped"], n).astype(int)
    skip = np.where(cycles >= 3 + skip, skip, 0)
    needed, cause = grade_at_least(ae, REDUCTION_NEEDED), grade_at_least(ae, REDUCTION_CAUSES)
    share = COUNTS["bortezomib_dose_reduced"][1] / N
    p_extra = np.clip((share - needed.mean()) / max((cause & ~needed).mean(), 1e-9), 0.0, 1.0)
    reduced = (needed | (cause & (rng.uniform(size=n) < p_extra))).astype(int)
    early = rng.uniform(size=n) < COUNTS["bortezomib_reduced_in_first_3_cycles"] / COUNTS["bortezomib_dose_reduced"][1]
    last = np.minimum(cycles, BORTEZOMIB_CYCLES)
    early_cycle = 1 + np.floor(rng.uniform(size=n) * np.minimum(last, 3))
    late_cycle = 4 + np.floor(rng.uniform(size=n) * np.maximum(last - 3, 1))
    red_cycle = np.where(early | (last < 4), early_cycle, late_cycle)
    red_cycle = np.where(reduced == 1, red_cycle, np.nan)
    pn = ae["ae_pn_grade"].to_numpy() >= 1
    p_dose = min(1.0, 3 / N / max(pn.mean(), 1e-9))
    dose = np.where(pn & (rng.uniform(size=n) < p_dose), np.where(rng.uniform(size=n) < 2 / 3, 1.0, 0.7), 1.3)
    asct = treat["end_reason"] == "ASCT"
    return {"dara_doses_skipped": skip, "bortezomib_dose_reduced": reduced, "bortezomib_reduction_cycle": red_cycle,
            "bortezomib_weekly_switch": (rng.uniform(size=n) < 25 / 85).astype(int),
            "dara_route_start": base["dara_route_start"].to_numpy(),
            "bortezomib_start_dose_mg_m2": dose,
            "montelukast_premedication": (rng.uniform(size=n) >= 6 / 85).astype(int),
            "salvage_asct": asct.astype(int), "salvage_asct_cycle": np.where(asct, 5.0, np.nan)}


def generate_any(n: int, seed: int = ANY_N_SEED, model=multistate.MODEL) -> pd.DataFrame:
    """n patients from the multi-state model (free draws from ``seed``), in the raw format."""
    if n < 1:
        raise ValueError(f"n must be a positive number of patients, got {n}")
    rng = np.random.default_rng([CONSTRUCTION_SEED, seed, n])
    base = baseline_any(rng, n)
    cov = model_covariates(base)
    start = start_dates(rng.uniform(size=n), base["dara_route_start"].to_numpy())
    u = multistate.draw_uniforms(rng, n)
    admin = admin_months(start)
    obs = multistate.simulate(u, cov, base["best_response"].to_numpy(), admin, model)
    treat = _treatment_any(rng, obs, base["age"].to_numpy(), admin)
    first = _first_line_any(rng, base, start)
    ae, ae_death = _adverse_events_any(rng, n, treat["end_reason"] == "death", treat["end_reason"] == "toxicity")
    mods = _modifications_any(rng, treat, ae, base)
    birth = start - (base["age"].to_numpy() * 365.25 + rng.integers(30, 330, size=n)).astype(int).astype("timedelta64[D]")
    response_t = np.where(base["best_response"] == "PD", obs["progression_t"], obs["best_t"])
    cause = multistate.death_causes(obs)
    cause[ae_death] = "adverse_event"
    return assemble_raw(base, start, birth, first, obs, treat, mods, ae, response_t, cause)


def write_any(path: Path, n: int, seed: int) -> None:
    """A generated cohort straight to disk in chunks, atomically (no whole-file string in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            cells.to_csv(integers_as_int(generate_any(n, seed)), handle, chunksize=50_000)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise




def free_histories(n: int, seed: int, model=multistate.MODEL):
    """Baseline and simulated history of n patients (free draws), without the raw file's other layers."""
    rng = np.random.default_rng([CONSTRUCTION_SEED, seed, n, 2])
    base = baseline_any(rng, n)
    start = start_dates(rng.uniform(size=n), base["dara_route_start"].to_numpy())
    obs = multistate.simulate(multistate.draw_uniforms(rng, n), model_covariates(base),
                              base["best_response"].to_numpy(), admin_months(start), model)
    return base, pd.DataFrame(obs)

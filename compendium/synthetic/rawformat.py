"""The raw file's format: the dictionary's columns assembled from the generator's layers, and
the exact text written (integers without '.0', empty for missing, ISO dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.synthetic.seeds import MONTH_DAYS
from compendium.report import cells


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

def integers_as_int(raw: pd.DataFrame) -> pd.DataFrame:
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
    return cells.to_csv(integers_as_int(raw))


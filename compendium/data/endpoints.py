"""From validated raw data to the analysis dataset (GUIDE contract), one row per patient.

Every time-to-event endpoint starts at the first DaraVd dose, as the paper's
Statistical analysis says, and is expressed in months of 30.4375 days (365.25/12),
the convention of R packages such as ``lubridate`` and of most myeloma reports.

- PFS: to progression or death, whichever first; otherwise censored at last follow-up.
- OS: to death; otherwise censored at last follow-up.
- TTNT: to the start of the next line; patients who die before one, or are alive
  without one, are censored (the paper's definition counts only the next line).
- PFS2: to second progression (on the next line) or death, whichever first;
  otherwise censored at last follow-up (EMA definition, and the paper's own words:
  "from start of therapy to the second disease progression or death").
- Next-line PFS: from the start of the next line to second progression or death,
  for the patients who started one. The paper's "median PFS2 of 5 months in 45
  patients" can only have been measured this way (see notebook 01).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONTH_DAYS = 30.4375
RESPONSE_ORDER = ["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"]
ANALYSIS_COLUMNS = [
    # GUIDE contract columns first, in the contract's order
    "patient_id", "center", "age_years", "age_ge65", "sex", "best_response", "orr", "vgpr_or_better",
    "cr_or_better", "emd_relapse", "pc_ge60_relapse", "cyto_high_risk_dx", "cyto_high_risk_relapse",
    "del17p_relapse", "amp1q", "dex_dose_group", "len_exposure_months", "len_dose_start_mg",
    "len_dose_pd_mg", "bortezomib_exposed", "carfilzomib_exposed", "pfs_months", "pfs_event",
    "os_months", "os_event", "ttnt_months", "ttnt_event", "pfs2_months", "pfs2_event",
    # further columns for the descriptive, response and toxicity notebooks
    "age_group", "isotype", "iss", "riss", "cyto_risk_dx", "cyto_risk_relapse", "chr1_dx", "chr1_relapse",
    "creatinine_mg_dl", "calcium_mg_dl", "bm_pc_pct_relapse", "first_line_class", "asct_first_line",
    "prior_asct", "carfilzomib_refractory", "bortezomib_refractory", "len_dose_pd_group",
    "first_line_pfs_months",
    "months_dx_to_daravd", "dara_route_start", "bortezomib_start_dose_mg_m2", "cycles_received",
    "treatment_months", "on_treatment", "end_reason", "dara_doses_skipped", "bortezomib_dose_reduced",
    "bortezomib_reduction_cycle", "bortezomib_weekly_switch", "salvage_asct", "salvage_asct_cycle",
    "montelukast_premedication", "response_months", "vgpr_months", "vgpr_date_source", "next_line", "next_line_pfs_months",
    "next_line_pfs_event", "death_cause",
]


def months_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.days / MONTH_DAYS


def completed_years(birth: pd.Series, on: pd.Series) -> pd.Series:
    """Age in completed years (birthday not yet reached this year counts one less)."""
    years = on.dt.year - birth.dt.year
    before_birthday = (on.dt.month < birth.dt.month) | ((on.dt.month == birth.dt.month) & (on.dt.day < birth.dt.day))
    return (years - before_birthday.astype(int)).astype("Int64")


def flag(condition: pd.Series, evaluable: pd.Series | None = None) -> pd.Series:
    """0/1 as nullable integers, empty where not evaluable."""
    out = condition.astype("Int64")
    return out if evaluable is None else out.where(evaluable, pd.NA)


def time_to_first(start: pd.Series, candidates: list[pd.Series], censor: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Months to the earliest candidate event date, else to the censoring date; and the event flag."""
    first = pd.concat(candidates, axis=1).min(axis=1)
    event = first.notna()
    end = first.where(event, censor)
    return months_between(start, end), event.astype("Int64")


def derive(raw: pd.DataFrame) -> pd.DataFrame:
    """The analysis dataset from typed raw data (see ``loading.typed``)."""
    r = raw
    start, last = r["daravd_start_date"], r["last_followup_date"]
    out = pd.DataFrame({"patient_id": r["patient_id"], "center": r["center"]})
    out["age_years"] = completed_years(r["birth_date"], start)
    out["age_ge65"] = flag(out["age_years"] >= 65)
    out["age_group"] = pd.cut(out["age_years"].astype(float), [-np.inf, 64, 70, np.inf],
                              labels=["<65", "65-70", ">70"]).astype("string")
    out["sex"] = r["sex"]
    resp = r["best_response"]
    evaluable = resp != "NE"
    out["best_response"] = resp
    out["orr"] = flag(resp.isin(RESPONSE_ORDER[:4]), evaluable)
    out["vgpr_or_better"] = flag(resp.isin(RESPONSE_ORDER[:3]), evaluable)
    out["cr_or_better"] = flag(resp.isin(RESPONSE_ORDER[:2]), evaluable)
    out["emd_relapse"] = r["emd_relapse"]
    out["pc_ge60_relapse"] = flag(r["bm_pc_pct_relapse"] >= 60, r["bm_pc_pct_relapse"].notna())
    out["cyto_high_risk_dx"] = flag(r["cyto_risk_dx"] == "high", r["cyto_risk_dx"].notna())
    out["cyto_high_risk_relapse"] = flag(r["cyto_risk_relapse"] == "high", r["cyto_risk_relapse"].notna())
    out["del17p_relapse"] = r["del17p_relapse"]
    amp_dx, amp_rel = r["chr1_dx"] == "amp1q", r["chr1_relapse"] == "amp1q"
    out["amp1q"] = flag(amp_dx.fillna(False) | amp_rel.fillna(False),
                        r["chr1_dx"].notna() | r["chr1_relapse"].notna())
    out["dex_dose_group"] = r["dex_start_group"]
    out["len_exposure_months"] = months_between(r["len_start_date"], r["len_end_date"])
    out["len_dose_start_mg"] = r["len_dose_start_mg"]
    out["len_dose_pd_mg"] = r["len_dose_pd_mg"]
    out["bortezomib_exposed"] = flag(r["first_line_class"] == "bortezomib")
    out["carfilzomib_exposed"] = flag(r["first_line_class"] == "carfilzomib")

    death = r["death_date"]
    out["pfs_months"], out["pfs_event"] = time_to_first(start, [r["progression_date"], death], last)
    out["os_months"], out["os_event"] = time_to_first(start, [death], last)
    out["ttnt_months"], out["ttnt_event"] = time_to_first(start, [r["next_treatment_date"]], last)
    out["pfs2_months"], out["pfs2_event"] = time_to_first(start, [r["second_progression_date"], death], last)

    out["isotype"], out["iss"], out["riss"] = r["isotype"], r["iss_dx"], r["riss_dx"]
    out["cyto_risk_dx"], out["cyto_risk_relapse"] = r["cyto_risk_dx"], r["cyto_risk_relapse"]
    out["chr1_dx"], out["chr1_relapse"] = r["chr1_dx"], r["chr1_relapse"]
    for col in ("creatinine_mg_dl", "calcium_mg_dl", "bm_pc_pct_relapse"):
        out[col] = r[col]
    out["first_line_class"], out["asct_first_line"] = r["first_line_class"], r["asct_first_line"]
    out["prior_asct"] = flag(r["asct_first_line"] != "none")
    out["carfilzomib_refractory"] = r["carfilzomib_refractory"]
    out["bortezomib_refractory"] = r["bortezomib_refractory"]
    dose = r["len_dose_pd_mg"]
    out["len_dose_pd_group"] = pd.Series(np.where(dose >= 15, "25-15", "10-2.5"), index=r.index,
                                         dtype="string").where(dose.notna(), pd.NA)
    out["first_line_pfs_months"] = months_between(r["first_line_start_date"], r["first_relapse_date"])
    out["months_dx_to_daravd"] = months_between(r["diagnosis_date"], start)
    out["dara_route_start"] = r["dara_route_start"]
    out["bortezomib_start_dose_mg_m2"] = r["bortezomib_start_dose_mg_m2"]
    out["cycles_received"] = r["cycles_received"]
    stopped = r["daravd_end_date"].notna()
    out["treatment_months"] = months_between(start, r["daravd_end_date"].where(stopped, last))
    out["on_treatment"] = flag(~stopped)
    out["end_reason"] = r["daravd_end_reason"]
    for col in ("dara_doses_skipped", "bortezomib_dose_reduced", "bortezomib_reduction_cycle",
                "bortezomib_weekly_switch", "salvage_asct", "salvage_asct_cycle", "montelukast_premedication"):
        out[col] = r[col]
    out["response_months"] = months_between(start, r["best_response_date"])
    # >=VGPR first reached: the optional vgpr_first_date, else (file without it, or a row left empty)
    # the best-response date, which is later for patients whose response deepened.
    first_vgpr = months_between(start, r["vgpr_first_date"])
    vgpr = (out["vgpr_or_better"] == 1).fillna(False).astype(bool)
    out["vgpr_months"] = first_vgpr.where(first_vgpr.notna(), out["response_months"]).where(vgpr)
    source = np.where(first_vgpr.notna(), "vgpr_first_date", "best_response_date")
    out["vgpr_date_source"] = pd.Series(source, index=r.index, dtype="string").where(vgpr, pd.NA)
    nxt = r["next_treatment_date"]
    out["next_line"] = flag(nxt.notna())
    nl_t, nl_e = time_to_first(nxt, [r["second_progression_date"], death], last)
    out["next_line_pfs_months"] = nl_t.where(nxt.notna())
    out["next_line_pfs_event"] = nl_e.where(nxt.notna(), pd.NA)
    out["death_cause"] = r["death_cause"]
    ae = [c for c in r.columns if c.startswith("ae_")]
    out = pd.concat([out[ANALYSIS_COLUMNS], r[ae]], axis=1)
    return out


def cohort_flow(raw: pd.DataFrame) -> pd.DataFrame:
    """Received, excluded (with the reason) and analysed, per the paper's eligibility rules.

    Eligible: first relapse on lenalidomide (validated at load), DaraVd started between
    June 2018 and December 2022, at least two cycles.
    """
    start = raw["daravd_start_date"]
    reasons = pd.Series("", index=raw.index, dtype=object)
    outside = (start < "2018-06-01") | (start > "2022-12-31")
    reasons[outside] = "DaraVd started outside June 2018 - December 2022"
    few = (raw["cycles_received"] < 2) & (reasons == "")
    reasons[few] = "fewer than two DaraVd cycles"
    rows = [{"step": "received", "n": len(raw), "reason": ""}]
    for reason, count in reasons[reasons != ""].value_counts().sort_index().items():
        rows.append({"step": "excluded", "n": int(count), "reason": reason})
    rows.append({"step": "analysed", "n": int((reasons == "").sum()), "reason": ""})
    return pd.DataFrame(rows), reasons == ""

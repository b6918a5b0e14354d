"""Clinical rules of a DaraVd course, checked on any raw frame (a typed export or a generated cohort).

The schedule and the IMWG confirmation interval are defined here, once, because the generator
draws its histories to obey them and the checks read data against them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Nominal cycle starts (days): eight 21-day DaraVd cycles, then 28-day daratumumab cycles (CASTOR schedule).
CYCLE_STARTS = np.concatenate([np.arange(8) * 21, 168 + np.arange(400) * 28])
CYCLE_DELAY = 0.15  # cycles may stretch by up to 15% (delays for toxicity, holidays)
CONFIRM_DAYS = 28  # IMWG: one assessment (a cycle) to confirm a response, and 4 weeks more before progression
CONFIRM_GAP_DAYS = 2 * CONFIRM_DAYS

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
            (days("best_response_date", "death_date") < CONFIRM_DAYS),
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


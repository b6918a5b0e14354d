"""Treatment and response durations as time-to-event endpoints (Kaplan-Meier).

A plain median of treatment durations counts the patients still on DaraVd at
the data cut-off as if they had stopped on that day, and so understates how
long treatment lasts; the same holds for a duration of response that ends at
last follow-up. Kaplan-Meier treats such patients as censored. Each function
returns the analysis frame's ``{name}_months`` / ``{name}_event`` pair, so the
results go through :func:`compendium.stats.survival.km_summary` like any endpoint.

* time to treatment discontinuation (TTD): start of DaraVd to its last
  administration, for any reason (progression, toxicity, death, transplant);
  patients still on treatment are censored at last follow-up.
* duration of response (DoR): among responders (PR or better), from the date
  the response was documented to progression or death (the PFS event). The
  data record the date of the *best* response only, not of the first one, so
  DoR here runs from the best response and is shorter than DoR from the first
  response by the time it took to deepen.
* time to best response, among responders: every responder has the event,
  so the Kaplan-Meier median equals the plain median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.stats import survival as sv


def duration_endpoints(analysis: pd.DataFrame) -> pd.DataFrame:
    """``patient_id`` and the ``ttd``, ``dor`` and ``ttbr`` time/event pairs (empty where not defined)."""
    out = pd.DataFrame({"patient_id": analysis["patient_id"]})
    out["ttd_months"] = analysis["treatment_months"]
    out["ttd_event"] = 1 - pd.to_numeric(analysis["on_treatment"], errors="coerce")
    responder = pd.to_numeric(analysis["orr"], errors="coerce") == 1
    t_resp = pd.to_numeric(analysis["response_months"], errors="coerce")
    has = responder & t_resp.notna()
    out["dor_months"] = (analysis["pfs_months"] - t_resp).where(has)
    out["dor_event"] = analysis["pfs_event"].where(has)
    out["ttbr_months"] = t_resp.where(has)
    out["ttbr_event"] = pd.Series(np.where(has, 1.0, np.nan), index=analysis.index)
    bad = out["dor_months"] < 0
    if bad.any():
        ids = ", ".join(out.loc[bad, "patient_id"].astype(str))
        raise ValueError(f"response documented after progression or death for patient(s) {ids}")
    return out


DURATIONS = {"ttd": "time to treatment discontinuation", "dor": "duration of response (from best response)",
             "ttbr": "time to best response (responders)"}


def duration_results(analysis: pd.DataFrame) -> pd.DataFrame:
    """``results/durations_km.csv``: KM medians of TTD, DoR and time to best response (log and log-log)."""
    ends = duration_endpoints(analysis)
    out = pd.concat([sv.km_summary(ends, name) for name in DURATIONS], ignore_index=True)
    out.insert(1, "description", out["endpoint"].map(DURATIONS))
    return out

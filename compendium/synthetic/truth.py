"""The generator's known truth: its parameters, and what each response analysis of notebook 05
estimates with unlimited patients under this design (its value on ``TRUTH_N`` simulated
patients), exported beside the cohort (``data/synthetic/daravd_synthetic_truth.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from compendium import paths
from compendium.synthetic import multistate
from compendium.synthetic.baseline import model_covariates
from compendium.synthetic.cohorts import free_histories
from compendium.synthetic.courses import endpoint_times, whole_day_months
from compendium.synthetic.seeds import TRUTH_N, TRUTH_SEED

TRUTH_FILE = paths.SYNTHETIC_TRUTH


def response_analyses_of(base: pd.DataFrame, obs: pd.DataFrame) -> list[dict]:
    """log HR and se of >=VGPR by each analysis of ``multistate.RESPONSE_ANALYSES``, for PFS and OS."""
    ends = endpoint_times(obs)
    flag = base["best_response"].isin(["sCR", "CR", "VGPR"]).to_numpy(float)
    best_t = np.where(base["best_response"] == "PD", obs["progression_t"], obs["best_t"])
    rows = []
    for endpoint in ("pfs", "os"):
        t, e = ends[endpoint]
        res = multistate.response_analyses(t, e, flag, whole_day_months(obs["vgpr_t"]), whole_day_months(best_t))
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
    for r in response_analyses_of(base, obs):
        rows.append({"quantity": f"hr_{r['analysis']}", "endpoint": r["endpoint"], "value": float(np.exp(r["loghr"])),
                     "description": f"population value ({n:,} simulated patients): {multistate.RESPONSE_ANALYSES[r['analysis']]}"})
    rows += dex_association(base, obs, n)
    return pd.DataFrame(rows)


def dex_association(base: pd.DataFrame, obs: pd.DataFrame, n: int) -> list[dict]:
    """The full dexamethasone dose against any reduced one, crude and adjusted for what chose the dose and
    also acts on survival (the latent aggressive relapse, and age 65 or over): what the dose groups' hazard
    ratios estimate with unlimited patients when the dose itself has no effect (confounding by indication).
    Adjusted, the hazard ratio is near 1 (OS, made of two hazards, is not exactly proportional in the
    covariates): a test holds it there."""
    ends = endpoint_times(obs)
    full = (base["dex_start_group"] == "full").to_numpy(float)
    cov = model_covariates(base)
    chose = np.column_stack([np.asarray(cov[k], float) for k in ("aggressive_relapse", "age_ge65")])
    rows = []
    for endpoint in ("pfs", "os"):
        t, e = ends[endpoint]
        crude = multistate.cox(t, e, full[:, None])[0][0]
        adjusted = multistate.cox(t, e, np.column_stack([full, chose]))[0][0]
        for what, b, text in (("crude", crude, "as the dose groups are compared in Tables 2-3"),
                              ("adjusted", adjusted, "adjusted for what chose the dose and acts on survival "
                                                     "(the aggressive relapse, age 65 or over)")):
            rows.append({"quantity": f"dex_full_vs_reduced_{what}", "endpoint": endpoint, "value": float(np.exp(b)),
                         "description": f"population value ({n:,} simulated patients): hazard ratio of the full "
                                        f"dexamethasone dose against a reduced one, {text}; the dose has no effect"})
    return rows


def write_truth(path=None) -> pd.DataFrame:
    table = truth()
    paths.write_csv(table, Path(path or TRUTH_FILE))
    return table


def read_truth(path=None) -> pd.DataFrame:
    return pd.read_csv(path or TRUTH_FILE, keep_default_na=False, na_values={"value": [""]})



"""How much the multivariable models depend on their choices: data lost, sparse covariates, time zero.

* ``events_per_parameter``: events per estimated coefficient, judged against
  the rule of ten events per variable for Cox models (Peduzzi P, Concato J,
  Feinstein AR, Holford TR. Importance of events per independent variable in
  proportional hazards regression analysis. II. Accuracy and precision of
  regression estimates. J Clin Epidemiol 1995;48:1503-1510,
  doi:10.1016/0895-4356(95)00048-8), relaxed to 5-9 for adjustment by
  Vittinghoff E, McCulloch CE, Am J Epidemiol 2007;165:710-718.
* ``complete_case_loss``: who a complete-case fit drops, and for lack of which covariate.
* ``model_sensitivity``: the paper's model on complete cases beside the model
  without the sparsely assessed covariate on all patients, the model with that
  covariate multiply imputed, and a Firth-penalised fit.
* ``eligibility_landmark``: the medians measured from a landmark at the end of
  the eligibility window (two 21-day cycles, about six weeks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.stats import estimable as ne
from compendium.stats import firth, imputation
from compendium.stats import survival as sv

RULE_OF_TEN = 10
MI_IMPUTATIONS = 50
MI_SEED = 20251125
#: Two 21-day cycles, the paper's eligibility minimum, in months of 30.4375 days.
ELIGIBILITY_MONTHS = 42 / 30.4375


def events_per_parameter(fits: dict) -> pd.DataFrame:
    """One row per fitted model: patients, events, parameters, events per parameter, whether it meets 10,
    and ``reason`` (a model with no coefficient estimated has no events per parameter)."""
    rows = []
    for name, fit in fits.items():
        k = int((~np.isnan(fit.coef)).sum())
        reason = ne.first(fit.reason, ne.first(*fit.reasons) if k == 0 else "")
        epp = ne.blank(fit.events / k, reason) if k else np.nan
        rows.append({"model": name, "n": fit.n, "events": fit.events, "parameters": k,
                     "events_per_parameter": epp, "meets_rule_of_ten": bool(epp >= RULE_OF_TEN), "reason": reason})
    return pd.DataFrame(rows, columns=["model", "n", "events", "parameters", "events_per_parameter",
                                       "meets_rule_of_ten", "reason"])


def complete_case_loss(df: pd.DataFrame, endpoint: str, covariates) -> pd.DataFrame:
    """Patients a complete-case fit of ``covariates`` drops, counted by the covariate(s) they lack."""
    tcol, ecol = sv.endpoint_columns(endpoint)
    data = df.dropna(subset=[tcol, ecol])
    missing = data[list(covariates)].isna()
    lost = missing.any(axis=1)
    rows = [{"endpoint": endpoint, "covariate": c, "missing": int(missing[c].sum()),
             "events_lost": int(data.loc[missing[c], ecol].sum())} for c in covariates]
    rows.append({"endpoint": endpoint, "covariate": "any", "missing": int(lost.sum()),
                 "events_lost": int(data.loc[lost, ecol].sum())})
    return pd.DataFrame(rows)


def model_sensitivity(df: pd.DataFrame, endpoint: str, covariates, sparse: str,
                      m: int = MI_IMPUTATIONS, seed: int = MI_SEED) -> pd.DataFrame:
    """The model four ways, in the columns of ``cox_multivariable.csv`` (+ ``method``).

    ``complete_case`` (the paper's), ``without_<sparse>`` on every patient
    with the other covariates, ``multiple_imputation`` of ``sparse`` (m
    imputations, Rubin's rules), ``firth`` (penalised, on complete cases).
    A fit the data cannot give keeps its rows, empty, with the reason.
    """
    covariates = list(covariates)
    others = [c for c in covariates if c != sparse]
    parts = [
        sv.cox_multivariable(df, endpoint, covariates, "complete_case"),
        sv.cox_multivariable(df, endpoint, others, f"without_{sparse}") if others else None,
        imputation.pooled_cox(imputation.impute_binary(df, sparse, others, endpoint, m, seed), endpoint, covariates,
                              "multiple_imputation").drop(columns="fmi"),
        firth.firth_model(df, endpoint, covariates, "firth"),
    ]
    out = pd.concat([p for p in parts if p is not None], ignore_index=True)
    for col in ("hr", "lcl", "ucl", "p"):
        out[col] = out[col].astype(float)
    return out


def eligibility_landmark(df: pd.DataFrame, endpoints=("pfs", "os"), landmark: float = ELIGIBILITY_MONTHS) -> pd.DataFrame:
    """Medians from the start of DaraVd and from a landmark at the end of the eligibility window.

    Columns ``endpoint, n, events_before_landmark, median_from_start, n_at_landmark,
    median_from_landmark`` (months after the landmark), ``median_from_landmark_plus``
    (the same, on the start's clock) and ``reason`` (why a median has no value other
    than not being reached: no patients, or nobody left at the landmark).
    """
    rows = []
    for endpoint in endpoints:
        tcol, ecol = sv.endpoint_columns(endpoint)
        data = df.dropna(subset=[tcol, ecol])
        at = data[data[tcol] > landmark]
        before = int(((data[tcol] <= landmark) & (data[ecol] == 1)).sum())
        start = sv.km_median(data[tcol], data[ecol])
        from_lm = sv.km_median(at[tcol] - landmark, at[ecol])
        reason = ne.first(start["reason"] and ne.of_counts(len(data), n_raw=len(df)),
                          ne.NO_ONE_AT_RISK if len(at) == 0 else "")
        rows.append({"endpoint": endpoint, "n": len(data), "events_before_landmark": before,
                     "median_from_start": start["median"], "n_at_landmark": len(at),
                     "median_from_landmark": from_lm["median"],
                     "median_from_landmark_plus": from_lm["median"] + landmark, "reason": reason})
    return pd.DataFrame(rows, columns=["endpoint", "n", "events_before_landmark", "median_from_start",
                                       "n_at_landmark", "median_from_landmark", "median_from_landmark_plus", "reason"])

"""Trial results the paper compares itself with, each taken from the trial's own publication.

``data/trials.csv`` holds one row per (trial, population, endpoint) with the
source and its DOI. These are published numbers of *other* papers, kept as data
with their citations; the claims registry holds what *this* paper says about
them, so that the comparison notebook can check each quotation against its
source. Only results verified in a primary publication are in the file; the
notebook names the ones that could not be verified.
"""

from __future__ import annotations

import pandas as pd

from . import paths

TRIALS = paths.DATA / "trials.csv"
COLUMNS = ["trial", "regimen", "population", "endpoint", "n", "median_months", "comparator",
           "comparator_median_months", "hr", "hr_lcl", "hr_ucl", "source", "doi"]


def load_trials(path=None) -> pd.DataFrame:
    path = path or TRIALS
    trials = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in trials.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    key = ["trial", "population", "endpoint"]
    dup = trials[trials.duplicated(key, keep=False)]
    if len(dup):
        raise ValueError(f"{path}: more than one row for {dup[key].drop_duplicates().values.tolist()}")
    if trials["source"].isna().any() or trials["doi"].isna().any():
        raise ValueError(f"{path}: every result needs its source and DOI")
    return trials


def lookup(trials: pd.DataFrame, trial: str, population: str, endpoint: str) -> pd.Series:
    """The one row of a trial result; the population is matched by its leading words."""
    hit = trials[(trials["trial"] == trial) & trials["population"].str.startswith(population)
                 & (trials["endpoint"] == endpoint)]
    if len(hit) != 1:
        raise KeyError(f"no unique result for {trial} / {population} / {endpoint}")
    return hit.iloc[0]


def medians_for_plot(trials: pd.DataFrame, cohort: dict, endpoint: str, cohort_label: str) -> pd.DataFrame:
    """This cohort's median (with its 95% limits) above the trials' medians for one endpoint."""
    rows = [{"label": cohort_label, "median": cohort["median"], "lcl": cohort["lcl"], "ucl": cohort["ucl"],
             "n": cohort["n"], "kind": "cohort"}]
    for r in trials[trials["endpoint"] == endpoint].itertuples(index=False):
        rows.append({"label": f"{r.trial} {r.regimen}, {r.population}", "median": r.median_months,
                     "lcl": float("nan"), "ucl": float("nan"), "n": r.n, "kind": "trial"})
    return pd.DataFrame(rows)

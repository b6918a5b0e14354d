"""The response analyses on many cohorts of the paper's size drawn from the model, and their bias
and coverage against the known truth (notebook 05).

Like the truth, this is a property of the generator (its code and parameters), not of any input,
so it is computed once, by ``python -m compendium synthetic``, and committed
(``data/synthetic/daravd_response_simulation.csv``); a test recomputes it and finds it identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from compendium import paths
from compendium.synthetic.seeds import SIMULATION
from compendium.synthetic.cohorts import free_histories
from compendium.synthetic.truth import response_analyses_of

SIMULATION_FILE = paths.SYNTHETIC_SIMULATION


def write_simulation(path=None) -> pd.DataFrame:
    table = response_simulation(**SIMULATION)
    paths.write_csv(table, Path(path or SIMULATION_FILE))
    return table


def read_simulation(path=None) -> pd.DataFrame:
    return pd.read_csv(path or SIMULATION_FILE)


def response_simulation(reps: int = SIMULATION["reps"], n: int = SIMULATION["n"], seed: int = SIMULATION["seed"]) -> pd.DataFrame:
    """Each response analysis on ``reps`` cohorts of n patients drawn from the model (log HR, se)."""
    rows = []
    for rep in range(reps):
        base, obs = free_histories(n, seed + rep)
        rows += [{"rep": rep, **r} for r in response_analyses_of(base, obs)]
    return pd.DataFrame(rows)


def bias_and_coverage(sim: pd.DataFrame, truth_table: pd.DataFrame, target: str = "hr_time_dependent") -> pd.DataFrame:
    """Per endpoint and analysis: mean HR, bias of the log HR and 95% CI coverage of the true time-dependent effect."""
    true = truth_table[truth_table["quantity"] == target].set_index("endpoint")["value"]
    out = []
    for (endpoint, analysis), g in sim.dropna().groupby(["endpoint", "analysis"], sort=False):
        t = np.log(true[endpoint])
        lo, hi = g["loghr"] - 1.959964 * g["se"], g["loghr"] + 1.959964 * g["se"]
        out.append({"endpoint": endpoint, "analysis": analysis, "cohorts": len(g),
                    "median HR": float(np.exp(g["loghr"].median())), "true HR": float(true[endpoint]),
                    "bias (log HR)": float(g["loghr"].mean() - t),
                    "coverage of 95% CI": float(((lo <= t) & (t <= hi)).mean())})
    return pd.DataFrame(out)



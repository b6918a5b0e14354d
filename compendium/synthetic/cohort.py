"""The default cohort: the three layers put together, deterministically (the same code gives the
same file, byte for byte).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.synthetic.baseline import construct_baseline, model_covariates
from compendium.synthetic.calibration import calibrated_state
from compendium.synthetic.courses import admin_months, assign_treatment, history
from compendium.synthetic.multistate import death_causes
from compendium.synthetic.events import assign_first_line, assign_adverse_events, assign_modifications
from compendium.synthetic.rawformat import assemble_raw
from compendium.synthetic.seeds import CONSTRUCTION_SEED, N, OUTCOME_SEED


def generate(outcome_seed: int | None = None) -> pd.DataFrame:
    """The synthetic cohort in the raw format (one row per patient, dates as ISO strings)."""
    outcome_seed = OUTCOME_SEED if outcome_seed is None else outcome_seed
    base = construct_baseline(np.random.default_rng(CONSTRUCTION_SEED))
    cov = model_covariates(base)
    state = calibrated_state(outcome_seed)
    start, obs = history(base, cov, state)
    rng = np.random.default_rng([CONSTRUCTION_SEED, outcome_seed, 1])
    treat = assign_treatment(rng, obs, base["best_response"].to_numpy(), base["age"].to_numpy(), admin_months(start))
    first = assign_first_line(rng, base, start)
    death_ae = np.flatnonzero(treat["end_reason"] == "death")[:2]
    ae = assign_adverse_events(rng, treat, death_ae)
    mods = assign_modifications(rng, base, treat, ae)
    birth = start - (base["age"].to_numpy() * 365.25 + rng.integers(30, 330, size=N)).astype(int).astype("timedelta64[D]")
    response_t = np.where(base["best_response"] == "PD", obs["progression_t"], obs["best_t"])

    cause = death_causes(obs)
    cause[death_ae] = "adverse_event"
    return assemble_raw(base, start, birth, first, obs, treat, mods, ae, response_t, cause)


"""Chapter 08, reconciliation: every claim of the paper beside ours, and the paper beside itself."""

from __future__ import annotations

import pandas as pd

DIFFERENCE_COLUMNS = ["claim_id", "location", "quantity", "published", "reproduced", "note"]


def differences(table: pd.DataFrame, registry: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    """The claims that differ and that the reader must have explained, with the registry's note.

    On the synthetic cohort these are the *constructed* claims only: the generator fixes them
    exactly, so one that differs marks two printed numbers that cannot both hold. Calibrated
    and emergent claims differ for reasons of the cohort, literature claims for reasons of
    another publication; neither blames the paper. On real data every claim of the cohort is
    *observed*, and each that differs is shown.
    """
    wanted = "constructed" if bool(synthetic) else "observed"
    # boolean masks only: `~meta["synthetic"]` on a Python bool is the integer -2, which once
    # selected every differing claim of the synthetic cohort (issue 17)
    keep = (table["basis"] == wanted).to_numpy(dtype=bool) & (table["status"] == "differs").to_numpy(dtype=bool)
    notes = registry.set_index("claim_id")["note"]
    out = table.loc[keep].assign(note=lambda d: d["claim_id"].map(notes).fillna(""))
    return out[DIFFERENCE_COLUMNS]


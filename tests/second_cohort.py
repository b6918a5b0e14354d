"""A second cohort, made from the default one, for testing that the notebooks tell *its* story.

Another size, another centre mix, another share of responders, a factor with no events in one
of its levels and an overall OS median that is not reached. Patients are selected whole from
the synthetic cohort (so every history stays valid) by a deterministic rule, and renamed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from compendium import paths

CENTRES = ["BO", "RM", "TO", "MI"]


def make(path: Path) -> Path:
    raw = pd.read_csv(paths.SYNTHETIC_COHORT, dtype=str, keep_default_na=False)
    deep = raw["best_response"].isin(["sCR", "CR", "VGPR"])
    progressed = (raw["progression_date"] != "") | (raw["death_date"] != "")
    died = raw["death_date"] != ""
    # every patient below VGPR who is alive, one in three of the deep responders,
    # and a third of those who died
    keep = (~deep & ~died) | (deep & (raw.index % 3 == 0)) | (died & (raw.index % 3 == 1))
    # extramedullary disease at relapse: keep only patients who did not progress -> no events in that level
    emd = raw["emd_relapse"] == "1"
    keep &= ~emd | ~progressed
    if not (keep & emd).any():  # keep at least one EMD patient without progression
        keep |= emd & ~progressed
    out = raw[keep].reset_index(drop=True)
    out["patient_id"] = [f"PT{i:04d}" for i in range(1, len(out) + 1)]
    out["center"] = [CENTRES[i % len(CENTRES)] for i in range(len(out))]
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)
    return path


if __name__ == "__main__":
    import sys

    print(make(Path(sys.argv[1])))

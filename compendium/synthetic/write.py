"""Writing the committed files of ``data/synthetic/`` and the command line.

``python -m compendium synthetic`` (``make synthetic``) rewrites the default cohort, its known
truth, the response simulation and, last, the cohort's provenance
(``daravd_synthetic_cohort.meta.json``: the module, every seed, the dates, and the sha256 of
each file it describes). The analyses read that provenance from the file, so that nothing of
the pipeline imports the generator. ``python -m compendium synthetic --n N --seed S --out
FILE`` writes a generated cohort of any size instead.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from compendium import paths
from compendium.synthetic import seeds
from compendium.synthetic.calibration import calibrated_state, search
from compendium.synthetic.cohort import generate
from compendium.synthetic.cohorts import write_any
from compendium.synthetic.courses import save_state
from compendium.synthetic.rawformat import to_csv_text
from compendium.synthetic.seeds import (ANY_N_SEED, N, OUTCOME_SEED, POLISH_STEPS, SEARCH_CHAINS, SEARCH_STEPS, SIMULATION,
                                        TRUTH_N, TRUTH_SEED)
from compendium.synthetic.simulation import write_simulation
from compendium.synthetic.truth import write_truth

META_FILE = paths.SYNTHETIC_META


def write(path=None, outcome_seed: int | None = None) -> str:
    """Regenerate the committed cohort file; returns its text."""
    text = to_csv_text(generate(outcome_seed))
    paths.atomic_write_text(path or paths.SYNTHETIC_COHORT, text)
    return text


def _described(path: Path, **more) -> dict:
    return {"file": paths.relative(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), **more}


def meta() -> dict:
    """The provenance of the committed files as they are on disk (the cohort's, above all)."""
    record = {"module": "compendium.synthetic", **seeds.provenance()}
    record["cohort"] = _described(paths.SYNTHETIC_COHORT, n=N)
    record["calibration_search"] = _described(paths.SYNTHETIC_SEARCH, seed=OUTCOME_SEED, steps=SEARCH_STEPS,
                                             chains=SEARCH_CHAINS, polish_steps=POLISH_STEPS)
    record["truth"] = _described(paths.SYNTHETIC_TRUTH, n=TRUTH_N, seed=TRUTH_SEED)
    record["simulation"] = _described(paths.SYNTHETIC_SIMULATION, **SIMULATION)
    return record


def meta_text() -> str:
    return json.dumps(meta(), indent=2, sort_keys=True) + "\n"


def write_meta() -> Path:
    paths.atomic_write_text(META_FILE, meta_text())
    return META_FILE


def write_cli(n: int | None = None, seed: int | None = None, out=None) -> str:
    """``python -m compendium synthetic [--n N] [--seed S] [--out FILE]``: the default cohort (N = 85,
    no seed; also its truth, simulation and provenance), or a free draw of any N. Returns the path
    written, as given."""
    if n is not None and n < 1:
        raise ValueError(f"--n must be a positive number of patients, got {n}")
    if (n is None or n == N) and seed is None:
        write(Path(out) if out else None)
        if not out:
            write_truth()
            write_simulation()
            write_meta()
        return str(out) if out else str(paths.relative(paths.SYNTHETIC_COHORT))
    if not out:
        raise ValueError("a generated cohort (--n other than 85, or --seed) needs --out FILE")
    target = Path(out)
    if target.exists() and target.resolve() == paths.SYNTHETIC_COHORT.resolve():
        raise ValueError(f"{out}: the committed default cohort is only rewritten by the default command")
    write_any(target, N if n is None else n, ANY_N_SEED if seed is None else seed)
    return str(out)


def rerun_search(steps: int = SEARCH_STEPS, seed: int = OUTCOME_SEED, path=None) -> pd.DataFrame:
    """Run the calibration search (minutes): its state to ``path`` (default: the committed one,
    which also rewrites the cohort file and its provenance), and its trace returned."""
    state, trace = search(seed, steps, progress=True)
    save_state(state, path)
    print(f"final loss {trace['loss'].iloc[-1]:.3f}")
    if path is None:
        calibrated_state.cache_clear()
        write()
        write_meta()
    return trace

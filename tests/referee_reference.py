"""Shared helpers of the tests that compare the referee's methods with R.

The R scripts tests/reference/competing_reference.R and methods_reference.R
write their answers, and the md5 of every input they read, to
tests/reference/r_out/; these helpers read them and refuse stale references.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "tests" / "reference"
OUT = REF / "r_out"
ANALYSIS = ROOT / "data" / "derived" / "analysis.csv"


def r_out(name: str) -> pd.DataFrame:
    return pd.read_csv(OUT / name, keep_default_na=False, na_values=[""],
                       dtype={"group": str, "covariate": str, "endpoint": str})


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def check_inputs(manifest_name: str, script: str) -> pd.DataFrame:
    """Every input R read is unchanged since (else: rerun the script)."""
    manifest = r_out(manifest_name).set_index("input")
    for name, row in manifest.iterrows():
        path = ROOT / row["path"]
        if path.exists():
            assert md5(path) == row["md5"], f"{row['path']} changed since R ran: rerun `Rscript {script}`"
    return manifest


def analysis_or_skip(manifest: pd.DataFrame, script: str) -> pd.DataFrame:
    if not ANALYSIS.exists():
        pytest.skip("data/derived/analysis.csv does not exist yet (notebook 01 builds it)")
    assert "analysis" in manifest.index, f"R has not seen data/derived/analysis.csv: rerun `Rscript {script}`"
    return pd.read_csv(ANALYSIS, dtype={"dex_dose_group": str})


def assert_close(ours, theirs, *, rtol=0.0, atol=0.0, what=""):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaN pattern")
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)

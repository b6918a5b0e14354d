"""The whole pipeline on a 10,000-patient cohort (issue 11: every analysis at any N).

A raw-format cohort 118 times the paper's, resampled from the committed synthetic one by
``benchmarks/make_cohort.py``, goes through ``python -m compendium run`` as a user would run
it (notebooks 01, 03, 04 and 05: those whose work grows with N). What must hold at that
size: the run completes (the exact r x 2 test used to enumerate
every table and exhaust memory at 1,000 patients), the analyses see every patient, the swimmer
plot shows a sample and says so, and no notebook's kernel needs memory out of proportion.
Deselect with ``-m "not scale"``; the timed figures are in benchmarks/results.md, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
N = 10_000

pytestmark = pytest.mark.scale


@pytest.fixture(scope="module")
def big_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("scale")
    cohort = work / "cohort.csv"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_cohort.py"), "--n", str(N), "--seed", "3",
                    "--out", str(cohort)], check=True, cwd=ROOT)
    out = work / "run"
    # the notebooks whose work grows with N (cleaning, the exact tests and swimmer plot, the survival
    # and Cox models); the others are the same code at any N and are timed by the benchmark
    proc = subprocess.run([sys.executable, "-m", "compendium", "run", "--data", str(cohort), "--out", str(out),
                           "--only", "03", "04", "05", "--no-progress"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cohort, out


def test_every_patient_reaches_the_analysis_dataset(big_run):
    cohort, out = big_run
    raw = pd.read_csv(cohort, dtype=str)
    analysis = pd.read_csv(out / "data" / "derived" / "analysis.csv")
    assert len(raw) == N and analysis["patient_id"].is_unique
    assert set(analysis["patient_id"]) <= set(raw["patient_id"]) and len(analysis) > 0.9 * N


def test_survival_results_cover_the_whole_cohort(big_run):
    _, out = big_run
    analysis = pd.read_csv(out / "data" / "derived" / "analysis.csv")
    km = pd.read_csv(out / "results" / "survival_km.csv", dtype={"group": str})
    pfs = km[(km["endpoint"] == "pfs") & (km["group"] == "all")].iloc[0]
    assert pfs["n"] == analysis["pfs_months"].notna().sum()
    cox = pd.read_csv(out / "results" / "cox_univariate.csv")
    assert cox["n"].max() > 0.5 * len(analysis)


def test_swimmer_plot_of_a_large_cohort_says_it_shows_a_sample(big_run):
    _, out = big_run
    nb = json.loads((out / "notebooks" / "03_response.ipynb").read_text())
    text = "".join("".join(o.get("data", {}).get("text/markdown", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "random sample of 150" in text
    assert (out / "figures" / "03_swimmer.png").exists()

"""Chapter 02 (descriptives): its result object against the committed results, and on drawn cohorts.

- Accessors: ``cell`` reads results/table1.csv, ``finding`` the FISH summary, and every declared
  claim gives what results/claims/02_descriptives.csv holds.
- The counting addresses of the first-line claims agree with the first-line table, which is computed
  by other code (two implementations of the same counts).
- Drawn cohorts (5-40 patients), single-centre subsets and degenerate mixes: compute completes and
  every declared claim is a finite value or a reason.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters import descriptives
from compendium.chapters.base import Context, first

sys.path.insert(0, str(Path(__file__).parent))
import chapter_cohorts  # noqa: E402

RESULTS = paths.ROOT / "results"
COHORTS = dict(deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow])
FOLDER = Path(tempfile.mkdtemp(prefix="chapter-descriptives-"))


@pytest.fixture(scope="module")
def default():
    return descriptives.compute(Context.for_run())


def test_cells_are_those_of_results_table1_csv(default):
    committed = pd.read_csv(RESULTS / "table1.csv")
    for row in committed.itertuples():
        for column in ("n", "n_evaluable", "pct_all", "median"):
            value = getattr(row, column)
            ours = default.cell(row.key, column)
            if pd.isna(value):
                assert ours.reason
            else:
                assert ours.value == pytest.approx(value, rel=1e-10)
    assert default.cell("ldh_high", "n").reason == "Table 1 has no row ldh_high"


def test_declared_claims_are_the_recorded_ones(default):
    recorded = pd.read_csv(RESULTS / "claims" / "02_descriptives.csv")
    assert set(default.declared().claim_id) == set(recorded.claim_id) == set(default.values)
    for row in recorded.itertuples():
        assert default.values[row.claim_id] == pytest.approx(row.reproduced, rel=1e-10, abs=1e-12)


def test_sections_cover_every_claim_once(default):
    ids = [c for s in ("table1", "text", "cytogenetics", "first_line", "first_line_times") for c in default.section(s)]
    assert sorted(ids) == sorted(default.declared().claim_id)


def _first_line_by_table(ch, claim_id):
    """The same claim read from results/first_line.csv's rows (the notebook's former mapping)."""
    table = ch.table("first_line")
    where = {
        "R_fl_bortezomib_n": ("first-line class", "bortezomib", "n"),
        "R_fl_lenalidomide_pct": ("first-line class", "lenalidomide", "value"),
        "R_asct_double_n": ("first-line ASCT", "double", "n"),
        "R_carfilzomib_refractory_n": ("carfilzomib refractory", "yes", "n"),
        "R_len_first_line_n": ("lenalidomide in first line", "yes", "n"),
        "R_len_exposure_min": ("lenalidomide exposure (months)", "min", "value"),
        "R_len_exposure_max": ("lenalidomide exposure (months)", "max", "value"),
        "R_len_dose_pd_15_20_n": ("lenalidomide dose at relapse", "15-20 mg", "n"),
        "R_len_dose_pd_lt10_n": ("lenalidomide dose at relapse", "<10 mg", "n"),
        "R_fl_pfs_asct_median": ("first-line PFS median (months)", "ASCT", "value"),
        "R_fl_pfs_noasct_median": ("first-line PFS median (months)", "no ASCT", "value"),
    }
    quantity, level, field = where[claim_id]
    return first(table, quantity=quantity, level=level)[field]


CHECKED = ["R_fl_bortezomib_n", "R_fl_lenalidomide_pct", "R_asct_double_n", "R_carfilzomib_refractory_n",
           "R_len_first_line_n", "R_len_exposure_min", "R_len_exposure_max", "R_len_dose_pd_15_20_n",
           "R_len_dose_pd_lt10_n", "R_fl_pfs_asct_median", "R_fl_pfs_noasct_median"]


def assert_first_line_agrees(ch):
    for claim_id in CHECKED:
        by_table = _first_line_by_table(ch, claim_id)
        if claim_id in ch.values:
            assert ch.values[claim_id] == pytest.approx(float(by_table), rel=1e-12), claim_id
        else:
            assert pd.isna(by_table), claim_id


def test_first_line_addresses_agree_with_the_first_line_table(default):
    assert_first_line_agrees(default)


def test_cytogenetics_percentages_are_over_the_evaluable(default):
    row = default.finding("cyto_risk_dx", "high")
    assert default.values["A_cyto_dx_high_pct"] == pytest.approx(100 * row["n"] / row["evaluable"])
    assert default.values["R_cyto_dx_evaluable_n"] == row["evaluable"]


def assert_complete(ch):
    for claim_id in ch.declared().claim_id:
        assert (claim_id in ch.values) != (claim_id in ch.reasons), claim_id
        assert math.isfinite(ch.values[claim_id]) if claim_id in ch.values else ch.reasons[claim_id].strip()
    assert_first_line_agrees(ch)
    assert descriptives.cytogenetics_sentence(ch) and descriptives.first_line_pfs_sentence(ch)
    descriptives.table1_display(ch.table("table1"))


@settings(max_examples=8, **COHORTS)
@given(n=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_drawn_cohorts_complete_with_values_or_reasons(n, seed):
    ch = descriptives.compute(chapter_cohorts.context(n, seed, FOLDER))
    assert_complete(ch)
    t1 = ch.table("table1")
    sex = t1[t1.key.str.startswith("sex_")]
    assert sex["n"].sum() == n and sex["pct_all"].sum() == pytest.approx(100)


@pytest.mark.parametrize("mix", sorted(chapter_cohorts.MIXES))
def test_every_degenerate_mix_completes(mix):
    ch = descriptives.compute(chapter_cohorts.degenerate(chapter_cohorts.context(20, 2, FOLDER), mix))
    assert_complete(ch)
    if mix == "no FISH at all":
        assert ch.reasons["A_cyto_dx_high_pct"].startswith("no patient in the denominator")
        assert ch.values["R_cyto_dx_evaluable_n"] == 0
        assert "for 0 patients" in descriptives.cytogenetics_sentence(ch)
    if mix == "nobody had a first-line ASCT":
        assert "R_fl_pfs_asct_median" in ch.reasons
        assert descriptives.first_line_pfs_sentence(ch).startswith("No patient here had first-line PFS with")
    if mix == "laboratory values never measured":
        assert ch.reasons["R_creatinine_median"] and ch.reasons["R_iss_I_pct"] == "no patient evaluable for ISS"


def test_single_centre_subsets_complete():
    source = chapter_cohorts.raw_cohort(60, 7, FOLDER)
    for centre in pd.read_csv(source, usecols=["center"])["center"].unique():
        assert_complete(descriptives.compute(chapter_cohorts.context_of(source, FOLDER, f"centre_{centre}", centre)))

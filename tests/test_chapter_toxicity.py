"""Chapter 06 (toxicity): its result object against the committed results, by hand on a known
frame, and on drawn cohorts (5-40 patients, single centres, degenerate mixes)."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters import toxicity
from compendium.chapters.base import Context
from compendium.data import dataset, endpoints, loading
from compendium import synthetic as generator

from test_toxicity import cohort as known_cohort

RESULTS = paths.ROOT / "results"
COHORTS = dict(deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FOLDER = Path(tempfile.mkdtemp(prefix="chapter-toxicity-"))


def generated(n: int, seed: int, centre_index: int | None = None) -> Context:
    """The context a notebook would build on a generated cohort (one centre's patients when given)."""
    source = FOLDER / f"cohort_{n}_{seed}.csv"
    if not source.exists():
        generator.write_any(source, n, seed)
    raw = loading.load_raw(source)
    if centre_index is not None:
        centres = sorted(raw.frame["center"].unique())
        raw = dataclasses.replace(raw, frame=raw.frame[raw.frame["center"] == centres[centre_index % len(centres)]]
                                  .reset_index(drop=True))
    flow, eligible = endpoints.cohort_flow(raw.frame)
    run = paths.Paths.for_run(FOLDER / f"run_{n}_{seed}_{centre_index}")
    dataset.write_analysis(endpoints.derive(raw.frame[eligible].reset_index(drop=True)),
                           dataset.build_meta(raw, flow), run)
    return Context.for_run(run.out)


@pytest.fixture(scope="module")
def default():
    return toxicity.compute(Context.for_run())


def test_tables_are_those_of_results(default):
    for name in ("table6", "toxicity_grade3plus"):
        committed = pd.read_csv(RESULTS / f"{name}.csv")
        pd.testing.assert_frame_equal(default.table(name).reset_index(drop=True), committed, check_dtype=False)


def test_row_accessor_and_addresses_agree_with_table6_csv(default):
    committed = pd.read_csv(RESULTS / "table6.csv")
    for r in committed.itertuples():
        assert default.row(r.ae, r.row)["n"] == r.n
        if r.row in ("any", "g1", "g2", "g34", "g5", "resolved", "improved"):
            assert default.estimate(f"ae_n({r.ae}, row={r.row})").value == r.n
    assert default.row("anemia", "g6") is None
    assert default.estimate("ae_n(anemia, row=g6)").reason


def test_recorded_values_are_those_committed(default):
    committed = pd.read_csv(RESULTS / "claims" / "06_toxicity.csv", keep_default_na=False,
                            na_values={"reproduced": [""]}).set_index("claim_id")
    assert set(default.values) | set(default.reasons) == set(committed.index)
    for claim_id, value in default.values.items():
        assert value == pytest.approx(committed.at[claim_id, "reproduced"], rel=1e-10)


def test_every_claim_of_the_notebook_is_declared_or_structural(default):
    reg = default.context.registry
    mine = reg[reg["notebook"] == "06_toxicity"]
    undeclared = mine[(mine["estimate"] == "") & ~mine["claim_id"].str.startswith("T6_")]
    assert undeclared.empty, list(undeclared["claim_id"])


def _known() -> Context:
    frame = known_cohort()
    ctx = Context.for_run()
    return dataclasses.replace(ctx, analysis=frame)


def test_addresses_by_hand_on_a_known_frame():
    """Ten patients with grades written out (tests/test_toxicity.py): every kind of address by hand."""
    ch = toxicity.compute(_known())
    e = ch.estimate
    assert e("ae_n(anemia)").value == 6 and e("ae_pct(anemia)").value == pytest.approx(60.0)
    assert e("ae_n(anemia, min_grade=3)").value == 3                  # grades 3, 4 and 5
    assert e("ae_n(anemia, grade=1)").value == 2
    assert e("ae_n(anemia, row=g34)").value == 2                      # 3 and 4, not 5
    assert e("ae_pct(infection, row=g5)").value == pytest.approx(20.0)
    assert e("any_ae_n(min_grade=1)").value == 10                     # every one of the ten has some event
    assert e("any_ae_n(min_grade=3)").value == 6                      # rows 2 (PN 3), 4, 5, 6, 7 and 9
    assert e("any_ae_pct(anemia, thrombocytopenia, neutropenia)").value == pytest.approx(70.0)
    assert e("patients(montelukast_premedication=0)").value == 2
    assert e("ae_n(irr, montelukast_premedication=0)").value == 1      # patient 5: grade 2, no montelukast
    assert e("patients(end_reason=toxicity)").value == 2
    assert e("ae_deaths()").value == 2 and e("ae_deaths(pneumonia)").value == 1 and e("ae_deaths(infection)").value == 1
    assert e("patients(no_such_column=1)").reason and e("ae_n(gout)").reason
    assert e("patients(montelukast_premedication=yes)").reason


def test_a_cohort_without_events_says_so_in_its_figure():
    frame = known_cohort()
    grade_columns = [c for _, _, c in toxicity.TABLE6_EVENTS]
    frame[grade_columns] = 0
    ch = toxicity.compute(dataclasses.replace(Context.for_run(), analysis=frame))
    text = "".join(t.get_text() for t in ch.figures[toxicity.FIGURE].texts) + "".join(
        t.get_text() for ax in ch.figures[toxicity.FIGURE].axes for t in ax.texts)
    assert "Nothing to draw" in text
    assert ch.estimate("ae_pct(pn, row=resolved)").reason         # over nobody with neuropathy


def _check_chapter(ch):
    declared = ch.declared()
    for claim_id in declared["claim_id"]:
        assert (claim_id in ch.values and math.isfinite(ch.values[claim_id])) or ch.reasons.get(claim_id), claim_id
    t6 = ch.table("table6")
    assert (t6.loc[t6["row"] == "any", "n"].to_numpy() <= len(ch.context.analysis)).all()
    grades = t6[t6["row"].isin(["g1", "g2", "g34", "g5"])].groupby("ae", sort=False)["n"].sum()
    assert (grades == t6[t6["row"] == "any"].set_index("ae")["n"].loc[grades.index]).all()
    assert toxicity.totals_paragraph(ch) and toxicity.abstract_paragraph(ch)
    assert toxicity.FIGURE in ch.figures


@settings(max_examples=4, **COHORTS)
@given(n=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_compute_on_drawn_cohorts(n, seed):
    _check_chapter(toxicity.compute(generated(n, seed)))


@settings(max_examples=3, **COHORTS)
@given(seed=st.integers(0, 10_000), centre=st.integers(0, 9))
def test_compute_on_a_single_centre(seed, centre):
    _check_chapter(toxicity.compute(generated(40, seed, centre)))


MIXES = {
    "no adverse event at all": lambda a: a.assign(**{c: 0 for _, _, c in toxicity.TABLE6_EVENTS}),
    "grades all missing": lambda a: a.assign(**{c: np.nan for _, _, c in toxicity.TABLE6_EVENTS}),
    "nobody with neuropathy": lambda a: a.assign(ae_pn_grade=0, ae_pn_outcome=pd.NA),
    "montelukast never recorded": lambda a: a.assign(montelukast_premedication=pd.NA),
    "nobody died": lambda a: a.assign(death_cause=pd.NA),
}


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_compute_on_degenerate_mixes(mix):
    ctx = generated(12, 7)
    _check_chapter(toxicity.compute(dataclasses.replace(ctx, analysis=MIXES[mix](ctx.analysis.copy()))))

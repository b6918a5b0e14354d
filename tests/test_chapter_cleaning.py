"""Chapter 01 (cleaning): the analysis dataset it writes, its cohort flow and claims, on drawn cohorts.

- On the default input the chapter's dataset is byte for byte the committed data/derived/ files, and
  its claims are results/claims/01_cleaning.csv.
- Drawn cohorts (5-40 patients) and single-centre subsets: compute completes, every declared claim is
  a finite value or a reason, the flow adds up, and what save() writes reads back as the dataset.
- Exclusions: patients who started DaraVd outside the window or had fewer than two cycles leave the
  analysis with their reason, counted once.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters import cleaning
from compendium.data import dataset, loading
from compendium import synthetic as generator

COHORTS = dict(deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow])
FOLDER = Path(tempfile.mkdtemp(prefix="chapter-cleaning-"))


def run(data_path, name: str) -> cleaning.CleaningChapter:
    ch = cleaning.compute(cleaning.setup(FOLDER / name, None, data_path))
    ch.save()
    return ch


def assert_complete(ch: cleaning.CleaningChapter) -> None:
    for claim_id in ch.declared().claim_id:
        assert (claim_id in ch.values) != (claim_id in ch.reasons), claim_id
        assert math.isfinite(ch.values[claim_id]) if claim_id in ch.values else ch.reasons[claim_id].strip()
    flow = ch.shown["flow"]
    assert flow.loc[flow.step == "received", "n"].item() == ch.facts["rows"]
    assert flow.loc[flow.step != "received", "n"].sum() == ch.facts["rows"]
    assert flow.loc[flow.step == "analysed", "n"].item() == len(ch.analysis) == ch.values["M_patients_n"]
    events = ch.shown["endpoints"]
    assert (events["events"] + events["censored"] == len(ch.analysis)).all()
    for render in (cleaning.source_paragraph, cleaning.flow_sentence, cleaning.pfs2_sentence):
        assert render(ch)
    back = dataset.read_analysis(ch.context.paths)
    assert list(back.columns) == list(ch.analysis.columns) and len(back) == len(ch.analysis)
    assert back["patient_id"].tolist() == ch.analysis["patient_id"].astype(str).tolist()


def test_the_default_dataset_is_the_committed_one():
    ch = run(None, "default")
    for name in ("analysis.csv", "analysis.meta.json"):
        assert (ch.context.paths.derived / name).read_bytes() == (paths.ROOT / "data" / "derived" / name).read_bytes()
    recorded = pd.read_csv(paths.ROOT / "results" / "claims" / "01_cleaning.csv")
    assert dict(zip(recorded.claim_id, recorded.reproduced)) == ch.values
    assert_complete(ch)
    assert ch.facts["synthetic"] and "synthetic cohort" in cleaning.source_paragraph(ch)


@settings(max_examples=8, **COHORTS)
@given(n=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_drawn_cohorts_complete_with_values_or_reasons(n, seed):
    path = FOLDER / f"c_{n}_{seed}.csv"
    generator.write_any(path, n, seed)
    ch = run(path, f"run_{n}_{seed}")
    assert_complete(ch)
    assert not ch.facts["synthetic"] and "not patient data" not in cleaning.source_paragraph(ch)


def test_single_centre_subsets_complete():
    path = FOLDER / "c_60.csv"
    generator.write_any(path, 60, 7)
    text = loading.read_text_table(path)
    for centre in text["center"].unique():
        subset = FOLDER / f"centre_{centre}.csv"
        text[text["center"] == centre].to_csv(subset, index=False)
        ch = run(subset, f"centre_{centre}")
        assert_complete(ch)
        assert ch.values["A_centres_n"] == 1


def test_exclusions_leave_with_their_reason():
    path = FOLDER / "c_30.csv"
    generator.write_any(path, 30, 3)
    text = loading.read_text_table(path)
    # one cycle only; nothing may then have happened at a later cycle (a reduction, a salvage transplant)
    first = text.index[text["salvage_asct"].eq("0")][0]
    text.loc[first, ["cycles_received", "bortezomib_dose_reduced", "bortezomib_reduction_cycle"]] = ["1", "0", ""]
    text = pd.concat([text.loc[[first]], text.drop(index=first)], ignore_index=True)
    edited = FOLDER / "excluded.csv"
    text.to_csv(edited, index=False)
    ch = run(edited, "excluded")
    flow = ch.shown["flow"].set_index("reason")
    assert flow.at["fewer than two DaraVd cycles", "n"] == 1
    assert len(ch.analysis) == 29 and text.loc[0, "patient_id"] not in set(ch.analysis["patient_id"])
    assert "1 of the file's 30 rows is excluded" in cleaning.flow_sentence(ch)
    assert_complete(ch)

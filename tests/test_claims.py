"""The claims mechanism: registry checks, recording, and the status rules of results/claims.csv."""

import math

import pandas as pd
import pytest

from compendium.report import claims
from compendium import paths

REGISTRY = pd.DataFrame({
    "claim_id": ["a", "b", "c", "d"], "location": ["Table 1"] * 4, "quantity": ["q"] * 4,
    "published": [10.0, 14.0, float("nan"), 0.05], "unit": ["n", "months", "months", "p"],
    "denominator": [85.0] * 4, "tolerance": [0.0, 0.5, 0.0, 0.005],
    "basis": ["constructed", "calibrated", "calibrated", "emergent"], "notebook": ["x"] * 4, "note": [""] * 4,
})


def test_status_rules():
    assert claims.status(10, 10, 0) == "match"
    assert claims.status(10, 11, 0) == "differs"
    assert claims.status(14, 14.49, 0.5) == "match"
    assert claims.status(14, 14.51, 0.5) == "differs"
    assert claims.status(float("nan"), float("nan"), 0) == "match"      # both not reached
    assert claims.status(float("nan"), 40.0, 0) == "differs"
    assert claims.status(10, None, 0) == "not_reproducible"


def test_record_and_gather(tmp_path):
    run = paths.Paths(tmp_path)
    rec = claims.Recorder("x", run, registry=REGISTRY)
    rec.record("a", 10)
    rec.record("b", 15.2)
    rec.not_reproducible("d", "needs the raw p-value table")
    rec.save()
    out = claims.gather(run, synthetic=True, registry=REGISTRY).set_index("claim_id")
    assert out.loc["a", "status"] == "match" and out.loc["b", "status"] == "differs"
    assert out.loc["c", "status"] == "not_reproducible" and "no notebook" in out.loc["c", "reason"]
    assert out.loc["d", "reason"] == "needs the raw p-value table"
    # the GUIDE's columns first and in order, then where each value was recorded
    assert list(out.reset_index().columns) == claims.CLAIMS_COLUMNS + claims.TRACE_COLUMNS
    assert claims.CLAIMS_COLUMNS[:8] == ["claim_id", "location", "quantity", "published", "reproduced",
                                         "tolerance", "basis", "status"]
    # recorded outside a kernel: the notebook is known, the cell is not; an unrecorded claim names
    # the notebook the registry expects it from
    assert (out["notebook"] == "x").all() and out["cell"].isna().all()
    real = claims.gather(run, synthetic=False, registry=REGISTRY)
    assert set(real["basis"]) == {"observed"}


def test_unknown_claim_is_refused(tmp_path):
    rec = claims.Recorder("x", paths.Paths(tmp_path), registry=REGISTRY)
    with pytest.raises(KeyError, match="not in the claims registry"):
        rec.record("zzz", 1)


def test_same_claim_from_two_notebooks_is_refused(tmp_path):
    run = paths.Paths(tmp_path)
    for nb in ("x", "y"):
        rec = claims.Recorder(nb, run, registry=REGISTRY)
        rec.record("a", 10)
        rec.save()
    with pytest.raises(ValueError, match="more than one notebook"):
        claims.gather(run, synthetic=True, registry=REGISTRY)


def test_committed_registry_is_well_formed():
    reg = claims.load_registry()
    assert reg["claim_id"].is_unique
    assert reg["published"].notna().all() or reg.loc[reg["published"].isna(), "note"].str.len().gt(0).all()
    assert (reg["tolerance"] >= 0).all()
    assert reg["notebook"].str.match(r"^\d\d_").all()


def test_every_registered_claim_is_recorded_by_its_notebook():
    """The committed canonical results: each claim computed by the notebook the registry names."""
    table = pd.read_csv(paths.ROOT / "results" / "claims.csv", keep_default_na=False)
    reg = claims.load_registry()
    built = {p.stem for p in paths.NOTEBOOKS.glob("[0-9][0-9]_*.py")}
    expected = reg[reg["notebook"].isin(built)]
    got = table.set_index("claim_id").loc[expected["claim_id"]]
    silent = got[(got["status"] == "not_reproducible") & got["reason"].str.startswith("no notebook")]
    assert silent.empty, f"claims no notebook computed: {list(silent.index)[:10]}"
    assert not math.isnan(len(got))


def test_constructed_claims_that_differ_are_explained():
    """On the synthetic cohort a constructed claim differs only where the paper contradicts itself,
    and the registry says how (the generator cannot honour two printed numbers that disagree)."""
    table = pd.read_csv(paths.ROOT / "results" / "claims.csv", keep_default_na=False)
    notes = claims.load_registry().set_index("claim_id")["note"]
    differs = table[(table["basis"] == "constructed") & (table["status"] == "differs")]
    unexplained = [c for c in differs["claim_id"] if not notes[c].strip()]
    assert not unexplained, f"constructed claims that differ without a note: {unexplained}"


def test_literature_claims_noted_as_checked_are_checkable_in_the_evidence_table():
    """A note saying "checked against data/external/evidence.csv" must not outlive the number it names."""
    from compendium.report import trials

    reg = claims.load_registry()
    evidence = trials.load_evidence()
    noted = reg[(reg["basis"] == "literature") & reg["note"].str.contains("checked against data/external")]
    assert len(noted) > 10
    for claim_id in noted["claim_id"]:
        value, reason = trials.quoted_value(evidence, claim_id)
        assert reason == "", f"{claim_id}: noted as checked, but the evidence table says {reason!r}"


def test_committed_literature_claims_reproduce_the_evidence_table():
    """results/claims.csv (notebook 07) holds, for every quotation of another paper, the evidence table's number."""
    from compendium.report import trials

    table = pd.read_csv(paths.ROOT / "results" / "claims.csv", keep_default_na=False,
                        na_values={"reproduced": [""]}).set_index("claim_id")
    evidence = trials.load_evidence()
    literature = table[table["basis"] == claims.LITERATURE]
    assert len(literature) > 40
    for claim_id, row in literature.iterrows():
        value, reason = trials.quoted_value(evidence, claim_id)
        assert row["reason"] == reason, claim_id
        if not reason:
            assert row["reproduced"] == pytest.approx(value, nan_ok=True), claim_id

"""Chapter 08: the claims beside ours, and the differences a reader must have explained."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters import reconciliation
from compendium.report import claims

REGISTRY = claims.load_registry()
BASES = ["constructed", "calibrated", "emergent", "literature", "observed"]
STATUSES = ["match", "differs", "not_reproducible", "not_run"]


def _table(rows):
    ids = [f"X{i}" for i in range(len(rows))]
    return pd.DataFrame({"claim_id": ids, "location": "Results", "quantity": "q", "published": 1.0,
                         "reproduced": 2.0, "basis": [b for b, _ in rows], "status": [s for _, s in rows]})


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(BASES), st.sampled_from(STATUSES)), max_size=30),
       flag=st.sampled_from([True, np.bool_(True), 1, False, np.bool_(False), 0]))
def test_differences_are_exactly_the_claims_of_the_basis_that_must_agree(rows, flag):
    """Synthetic: the constructed claims that differ, and nothing else; real data: the observed ones.
    The flag comes from JSON as a Python bool, on which `~` is arithmetic (-2), not a negation."""
    table = _table(rows)
    registry = pd.DataFrame({"claim_id": table["claim_id"], "note": "why"})
    got = reconciliation.differences(table, registry, flag)
    basis = "constructed" if flag else "observed"
    expected = [c for c, (b, s) in zip(table["claim_id"], rows) if b == basis and s == "differs"]
    assert got["claim_id"].tolist() == expected
    assert list(got.columns) == reconciliation.DIFFERENCE_COLUMNS
    assert (got["note"] == "why").all()


def test_committed_run_lists_the_constructed_claims_that_differ():
    table = pd.read_csv(paths.ROOT / "results" / "claims.csv", keep_default_na=False,
                        na_values={"published": [""], "reproduced": [""]})
    got = reconciliation.differences(table, REGISTRY, True)
    wanted = table[(table["basis"] == "constructed") & (table["status"] == "differs")]
    assert set(got["claim_id"]) == set(wanted["claim_id"]) and len(got) < (table["status"] == "differs").sum()
    assert got["note"].str.strip().ne("").all()


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def test_executed_notebook_shows_only_the_constructed_differences():
    """The table under 'Constructed claims that differ' in the committed notebook 08 lists exactly
    the constructed claims of results/claims.csv that differ (it once listed every differing claim)."""
    nb = nbformat.read(paths.NOTEBOOKS / "08_reconciliation.ipynb", as_version=4)
    outputs = list(_outputs(nb))
    heading = next(i for i, o in enumerate(outputs) if "Constructed claims that differ" in o.get("data", {}).get(
        "text/markdown", ""))
    html = next(o["data"]["text/html"] for o in outputs[heading + 1:] if "text/html" in o.get("data", {}))
    shown = set(re.findall(r"<td\b[^>]*>([A-Za-z0-9_]+)</td>", "".join(html))) & set(REGISTRY["claim_id"])
    table = pd.read_csv(paths.ROOT / "results" / "claims.csv", keep_default_na=False)
    wanted = set(table.loc[(table["basis"] == "constructed") & (table["status"] == "differs"), "claim_id"])
    assert shown == wanted


# --- the chapter's result object --------------------------------------------------------------

import dataclasses  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, Phase  # noqa: E402

from compendium.chapters.base import Context  # noqa: E402
from compendium.data import dataset, endpoints, loading  # noqa: E402
from compendium.report import audit  # noqa: E402
from compendium import synthetic as generator  # noqa: E402

RESULTS = paths.ROOT / "results"
FOLDER = Path(tempfile.mkdtemp(prefix="chapter-reconciliation-"))
COHORTS = dict(deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def default():
    return reconciliation.compute(Context.for_run())


def test_audit_and_claims_are_those_of_results(default):
    committed = pd.read_csv(RESULTS / "paper_audit.csv", keep_default_na=False, na_values={"printed": [""], "implied": [""]})
    ours = default.table("paper_audit")
    assert list(ours.columns) == list(committed.columns) and len(ours) == len(committed)
    assert (ours["check"].to_numpy() == committed["check"].to_numpy()).all()
    assert (ours["consistent"].astype(str).to_numpy() == committed["consistent"].astype(str).to_numpy()).all()
    table = pd.read_csv(RESULTS / "claims.csv", keep_default_na=False)
    assert default.claims["claim_id"].tolist() == table["claim_id"].tolist()
    assert default.claims["status"].tolist() == table["status"].tolist()


def test_accessors(default):
    assert default.by_basis().loc["all", "all"] == len(default.claims)
    assert default.by_source().to_numpy().sum() == len(default.claims)
    assert set(default.calibrated()["claim_id"]) == set(default.claims.loc[default.claims.basis == "calibrated", "claim_id"])
    failed = default.failed(audit.TENSION)
    assert len(failed) and (failed["kind"] == audit.TENSION).all() and not failed["consistent"].any()
    hr = default.failed(checks=[reconciliation.HR_CENTRE, reconciliation.P_IMPLIED])
    assert set(hr["check"]) <= {reconciliation.HR_CENTRE, reconciliation.P_IMPLIED}
    assert reconciliation.FIGURE in default.figures


def test_declared_claims_of_the_chapter(default):
    """What the text says the models found, against our model of notebook 05; the statements have a reason."""
    fits = pd.read_csv(RESULTS / "cox_multivariable.csv")
    paper = fits[fits["model"] == "paper"]
    for endpoint in ("pfs", "os"):
        assert default.estimate(f"significant_n({endpoint}, model=paper)").value == (
            paper.loc[paper["endpoint"] == endpoint, "p"] < 0.05).sum()
    assert default.values["A_pfs_mv_independent_n"] == default.values["R_pfs_mv_independent_n"]
    assert default.reasons["M_alpha"] == reconciliation.STATEMENT
    assert default.estimate("significant_n(pfs, model=nothing)").reason


def _generated(n: int, seed: int) -> Context:
    source = FOLDER / f"cohort_{n}_{seed}.csv"
    if not source.exists():
        generator.write_any(source, n, seed)
    raw = loading.load_raw(source)
    flow, eligible = endpoints.cohort_flow(raw.frame)
    run = paths.Paths.for_run(FOLDER / f"run_{n}_{seed}")
    dataset.write_analysis(endpoints.derive(raw.frame[eligible].reset_index(drop=True)),
                           dataset.build_meta(raw, flow), run)
    return Context.for_run(run.out)


@settings(max_examples=3, **COHORTS)
@given(n=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_compute_on_a_run_where_no_other_notebook_ran(n, seed):
    """A run of 08 alone on a drawn cohort: every other claim is not_run, ours a value or a reason."""
    ch = reconciliation.compute(_generated(n, seed))
    mine = ch.claims["claim_id"].isin(ch.declared()["claim_id"])
    assert (ch.claims.loc[~mine, "status"] == "not_run").all()
    for claim_id in ch.declared()["claim_id"]:
        assert (claim_id in ch.values and math.isfinite(ch.values[claim_id])) or ch.reasons[claim_id]
    assert ch.differences().empty and len(ch.table("paper_audit"))
    assert reconciliation.counts_paragraph(ch) and reconciliation.tensions_paragraph(ch)


def test_own_claims_come_from_memory_not_from_a_stale_file(tmp_path):
    """08 reconciles its own claims from what it computes now, not from an earlier run's file."""
    ctx = _generated(8, 1)
    stale = ctx.paths.claims_dir / "08_reconciliation.csv"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("claim_id,reproduced,reason,notebook\nM_alpha,0.5,,08_reconciliation\n")
    ch = reconciliation.compute(ctx)
    row = ch.claims.set_index("claim_id").loc["M_alpha"]
    assert row["status"] == "not_reproducible" and row["reason"] == reconciliation.STATEMENT

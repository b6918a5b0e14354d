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
    shown = set(re.findall(r"<td>([A-Za-z0-9_]+)</td>", html)) & set(REGISTRY["claim_id"])
    table = pd.read_csv(paths.ROOT / "results" / "claims.csv", keep_default_na=False)
    wanted = set(table.loc[(table["basis"] == "constructed") & (table["status"] == "differs"), "claim_id"])
    assert shown == wanted

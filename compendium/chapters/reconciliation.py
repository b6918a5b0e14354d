"""Chapter 08, reconciliation: every claim of the paper beside ours, and the paper beside itself.

``compute(context)`` gathers what every other notebook recorded, sets it beside the registry
(``claims.reconcile``) together with the claims this chapter declares itself (statements of the
paper that only the audit reads, and what the text says the multivariable models found), and
runs the audit of the paper against itself (:mod:`compendium.report.audit`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from compendium.chapters.base import Chapter, Context, Estimate
from compendium.report import audit, claims
from compendium.report import narrative as nv

DIFFERENCE_COLUMNS = ["claim_id", "location", "quantity", "published", "reproduced", "note", "recorded in"]
#: why a statement of the paper's methods or tables has no value of ours
STATEMENT = ("a statement of the paper's methods or tables that no data give; the audit of the paper "
             "against itself reads it (results/paper_audit.csv)")


def differences(table: pd.DataFrame, registry: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    """The claims that differ and that the reader must have explained, with the registry's note.

    On the synthetic cohort these are the *constructed* claims only: the generator fixes them
    exactly, so one that differs marks two printed numbers that cannot both hold. Calibrated
    and emergent claims differ for reasons of the cohort, literature claims for reasons of
    another publication; neither blames the paper. On real data every claim of the cohort is
    *observed*, and each that differs is shown.
    """
    wanted = "constructed" if bool(synthetic) else "observed"
    # boolean masks only: `~meta["synthetic"]` on a Python bool is the integer -2, which once
    # selected every differing claim of the synthetic cohort (issue 17)
    keep = (table["basis"] == wanted).to_numpy(dtype=bool) & (table["status"] == "differs").to_numpy(dtype=bool)
    notes = registry.set_index("claim_id")["note"]
    out = table.loc[keep].assign(note=lambda d: d["claim_id"].map(notes).fillna(""))
    out["recorded in"] = claims.recorded_in(out)  # the notebook cell to read for the number
    return out[DIFFERENCE_COLUMNS]


@dataclass
class ReconciliationChapter(Chapter):
    notebook = "08_reconciliation"
    claims: pd.DataFrame = field(default_factory=pd.DataFrame)   # results/claims.csv as this run stands
    facts: dict = field(default_factory=dict)

    def resolvers(self):
        return {"statement": lambda: Estimate(reason=STATEMENT), "significant_n": self._significant_n}

    def _significant_n(self, endpoint, model):
        """Covariates of our multivariable model ``model`` for ``endpoint`` (notebook 05) with p below
        the cutoff the compendium reads significance at."""
        path = self.context.paths.result("cox_multivariable.csv")
        if not path.exists():
            return Estimate(reason="notebook 05 wrote no results/cox_multivariable.csv in this run")
        fits = pd.read_csv(path)
        rows = fits[(fits["endpoint"] == endpoint) & (fits["model"] == model)]
        p = pd.to_numeric(rows["p"], errors="coerce").dropna()
        if p.empty:
            return Estimate(reason=f"no estimable multivariable model {model!r} for {endpoint.upper()} in this run")
        return Estimate(float((p < nv.ALPHA).sum()))


def _reconcile(ch: ReconciliationChapter) -> pd.DataFrame:
    """Every claim beside ours: other notebooks' values from results/claims/, this chapter's in memory
    (its own file is written by ``save``, at the end of the notebook)."""
    ctx = ch.context
    others = {f.stem for f in ctx.paths.claims_dir.glob("*.csv")} - {ch.notebook}
    table = claims.reconcile(ctx.paths, ctx.synthetic, ctx.registry, ran=others)
    mine = table["claim_id"].isin(ch.values.keys() | ch.reasons.keys())
    reg = ctx.registry.set_index("claim_id")
    for i in table.index[mine]:
        claim_id = table.at[i, "claim_id"]
        if claim_id in ch.values:
            value = ch.values[claim_id]
            table.loc[i, ["reproduced", "reason", "status"]] = [
                value, "", claims.status(reg.at[claim_id, "published"], value, reg.at[claim_id, "tolerance"])]
        else:
            table.loc[i, ["reproduced", "reason", "status"]] = [math.nan, ch.reasons[claim_id], "not_reproducible"]
    return table


def compute(context: Context) -> ReconciliationChapter:
    ch = ReconciliationChapter(context)
    ch.fill_declared()
    ch.claims = _reconcile(ch)
    references, citations = audit.load_references()
    ch.tables["paper_audit"] = audit.paper_audit(context.registry, references, citations)
    return ch

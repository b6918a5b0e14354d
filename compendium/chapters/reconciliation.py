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
from compendium.report import audit, claims, seaborn_figures
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


FIGURE = "08_paper_vs_compendium"
HR_CENTRE, P_IMPLIED, CITATION = "HR centred in its CI", "p implied by the CI", "citation matches the reference"
SHOWN = ["check", "claim_id", "quantity", "printed", "implied", "detail"]


@dataclass
class ReconciliationChapter(Chapter):
    notebook = "08_reconciliation"
    claims: pd.DataFrame = field(default_factory=pd.DataFrame)   # results/claims.csv as this run stands
    references: pd.DataFrame = field(default_factory=pd.DataFrame)
    citations: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- paper beside compendium
    def by_basis(self) -> pd.DataFrame:
        return pd.crosstab(self.claims["basis"], self.claims["status"], margins=True, margins_name="all")

    def by_location(self) -> pd.DataFrame:
        return pd.crosstab(self.claims["location"], self.claims["status"], margins=True,
                           margins_name="all").rename_axis("location")

    def by_source(self) -> pd.DataFrame:
        """Status counts of this cohort's claims apart from the quotations of other publications."""
        quoted = (self.claims["basis"] == claims.LITERATURE).to_numpy()
        status = self.claims["status"]
        return pd.DataFrame({"this cohort": status[~quoted].value_counts(),
                             "quoted from other publications": status[quoted].value_counts()}
                            ).fillna(0).astype(int).rename_axis("status")

    def differences(self) -> pd.DataFrame:
        return differences(self.claims, self.context.registry, self.context.synthetic)

    def calibrated(self) -> pd.DataFrame:
        part = self.claims[(self.claims["basis"] == "calibrated").to_numpy()]
        return part[["claim_id", "location", "quantity", "published", "reproduced", "tolerance", "status"]]

    def not_reproducible(self) -> pd.DataFrame:
        part = self.claims[(self.claims["status"] == "not_reproducible").to_numpy()]
        return part[["claim_id", "quantity", "reason"]]

    # -- the paper beside itself
    @property
    def audit(self) -> pd.DataFrame:
        return self.tables["paper_audit"]

    def audit_summary(self) -> pd.DataFrame:
        return self.audit.groupby(["check", "kind"], sort=False)["consistent"].agg(checked="size", consistent="sum")

    def checks(self, *names: str) -> pd.DataFrame:
        return self.audit[self.audit["check"].isin(names).to_numpy()]

    def failed(self, kind: str | None = None, checks=None, without=()) -> pd.DataFrame:
        """The checks that fail (of one kind; of the ``checks`` named), leaving out those in ``without``."""
        report = self.audit
        keep = ~report["consistent"].to_numpy() & ~report["check"].isin(without).to_numpy()
        if checks is not None:
            keep &= report["check"].isin(checks).to_numpy()
        if kind is not None:
            keep &= (report["kind"] == kind).to_numpy()
        return report[keep]

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
    ch.references, ch.citations = audit.load_references()
    ch.tables["paper_audit"] = audit.paper_audit(context.registry, ch.references, ch.citations)
    # says so when no claim has a number on both sides
    ch.figures[FIGURE] = seaborn_figures.paper_against_compendium(ch.claims, context.registry)
    return ch


# --- prose ------------------------------------------------------------------------------

def counts_paragraph(ch: ReconciliationChapter) -> str:
    counts = ch.claims["status"].value_counts()
    return f"""
Of {len(ch.claims)} registered claims, {counts.get("match", 0)} match, {counts.get("differs", 0)} differ and
{counts.get("not_reproducible", 0)} could not be computed from these data.
""" + nv.choose(ch.context.synthetic, """
### Constructed claims that differ

On the synthetic cohort these can only be places where the paper states two numbers that cannot both hold: the
generator honours one and the other must differ. Each carries the registry's note.""", """
### Claims that differ

On this input every value is observed; the claims that differ, each with the registry's note (where the paper
contradicts itself, one of two numbers must differ whatever the data):""")


def calibrated_paragraph(ch: ReconciliationChapter) -> str:
    part = ch.calibrated()
    return (f"### Calibrated claims: how close the synthetic cohort came\n\n"
            f"{int((part['status'] == 'match').sum())} of {len(part)} calibrated claims match at the printed precision.")


def audit_paragraph(ch: ReconciliationChapter) -> str:
    failed = ch.failed()
    words = {audit.CONTRADICTION: lambda n: nv.count(n, "contradiction"), audit.TENSION: lambda n: nv.count(n, "tension"),
             audit.DENOMINATOR: lambda n: nv.count(n, "pair") + " over different denominators"}
    return (f"Of {nv.count(len(ch.audit), 'check')}, {nv.count(len(failed), 'fails', 'fail')}: "
            + nv.listing([words[k](n) for k, n in failed["kind"].value_counts().items()]) + ".")


def hazard_ratio_paragraph(ch: ReconciliationChapter) -> str:
    centre, implied = ch.checks(HR_CENTRE), ch.checks(P_IMPLIED)
    off = int((~implied["consistent"]).sum())
    return f"""
{nv.count(len(centre), 'printed hazard ratio')}:
{nv.choose(bool(centre["consistent"].all()), "all sit at the centre of their intervals",
           "some do not sit at the centre of their intervals")};
{nv.count(off, 'printed p-value')} of {nv.count(len(implied), 'p-value')} {nv.choose(off == 1, "differs", "differ")}
from the Wald p their interval implies. That is a tension, not a contradiction: it holds only if the printed p is
the Wald test, as R's `summary(coxph)` prints it beside a Wald interval.
"""


def denominators_paragraph(ch: ReconciliationChapter) -> str:
    part = ch.failed(audit.DENOMINATOR)
    return f"""
{nv.count(len(part), 'figure')} of the Abstract {nv.choose(len(part) == 1, 'rests', 'rest')}
on a denominator other than the body's: {nv.listing(sorted({f"{a:g}" for a in part["printed"]}))}
patients in the Abstract against {nv.listing(sorted({f"{b:g}" for b in part["implied"]}))} in the body.
"""


def tensions_paragraph(ch: ReconciliationChapter) -> str:
    """What the tensions of the text against the tables rest on, from the failing rows themselves."""
    location = ch.context.registry.set_index("claim_id")["location"]
    sentences = []
    for r in ch.failed(audit.TENSION).itertuples():
        if r.check == "Abstract against body: a grade within a merged row":
            sentences.append(f"The Abstract's {r.quantity.lower()} ({r.printed:g}%) conflict with the body's merged row "
                             f"({r.implied:g}%) only if the Abstract's grade is that whole row; "
                             f"{r.detail.split('; ')[-1]}.")
        elif r.check == "dexamethasone groups against the approved schedule":
            sentences.append(f"In {location.get(r.claim_id, 'the paper')}, {r.detail.split('; ')[-1]}; its hazard ratio "
                             f"cannot be read as that of a reduced dose.")
    return " ".join(sentences)


def citations_paragraph(ch: ReconciliationChapter) -> str:
    cites = ch.checks(CITATION)
    wrong = cites[~cites["consistent"].to_numpy()]
    shifts = (wrong["printed"] - wrong["implied"]).dropna().astype(int)
    where = set(ch.citations.set_index("citation_id").loc[wrong["claim_id"], "location"]) if len(wrong) else set()
    return f"""
{nv.count(len(cites), 'citation')} checked against {nv.count(len(ch.references), 'reference')};
{nv.count(len(wrong), 'citation')} {nv.choose(len(wrong) == 1, 'points', 'point')} at a work that is
not what the sentence cites{nv.choose(len(wrong) > 0, ', all in the ' + nv.listing(sorted(where)) + ' section', '')}.
{nv.choose(len(shifts) > 0, "Where exactly one reference fits, the printed number is the right one shifted by "
    + nv.listing([f"{d:+d} ({nv.count(n, 'citation')})" for d, n in shifts.value_counts().items()])
    + nv.choose(shifts.nunique() <= 2, ": whole blocks of citations were numbered against another order of "
                "the reference list.", "."), "")}
"""

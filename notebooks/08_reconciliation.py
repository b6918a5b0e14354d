# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation
#   kernelspec:
#     display_name: DaraVd compendium
#     language: python
#     name: daravd
# ---

# %% [markdown]
# # 08 · Reconciliation: the paper beside the compendium, and the paper beside itself
#
# **Question.** For every number the paper states, what do we compute, and does it agree? And
# where the paper's own numbers cannot all be true together, which ones disagree?
#
# **Paper.** All of it: every quantitative statement is registered in `data/claims/` (one CSV per
# notebook) with its location, the printed value, its unit, denominator and the tolerance its
# printed precision allows.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
import pandas as pd

from compendium.chapters import Context, reconciliation
from compendium.report import audit, claims, narrative, plots
from compendium.data import dataset
from compendium import paths
from compendium.report import narrative as nv

pd.set_option("display.max_rows", 500)
pd.set_option("display.max_colwidth", 120)
P = paths.Paths.for_run(out_dir)
meta = dataset.read_meta(P)
registry = claims.load_registry()
ch = reconciliation.compute(Context.for_run(out_dir, spec_path))
table = ch.claims
dataset.banner(P, "Agreement on constructed claims is by design and on calibrated ones was aimed at; only the audit of the paper against itself (second half) is independent of the data.")

# %% [markdown]
# ## Paper beside compendium
#
# Each notebook recorded its values against claim ids; here they meet the registry. A claim
# *matches* when our value is within the tolerance of the printed one (half a unit of its last
# printed digit, unless the registry says otherwise), *differs* otherwise, and is *not reproducible*
# when no notebook could compute it (the reason is kept).

# %%
pd.crosstab(table["basis"], table["status"], margins=True, margins_name="all")

# %%
pd.crosstab(table["claim_id"].map(registry.set_index("claim_id")["location"]), table["status"],
            margins=True, margins_name="all").rename_axis("location")

# %% [markdown]
# Claims with basis *literature* are numbers the paper quotes from other publications; their
# "reproduced" value is the source's number (notebook 07, `data/external/evidence.csv`), so they say
# nothing about this cohort and are counted apart:

# %%
lit = table["basis"] == "literature"
pd.DataFrame({"this cohort": table.loc[~lit, "status"].value_counts(),
              "quoted from other publications": table.loc[lit, "status"].value_counts()}).fillna(0).astype(int)

# %% [markdown]
# Hazard ratios and medians, paper against compendium (constructed claims left out): points on the
# diagonal agree. The right-hand panel holds the quotations of other publications, paper against
# source, apart from this cohort's claims.

# %%
plots.save_and_show(plots.claims_scatter(table, registry), P.figure("08_paper_vs_compendium"))

# %%
counts = table["status"].value_counts()
nv.md(f"""
Of {len(table)} registered claims, {counts.get("match", 0)} match, {counts.get("differs", 0)} differ and
{counts.get("not_reproducible", 0)} could not be computed from these data.
""" + nv.choose(meta["synthetic"], """
### Constructed claims that differ

On the synthetic cohort these can only be places where the paper states two numbers that cannot both hold: the
generator honours one and the other must differ. Each carries the registry's note.""", """
### Claims that differ

On this input every value is observed; the claims that differ, each with the registry's note (where the paper
contradicts itself, one of two numbers must differ whatever the data):"""))

# %%
reconciliation.differences(table, registry, meta["synthetic"])

# %%
calibrated = table[table["basis"] == "calibrated"]
if meta["synthetic"]:
    display(nv.md(f"### Calibrated claims: how close the synthetic cohort came\n\n"
                  f"{(calibrated['status'] == 'match').sum()} of {len(calibrated)} calibrated claims match at the printed precision."),
            calibrated[["claim_id", "quantity", "published", "reproduced", "tolerance", "status"]])

# %%
table[table["status"] == "not_reproducible"][["claim_id", "quantity", "reason"]]

# %% [markdown]
# ## The paper beside itself
#
# These checks use only the printed text (the registry, and the reference list), so they hold
# whatever data the compendium runs on:
#
# - **Hazard ratios.** A Wald interval is symmetric around the estimate on the log scale, and its
#   width gives the standard error and hence the p-value. For every printed *HR (95% CI), p* we
#   check both, allowing for rounding: the implied p is computed at every corner of the rounding
#   box of the two printed limits.
# - **Abstract against body.** The same quantity printed twice; where the two are over different
#   denominators, that is reported itself, with both denominators.
# - **Percentages** against count / denominator; **Table 6 totals** against their grade rows.
# - **Statements that exclude each other**, named by the claims they set against each other.
# - **The text against the tables it summarises**: the Abstract's figures against the body's rows
#   they stand for (an Abstract percentage printed without its denominator is set against the
#   body's count, and the denominators that would reconcile them are named); the factors the
#   Abstract and the Results call independently associated against Tables 4-5; the Methods' rule
#   (a multivariable model of the covariates still significant in univariate analysis) against the
#   models fitted; the dexamethasone groups' weekly doses against the approved schedule.
# - **Citations**: each numbered citation against the reference of that number (trial, drug or
#   author the sentence names, in the reference's title or authors).
#
# A failed check is of one of three kinds (column `kind` of `results/paper_audit.csv`): a
# **contradiction** (the statements cannot all be true), a **tension** (they conflict only under an
# assumption, stated in `assumption`: a p-value printed twice may come from two different tests;
# cycles agree with months only if treatment ran on schedule), or **denominators** (the same
# quantity over different patients in two places).

# %%
references, citations = audit.load_references()
report = ch.table("paper_audit")
report.groupby(["check", "kind"], sort=False)["consistent"].agg(checked="size", consistent="sum")

# %%
failed = report[~report["consistent"]]
narrative.md(f"""
Of {narrative.count(len(report), 'check')}, {narrative.count(len(failed), 'fails', 'fail')}:
{narrative.listing([f"{narrative.count(n, 'contradiction') if k == audit.CONTRADICTION else narrative.count(n, 'tension') if k == audit.TENSION else narrative.count(n, 'pair') + ' over different denominators'}"
                    for k, n in failed["kind"].value_counts().items()])}.
""")

# %% [markdown]
# ### Hazard ratios, confidence intervals and p-values

# %%
hr = report[report["check"].isin(["HR centred in its CI", "p implied by the CI"])]
hr_failed = hr[~hr["consistent"]]
narrative.md(f"""
{narrative.count((hr["check"] == "HR centred in its CI").sum(), 'printed hazard ratio')}:
{narrative.choose(hr_failed[hr_failed.check == "HR centred in its CI"].empty, "all sit at the centre of their intervals",
                  "some do not sit at the centre of their intervals")};
{narrative.count(len(hr_failed[hr_failed.check == "p implied by the CI"]), 'printed p-value')} of
{narrative.count((hr["check"] == "p implied by the CI").sum(), 'p-value')} {narrative.choose(
    len(hr_failed[hr_failed.check == "p implied by the CI"]) == 1, "differs", "differ")} from the Wald p
their interval implies. That is a tension, not a contradiction: it holds only if the printed p is
the Wald test, as R's `summary(coxph)` prints it beside a Wald interval.
""")

# %%
hr_failed

# %% [markdown]
# ### Contradictions: statements that cannot all be true
#
# The Abstract against the body (median PFS, follow-up, median age, cytogenetic risk at relapse,
# discontinuations for toxicity, infections, delayed daratumumab, the factors independently
# associated with PFS), percentages that do not follow from their own counts, Table 6 totals that
# are not the sum of their grade rows, statements of the text that exclude each other (the Methods'
# PFS2 cannot give the published median; the Toxicity text against Table 6), and the Methods' rule
# for the multivariable models against the covariates the models hold. The
# compendium follows the tables and the Results where two statements conflict, and says so wherever
# it does. (An earlier version also required R-ISS to be evaluable in no more patients than FISH;
# that check was wrong and is gone: an ISS II patient is R-ISS II whatever the FISH.)

# %%
failed[(failed["kind"] == audit.CONTRADICTION) & (failed["check"] != "citation matches the reference")
       & ~failed["check"].isin(["HR centred in its CI"])][["check", "claim_id", "quantity", "printed", "implied", "detail"]]

# %% [markdown]
# ### Denominators: one quantity over different patients
#
# The Abstract gives several figures over 79 or 84 patients, or over the 59 evaluable for FISH, where
# the body gives them over all 85. Such a pair is not "consistent" because the arithmetic of each
# holds: the two numbers describe different patients, the Abstract does not say which 79, and a
# reader comparing them is misled. Each is reported with both denominators.

# %%
denominators = failed[failed["kind"] == audit.DENOMINATOR]
narrative.md(f"""
{narrative.count(len(denominators), 'figure')} of the Abstract {narrative.choose(len(denominators) == 1, 'rests', 'rest')}
on a denominator other than the body's: {narrative.listing(sorted({f"{a:g}" for a in denominators["printed"]}))}
patients in the Abstract against {narrative.listing(sorted({f"{b:g}" for b in denominators["implied"]}))} in the body.
""")

# %%
denominators[["claim_id", "quantity", "detail"]]

# %% [markdown]
# ### Tensions: conflicts that rest on an assumption

# %%
failed[failed["kind"] == audit.TENSION][["check", "claim_id", "quantity", "printed", "implied", "assumption", "detail"]]

# %% [markdown]
# The Abstract's "8% grade-3" infections conflict with Table 6's G3/4 row (13, 15%) only if the
# Abstract's grade 3 is that merged row; as grade 3 alone it leaves the rest of the row at grade 4.
# The "80 mg/week" dexamethasone group is no reduction if mg/week counts a week of the approved
# schedule (80 mg in each of its two dosing weeks): the groups need a definition the paper does not
# give, and their hazard ratios cannot be read as a dose-response.
#
# The Abstract's p-values for plasma cells and EMD differ from Table 2's: if the Abstract reports a
# log-rank test and the table a Wald test (notebook 04 computes both), both can be right. Median
# cycles and median duration disagree only if every cycle was given on time; delays and pauses
# (common in practice, the paper reports skipped doses) stretch a cycle, so this is a question to
# the authors, not an error.
#
# ### References: does each citation point at the work it is cited for?
#
# The reference list (40 entries) and every numbered citation that names a trial, a drug or an
# author are registered in `data/references/`, transcribed from the paper. A citation passes when
# what the sentence names appears in the title or authors of the reference of that number.

# %%
cites = report[report["check"] == "citation matches the reference"]
wrong = cites[~cites["consistent"]]
shifts = (wrong["printed"] - wrong["implied"]).dropna().astype(int)
narrative.md(f"""
{narrative.count(len(cites), 'citation')} checked against {narrative.count(len(references), 'reference')};
{narrative.count(len(wrong), 'citation')} {narrative.choose(len(wrong) == 1, 'points', 'point')} at a work that is
not what the sentence cites{narrative.choose(len(wrong) > 0, ', all in the ' + narrative.listing(sorted(
    set(citations.set_index('citation_id').loc[wrong['claim_id'], 'location']))) + ' section', '')}.
{narrative.choose(len(shifts) > 0, "Where exactly one reference fits, the printed number is the right one shifted by "
    + narrative.listing([f"{d:+d} ({narrative.count(n, 'citation')})" for d, n in shifts.value_counts().items()])
    + narrative.choose(shifts.nunique() <= 2, ": whole blocks of citations were numbered against another order of "
                       "the reference list.", "."), "")}
""")

# %%
wrong[["claim_id", "quantity", "printed", "implied", "detail"]]

# %%
ch.save()

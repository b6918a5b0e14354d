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
from compendium.chapters import reconciliation, setup
from compendium.report import audit
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path, synthetic_note="Agreement on constructed claims is by design and on calibrated ones "
            "was aimed at; only the audit of the paper against itself (second half) is independent of the data.")

# %%
ch = reconciliation.compute(ctx)

# %% [markdown]
# ## Paper beside compendium
#
# Each notebook recorded its values against claim ids; here they meet the registry. A claim
# *matches* when our value is within the tolerance of the printed one (half a unit of its last
# printed digit, unless the registry says otherwise), *differs* otherwise, and is *not reproducible*
# when no notebook could compute it (the reason is kept).

# %%
tables.table(ch.by_basis(), kind="crosstab", title="Claims by basis and status")

# %%
tables.table(ch.by_location(), kind="crosstab", title="Claims by where the paper states them, and status")

# %% [markdown]
# Claims with basis *literature* are numbers the paper quotes from other publications; their
# "reproduced" value is the source's number (notebook 07, `data/external/evidence.csv`), so they say
# nothing about this cohort and are counted apart:

# %%
tables.table(ch.by_source(), kind="crosstab", title="This cohort's claims apart from the quotations")

# %% [markdown]
# Hazard ratios, medians and percentages, paper against compendium (constructed claims left out,
# and values of zero, which a log axis cannot show): points on the diagonal agree. The last panel
# holds the quotations of other publications, paper against source, apart from this cohort's claims.

# %%
ch.figure(reconciliation.FIGURE)

# %%
nv.md(reconciliation.counts_paragraph(ch))

# %%
tables.table(ch.differences(), kind="claims", claim=True, extra=["note", "recorded in"],
             title="Claims that differ, with the registry's note")

# %%
if ctx.synthetic:
    display(nv.md(reconciliation.calibrated_paragraph(ch)),
            tables.table(ch.calibrated(), kind="claims", claim=True, extra=["tolerance"],
                         title="Calibrated claims: the paper's number, the synthetic cohort's, and the tolerance"))

# %%
tables.table(ch.not_reproducible(), keep_reason=True, title="Claims that could not be computed, and why")

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
tables.table(ch.audit_summary(), title="The checks of the paper against itself, and how many pass")

# %%
nv.md(reconciliation.audit_paragraph(ch))

# %% [markdown]
# ### Hazard ratios, confidence intervals and p-values

# %%
nv.md(reconciliation.hazard_ratio_paragraph(ch))

# %%
tables.table(ch.failed(checks=[reconciliation.HR_CENTRE, reconciliation.P_IMPLIED]), kind="checks",
             registry=ctx.registry, title="Hazard ratios and p-values that do not fit their intervals")

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
contradictions = ch.failed(audit.CONTRADICTION, without=[reconciliation.CITATION, reconciliation.HR_CENTRE])
tables.table(contradictions[reconciliation.SHOWN], kind="checks", registry=ctx.registry, title="Contradictions")

# %% [markdown]
# ### Denominators: one quantity over different patients
#
# The Abstract gives several figures over fewer patients than the body's, or over those evaluable for
# FISH, where the body gives them over all it enrolled. Such a pair is not "consistent" because the
# arithmetic of each holds: the two numbers describe different patients, the Abstract does not say
# which, and a reader comparing them is misled. Each is reported with both denominators.

# %%
nv.md(reconciliation.denominators_paragraph(ch))

# %%
tables.table(ch.failed(audit.DENOMINATOR)[["claim_id", "quantity", "detail"]], kind="checks", registry=ctx.registry,
             title="One quantity over different denominators")

# %% [markdown]
# ### Tensions: conflicts that rest on an assumption

# %%
tables.table(ch.failed(audit.TENSION)[["check", "claim_id", "quantity", "printed", "implied", "assumption", "detail"]],
             kind="checks", registry=ctx.registry, title="Tensions, and the assumption each rests on")

# %%
nv.md(reconciliation.tensions_paragraph(ch))

# %% [markdown]
# The Abstract's p-values for plasma cells and EMD differ from Table 2's: if the Abstract reports a
# log-rank test and the table a Wald test (notebook 04 computes both), both can be right. Median
# cycles and median duration disagree only if every cycle was given on time; delays and pauses
# (common in practice, the paper reports skipped doses) stretch a cycle, so this is a question to
# the authors, not an error. The dexamethasone groups need a definition the paper does not give, and
# their hazard ratios cannot be read as a dose-response.
#
# ### References: does each citation point at the work it is cited for?
#
# The reference list and every numbered citation that names a trial, a drug or an author are
# registered in `data/references/`, transcribed from the paper. A citation passes when what the
# sentence names appears in the title or authors of the reference of that number.

# %%
nv.md(reconciliation.citations_paragraph(ch))

# %%
tables.table(ch.failed(checks=[reconciliation.CITATION])[["claim_id", "quantity", "printed", "implied", "detail"]],
             kind="checks", registry=ctx.registry, title="Citations that point at another work",
             headers={"printed": "Printed reference", "implied": "The reference that fits"})

# %% [markdown]
# ## What this notebook recorded
#
# The paper's statements that only the audit reads (the Methods' cutoff, the approved schedule, the
# dexamethasone groups' doses) have no value of ours; what the text says the multivariable models
# found is set against our models of notebook 05.

# %%
tables.table(ch.recorded(), kind="claims", reasons="column", title="Claims recorded here")

# %%
ch.save()

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

from compendium import audit, claims, dataset, paths, plots
from compendium import narrative as nv

pd.set_option("display.max_rows", 500)
pd.set_option("display.max_colwidth", 120)
P = paths.Paths.for_run(out_dir)
meta = dataset.read_meta(P)
registry = claims.load_registry()
table = claims.reconcile(P, synthetic=meta["synthetic"], registry=registry)
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
notes = registry.set_index("claim_id")["note"]
constructed = table[((table["basis"] == "constructed") | ~meta["synthetic"]) & (table["status"] == "differs")]
constructed.assign(note=constructed["claim_id"].map(notes))[["claim_id", "location", "quantity", "published",
                                                              "reproduced", "note"]]

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
# These checks use only the printed numbers (the registry), so they hold whatever data the
# compendium runs on:
#
# - **Hazard ratios.** A Wald interval is symmetric around the estimate on the log scale, and its
#   width gives the standard error and hence the p-value. For every printed *HR (95% CI), p* we
#   check both, allowing for rounding: the implied p is computed at every corner of the rounding
#   box of the two printed limits.
# - **Abstract against body.** The same quantity printed twice (percentages only when over the same
#   patients).
# - **Percentages** against count / denominator; **Table 6 totals** against their grade rows.
# - **Statements that exclude each other**, named by the claims they set against each other.

# %%
report = audit.paper_audit(registry)
paths.write_csv(report, P.result("paper_audit.csv"))
report.groupby("check", sort=False)["consistent"].agg(checked="size", consistent="sum")

# %%
hr = report[report["check"].isin(["HR centred in its CI", "p implied by the CI"])]
centred = report[report["check"] == "HR centred in its CI"]
implied = report[report["check"] == "p implied by the CI"]
nv.md(f"""
### Hazard ratios, confidence intervals and p-values

{(centred["consistent"]).sum()} of {len(centred)} printed hazard ratios sit at the centre of their intervals, and
{(implied["consistent"]).sum()} of {len(implied)} printed p-values are what their intervals imply
{nv.choose((~implied["consistent"]).any(), "(the exceptions are listed below)", "")}: Tables 2-5 report Wald
statistics, as R's `summary(coxph)` does.
""")

# %%
hr[~hr["consistent"]]

# %% [markdown]
# ### Everything else that does not add up

# %%
report[~report["consistent"] & ~report["check"].isin(["HR centred in its CI", "p implied by the CI"])]

# %% [markdown]
# **Reading.** Most discrepancies are between the Abstract and the body (median PFS, follow-up,
# median age, cytogenetic risk at relapse, toxicity figures that fit about 79 patients rather than
# 85) or between the Toxicity text and Table 6. The Methods' definition of PFS2 cannot give the
# published median PFS2, which fits the PFS of the next line instead (notebook 04). The compendium
# follows the tables and the Results where two statements conflict, and says so wherever it does.

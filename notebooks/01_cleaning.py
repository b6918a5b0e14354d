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
# # 01 · Cleaning: from the raw export to the analysis dataset
#
# **Question.** Which patients enter the analysis, and how are the paper's endpoints
# (PFS, OS, TTNT, PFS2) computed from the dates a centre records?
#
# **Paper.** *Materials and methods* (eligibility, endpoint definitions) and the study cohort.
# This notebook is the only writer of `data/derived/`.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
from compendium.chapters import cleaning
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = cleaning.setup(out_dir, spec_path, data_path, mapping_path)
paper = nv.quoter(ctx.registry)

# %% [markdown]
# ## Load and validate
#
# The file is read as text and checked against `data/dictionary.csv` with a
# [pandera](https://pandera.readthedocs.io) schema built from it (type, allowed values, range,
# missingness, unique patient ids) plus rules between columns (dates in order, a stop reason only
# with a stop date, lenalidomide stopped at most 60 days before the relapse: the paper's
# definition of refractoriness). Every problem is reported at once, with file, column, row, value
# and what was expected; the file itself is never written to.

# %%
ch = cleaning.compute(ctx)
nv.md(cleaning.source_paragraph(ch))

# %% [markdown]
# The data dictionary, grouped by the part of the paper each variable serves:

# %%
tables.table(ch.shown["dictionary"], ctx.spec, title="The data dictionary by part of the paper")

# %% [markdown]
# ## Cohort flow
#
# Eligible patients started DaraVd between June 2018 and December 2022 and received at least two
# cycles; lenalidomide refractoriness at first relapse is enforced by the validation above.

# %%
tables.table(ch.shown["flow"], ctx.spec, keep_reason=True, title="Cohort flow")

# %%
nv.md(cleaning.flow_sentence(ch))

# %% [markdown]
# ## Data queries
#
# The clinical rules of a DaraVd course (bortezomib handled as its label and the 8-cycle schedule say,
# transplant eligibility by age, R-ISS staged from ISS and FISH, next-line and second-progression
# timing, follow-up of patients still on treatment, toxicity stops with a cause, IMWG best response,
# the daratumumab route by date) are read against every history of the input. A history that breaks
# one is a *query* for the data manager, not an error of the file.

# %%
nv.md(cleaning.queries_sentence(ch))

# %%
tables.table(ch.shown["data_queries_by_rule"].drop(columns=["rule"]), ctx.spec,
             title="Data queries by clinical rule (patients)", headers={"description": "Rule", "patients": "Patients"})

# %%
if ch.facts["queries"]:
    display(tables.table(ch.table("data_queries").head(20).drop(columns=["rule"]), ctx.spec,
                         title="The first data queries (all of them: results/data_queries.csv)",
                         headers={"patient_id": "Patient", "description": "Rule", "values": "Values involved"}))

# %% [markdown]
# ## Endpoints
#
# All times start at the first DaraVd dose ("calculated from the start of the induction treatment
# date") and are in months of 30.4375 days (365.25 / 12). Each endpoint's event, what it is
# censored at, and how many events and censored times these data have:

# %%
tables.table(ch.shown["endpoints"], ctx.spec, title="Endpoints: events and censoring")

# %%
nv.md(f"""
The paper defines PFS2 from the start of DaraVd, yet reports a median PFS2 of {paper("R_pfs2_median")} months
"evaluated in {paper("R_pfs2_evaluable_n")} patients", shorter than its median PFS of {paper("R_pfs_median")} months.
Measured from the start of DaraVd, PFS2 can never be shorter than PFS for the same patient (below we check that
on every row), so the published {paper("R_pfs2_median")} months can only be the PFS of the *next* line, from its
start, in the patients who started one. We keep the paper's written definition for `pfs2_months` and add
`next_line_pfs_months` for that reading; notebook 04 estimates both.
""")

# %%
nv.md(cleaning.pfs2_sentence(ch))

# %% [markdown]
# Flags follow the GUIDE: `1` means presence (for example `emd_relapse = 1`: extramedullary disease
# present) and an empty cell means not evaluable. The paper's tables speak of *absence* ("absence of
# EMD"); the notebooks that reproduce them turn the orientation round for display only.

# %%
tables.table(ch.shown["sample"], ctx.spec, kind="records", title="The first rows of the analysis dataset")

# %% [markdown]
# ## What this notebook recorded, and the analysis dataset
#
# `analysis.csv` (one row per patient) and `analysis.meta.json` (input file and its sha256, how
# it was made, package versions), both written atomically by `ch.save()`: this notebook is the only
# writer of `data/derived/`.

# %%
ch.claims_table(title="Claims of this notebook: the paper and this run")

# %%
ch.save()

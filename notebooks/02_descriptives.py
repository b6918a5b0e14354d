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
# # 02 · Descriptive analyses: Table 1 and first-line history
#
# **Question.** Who were the patients who received DaraVd at first relapse, and what had
# their first line of therapy been?
#
# **Paper.** *Results – Patients' characteristics* (text), **Table 1** (baseline
# characteristics) and the corresponding sentences of the *Abstract*.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
from compendium.chapters import descriptives, setup
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path, "Its printed counts are constructed on the paper's; where a number differs, the text below says whether the paper or the construction is the reason.")

# %%
ch = descriptives.compute(ctx)
paper = nv.quoter(ctx.registry)

# %%
nv.md(f"""
## Table 1

Table 1 prints each characteristic as `n (%)` over **all treated patients** (here {ch.facts["n"]}), with a row
for those not evaluated (NA), and medians with interquartile range for creatinine, calcium and the time on
lenalidomide. The text, in contrast, gives percentages over the **evaluable** patients (in the paper ISS over
{paper("R_iss_evaluable_n")}, R-ISS over {paper("R_riss_evaluable_n")}, ...). We compute both and keep them
unrounded in `results/table1.csv`; the rounding happens only on display (half away from zero, as people
round). Quartiles are R's default (type 7), since the paper's analyses were done in R 4.4.1.
""")

# %%
descriptives.table1_table(ch.table("table1"))

# %% [markdown]
# ### Beside Table 1: the distributions behind its medians
#
# A median and its quartiles hide the spread and the outliers that a clinician reads from the patients
# themselves. The continuous characteristics of Table 1 (with the marrow plasma cells, which Table 1 gives
# only as < 60% or ≥ 60%), patient by patient, split by the response group the paper relates them to.

# %%
ch.figure(descriptives.BASELINE_FIGURE)

# %%
nv.md(descriptives.baseline_sentence(ch))

# %% [markdown]
# ### Table 1: paper beside compendium
#
# Every Table 1 entry is a claim in the registry (`data/claims/02_descriptives.csv`) whose
# `estimate` names the cell of our table it is compared with. (Our table also has the age
# quartiles and an IgM row, which the paper does not print.)

# %%
t1_check = ch.recorded(ch.section("table1"))
tables.table(t1_check, kind="tally", title="Table 1 entries: paper against this run")

# %%
ch.claims_table(t1_check.index[t1_check["status"] != "match"], title="Table 1 entries that differ from the paper",
                empty="None: every Table 1 entry matches the paper.")

# %% [markdown]
# The audit below derives, from the registry's printed numbers only (count over the stated
# denominator against the printed percentage), the Table 1 rows that cannot match on any data
# because the paper's own percentage does not fit its count.

# %%
t1_audit = ch.shown["table1_audit"]
tables.table(t1_audit[~t1_audit["consistent"]], kind="audit", title="Table 1 percentages that do not fit their counts",
             empty="None: every printed percentage is its count over its denominator.")

# %%
t1_differs = t1_check[t1_check["status"] != "match"]
nv.md(f"""
Of the {len(t1_check)} Table 1 entries, {len(t1_check) - len(t1_differs)} {nv.verb(len(t1_check) - len(t1_differs), "is", "are")} reproduced and {len(t1_differs)} {nv.verb(len(t1_differs), "differs", "differ")}.
{nv.choose(ctx.synthetic, "The synthetic cohort is constructed on these counts, so a difference can only come from the paper. ", "")}
The paper's own arithmetic fails on {nv.count((~t1_audit["consistent"]).sum(), "printed percentage")}
({nv.listing(f"{r.quantity}: {r.printed_n:g} of {r.denominator:g} is {r.n_over_denominator_pct:.1f}%, printed as {r.printed_pct:g}"
             for r in t1_audit[~t1_audit["consistent"]].itertuples())}): such a row cannot match on any data.
""")

# %% [markdown]
# ## The text: percentages over evaluable patients
#
# The *Patients' characteristics* paragraph repeats several Table 1 figures and re-expresses the
# staging over the evaluable patients. The denominators are ours, counted from the data.

# %%
ch.claims_table(ch.section("text"), title="The text's percentages: paper and this run")

# %%
nv.md(f"""
Two statements of the paper cannot both hold with the others:

- the **Abstract's median age of {paper("A_age_median")} years** contradicts the {paper("T1_age_median")} of Table 1
  and the Results (and "{paper("R_age_gt70_pct")}% older than 70" is incompatible with a median of
  {paper("A_age_median")});
- **ISS II is {paper("T1_iss_II_n")} of {paper("R_iss_evaluable_n")} =
  {100 * ch.published("T1_iss_II_n") / ch.published("R_iss_evaluable_n"):.1f}%**,
  printed as {paper("R_iss_II_pct")}% (the other two stages round correctly).

Here the median age is {nv.num(ch.facts["median_age"], 0)} years.
""")

# %%
nv.md(f"""
## Cytogenetics at diagnosis and at first relapse

FISH high risk means del(17p) and/or t(4;14) and/or t(14;16). The Results say {paper("R_cyto_dx_high_n")} of
**{paper("R_cyto_dx_evaluable_n")}** evaluable patients were high risk and {paper("R_cyto_dx_standard_n")} standard
risk; but {paper("R_cyto_dx_high_n")} + {paper("R_cyto_dx_standard_n")} is not {paper("R_cyto_dx_evaluable_n")}, and
Table 1's NA row ({paper("T1_cyto_dx_na_n")}) implies the same larger number evaluable. At relapse, the Results give
{paper("R_cyto_relapse_high_n")} high and {paper("R_cyto_relapse_standard_n")} standard risk of
{paper("R_cyto_relapse_evaluable_n")} evaluable, the Abstract "{paper("A_cyto_relapse_high_n")}
({paper("A_cyto_relapse_high_pct")}%)": so the Abstract's count and the Results' count cannot both be right.
""")

# %%
descriptives.cytogenetics_table(ch)

# %%
ch.claims_table(ch.section("cytogenetics"), title="Cytogenetics: paper and this run")

# %%
nv.md(descriptives.cytogenetics_sentence(ch))

# %% [markdown]
# ## First-line history
#
# First-line therapy class, transplant, refractoriness, how long and at what dose patients took
# lenalidomide, and the first-line PFS. Lenalidomide dose at relapse is shown in the text's
# finer groups (25 mg; 15 or 20 mg; 10 mg; below 10 mg), which Table 1 pools into 25–15 and
# 10–2.5. First-line PFS is from the start of first-line therapy to the first relapse; every
# patient relapsed (that is the inclusion criterion), so there is no censoring and the
# Kaplan–Meier median equals the plain median (R's `survfit` takes the midpoint where the curve
# sits at exactly 0.5, as the median of an even sample does).

# %%
display(*descriptives.first_line_tables(ch))

# %%
ch.claims_table(ch.section("first_line"), title="First-line history: paper and this run")

# %%
fl_check = ch.recorded(ch.section("first_line_times"))
nv.md(f"""
The lenalidomide exposure is measured between two dates, so it can sit up to half a day (0.016 months) away
from the printed two-decimal values; the tolerance of those claims says so. Of the first-line PFS medians and
the time from diagnosis to DaraVd ({len(fl_check)} values), {(fl_check["status"] == "match").sum()}
{nv.verb((fl_check["status"] == "match").sum(), "matches", "match")} the paper
{nv.choose(ctx.synthetic, "(on the synthetic cohort they are **emergent**: nothing in the generator aims at them, so neither agreement nor difference is a reproduction)", "")}.
{descriptives.first_line_pfs_sentence(ch)}; the paper reports {paper("R_fl_pfs_asct_median")} against
{paper("R_fl_pfs_noasct_median")} months.
""")

# %%
ch.claims_table(ch.section("first_line_times"), title="First-line times: paper and this run")

# %% [markdown]
# ## What this notebook recorded

# %%
summary = ch.recorded()
tables.table(summary, kind="tally", title="Claims of this notebook by where the paper states them")

# %%
ch.claims_table(summary.index[summary["status"] != "match"], title="Claims that differ or cannot be reproduced",
                empty="None: every claim of this notebook matches the paper.")

# %%
ch.save()

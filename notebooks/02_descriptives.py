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
import pandas as pd

from compendium.report import claims
from compendium.data import dataset
from compendium.chapters import descriptives
from compendium import paths
from compendium.report import narrative as nv

P = paths.Paths.for_run(out_dir)
analysis = dataset.read_analysis(P)
rec = claims.Recorder("02_descriptives", P)
registered = set(rec.registry["claim_id"])
paper = nv.quoter(rec.registry)
pd.set_option("display.max_rows", 200, "display.width", 160)
dataset.banner(P, "Its printed counts are constructed on the paper's; where a number differs, the text below says whether the paper or the construction is the reason.")

# %%
nv.md(f"""
## Table 1

Table 1 prints each characteristic as `n (%)` over **all treated patients** (here {len(analysis)}), with a row
for those not evaluated (NA), and medians with interquartile range for creatinine, calcium and the time on
lenalidomide. The text, in contrast, gives percentages over the **evaluable** patients (in the paper ISS over
{paper("R_iss_evaluable_n")}, R-ISS over {paper("R_riss_evaluable_n")}, ...). We compute both and keep them
unrounded in `results/table1.csv`; the rounding happens only on display (half away from zero, as people
round). Quartiles are R's default (type 7), since the paper's analyses were done in R 4.4.1.
""")

# %%
table1 = descriptives.table1(analysis)
paths.write_csv(table1, P.result("table1.csv"))
descriptives.render_table(
    descriptives.table1_display(table1),
    title="Table 1 · Baseline characteristics (compendium)",
    table_id="table1",
    note="Number (%) over all patients, as the paper prints it; beside it, % over the patients "
         "evaluable for that characteristic. Medians [IQR] by R's type-7 quantile.",
)

# %% [markdown]
# ### Table 1: paper beside compendium
#
# Every Table 1 entry is a claim in the registry (`data/claims/02_descriptives.csv`); we record
# the value we compute for each. (Our table also has the age quartiles and an IgM row, which the
# paper does not print.)

# %%
for claim_id, value in descriptives.table1_claims(table1).items():
    if claim_id in registered:
        rec.record(claim_id, value)
t1_check = rec.table([c for c in rec.values if c.startswith("T1_")])
t1_check["status"].value_counts()

# %%
t1_check[t1_check["status"] != "match"]

# %% [markdown]
# The audit below derives, from the registry's printed numbers only (count over the stated
# denominator against the printed percentage), the Table 1 rows that cannot match on any data
# because the paper's own percentage does not fit its count.

# %%
t1_audit = descriptives.audit_printed_percentages(rec.registry, "T1_")
t1_audit[~t1_audit["consistent"]]

# %%
t1_differs = t1_check[t1_check["status"] != "match"]
nv.md(f"""
Of the {len(t1_check)} Table 1 entries, {len(t1_check) - len(t1_differs)} {nv.verb(len(t1_check) - len(t1_differs), "is", "are")} reproduced and {len(t1_differs)} {nv.verb(len(t1_differs), "differs", "differ")}.
{nv.choose(dataset.read_meta(P)["synthetic"],
           "The synthetic cohort is constructed on these counts, so a difference can only come from the paper. ", "")}
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
t1 = table1.set_index("key")
text_claims = {
    "R_male_pct": ("sex_male", "pct_all"), "R_age_65_70_pct": ("age_65_70", "pct_all"),
    "R_age_gt70_pct": ("age_gt70", "pct_all"), "R_age_median": ("age_median", "median"),
    "A_age_median": ("age_median", "median"),
    "R_isotype_IgG_pct": ("isotype_IgG", "pct_all"), "R_isotype_IgA_pct": ("isotype_IgA", "pct_all"),
    "R_isotype_IgD_pct": ("isotype_IgD", "pct_all"), "R_isotype_BJ_pct": ("isotype_BJ", "pct_all"),
    "R_creatinine_median": ("creatinine_median", "median"), "R_creatinine_q1": ("creatinine_median", "q1"),
    "R_creatinine_q3": ("creatinine_median", "q3"), "R_calcium_median": ("calcium_median", "median"),
    "R_calcium_q1": ("calcium_median", "q1"), "R_calcium_q3": ("calcium_median", "q3"),
    "R_iss_evaluable_n": ("iss_I", "n_evaluable"), "R_riss_evaluable_n": ("riss_I", "n_evaluable"),
    "R_iss_I_pct": ("iss_I", "pct_evaluable"), "R_iss_II_pct": ("iss_II", "pct_evaluable"),
    "R_iss_III_pct": ("iss_III", "pct_evaluable"), "R_riss_I_pct": ("riss_I", "pct_evaluable"),
    "R_riss_II_pct": ("riss_II", "pct_evaluable"), "R_riss_III_pct": ("riss_III", "pct_evaluable"),
    "R_emd_n": ("emd", "n"), "R_emd_evaluable_n": ("emd", "n_evaluable"),
}
for claim_id, (key, column) in text_claims.items():
    rec.record(claim_id, t1.loc[key, column])
rec.table(list(text_claims))

# %%
nv.md(f"""
Two statements of the paper cannot both hold with the others:

- the **Abstract's median age of {paper("A_age_median")} years** contradicts the {paper("T1_age_median")} of Table 1
  and the Results (and "{paper("R_age_gt70_pct")}% older than 70" is incompatible with a median of
  {paper("A_age_median")});
- **ISS II is {paper("T1_iss_II_n")} of {paper("R_iss_evaluable_n")} =
  {100 * rec.registry.set_index("claim_id").at["T1_iss_II_n", "published"] / rec.registry.set_index("claim_id").at["R_iss_evaluable_n", "published"]:.1f}%**,
  printed as {paper("R_iss_II_pct")}% (the other two stages round correctly).

Here the median age is {nv.num(t1.loc["age_median", "median"], 0)} years.
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
cyto = descriptives.cytogenetics_summary(analysis)
cyto

# %%
c = cyto.set_index(["column", "finding"])
for claim_id, (column, finding, field) in {
    "R_cyto_dx_high_n": ("cyto_risk_dx", "high", "n"), "R_cyto_dx_standard_n": ("cyto_risk_dx", "standard", "n"),
    "R_cyto_dx_evaluable_n": ("cyto_risk_dx", "high", "evaluable"),
    "A_cyto_dx_high_n": ("cyto_risk_dx", "high", "n"), "A_cyto_dx_high_pct": ("cyto_risk_dx", "high", "pct_evaluable"),
    "R_cyto_relapse_high_n": ("cyto_risk_relapse", "high", "n"),
    "R_cyto_relapse_standard_n": ("cyto_risk_relapse", "standard", "n"),
    "R_cyto_relapse_evaluable_n": ("cyto_risk_relapse", "high", "evaluable"),
    "A_cyto_relapse_high_n": ("cyto_risk_relapse", "high", "n"),
    "A_cyto_relapse_high_pct": ("cyto_risk_relapse", "high", "pct_evaluable"),
}.items():
    rec.record(claim_id, c.loc[(column, finding), field])
for finding in ("del1p", "gain1q", "amp1q"):
    for prefix in ("R", "A"):
        rec.record(f"{prefix}_chr1_dx_{finding}_n", c.loc[("chr1_dx", finding), "n"])
        if finding != "del1p":
            rec.record(f"{prefix}_chr1_relapse_{finding}_n", c.loc[("chr1_relapse", finding), "n"])
rec.table([i for i in rec.values if "cyto" in i or "chr1" in i])

# %%
nv.md(f"""
Here FISH at diagnosis is known for {nv.count(c.loc[("cyto_risk_dx", "high"), "evaluable"], "patient")}, of whom
{c.loc[("cyto_risk_dx", "high"), "n"]} are high risk; at relapse for {nv.count(c.loc[("cyto_risk_relapse", "high"), "evaluable"], "patient")},
of whom {c.loc[("cyto_risk_relapse", "high"), "n"]} are high risk.
""")

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
first_line = descriptives.first_line_history(analysis)
paths.write_csv(first_line, P.result("first_line.csv"))
first_line

# %%
fl = first_line.set_index(["quantity", "level"])
for claim_id, (quantity, level, field) in {
    "R_fl_bortezomib_n": ("first-line class", "bortezomib", "n"),
    "R_fl_bortezomib_pct": ("first-line class", "bortezomib", "value"),
    "R_fl_lenalidomide_n": ("first-line class", "lenalidomide", "n"),
    "R_fl_lenalidomide_pct": ("first-line class", "lenalidomide", "value"),
    "R_fl_carfilzomib_n": ("first-line class", "carfilzomib", "n"),
    "R_fl_carfilzomib_pct": ("first-line class", "carfilzomib", "value"),
    "R_asct_single_n": ("first-line ASCT", "single", "n"),
    "R_asct_double_n": ("first-line ASCT", "double", "n"),
    "R_carfilzomib_refractory_n": ("carfilzomib refractory", "yes", "n"),
    "R_bortezomib_refractory_n": ("bortezomib refractory", "yes", "n"),
    "R_len_first_line_n": ("lenalidomide in first line", "yes", "n"),
    "R_len_exposure_median": ("lenalidomide exposure (months)", "median", "value"),
    "R_len_exposure_min": ("lenalidomide exposure (months)", "min", "value"),
    "R_len_exposure_max": ("lenalidomide exposure (months)", "max", "value"),
    "R_len_dose_pd_25_n": ("lenalidomide dose at relapse", "25 mg", "n"),
    "R_len_dose_pd_15_20_n": ("lenalidomide dose at relapse", "15-20 mg", "n"),
    "R_len_dose_pd_10_n": ("lenalidomide dose at relapse", "10 mg", "n"),
    "R_len_dose_pd_lt10_n": ("lenalidomide dose at relapse", "<10 mg", "n"),
    "R_fl_pfs_median": ("first-line PFS median (months)", "all", "value"),
    "R_fl_pfs_asct_median": ("first-line PFS median (months)", "ASCT", "value"),
    "R_fl_pfs_noasct_median": ("first-line PFS median (months)", "no ASCT", "value"),
    "R_dx_to_daravd_median": ("diagnosis to DaraVd median (months)", "all", "value"),
}.items():
    rec.record(claim_id, fl.loc[(quantity, level), field])
rec.record("R_asct_n", t1.loc["asct_prior", "n"])
first_line_ids = [i for i in rec.values if i.startswith(("R_fl", "R_asct", "R_len", "R_carf", "R_bort", "R_dx"))]
rec.table(first_line_ids)

# %%
fl_ids = ["R_fl_pfs_median", "R_fl_pfs_asct_median", "R_fl_pfs_noasct_median", "R_dx_to_daravd_median"]
fl_check = rec.table(fl_ids)
asct, no_asct = (fl.loc[("first-line PFS median (months)", k), "value"] for k in ("ASCT", "no ASCT"))
nv.md(f"""
The lenalidomide exposure is measured between two dates, so it can sit up to half a day (0.016 months) away
from the printed two-decimal values; the tolerance of those claims says so. Of the first-line PFS medians and
the time from diagnosis to DaraVd ({len(fl_ids)} values), {(fl_check["status"] == "match").sum()}
{nv.verb((fl_check["status"] == "match").sum(), "matches", "match")} the paper
{nv.choose(dataset.read_meta(P)["synthetic"], "(on the synthetic cohort they are **emergent**: nothing in the generator aims at them, so neither agreement nor difference is a reproduction)", "")}.
Here patients with a first-line ASCT had a {nv.compare(asct, no_asct, "longer", "shorter")} first-line PFS than those
without ({nv.months(asct)} against {nv.months(no_asct)}); the paper reports {paper("R_fl_pfs_asct_median")} against
{paper("R_fl_pfs_noasct_median")} months.
""")

# %% [markdown]
# ## What this notebook recorded

# %%
summary = rec.table()
summary.groupby(["location", "status"]).size().unstack(fill_value=0)

# %%
summary[summary["status"] != "match"]

# %%
rec.save()

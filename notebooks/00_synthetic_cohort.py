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
# # 00 · The synthetic cohort: how the default data were made, and how close they come
#
# > **SYNTHETIC DATA.** Every patient in `data/synthetic/daravd_synthetic_cohort.csv` is made up by
# > `compendium.synthetic` from a fixed seed. It is not patient data and must never be read as such.
#
# **Why.** The study's patient-level data are deposited on Zenodo (doi 10.5281/zenodo.16091434) and
# cannot be downloaded where this compendium is built and tested. So that every notebook can run,
# and tell the paper's story, on a file in the same format as the real export, we ship 85 made-up
# patients calibrated to the published aggregates. Drop the real file into `data/raw/` and the same
# notebooks run on it unchanged (notebook 01 reads whichever input the run names).
#
# **What this notebook shows.** The three layers of the generator, the assumptions it makes where
# the paper is silent or contradicts itself, that regeneration is byte-identical, that every history
# obeys the clinical rules of a DaraVd course, the generator's known truth, and each published
# estimate beside what the analyses compute on the cohort. The analyses themselves (02-07) never see
# these targets: they compute from the file.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
from compendium.chapters import generator
from compendium.report import display as tables
from compendium.report import narrative as nv

ch = generator.compute()
nv.md("> **SYNTHETIC COHORT: not patient data.**")

# %% [markdown]
# ## Regeneration is byte-identical
#
# The committed file is exactly what the generator writes from its seeds (`CONSTRUCTION_SEED` for
# the baseline layer, `OUTCOME_SEED` for the time layer; both in `compendium.synthetic.seeds`) and
# the result of the calibration search (`data/synthetic/calibration_search.csv`, see layer 3).
# Beside it, `daravd_synthetic_cohort.meta.json` records the seeds, the dates and the checksum of
# every committed file; the analyses read the seeds for their banner from there.

# %%
f = ch.facts
nv.md(f"""
Construction seed {f["construction_seed"]}, outcome seed {f["outcome_seed"]}. Regenerated, the cohort's sha256 begins
`{f["sha_regenerated"]}`; the committed file's begins `{f["sha_committed"]}`:
{nv.choose(f["identical"], "the two are **identical**", "the two **differ**: the generator no longer writes the committed file")}.
The provenance file `{f["meta_file"]}` {nv.choose(f["meta_identical"], "is", "is not")} what the generator writes.
Regeneration {nv.choose(f["seconds"] < 60, "took under a minute", "took over a minute")}.
""")

# %% [markdown]
# ## Layer 1: the printed counts, laid down exactly
#
# Every count of Table 1, the first-line history, the best-response distribution, the reasons for
# stopping DaraVd, the dose modifications and the grade rows of Table 6 is placed exactly. Each
# variable is assigned by weighted sampling *without replacement* from a list with the printed
# count of each level, so the marginal totals cannot drift while the weights carry the joint
# structure of layer 2. Continuous variables get the paper's median and quartiles as order
# statistics (R's default quantile, type 7: with 85 values the quartiles are exactly the 22nd,
# 43rd and 64th values).

# %%
nv.md(nv.choose(f["counts_exact"], "Every constructed count is exact.", "Some constructed counts are **not** exact: the generator has a bug."))
tables.table(ch.table("constructed"), title="Constructed counts: the paper's beside the cohort's",
             headers={"covariate": "Variable", "target": "Paper (target)", "generated": "Cohort"})

# %%
nv.md(nv.choose(f["ae_exact"], "Every grade row of Table 6 is exact.", "Some grade rows of Table 6 are **not** exact."))
tables.table(ch.table("ae_grades"), title="Adverse events by worst grade (patients; a cell that misses its target says so)",
             headers={"covariate": "Adverse event"})

# %%
tables.table(ch.table("quantiles"), title="Continuous variables: the paper's quartiles (target) and the cohort's (R type 7)",
             headers={"covariate": "Variable", "what": ""})

# %% [markdown]
# Lenalidomide exposure is stored as dates (as an e-CRF would), so its quartiles move by less than a
# day (0.033 months) from the targets: 7.25 months is 220.7 days, which no whole day reaches.
#
# ## Layer 2: assumptions where the paper is silent or contradicts itself

# %%
tables.table(ch.table("assumptions"), title="What the generator assumes", headers={"number": "", "assumption": "Assumption"})

# %% [markdown]
# ## Layer 3: histories from a multi-state model
#
# Each patient's course runs through the states *start of DaraVd → first response → ≥VGPR first
# reached → best response → progression → next line → second progression*, with death possible from
# every state (`compendium.synthetic.multistate`). Times to first response, to ≥VGPR and to the best response
# are gamma-distributed steps whose means are below; IMWG asks for two consecutive assessments, so a
# documented response is confirmed one assessment (4 weeks) later and precedes any progression by at
# least another 4 weeks. Progression is Weibull with proportional covariate effects, and its hazard
# drops by the factor `exp(vgpr_loghr)` from the day ≥VGPR is first reached: response acts as a
# *time-dependent* covariate, which is what makes guarantee-time bias demonstrable in notebook 05.
# Death without progression has a constant hazard; survival after progression, the gap to the next
# line and the next line's own progression-free time have their own distributions.

# %%
tables.table(ch.table("parameters"), title="The multi-state model's parameters (months; log hazard ratios)",
             headers={"parameter": "Parameter"})

# %% [markdown]
# The first draw of the 85 histories fixes each patient's *course* by the data cut-off (progressed,
# died first, or neither; next line or not), because the paper prints those counts (48 stops for
# progression, 3 for death, 45 next lines; `ASSUMPTIONS`); every time is then drawn from the model's
# hazards restricted to the window that gives that course.
#
# ### Clinical rules
#
# Every history is checked against the rules of a DaraVd course, in the default cohort and in a
# freshly generated cohort of 10,000 patients (free draws from the same model, any N):

# %%
tables.table(ch.table("rules"), title="Clinical rules: patients breaking each", headers={"rule": "Rule"})

# %%
nv.md(f"""
{nv.choose(f["breaches"] == 0, f"No patient breaks any of the {f['rules']} rules in either cohort.",
           f"{f['broken_rules']} of the {f['rules']} rules are broken ({nv.count(f['breaches'], 'breach', 'breaches')} in the two "
           "cohorts together): the generator does not obey them yet, and it must before its histories can be called "
           "plausible. Notebook 01 lists each breach as a data query, as it would for a real export.")}
The median time to best response is {nv.months(f["best_default"])} in the default cohort and
{nv.months(f["best_generated"])} in the generated one (the paper: {nv.published(ch.registry, "R_time_to_best_response_median")} months).
""")

# %%
tables.table(ch.table("kinetics"), title="How fast responses come",
             headers={"time from the start of DaraVd (months)": "Months from the start of DaraVd", "default cohort": "Default cohort"})

# %% [markdown]
# ### Calibration: a search over the histories
#
# The model alone gives cohorts *like* the paper's; the default cohort should reproduce the paper's
# estimates themselves. The targets are read from the claims registry (`calibration_targets`): every
# hazard ratio, confidence limit and p of Tables 2-5 and of the Results text, the Kaplan-Meier medians
# and the median time to best response. A simulated-annealing search (`synthetic.search`, fixed seed
# `OUTCOME_SEED`, `SEARCH_STEPS` steps, run as `SEARCH_CHAINS` independent chains from consecutive seeds,
# of which the one with the lowest final loss is kept) starts from a draw of the model; each step redraws one
# patient's uniform number for one transition (or swaps two patients' courses, or who had a next
# line), recomputes every target with quick estimators, and keeps the step when the loss falls (or,
# early on, occasionally when it rises). The loss is zero when an estimate is within the printed
# precision, grows with the distance, and is large outside the acceptance bounds (hazard ratios and
# limits within 0.1 on the log scale, p on the printed side of 0.05, medians within half a month).
# Counts cannot move, and every history stays one the model can produce and that keeps every clinical
# rule (a state whose histories the stop reasons cannot be laid on without breaking one costs the
# search more than any target). The search takes several minutes per chain,
# so its result is committed (`calibration_search.csv`; `python -m compendium.synthetic` redoes it)
# and regeneration reads it.
#
# Below, each target beside what the analyses compute on the committed cohort, with R's conventions
# (`compendium.stats.survival`, as in notebooks 03-05), not the search's quick estimators:

# %%
report = ch.table("calibration")
tables.table(report.drop(columns=["kind"]), title="Calibration targets beside what the analyses compute",
             headers={"registry basis": "Basis", "achieved": "This cohort", "printed precision": "At the printed precision",
                      "within bounds": "Within the bounds"})

# %%
kind = report["kind"]
precise, total = int(report["printed precision"].sum()), len(report)
bound = report[kind != "limit"]
limits = report[kind == "limit"]
calibrated = report[report["registry basis"] == "calibrated"]
nv.md(f"""
Of the {total} targets, {nv.share(precise, total)} match the paper at its printed precision.
The acceptance bounds (hazard ratio within 0.1 on the log scale, p on the printed side of 0.05, median within half a month) bind the hazard ratios, the p-values and the medians: {nv.share(bound["within bounds"].sum(), len(bound))}
of those are within them{nv.choose(bool(bound["within bounds"].all()), "", " (outside: " + nv.listing(bound.loc[~bound["within bounds"], "claim_id"]) + ")")}.
Of the {len(limits)} confidence limits, {nv.share(limits["within bounds"].sum(), len(limits))} are within 0.1 of the
paper's on the log scale. Of the {len(calibrated)} claims the registry labels *calibrated*,
{nv.share(calibrated["printed precision"].sum(), len(calibrated))} match at the printed precision and
{nv.share(calibrated["within bounds"].sum(), len(calibrated))} are within the bounds.
""")

# %%
tables.table(ch.table("calibration_summary"), title="Calibration targets by kind",
             headers={"kind of target": "Kind of target", "targets": "Targets", "at the printed precision": "At the printed precision",
                      "within the bounds": "Within the bounds"})

# %% [markdown]
# ## The known truth, exported beside the cohort
#
# `data/synthetic/daravd_synthetic_truth.csv` holds the generator's parameters and, for the response
# analyses of notebook 05, the value each one estimates with unlimited patients under this design
# (computed on 200,000 simulated patients). The *true time-dependent effect* of ≥VGPR is the
# time-dependent Cox estimate on the first-reached date in that population; the model's own hazard
# ratio after confirmation is shown beside it.

# %%
tables.table(ch.table("estimands"), title="What the response analyses of notebook 05 estimate, with unlimited patients")

# %% [markdown]
# ### The dexamethasone groups: confounding by indication, by construction
#
# The paper finds the reduced dexamethasone doses associated with much better survival than the full
# dose. A dose that harms is not what a clinician would believe; a dose chosen by the patient's
# condition is. So the generator gives the dose no effect at all and lets an unrecorded trait choose
# it: an *aggressive relapse* raises the hazards of progression and of death after it, and such
# patients start on the full dose, as do most patients under 65, while the frail elderly get 20 mg/week.
# Age acts on survival too, so the dose groups differ in survival for reasons that are not the dose, and
# one of them is a trait that no analysis of the file can adjust for.

# %%
nv.md(f"""
In the model the full dose has a log hazard ratio of {nv.num(f["dex_effect"]["pfs"], 2)} for progression and
{nv.num(f["dex_effect"]["pps"], 2)} for death after it; the aggressive relapse has {nv.num(f["aggressive_effect"]["pfs"], 2)} and
{nv.num(f["aggressive_effect"]["pps"], 2)}. With unlimited patients, the full dose against a reduced one gives a
hazard ratio of {nv.num(f["dex_truth"][("dex_full_vs_reduced_crude", "pfs")], 2)} for PFS and
{nv.num(f["dex_truth"][("dex_full_vs_reduced_crude", "os")], 2)} for OS as the paper compares the groups, and
{nv.num(f["dex_truth"][("dex_full_vs_reduced_adjusted", "pfs")], 2)} and {nv.num(f["dex_truth"][("dex_full_vs_reduced_adjusted", "os")], 2)}
once adjusted for what chose the dose and acts on survival (the aggressive relapse and age 65 or over).
""")

# %%
tables.table(ch.table("confounding"), title="Full against reduced dexamethasone, with unlimited patients: crude and adjusted")

# %% [markdown]
# ## Any size
#
# `python -m compendium synthetic --n N --seed S --out FILE` writes a cohort of any size from the same
# model (free draws: only the default N = 85 is pinned to the paper's counts), for tests, method checks
# and benchmarks.

# %% [markdown]
# ## What the synthetic cohort cannot tell
#
# Constructed counts match by design, so their agreement with the paper says nothing about the
# paper. Calibrated results are near the paper because we aimed at them. Only the *emergent*
# quantities (for example p-values of tests nobody aimed at) carry information, and on synthetic
# data that information is about our generator, not about patients. `results/claims.csv` labels
# every claim with this basis.

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
# # 07 · Comparison with CASTOR, OPTIMISMM and the other trials the paper discusses
#
# **Question.** How do this cohort's PFS and OS sit beside the trials the paper compares itself
# with, population type by population type, and does the paper quote those trials correctly?
#
# **Paper.** *Introduction* (median PFS of the registrational trials, their shares of
# lenalidomide-refractory patients) and *Discussion* (CASTOR in lenalidomide-refractory patients
# and at first relapse, OPTIMISMM, MM-014, DREAMM-7, the pooled daratumumab trials, Barilà et al.;
# "approximately twice" CASTOR's lenalidomide-refractory median, "comparable with" OPTIMISMM).

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
import pandas as pd

from compendium.report import claims, forest, plots, trials
from compendium.data import dataset
from compendium.stats import guyot, maic, models
from compendium import paths
from compendium.report import narrative as nv
from compendium.stats import survival as sv

pd.set_option("display.max_colwidth", 70)
P = paths.Paths.for_run(out_dir)
meta = dataset.read_meta(P)
analysis = dataset.read_analysis(P)
registry = claims.load_registry()
rec = claims.Recorder("07_comparison", P, registry)
evidence = trials.load_evidence()
label = trials.cohort_label(meta)
dataset.banner(P, "Its medians are calibrated to the paper's, so the comparison shows the method, not a finding.")

# %% [markdown]
# ## The evidence: what the other studies published
#
# One row per study x arm x population x endpoint, read from the study's publication (abstract,
# table or figure, as `location` says) or, where the publication itself could not be reached here,
# from a text that quotes it, marked `secondary`. A number that was not found is left empty and
# `missing_reason` says why; nothing is filled in from memory or from this paper's quotation.

# %%
evidence[["trial", "regimen", "arm", "population", "endpoint", "n", "median_months", "lcl", "ucl",
          "median_not_reached", "hr", "hr_lcl", "hr_ucl", "source_type", "location"]]

# %%
found = evidence[["median_months", "rate_pct", "hr", "orr_pct"]].notna().any(axis=1) | evidence["median_not_reached"]
nv.md(f"""
The table holds {nv.count(len(evidence), "result")} from {nv.count(evidence["trial"].nunique(), "study", "studies")};
{nv.count(int((evidence["source_type"] == "secondary").sum()), "row")} rely on a secondary source and
{nv.count(int((~found).sum()), "row")} record a result that could not be found:
""")

# %%
evidence.loc[~found, ["trial", "population", "endpoint", "missing_reason"]]

# %% [markdown]
# ## Does the paper quote the other studies correctly?
#
# Every number the Introduction and Discussion quote from another publication is a claim with basis
# `literature`; its "reproduced" value is the source's number from the evidence table (a share of
# lenalidomide-refractory patients may be derived from the published counts). Where the source
# could not be found the claim is *not reproducible*, with the reason.

# %%
for claim_id in registry.loc[registry["basis"] == "literature", "claim_id"]:
    value, reason = trials.quoted_value(evidence, claim_id)
    if reason:
        rec.not_reproducible(claim_id, reason)
    else:
        rec.record(claim_id, value)
quotes = rec.table([c for c in registry.loc[registry["basis"] == "literature", "claim_id"]])
quotes.rename(columns={"compendium": "source"})

# %%
status = quotes["status"].value_counts()
differ = quotes[quotes["status"] == "differs"]
nv.md(f"""
Of {nv.count(len(quotes), "quotation")}, {nv.count(int(status.get("match", 0)), "agrees", "agree")} with the
source, {nv.count(int(status.get("differs", 0)), "differs", "differ")} and
{nv.count(int(status.get("not_reproducible", 0)), "could not be checked", "could not be checked")}.
{nv.choose(len(differ) > 0, "Differing: " + nv.listing([f"{q.quantity} (paper {q.paper:g}, source {q.compendium:g})" for q in differ.itertuples()]) + ".", "")}
""")

# %%
yong = quotes.loc[["D_yong_pfs", "D_yong_os"]]
nv.md(nv.choose((yong["status"] == "differs").any(), f"""
For the pooled lenalidomide-refractory patients of the daratumumab trials (Yong et al.), the paper
quotes a median PFS of {nv.published(registry, "D_yong_pfs")} and OS of {nv.published(registry, "D_yong_os")}
months; the abstract of that publication reports {nv.months(yong.loc["D_yong_pfs", "compendium"])} and
{nv.months(yong.loc["D_yong_os", "compendium"])} for all its patients with one to three prior lines. The
paper may quote a subgroup or an earlier congress version of the analysis; the evidence table holds
what the publication's abstract says.""", ""))

# %% [markdown]
# ## Like with like: forest plots by population type
#
# A median is only comparable with medians of similar patients. The rows are grouped by how
# close the population is to this one: lenalidomide-refractory *at first relapse* (this cohort's
# definition), lenalidomide-refractory at any line, one prior line whatever the lenalidomide status,
# and whole trial populations. Open markers are numbers taken from a secondary source; grey rows are
# results of the closest populations that could not be found.

# %%
pfs = sv.km_median(analysis["pfs_months"], analysis["pfs_event"])
os_ = sv.km_median(analysis["os_months"], analysis["os_event"])
vgpr = analysis[analysis["vgpr_or_better"] == 1]
pfs_vgpr = sv.km_median(vgpr["pfs_months"], vgpr["pfs_event"])
rows_pfs = trials.forest_rows(evidence, "pfs", [
    trials.cohort_row(label, pfs, "lenref_first_relapse"),
    trials.cohort_row(label.replace("This cohort", "This cohort, ≥VGPR only"), pfs_vgpr, selected_on="response ≥VGPR")])
plots.save_and_show(forest.forest_plot(rows_pfs, "Median PFS (months)"), P.figure("07_forest_pfs"))

# %%
rows_os = trials.forest_rows(evidence, "os", [trials.cohort_row(label, os_, "lenref_first_relapse")])
plots.save_and_show(forest.forest_plot(rows_os, "Median OS (months)"), P.figure("07_forest_os"))

# %% [markdown]
# **Caveats, before reading the plots as a comparison of treatments.** This is a single-arm,
# retrospective series set beside randomised trials and other series: no row is a control for
# another. (1) The study's eligibility required at least two cycles of DaraVd, which removes the
# earliest progressions and deaths and lengthens PFS and OS (guarantee time; notebook 05). (2) Lines:
# by eligibility this cohort is at first relapse; most trial populations had one to three prior lines.
# (3) Refractoriness: by eligibility every patient relapsed on lenalidomide, while in most whole-trial
# populations a minority did.
# (4) Follow-up differs between studies and limits what a median can show. (5) Response and
# progression were assessed in routine practice here, by independent committees in most trials,
# and daratumumab interferes with immunofixation. (6) The ≥VGPR row selects patients by an outcome
# reached during treatment; set beside whole populations it flatters the regimen.

# %%
lenref = evidence[(evidence["endpoint"] == "pfs") & (evidence["population_type"] == "lenref_any_line")
                  & evidence["median_months"].notna()]
first = evidence[(evidence["endpoint"] == "pfs") & (evidence["population_type"] == "lenref_first_relapse")]
castor_1pl = trials.select(evidence, "CASTOR", "pfs", "one_prior_line", "experimental")
nv.md(f"""
Here the median PFS was {nv.months(pfs["median"])} (95% CI {nv.num(pfs["lcl"])}–{nv.num(pfs["ucl"])}).
The published medians of lenalidomide-refractory populations at any line (control arms included)
range from {nv.months(lenref["median_months"].min())} to {nv.months(lenref["median_months"].max())}.
Of {nv.count(len(first), "result")} for patients refractory to lenalidomide at their first relapse in the
evidence table, {nv.choose(first["median_months"].notna().any(), nv.count(int(first["median_months"].notna().sum()), "gives", "give"), "none gives")}
a median PFS that could be found.
Patients here who reached ≥VGPR had a median PFS of {nv.months(pfs_vgpr["median"])}, {nv.compare(pfs_vgpr["median"], castor_1pl["median_months"])}
than the {nv.months(castor_1pl["median_months"])} of CASTOR's DaraVd patients with one prior line, whatever
their lenalidomide status: a comparison biased in favour of this subgroup (caveat 6).
""")

# %% [markdown]
# The Discussion says the median PFS was "approximately twice" that of CASTOR's
# lenalidomide-refractory patients. The ratio of our median to CASTOR's (from the evidence table):

# %%
castor_lenref = trials.select(evidence, "CASTOR", "pfs", "lenref_any_line", "experimental")["median_months"]
ratio = pfs["median"] / castor_lenref
rec.record("D_pfs_ratio_castor_lenref", ratio)
print(f"median PFS {models.format_median(pfs['median'], pfs['lcl'], pfs['ucl'])} months; "
      f"CASTOR lenalidomide-refractory {castor_lenref:g} months; ratio {ratio:.2f}")

# %% [markdown]
# ## Matching-adjusted indirect comparison (MAIC)
#
# A cross-study comparison of medians mixes the effect of treatment with differences between the
# patients. MAIC (Signorovitch et al., Value Health 2010) reweights this cohort's patients so that
# their baseline means equal a trial arm's published aggregates, and recomputes the median on the
# reweighted cohort. Weights come from the method of moments (`compendium/maic.py`, checked against
# R on the NICE DSU TSD 18 example); the interval is a percentile bootstrap with the weights
# re-estimated in every resample (fixed seed). The target is DREAMM-7's DaraVd arm, the same
# regimen in a trial; its published aggregates and their sources:

# %%
target_name = "DREAMM-7 DaraVd arm"
target_table = trials.load_maic_targets()
target_table[target_table["target"] == target_name][["covariate", "statistic", "value", "source_type", "note"]]

# %%
targets = trials.maic_targets(target_table, target_name)
ipd = analysis.assign(male=(analysis["sex"] == "M").astype(int))
ipd = ipd.dropna(subset=[t.column for t in targets] + ["pfs_months", "pfs_event"]).reset_index(drop=True)
try:
    fit, why = maic.analyse(ipd, targets, "pfs_months", "pfs_event", n_boot=1000, seed=20250), ""
except ValueError as err:
    fit, why = None, str(err)
fit["balance"] if fit else why

# %%
trial_arm = trials.select(evidence, "DREAMM-7", "pfs", "whole_trial", "control")
nv.md(f"""
Complete baseline data for the matched covariates were available for {nv.count(fit["n"], "patient")}
of {len(analysis)}; after weighting, their effective sample size is {nv.num(fit["ess"], 1)}. The weighted
median PFS is {nv.months(fit["median"])} (bootstrap 95% CI {nv.num(fit["lcl"])}–{nv.num(fit["ucl"])},
{fit["n_boot"]} resamples{nv.choose(fit["failed"] > 0, f", {fit['failed']} of which could not be weighted", "")}),
against {nv.months(trial_arm["median_months"])} (95% CI {nv.num(trial_arm["lcl"])}–{nv.num(trial_arm["ucl"])})
with DaraVd in DREAMM-7 ({trial_arm["source_type"]} source).
""" if fit else f"No MAIC on this input: {why}.")

# %%
if fit:
    km_curves = [(f"{label}, n = {fit['n']}, unweighted", fit["km_unweighted"], plots.OKABE_ITO[1], "-"),
                 (f"reweighted to {target_name} (ESS {fit['ess']:.0f})", fit["km_weighted"], plots.OKABE_ITO[0],
                  "--")]
    marks = [(f"{target_name}: published median, 95% CI", trial_arm["median_months"], trial_arm["lcl"],
              trial_arm["ucl"], plots.OKABE_ITO[2])]
    paths.write_csv(fit["balance"].assign(target_population=target_name), P.result("maic_balance.csv"))
    paths.write_csv(pd.DataFrame([{"target_population": target_name, "endpoint": "pfs", "n": fit["n"],
                                   "ess": fit["ess"], "median": fit["median"], "lcl": fit["lcl"],
                                   "ucl": fit["ucl"], "n_boot": fit["n_boot"], "seed": fit["seed"]}]),
                    P.result("maic_pfs.csv"))
    plots.save_and_show(forest.km_overlay(km_curves, "Months from start of DaraVd", "Progression-free", marks),
                        P.figure("07_maic_pfs"))

# %%
dreamm7_lenref, _ = trials.quoted_value(evidence, "I_dreamm7_lenref")
used = target_table[target_table["target"] == target_name]
nv.md(f"""
**What this MAIC cannot do.** It is unanchored (no common comparator arm), so it adjusts only for the
covariates matched ({nv.listing(list(used["covariate"].unique()))}) and assumes that nothing else that
affects PFS differs. The most important difference, lenalidomide refractoriness (every patient here by
eligibility; {nv.num(dreamm7_lenref, 0)}% of DREAMM-7, from its published counts), cannot be matched: no
reweighting of a fully refractory cohort reaches a population where most patients are not.
{nv.count(int((used["source_type"] == "secondary").sum()), "of the aggregates comes", "of the aggregates come")}
from a secondary source, and the notes above say where a published median stands in for a mean.
The weighted median therefore answers a narrower question: what this cohort's median would be with
the target's mix of the matched covariates.
""")

# %% [markdown]
# ## Reconstructed trial curves
#
# A median is one point of a curve. From a published Kaplan-Meier figure, digitised, and its
# numbers at risk, the trial's patient-level data can be reconstructed (Guyot et al., BMC Med Res
# Methodol 2012; `compendium/guyot.py`, checked by round trip and on KEYNOTE-189) and set beside
# this cohort's curve, with a hazard ratio from a Cox model on the pooled data. The input format for
# a digitised curve is described in `data/external/curves/README.md`.

# %%
stems = guyot.curves_available(paths.DATA / "external" / "curves")
nv.md(nv.choose(len(stems) > 0,
                f"Digitised curves found: {nv.listing([s.name for s in stems])}.",
                "No digitised trial curve is present in `data/external/curves/`, so no trial curve is "
                "reconstructed in this run."))

# %%
for stem in stems:
    res = guyot.against_cohort(stem, analysis)
    overlay = [(label, res["km_cohort"], plots.OKABE_ITO[1], "-"),
               (f"{res['name']} (reconstructed)", res["km_trial"], plots.OKABE_ITO[0], "--")]
    plots.save_and_show(forest.km_overlay(overlay, "Months", res["endpoint"].upper()),
                        P.figure(f"07_curve_{res['name']}"))
    display(nv.md(f"{res['name']}: hazard ratio of this cohort against the reconstructed trial patients "
                  f"{nv.hr_ci(res['hr'], res['lcl'], res['ucl'])}, {nv.p_value(res['p'])} "
                  "(unadjusted, across studies: the caveats above apply in full)."))

# %% [markdown]
# ## What this notebook recorded

# %%
rec.table()

# %%
rec.save()

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
from compendium.chapters import comparison, setup
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path,
            synthetic_note="Its medians are calibrated to the paper's, so the comparison shows the method, not a finding.")

# %%
ch = comparison.compute(ctx)
facts, label = ch.facts, ch.facts["label"]

# %% [markdown]
# ## The evidence: what the other studies published
#
# One row per study x arm x population x endpoint x analysis, read from the study's publication
# (abstract, table or figure, as the *Source* column says) or, where the publication itself could
# not be reached here, from a text that quotes it, marked *secondary*. Each population is coded as
# the trial defines it (in `data/external/evidence.csv`: `len_status`, `prior_lines`,
# `analysis_set`; shown here as *Lenalidomide*, *Prior lines* and *Analysis set*), and the rows are
# grouped as the forest plots below group them, by the population type built from those codes. A
# median is shown with its 95% limits where the source gives them (the CSV's `median_limits` says
# so in words). A number that was not found is "not reported" here (empty in the CSV, whose
# `missing_reason` says why); nothing is filled in from memory or from this paper's quotation.

# %%
tables.table(ch.table("evidence"), kind="evidence", detail=True,
             title="The evidence: what the other studies published")

# %%
nv.md(f"""
The table holds {nv.count(facts["n_results"], "result")} from {nv.count(facts["n_studies"], "study", "studies")};
{nv.count(facts["n_secondary"], "row")} rely on a secondary source and
{nv.count(facts["n_not_found"], "row")} record a result that could not be found:
""")

# %%
tables.table(ch.table("not_found"), title="Results that could not be found")

# %% [markdown]
# ## Does the paper quote the other studies correctly?
#
# Every number the Introduction and Discussion quote from another publication is a claim with basis
# `literature`; its "reproduced" value is the source's number from the evidence table (a share of
# lenalidomide-refractory patients may be derived from the published counts). Where the source
# could not be found the claim is *not reproducible*, with the reason.

# %%
quotes = ch.quotes()
tables.table(ch.recorded(ch.literature_ids()), kind="claims", ours="Source", reasons="column",
             title="The paper's quotations of other publications beside their sources")

# %%
status = quotes["status"].value_counts()
differ = quotes[quotes["status"] == "differs"]
sources = {c: ch.quote_source(c) for c in differ.index}
nv.md(f"""
Of {nv.count(len(quotes), "quotation")}, {nv.count(int(status.get("match", 0)), "agrees", "agree")} with the
source, {nv.count(int(status.get("differs", 0)), "differs", "differ")} and
{nv.count(int(status.get("not_reproducible", 0)), "could not be checked", "could not be checked")}.
{nv.choose(len(differ) > 0, "Differing: " + nv.listing([
    f"{q.quantity} (paper {nv.num(q.paper, 1)}, source {nv.num(q.source, 1)}"
    + (f"; the source's population: {sources[i]['population']}, {sources[i]['location']}" if sources[i] else "")
    + ")" for i, q in differ.iterrows()]) + ". Where the populations differ, the paper may quote a subgroup or "
    "another version of the analysis than the one read; the evidence table holds what the source read says.", "")}
""")

# %% [markdown]
# ## Like with like: forest plots by population type
#
# A median is only comparable with medians of similar patients. The rows are grouped by the
# population codes, closest to this cohort first: lenalidomide-refractory *at first relapse* (this
# cohort's eligibility), lenalidomide-refractory at one or more prior lines, lenalidomide-exposed
# and partly refractory, and populations of mixed lenalidomide status. Open markers are numbers
# taken from a secondary source; grey rows are results of the closest populations that could not be
# found. A subgroup of this cohort selected on an outcome (≥VGPR) is drawn in a group of its own,
# whose title says that no trial population is comparable.

# %%
ch.figure("07_forest_pfs")

# %%
ch.figure("07_forest_os")

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
pfs, pfs_sub = ch.cohort_median("pfs"), ch.cohort_median("pfs", subgroup=True)
castor_1pl = ch.quote_source("D_vgpr_castor_1pl_pfs")
low, high = facts["lenref_range"]
nv.md(f"""
Here the median PFS was {nv.months(pfs["median"])} (95% CI {nv.num(pfs["lcl"])}–{nv.num(pfs["ucl"])}).
The published medians of lenalidomide-refractory populations at one or more prior lines (control arms included)
range from {nv.months(low)} to {nv.months(high)}.
Of {nv.count(facts["first_relapse_n"], "result")} for patients refractory to lenalidomide at their first relapse in the
evidence table, {nv.choose(facts["first_relapse_found"] > 0, nv.count(facts["first_relapse_found"], "gives", "give"), "none gives")}
a median PFS that could be found.
""" + nv.choose(pfs_sub["n"] > 0 and castor_1pl is not None, f"""
Patients here who reached ≥VGPR had a median PFS of {nv.months(pfs_sub["median"])},
{nv.compare(pfs_sub["median"], (castor_1pl or {}).get("median_months"))} than the
{nv.months((castor_1pl or {}).get("median_months"))} of CASTOR's DaraVd patients with one prior line, whatever
their lenalidomide status: a comparison biased in favour of this subgroup (caveat 6), which is why the figure
draws it apart.""", "Nobody here reached ≥VGPR, so the paper's comparison of that subgroup cannot be made."))

# %% [markdown]
# The Discussion says the median PFS was "approximately twice" that of CASTOR's
# lenalidomide-refractory patients. The ratio of our median to CASTOR's (from the evidence table):

# %%
tables.table(ch.recorded(ch.declared().claim_id), kind="claims", reasons="column",
             title="The Discussion's comparisons with CASTOR, in this run")

# %% [markdown]
# ## Matching-adjusted indirect comparison (MAIC)
#
# A cross-study comparison of medians mixes the effect of treatment with differences between the
# patients. MAIC (Signorovitch et al., Value Health 2010; NICE DSU TSD 18) reweights this cohort's
# patients so that their baseline characteristics equal what a trial arm publishes, and recomputes
# PFS on the reweighted cohort. As the R packages `maic` and `maicplus` do it: a published mean or
# proportion is matched as such, a published *median* by the share of patients below it (one half
# after weighting); weights by the method of moments (`compendium/stats/maic.py`, checked against R
# on the TSD 18 example). A covariate that no reweighting can reach (every patient here on one side
# of the target) is not matched and is reported. The target is DREAMM-7's DaraVd arm, the same regimen
# in a trial; every covariate it reports that these data hold, with its source (an empty value: the
# trial reports it, but it could not be read here):

# %%
tables.table(ch.maic_shown("maic_targets"), headers={"covariate": "Covariate", "value": "Published value",
                                                   "location": "Where in the source"},
             title=f"MAIC targets: {facts['maic_target']}")

# %% [markdown]
# **Balance before and after weighting.** For each covariate: the target, this cohort unweighted and
# weighted, and the standardised differences from the target (a share over the pooled binomial SD, a
# mean over the pooled SD), or why it was not matched.

# %%
tables.table(ch.maic_shown("maic_balance"), drop=["target_population"], keep_reason=True,
             headers={"covariate": "Covariate"}, title=f"Balance before and after weighting to {facts['maic_target']}",
             footnotes=["Target, published: the trial's number (a median age for age); target, as matched: the "
                        "share or mean the weights aim at. SMD, standardised difference from the target."])

# %%
fit, arm = ch.maic_fit, facts["maic_arm"]
nv.md(f"""
Complete baseline data for the matched covariates ({nv.listing(facts["maic_matched"])}) were available for
{nv.count(fit["n"], "patient")} of {len(ctx.analysis)}; after weighting, their effective sample size is
{nv.num(fit["ess"], 1)} ({nv.num(100 * fit["ess"] / fit["n"], 0)}% of them). The weighted median PFS is
{nv.months(fit["median"])} (bootstrap 95% CI {nv.num(fit["lcl"])}–{nv.num(fit["ucl"])}, {fit["n_boot"]} resamples{nv.choose(
fit["failed"] > 0, f", {fit['failed']} of which could not be weighted", "")}), against {nv.months(arm["median_months"])}
({nv.choose(arm["median_limits"] == "reported", f"95% CI {nv.num(arm['lcl'])}–{nv.num(arm['ucl'])}",
"95% limits " + arm["median_limits"])}) with DaraVd in DREAMM-7 ({arm["source_type"]} source).
""" if not fit["reason"] else f"No MAIC on this input: not estimable ({fit['reason']}).")

# %% [markdown]
# **The weights.** Their distribution, rescaled to sum to the number of patients, with the effective
# sample size (ESS = (Σw)² / Σw²): a few large weights mean that a handful of patients stand for the
# target population, and the weighted estimate rests on them.

# %%
ch.figure("07_maic_weights")

# %% [markdown]
# **The unanchored comparison.** With no common comparator arm, the reweighted cohort is set directly
# against the target arm's patients. DREAMM-7's figure could not be digitised here, so its arm is
# approximated from its published summary (a piecewise-exponential curve through the published median
# and any landmark rate, drawn only up to the last published point; `compendium/stats/guyot.py`), and
# pseudo-patients follow that curve. The hazard ratio is a Cox model with the MAIC weights (the
# comparator's patients weighted 1, as `maicplus` fits it), its interval a percentile bootstrap that
# resamples both sides: this cohort's patients (weights re-estimated) and the comparator's.

# %%
ch.figure("07_maic_pfs")

# %%
nv.md(nv.choose(not fit["reason"] and "hr" in fit, f"""
Hazard ratio of PFS of the reweighted cohort against DREAMM-7's DaraVd arm (approximated from its
summary): {nv.hr_ci(fit.get("hr"), fit.get("hr_lcl"), fit.get("hr_ucl"))} (bootstrap, both sides resampled).
""", "No unanchored comparison on this input: " + (fit["reason"] or facts["maic_comparator_reason"]) + ".") + f"""

**How to read it: {facts["maic_wording"]}.** {nv.choose(facts["maic_wording"] == "informative",
"Every covariate the target reports and these data hold was matched, the weights keep most of the "
"patients' information and every matched covariate is balanced after weighting.",
"The comparison shows the method, not a finding, because " + nv.listing(facts["maic_why"]) + ".")}
It is unanchored, so it adjusts only for the covariates matched and assumes that nothing else that
affects PFS differs. {nv.choose(len(facts["maic_unmatched"]) > 0, "Not matchable: " + nv.listing(
[f"{c} ({why})" for c, why in facts["maic_unmatched"].items()]) + ".", "")}
{nv.choose(len(facts["maic_not_read"]) > 0, "Reported by the trial but not read here, so not matched: "
+ nv.listing(facts["maic_not_read"]) + ".", "")}
{nv.count(facts["maic_secondary"], "of the aggregates matched comes", "of the aggregates matched come")} from a
secondary source. The weighted median answers a narrower question than the paper's comparison: what this
cohort's median would be with the target's mix of the matched covariates.
""")

# %% [markdown]
# ## Trial curves: reconstructed from figures, or approximated from summaries
#
# A median is one point of a curve. From a published Kaplan-Meier figure, digitised, and its numbers
# at risk, the trial's patient-level data can be reconstructed (Guyot et al., BMC Med Res Methodol
# 2012, as the R package IPDfromKM runs it, with the published total of events and digitised censor
# marks where they exist; `compendium/stats/guyot.py`, tested on simulated data with a known answer
# and on KEYNOTE-189). Where a figure could not be digitised here, the comparator's curve is only
# **approximated** from its published summary: a piecewise-exponential curve through the published
# median and any landmark rate, drawn up to the last published point, and labelled so. The
# comparisons the paper makes, CASTOR's lenalidomide-refractory patients and OPTIMISMM's patients
# refractory at first relapse, beside this cohort's PFS:

# %%
tables.table(ch.table("comparator_curves"), title="Comparator curves: drawn, and from what")

# %%
ch.figure("07_comparator_curves")

# %%
nv.md(f"""
{nv.count(facts["approximations_drawn"], "comparator curve is", "comparator curves are")} drawn, and each is an
approximation from a summary, not a reconstruction: it has the published median (and landmark rates where
published) right by construction and nothing else; its shape between and beyond those points is an assumption
(a constant hazard). A curve whose numbers were not found is named inside the figure, not drawn.
""" + nv.choose(len(ch.curves) > 0, f"Digitised curves found: {nv.listing(facts['curve_stems'])}.",
                "No digitised trial curve is present in `data/external/curves/` (its README says how to add one), "
                "so no trial curve is reconstructed in this run."))

# %%
for res in ch.curves:
    if res["reason"]:
        display(nv.md(f"{res['name']}: not reconstructed ({res['reason']})."))
        continue
    display(ch.figure(f"07_curve_{res['name']}"),
            nv.md(f"{res['name']} (reconstructed): hazard ratio of this cohort against the reconstructed trial "
                  f"patients {nv.hr_ci(res['hr'], res['lcl'], res['ucl'])}, {nv.p_value(res['p'])} "
                  "(unadjusted, across studies: the caveats above apply in full)."))
if ch.curves:
    display(nv.md("**Accuracy of each reconstruction** (RMSE of S(t) at the digitised points, numbers-at-risk "
                  "mismatch, reconstructed against published total events, median and hazard ratio):"),
            tables.table(ch.table("curve_accuracy"), title="Accuracy of each reconstruction"))

# %% [markdown]
# ## What this notebook recorded

# %%
tables.table(ch.recorded(), kind="claims", reasons="column", title="Claims recorded here")

# %%
ch.save()

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: DaraVd compendium
#     language: python
#     name: daravd
# ---

# %% [markdown]
# # 07 · Comparison with CASTOR, OPTIMISMM and the other trials the paper discusses
#
# **Question.** How do this cohort's PFS and OS sit beside the trials the paper compares itself
# with, and does the paper quote those trials correctly?
#
# **Paper.** *Introduction* (median PFS of the registrational trials) and *Discussion* (CASTOR in
# lenalidomide-refractory patients and at first relapse, OPTIMISMM, MM-014, "approximately twice").

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
import pandas as pd

from compendium import claims, dataset, models, paths, plots, trials
from compendium import survival as sv

pd.set_option("display.max_colwidth", 90)
P = paths.Paths.for_run(out_dir)
analysis = dataset.read_analysis(P)
registry = claims.load_registry()
rec = claims.Recorder("07_comparison", P, registry)
trial_results = trials.load_trials()
dataset.banner(P, "Its medians are calibrated to the paper's, so the comparison shows the method, not a finding.")

# %% [markdown]
# ## The trials, from their own publications
#
# Each row was checked against the trial's publication (abstracts of the reports cited in the
# paper, or their updates; for OPTIMISMM a summary of the paper, as the `source` column says); the
# DOI says which. Cross-trial comparison is not a comparison of
# treatments: trial patients were selected by protocol, had one to three prior lines (CASTOR: 47%
# with one), and were mostly *not* refractory to lenalidomide at first relapse, the population of
# this study.

# %%
trial_results

# %% [markdown]
# ## This cohort beside them
#
# Our medians with R's log-scale 95% limits (notebook 04); the trials' medians as published.

# %%
pfs = sv.km_median(analysis["pfs_months"], analysis["pfs_event"])
os_ = sv.km_median(analysis["os_months"], analysis["os_event"])
label = "This cohort (DaraVd, first relapse on lenalidomide)"
rows = trials.medians_for_plot(trial_results, pfs, "pfs", label)
plots.save_and_show(plots.median_dot_plot(rows, "Median PFS (months)"), P.figure("07_pfs_vs_trials"))

# %%
rows_os = trials.medians_for_plot(trial_results, os_, "os", label)
plots.save_and_show(plots.median_dot_plot(rows_os, "Median OS (months)"), P.figure("07_os_vs_trials"))

# %% [markdown]
# ## Does the paper quote the trials correctly?
#
# Each number the paper gives for another trial is a claim; its "reproduced" value is the number in
# that trial's publication. Where no primary source could be checked here, the claim is marked not
# reproducible, with the reason.

# %%
QUOTES = {
    "I_castor_pfs": ("CASTOR", "all patients", "pfs"),
    "D_castor_1pl_pfs": ("CASTOR", "1 prior line", "pfs"),
    "D_castor_lenref_pfs": ("CASTOR", "lenalidomide-refractory", "pfs"),
    "D_mm014_lenref_pfs": ("MM-014", "lenalidomide-refractory", "pfs"),
    "I_optimismm_pfs": ("OPTIMISMM", "all patients", "pfs"),
}
for claim_id, key in QUOTES.items():
    rec.record(claim_id, trials.lookup(trial_results, *key)["median_months"])
for claim_id in ("D_optimismm_lenref_pfs", "D_mm014_lenref_os", "D_castor_imid_ref_os"):
    rec.not_reproducible(claim_id, "the trial's own publication could not be checked where this compendium "
                                   "is built; add the result with its DOI to data/trials.csv")

# %% [markdown]
# The Discussion says the median PFS was "approximately twice" that of CASTOR's
# lenalidomide-refractory patients. The ratio of our median to CASTOR's:

# %%
castor_lenref = trials.lookup(trial_results, "CASTOR", "lenalidomide-refractory", "pfs")["median_months"]
ratio = pfs["median"] / castor_lenref
rec.record("D_pfs_ratio_castor_lenref", ratio)
print(f"median PFS {models.format_median(pfs['median'], pfs['lcl'], pfs['ucl'])} months; "
      f"CASTOR lenalidomide-refractory {castor_lenref:g} months; ratio {ratio:.2f}")

# %% [markdown]
# CASTOR's lenalidomide-refractory patients were refractory at any line, most after more than one
# prior line, while this cohort relapsed on first-line lenalidomide; the paper's other comparator,
# CASTOR at first relapse (27 months), was mostly lenalidomide-naive. Neither is the same
# population, which is the paper's own point: the population is not represented in the trials.
#
# **Not done here: reconstructing the trials' patient-level data from their published curves**
# (Guyot et al. 2012). That needs the digitised Kaplan-Meier coordinates and numbers at risk of
# each figure, which are not available where this compendium is built.

# %%
rec.table()

# %%
rec.save()

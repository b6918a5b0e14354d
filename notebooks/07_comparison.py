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
#
# > The committed outputs were computed on the **synthetic cohort** (notebook 00): our medians are
# > calibrated to the paper's, so the comparison shows the method, not a finding. The trial numbers
# > come from the trials' own publications (`data/trials.csv`, with DOIs), not from this paper.

# %% tags=["parameters"]
data_path = None  # read by notebook 01 only
out_dir = None    # None: the repository; otherwise every output goes below this directory

# %%
import pandas as pd

from compendium import claims, dataset, models, paths, plots, trials
from compendium import survival as sv

pd.set_option("display.max_colwidth", 90)
P = paths.Paths.for_run(out_dir)
dataset.banner(P)
analysis = dataset.read_analysis(P)
registry = claims.load_registry()
rec = claims.Recorder("07_comparison", P, registry)
evidence = trials.load_evidence()

# %% [markdown]
# ## Does the paper quote the trials correctly?
#
# Each number the paper gives for another trial is a claim; its "reproduced" value is the number in
# that trial's publication. Where no primary source could be checked here, the claim is marked not
# reproducible, with the reason.

# %%
literature = registry.loc[registry["basis"] == "literature", "claim_id"]
for claim_id in literature:
    value, reason = trials.quoted_value(evidence, claim_id)
    if reason:
        rec.not_reproducible(claim_id, reason)
    else:
        rec.record(claim_id, value)

# %% [markdown]
# The Discussion says the median PFS was "approximately twice" that of CASTOR's
# lenalidomide-refractory patients. The ratio of our median to CASTOR's:

# %%
pfs = sv.km_median(analysis["pfs_months"], analysis["pfs_event"])
castor_lenref = trials.select(evidence, "CASTOR", "pfs", "lenref_any_line", "experimental")["median_months"]
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

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
# **Paper.** *Materials and methods* (eligibility, endpoint definitions) and the cohort of 85
# patients from 10 centres. This notebook is the only writer of `data/derived/`.
#
# > The committed outputs below were computed on the **synthetic cohort** (notebook 00), not on
# > patient data. Put the real export into `data/raw/` (or pass `--data`) to run on it.

# %% tags=["parameters"]
data_path = None  # None: the file in data/raw/ if there is one, else the synthetic cohort
out_dir = None    # None: the repository; otherwise every output goes below this directory

# %%
from pathlib import Path

import pandas as pd

from compendium import claims, dataset, endpoints, loading, paths

P = paths.Paths.for_run(out_dir)
source = Path(data_path) if data_path else paths.default_input()
source = source if source.is_absolute() else paths.ROOT / source
rec = claims.Recorder("01_cleaning", P)

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
raw = loading.load_raw(source)
if dataset.is_synthetic(raw.source, raw.sha256):
    print("SYNTHETIC COHORT - not patient data (made by compendium.synthetic, see notebook 00)")
print(f"{paths.relative(raw.source)}: {len(raw.frame)} rows, {raw.frame.shape[1]} dictionary columns, sha256 {raw.sha256[:16]}…")

# %% [markdown]
# The data dictionary, grouped by the part of the paper each variable serves:

# %%
dictionary = loading.load_dictionary()
dictionary.groupby("paper_section", sort=False)["name"].agg(lambda s: ", ".join(s)).to_frame("variables")

# %% [markdown]
# ## Cohort flow
#
# Eligible patients started DaraVd between June 2018 and December 2022 and received at least two
# cycles; lenalidomide refractoriness at first relapse is enforced by the validation above.

# %%
flow, eligible = endpoints.cohort_flow(raw.frame)
flow

# %%
analysed = raw.frame[eligible].reset_index(drop=True)
rec.record("M_patients_n", len(analysed))
rec.record("A_centres_n", analysed["center"].nunique())
rec.record("M_accrual_first_year", analysed["daravd_start_date"].min().year)
rec.record("M_accrual_last_year", analysed["daravd_start_date"].max().year)

# %% [markdown]
# ## Endpoints
#
# All times start at the first DaraVd dose ("calculated from the start of the induction treatment
# date") and are in months of 30.4375 days (365.25 / 12).
#
# | endpoint | event | censored at |
# |---|---|---|
# | PFS | first progression or death | last follow-up |
# | OS | death | last follow-up |
# | TTNT | start of the next line (the paper counts only that) | death or last follow-up |
# | PFS2 | progression on the next line, or death | last follow-up |
#
# The paper defines PFS2 from the start of DaraVd, yet reports a median PFS2 of 5 months "evaluated
# in 45 patients", shorter than its median PFS of 14 months. Measured from the start of DaraVd,
# PFS2 can never be shorter than PFS for the same patient (below we check that on every row), so
# the published 5 months can only be the PFS of the *next* line, from its start, in the patients
# who started one. We keep the paper's written definition for `pfs2_months` and add
# `next_line_pfs_months` for that reading; notebook 04 estimates both.

# %%
analysis = endpoints.derive(analysed)
print("PFS2 >= PFS on every row:", bool((analysis["pfs2_months"] >= analysis["pfs_months"] - 1e-9).all()))
rec.record("R_pfs2_evaluable_n", int(analysis["next_line"].sum()))

# %%
events = pd.DataFrame({
    "events": [int(analysis[f"{e}_event"].sum()) for e in ("pfs", "os", "ttnt", "pfs2")],
    "censored": [int((analysis[f"{e}_event"] == 0).sum()) for e in ("pfs", "os", "ttnt", "pfs2")],
}, index=["PFS", "OS", "TTNT", "PFS2"])
events

# %% [markdown]
# Flags follow the GUIDE: `1` means presence (for example `emd_relapse = 1`: extramedullary disease
# present) and an empty cell means not evaluable. The paper's tables speak of *absence* ("absence of
# EMD"); the notebooks that reproduce them turn the orientation round for display only.

# %%
analysis[["patient_id", "age_years", "best_response", "vgpr_or_better", "emd_relapse", "dex_dose_group",
          "pfs_months", "pfs_event", "os_months", "os_event"]].head()

# %% [markdown]
# ## Write the analysis dataset
#
# `analysis.csv` (one row per patient) and `analysis.meta.json` (input file and its sha256,
# synthetic or not, generator seeds, package versions), both written atomically.

# %%
meta = dataset.build_meta(raw, flow)
dataset.write_analysis(analysis, meta, P)
dataset.banner(P)
print(f"analysis dataset: {analysis.shape[0]} patients x {analysis.shape[1]} columns")

# %%
rec.table()

# %%
rec.save()

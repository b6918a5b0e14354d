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
from pathlib import Path

import pandas as pd

from compendium.report import claims
from compendium.data import dataset, endpoints, loading
from compendium import paths
from compendium.data import mapping as mappings
from compendium.report import narrative as nv

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
mapping = mappings.load(mapping_path)
raw = loading.load_raw(source, mapping)
nv.md(f"""
`{paths.relative(raw.source)}`: {nv.count(len(raw.frame), "row")}, {raw.frame.shape[1]} dictionary columns,
sha256 `{raw.sha256[:16]}…`{nv.choose(mapping is not None, f", renamed and recoded in memory by `{paths.relative(mapping.path) if mapping else ''}`", "")}.
{nv.choose(dataset.is_synthetic(raw.source, raw.sha256),
           "**This is the synthetic cohort: not patient data** (made by `compendium.synthetic`, see notebook 00).", "")}
""")

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
nv.md(f"""
{nv.count(len(analysed), "patient")} from {nv.count(analysed["center"].nunique(), "centre")} enter the analysis
({nv.choose(len(analysed) == len(raw.frame), "every row of the file",
            f"{len(raw.frame) - len(analysed)} of the file's {len(raw.frame)} rows are excluded, as the flow above says")}),
having started DaraVd between {analysed["daravd_start_date"].min():%B %Y} and {analysed["daravd_start_date"].max():%B %Y}.
""")

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

# %%
paper = nv.quoter(rec.registry)
nv.md(f"""
The paper defines PFS2 from the start of DaraVd, yet reports a median PFS2 of {paper("R_pfs2_median")} months
"evaluated in {paper("R_pfs2_evaluable_n")} patients", shorter than its median PFS of {paper("R_pfs_median")} months.
Measured from the start of DaraVd, PFS2 can never be shorter than PFS for the same patient (below we check that
on every row), so the published {paper("R_pfs2_median")} months can only be the PFS of the *next* line, from its
start, in the patients who started one. We keep the paper's written definition for `pfs2_months` and add
`next_line_pfs_months` for that reading; notebook 04 estimates both.
""")

# %%
analysis = endpoints.derive(analysed)
rec.record("R_pfs2_evaluable_n", int(analysis["next_line"].sum()))
nv.md(f"PFS2 ≥ PFS holds on {nv.choose(bool((analysis['pfs2_months'] >= analysis['pfs_months'] - 1e-9).all()), 'every row', 'NOT every row: check the dates')}; "
      f"{nv.share(analysis['next_line'].sum(), len(analysis))} patients started a next line of therapy.")

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
# `analysis.csv` (one row per patient) and `analysis.meta.json` (input file and its sha256, how
# it was made, package versions), both written atomically.

# %%
meta = dataset.build_meta(raw, flow, mapping)
dataset.write_analysis(analysis, meta, P)
print(f"analysis dataset: {analysis.shape[0]} patients x {analysis.shape[1]} columns")
dataset.banner(P)

# %%
rec.table()

# %%
rec.save()

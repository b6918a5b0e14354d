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
# # 03 · Response and treatment exposure
#
# **Question.** How well did patients respond to DaraVd, did the lenalidomide history or prior
# proteasome inhibitors change the chance of a deep response, and how was DaraVd actually given
# (cycles, duration, why it stopped, doses skipped or reduced)?
#
# **Paper.** *Results – Response and survival outcomes* (first paragraph), the treatment
# details at the end of *Patients' characteristics* and the first paragraph of *Toxicity*
# (dose modifications), and the *Abstract*.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
import pandas as pd

from compendium.report import audit, claims, narrative, plots
from compendium.data import dataset
from compendium.chapters import descriptives, response
from compendium import paths
from compendium.report import narrative as nv

P = paths.Paths.for_run(out_dir)
analysis = dataset.read_analysis(P)
rec = claims.Recorder("03_response", P)
paper = nv.quoter(rec.registry)
synthetic = dataset.read_meta(P)["synthetic"]
pd.set_option("display.max_rows", 200, "display.width", 160)
dataset.banner(P, "The response categories, stop reasons and dose modifications are constructed on the paper's counts, the times are calibrated, and the association p-values are emergent.")

# %% [markdown]
# ## Best response
#
# Best response is the physician-reported IMWG category. Rates come with **exact
# (Clopper–Pearson) 95% confidence intervals**, the interval R's `binom.test` gives (the test
# suite checks ours against `binom.test` values). The overall response rate (ORR) is the share
# reaching at least a partial response. We report the rates over all treated patients (as the
# Results do) and over the response-evaluable ones (best response other than NE).

# %%
distribution = response.response_distribution(analysis)
paths.write_csv(distribution, P.result("response.csv"))
response.distribution_display(distribution, "all")

# %%
rates = {"orr": ("R_orr_pct", "A_orr_pct"), "vgpr_or_better": ("R_vgpr_pct", "A_vgpr_pct"),
         "cr_or_better": ("R_cr_pct", None)}
for endpoint, (text_id, abstract_id) in rates.items():
    rec.record(text_id, 100 * response.rate(distribution, endpoint, "all")["proportion"])
    if abstract_id:
        rec.record(abstract_id, 100 * response.rate(distribution, endpoint, "evaluable")["proportion"])
rec.table()

# %%
n_ne = int((analysis["best_response"] == "NE").sum())
nv.md(f"""
The Results give ORR {paper("R_orr_pct")}% and ≥VGPR {paper("R_vgpr_pct")}%; the Abstract says {paper("A_orr_pct")}% and
{paper("A_vgpr_pct")}%. With the text's counts the Abstract's figures correspond to a smaller denominator, as the
computation below shows: perhaps one patient not evaluable for response. We record the Abstract's figures over
the response-evaluable patients (best response not NE). This input has
{nv.count(n_ne, "patient")} not evaluable for response{nv.choose(n_ne == 0, ", so both denominators are the same and the Abstract's figures can only match if the paper's counts differ from ours", "")}.
""")

# %%
counts = {e: int(response.rate(distribution, e)["n"]) for e in ("orr", "vgpr_or_better")}
pd.DataFrame([
    {"claim": cid, "printed %": rec.registry.set_index("claim_id").at[cid, "published"], "our count": counts[e],
     "denominators that fit": descriptives.implied_denominators(
         counts[e], rec.registry.set_index("claim_id").at[cid, "published"], 0.5, 60, 120)}
    for e, cid in (("orr", "A_orr_pct"), ("vgpr_or_better", "A_vgpr_pct"))
])

# %%
nv.md(f"""
## Was reaching ≥ VGPR influenced by the lenalidomide history or prior proteasome inhibitors?

The paper gives five p-values ({", ".join(paper(c) for c in ("R_vgpr_p_len_exposure", "R_vgpr_p_len_dose_start", "R_vgpr_p_len_dose_pd", "R_vgpr_p_bortezomib", "R_vgpr_p_carfilzomib"))}) without naming a test. Our choice,
among the patients whose response and factor are both known:

- **Lenalidomide exposure time**: the two-sided **Wilcoxon rank-sum** (Mann–Whitney) test, as
  R's `wilcox.test(exact = FALSE, correct = TRUE)`: the paper compares "median time", the
  distribution is skewed (here {nv.num(analysis["len_exposure_months"].min())} to {nv.num(analysis["len_exposure_months"].max())} months), and ties rule out the exact test.
- **Starting dose and dose at progression**: the same rank-sum test, taking the dose as an
  **ordered** value (2.5 < 5 < 10 < 15 < 20 < 25 mg). Doses take only a handful of values, so
  a t-test is out; a rank test asks the clinically relevant question (do those reaching
  ≥ VGPR have had higher or lower doses?) and does not spend power on sparse dose-by-response
  cells. As a sensitivity analysis we also give **Fisher's exact test over every dose level**
  (an r × 2 table, computed exactly, as R's `fisher.test`, by an algorithm whose work grows
  with the table's counts rather than with the number of possible tables; on a registry-sized
  cohort with many dose levels, past `response.FISHER_EXACT_LIMIT` partial tables, it falls back
  to R's own remedy, a Monte Carlo p-value with a fixed seed, and the `test` column says so).
- **Prior bortezomib, prior carfilzomib**: **Fisher's exact test** (two-sided) on the 2 × 2
  table, as R's `fisher.test`, since some cells can be small.
""")

# %%
associations = response.vgpr_associations(analysis)
paths.write_csv(associations, P.result("response_associations.csv"))
claim_of = {"len_exposure": "R_vgpr_p_len_exposure", "len_dose_start": "R_vgpr_p_len_dose_start",
            "len_dose_pd": "R_vgpr_p_len_dose_pd", "bortezomib_exposed": "R_vgpr_p_bortezomib",
            "carfilzomib_exposed": "R_vgpr_p_carfilzomib"}
published = rec.registry.set_index("claim_id")["published"]
associations.assign(paper_p=[published[claim_of[f]] if role == "primary" else None
                             for f, role in zip(associations["factor"], associations["role"])])

# %%
for row in associations[associations["role"] == "primary"].itertuples():
    rec.record(claim_of[row.factor], row.p)
rec.table(list(claim_of.values()))

# %%
primary = associations[associations["role"] == "primary"]
significant = primary[primary["p"] < nv.ALPHA]
nv.md(f"""
Here {nv.count(analysis["carfilzomib_exposed"].eq(1).sum(), "patient")} had been exposed to carfilzomib and
{analysis["bortezomib_exposed"].eq(1).sum()} to bortezomib. Of the {len(primary)} associations,
{nv.choose(len(significant) == 0, "none is significant at the 5% level: no association is detectable",
           nv.listing(f"{r.factor} ({nv.p_value(r.p)})" for r in significant.itertuples())
           + f" {nv.verb(len(significant), 'is', 'are')} significant at the 5% level")}
(the paper's {len(claim_of)} p-values are {nv.choose(all(published[c] >= nv.ALPHA for c in claim_of.values()), "all above 0.05", "not all above 0.05")}). {nv.choose(synthetic,
"On the synthetic cohort these p-values are **emergent**: the generator fixes how many patients reach ≥VGPR and the "
"lenalidomide and exposure marginals, but it does not aim at any association between them, so they are not a test of "
"the paper's numbers, which need the real data.", "")}
""")

# %% [markdown]
# ## Time to best response, cycles and duration of treatment
#
# Medians with R's type-7 quartiles. Time to best response is taken over patients with a
# documented best response; treatment duration runs from the first to the last DaraVd dose, or
# to the last follow-up for those still on treatment. These are plain medians of the observed
# times, **the paper's method**, kept here because the paper reports them so; they count patients
# still on treatment as if they had stopped at the cut-off. Notebook 04 gives the Kaplan-Meier
# estimates (time to treatment discontinuation, duration of response), which censor them instead.

# %%
exposure = pd.DataFrame.from_dict({
    "time to best response (months)": response.median_iqr(analysis["response_months"]),
    "cycles received": response.median_iqr(analysis["cycles_received"]),
    "treatment duration (months)": response.median_iqr(analysis["treatment_months"]),
}, orient="index")
exposure

# %%
rec.record("R_time_to_best_response_median", exposure.loc["time to best response (months)", "median"])
for stat in ("median", "q1", "q3"):
    rec.record(f"R_cycles_{stat}", exposure.loc["cycles received", stat])
    rec.record(f"R_duration_{stat}", exposure.loc["treatment duration (months)", stat])
rec.table([i for i in rec.values if i.startswith(("R_time", "R_cycles", "R_duration"))])

# %%
nv.md(f"""
{nv.choose(synthetic, "On the synthetic cohort the time to best response is **calibrated** (the generator aims at its median). "
"Cycles and treatment duration are **emergent**: they follow from the simulated progression times and the approved schedule. ", "")}
Here the median time to best response is {nv.months(exposure.loc["time to best response (months)", "median"])}, the median
number of cycles {nv.num(exposure.loc["cycles received", "median"], 0)} and the median treatment duration
{nv.months(exposure.loc["treatment duration (months)", "median"])}. Under the approved schedule (eight 21-day cycles,
then 28-day cycles) the paper's own medians do not fit together: {paper("R_cycles_median")} cycles last about
{audit.schedule_months(rec.registry.set_index("claim_id").at["R_cycles_median", "published"]):.1f} months, not the
{paper("R_duration_median")} months printed for the median duration.
""")

# %%
nv.md(f"""
## Why DaraVd stopped

Stop reasons as the Results list them; the remaining patients were still on DaraVd at the analysis. Note that the
*Toxicity* section says "No patient discontinued treatment for toxicities", while the list in the Results (and the
Abstract) has {paper("R_disc_toxicity_n")}; notebook 06 records both.
""")

# %%
reasons = response.discontinuation_reasons(analysis)
reasons

# %%
r_ = reasons.set_index("level")["n"]
for claim_id, level in {"R_disc_pd_n": "PD", "R_disc_toxicity_n": "toxicity", "R_disc_death_n": "death",
                        "R_disc_asct_n": "ASCT", "R_disc_unknown_n": "unknown",
                        "R_on_treatment_n": "still on DaraVd"}.items():
    rec.record(claim_id, r_[level])
rec.table([i for i in rec.values if i.startswith(("R_disc", "R_on"))])

# %% [markdown]
# ## How DaraVd was started
#
# Daratumumab route at the start (the subcutaneous form was not yet approved for most),
# bortezomib starting dose (reduced for pre-existing neuropathy), and the starting
# dexamethasone dose: "full" is the approved 20 mg on days 1-2-4-5-8-9-11-12 of each 21-day cycle;
# the other groups are the weekly doses physicians chose instead.

# %%
start = pd.concat({
    "daratumumab route": response.count_table(analysis["dara_route_start"], ["IV", "SC"]),
    "bortezomib start (mg/m²)": response.count_table(analysis["bortezomib_start_dose_mg_m2"], [1.3, 1.0, 0.7]),
    "dexamethasone start": response.count_table(analysis["dex_dose_group"], response.DEX_GROUPS),
})
paths.write_csv(start.reset_index(level=0, names=["item"]), P.result("treatment_start.csv"))
start

# %%
rec.record("R_dara_iv_n", start.loc[("daratumumab route", 0), "n"])
rec.record("R_dara_sc_n", start.loc[("daratumumab route", 1), "n"])
rec.record("R_btz_reduced_start_n", start.loc["bortezomib start (mg/m²)"].iloc[1:]["n"].sum())
rec.record("R_dex_full_n", start.loc[("dexamethasone start", 0), "n"])
salvage = response.salvage_asct(analysis)
rec.record("R_salvage_asct_n", salvage["n"])
rec.record("R_salvage_asct_after5_n", salvage["after_cycles"].get(5, 0))
rec.record("R_salvage_asct_after14_n", salvage["after_cycles"].get(14, 0))
rec.record("R_salvage_asct_continued_n", salvage["continued_n"])
salvage

# %% [markdown]
# "Continued after transplantation" is read as: a salvage-ASCT patient whose recorded reason
# for stopping DaraVd is not the ASCT itself.

# %%
rec.table([i for i in rec.values if i.startswith(("R_dara_iv", "R_dara_sc", "R_btz_reduced_start",
                                                    "R_dex", "R_salvage"))])

# %% [markdown]
# ## Dose modifications during DaraVd
#
# Daratumumab doses skipped, in the text's groups (a "> 5" group is kept so that nobody
# disappears from the table), bortezomib dose reductions for thrombocytopenia or neuropathy
# (with the share that happened within the first three cycles) and switches to once-weekly
# bortezomib.

# %%
skipped = response.dara_skipped_groups(analysis)
modifications = response.bortezomib_modifications(analysis)
skipped_summary = response.skipped_summary(analysis)
paths.write_csv(skipped, P.result("dara_doses_skipped.csv"))
skipped

# %%
pd.Series({**modifications, **{f"skipped_any_{k}": v for k, v in skipped_summary.items()}})

# %%
s_ = skipped.set_index("level")
for claim_stem, level in {"R_dara_all_doses": "0", "R_dara_skip1": "1", "R_dara_skip2": "2",
                          "R_dara_skip3_5": "3-5"}.items():
    rec.record(f"{claim_stem}_n", s_.loc[level, "n"])
    rec.record(f"{claim_stem}_pct", s_.loc[level, "pct"])
rec.record("R_btz_reduced_n", modifications["reduced_n"])
rec.record("R_btz_reduced_pct", modifications["reduced_pct"])
rec.record("R_btz_reduced_first3_pct", modifications["reduced_early_pct_of_reduced"])
rec.record("R_btz_weekly_n", modifications["weekly_switch_n"])
rec.record("R_btz_weekly_pct", modifications["weekly_switch_pct"])
rec.record("A_btz_reduced_n", modifications["reduced_n"])
rec.record("A_btz_reduced_pct", modifications["reduced_pct"])
rec.record("A_dara_delayed_n", skipped_summary["n"])
rec.record("A_dara_delayed_pct", skipped_summary["pct"])
rec.record("A_dara_delayed_median", skipped_summary["median_skipped"])
rec.table([i for i in rec.values if i.startswith(("R_dara_all", "R_dara_skip", "R_btz_reduced_n",
                                                    "R_btz_reduced_pct", "R_btz_reduced_first3", "R_btz_weekly",
                                                    "A_btz", "A_dara"))])

# %%
nv.md(f"""
The Abstract's "{paper("A_btz_reduced_n")} ({paper("A_btz_reduced_pct")}%)" bortezomib reductions and
"{paper("A_dara_delayed_n")} ({paper("A_dara_delayed_pct")}%)" delayed daratumumab do not use the paper's
{paper("M_patients_n")} treated patients. The printed counts and percentages, taken from the registry, fit these
denominators:
""")

# %%
descriptives.implied_denominator_table(
    rec.registry, [("A_btz_reduced_pct", "A_btz_reduced_n"), ("A_dara_delayed_pct", "A_dara_delayed_n"),
                   ("R_btz_reduced_pct", "R_btz_reduced_n")])

# %%
implied = descriptives.implied_denominator_table(
    rec.registry, [("A_btz_reduced_pct", "A_btz_reduced_n"), ("A_dara_delayed_pct", "A_dara_delayed_n")]).set_index("claim_id")
nv.md(f"""
{paper("A_btz_reduced_n")} of {implied.at["A_btz_reduced_pct", "denominators_that_fit"]} is {paper("A_btz_reduced_pct")}%:
the Abstract's toxicity figures appear to use **{implied.at["A_btz_reduced_pct", "denominators_that_fit"]}** patients
(notebook 06 finds the same denominator for the grade ≥ 2 adverse events and the neuropathy rate), perhaps those with
complete toxicity records. {paper("A_dara_delayed_n")} of {nv.listing(implied.at["A_dara_delayed_pct", "denominators_that_fit"].split(", "), "or")}
is {paper("A_dara_delayed_pct")}%, which matches no other denominator in the paper. We cannot tell which patients were
meant, so these claims keep our denominator, all {len(analysis)} treated patients, and are compared as such.
""")

# %% [markdown]
# ## Swimmer plot: time on DaraVd, best response and why treatment ended
#
# One bar per patient, longest at the top; colour is the best response, the marker at the end of
# each bar says why DaraVd stopped (an arrow: still on treatment at the analysis).

# %% [markdown]
# A bar per patient stops being readable beyond a few hundred patients, so on a larger cohort
# the plot shows a reproducible random sample (a fixed seed) and says so on its axis.

# %%
swimmer_shown = len(response.swimmer_sample(analysis))
narrative.md(narrative.choose(
    swimmer_shown < len(analysis),
    f"The cohort has {len(analysis):,} patients, too many for a bar each: the plot shows a random sample of "
    f"{swimmer_shown} of them.",
    f"The plot shows all {narrative.count(len(analysis), 'patient')}."))

# %%
fig = response.swimmer_plot(analysis)
figure_files = plots.save_figure(fig, P.figure("03_swimmer"))

# %% [markdown]
# ## What this notebook recorded

# %%
summary = rec.table()
summary.groupby(["location", "status"]).size().unstack(fill_value=0)

# %%
summary[summary["status"] != "match"]

# %%
rec.save()

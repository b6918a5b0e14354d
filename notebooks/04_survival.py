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
# # 04 · Survival: Figures 1-2, Tables 2-3
#
# **Question.** How long did patients live without progression, and overall, after starting
# second-line DaraVd, and which characteristics go with longer or shorter survival?
#
# **Paper.** *Response and survival outcomes*: median follow-up, PFS, OS, TTNT and PFS2; PFS and OS by
# response ≥VGPR (Figures 1 and 2); univariate Cox models for PFS (Table 2) and OS (Table 3) and the
# factors the text and the Abstract mention.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
import pandas as pd

from compendium import claims, dataset, models, paths, plots
from compendium import narrative as nv
from compendium import spec as specs
from compendium import survival as sv

pd.set_option("display.max_rows", 200)
P = paths.Paths.for_run(out_dir)
analysis = dataset.read_analysis(P)
registry = claims.load_registry()
rec = claims.Recorder("04_survival", P, registry)
spec = specs.load(spec_path)
paper = nv.quoter(registry)
dataset.banner(P)

# %% [markdown]
# ## Kaplan-Meier medians, computed the R way
#
# The authors used R 4.4.1, so their medians and confidence limits are those of
# `survfit(Surv(time, status) ~ 1)`: Greenwood variance, a pointwise band on the **log** scale
# (`conf.type = "log"`, R's default), and the median's limits where that band crosses 0.5
# (`quantile.survfit`, with R's midpoint rule when the curve sits exactly on 0.5).
# lifelines, by default, uses a log-log band and no midpoint rule, so its limits differ;
# `compendium.survival` implements R's rules and `tests/test_r_parity.py` checks them against R.
# The log-log limits are shown beside them because many clinical reports use them.
# Median follow-up is by the reverse Kaplan-Meier method (censoring as the event), which is
# what "median follow-up" means in most myeloma papers; the paper does not say which it used.

# %%
km = models.km_results(analysis, spec)
paths.write_csv(km, P.result("survival_km.csv"))
models.km_display(km)

# %%
med = lambda endpoint, group="all": models.median_of(km, endpoint, group)["median"]  # noqa: E731
for claim, endpoint in [("R_pfs_median", "pfs"), ("A_pfs_median", "pfs"), ("R_os_median", "os"),
                        ("R_ttnt_median", "ttnt"), ("R_followup_median", "followup"),
                        ("A_followup_median", "followup"), ("R_pfs2_median", "pfs2")]:
    rec.record(claim, med(endpoint))
rec.record("R_pfs_median_vgpr", med("pfs", "vgpr_or_better=1"))
rec.record("R_pfs_median_lt_vgpr", med("pfs", "vgpr_or_better=0"))
rec.record("R_os_median_vgpr", med("os", "vgpr_or_better=1"))
rec.record("R_os_median_lt_vgpr", med("os", "vgpr_or_better=0"))
rec.table()

# %%
nv.md(f"""
The Abstract and the Results disagree with each other on two of these: median PFS {paper("A_pfs_median")}
(Abstract) against {paper("R_pfs_median")} months (Results, Discussion), and median follow-up
{paper("A_followup_median")} against {paper("R_followup_median")} months. Both versions are registered; one number
cannot match both. Here the median PFS is {nv.months(med("pfs"))} and the median follow-up
{nv.months(med("followup"))}.
""")

# %%
nv.md(f"""
## PFS2: two readings of one number

The Methods define PFS2 from the start of DaraVd to the second progression or death. Measured so,
PFS2 is never shorter than PFS for the same patient, so its median cannot fall below the median
PFS ({paper("R_pfs_median")} months in the paper) — yet the Results report a median PFS2 of
{paper("R_pfs2_median")} months "evaluated in {paper("R_pfs2_evaluable_n")} patients". The number fits the PFS
of the *next* line, timed from its start, in the patients who started one. We estimate both
({nv.count(analysis["next_line"].sum(), "patient")} here started a next line); the claim is compared with
the Methods' definition.
""")

# %%
next_line = analysis[analysis["next_line"] == 1]
readings = pd.DataFrame([
    {"reading": "Methods: from DaraVd start (all patients)", **sv.km_median(analysis["pfs2_months"], analysis["pfs2_event"])},
    {"reading": "next line: from its start (patients with a next line)",
     **sv.km_median(next_line["next_line_pfs_months"], next_line["next_line_pfs_event"])},
])
paths.write_csv(readings, P.result("pfs2_readings.csv"))
readings

# %% [markdown]
# ## Figure 1: PFS and OS of the whole population
#
# Survminer-style: censored patients as ticks, the median marked, the number at risk beneath.

# %%
fig1a = plots.km_plot(analysis, "pfs", title="a  Progression-free survival", ylabel="PFS probability")
plots.save_and_show(fig1a, P.figure("fig1a_pfs"))

# %%
fig1b = plots.km_plot(analysis, "os", title="b  Overall survival", ylabel="OS probability")
plots.save_and_show(fig1b, P.figure("fig1b_os"))

# %%
ttbr = analysis.loc[analysis["response_months"].notna(), "response_months"]
nv.md(f"""
## Figure 2: PFS and OS by best response ≥VGPR versus <VGPR

The log-rank p is printed on the plot. Best response is only known once it has been reached
(here a median of {nv.months(ttbr.median())} after the start, among the {len(ttbr)} patients with a
documented best response), so this comparison favours responders; notebook 05 quantifies that
guarantee-time bias with landmark and time-dependent analyses.
""")

# %%
vgpr_labels = {1: "≥VGPR", 0: "<VGPR"}
fig = plots.km_plot(analysis, "pfs", group="vgpr_or_better", labels=vgpr_labels,
                    title="a  PFS by best response", ylabel="PFS probability")
plots.save_and_show(fig, P.figure("fig2a_pfs_by_vgpr"))

# %%
fig = plots.km_plot(analysis, "os", group="vgpr_or_better", labels=vgpr_labels,
                    title="b  OS by best response", ylabel="OS probability")
plots.save_and_show(fig, P.figure("fig2b_os_by_vgpr"))

# %%
by_vgpr = {e: (med(e, "vgpr_or_better=1"), med(e, "vgpr_or_better=0"), sv.logrank_test(analysis, e, "vgpr_or_better")["p"])
           for e in ("pfs", "os")}
nv.md(" ".join(
    f"{name}: patients reaching ≥VGPR had a {nv.compare(hi, lo)} median than the others ({nv.months(hi)} against "
    f"{nv.months(lo)}; log-rank {nv.p_value(p)}, {nv.choose(nv.significant(p), 'a significant', 'not a significant')} "
    f"difference at the 5% level)." for name, (hi, lo, p) in zip(("PFS", "OS"), by_vgpr.values())))

# %%
uni = models.univariate_results(analysis, spec=spec)
paths.write_csv(uni, P.result("cox_univariate.csv"))
fewest = uni.loc[uni["n"].idxmin()]
nv.md(f"""
## Univariate Cox models: Tables 2 and 3

One Cox model per factor of the specification (`{spec.path.name}`), Efron's method for tied times
(R `coxph`'s default), Wald 95% limits and Wald p (as `summary(coxph)` prints them), complete cases
for each factor, so n and events change from row to row (the fewest: {spec.labels.get(fewest.covariate,
fewest.covariate)}, known for {nv.count(fewest.n, "patient")}). Factors with a stated reference level are compared
with it ({nv.listing(f"{spec.labels[c]}: {r}" for c, r in spec.references.items())}).
`results/cox_univariate.csv` keeps the data's coding (presence of a feature); the tables below turn
rows round to the paper's wording ("absence of EMD"), which inverts the hazard ratio and swaps its
limits. A factor with no events in one of its levels has no finite estimate (monotone likelihood);
such rows say so instead of printing a hazard ratio.
""")

# %%
univariate_tables = [t for t in spec.tables if t.source == "univariate"]
for table in univariate_tables:
    display(nv.md(f"**{table.title}**"), models.paper_table(uni, list(table.rows), registry))

# %%
models.record_rows(rec, uni, spec.rows("univariate"))
for endpoint in ("pfs", "os"):
    for covariate, key in [("len_exposure_months", "len_exposure"), ("len_dose_start_mg", "len_dose_start"),
                           ("len_dose_pd_mg", "len_dose_pd")]:
        row = uni[(uni.endpoint == endpoint) & (uni.covariate == covariate)]
        if len(row) == 1:
            rec.record(f"R_{endpoint}_{key}_p", row.iloc[0].p)

# %%
lenalidomide = uni[uni.covariate.str.startswith("len_") & uni.endpoint.isin(["pfs", "os"])]
len_sig = lenalidomide[lenalidomide.p < nv.ALPHA]
nv.md(f"""
The text also reports no association of PFS or OS with lenalidomide exposure time, starting dose
and dose at progression; the paper does not say how these entered the model. We use them as
continuous covariates (hazard ratio per month, per mg). Here
{nv.choose(len(len_sig) == 0, "none of them is associated with PFS or OS at the 5% level",
           "the association is significant at the 5% level for " + nv.listing(
               f"{r.endpoint.upper()} and {r.covariate} ({nv.p_value(r.p)})" for r in len_sig.itertuples()))}.
""")

# %%
lenalidomide.assign(p_formatted=lenalidomide.p.map(models.format_p))[
    ["endpoint", "covariate", "level", "hr", "lcl", "ucl", "p_formatted", "n", "events"]].round(3)

# %% [markdown]
# Every factor and endpoint of the specification, as the CSV codes them (PFS2 included: the paper
# found nothing there); hazard ratios that are not estimable say so:

# %%
uni.assign(hr_95ci=[models.format_hr(r.hr, r.lcl, r.ucl) for r in uni.itertuples()],
           p=[models.format_p(r.p) if nv.estimable(r.hr, r.lcl, r.ucl) else "" for r in uni.itertuples()]
           )[["endpoint", "covariate", "level", "reference", "hr_95ci", "p", "n", "events"]]

# %%
nv.md(f"""
## The Abstract's p-values

The Abstract gives p-values for PFS that differ from Table 2 where both report a factor
(plasma cells <60%: {paper("A_pfs_pc_lt60_p")} against {paper("T2_pc_lt60_p")}; EMD: {paper("A_pfs_no_emd_p")} against
{paper("T2_no_emd_p")}) and adds amp1q and ≥CR. It does not name the test; the log-rank test is the usual
companion of a Kaplan-Meier comparison, so we compute it and record it for these claims, with the
Wald p beside it.
""")

# %%
abstract = []
for claim, covariate in [("A_pfs_amp1q_p", "amp1q"), ("A_pfs_pc_lt60_p", "pc_ge60_relapse"),
                         ("A_pfs_no_emd_p", "emd_relapse"), ("A_pfs_cr_p", "cr_or_better"),
                         ("A_pfs_vgpr_p", "vgpr_or_better")]:
    logrank = sv.logrank_test(analysis, "pfs", covariate)
    wald = uni[(uni.endpoint == "pfs") & (uni.covariate == covariate)].iloc[0].p
    rec.record(claim, logrank["p"])
    abstract.append({"claim": claim, "factor": covariate, "log-rank p": models.format_p(logrank["p"]),
                     "Wald p": models.format_p(wald),
                     "Abstract": registry.set_index("claim_id").loc[claim, "published"]})
pd.DataFrame(abstract)

# %%
nv.md("## What this notebook recorded\n\nPaper beside compendium for every claim of this section. "
      + nv.choose(dataset.read_meta(P)["synthetic"],
                  "On the synthetic cohort, *calibrated* claims are near the paper because the generator aimed "
                  "at them, *emergent* ones are not aimed at; neither says anything about patients.",
                  "On this input every value is observed: a difference is a difference between these data "
                  "and the paper's."))

# %%
rec.table()

# %%
rec.save()

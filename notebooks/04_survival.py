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
#
# > The committed outputs were computed on the **synthetic cohort** (notebook 00): they show the
# > method and how the paper's numbers relate, not results about patients.

# %% tags=["parameters"]
data_path = None  # read by notebook 01 only
out_dir = None    # None: the repository; otherwise every output goes below this directory

# %%
import pandas as pd

from compendium import claims, dataset, models, paths, plots
from compendium import survival as sv

pd.set_option("display.max_rows", 200)
P = paths.Paths.for_run(out_dir)
dataset.banner(P)
analysis = dataset.read_analysis(P)
registry = claims.load_registry()
rec = claims.Recorder("04_survival", P, registry)

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
km = models.km_results(analysis)
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

# %% [markdown]
# The Abstract and the Results disagree with each other on two of these: median PFS 15 (Abstract)
# against 14 months (Results, Discussion), and median follow-up 25 against 22.8 months. Both
# versions are registered; one number cannot match both.
#
# ## PFS2: two readings of one number
#
# The Methods define PFS2 from the start of DaraVd to the second progression or death. Measured so,
# PFS2 is never shorter than PFS for the same patient, so its median cannot fall below the median
# PFS (14 months) — yet the Results report a median PFS2 of 5 months "evaluated in 45 patients".
# The number fits the PFS of the *next* line, timed from its start, in the patients who started
# one. We estimate both; the claim is compared with the Methods' definition.

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

# %% [markdown]
# ## Figure 2: PFS and OS by best response ≥VGPR versus <VGPR
#
# The log-rank p is printed on the plot. Best response is only known once it has been reached
# (median about 3 months after the start), so this comparison favours responders; notebook 05
# quantifies that guarantee-time bias with landmark and time-dependent analyses.

# %%
vgpr_labels = {1: "≥VGPR", 0: "<VGPR"}
fig = plots.km_plot(analysis, "pfs", group="vgpr_or_better", labels=vgpr_labels,
                    title="a  PFS by best response", ylabel="PFS probability")
plots.save_and_show(fig, P.figure("fig2a_pfs_by_vgpr"))

# %%
fig = plots.km_plot(analysis, "os", group="vgpr_or_better", labels=vgpr_labels,
                    title="b  OS by best response", ylabel="OS probability")
plots.save_and_show(fig, P.figure("fig2b_os_by_vgpr"))

# %% [markdown]
# ## Univariate Cox models: Tables 2 and 3
#
# One Cox model per factor, Efron's method for tied times (R `coxph`'s default), Wald 95% limits
# and Wald p (as `summary(coxph)` prints them), complete cases for each factor (so n and events
# change from row to row: FISH at relapse, for instance, exists for 24 patients only).
# Dexamethasone groups are compared with the full dose. `results/cox_univariate.csv` keeps the data's
# coding (presence of a feature); the tables below turn rows round to the paper's wording
# ("absence of EMD"), which inverts the hazard ratio and swaps its limits.

# %%
uni = models.univariate_results(analysis)
paths.write_csv(uni, P.result("cox_univariate.csv"))
print("Table 2 - PFS")
models.paper_table(uni, models.TABLE2, registry)

# %%
print("Table 3 - OS")
models.paper_table(uni, models.TABLE3, registry)

# %%
models.record_rows(rec, uni, models.TABLE2 + models.TABLE3 + models.TEXT_PFS)
for endpoint in ("pfs", "os"):
    for covariate, key in [("len_exposure_months", "len_exposure"), ("len_dose_start_mg", "len_dose_start"),
                           ("len_dose_pd_mg", "len_dose_pd")]:
        row = uni[(uni.endpoint == endpoint) & (uni.covariate == covariate)].iloc[0]
        rec.record(f"R_{endpoint}_{key}_p", row.p)

# %% [markdown]
# The text also reports no association of PFS or OS with lenalidomide exposure time, starting dose
# and dose at progression; the paper does not say how these entered the model. We use them as
# continuous covariates (hazard ratio per month, per mg).

# %%
lenalidomide = uni[uni.covariate.str.startswith("len_") & uni.endpoint.isin(["pfs", "os"])]
lenalidomide.assign(p_formatted=lenalidomide.p.map(models.format_p))[
    ["endpoint", "covariate", "level", "hr", "lcl", "ucl", "p_formatted", "n", "events"]].round(3)

# %% [markdown]
# Every factor, both endpoints, as the CSV codes them (PFS2 included: the paper found nothing there):

# %%
uni.assign(p=uni.p.map(models.format_p)).round(3)

# %% [markdown]
# ## The Abstract's p-values
#
# The Abstract gives p-values for PFS that differ from Table 2 where both report a factor
# (plasma cells <60%: 0.003 against 0.062; EMD: 0.009 against 0.008) and adds amp1q and ≥CR. It
# does not name the test; the log-rank test is the usual companion of a Kaplan-Meier comparison,
# so we compute it and record it for these claims, with the Wald p beside it.

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

# %% [markdown]
# ## What this notebook recorded
#
# Paper beside compendium for every claim of this section. On the synthetic cohort, *calibrated*
# claims are near the paper because the generator aimed at them, *emergent* ones are not aimed at;
# neither says anything about patients.

# %%
rec.table()

# %%
rec.save()

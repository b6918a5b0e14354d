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
# # 05 · Multivariable models: Tables 4-5, proportional hazards, guarantee-time bias
#
# **Question.** Is a best response of at least VGPR associated with longer PFS and OS independently
# of extramedullary disease and age, do the models' assumptions hold, and how much of the
# association is an artefact of comparing patients by a response they reach only after treatment
# starts?
#
# **Paper.** *Response and survival outcomes* and Tables 4 (PFS) and 5 (OS): Cox models with
# ≥VGPR, absence of EMD and age ≥65. The proportional-hazards checks and the guarantee-time-bias
# analyses go beyond the paper.
#
# > The committed outputs were computed on the **synthetic cohort** (notebook 00).

# %% tags=["parameters"]
data_path = None  # read by notebook 01 only
out_dir = None    # None: the repository; otherwise every output goes below this directory

# %%
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from compendium import claims, dataset, models, multistate, narrative, paths, plots, synthetic
from compendium import survival as sv

pd.set_option("display.max_rows", 200)
P = paths.Paths.for_run(out_dir)
dataset.banner(P)
analysis = dataset.read_analysis(P)
registry = claims.load_registry()
rec = claims.Recorder("05_multivariable", P, registry)


# %% [markdown]
# ## Tables 4 and 5
#
# "The same characteristics were selected for the building of a multivariate model for PFS and
# OS": best response ≥VGPR, EMD at relapse and age ≥65. A Cox model needs every covariate, so the
# models use the patients with EMD evaluated (complete cases), fewer than the 85 of the univariate
# ≥VGPR model; ties by Efron's method, Wald limits and p, as R `coxph`.

# %%
fits = {e: sv.cox_fit(analysis, e, list(models.MULTIVARIABLE)) for e in ("pfs", "os")}
paper_models = models.multivariable_results(analysis)
print("Table 4 - PFS")
models.paper_table(paper_models, models.TABLE4, registry)

# %%
print("Table 5 - OS")
models.paper_table(paper_models, models.TABLE5, registry)

# %%
models.record_rows(rec, paper_models, models.TABLE4 + models.TABLE5)
pd.DataFrame([sv.cox_global_tests(f) for f in fits.values()]).round(4)

# %% [markdown]
# **Events per variable.** With three covariates the models spend one parameter per 10 events only
# if there are 30 events; below that, estimates are biased away from 1 and their intervals are too
# narrow to trust (Peduzzi et al. 1996; Vittinghoff and McCulloch 2007 relax the rule to 5-9 for
# confounder adjustment).

# %%
pd.DataFrame([{"model": e.upper(), "patients": f.n, "events": f.events, "parameters": len(f.columns),
               "events per parameter": round(f.events / len(f.columns), 1)} for e, f in fits.items()])

# %% [markdown]
# ## Proportional hazards
#
# Cox hazard ratios are averages over time; if the ratio drifts, the average can mislead. The test
# is R's `cox.zph` (survival ≥ 3.0): a score test for adding `covariate × g(t)` to the model, with
# g(t) = 1 − Kaplan-Meier (R's default `transform = "km"`), per covariate and globally. The plots
# show the scaled Schoenfeld residuals, whose smoothed trend estimates β(t): a flat line at the
# model's coefficient is what proportional hazards look like.

# %%
zph = pd.concat([sv.cox_zph(f).assign(model=e.upper()) for e, f in fits.items()], ignore_index=True)
paths.write_csv(zph, P.result("cox_zph.csv"))
zph.assign(p=zph.p.map(models.format_p)).round(3)

# %%
fig_zph = plots.zph_plot(fits["pfs"], title="PFS model: scaled Schoenfeld residuals", labels=models.LABELS)
plots.save_and_show(fig_zph, P.figure("fig_zph_pfs"))

# %%
fig_zph = plots.zph_plot(fits["os"], title="OS model: scaled Schoenfeld residuals", labels=models.LABELS)
plots.save_and_show(fig_zph, P.figure("fig_zph_os"))

# %% [markdown]
# With the few events of these models (table above), the tests have little power: a
# non-significant p is weak evidence of proportionality, and the plots matter more than the p-values.
#
# ## Guarantee-time bias of the response analyses
#
# Best response is not known at the start of treatment: a patient counted as "≥VGPR" had to stay
# alive and progression-free until the response was documented, while early progressors are
# "<VGPR" by construction. Comparing the groups from time zero (Figure 2, Tables 2-5) gives the
# responders that guaranteed time for free and exaggerates their advantage (Anderson et al. 1983;
# Giobbie-Hurder et al. 2013). Two standard remedies:
#
# - **Landmark analysis**: keep only the patients still event-free and followed at a landmark time,
#   classify them by response *reached by then*, and compare their outcomes *from the landmark on*.
#   We use 3 months, the paper's median time to best response, and 2, 4 and 6 months as sensitivity.
# - **Time-dependent Cox model**: every patient counts as non-responder until the day the response
#   is documented and as responder afterwards (counting-process data, `Surv(tstart, tstop, event)`).
#
# Both remedies need the date ≥VGPR was *first* reached, which is earlier than the best-response
# date for a patient whose response deepened to CR. The data dictionary has it as an optional column
# (`vgpr_first_date`); where a file lacks it, the analyses fall back to the best-response date, which
# classifies some responders late and so, if anything, shrinks their estimated advantage.

# %%
source = analysis.loc[analysis.vgpr_or_better == 1, "vgpr_date_source"].value_counts()
from_best = int(source.get("best_response_date", 0))
responders = analysis[analysis.vgpr_or_better == 1]
narrative.md(f"""
Of the {narrative.count(len(responders), "≥VGPR patient")} of this run,
{narrative.share(len(responders) - from_best, len(responders))} have the date ≥VGPR was first reached;
{narrative.choose(from_best == 0, "no fallback is needed.",
                  f"for {narrative.count(from_best, 'patient')} the analyses fall back to the best-response date.")}
Median time to ≥VGPR first reached: {narrative.months(responders.vgpr_months.median())}
(to the best response: {narrative.months(responders.response_months.median())}).
""")

# %%
landmarks = (2, 3, 4, 6)
comparison, extra_models, td_fits = [], [], {}
for endpoint in ("pfs", "os"):
    fixed = sv.cox_univariate(analysis, endpoint, "vgpr_or_better").iloc[0]
    comparison.append({"endpoint": endpoint.upper(), "analysis": "from time zero (as the paper)", "n": fixed.n,
                       "events": fixed.events, "HR (95% CI)": models.format_hr(fixed.hr, fixed.lcl, fixed.ucl),
                       "p": models.format_p(fixed.p)})
    for lm in landmarks:
        data = sv.landmark(analysis, endpoint, lm, "vgpr_months", "vgpr_or_better")
        row = sv.cox_univariate(data, endpoint, "responded_by_landmark").iloc[0]
        extra_models.append(row.to_frame().T.assign(model=f"landmark_{lm}m"))
        comparison.append({"endpoint": endpoint.upper(), "analysis": f"landmark at {lm} months", "n": row.n,
                           "events": row.events, "HR (95% CI)": models.format_hr(row.hr, row.lcl, row.ucl),
                           "p": models.format_p(row.p)})
    for model_name, column, label in (("time_dependent", "vgpr_months", "time-dependent, ≥VGPR first reached"),
                                      ("time_dependent_best_date", "response_months", "time-dependent, best-response date")):
        cp = sv.time_dependent_response(analysis, endpoint, column, "vgpr_or_better")
        fit = sv.cox_fit(cp, endpoint, ["responded"], start="tstart")
        td_fits.setdefault(endpoint, fit)
        td = fit.table().iloc[0]
        td["n"] = analysis[f"{endpoint}_months"].notna().sum()  # patients, not intervals
        extra_models.append(td.to_frame().T.assign(model=model_name))
        comparison.append({"endpoint": endpoint.upper(), "analysis": label, "n": td.n, "events": td.events,
                           "HR (95% CI)": models.format_hr(td.hr, td.lcl, td.ucl), "p": models.format_p(td.p)})
comparison = pd.DataFrame(comparison)
comparison

# %% [markdown]
# The time-dependent model assumes, too, that the hazard ratio of having responded is constant;
# `cox.zph` works on its (start, stop] data as on any other:

# %%
pd.concat([sv.cox_zph(f).assign(model=f"{e.upper()} time-dependent") for e, f in td_fits.items()],
          ignore_index=True).round(4)

# %% [markdown]
# The landmark curves at 3 months: patients progression-free at 3 months, by whether they had
# reached ≥VGPR by then, followed from the landmark.

# %%
at3 = sv.landmark(analysis, "pfs", 3, "vgpr_months", "vgpr_or_better")
fig = plots.km_plot(at3, "pfs", group="responded_by_landmark", labels={1: "≥VGPR", 0: "<VGPR"}, order=[1, 0],
                    title="PFS from 3 months, by response at 3 months", xlabel="Months from the landmark",
                    ylabel="PFS probability")
plots.save_and_show(fig, P.figure("fig_landmark_pfs_3m"))

# %% [markdown]
# ### Against a known truth
#
# Within one cohort we cannot tell which estimate is right. The synthetic generator knows: its
# multi-state model lowers the progression hazard from the day ≥VGPR is first reached
# (`compendium.multistate`), and `data/synthetic/daravd_synthetic_truth.csv` holds what each analysis
# estimates with unlimited patients under this design. The *true time-dependent effect* is the
# time-dependent Cox value on the first-reached date in 200,000 simulated patients: the hazard of
# patients who have reached ≥VGPR against those who have not (yet), averaged over time as Cox does.
# Each analysis is then repeated on many cohorts of 85 patients drawn from the model, to see its bias
# (mean log-HR minus the true one) and how often its 95% interval covers the truth.

# %%
truth = synthetic.read_truth()
true_td = truth[truth.quantity == "hr_time_dependent"].set_index("endpoint")["value"]
population = truth[truth.quantity.str.startswith("hr_") & (truth.endpoint != "")]
population.pivot(index="quantity", columns="endpoint", values="value").round(3)

# %%
simulation = synthetic.response_simulation(reps=200, n=85, seed=20251125)
coverage = synthetic.bias_and_coverage(simulation, truth)
coverage.round(3)

# %%
ours = pd.concat(extra_models, ignore_index=True)
is_synthetic = dataset.read_meta(P)["synthetic"]
cohort_hr = {(e, m): float(ours[(ours.endpoint == e) & (ours.model == m)].hr.iloc[0])
             for e in ("pfs", "os") for m in ("landmark_3m", "time_dependent", "time_dependent_best_date")}
for e in ("pfs", "os"):
    cohort_hr[(e, "time_zero")] = float(sv.cox_univariate(analysis, e, "vgpr_or_better").iloc[0].hr)
order = list(multistate.RESPONSE_ANALYSES)
with mpl.rc_context(plots._STYLE):
    fig = Figure(figsize=(plots.COLUMN_WIDTH_IN, 2.9))
    for k, e in enumerate(("pfs", "os")):
        ax = fig.add_subplot(1, 2, k + 1)
        for j, name in enumerate(order):
            hr = np.exp(simulation[(simulation.endpoint == e) & (simulation.analysis == name)].loghr.dropna())
            ax.plot(np.quantile(hr, [0.1, 0.9]), [j, j], color=plots.OKABE_ITO[0], lw=2, solid_capstyle="butt")
            ax.plot(np.median(hr), j, "o", color=plots.OKABE_ITO[0], ms=3.5)
            ax.plot(cohort_hr[(e, name)], j, "D", color=plots.OKABE_ITO[1], ms=3.5, mfc="none")
        ax.axvline(true_td[e], color="#000000", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlim(0.05, 2)
        ax.set_xticks([0.1, 0.2, 0.5, 1], ["0.1", "0.2", "0.5", "1"])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(range(len(order)), ["time zero", "landmark 3 m", "time-dep.\nfirst ≥VGPR", "time-dep.\nbest date"] if k == 0 else [])
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_title(e.upper())
        ax.set_xlabel("HR of ≥VGPR")
    fig.legend(handles=[Line2D([], [], color=plots.OKABE_ITO[0], marker="o", ms=3.5, lw=2, label="simulated cohorts: median, 10-90%"),
                        Line2D([], [], color=plots.OKABE_ITO[1], marker="D", mfc="none", ls="", ms=3.5, label="this cohort"),
                        Line2D([], [], color="#000000", ls="--", lw=0.8, label="true time-dependent effect")],
               loc="lower center", bbox_to_anchor=(0.5, 0.07), ncol=2, frameon=False, fontsize=6)
    fig.subplots_adjust(left=0.2, right=0.97, top=0.92, bottom=0.36, wspace=0.08)
plots.save_and_show(fig, P.figure("fig_guarantee_time_truth"))

# %% [markdown]
# **Reading.** The comparison is within one cohort and still observational: achieving ≥VGPR may mark
# less aggressive disease rather than cause longer survival. What the analyses show on this run, and
# what the simulation says about each of them:

# %%
fitted = pd.concat(extra_models, ignore_index=True)
cov_t = coverage.set_index(["endpoint", "analysis"])
lines = []
for endpoint in ("pfs", "os"):
    zero = sv.cox_univariate(analysis, endpoint, "vgpr_or_better").iloc[0]
    td = fitted[(fitted.endpoint == endpoint) & (fitted.model == "time_dependent")].iloc[0]
    lm3 = fitted[(fitted.endpoint == endpoint) & (fitted.model == "landmark_3m")].iloc[0]
    c0, ctd, clm = (cov_t.loc[(endpoint, a)] for a in ("time_zero", "time_dependent", "landmark_3m"))
    lines.append(f"""
**{endpoint.upper()}.** On this cohort ≥VGPR has {narrative.hr_ci(zero.hr, zero.lcl, zero.ucl)} from time zero,
{narrative.hr_ci(td.hr, td.lcl, td.ucl)} as a time-dependent covariate and {narrative.hr_ci(lm3.hr, lm3.lcl, lm3.ucl)}
from a 3-month landmark{narrative.choose(is_synthetic, f"; the true time-dependent effect is HR {true_td[endpoint]:.2f}", "")}.
Over {int(c0.cohorts)} simulated cohorts the time-zero analysis is biased by {c0['bias (log HR)']:+.2f} on the log scale
({narrative.choose(c0['bias (log HR)'] < 0, "it exaggerates the benefit of response", "it understates the benefit of response")}) and its
interval covers the truth in {c0['coverage of 95% CI']:.0%} of cohorts; the time-dependent analysis on the first-reached date
is biased by {ctd['bias (log HR)']:+.2f} and covers it in {ctd['coverage of 95% CI']:.0%}; the 3-month landmark, which
counts patients who reach ≥VGPR later as non-responders and answers a narrower question, is off by {clm['bias (log HR)']:+.2f}.""")
narrative.md("\n".join(lines))

# %% [markdown]
# ## Results written

# %%
extra = pd.concat(extra_models, ignore_index=True)
extra = extra[["endpoint", "model", "covariate", "level", "reference", "hr", "lcl", "ucl", "p", "n", "events"]]
cox_multivariable = pd.concat([paper_models, extra], ignore_index=True)
for col in ("hr", "lcl", "ucl", "p"):
    cox_multivariable[col] = cox_multivariable[col].astype(float)
paths.write_csv(cox_multivariable, P.result("cox_multivariable.csv"))
cox_multivariable.assign(p=cox_multivariable.p.map(models.format_p)).round(3)

# %%
rec.table()

# %%
rec.save()

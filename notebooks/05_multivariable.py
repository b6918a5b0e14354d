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

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
from compendium.chapters import multivariable, setup
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path)

# %%
ch = multivariable.compute(ctx)
spec = ctx.spec

# %%
nv.md(f"""
## Tables 4 and 5

"The same characteristics were selected for the building of a multivariate model for PFS and OS". The
specification (`{spec.path.name}`) declares {nv.listing(
    [f"the model *{m.name}* for {nv.listing([e.upper() for e in m.endpoints])} with {nv.listing([spec.labels[c] for c in m.covariates])}"
     for m in spec.models], empty="no multivariable model")}. A Cox model needs every covariate, so each model uses the complete cases:
{multivariable.fitted_sentence(ch)}.
Ties by Efron's method, Wald limits and p, as R `coxph`.
""")

# %%
for title, table in ch.model_tables:
    display(table)

# %%
tables.table(ch.table("global_tests"), spec)

# %% [markdown]
# **Events per parameter.** A Cox model estimates one coefficient per parameter from the events, not
# from the patients; with fewer than about ten events per parameter the estimates are biased away
# from 1 and their intervals miss too often (Peduzzi et al., *J Clin Epidemiol* 1995;48:1503-1510,
# the simulation study for proportional-hazards regression; Vittinghoff and McCulloch,
# *Am J Epidemiol* 2007;165:710-718, find 5-9 often acceptable when the aim is adjustment).

# %%
epp = ch.table("events_per_parameter")
tables.table(epp, spec)

# %%
nv.md("  \n".join(
    f"{r.model}: {nv.count(r.events, 'event')} for {nv.count(r.parameters, 'parameter')}, "
    f"{r.events_per_parameter:.1f} per parameter, "
    + nv.choose(r.meets_rule_of_ten, "which meets the rule of ten.",
                "below the rule of ten: the estimates are less reliable than their intervals suggest.")
    for r in epp.itertuples()) + nv.choose(
    ch.facts["screen_parameters"] > 0 and len(epp) > 0,
    f"  \nThe models' covariates were chosen from a univariate screen of {nv.count(ch.facts['screen_parameters'], 'coefficient')}: "
    "a model selected so has spent the events on every candidate, and counted against those the events per parameter are "
    + nv.listing([f"{r.events / ch.facts['screen_parameters']:.1f} ({r.model})" for r in epp.itertuples()])
    + "; its hazard ratios are further from 1, and its p-values smaller, than a prespecified model's would be.", ""))

# %% [markdown]
# ## The complete-case restriction and its sensitivity
#
# A Cox model uses only patients with every covariate known. A covariate assessed in part of the
# cohort only (EMD at relapse needs PET/CT) makes the models drop the others. Dropping them is
# unbiased only if whether it was assessed is unrelated to outcome given the other covariates,
# which a retrospective cohort cannot promise. The specification's `[sensitivity]` names the
# model and its sparse covariate; three sensitivity analyses: the model **without** it on every
# patient; it **multiply imputed** (draws from a logistic model with the other covariates, the event
# indicator and the Nelson-Aalen cumulative hazard, White and Royston 2009; estimates pooled by
# Rubin's rules); and, because few patients have it, a **Firth-penalised** Cox fit (Heinze and
# Schemper 2001), which reduces the first-order small-sample bias of a rare covariate (it does not
# remove all bias) and stays finite where the ordinary estimate would not. The penalised fit
# handles ties by Breslow's method, as `coxphf` does, while the fits beside it use Efron's; with
# few tied event times the two agree closely. `compendium.stats.firth` is checked against a
# hand-worked example and against R (the penalised likelihood maximised with `optim` on `coxph`'s
# own log-likelihood and information); `coxphf` itself is not packaged for Debian.

# %%
tables.table(ch.table("complete_case_loss"), spec) if "complete_case_loss" in ch.shown else None

# %%
nv.md(multivariable.loss_sentence(ch))

# %%
multivariable.sensitivity_display(ch)

# %%
nv.md(multivariable.sensitivity_sentences(ch))

# %% [markdown]
# Where the fits of the response factor agree, the complete-case restriction did not drive the
# result; the width of the sparse covariate's intervals, penalised or not, is what so few patients
# with it can tell.

# %% [markdown]
# ## Proportional hazards
#
# Cox hazard ratios are averages over time; if the ratio drifts, the average can mislead. The test
# is R's `cox.zph` (survival ≥ 3.0): a score test for adding `covariate × g(t)` to the model, with
# g(t) = 1 − Kaplan-Meier (R's default `transform = "km"`), per covariate and globally. The plots
# show the scaled Schoenfeld residuals, whose smoothed trend estimates β(t): a flat line at the
# model's coefficient is what proportional hazards look like.

# %%
tables.table(ch.table("cox_zph"), spec)

# %% [markdown]
# The plots are drawn as R's `plot(cox.zph(fit))` draws them: the residuals against the
# Kaplan-Meier-transformed time, a natural spline with 4 degrees of freedom through them and its
# ±2 standard-error band (dashed), the axis labelled in months (`compendium.stats.schoenfeld` reproduces
# R's curve and band to rounding, `tests/test_schoenfeld.py`).

# %%
for name in ch.figures:
    if name.startswith("fig_zph"):
        display(ch.figure(name))

# %%
nv.md(multivariable.zph_paragraph(ch))

# %% [markdown]
# With the few events of these models (table above), the tests have little power: a
# non-significant p is weak evidence of proportionality, and the plots matter more than the p-values.

# %% [markdown]
# ## Patients not evaluable for response
#
# A patient whose best response is not evaluable (NE) has no response flag. Every analysis here
# leaves such a patient out of the comparisons by response: the time-zero Cox models (complete
# cases), the landmark data and the time-dependent data alike (`compendium.stats.survival.landmark`,
# `time_dependent_response`). Counting them as non-responders would put an unknown response in the
# non-responder group; leaving them out keeps each group what its name says.

# %%
not_evaluable = ch.facts.get("not_evaluable", 0)
nv.md(f"""
This cohort has {nv.count(not_evaluable, "patient")} not evaluable for response,
{nv.choose(not_evaluable == 0, "so the choice changes nothing here", "left out of every response comparison")}.
""")

# %% [markdown]
# ## Time zero after the eligibility window
#
# Patients were eligible only after at least two DaraVd cycles, about six weeks. Time zero is the
# start of DaraVd, but nobody who stopped within those weeks for early death or toxicity is in the
# cohort, so the curves start among patients who had already stayed on treatment six weeks
# (immortal time). Trial arms analysed by intention to treat count such early events, so their
# medians are not comparable as they stand: ours are, if anything, flattered. The sensitivity
# below restarts the clock at the end of the window among those still event-free, as a landmark would.

# %%
tables.table(ch.table("eligibility_landmark"), spec) if "eligibility_landmark" in ch.tables else None

# %%
nv.md(multivariable.eligibility_paragraph(ch))

# %% [markdown]
# ## Guarantee-time bias of the response analyses
#
# Best response is not known at the start of treatment: a patient counted as a responder had to stay
# alive and progression-free until the response was documented, while early progressors are
# non-responders by construction. Comparing the groups from time zero (Figure 2, Tables 2-5) gives the
# responders that guaranteed time for free and exaggerates their advantage (Anderson et al. 1983;
# Giobbie-Hurder et al. 2013). Two standard remedies:
#
# - **Landmark analysis**: keep only the patients still event-free and followed at a landmark time,
#   classify them by response *reached by then*, and compare their outcomes *from the landmark on*
#   (the specification's `[response_timing]` gives the landmarks; the paper's median time to best
#   response and times around it).
# - **Time-dependent Cox model**: every patient counts as non-responder until the day the response
#   is documented and as responder afterwards (counting-process data, `Surv(tstart, tstop, event)`).
#
# Both remedies need the date the level was *first* reached, which is earlier than the best-response
# date for a patient whose response deepened to CR. The data dictionary has it as an optional column
# (`vgpr_first_date`); where a file lacks it, the analyses fall back to the best-response date, which
# classifies some responders late and so, if anything, shrinks their estimated advantage.

# %%
nv.md(multivariable.first_reached_sentence(ch))

# %%
tables.table(ch.table("response_timing"), spec) if "response_timing" in ch.shown else nv.md("The specification declares no analysis by response timing.")

# %% [markdown]
# The time-dependent model assumes, too, that the hazard ratio of having responded is constant;
# `cox.zph` works on its (start, stop] data as on any other:

# %%
tables.table(ch.table("time_dependent_zph"), spec) if "time_dependent_zph" in ch.shown else None

# %%
for name in ch.figures:
    if name.startswith("fig_landmark"):
        display(ch.figure(name))

# %%
nv.md(multivariable.truth_paragraph(ch))

# %%
if "population" in ch.facts:
    display(tables.table(multivariable.estimands(ch), spec), tables.table(ch.facts["coverage"], spec),
            ch.figure("fig_guarantee_time_truth"))

# %% [markdown]
# **Reading.** The comparison is within one cohort and still observational: achieving a deep
# response may mark less aggressive disease rather than cause longer survival. What the analyses
# show on this run, and what the simulation says about each of them:

# %%
nv.md(multivariable.reading(ch))

# %% [markdown]
# ## Results written

# %%
tables.table(ch.table("cox_multivariable"), spec)

# %%
tables.table(ch.recorded(), kind="claims")

# %%
ch.save()

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
from compendium.chapters import setup, survival
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path)

# %%
ch = survival.compute(ctx)
spec, paper = ctx.spec, nv.quoter(ctx.registry)

# %% [markdown]
# ## Kaplan-Meier medians, computed the R way
#
# The authors used R 4.4.1, so their medians and confidence limits are those of
# `survfit(Surv(time, status) ~ 1)`: Greenwood variance, a pointwise band on the **log** scale
# (`conf.type = "log"`, R's default), and the median's limits where that band crosses 0.5
# (`quantile.survfit`, with R's midpoint rule when the curve sits exactly on 0.5).
# lifelines, by default, uses a log-log band and no midpoint rule, so its limits differ;
# `compendium.stats.survival` implements R's rules and `tests/test_r_parity.py` checks them against R.
# The log-log limits are shown beside them because many clinical reports use them.
# Median follow-up is by the reverse Kaplan-Meier method (censoring as the event), which is
# what "median follow-up" means in most myeloma papers; the paper does not say which it used.

# %%
tables.table(ch.table("survival_km"), spec, kind="km")

# %%
tables.table(ch.recorded(ch.declared().query("estimate.str.startswith('median')").claim_id), kind="claims")

# %%
nv.md(f"""
The Abstract and the Results disagree with each other on two of these: median PFS {paper("A_pfs_median")}
(Abstract) against {paper("R_pfs_median")} months (Results, Discussion), and median follow-up
{paper("A_followup_median")} against {paper("R_followup_median")} months. Both versions are registered; one number
cannot match both. Here the median PFS is {nv.estimate_months(ch.estimate("median(pfs)"))} and the median follow-up
{nv.estimate_months(ch.estimate("median(followup)"))}.
""")

# %%
nv.md(f"""
## PFS2: two readings of one number

The Methods define PFS2 from the start of DaraVd to the second progression or death. Measured so,
PFS2 is never shorter than PFS for the same patient, so its median cannot fall below the median
PFS ({paper("R_pfs_median")} months in the paper) — yet the Results report a median PFS2 of
{paper("R_pfs2_median")} months "evaluated in {paper("R_pfs2_evaluable_n")} patients". The number fits the PFS
of the *next* line, timed from its start, in the patients who started one. We estimate both
({nv.count(ch.facts["next_line_n"], "patient")} here started a next line); the claim is compared with
the Methods' definition.
""")

# %%
tables.table(ch.table("pfs2_readings"), spec)

# %%
nv.md(f"""
## Figures 1 and 2: Kaplan-Meier curves

Survminer-style: censored patients as ticks, the median marked, the number at risk beneath; the
figures are those the specification (`{spec.path.name}`) declares. Best response is only known once it
has been reached (here a median of {nv.months(ch.facts["best_response_median"])} after the start, among the
{nv.count(ch.facts["best_response_n"], "patient")} with a documented best response), so a comparison by
response favours responders; notebook 05 quantifies that guarantee-time bias with landmark and
time-dependent analyses.
""")

# %%
for name in ch.figures:
    if name != "cif_competing_risks":
        display(ch.figure(name))

# %%
nv.md(" ".join(nv.group_comparison(c.endpoint.upper(), c.levels, c.p) for c in ch.comparisons)
      or "The specification declares no figure by group.")

# %%
fewest = ch.facts["fewest"]
nv.md(f"""
## Univariate Cox models: Tables 2 and 3

One Cox model per factor of the specification (`{spec.path.name}`), Efron's method for tied times
(R `coxph`'s default), Wald 95% limits and Wald p (as `summary(coxph)` prints them), complete cases
for each factor, so n and events change from row to row{"" if fewest is None else
f" (the fewest: {fewest[0]}, known for {nv.count(fewest[1], 'patient')})"}. Factors with a stated reference
level are compared with it ({nv.listing(f"{spec.labels[c]}: {r}" for c, r in spec.references.items())}).
`results/cox_univariate.csv` keeps the data's coding (presence of a feature); the tables below turn
rows round to the paper's wording ("absence of EMD"), which inverts the hazard ratio and swaps its
limits. A factor with no events in one of its levels has no finite estimate (monotone likelihood);
such rows say so instead of printing a hazard ratio.
""")

# %%
for title, table in ch.univariate_tables:
    display(table)

# %%
continuous = ch.facts["continuous"]
significant = continuous[continuous.p < nv.ALPHA]
nv.md(f"""
The text also reports no association of PFS or OS with lenalidomide exposure time, starting dose
and dose at progression; the paper does not say how these entered the model. Continuous factors
enter as linear terms (hazard ratio per month, per mg). Here
{nv.choose(len(significant) == 0, "none of the continuous factors is associated with " + nv.listing(
    [e.upper() for e in spec.screen_endpoints], conj="or") + " at the 5% level",
           "the association is significant at the 5% level for " + nv.listing(
               f"{r.endpoint.upper()} and {spec.labels.get(r.covariate, r.covariate)} ({nv.p_value(r.p)})"
               for r in significant.itertuples()))}.
""")

# %%
tables.table(continuous.drop(columns=["reference"]), spec)

# %% [markdown]
# Every factor and endpoint of the specification, as the CSV codes them (PFS2 included: the paper
# found nothing there); hazard ratios that are not estimable say so:

# %%
uni = ch.table("cox_univariate")
tables.table(uni, spec)

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
tables.table(survival.logrank_claims(ch), spec)

# %% [markdown]
# ## Survival at fixed times
#
# A median says only where a curve crosses one half; the proportion alive (or free of progression)
# at fixed times describes the whole curve and is what trials report beside it. These are R's
# `summary(survfit(...), times = ...)`: the Kaplan-Meier estimate at the last event
# time up to each landmark, with the same log (R's default) and log-log limits as the medians.
# A time beyond the last follow-up of a group has no estimate.

# %%
rates = ch.table("survival_rates")
tables.table(rates[rates.conf_type == "log"][
    ["endpoint", "group", "time", "n_risk", "events_by", "surv", "lower", "upper", "reason"]], spec)

# %%
nv.md("  \n".join(survival.rate_sentence(ch, endpoint) for endpoint in spec.rate_endpoints))

# %% [markdown]
# ### How many patients each median rests on
#
# Where a curve crosses one half late in follow-up, few patients remain at risk and a single event
# moves the median by months. For every median of `survival_km.csv`: how many were still at risk
# where it was reached, and how many events lie at or beyond it. A median reached with fewer than
# ten patients at risk is flagged.

# %%
at_median = ch.table("median_at_risk")
tables.table(at_median, spec)

# %%
few = at_median[at_median["few"]]
nv.md(f"""
{nv.choose(len(few) > 0,
    "Medians reached with fewer than " + str(survival.FEW_AT_RISK) + " patients at risk: " + nv.listing(
        [f"{r.endpoint.upper()} ({r.group}), {nv.months(r.median)} with {nv.count(r.n_risk_at_median, 'patient')} at risk"
         for r in few.itertuples()]) + "; these rest on a handful of patients and should be read as fragile.",
    "Every median was reached with at least " + str(survival.FEW_AT_RISK) + " patients still at risk.")}
""")

# %% [markdown]
# ## Competing risks: next treatment and progression against death
#
# Time to next treatment censors a patient who dies before any next treatment as if a next line
# could still come; its 1 − Kaplan-Meier is then the probability of a next treatment *in a world
# without death*, and overstates it. The cumulative incidence function (Aalen-Johansen) gives the
# probability of each event as it happened, with death before it as a competing event (R:
# `survfit` with a multi-state status, `cmprsk::cuminc`; Gray's test compares groups). The same
# split of PFS separates progressions from deaths without progression; the dataset holds one date,
# so a progression recorded on the day of death counts as the death.

# %%
if "competing_risks" in ch.tables:
    display(tables.table(ch.table("competing_risks").drop(columns=["n"]), spec))
if "gray_tests" in ch.tables:
    display(tables.table(ch.table("gray_tests"), spec))
if "cif_competing_risks" in ch.figures:
    display(ch.figure("cif_competing_risks"))

# %%
nv.md(survival.competing_paragraph(ch))

# %% [markdown]
# ## Treatment and response durations, the Kaplan-Meier way
#
# The paper reports a median treatment duration and a median time to best response as plain
# medians of the observed times (notebook 03 reproduces them so, as the paper's method). A plain
# median counts the patients still on DaraVd at the cut-off as if they had stopped that day, so it
# understates how long treatment lasts; Kaplan-Meier censors them instead. Duration of response
# runs among responders from the documented response to progression or death; the data hold the
# date of the *best* response only, so it starts there (a lower bound of the duration from first
# response), and time to *first* response cannot be computed from these data at all; time to best
# response among responders is given instead (every responder has the event, so its Kaplan-Meier
# median is the plain one).

# %%
dur = ch.table("durations_km")
tables.table(dur.drop(columns=["endpoint", "group"]), spec)

# %%
ttd, plain = ch.facts["ttd_median"], ch.facts["treatment_plain"]["median"]
nv.md(f"""
With {nv.count(ch.facts["still_on"], 'patient')} still on DaraVd counted as censored, the Kaplan-Meier median time
to treatment discontinuation is {nv.months(ttd)}, against a plain median of
{nv.months(plain)} that stops their clock at the cut-off
({nv.compare(ttd, plain, "longer", "shorter")} by Kaplan-Meier). The paper
prints {paper("R_duration_median")} months, a plain median.
""")

# %% [markdown]
# ## Factors of several levels, each as a whole
#
# A factor of k levels gives k − 1 hazard ratios against its reference, and so k − 1 tests: whether
# it is associated with survival at all is one question, answered by the likelihood-ratio test of
# the whole factor (k − 1 df, R's `anova(coxph)`).

# %%
for factor in ch.facts["multi_level"]:
    rows = uni[uni.covariate == factor.column]
    display(nv.md(f"**{factor.label}** (reference: {factor.level_label(factor.reference)}). {factor.note}"),
            tables.table(rows, spec))

# %%
nv.md("  \n".join(survival.factor_test_sentence(ch, r) for r in ch.table("factor_tests").itertuples())
      or "No factor of the specification has more than two levels in these data.")

# %% [markdown]
# ## Multiplicity of the univariate screen
#
# Tables 2-3 and the Results screen every factor against PFS and OS at the 5% level. Taken as one
# family, one p per factor and endpoint (Wald as printed in the tables; the likelihood-ratio test
# for a factor of several levels), Holm's step-down adjustment keeps the chance of any
# false positive at 5% whatever the correlation between tests (R's `p.adjust(p, "holm")`).

# %%
screen = ch.table("univariate_holm")
tables.table(screen, spec)

# %%
nv.md(f"""
The screen makes {nv.count(len(screen), 'test')} ({nv.count(screen.covariate.nunique(), 'factor')}
against {nv.listing(sorted(screen.endpoint.str.upper().unique()))});
{nv.holm_survivors(screen, spec.labels)}. Findings that do not survive the adjustment are
hypotheses for another cohort, not results of this one.
""")

# %%
nv.md("## What this notebook recorded\n\nPaper beside compendium for every claim of this section. "
      + nv.choose(ctx.synthetic,
                  "On the synthetic cohort, *calibrated* claims are near the paper because the generator aimed "
                  "at them, *emergent* ones are not aimed at; neither says anything about patients.",
                  "On this input every value is observed: a difference is a difference between these data "
                  "and the paper's."))

# %%
tables.table(ch.recorded(), kind="claims")

# %%
ch.save()

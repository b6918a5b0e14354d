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

from compendium.report import claims, narrative, plots
from compendium.stats import competing, durations, models, multiplicity, rates
from compendium.data import dataset
from compendium import paths
from compendium.chapters import response
from compendium.report import narrative as nv
from compendium.data import spec as specs
from compendium.stats import survival as sv

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
# `compendium.stats.survival` implements R's rules and `tests/test_r_parity.py` checks them against R.
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

# %% [markdown]
# ## Survival at one, two and three years
#
# A median says only where a curve crosses one half; the proportion alive (or free of progression)
# at fixed times describes the whole curve and is what trials report beside it. These are R's
# `summary(survfit(...), times = c(12, 24, 36))`: the Kaplan-Meier estimate at the last event
# time up to each landmark, with the same log (R's default) and log-log limits as the medians.
# A time beyond the last follow-up of a group has no estimate.

# %%
rate_table = rates.fixed_time_rates(analysis)
paths.write_csv(rate_table, P.result("survival_rates.csv"))
rate_table[rate_table.conf_type == "log"].assign(
    **{"S(t) (95% CI)": lambda d: [narrative.rate_ci(s, lo, hi) for s, lo, hi in zip(d.surv, d.lower, d.upper)]})[
    ["endpoint", "group", "time", "n_risk", "events_by", "S(t) (95% CI)"]]

# %%
at = lambda e, g, t: rate_table.query("endpoint == @e and group == @g and time == @t and conf_type == 'log'").iloc[0]  # noqa: E731
pfs24, os24, os36 = at("pfs", "all", 24), at("os", "all", 24), at("os", "all", 36)
narrative.md(f"""
At two years {narrative.rate_ci(pfs24.surv, pfs24.lower, pfs24.upper)} of patients were alive without
progression and {narrative.rate_ci(os24.surv, os24.lower, os24.upper)} alive; at three years
{narrative.rate_ci(os36.surv, os36.lower, os36.upper)} were alive, an estimate that rests on
{narrative.count(os36.n_risk, 'patient')} still under observation at 36 months.
""")

# %% [markdown]
# ### How many patients each median rests on
#
# Where a curve crosses one half late in follow-up, few patients remain at risk and a single event
# moves the median by months. For every median of `survival_km.csv`: how many were still at risk
# where it was reached, and how many events lie at or beyond it. A median reached with fewer than
# ten patients at risk is flagged.

# %%
at_median = rates.medians_at_risk(analysis, km)
paths.write_csv(at_median, P.result("median_at_risk.csv"))
at_median

# %%
few = at_median[at_median["few"]]
narrative.md(f"""
{narrative.choose(len(few) > 0,
    "Medians reached with fewer than " + str(rates.FEW_AT_RISK) + " patients at risk: " + narrative.listing(
        [f"{r.endpoint.upper()} ({r.group}), {narrative.months(r.median)} with {narrative.count(r.n_risk_at_median, 'patient')} at risk"
         for r in few.itertuples()]) + "; these rest on a handful of patients and should be read as fragile.",
    "Every median was reached with at least " + str(rates.FEW_AT_RISK) + " patients still at risk.")}
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
cif = competing.cif_results(analysis)
paths.write_csv(cif, P.result("competing_risks.csv"))
cif.assign(**{"CIF (95% CI)": lambda d: [narrative.rate_ci(c, lo, hi) for c, lo, hi in zip(d.cif, d.lower, d.upper)]})[
    ["analysis", "cause_label", "group", "events", "time", "n_risk", "CIF (95% CI)"]]

# %%
gray = competing.gray_results(analysis)
paths.write_csv(gray, P.result("gray_tests.csv"))
gray.assign(p=gray.p.map(models.format_p))

# %%
plots.save_and_show(plots.cif_plot(analysis), P.figure("cif_competing_risks"))

# %%
ttnt_km = rate_table.query("endpoint == 'ttnt' and group == 'all' and time == 24 and conf_type == 'log'").iloc[0]
nt24 = cif.query("analysis == 'next_treatment' and group == 'all' and cause == 1 and time == 24").iloc[0]
died_first = cif.query("analysis == 'next_treatment' and group == 'all' and cause == 2 and time == 24").iloc[0]
g_nt = gray.query("analysis == 'next_treatment' and cause == 1").iloc[0]
g_death = gray.query("analysis == 'next_treatment' and cause == 2").iloc[0]
narrative.md(f"""
{narrative.count(died_first.events, 'patient')} died before any next treatment. TTNT's Kaplan-Meier
puts the probability of a next treatment by two years at {narrative.rate_ci(1 - ttnt_km.surv, 1 - ttnt_km.upper, 1 - ttnt_km.lower)};
the cumulative incidence, which lets death compete, at {narrative.rate_ci(nt24.cif, nt24.lower, nt24.upper)},
with {narrative.rate_ci(died_first.cif, died_first.lower, died_first.upper)} dead by then without one.
What TTNT's censoring hides is this second share: patients who never reached a next line because they died.
By best response (≥VGPR against <VGPR), Gray's test of equal incidence of next treatment is
{narrative.significance(g_nt.p)}, and that of death before a next treatment {narrative.significance(g_death.p)}.
""")

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
dur = durations.duration_results(analysis)
paths.write_csv(dur, P.result("durations_km.csv"))
dur.assign(**{"median (95% CI)": [models.format_median(m, lo, hi) for m, lo, hi in zip(dur["median"], dur.lcl, dur.ucl)]})[
    ["endpoint", "description", "n", "events", "median (95% CI)", "conf_type"]]

# %%
ttd = dur.query("endpoint == 'ttd' and conf_type == 'log'").iloc[0]
plain = response.median_iqr(analysis["treatment_months"])
still_on = int((analysis["on_treatment"] == 1).sum())
narrative.md(f"""
With {narrative.count(still_on, 'patient')} still on DaraVd counted as censored, the Kaplan-Meier median time
to treatment discontinuation is {narrative.months(ttd["median"])}, against a plain median of
{narrative.months(plain["median"])} that stops their clock at the cut-off
({narrative.compare(ttd["median"], plain["median"], "longer", "shorter")} by Kaplan-Meier). The paper
prints {narrative.published(registry, "R_duration_median")} months, a plain median.
""")

# %% [markdown]
# ## The dexamethasone factor as a whole
#
# Table 3 gives three hazard ratios for dexamethasone (20, 40 and 80 mg/week) and Table 2 one
# (20 mg/week), each against a reference the paper does not name; we take the full dose (20 mg on days 1-2-4-5-8-9-11-12 of each
# 21-day cycle, the approved schedule), which is the only level the three others can all be compared
# with. Three contrasts are three tests: whether dexamethasone dose is associated with survival at
# all is one question, answered by the likelihood-ratio test of the whole factor (3 df, R's
# `anova(coxph)`). The levels are not ordered doses either: the approved schedule already gives
# 80 mg in each dosing week (weeks 1 and 2 of a cycle), so "80 mg/week" differs from the full dose in
# the timing more than in the amount, and the groups do not form a dose-response series.

# %%
factor_tests = pd.DataFrame([multiplicity.factor_test(analysis, e, "dex_dose_group", "full") for e in ("pfs", "os")])
paths.write_csv(factor_tests, P.result("factor_tests.csv"))
dex = uni[uni.covariate == "dex_dose_group"]
dex.assign(p=dex.p.map(models.format_p)).round(3)

# %%
narrative.md("  \n".join(
    f"{r.endpoint.upper()}: likelihood-ratio χ² = {r.chisq:.2f} on {r.df} df for the dexamethasone factor as a "
    f"whole ({narrative.count(r.events, 'event')} among {narrative.count(r.n, 'patient')}): "
    f"{narrative.significance(r.p)}; its separate contrasts against the full dose give "
    + narrative.listing([f"{lev} mg/week {narrative.p_value(p)}" for lev, p in
                         dex[dex.endpoint == r.endpoint][["level", "p"]].itertuples(index=False)]) + "."
    for r in factor_tests.itertuples()))

# %% [markdown]
# ## Multiplicity of the univariate screen
#
# Tables 2-3 and the Results screen every factor against PFS and OS at the 5% level. Taken as one
# family, one p per factor and endpoint (Wald as printed in the tables; the likelihood-ratio test
# for the three-level dexamethasone factor), Holm's step-down adjustment keeps the chance of any
# false positive at 5% whatever the correlation between tests (R's `p.adjust(p, "holm")`).

# %%
screen = multiplicity.screen(uni, factor_tests)
paths.write_csv(screen, P.result("univariate_holm.csv"))
screen.assign(p=screen.p.map(models.format_p), holm=screen.holm.map(models.format_p))

# %%
narrative.md(f"""
The screen makes {narrative.count(len(screen), 'test')} ({narrative.count(screen.covariate.nunique(), 'factor')}
against {narrative.listing(sorted(screen.endpoint.str.upper().unique()))});
{narrative.holm_survivors(screen, multiplicity.FACTOR_LABELS)}. Findings that do not survive the adjustment are
hypotheses for another cohort, not results of this one.
""")

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

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
from compendium.chapters import response, setup
from compendium.report import audit
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path, "The response categories, stop reasons and dose modifications are constructed on the paper's counts, the times are calibrated, and the association p-values are emergent.")

# %%
ch = response.compute(ctx)
spec, paper = ctx.spec, nv.quoter(ctx.registry)
labels = dict(spec.response.rates) if spec.response else {}

# %% [markdown]
# ## Best response
#
# Best response is the physician-reported IMWG category. Rates come with **exact
# (Clopper–Pearson) 95% confidence intervals**, the interval R's `binom.test` gives (the test
# suite checks ours against `binom.test` values). The rates are those the specification declares
# (`[response]` of the specification), each a 0/1 flag of the analysis dataset, so that what counts
# as a response is defined once, where the dataset is derived. We report them over all treated
# patients (as the Results do) and over the response-evaluable ones (best response other than NE).

# %%
tables.table(response.distribution_display(ch.table("response"), "all", labels), spec,
             title="Best response, over all treated patients")

# %%
ch.claims_table(ch.section("rates"), title="Response rates: paper and this run")

# %%
n_ne = ch.facts["not_evaluable"]
nv.md(f"""
The Results give ORR {paper("R_orr_pct")}% and ≥VGPR {paper("R_vgpr_pct")}%; the Abstract says {paper("A_orr_pct")}% and
{paper("A_vgpr_pct")}%. With the text's counts the Abstract's figures correspond to a smaller denominator, as the
computation below shows: perhaps one patient not evaluable for response. We record the Abstract's figures over
the response-evaluable patients (best response not NE). This input has
{nv.count(n_ne, "patient")} not evaluable for response{nv.choose(n_ne == 0, ", so both denominators are the same and the Abstract's figures can only match if the paper's counts differ from ours", "")}.
""")

# %%
tables.table(response.evaluable_denominators(ch), kind="audit",
             title="The Abstract's response rates: which denominators give them",
             empty="No claim of the registry is a rate over the response-evaluable patients.")

# %%
nv.md(f"""
## What goes with reaching {spec.response.rate_label(spec.response.outcome) if spec.response else "the outcome"}?

The paper says reaching ≥VGPR "was not influenced by" the lenalidomide history or prior proteasome inhibitors and
gives five p-values ({", ".join(paper(c) for c in ch.section("associations"))}) without naming a test. Our choice,
declared per predictor in the specification, among the patients whose response and predictor are both known:

{response.methods_list(ch)}
""")

# %%
response.associations_display(ch)

# %%
ch.claims_table(ch.section("associations"), title="Association p-values: paper and this run")

# %%
nv.md(f"""
{response.association_paragraph(ch)} {nv.choose(ctx.synthetic,
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
tables.table(ch.shown["exposure"], spec, title="Time to best response, cycles and duration of DaraVd")

# %%
ch.claims_table(ch.section("exposure"), title="Exposure: paper and this run")

# %%
nv.md(f"""
{nv.choose(ctx.synthetic, "On the synthetic cohort the time to best response is **calibrated** (the generator aims at its median). "
"Cycles and treatment duration are **emergent**: they follow from the simulated progression times and the approved schedule. ", "")}
{response.exposure_sentence(ch)} Under the approved schedule (eight 21-day cycles, then 28-day cycles) the paper's own
medians do not fit together: {paper("R_cycles_median")} cycles last about
{audit.schedule_months(ch.published("R_cycles_median")):.1f} months, not the {paper("R_duration_median")} months printed
for the median duration.
""")

# %%
nv.md(f"""
## Why DaraVd stopped

Stop reasons as the Results list them; the remaining patients were still on DaraVd at the analysis. Note that the
*Toxicity* section says "No patient discontinued treatment for toxicities", while the list in the Results (and the
Abstract) has {paper("R_disc_toxicity_n")}; notebook 06 records both.
""")

# %%
tables.table(ch.shown["discontinuation"], spec, kind="counts", level_header="Reason", title="Why DaraVd stopped",
             footnotes=["% of all treated patients."])

# %%
ch.claims_table(ch.section("discontinuation"), title="Discontinuation: paper and this run")

# %% [markdown]
# ## How DaraVd was started
#
# Daratumumab route at the start (the subcutaneous form was not yet approved for most),
# bortezomib starting dose (reduced for pre-existing neuropathy), and the starting
# dexamethasone dose: "full" is the approved 20 mg on days 1-2-4-5-8-9-11-12 of each 21-day cycle;
# the other groups are the weekly doses physicians chose instead. Salvage ASCT during DaraVd
# closes the section; "continued after transplantation" is read as: a salvage-ASCT patient whose
# recorded reason for stopping DaraVd is not the ASCT itself.

# %%
response.start_table(ch)

# %%
ch.claims_table(ch.section("start"), title="How DaraVd was started: paper and this run")

# %% [markdown]
# ## Dose modifications during DaraVd
#
# Daratumumab doses skipped, in the text's groups (a "> 5" group is kept so that nobody
# disappears from the table), bortezomib dose reductions for thrombocytopenia or neuropathy
# (with the share that happened within the first three cycles) and switches to once-weekly
# bortezomib.

# %%
tables.table(ch.table("dara_doses_skipped"), spec, kind="counts", level_header="Daratumumab doses skipped",
             title="Daratumumab doses skipped", footnotes=["% of all treated patients."])

# %%
ch.claims_table(ch.section("modifications"), title="Dose modifications: paper and this run")

# %%
nv.md(f"""
The Abstract's "{paper("A_btz_reduced_n")} ({paper("A_btz_reduced_pct")}%)" bortezomib reductions and
"{paper("A_dara_delayed_n")} ({paper("A_dara_delayed_pct")}%)" delayed daratumumab do not use the paper's
{paper("M_patients_n")} treated patients. The printed counts and percentages, taken from the registry, fit these
denominators:
""")

# %%
implied = response.denominators(ch)
tables.table(implied, kind="audit", title="The Abstract's toxicity figures: which denominators give them")

# %%
fit = dict(zip(implied.claim_id, implied.denominators_that_fit))
nv.md(f"""
{paper("A_btz_reduced_n")} of {fit["A_btz_reduced_pct"]} is {paper("A_btz_reduced_pct")}%:
the Abstract's toxicity figures appear to use **{fit["A_btz_reduced_pct"]}** patients
(notebook 06 finds the same denominator for the grade ≥ 2 adverse events and the neuropathy rate), perhaps those with
complete toxicity records. {paper("A_dara_delayed_n")} of {nv.listing(fit["A_dara_delayed_pct"].split(", "), "or")}
is {paper("A_dara_delayed_pct")}%, which matches no other denominator in the paper. We cannot tell which patients were
meant, so these claims keep our denominator, all {nv.count(ch.facts["n"], "treated patient")}, and are compared as such.
""")

# %% [markdown]
# ## Swimmer plot: time on DaraVd, best response and why treatment ended
#
# One bar per patient, longest at the top; colour is the best response, the marker at the end of
# each bar says why DaraVd stopped (an arrow: still on treatment at the analysis). A bar per
# patient stops being readable beyond a few hundred patients, so on a larger cohort the plot shows
# a reproducible random sample (a fixed seed) and says so on its axis.

# %%
nv.md(nv.choose(
    ch.facts["swimmer_shown"] < ch.facts["n"],
    f"The cohort has {ch.facts['n']:,} patients, too many for a bar each: the plot shows a random sample of "
    f"{ch.facts['swimmer_shown']} of them.",
    f"The plot shows all {nv.count(ch.facts['n'], 'patient')}."))

# %%
ch.figure("03_swimmer")

# %% [markdown]
# ## What this notebook recorded

# %%
summary = ch.recorded()
tables.table(summary, kind="tally", title="Claims of this notebook by where the paper states them")

# %%
ch.claims_table(summary.index[summary["status"] != "match"], title="Claims that differ or cannot be reproduced",
                empty="None: every claim of this notebook matches the paper.")

# %%
ch.save()

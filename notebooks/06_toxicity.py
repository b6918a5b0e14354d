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
# # 06 · Toxicity: Table 6
#
# **Question.** Which adverse events did patients have on DaraVd, how severe, and what did they
# lead to (infusion reactions, neuropathy outcome, deaths)?
#
# **Paper.** *Results – Toxicity* (second and third paragraphs), **Table 6** and the toxicity
# sentences of the *Abstract*. The dose modifications of the first *Toxicity* paragraph are in
# notebook 03.

# %% tags=["parameters"]
data_path = None  # type: Optional[str] input file (CSV or XLSX in data/dictionary.csv format); read by notebook 01 only; None: data/raw/ if it holds a file, else the synthetic cohort
out_dir = None  # type: Optional[str] folder below which every output is written; None: the repository
spec_path = None  # type: Optional[str] analysis specification (TOML); None: the paper's, data/spec/paper.toml
mapping_path = None  # type: Optional[str] mapping of an export's columns and codes to the dictionary (TOML); read by notebook 01 only

# %%
import pandas as pd

from compendium.report import claims, plots
from compendium.data import dataset
from compendium.chapters import descriptives, toxicity
from compendium import paths
from compendium.report import narrative as nv

P = paths.Paths.for_run(out_dir)
analysis = dataset.read_analysis(P)
rec = claims.Recorder("06_toxicity", P)
registered = set(rec.registry["claim_id"])
paper = nv.quoter(rec.registry)
pd.set_option("display.max_rows", 200, "display.width", 160)
dataset.banner(P, "Its Table 6 grade rows are constructed exactly as printed and every any-grade total is the sum of its grade rows; where the paper's own total is not that sum, ours differs, and this notebook shows why.")

# %% [markdown]
# ## Table 6
#
# Each event is summarised by the patient's **worst** CTCAE v5 grade, so every patient counts
# once per event. As in the paper, grades 3 and 4 share a row (the paper prints pneumonia's
# third row as "G3"), percentages are over all treated patients, and the neuropathy outcome
# rows (resolved, improved) are over the patients with neuropathy. Grade rows nobody reached are
# left out of the display, as in the paper; `results/table6.csv` keeps them as zeros.

# %%
table6 = toxicity.table6(analysis)
paths.write_csv(table6, P.result("table6.csv"))
descriptives.render_table(
    toxicity.table6_display(table6), title="Table 6 · Toxicity (compendium)", table_id="table6",
    group="event", stub="row",
    note="Number (%) of patients by worst grade; % over all patients (neuropathy outcome: over "
         "patients with neuropathy). G = CTCAE grade.",
)

# %%
for claim_id, value in toxicity.table6_claims(table6).items():
    if claim_id in registered:
        rec.record(claim_id, value)
t6_check = rec.table([c for c in rec.values if c.startswith("T6_")])
t6_check["status"].value_counts()

# %%
t6_check[t6_check["status"] != "match"]

# %% [markdown]
# ## Where Table 6 does not add up
#
# Two audits of the paper's own numbers, computed from the registry's printed values (nothing
# typed here), so they hold whatever the data:
#
# 1. the printed any-grade total against the sum of the printed grade rows. A patient counts
#    in one grade row only (the worst grade), so the rows must sum to the total;
# 2. each printed percentage against its printed count over its stated denominator (all treated
#    patients, or the patients with neuropathy), rounded as printed.

# %%
t6_totals = toxicity.audit_table6_totals(rec.registry)
t6_totals

# %%
t6_pct_audit = descriptives.audit_printed_percentages(rec.registry, "T6_")
t6_pct_audit[~t6_pct_audit["consistent"]]

# %%
bad_totals = t6_totals[~t6_totals["adds_up"]]
bad_pct = t6_pct_audit[~t6_pct_audit["consistent"]]
ours_any = table6[table6["row"] == "any"].set_index("ae")["n"]
event_keys = {label: key for key, label, _ in toxicity.TABLE6_EVENTS}
nv.md(f"""
- Printed totals that are not the sum of their grade rows:
  {nv.listing([f"**{r.event}** printed {r.printed_total:g}, grade rows {r.grade_rows} sum to {r.sum_of_grade_rows:g}"
              for r in bad_totals.itertuples()], empty="none")}.
  The text gives infusion-related reactions as {paper("R_irr_n")}, "{paper("R_irr_g1_n")} of grade 1 and
  {paper("R_irr_g2_n")} of grade 2", so for that event the table's G1 row ({paper("T6_irr_g1_n")}) is probably the slip.
- Printed percentages that are not their count over the denominator, rounded:
  {nv.listing([f"{r.quantity} {r.printed_n:g}/{r.denominator:g} = {r.n_over_denominator_pct:.1f}% (printed {r.printed_pct:g})"
              for r in bad_pct.itertuples()], empty="none")}. When some are rounded up and others down from the same
  fraction this is no rounding rule; more likely percentages computed on slightly different counts or typed by hand.

{nv.choose(dataset.read_meta(P)["synthetic"],
"On the synthetic cohort the totals are sums of the constructed grade rows, so on these events they differ from the "
"printed totals; that difference comes from the paper, not from the cohort.",
"On this input the totals are " + nv.listing(f"{r.event} {ours_any.get(event_keys[r.event], 0)}"
                                             for r in bad_totals.itertuples()) + ".")}
""")

# %%
nv.md(f"""
## Severe events (grade ≥ 3) and any event

Grade ≥ 3 includes grade 5 (death). The text's "infections grade 3 or higher in {paper("R_infection_ge3_pct")}%
(n = {paper("R_infection_ge3_n")})" matches the G3/4 row alone (printed {paper("T6_infection_g34_n")}); with the
{paper("T6_infection_g5_n")} grade-5 infections it is more. Likewise "grade ≥ 3 pneumonia in
{paper("R_pneumonia_ge3_n")}" is the G3 row without the grade-5 case.
""")

# %%
severe = toxicity.grade_at_least(analysis, 3)
severe["label"] = severe["ae"].map({k: label for k, label, _ in toxicity.TABLE6_EVENTS})
paths.write_csv(severe, P.result("toxicity_grade3plus.csv"))
severe.sort_values("n", ascending=False, kind="stable")

# %%
overall = toxicity.any_event_summary(analysis)
any_grade = table6[table6["row"] == "any"].set_index("ae")
ge3 = severe.set_index("ae")
for claim_id, value in {
    "R_any_ae_n": overall["any_n"], "R_any_ae_pct": overall["any_pct"],
    "R_ae_ge2_n": overall["ge2_n"], "R_ae_ge2_pct": overall["ge2_pct"],
    **{f"R_{ae}_n": any_grade.loc[ae, "n"] for ae in
       ("pn", "infection", "pneumonia", "anemia", "thrombocytopenia", "neutropenia", "asthenia",
        "diarrhoea", "nausea", "constipation", "skin_rash", "irr")},
    **{f"R_{ae}_pct": any_grade.loc[ae, "pct"] for ae in
       ("pn", "infection", "pneumonia", "anemia", "thrombocytopenia", "neutropenia", "asthenia",
        "diarrhoea", "nausea", "constipation", "skin_rash", "irr")},
    **{f"R_{ae}_ge3_n": ge3.loc[ae, "n"] for ae in ("infection", "pneumonia", "anemia", "thrombocytopenia", "neutropenia")},
    **{f"R_{ae}_ge3_pct": ge3.loc[ae, "pct"] for ae in ("infection", "anemia", "thrombocytopenia", "neutropenia")},
    "R_pn_g3_n": ge3.loc["pn", "n"], "R_pn_g3_pct": ge3.loc["pn", "pct"],
}.items():
    rec.record(claim_id, value)
overall

# %% [markdown]
# "Any adverse event" is the worst grade over the fourteen events of Table 6, the only ones the
# data dictionary records.

# %%
nv.md(f"""
## Infusion-related reactions and montelukast

The text says montelukast premedication was omitted in {paper("R_no_montelukast_n")} patients and that
{paper("R_no_montelukast_irr_n")} of them had an infusion-related reaction. Here it was omitted in
{nv.count(analysis["montelukast_premedication"].eq(0).sum(), "patient")}.
""")

# %%
irr = toxicity.irr_by_montelukast(analysis)
irr

# %%
irr_rows = table6[table6["ae"] == "irr"].set_index("row")
rec.record("R_irr_g1_n", irr_rows.loc["g1", "n"])
rec.record("R_irr_g2_n", irr_rows.loc["g2", "n"])
no_mk = irr.set_index("premedication").loc["no montelukast"]
rec.record("R_no_montelukast_n", no_mk["patients"])
rec.record("R_no_montelukast_irr_n", no_mk["irr_n"])
herpes = table6[table6["ae"] == "herpes_zoster"].set_index("row")
rec.record("R_herpes_zoster_g2_n", herpes.loc["g2", "n"])
rec.table([i for i in rec.values if i.startswith(("R_irr", "R_no_m", "R_herpes"))])

# %%
nv.md(f"""
## Peripheral neuropathy outcome

Table 6 gives {paper("T6_pn_resolved_n")} ({paper("T6_pn_resolved_pct")}%) resolved and {paper("T6_pn_improved_n")}
({paper("T6_pn_improved_pct")}%) improved, over the {paper("R_pn_n")} patients with neuropathy. The text's "improved
or resolved, after bortezomib dose reduction or termination ... respectively" can be read with "respectively"
pairing the counts either with improved/resolved or with dose reduction/termination; we take the table's
unambiguous labels. Here {nv.count(ours_any["pn"], "patient")} had neuropathy.
""")

# %%
table6[(table6["ae"] == "pn")]

# %% [markdown]
# ## Deaths and discontinuations caused by adverse events
#
# Deaths from adverse events are those whose recorded cause is an adverse event; the text names
# one infection and one pneumonia (the pneumonia death is the grade-5 pneumonia of Table 6, itself
# one of the two grade-5 infections). Discontinuation for toxicity is the recorded stop reason.
# The paper contradicts itself here: the Toxicity section says **no** patient discontinued for
# toxicity, the Response section and the Abstract give a number. Both are recorded; whatever
# the data, one of them has to differ.

# %%
deaths = toxicity.ae_deaths(analysis)
stopped = toxicity.discontinued_for_toxicity(analysis)
rec.record("R_ae_deaths_n", deaths["n"])
rec.record("R_ae_death_pneumonia_n", deaths["pneumonia_n"])
rec.record("R_ae_death_infection_n", deaths["infection_n"])
rec.record("R_tox_discontinued_n", stopped)
rec.record("A_tox_discontinued_n", stopped)
rec.table(["R_ae_deaths_n", "R_ae_death_pneumonia_n", "R_ae_death_infection_n",
           "R_tox_discontinued_n", "A_tox_discontinued_n"])

# %% [markdown]
# ## The Abstract's toxicity figures
#
# The Abstract gives different numbers from the Results for the same events. We record, for
# each, the value computed over all our treated patients; then, from the registry's printed
# numbers alone, the denominators that would make the Results' counts give the Abstract's
# percentages.

# %%
any_by = table6[table6["row"] == "any"].set_index("ae")["pct"]
group = table6.set_index(["ae", "row"])["pct"]
for claim_id, value in {
    "A_ae_ge2_n": overall["ge2_n"], "A_ae_ge2_pct": overall["ge2_pct"],
    "A_hematologic_pct": overall["hematologic_pct"],
    "A_infection_pct": any_by["infection"], "A_infection_g3_pct": group[("infection", "g34")],
    "A_infection_g5_pct": group[("infection", "g5")], "A_pneumonia_pct": any_by["pneumonia"],
    "A_asthenia_pct": any_by["asthenia"], "A_pn_pct": any_by["pn"], "A_pn_g3_pct": ge3.loc["pn", "pct"],
}.items():
    rec.record(claim_id, value)
rec.table([i for i in rec.values if i.startswith("A_")])

# %%
abstract_denominators = descriptives.implied_denominator_table(rec.registry, [
    ("A_ae_ge2_pct", "A_ae_ge2_n"), ("A_ae_ge2_pct", "R_ae_ge2_n"), ("A_pn_pct", "R_pn_n"),
    ("A_pn_g3_pct", "R_pn_g3_n"), ("A_pneumonia_pct", "R_pneumonia_n"), ("A_asthenia_pct", "R_asthenia_n"),
    ("A_infection_pct", "R_infection_n"), ("A_infection_g3_pct", "R_infection_ge3_n"),
    ("A_infection_g5_pct", "T6_infection_g5_n"),
])
abstract_denominators

# %%
fits = abstract_denominators["denominators_that_fit"].str.split(", ")
counts_fit = abstract_denominators[fits.map(lambda f: "79" in f)]
nv.md(f"""
**79** fits {nv.listing(f"{r.quantity} ({r.printed_count:g}/79)" for r in counts_fit.itertuples())}
and, in notebook 03, the bortezomib reductions: the Abstract seems to describe 79 patients, perhaps those with complete
toxicity data, and its grade ≥ 2 count ({paper("A_ae_ge2_n")}) is not the Results' {paper("R_ae_ge2_n")}.
{nv.listing(f"{r.quantity} {r.printed_pct:g}%" for r in abstract_denominators[fits.map(lambda f: "79" not in f and "85" not in f)].itertuples())}
fit neither 79 nor 85 with the Results' counts: they cannot be traced to any number in the paper. The "hematological
{paper("A_hematologic_pct")}%" has no printed count; over our {len(analysis)} patients we find the share of patients with
any anemia, thrombocytopenia or neutropenia: {nv.num(overall["hematologic_pct"])}%.
""")

# %% [markdown]
# ## Figure: adverse events by worst grade

# %%
fig = toxicity.grade_bar_chart(table6, width_in=plots.COLUMN_WIDTH_IN)
figure_files = plots.save_figure(fig, P.figure("06_adverse_events_by_grade"))

# %% [markdown]
# ## What this notebook recorded

# %%
summary = rec.table()
summary.groupby(["location", "status"]).size().unstack(fill_value=0)

# %%
summary[summary["status"] != "match"]

# %%
rec.save()

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
from compendium.chapters import setup, toxicity
from compendium.report import display as tables
from compendium.report import narrative as nv

ctx = setup(out_dir, spec_path, synthetic_note="Its Table 6 grade rows are constructed exactly as printed and every "
            "any-grade total is the sum of its grade rows; where the paper's own total is not that sum, ours differs, "
            "and this notebook shows why.")

# %%
ch = toxicity.compute(ctx)
paper = nv.quoter(ctx.registry)

# %% [markdown]
# ## Table 6
#
# Each event is summarised by the patient's **worst** CTCAE v5 grade, so every patient counts
# once per event. As in the paper, grades 3 and 4 share a row (the paper prints pneumonia's
# third row as "G3"), percentages are over all treated patients, and the neuropathy outcome
# rows (resolved, improved) are over the patients with neuropathy. Grade rows nobody reached are
# left out of the display, as in the paper; `results/table6.csv` keeps them as zeros.

# %%
toxicity.table6_table(ch.table("table6"), title="Table 6 · Toxicity (compendium)")

# %% [markdown]
# ### Table 6 drawn: patients by event and worst grade
#
# The same counts, each event's bar split by its patients' worst grade and ending in the
# any-grade count (% of all patients), most frequent first.

# %%
ch.figure(toxicity.FIGURE)

# %%
t6_check = ch.recorded(ch.table6_claims())
differing = t6_check[(t6_check["status"] != "match").to_numpy()]
matching = nv.count(len(t6_check) - len(differing), "matches", "match")
nv.md(f"Of Table 6's {nv.count(len(t6_check), 'printed number')}, {matching} this run at the printed precision"
      + nv.choose(len(differing) > 0, "; those that do not:", "."))

# %%
tables.table(differing, kind="claims", reasons="column",
             title="Table 6: the printed numbers that differ") if len(differing) else None

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
tables.table(ch.paper_totals, title="Table 6: each printed total against the sum of its printed grade rows")

# %%
tables.table(ch.paper_percentages[~ch.paper_percentages["consistent"]], drop=["consistent"],
             title="Table 6: printed percentages that are not their count over the denominator")

# %%
nv.md(toxicity.totals_paragraph(ch))

# %%
nv.md(f"""
## Severe events (grade ≥ 3) and any event

Grade ≥ 3 includes grade 5 (death). The text's "infections grade 3 or higher in {paper("R_infection_ge3_pct")}%
(n = {paper("R_infection_ge3_n")})" matches the G3/4 row alone (printed {paper("T6_infection_g34_n")}); with the
{paper("T6_infection_g5_n")} grade-5 infections it is more. Likewise "grade ≥ 3 pneumonia in
{paper("R_pneumonia_ge3_n")}" is the G3 row without the grade-5 case.
""")

# %%
severe = ch.table("toxicity_grade3plus").sort_values("n", ascending=False, kind="stable")
tables.table(severe[["label", "n", "pct"]], headers={"label": "Adverse event", "n": "Patients"},
             title="Patients with an event of grade ≥ 3 (grade 5 included)")

# %%
tables.table(ch.summary_table(), headers={"patients_with": "Patients with", "n": "Patients"},
             title="Patients with any event, and by worst grade")

# %% [markdown]
# "Any adverse event" is the worst grade over the fourteen events of Table 6, the only ones the
# data dictionary records.

# %%
omitted = ch.estimate("patients(montelukast_premedication=0)")
nv.md(f"""
## Infusion-related reactions and montelukast

The text says montelukast premedication was omitted in {paper("R_no_montelukast_n")} patients and that
{paper("R_no_montelukast_irr_n")} of them had an infusion-related reaction. Here it was omitted in
{nv.count(omitted.value, "patient") if omitted.estimable else "an unknown number of patients (" + omitted.reason + ")"}.
""")

# %%
tables.table(ch.facts["irr"], title="Infusion-related reactions by montelukast premedication")

# %%
tables.table(ch.section("infusion reactions"), kind="claims", reasons="column",
             title="Infusion reactions and herpes zoster: the paper's numbers beside this run's")

# %%
nv.md(f"""
## Peripheral neuropathy outcome

Table 6 gives {paper("T6_pn_resolved_n")} ({paper("T6_pn_resolved_pct")}%) resolved and {paper("T6_pn_improved_n")}
({paper("T6_pn_improved_pct")}%) improved, over the {paper("R_pn_n")} patients with neuropathy. The text's "improved
or resolved, after bortezomib dose reduction or termination ... respectively" can be read with "respectively"
pairing the counts either with improved/resolved or with dose reduction/termination; we take the table's
unambiguous labels. Here {nv.count(ch.facts["neuropathy_n"], "patient")} had neuropathy.
""")

# %%
tables.table(ch.neuropathy()[["row_label", "n", "denominator", "pct"]], headers={"row_label": "Row of Table 6"},
             title="Peripheral neuropathy: grades, and outcome over the patients with neuropathy")

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
tables.table(ch.section("deaths and discontinuations"), kind="claims", reasons="column",
             title="Deaths and discontinuations caused by adverse events")

# %% [markdown]
# ## The Abstract's toxicity figures
#
# The Abstract gives different numbers from the Results for the same events. We record, for
# each, the value computed over all our treated patients; then, from the registry's printed
# numbers alone, the denominators that would make the Results' counts give the Abstract's
# percentages.

# %%
tables.table(ch.recorded(ch.claims_where(location="Abstract")), kind="claims", reasons="column",
             title="The Abstract's toxicity figures beside this run's")

# %%
tables.table(ch.abstract_denominators,
             title="Denominators that turn the Results' counts into the Abstract's percentages")

# %%
nv.md(toxicity.abstract_paragraph(ch))

# %% [markdown]
# ## What this notebook recorded

# %%
summary = ch.recorded()
tables.table(summary.groupby(["location", "status"]).size().unstack(fill_value=0), kind="crosstab",
             title="Claims recorded here, by where the paper states them and status")

# %%
tables.table(summary[(summary["status"] != "match").to_numpy()], kind="claims", reasons="column",
             title="Claims recorded here that do not match")

# %%
ch.save()

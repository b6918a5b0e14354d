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
from compendium.chapters import descriptives, setup, toxicity
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
descriptives.render_table(
    toxicity.table6_display(ch.table("table6")), title="Table 6 · Toxicity (compendium)", table_id="table6",
    group="event", stub="row",
    note="Number (%) of patients by worst grade; % over all patients (neuropathy outcome: over "
         "patients with neuropathy). G = CTCAE grade.",
)

# %%
t6_check = ch.recorded(ch.table6_claims())
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
ch.paper_totals

# %%
ch.paper_percentages[~ch.paper_percentages["consistent"]]

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
ch.table("toxicity_grade3plus").sort_values("n", ascending=False, kind="stable")

# %%
ch.facts["summary"]

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
ch.facts["irr"]

# %%
ch.section("infusion reactions")

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
ch.neuropathy()

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
ch.section("deaths and discontinuations")

# %% [markdown]
# ## The Abstract's toxicity figures
#
# The Abstract gives different numbers from the Results for the same events. We record, for
# each, the value computed over all our treated patients; then, from the registry's printed
# numbers alone, the denominators that would make the Results' counts give the Abstract's
# percentages.

# %%
ch.recorded(ch.declared().query("location == 'Abstract'").claim_id)

# %%
ch.abstract_denominators

# %%
nv.md(toxicity.abstract_paragraph(ch))

# %% [markdown]
# ## Figure: adverse events by worst grade

# %%
ch.figure(toxicity.FIGURE)

# %% [markdown]
# ## What this notebook recorded

# %%
summary = ch.recorded()
summary.groupby(["location", "status"]).size().unstack(fill_value=0)

# %%
summary[summary["status"] != "match"]

# %%
ch.save()

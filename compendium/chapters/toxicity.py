"""Chapter 06, toxicity: Table 6, its summaries and what the text and the Abstract say of them.

Every adverse event is one column ``ae_<name>_grade`` holding the patient's maximum CTCAE v5
grade (0 = none). Table 6 of the paper prints, for each event, the patients with any grade and
then grade rows G1, G2, G3/4 and G5 (pneumonia's third row is printed "G3"); percentages are
over all treated patients, except the neuropathy outcome rows (resolved, improved), which are
over the patients with neuropathy.

``compute(context)`` returns a :class:`ToxicityChapter`: Table 6 and the grade >= 3 table as
tidy frames, the figure of events by worst grade, and the values of every claim. Table 6's
claims (``T6_<event>_<row>_n|pct``) are filled from Table 6's structure below; every other
claim names its quantity in the registry's ``estimate`` column (``ae_n(infection, min_grade=3)``,
``ae_pct(infection, row=g5)``, ``any_ae_n(min_grade=2)``, ``patients(end_reason=toxicity)``,
``ae_deaths(pneumonia)``; any other key of ``ae_n``/``patients`` is a column of the analysis
dataset that picks a subgroup, ``ae_n(irr, montelukast_premedication=0)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from compendium.chapters.base import Chapter, Context, Estimate, first
from compendium.chapters.descriptives import (audit_printed_percentages, equals, format_n_pct,
                                             implied_denominator_table, implied_denominators)

# Table 6 order: (key, label as printed, column)
TABLE6_EVENTS = [
    ("anemia", "Anemia", "ae_anemia_grade"),
    ("thrombocytopenia", "Thrombocytopenia", "ae_thrombocytopenia_grade"),
    ("neutropenia", "Neutropenia", "ae_neutropenia_grade"),
    ("irr", "Infusion-related reaction", "ae_irr_grade"),
    ("pn", "Peripheral neuropathy", "ae_pn_grade"),
    ("infection", "Infection", "ae_infection_grade"),
    ("pneumonia", "Pneumoniae", "ae_pneumonia_grade"),
    ("herpes_zoster", "Herpes zoster reactivation", "ae_herpes_zoster_grade"),
    ("asthenia", "Asthenia", "ae_asthenia_grade"),
    ("diarrhoea", "Diarrhoea", "ae_diarrhoea_grade"),
    ("nausea", "Nausea", "ae_nausea_grade"),
    ("constipation", "Constipation", "ae_constipation_grade"),
    ("skin_rash", "Skin rash", "ae_skin_rash_grade"),
    ("hepatic", "Hepatic toxicity", "ae_hepatic_grade"),
]
GRADE_GROUPS = [("g1", "G1", (1,)), ("g2", "G2", (2,)), ("g34", "G3/4", (3, 4)), ("g5", "G5", (5,))]
PN_OUTCOMES = [("resolved", "Resolved"), ("improved", "Improved")]
HEMATOLOGIC = ("anemia", "thrombocytopenia", "neutropenia")
TABLE6_COLUMNS = ["ae", "label", "row", "row_label", "n", "denominator", "pct"]


def grades(analysis: pd.DataFrame) -> pd.DataFrame:
    """The grade columns as integers, one column per Table 6 key (missing grade = 0, none)."""
    return pd.DataFrame({key: pd.to_numeric(analysis[col], errors="coerce").fillna(0).astype(int)
                         for key, _, col in TABLE6_EVENTS}, index=analysis.index)


def _pct(n, denominator):
    return 100.0 * n / denominator if denominator else float("nan")


def table6(analysis: pd.DataFrame) -> pd.DataFrame:
    """Table 6, tidy: per event the any-grade row, every grade group (zeros kept) and, for
    neuropathy, its outcome rows over the patients with neuropathy."""
    g = grades(analysis)
    n_all = len(analysis)
    rows = []
    for key, label, _ in TABLE6_EVENTS:
        any_n = int((g[key] > 0).sum())
        rows.append((key, label, "any", label, any_n, n_all, _pct(any_n, n_all)))
        for row, row_label, values in GRADE_GROUPS:
            n = int(g[key].isin(values).sum())
            rows.append((key, label, row, row_label, n, n_all, _pct(n, n_all)))
        if key == "pn":
            outcome = analysis.loc[g[key] > 0, "ae_pn_outcome"]
            for row, row_label in PN_OUTCOMES:
                n = int(equals(outcome, row).sum())
                rows.append((key, label, row, row_label, n, any_n, _pct(n, any_n)))
    return pd.DataFrame(rows, columns=TABLE6_COLUMNS)


def table6_claims(t6: pd.DataFrame) -> dict:
    """Claim id -> value: ``T6_<event>_<row>_n`` and ``_pct`` for every row of :func:`table6`."""
    out = {}
    for r in t6.itertuples(index=False):
        out[f"T6_{r.ae}_{r.row}_n"] = r.n
        out[f"T6_{r.ae}_{r.row}_pct"] = r.pct
    return out


def table6_display(t6: pd.DataFrame, any_label: str | None = None) -> pd.DataFrame:
    """Table 6 in the paper's form: ``Number (%)``; grade rows with nobody are left out, as printed
    (``any_label``: the any-grade row's label, the event's own name by default)."""
    shown = t6[(t6["row"] == "any") | (t6["n"] > 0) | t6["row"].isin([r for r, _ in PN_OUTCOMES])]
    rows = shown["row_label"].where((shown["row"] != "any") | (any_label is None), any_label)
    return pd.DataFrame({"event": shown["label"].to_numpy(), "row": rows.to_numpy(),
                         "Number (%)": [format_n_pct(n, p) if not pd.isna(p) else str(int(n))
                                        for n, p in zip(shown["n"], shown["pct"])]})


ANY_GRADE = "Any grade"


def table6_table(t6: pd.DataFrame, title: str = ""):
    """Table 6 for readers (the notebook and the export): each event a group, its any-grade row and
    the grade rows somebody reached, ``Number (%)``."""
    from compendium.report import display

    return display.table(table6_display(t6, any_label=ANY_GRADE), kind="grouped", group="event",
                         columns={"row": "Characteristics", "Number (%)": "Number (%)"}, title=title,
                         footnotes=["Number (%) of patients by worst grade; % over all patients (neuropathy "
                                    "outcome: over the patients with neuropathy). G, CTCAE grade."])


def grade_at_least(analysis: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """Per event: patients with a maximum grade >= ``minimum`` (n, % of all)."""
    g = grades(analysis)
    n = (g >= minimum).sum()
    return pd.DataFrame({"ae": n.index, "n": n.to_numpy().astype(int),
                         "pct": 100.0 * n.to_numpy() / len(analysis)})


def any_event_summary(analysis: pd.DataFrame) -> dict:
    """Patients with at least one event of any grade, of grade >= 2, of grade >= 3, and with
    any hematological event (anemia, thrombocytopenia or neutropenia)."""
    worst = grades(analysis).max(axis=1)
    hema = grades(analysis)[list(HEMATOLOGIC)].max(axis=1)
    n_all = len(analysis)
    out = {}
    for name, mask in (("any", worst >= 1), ("ge2", worst >= 2), ("ge3", worst >= 3),
                       ("hematologic", hema >= 1)):
        out[f"{name}_n"] = int(mask.sum())
        out[f"{name}_pct"] = _pct(int(mask.sum()), n_all)
    return out


def irr_by_montelukast(analysis: pd.DataFrame) -> pd.DataFrame:
    """Infusion-related reactions by montelukast premedication (patients, with IRR, % with IRR)."""
    irr = grades(analysis)["irr"] > 0
    given = pd.to_numeric(analysis["montelukast_premedication"], errors="coerce")
    irr = irr.to_numpy()
    rows = []
    for level, label in ((1, "montelukast"), (0, "no montelukast")):
        mask = equals(given, level).to_numpy()
        rows.append({"premedication": label, "patients": int(mask.sum()),
                     "irr_n": int((mask & irr).sum()),
                     "irr_pct": _pct(int((mask & irr).sum()), int(mask.sum()))})
    return pd.DataFrame(rows)


def ae_deaths(analysis: pd.DataFrame) -> dict:
    """Deaths from adverse events, split into pneumonia (grade 5) and other infection (grade 5)."""
    g = grades(analysis)
    died = equals(analysis["death_cause"], "adverse_event")
    pneumonia = died & (g["pneumonia"] == 5)
    infection = died & (g["infection"] == 5) & ~pneumonia
    return {"n": int(died.sum()), "pneumonia_n": int(pneumonia.sum()), "infection_n": int(infection.sum())}


def discontinued_for_toxicity(analysis: pd.DataFrame) -> int:
    return int(equals(analysis["end_reason"], "toxicity").sum())


# --- audits of the paper's own numbers (from the registry, never typed) -------------------

def audit_table6_totals(registry: pd.DataFrame) -> pd.DataFrame:
    """Per event: the printed any-grade total against the sum of its printed grade rows."""
    reg = registry.set_index("claim_id")["published"]
    labels = {row: label for row, label, _ in GRADE_GROUPS}
    rows = []
    for key, label, _ in TABLE6_EVENTS:
        total_id = f"T6_{key}_any_n"
        if total_id not in reg.index:
            continue
        grade_ids = [f"T6_{key}_{row}_n" for row, _, _ in GRADE_GROUPS if f"T6_{key}_{row}_n" in reg.index]
        total, grade_sum = reg[total_id], float(sum(reg[i] for i in grade_ids))
        rows.append({"event": label, "printed_total": total, "sum_of_grade_rows": grade_sum,
                     "grade_rows": ", ".join(f"{labels[i.split('_')[-2]]} {reg[i]:g}" for i in grade_ids),
                     "adds_up": bool(total == grade_sum)})
    return pd.DataFrame(rows)


# --- the chapter -----------------------------------------------------------------------

FIGURE = "06_adverse_events_by_grade"
#: The Abstract's toxicity percentages and the counts that could give them: which denominators
#: make each count reproduce the printed percentage.
ABSTRACT_DENOMINATOR_PAIRS = (
    ("A_ae_ge2_pct", "A_ae_ge2_n"), ("A_ae_ge2_pct", "R_ae_ge2_n"), ("A_pn_pct", "R_pn_n"),
    ("A_pn_g3_pct", "R_pn_g3_n"), ("A_pneumonia_pct", "R_pneumonia_n"), ("A_asthenia_pct", "R_asthenia_n"),
    ("A_infection_pct", "R_infection_n"), ("A_infection_g3_pct", "R_infection_ge3_n"),
    ("A_infection_g5_pct", "T6_infection_g5_n"),
)
NEUROPATHY = "pn"   # the event whose outcome Table 6 also gives (resolved, improved)
#: The claims each section of the notebook shows beside Table 6, by the start of their address.
SECTIONS = {
    "infusion reactions": ("ae_n(irr", "patients(montelukast", "ae_n(herpes_zoster"),
    "deaths and discontinuations": ("ae_deaths(", "patients(end_reason"),
}
EVENT_KEYS = {key for key, _, _ in TABLE6_EVENTS}
#: the rows of ``any_event_summary`` as readers see them (its keys, in Table 6's order of severity)
SUMMARY_ROWS = (("any", "Any adverse event of Table 6"), ("ge2", "An event of grade ≥ 2"),
                ("ge3", "An event of grade ≥ 3"), ("hematologic", "A hematological event (anemia, "
                                                                 "thrombocytopenia or neutropenia)"))
LABELS = {key: label for key, label, _ in TABLE6_EVENTS}


def _where(analysis: pd.DataFrame, where: dict) -> pd.DataFrame | str:
    """The patients whose columns equal the address's values, or why none can be picked."""
    mask = np.ones(len(analysis), dtype=bool)
    for column, value in where.items():
        if column not in analysis.columns:
            return f"the analysis dataset has no column {column}"
        values = analysis[column]
        if pd.api.types.is_numeric_dtype(values):
            try:
                value = float(value)
            except ValueError:
                return f"{column} holds numbers, not {value!r}"
        mask &= equals(values, value).to_numpy()
    return analysis[mask]


@dataclass
class ToxicityChapter(Chapter):
    notebook = "06_toxicity"
    facts: dict = field(default_factory=dict)
    paper_totals: pd.DataFrame = field(default_factory=pd.DataFrame)        # Table 6 totals against their rows
    paper_percentages: pd.DataFrame = field(default_factory=pd.DataFrame)   # Table 6 % against count / N
    abstract_denominators: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- accessors
    def row(self, event: str, row: str = "any") -> dict | None:
        """One row of Table 6 (``n``, ``denominator``, ``pct``): ``row`` is any, g1, g2, g34, g5,
        resolved or improved."""
        return first(self.tables["table6"], ae=event, row=row)

    def summary_table(self) -> pd.DataFrame:
        """Patients with any event, with one of grade >= 2, of grade >= 3, and with a hematological one."""
        facts, n_all = self.facts["summary"], len(self.context.analysis)
        rows = [(what, facts[f"{key}_n"], facts[f"{key}_pct"]) for key, what in SUMMARY_ROWS]
        return pd.DataFrame(rows, columns=["patients_with", "n", "pct"]).assign(denominator=n_all)

    def table6_claims(self) -> list[str]:
        return [c for c in self.values if c.startswith("T6_")]

    def neuropathy(self) -> pd.DataFrame:
        """Table 6's neuropathy rows: grades, and the outcome over the patients with neuropathy."""
        t6 = self.tables["table6"]
        return t6[(t6["ae"] == NEUROPATHY).to_numpy()]

    def section(self, name: str) -> pd.DataFrame:
        """Paper beside compendium for the claims one section of the notebook is about (``SECTIONS``)."""
        declared = self.declared()
        return self.recorded(declared.loc[declared["estimate"].str.startswith(SECTIONS[name]), "claim_id"])

    # -- addresses of the registry
    def resolvers(self):
        return {"ae_n": lambda *a, **k: self._ae(*a, **k)[0], "ae_pct": lambda *a, **k: self._ae(*a, **k)[1],
                "any_ae_n": lambda *a, **k: self._any(*a, **k)[0], "any_ae_pct": lambda *a, **k: self._any(*a, **k)[1],
                "patients": self._patients, "ae_deaths": self._deaths}

    def _ae(self, event, row=None, min_grade=None, grade=None, **where) -> tuple[Estimate, Estimate]:
        if event not in EVENT_KEYS:
            why = Estimate(reason=f"{event} is not an adverse event of Table 6")
            return why, why
        patients = _where(self.context.analysis, where)
        if isinstance(patients, str):
            return Estimate(reason=patients), Estimate(reason=patients)
        if row is not None:
            hit = first(table6(patients), ae=event, row=row)
            if hit is None:
                why = Estimate(reason=f"Table 6 has no row {row} for {event}")
                return why, why
            n, denominator = hit["n"], hit["denominator"]
        else:
            g = grades(patients)[event]
            n = int((g == int(grade)).sum() if grade is not None else (g >= int(min_grade or 1)).sum())
            denominator = len(patients)
        return Estimate(n), _share(n, denominator)

    def _any(self, *events, min_grade=1) -> tuple[Estimate, Estimate]:
        unknown = [e for e in events if e not in EVENT_KEYS]
        if unknown:
            why = Estimate(reason=f"{', '.join(unknown)}: not adverse events of Table 6")
            return why, why
        g = grades(self.context.analysis)[list(events) or [k for k, _, _ in TABLE6_EVENTS]]
        n = int((g.max(axis=1) >= int(min_grade)).sum())
        return Estimate(n), _share(n, len(g))

    def _patients(self, **where) -> Estimate:
        patients = _where(self.context.analysis, where)
        return Estimate(reason=patients) if isinstance(patients, str) else Estimate(len(patients))

    def _deaths(self, cause=None) -> Estimate:
        deaths = ae_deaths(self.context.analysis)
        key = "n" if cause is None else f"{cause}_n"
        return Estimate(deaths[key]) if key in deaths else Estimate(reason=f"no split of AE deaths by {cause}")


def _share(n, denominator) -> Estimate:
    return Estimate(100.0 * n / denominator) if denominator else Estimate(reason="not estimable (no patients)")


def compute(context: Context) -> ToxicityChapter:
    from compendium.report import seaborn_figures

    ch = ToxicityChapter(context)
    analysis, registry = context.analysis, context.registry
    t6 = table6(analysis)
    ch.tables["table6"] = t6
    severe = grade_at_least(analysis, 3)
    severe["label"] = severe["ae"].map(LABELS)
    ch.tables["toxicity_grade3plus"] = severe
    registered = set(registry["claim_id"])
    for claim_id, value in table6_claims(t6).items():   # Table 6's structure declares its own claims
        if claim_id in registered:
            ch.record(claim_id, Estimate(value) if not (isinstance(value, float) and math.isnan(value))
                      else Estimate(reason="not estimable (no patients with the event)"))
    ch.fill_declared()
    ch.facts.update(summary=any_event_summary(analysis), irr=irr_by_montelukast(analysis),
                    discontinued=discontinued_for_toxicity(analysis), deaths=ae_deaths(analysis),
                    neuropathy_n=(ch.row(NEUROPATHY) or {"n": 0})["n"])
    ch.paper_totals = audit_table6_totals(registry)
    ch.paper_percentages = audit_printed_percentages(registry, "T6_")
    ch.abstract_denominators = implied_denominator_table(
        registry, [pair for pair in ABSTRACT_DENOMINATOR_PAIRS if set(pair) <= registered])
    ch.figures[FIGURE] = seaborn_figures.adverse_events_by_grade(t6)  # says so when nobody had an event
    return ch


# --- prose ------------------------------------------------------------------------------

def totals_paragraph(ch: ToxicityChapter) -> str:
    """Where Table 6 does not add up, from the registry alone, and what this input gives instead."""
    from compendium.report import narrative as nv

    paper = nv.quoter(ch.context.registry)
    bad_totals = ch.paper_totals[~ch.paper_totals["adds_up"]] if len(ch.paper_totals) else ch.paper_totals
    bad_pct = ch.paper_percentages[~ch.paper_percentages["consistent"]]
    keys = {label: key for key, label, _ in TABLE6_EVENTS}
    ours = nv.listing(f"{r.event} {(ch.row(keys[r.event]) or {'n': 0})['n']}" for r in bad_totals.itertuples())
    return f"""
- Printed totals that are not the sum of their grade rows:
  {nv.listing([f"**{r.event}** printed {r.printed_total:g}, grade rows {r.grade_rows} sum to {r.sum_of_grade_rows:g}"
              for r in bad_totals.itertuples()], empty="none")}.
  The text gives infusion-related reactions as {paper("R_irr_n")}, "{paper("R_irr_g1_n")} of grade 1 and
  {paper("R_irr_g2_n")} of grade 2", so for that event the table's G1 row ({paper("T6_irr_g1_n")}) is probably the slip.
- Printed percentages that are not their count over the denominator, rounded:
  {nv.listing([f"{r.quantity} {r.printed_n:g}/{r.denominator:g} = {r.n_over_denominator_pct:.1f}% (printed {r.printed_pct:g})"
              for r in bad_pct.itertuples()], empty="none")}. When some are rounded up and others down from the same
  fraction this is no rounding rule; more likely percentages computed on slightly different counts or typed by hand.

""" + nv.choose(ch.context.synthetic,
                "On the synthetic cohort the totals are sums of the constructed grade rows, so on these events they "
                "differ from the printed totals; that difference comes from the paper, not from the cohort.",
                f"On this input the totals are {ours}.")


def abstract_paragraph(ch: ToxicityChapter) -> str:
    """Which denominators would turn the Results' counts into the Abstract's percentages."""
    from compendium.report import narrative as nv

    registry = ch.context.registry
    paper = nv.quoter(registry)
    table = ch.abstract_denominators
    if table.empty:
        return "The registry holds none of the Abstract's toxicity percentages."
    reg = registry.set_index("claim_id")
    cohort = int(reg.at["M_patients_n", "published"]) if "M_patients_n" in reg.index else None
    fits = table["denominators_that_fit"].str.split(", ")
    counts = pd.Series([d for f in fits for d in f if d.isdigit() and int(d) != cohort]).value_counts()
    hematologic = ch.estimate("any_ae_pct(anemia, thrombocytopenia, neutropenia)")
    tail = (f'The "hematological {paper("A_hematologic_pct")}%" has no printed count; over our '
            f"{nv.count(len(ch.context.analysis), 'patient')} the share with any anemia, thrombocytopenia or "
            f"neutropenia is {nv.num(hematologic.value) + '%' if hematologic.estimable else hematologic.reason}.")
    if counts.empty:
        return "No single denominator turns the Results' counts into the Abstract's percentages. " + tail
    common = counts.index[0]
    fit = table[fits.map(lambda f: common in f)]
    neither = table[fits.map(lambda f: common not in f and str(cohort) not in f)]
    btz = ("A_btz_reduced_n" in reg.index and "A_btz_reduced_pct" in reg.index
           and int(common) in implied_denominators(*reg.loc["A_btz_reduced_n", ["published"]],
                                                   *reg.loc["A_btz_reduced_pct", ["published", "tolerance"]]))
    return f"""
**{common}** fits {nv.listing(f"{r.quantity} ({r.printed_count:g}/{common})" for r in fit.itertuples())}
{"and, in notebook 03, the bortezomib reductions" if btz else ""}: the Abstract seems to describe {common} patients,
perhaps those with complete toxicity data, and its grade ≥ 2 count ({paper("A_ae_ge2_n")}) is not the Results'
{paper("R_ae_ge2_n")}. {nv.listing(f"{r.quantity} {r.printed_pct:g}%" for r in neither.itertuples())}
fit neither {common} nor {cohort} with the Results' counts: they cannot be traced to any number in the paper. {tail}
"""

"""Adverse events: Table 6 and its summaries (notebook 06).

Every adverse event is one column ``ae_<name>_grade`` holding the patient's maximum CTCAE v5
grade (0 = none). Table 6 of the paper prints, for each event, the patients with any grade and
then grade rows G1, G2, G3/4 and G5 (pneumonia's third row is printed "G3"); percentages are
over all treated patients, except the neuropathy outcome rows (resolved, improved), which are
over the patients with neuropathy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.chapters.descriptives import equals, format_n_pct, format_number

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


def table6_display(t6: pd.DataFrame) -> pd.DataFrame:
    """Table 6 in the paper's form: ``Number (%)``; grade rows with nobody are left out, as printed."""
    shown = t6[(t6["row"] == "any") | (t6["n"] > 0) | t6["row"].isin([r for r, _ in PN_OUTCOMES])]
    return pd.DataFrame({"event": shown["label"].to_numpy(), "row": shown["row_label"].to_numpy(),
                         "Number (%)": [format_n_pct(n, p) for n, p in zip(shown["n"], shown["pct"])]})


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


# --- figure ----------------------------------------------------------------------------

GRADE_COLOURS = {  # Okabe-Ito, light to dark with severity
    "G1": "#F0E442", "G2": "#E69F00", "G3/4": "#D55E00", "G5": "#000000",
}


def grade_bar_chart(t6: pd.DataFrame, width_in: float = 3.5):
    """Stacked horizontal bars: patients per event by grade group, most frequent at the top."""
    import matplotlib.pyplot as plt

    grade_rows = t6[t6["row"].isin([r for r, _, _ in GRADE_GROUPS])]
    wide = grade_rows.pivot(index="label", columns="row_label", values="n")[[g for _, g, _ in GRADE_GROUPS]]
    denominator = int(t6["denominator"].iloc[0])
    order = wide.sum(axis=1).sort_values(kind="stable")   # ascending: barh draws bottom-up
    wide = wide.loc[order.index]
    fig, ax = plt.subplots(figsize=(width_in, 0.22 * len(wide) + 1.0))
    left = np.zeros(len(wide))
    for group in wide.columns:
        ax.barh(wide.index, wide[group], left=left, color=GRADE_COLOURS[group],
                edgecolor="white", linewidth=0.4, label=group, height=0.75)
        left += wide[group].to_numpy()
    for y, total in enumerate(left):
        ax.text(total + 0.8, y, f"{int(total)} ({format_number(100 * total / denominator, 0)}%)",
                va="center", fontsize=6.5)
    ax.set_xlim(0, max(left) * 1.25 + 1)
    ax.set_xlabel(f"Patients (of {denominator})", fontsize=7.5)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(title="Worst grade", fontsize=6.5, title_fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig

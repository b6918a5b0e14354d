"""Table 6 builder and adverse-event summaries on a ten-patient frame with known grades."""

import pandas as pd
import pytest

from compendium.report import claims
from compendium.chapters import toxicity as t

EVENTS = [col for _, _, col in t.TABLE6_EVENTS]


def cohort() -> pd.DataFrame:
    frame = pd.DataFrame(0, index=range(10), columns=EVENTS)
    frame["ae_anemia_grade"] = [0, 1, 1, 2, 3, 4, 0, 0, 0, 5]
    frame["ae_thrombocytopenia_grade"] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    frame["ae_pn_grade"] = [1, 2, 3, 0, 0, 0, 0, 0, 0, 2]
    frame["ae_pn_outcome"] = ["resolved", "improved", "unchanged", None, None, None, None, None, None, "resolved"]
    frame["ae_irr_grade"] = [1, 0, 0, 0, 0, 2, 0, 0, 0, 0]
    frame["ae_infection_grade"] = [0, 0, 0, 0, 0, 0, 3, 5, 0, 5]
    frame["ae_pneumonia_grade"] = [0, 0, 0, 0, 0, 0, 0, 5, 0, 0]
    frame["montelukast_premedication"] = pd.array([1, 1, 1, 1, 1, 0, 0, 1, 1, 1], dtype="Int64")
    frame["death_cause"] = [None, None, None, None, None, None, None, "adverse_event", None, "adverse_event"]
    frame["end_reason"] = ["PD", "toxicity", None, "toxicity", None, None, None, "death", None, "death"]
    return frame.astype({c: "string" for c in ("ae_pn_outcome", "death_cause", "end_reason")})


@pytest.fixture
def t6():
    return t.table6(cohort()).set_index(["ae", "row"])


def test_table6_grade_groups(t6):
    anemia = t6.loc["anemia"]
    assert anemia.loc["any", "n"] == 6
    assert [anemia.loc[g, "n"] for g in ("g1", "g2", "g34", "g5")] == [2, 1, 2, 1]
    assert anemia.loc["g34", "pct"] == pytest.approx(20.0)
    assert anemia.loc["any", "denominator"] == 10
    assert t6.loc[("nausea", "any"), "n"] == 0                      # events nobody had stay, as zeros


def test_pn_outcome_is_over_patients_with_neuropathy(t6):
    assert t6.loc[("pn", "any"), "n"] == 4
    assert t6.loc[("pn", "resolved"), "n"] == 2
    assert t6.loc[("pn", "resolved"), "denominator"] == 4
    assert t6.loc[("pn", "resolved"), "pct"] == pytest.approx(50.0)
    assert t6.loc[("pn", "improved"), "pct"] == pytest.approx(25.0)


def test_table6_display_hides_empty_grade_rows_only():
    shown = t.table6_display(t.table6(cohort()))
    irr = shown[shown["event"] == "Infusion-related reaction"]
    assert list(irr["row"]) == ["Infusion-related reaction", "G1", "G2"]
    assert list(irr["Number (%)"]) == ["2 (20)", "1 (10)", "1 (10)"]
    assert "Improved" in set(shown.loc[shown["event"] == "Peripheral neuropathy", "row"])


def test_summaries():
    s = t.any_event_summary(cohort())
    assert (s["any_n"], s["ge2_n"], s["ge3_n"], s["hematologic_n"]) == (10, 8, 6, 7)
    assert s["any_pct"] == pytest.approx(100.0)
    ge3 = t.grade_at_least(cohort(), 3).set_index("ae")["n"]
    assert ge3["anemia"] == 3 and ge3["infection"] == 3 and ge3["pn"] == 1


def test_irr_by_montelukast():
    table = t.irr_by_montelukast(cohort()).set_index("premedication")
    assert table.loc["no montelukast", "patients"] == 2
    assert table.loc["no montelukast", "irr_n"] == 1
    assert table.loc["montelukast", "irr_n"] == 1


def test_ae_deaths_split_pneumonia_from_other_infection():
    assert t.ae_deaths(cohort()) == {"n": 2, "pneumonia_n": 1, "infection_n": 1}
    assert t.discontinued_for_toxicity(cohort()) == 2


def test_table6_claims_cover_the_registry():
    values = t.table6_claims(t.table6(cohort()))
    registry = claims.load_registry()
    registered = set(registry.loc[registry["claim_id"].str.startswith("T6_"), "claim_id"])
    assert registered <= set(values)
    assert values["T6_anemia_g5_n"] == 1


def test_audit_of_printed_totals_finds_the_three_that_do_not_add_up():
    audit = t.audit_table6_totals(claims.load_registry())
    assert set(audit.loc[~audit["adds_up"], "event"]) == {
        "Infusion-related reaction", "Infection", "Pneumoniae"}
    infection = audit.set_index("event").loc["Infection"]
    assert infection["sum_of_grade_rows"] - infection["printed_total"] == 3


def test_adverse_events_figure_orders_by_frequency_and_labels_each_bar():
    from compendium.report import seaborn_figures

    t6 = t.table6(cohort())
    fig = seaborn_figures.adverse_events_by_grade(t6)
    labels = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert labels[0] == "Anemia"                               # most frequent on top
    assert labels.index("Peripheral neuropathy") < labels.index("Infection")
    anemia = t6[(t6.ae == "anemia") & (t6.row == "any")].iloc[0]
    assert f"{anemia.n} (" in " ".join(text.get_text() for text in fig.axes[0].texts)
    assert fig.axes[0].get_legend().get_title().get_text() == "Worst grade (CTCAE)"

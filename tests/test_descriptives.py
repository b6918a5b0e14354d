"""Table 1 and first-line history on a hand-made cohort of eight patients.

Every expected number below was worked out by hand (quartiles as R's type 7:
position 1 + (n - 1) * p in the sorted values, linear between neighbours).
"""

import math

import numpy as np
import pandas as pd
import pytest

from compendium.report import claims
from compendium.chapters import descriptives as d

NA = pd.NA


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as read_analysis returns them: pandas strings with pd.NA for missing."""
    return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})


def cohort() -> pd.DataFrame:
    flags = lambda values: pd.array(values, dtype="Int64")  # noqa: E731  (as read_analysis types flags)
    return typed(pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(1, 9)],
        "center": ["A", "A", "B", "B", "B", "C", "C", "C"],
        "age_years": [50, 60, 66, 68, 70, 72, 80, 64],
        "age_group": ["<65", "<65", "65-70", "65-70", "65-70", ">70", ">70", "<65"],
        "sex": ["M", "M", "F", "F", "F", "M", "F", "F"],
        "isotype": ["IgG", "IgG", "IgA", "IgG", "BJ", "IgG", "BJ", "IgG"],
        "creatinine_mg_dl": [0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, np.nan],
        "calcium_mg_dl": [9.0, 8.0, 10.0, 9.5, 8.5, 9.0, 9.2, 9.4],
        "pc_ge60_relapse": flags([0, 0, 1, NA, NA, NA, 0, NA]),
        "iss": ["I", "I", "II", "III", None, "I", "II", None],
        "riss": ["I", None, "II", None, None, "II", "II", None],
        "cyto_risk_dx": ["high", "standard", "standard", None, "standard", None, None, "high"],
        "emd_relapse": flags([1, 0, 0, NA, 0, 0, NA, 0]),
        "asct_first_line": ["none", "single", "double", "single", "none", "none", "none", "single"],
        "prior_asct": flags([0, 1, 1, 1, 0, 0, 0, 1]),
        "bortezomib_exposed": flags([1, 1, 0, 0, 1, 0, 0, 1]),
        "carfilzomib_exposed": flags([0, 0, 1, 0, 0, 0, 0, 0]),
        "carfilzomib_refractory": flags([0, 0, 1, 0, 0, 0, 0, 0]),
        "bortezomib_refractory": flags([0, 1, 0, 0, 0, 0, 0, 0]),
        "first_line_class": ["bortezomib", "bortezomib", "carfilzomib", "lenalidomide",
                             "bortezomib", "lenalidomide", "lenalidomide", "bortezomib"],
        "len_exposure_months": [2, 4, 6, 8, 10, 12, 14, 100],
        "len_dose_pd_mg": [25, 20, 15, 10, 10, 5, 2.5, np.nan],
        "len_dose_pd_group": ["25-15", "25-15", "25-15", "10-2.5", "10-2.5", "10-2.5", "10-2.5", None],
        "first_line_pfs_months": [10, 20, 30, 40, 50, 60, 70, 80],
        "months_dx_to_daravd": [12, 24, 36, 48, 60, 72, 84, 96],
    }))


@pytest.fixture
def t1():
    return d.table1(cohort()).set_index("key")


def test_quantile7_matches_r_type7():
    # R: quantile(c(1, 2, 3, 4), c(.25, .5, .75)) -> 1.75 2.50 3.25
    assert d.quantile7([4, 1, 3, 2], 0.25) == 1.75
    assert d.quantile7([4, 1, 3, 2], 0.5) == 2.5
    assert d.quantile7([4, 1, 3, 2], 0.75) == 3.25
    assert d.quantile7([1, np.nan, 2], 0.5) == 1.5          # missing values are dropped
    assert math.isnan(d.quantile7([np.nan], 0.5))


def test_summarise_continuous():
    s = d.summarise_continuous(cohort()["creatinine_mg_dl"])   # 7 known values
    assert s["n"] == 7
    assert s["median"] == pytest.approx(1.0)
    assert s["q1"] == pytest.approx(0.85)
    assert s["q3"] == pytest.approx(1.15)
    assert (s["min"], s["max"]) == (0.7, 1.3)


def test_table1_counts_and_both_percentages(t1):
    assert t1.loc["age_lt65", "n"] == 3 and t1.loc["age_65_70", "n"] == 3 and t1.loc["age_gt70", "n"] == 2
    assert t1.loc["age_lt65", "pct_all"] == pytest.approx(37.5)
    assert t1.loc["sex_female", "n"] == 5
    assert t1.loc["isotype_IgG", "n"] == 5 and t1.loc["isotype_IgD", "n"] == 0
    # ISS: 6 evaluable of 8
    assert t1.loc["iss_I", "n"] == 3
    assert t1.loc["iss_I", "pct_all"] == pytest.approx(37.5)
    assert t1.loc["iss_I", "pct_evaluable"] == pytest.approx(50.0)
    assert t1.loc["iss_na", "n"] == 2 and math.isnan(t1.loc["iss_na", "pct_evaluable"])
    # flags with missing values: EMD present in 1 of 6 evaluable
    assert t1.loc["emd", "n"] == 1 and t1.loc["emd", "n_evaluable"] == 6
    assert t1.loc["emd", "pct_all"] == pytest.approx(12.5)
    assert t1.loc["emd", "pct_evaluable"] == pytest.approx(100 / 6)
    assert t1.loc["pc_lt60", "n"] == 3 and t1.loc["pc_ge60", "n"] == 1 and t1.loc["pc_na", "n"] == 4
    assert t1.loc["pc_lt60", "pct_evaluable"] == pytest.approx(75.0)
    assert t1.loc["cyto_dx_high", "n"] == 2 and t1.loc["cyto_dx_na", "n"] == 3
    assert t1.loc["asct_prior", "n"] == 4
    assert t1.loc["asct_single", "n"] == 3 and t1.loc["asct_double", "n"] == 1
    assert t1.loc["len_dose_pd_25_15", "n"] == 3 and t1.loc["len_dose_pd_na", "n"] == 1
    assert t1.loc["len_dose_pd_10_2_5", "pct_evaluable"] == pytest.approx(400 / 7)


def test_table1_medians_and_iqr(t1):
    age = t1.loc["age_median"]
    assert (age["median"], age["q1"], age["q3"]) == (67.0, 63.0, 70.5)
    exposure = t1.loc["len_exposure_median"]
    assert (exposure["median"], exposure["q1"], exposure["q3"]) == (9.0, 5.5, 12.5)
    assert t1.loc["creatinine_median", "n"] == 7


def test_table1_claims_cover_the_registry_exactly(t1):
    values = d.table1_claims(t1.reset_index())
    registry = claims.load_registry()
    registered = set(registry.loc[registry["claim_id"].str.startswith("T1_"), "claim_id"])
    assert registered <= set(values)
    # computed but not printed: the IgM row (no IgM patient in the paper) and the age quartiles
    assert set(values) - registered == {"T1_isotype_IgM_n", "T1_isotype_IgM_pct", "T1_age_q1", "T1_age_q3"}
    assert values["T1_iss_I_pct"] == pytest.approx(37.5)


def test_format_rounds_half_up_like_the_paper():
    assert d.format_number(30.5, 0) == "31"      # Python's round() would give 30
    assert d.format_number(2.5, 0) == "3"
    assert d.format_number(0.125, 2) == "0.13"
    assert d.format_number(float("nan"), 1) == ""
    assert d.format_n_pct(26, 100 * 26 / 85) == "26 (31)"
    assert d.format_median_iqr(0.85, 0.72, 1.01) == "0.85 [0.72–1.01]"


def test_display_drops_absent_unprinted_levels(t1):
    shown = d.table1_display(t1.reset_index())
    assert "IgM" not in set(shown["level"])
    row = shown[(shown["characteristic"] == "ISS") & (shown["level"] == "I")].iloc[0]
    assert row["Number (%)"] == "3 (38)" and row["% of evaluable"] == "50 (of 6)"


def test_len_dose_groups_text_split():
    groups = d.len_dose_groups(cohort()["len_dose_pd_mg"])
    assert groups == {"25 mg": 1, "15-20 mg": 2, "10 mg": 2, "<10 mg": 2, "NA": 1}


def test_first_line_history():
    fl = d.first_line_history(cohort())
    get = lambda q, level: fl[(fl["quantity"] == q) & (fl["level"] == level)].iloc[0]  # noqa: E731
    assert get("first-line class", "bortezomib")["n"] == 4
    assert get("first-line class", "bortezomib")["value"] == pytest.approx(50.0)
    assert get("carfilzomib refractory", "yes")["n"] == 1
    assert get("bortezomib refractory", "yes")["n"] == 1
    assert get("lenalidomide exposure (months)", "max")["value"] == 100
    assert get("first-line PFS median (months)", "all")["value"] == 45.0
    assert get("first-line PFS median (months)", "ASCT")["value"] == pytest.approx(35.0)     # 20 30 40 80
    assert get("first-line PFS median (months)", "no ASCT")["value"] == pytest.approx(55.0)  # 10 50 60 70
    assert get("diagnosis to DaraVd median (months)", "all")["value"] == 54.0


def test_audit_printed_percentages_flags_only_inconsistent_pairs():
    registry = pd.DataFrame({
        "claim_id": ["X_a_n", "X_a_pct", "X_b_n", "X_b_pct", "Y_c_pct"],
        "quantity": ["a", "a", "b", "b", "c"],
        "published": [26, 30, 21, 25, 10],
        "denominator": [85, 85, 85, 85, 85],
        "tolerance": [0, 0.5, 0, 0.5, 0.5],
    })
    audit = d.audit_printed_percentages(registry, "X_").set_index("claim_id")
    assert list(audit.index) == ["X_a_pct", "X_b_pct"]
    assert not audit.loc["X_a_pct", "consistent"]          # 26/85 = 30.6, printed 30
    assert audit.loc["X_b_pct", "consistent"]              # 21/85 = 24.7, printed 25
    assert audit.loc["X_a_pct", "n_over_denominator_pct"] == pytest.approx(2600 / 85)


def test_implied_denominators():
    assert d.implied_denominators(67, 85, 0.5) == [79]
    assert d.implied_denominators(46, 58, 0.5) == [79, 80]   # 46/80 = 57.5 is on the edge
    assert 84 in d.implied_denominators(72, 86, 0.5) and 85 not in d.implied_denominators(72, 86, 0.5)


def test_cytogenetics_summary_counts_over_evaluable():
    frame = cohort().assign(
        chr1_dx=pd.array(["none", "gain1q", None, "amp1q", "none", None, None, "none"], dtype="string"),
        cyto_risk_relapse=pd.array([None, "high", None, None, "standard", None, None, "high"], dtype="string"),
        del17p_relapse=pd.array([NA, 1, NA, NA, 0, NA, NA, 0], dtype="Int64"),
        chr1_relapse=pd.array([None, "none", None, None, "amp1q", None, None, "none"], dtype="string"),
    )
    cyto = d.cytogenetics_summary(frame).set_index(["column", "finding"])
    assert cyto.loc[("cyto_risk_dx", "high"), "n"] == 2 and cyto.loc[("cyto_risk_dx", "high"), "evaluable"] == 5
    assert cyto.loc[("chr1_dx", "gain1q"), "n"] == 1 and cyto.loc[("chr1_dx", "del1p"), "n"] == 0
    assert cyto.loc[("cyto_risk_relapse", "high"), "pct_evaluable"] == pytest.approx(200 / 3)
    assert cyto.loc[("del17p_relapse", "1"), "n"] == 1


def test_implied_denominator_table_reads_the_registry():
    registry = pd.DataFrame({"claim_id": ["A_x_pct", "R_x_n", d.PAPER_N_CLAIM], "quantity": ["x", "x", "patients"],
                             "published": [85, 67, 90], "tolerance": [0.5, 0, 0]})
    row = d.implied_denominator_table(registry, [("A_x_pct", "R_x_n")]).iloc[0]
    assert row["denominators_that_fit"] == "79"
    assert row["pct_of_paper_n"] == pytest.approx(6700 / 90), "over the paper's N as the registry holds it"
    without = d.implied_denominator_table(registry.iloc[:2], [("A_x_pct", "R_x_n")]).iloc[0]
    assert pd.isna(without["pct_of_paper_n"]), "no printed N, no percentage of it"


def test_render_table_is_deterministic_html(t1):
    shown = d.table1_display(t1.reset_index())
    html = [d.render_table(shown, "Table 1", table_id="table1").data for _ in range(2)]
    assert html[0] == html[1]
    assert 'id="table1"' in html[0] and "Hi-R" in html[0]

"""The audit of the paper against itself: Wald arithmetic, rounding boxes and pairings."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from compendium.report import audit, claims


def _reg(rows):
    cols = ["claim_id", "location", "quantity", "published", "unit", "denominator", "tolerance", "basis",
            "notebook", "note"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def test_wald_p_from_limits_matches_the_definition():
    beta, se = np.log(0.5), 0.3
    z = stats.norm.ppf(0.975)
    lcl, ucl = np.exp(beta - z * se), np.exp(beta + z * se)
    assert audit.wald_p_from_limits(lcl, ucl) == pytest.approx(2 * stats.norm.sf(abs(beta) / se), rel=1e-9)


def test_printed_hr_rows_are_checked_with_rounding():
    rows = []
    for stem, (hr, lcl, ucl, p) in {"T9_ok": (0.47, 0.28, 0.80, 0.005), "T9_bad_p": (0.47, 0.28, 0.80, 0.05),
                                    "T9_off_centre": (0.30, 0.28, 0.80, 0.005)}.items():
        rows += [(f"{stem}_hr", "Table 9", f"{stem}: HR", hr, "HR", None, 0.005, "emergent", "x", ""),
                 (f"{stem}_lcl", "Table 9", "l", lcl, "HR", None, 0.005, "emergent", "x", ""),
                 (f"{stem}_ucl", "Table 9", "u", ucl, "HR", None, 0.005, "emergent", "x", ""),
                 (f"{stem}_p", "Table 9", "p", p, "p", None, 0.0005, "emergent", "x", "")]
    out = audit.hazard_ratio_consistency(_reg(rows)).set_index(["claim_id", "check"])["consistent"]
    assert out[("T9_ok_p", "p implied by the CI")] and out[("T9_ok_hr", "HR centred in its CI")]
    assert not out[("T9_bad_p_p", "p implied by the CI")]
    assert not out[("T9_off_centre_hr", "HR centred in its CI")]


def test_abstract_pairs_over_other_denominators_are_reported_as_such():
    reg = _reg([
        ("A_x_pct", "Abstract", "x", 27, "%", 59, 0.5, "emergent", "n", ""),
        ("T1_x_pct", "Table 1", "x", 19, "%", 85, 0.5, "constructed", "n", ""),
        ("A_z_n", "Abstract", "z", 39, "n", 79, 0, "emergent", "n", ""),
        ("R_z_n", "Results", "z", 39, "n", 85, 0, "emergent", "n", ""),
        ("A_y_median", "Abstract", "y", 15, "months", None, 0.5, "emergent", "n", ""),
        ("R_y_median", "Results", "y", 14, "months", None, 0.5, "calibrated", "n", ""),
        ("A_w_p", "Abstract", "w", 0.003, "p", None, 0.0005, "emergent", "n", ""),
        ("R_w_p", "Results", "w", 0.062, "p", None, 0.0005, "emergent", "n", ""),
    ])
    out = audit.abstract_vs_body(reg).set_index("claim_id")
    # equal counts over 79 and 85 patients are not consistent: the denominators are the finding
    assert out.loc["A_z_n", "check"] == "Abstract against body: denominators" and not out.loc["A_z_n", "consistent"]
    assert "79" in out.loc["A_z_n", "detail"] and "85" in out.loc["A_z_n", "detail"]
    assert out.loc["A_x_pct", "check"] == "Abstract against body: denominators"
    assert out.loc["A_y_median", "check"] == "Abstract against body" and not out.loc["A_y_median", "consistent"]
    assert out.loc["A_w_p", "check"] == "Abstract against body: p-values"


def test_kinds_separate_contradictions_from_tensions():
    report = audit.paper_audit(claims.load_registry())
    kind = report.drop_duplicates("check").set_index("check")["kind"]
    assert kind["statements that exclude each other"] == audit.CONTRADICTION
    assert kind["statements in tension"] == audit.TENSION  # cycles against months assume no delays
    assert kind["Abstract against body: p-values"] == audit.TENSION
    assert kind["Abstract against body: denominators"] == audit.DENOMINATOR
    tension = report[report["kind"] == audit.TENSION]
    assert (tension["assumption"] != "").all()
    assert "R_duration_median" in set(tension["claim_id"])


def test_riss_check_is_gone():
    """Under R-ISS an ISS II patient is R-ISS II whatever the FISH: R-ISS needs no FISH there."""
    report = audit.paper_audit(claims.load_registry())
    assert not report["quantity"].str.contains("R-ISS evaluable").any()
    assert "R_riss_evaluable_n" not in set(report.loc[report["check"].str.startswith("statements"), "claim_id"])


def test_citation_check_finds_a_misnumbered_citation():
    refs = pd.DataFrame({"number": [1, 2], "first_author": ["Palumbo", "Dimopoulos"], "authors": ["Palumbo A", "Dimopoulos MA"],
                         "title": ["Daratumumab, bortezomib, and dexamethasone (CASTOR)", "Pomalidomide ... (APOLLO)"],
                         "journal": ["N Engl J Med", "Lancet Oncol"], "year": ["2016", "2021"], "doi": ["", ""]})
    cites = pd.DataFrame({"citation_id": ["c1", "c2"], "location": ["Discussion"] * 2, "context": ["x", "y"],
                          "number": [1, 1], "cited_for": ["CASTOR", "APOLLO"]})
    out = audit.citation_check(refs, cites).set_index("claim_id")
    assert out.loc["c1", "consistent"] and not out.loc["c2", "consistent"]
    assert out.loc["c2", "implied"] == 2 and "[2] Dimopoulos 2021" in out.loc["c2", "detail"]


def test_registered_citations_of_the_paper():
    references, citations = audit.load_references()
    assert len(references) == 40 and references["number"].tolist() == list(range(1, 41))
    out = audit.citation_check(references, citations).set_index("claim_id")
    assert out.loc["C09_20", "consistent"]            # CASTOR [20]: right
    assert out.loc["C14_39", "implied"] == 29         # teclistamab printed [39], is [29]
    assert out.loc["C18_27", "implied"] == 35         # MM-014 printed [27], is [35]


def test_bad_reference_number_is_reported(tmp_path):
    (tmp_path / "reference_list.csv").write_text("number,first_author,authors,title,journal,year,doi\nx,a,a,t,j,2020,\n")
    (tmp_path / "citations.csv").write_text("citation_id,location,context,number,cited_for\n")
    with pytest.raises(ValueError, match="reference_list.csv, column number, row 2"):
        audit.load_references(tmp_path)


def test_published_report_findings():
    """The committed registry: the tables' Wald statistics hold together; the known conflicts are found."""
    report = audit.paper_audit(claims.load_registry())
    hr = report[report["check"] == "HR centred in its CI"]
    assert len(hr) >= 20 and hr["consistent"].all()
    flagged = set(report.loc[~report["consistent"], "claim_id"])
    assert {"R_pfs2_median", "T6_infection_any_n", "A_age_median", "R_tox_discontinued_n"} <= flagged
    assert audit.schedule_months(9) == pytest.approx(196 / 30.4375)

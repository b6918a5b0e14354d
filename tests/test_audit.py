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


# --- the text against the tables (issue 17): each check flags what it should, and only that ------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from compendium.data.spec import PaperRow, Table  # noqa: E402

COHORT = ("M_patients_n", "Results", "patients", 85, "n", None, 0, "constructed", "01_cleaning", "")
ALPHA = ("M_alpha", "Methods", "cutoff", 0.05, "p", None, 0, "emergent", "08_reconciliation", "")
PRIOR_CHECKS = ["HR centred in its CI", "p implied by the CI", "Abstract against body",
                "Abstract against body: p-values", "Abstract against body: denominators",
                "percentage = count / denominator", "Table 6 total = sum of grade rows",
                "statements that exclude each other", "statements in tension", "citation matches the reference"]


def _share_reg(abstract_pct, count, extra_abstract_denominator=None):
    rows = [COHORT,
            ("A_x_pct", "Abstract", "x", abstract_pct, "%", None, 0.5, "emergent", "n", ""),
            ("R_x_n", "Results", "x", count, "n", 85, 0, "constructed", "n", ""),
            ("R_x_pct", "Results", "x", round(100 * count / 85 + 1e-9), "%", 85, 0.5, "constructed", "n", "")]
    if extra_abstract_denominator:
        rows.append(("A_y_n", "Abstract", "y", 1, "n", extra_abstract_denominator, 0, "emergent", "n", ""))
    return _reg(rows)


@settings(max_examples=80, deadline=None)
@given(count=st.integers(1, 85), shift=st.integers(-30, 30))
def test_abstract_share_without_denominator_is_set_against_the_body(count, shift):
    """An Abstract percentage printed without its denominator (infections 30%) was never compared with
    the body's (42%): now it is, and it is flagged exactly when the two printed shares differ."""
    body = round(100 * count / 85 + 1e-9)
    abstract = max(1, body + shift)
    out = audit.abstract_vs_body(_share_reg(abstract, count)).set_index("claim_id")
    assert out.loc["A_x_pct", "consistent"] == (abstract == body)
    if abstract != body:
        # no other Abstract denominator registered: a failure can only be a contradiction
        assert out.loc["A_x_pct", "check"] == "Abstract against body"
        if 100 * count / (abstract + 0.5) > 85:
            assert "more than the 85 treated" in out.loc["A_x_pct", "detail"]


def test_abstract_share_over_a_denominator_the_abstract_uses_is_a_denominators_finding():
    # 11 of 79 is 13.9% -> 14%; the body prints 11 (13%) of 85; the Abstract states 79 elsewhere
    out = audit.abstract_vs_body(_share_reg(14, 11, extra_abstract_denominator=79)).set_index("claim_id")
    assert out.loc["A_x_pct", "check"] == "Abstract against body: denominators"
    assert out.loc["A_x_pct", "printed"] == 79 and out.loc["A_x_pct", "implied"] == 85
    out = audit.abstract_vs_body(_share_reg(14, 11)).set_index("claim_id")
    assert out.loc["A_x_pct", "check"] == "Abstract against body"   # without it: 11 is 14% of 76-81, named nowhere


def _delayed_reg(abstract_n, abstract_pct, parts=(17, 4, 6)):
    rows = [COHORT, ("A_dara_delayed_n", "Abstract", "d", abstract_n, "n", None, 0, "constructed", "n", ""),
            ("A_dara_delayed_pct", "Abstract", "d", abstract_pct, "%", None, 0.5, "emergent", "n", "")]
    rows += [(f"{stem}_n", "Results", stem, n, "n", 85, 0, "constructed", "n", "")
             for stem, n in zip(("R_dara_skip1", "R_dara_skip2", "R_dara_skip3_5"), parts)]
    return _reg(rows)


@settings(max_examples=40, deadline=None)
@given(parts=st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 25)))
def test_abstract_count_against_the_sum_of_the_body_rows(parts):
    total = sum(parts)
    consistent = round(100 * total / 85 + 1e-9)
    out = audit.text_against_tables(_delayed_reg(total, consistent, parts), tables=[]).set_index("claim_id")
    assert out["consistent"].all(), out["detail"].tolist()
    out = audit.text_against_tables(_delayed_reg(total + 1, consistent + 3, parts), tables=[]).set_index("claim_id")
    assert not out["consistent"].any()


def test_published_abstract_against_body_findings():
    """The Abstract's infections (30%, 8% grade 3, 1% grade 5) against 36 (42%), G3/4 13 (15%) and G5 2,
    and its 27 (44%) delayed daratumumab against 17 + 4 + 6 = 27 of 85."""
    report = audit.paper_audit(claims.load_registry())
    def one(claim_id, check):
        hit = report[(report["claim_id"] == claim_id) & (report["check"] == check)]
        assert len(hit) == 1, (claim_id, check)
        return hit.iloc[0]

    for claim_id in ("A_infection_pct", "A_infection_g5_pct"):
        row = one(claim_id, "Abstract against body")
        assert not row["consistent"] and row["kind"] == audit.CONTRADICTION and "more than the 85" in row["detail"]
    g3 = one("A_infection_g3_pct", "Abstract against body: a grade within a merged row")
    assert not g3["consistent"] and g3["kind"] == audit.TENSION and "leaving 6 of the row" in g3["detail"]
    dara = one("A_dara_delayed_pct", "Abstract against body")
    assert not dara["consistent"] and dara["kind"] == audit.CONTRADICTION and "61-62 patients" in dara["detail"]
    assert dara["implied"] == pytest.approx(100 * 27 / 85)
    count = one("A_dara_delayed_n", "Abstract against body")
    assert count["consistent"] and count["implied"] == 27


MV_TABLE = Table("T4", "Table 4", "paper", "pfs", (
    PaperRow("T4_a", "A", "pfs", "a", "1", False), PaperRow("T4_b", "B", "pfs", "b", "1", False),
    PaperRow("T4_c", "C", "pfs", "c", "1", False)))


@settings(max_examples=60, deadline=None)
@given(ps=st.tuples(*[st.sampled_from([0.0005, 0.01, 0.049, 0.05, 0.2, 0.9])] * 3), named=st.integers(0, 3))
def test_text_against_the_multivariable_table(ps, named):
    rows = [ALPHA, ("A_pfs_mv_independent_n", "Abstract", "named", named, "n", None, 0, "calibrated", "n", "")]
    rows += [(f"T4_{k}_p", "Table 4", k, p, "p", None, 0.0005, "calibrated", "n", "") for k, p in zip("abc", ps)]
    out = audit.text_against_tables(_reg(rows), tables=[MV_TABLE])
    row = out.set_index("check").loc["text against the multivariable tables"]
    assert row["implied"] == sum(p < 0.05 for p in ps)
    assert row["consistent"] == (named == sum(p < 0.05 for p in ps))


@settings(max_examples=80, deadline=None)
@given(ps=st.lists(st.sampled_from([0.0005, 0.01, 0.049, 0.05, 0.068, 0.5]), min_size=1, max_size=5),
       data=st.data())
def test_methods_rule_flags_exactly_the_factors_fitted_against_it(ps, data):
    """'a multivariable model fitted with the covariates still significant in univariate analysis':
    a factor breaks the rule when it is significant and left out, or fitted and not significant."""
    covariates = [f"f{i}" for i in range(len(ps))]
    fitted = data.draw(st.sets(st.sampled_from(covariates)))
    univariate = Table("T2", "Table 2", "univariate", "pfs",
                       tuple(PaperRow(f"T2_{c}", c.upper(), "pfs", c, "1", False) for c in covariates))
    model = Table("T4", "Table 4", "paper", "pfs",
                  tuple(PaperRow(f"T4_{c}", c.upper(), "pfs", c, "1", False) for c in sorted(fitted)))
    rows = [ALPHA] + [(f"T2_{c}_p", "Table 2", c, p, "p", None, 0.0005, "calibrated", "n", "")
                      for c, p in zip(covariates, ps)]
    out = audit.text_against_tables(_reg(rows), tables=[univariate, model])
    rule = out[out["check"] == "Methods' rule against the models fitted"].set_index("claim_id")
    breaks = {f"T2_{c}_p" for c, p in zip(covariates, ps) if (p < 0.05) != (c in fitted)}
    assert set(rule.index[~rule["consistent"]]) == breaks
    assert len(rule) == len(covariates)


def test_methods_rule_on_the_paper():
    """Dexamethasone (PFS and OS) and plasma cells <60% (OS) significant and left out; EMD (OS) fitted
    though not significant; every other factor of Tables 2-3 follows the rule."""
    report = audit.paper_audit(claims.load_registry())
    rule = report[report["check"] == "Methods' rule against the models fitted"]
    assert set(rule.loc[~rule["consistent"], "claim_id"]) == {"T2_dex20_p", "T3_dex20_p", "T3_pc_lt60_p", "T3_no_emd_p"}
    assert (rule["kind"] == audit.CONTRADICTION).all()
    text = report[report["check"] == "text against the multivariable tables"].set_index("claim_id")
    assert not text.loc["A_pfs_mv_independent_n", "consistent"] and text.loc["A_pfs_mv_independent_n", "implied"] == 2
    assert text.loc["R_pfs_mv_independent_n", "consistent"] and text.loc["R_os_mv_independent_n", "consistent"]


def _schedule_reg(dose, days, cycle, groups):
    rows = [("R_dex_schedule_dose_mg", "Results", "dose", dose, "mg", None, 0, "emergent", "n", ""),
            ("R_dex_schedule_cycle_days", "Results", "cycle", cycle, "days", None, 0, "emergent", "n", "")]
    rows += [(f"R_dex_schedule_day_{i + 1}of{len(days)}", "Results", "day", d, "day", None, 0, "emergent", "n", "")
             for i, d in enumerate(days)]
    rows += [(f"T3_g{g:g}_weekly_mg", "Table 3", "group", g, "mg/week", None, 0, "emergent", "n", "") for g in groups]
    return _reg(rows)


@settings(max_examples=60, deadline=None)
@given(dose=st.sampled_from([10, 20, 40]), days=st.sets(st.integers(1, 28), min_size=1, max_size=12),
       cycle=st.sampled_from([21, 28]), groups=st.sets(st.sampled_from([10, 20, 40, 60, 80, 160]), min_size=1))
def test_dexamethasone_group_is_a_reduction_only_below_the_schedules_mean_week(dose, days, cycle, groups):
    days = sorted(d for d in days if d <= cycle) or [1]
    out = audit.text_against_tables(_schedule_reg(dose, days, cycle, groups), tables=[]).set_index("printed")
    mean = dose * len(days) * 7 / cycle
    for g in groups:
        assert out.loc[g, "consistent"] == (g < mean - 1e-9)
        assert out.loc[g, "implied"] == pytest.approx(mean)


def test_dexamethasone_groups_against_the_approved_schedule():
    """20 mg on days 1, 2, 4, 5, 8, 9, 11, 12 of 21: 80 mg in weeks 1 and 2, 53.3 mg/week on average
    (hand calculation), so '80 mg/week' is no reduction and 20 and 40 mg/week are."""
    report = audit.paper_audit(claims.load_registry())
    dex = report[report["check"] == "dexamethasone groups against the approved schedule"].set_index("claim_id")
    assert set(dex.index[~dex["consistent"]]) == {"T3_dex80_weekly_mg"}
    assert dex["implied"].tolist() == pytest.approx([160 / 3] * len(dex))
    assert "80 mg in week 1, 80 mg in week 2, 0 mg in week 3" in dex.loc["T3_dex80_weekly_mg", "detail"]
    assert (dex["kind"] == audit.TENSION).all() and (dex["assumption"] != "").all()


def test_every_check_of_today_is_kept_and_every_check_has_a_kind():
    references, citations = audit.load_references()
    report = audit.paper_audit(claims.load_registry(), references, citations)
    assert set(PRIOR_CHECKS) <= set(report["check"])
    assert report["kind"].isin([audit.CONTRADICTION, audit.TENSION, audit.DENOMINATOR]).all()


def test_checks_need_their_claims_and_skip_without_them():
    """A registry without the schedule, the cutoff or the counterparts gives no row of those checks."""
    out = audit.text_against_tables(_reg([COHORT]), tables=[MV_TABLE])
    assert out.empty

"""The audit of the paper against itself: Wald arithmetic, rounding boxes and pairings."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from compendium import audit, claims


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


def test_abstract_pairs_skip_percentages_of_other_patients():
    reg = _reg([
        ("A_x_pct", "Abstract", "x", 27, "%", 59, 0.5, "emergent", "n", ""),
        ("T1_x_pct", "Table 1", "x", 19, "%", 85, 0.5, "constructed", "n", ""),
        ("A_y_median", "Abstract", "y", 15, "months", None, 0.5, "emergent", "n", ""),
        ("R_y_median", "Results", "y", 14, "months", None, 0.5, "calibrated", "n", ""),
    ])
    out = audit.abstract_vs_body(reg)
    assert list(out["claim_id"]) == ["A_y_median"] and not out["consistent"].iloc[0]


def test_published_report_findings():
    """The committed registry: the tables' Wald statistics hold together; the known conflicts are found."""
    report = audit.paper_audit(claims.load_registry())
    hr = report[report["check"] == "HR centred in its CI"]
    assert len(hr) >= 20 and hr["consistent"].all()
    flagged = set(report.loc[~report["consistent"], "claim_id"])
    assert {"R_pfs2_median", "T6_infection_any_n", "A_age_median", "R_tox_discontinued_n"} <= flagged
    assert audit.schedule_months(9) == pytest.approx(196 / 30.4375)

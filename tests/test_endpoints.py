"""Endpoint derivation on hand-built patients whose answers are worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from compendium.data import endpoints, loading
from compendium import paths

M = 30.4375  # days per month


def _patients(**overrides) -> pd.DataFrame:
    """Typed raw rows built from the first synthetic patient, then overridden per test."""
    base = loading.typed(loading.read_text_table(paths.SYNTHETIC_COHORT)).iloc[[0]]
    n = max(len(v) for v in overrides.values())
    frame = pd.concat([base] * n, ignore_index=True)
    for col, values in overrides.items():
        dtype = frame[col].dtype
        frame[col] = pd.Series(values, dtype="datetime64[ns]" if col.endswith("_date") else dtype)
    return frame


START = "2020-01-01"
NONE = [None, None, None]


def test_pfs_censored_at_last_followup_and_death_counts():
    raw = _patients(
        daravd_start_date=[START] * 3,
        progression_date=[None, None, "2020-07-01"],   # 182 days
        death_date=[None, "2020-03-01", "2020-09-01"],  # 60 days for patient 2
        last_followup_date=["2021-01-01", "2020-03-01", "2020-09-01"],
        next_treatment_date=NONE, second_progression_date=NONE,
        death_cause=[None, "other", "myeloma"],
    )
    a = endpoints.derive(raw)
    assert a["pfs_months"].tolist() == pytest.approx([366 / M, 60 / M, 182 / M])
    assert a["pfs_event"].tolist() == [0, 1, 1]       # death without progression is a PFS event
    assert a["os_months"].tolist() == pytest.approx([366 / M, 60 / M, 244 / M])
    assert a["os_event"].tolist() == [0, 1, 1]


def test_ttnt_censors_death_and_pfs2_counts_it():
    raw = _patients(
        daravd_start_date=[START] * 3,
        progression_date=["2020-04-01", "2020-04-01", "2020-04-01"],
        next_treatment_date=["2020-05-01", None, "2020-05-01"],
        second_progression_date=["2020-09-01", None, None],
        death_date=[None, "2020-06-01", "2020-12-01"],
        last_followup_date=["2021-01-01", "2020-06-01", "2020-12-01"],
        death_cause=[None, "myeloma", "myeloma"],
    )
    a = endpoints.derive(raw)
    assert a["ttnt_event"].tolist() == [1, 0, 1]
    assert a["ttnt_months"].tolist() == pytest.approx([121 / M, 152 / M, 121 / M])
    assert a["pfs2_event"].tolist() == [1, 1, 1]
    assert a["pfs2_months"].tolist() == pytest.approx([244 / M, 152 / M, 335 / M])
    # next-line PFS runs from the next line's start, only for those who had one
    assert a["next_line_pfs_months"].iloc[0] == pytest.approx(123 / M)
    assert np.isnan(a["next_line_pfs_months"].iloc[1])
    assert a["next_line_pfs_months"].iloc[2] == pytest.approx(214 / M)


def test_age_in_completed_years_and_groups():
    raw = _patients(
        birth_date=["1955-01-02", "1955-01-01", "1949-06-30"],
        daravd_start_date=["2020-01-01", "2020-01-01", "2020-06-30"],
    )
    a = endpoints.derive(raw)
    assert a["age_years"].tolist() == [64, 65, 71]     # the day before the 65th birthday is still 64
    assert a["age_ge65"].tolist() == [0, 1, 1]
    assert a["age_group"].tolist() == ["<65", "65-70", ">70"]


def test_flags_are_empty_where_not_evaluable():
    raw = _patients(
        bm_pc_pct_relapse=[59.0, 60.0, np.nan],
        chr1_dx=["none", None, None], chr1_relapse=[None, "amp1q", None],
        best_response=["VGPR", "PR", "NE"],
    )
    a = endpoints.derive(raw)
    assert a["pc_ge60_relapse"].tolist()[:2] == [0, 1] and a["pc_ge60_relapse"].isna().iloc[2]
    assert a["amp1q"].tolist()[:2] == [0, 1] and a["amp1q"].isna().iloc[2]
    assert a["vgpr_or_better"].tolist()[:2] == [1, 0] and a["vgpr_or_better"].isna().iloc[2]
    assert a["orr"].tolist()[:2] == [1, 1]


def test_lenalidomide_exposure_in_months():
    raw = _patients(len_start_date=["2019-01-01"] * 3, len_end_date=["2019-01-31", "2020-01-01", "2019-07-02"])
    a = endpoints.derive(raw)
    assert a["len_exposure_months"].tolist() == pytest.approx([30 / M, 365 / M, 182 / M])


def test_contract_columns_present_in_order():
    contract = ("patient_id, center, age_years, age_ge65, sex, best_response, orr, vgpr_or_better, "
                "cr_or_better, emd_relapse, pc_ge60_relapse, cyto_high_risk_dx, cyto_high_risk_relapse, "
                "del17p_relapse, amp1q, dex_dose_group, len_exposure_months, len_dose_start_mg, "
                "len_dose_pd_mg, bortezomib_exposed, carfilzomib_exposed, pfs_months, pfs_event, os_months, "
                "os_event, ttnt_months, ttnt_event, pfs2_months, pfs2_event").split(", ")
    a = endpoints.derive(loading.typed(loading.read_text_table(paths.SYNTHETIC_COHORT)))
    assert list(a.columns[: len(contract)]) == contract


def test_cohort_flow_excludes_outside_window_and_single_cycle():
    raw = _patients(daravd_start_date=["2018-05-31", "2019-01-01", "2019-01-01"],
                    cycles_received=[4, 1, 4])
    flow, keep = endpoints.cohort_flow(raw)
    assert keep.tolist() == [False, False, True]
    assert flow.set_index("step").loc["analysed", "n"] == 1
    assert set(flow.loc[flow["step"] == "excluded", "reason"]) == {
        "DaraVd started outside June 2018 - December 2022", "fewer than two DaraVd cycles"}

"""Survival at fixed times (summary(survfit, times=)) and patients at risk at a median."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.stats import rates
from compendium.stats import survival as sv
from referee_reference import REF, analysis_or_skip, assert_close, check_inputs, r_out

SCRIPT = "tests/reference/competing_reference.R"
COLS = ["n_risk", "events_by", "surv", "std_err", "lower", "upper"]


@pytest.fixture(scope="module")
def manifest():
    return check_inputs("competing_manifest.csv", SCRIPT)


def compare(ours: pd.DataFrame, r: pd.DataFrame, what: str):
    ours = ours.dropna(subset=["surv"])  # R leaves out times beyond the last observation
    assert len(ours) == len(r), what
    assert (ours["time"].to_numpy() == r["time"].to_numpy()).all(), what
    for c in COLS:
        assert_close(ours[c], r[c], rtol=1e-10, atol=1e-14, what=f"{what} {c}")


def test_lung_fixed_times(manifest):
    lung = pd.read_csv(REF / "lung.csv")
    r = r_out("km_times.csv").query("dataset == 'lung'")
    for ct, rows in r.groupby("conf_type"):
        ours = rates.survival_at(lung["time"], lung["status"], (5, 180, 365, 730, 1000, 1100), ct)
        assert np.isnan(ours["surv"].iloc[-1])  # 1100 is after the last observation
        compare(ours, rows, f"lung {ct}")


def test_analysis_fixed_times(manifest):
    analysis = analysis_or_skip(manifest, SCRIPT)
    ours = rates.fixed_time_rates(analysis)
    r = r_out("km_times.csv").query("dataset == 'analysis'")
    for (endpoint, group, ct), rows in r.groupby(["endpoint", "group", "conf_type"]):
        part = ours[(ours["endpoint"] == endpoint) & (ours["group"] == group) & (ours["conf_type"] == ct)]
        compare(part, rows, f"{endpoint} {group} {ct}")


def test_before_first_event_survival_is_one():
    out = rates.survival_at([5, 6, 7], [1, 0, 1], (1,))
    assert out.loc[0, ["surv", "lower", "upper", "std_err", "n_risk"]].tolist() == [1.0, 1.0, 1.0, 0.0, 3]


def test_at_risk_at_median():
    # 11 patients, deaths at 1..6, censored at 7..11: S(5) = 6/11, S(6) = 5/11, so the
    # median is 6, where 6 patients were at risk
    time = np.arange(1.0, 12.0)
    event = (time <= 6).astype(int)
    df = pd.DataFrame({"patient_id": range(11), "pfs_months": time, "pfs_event": event})
    km = sv.km_summary(df, "pfs")
    out = rates.medians_at_risk(df, km, few=7)
    assert out.loc[0, "median"] == 6 and out.loc[0, "n_risk_at_median"] == 6
    assert out.loc[0, "events_at_or_after_median"] == 1 and bool(out.loc[0, "few"])
    assert not rates.medians_at_risk(df, km, few=6).loc[0, "few"]

"""Treatment and response durations as censored endpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.stats import durations


def frame():
    return pd.DataFrame({
        "patient_id": ["a", "b", "c", "d"],
        "treatment_months": [5.0, 12.0, 3.0, 20.0], "on_treatment": [0, 1, 0, 1],
        "orr": [1, 1, 0, np.nan], "response_months": [2.0, 4.0, np.nan, np.nan],
        "pfs_months": [6.0, 15.0, 3.0, 20.0], "pfs_event": [1, 0, 1, 0],
    })


def test_endpoints_coding():
    out = durations.duration_endpoints(frame())
    # still on treatment -> censored (event 0) at the follow-up, not a discontinuation
    assert out["ttd_event"].tolist() == [1, 0, 1, 0]
    # DoR only for responders, from the response date to the PFS event
    assert out["dor_months"].tolist()[:2] == [4.0, 11.0] and out["dor_months"].iloc[2:].isna().all()
    assert out["dor_event"].tolist()[:2] == [1, 0]
    assert out["ttbr_event"].tolist()[:2] == [1, 1] and out["ttbr_event"].iloc[2:].isna().all()


def test_km_median_of_ttd_exceeds_plain_median_when_long_treatments_are_censored():
    res = durations.duration_results(frame())
    ttd = res[(res.endpoint == "ttd") & (res.conf_type == "log")].iloc[0]
    # KM: events at 3 and 5, censored at 12 and 20 -> S = 1/2 from 5 to the last time, 20: R's
    # quantile rule takes the midpoint, 12.5; the plain median of the four durations is 8.5
    assert ttd["median"] == pytest.approx(12.5) and np.median(frame()["treatment_months"]) == 8.5
    assert (ttd["n"], ttd["events"]) == (4, 2)


def test_response_after_progression_is_refused():
    bad = frame()
    bad.loc[0, "response_months"] = 7.0
    with pytest.raises(ValueError, match="patient.*a"):
        durations.duration_endpoints(bad)

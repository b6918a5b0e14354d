"""Multiple imputation and Rubin's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from compendium.stats import imputation as im
from compendium.stats import survival as sv


def test_rubin_by_hand():
    # m = 3: estimates 1, 2, 3 (mean 2, B = 1), variances 0.5 each (W = 0.5): T = 0.5 + 4/3
    out = im.rubin([1.0, 2.0, 3.0], [0.5, 0.5, 0.5])
    t = 0.5 + (1 + 1 / 3) * 1.0
    df = 2 * (1 + 0.5 / (4 / 3)) ** 2
    assert out["estimate"] == 2 and out["se"] == pytest.approx(np.sqrt(t)) and out["df"] == pytest.approx(df)
    assert out["ucl"] == pytest.approx(2 + stats.t.ppf(0.975, df) * np.sqrt(t))
    assert out["p"] == pytest.approx(2 * stats.t.sf(2 / np.sqrt(t), df))


def test_rubin_without_between_variance_is_the_complete_data_wald():
    out = im.rubin([0.7, 0.7], [0.04, 0.04])
    assert out["df"] == np.inf and out["lcl"] == pytest.approx(0.7 - 1.959963984540054 * 0.2)


def test_nelson_aalen_matches_lifelines():
    from lifelines import NelsonAalenFitter
    rng = np.random.default_rng(1)
    t, e = rng.exponential(5, 40).round(1), rng.integers(0, 2, 40)
    naf = NelsonAalenFitter(nelson_aalen_smoothing=False).fit(t, e)
    ours = im.nelson_aalen_at(t, e)
    np.testing.assert_allclose(ours, naf.cumulative_hazard_at_times(t).to_numpy(), atol=1e-12)


def cohort(n=300, seed=7):
    rng = np.random.default_rng(seed)
    x, z = rng.integers(0, 2, n), rng.integers(0, 2, n)
    t = rng.exponential(np.exp(-(0.8 * x - 0.5 * z)))
    c = rng.exponential(2.0, n)
    return pd.DataFrame({"pfs_months": np.minimum(t, c), "pfs_event": (t <= c).astype(int), "x": x.astype(float),
                         "z": z.astype(float)})


def test_nothing_missing_gives_the_complete_data_fit():
    d = cohort(80)
    pooled = im.pooled_cox(im.impute_binary(d, "x", ["z"], "pfs", 5, 1), "pfs", ["x", "z"], "mi")
    full = sv.cox_multivariable(d, "pfs", ["x", "z"], "cc")
    np.testing.assert_allclose(pooled["hr"], full["hr"], rtol=1e-12)
    np.testing.assert_allclose(pooled[["lcl", "ucl"]], full[["lcl", "ucl"]], rtol=1e-9)


def test_imputation_recovers_the_full_data_estimate():
    """40% of x missing at random: MI is close to the full-data fit and keeps every patient."""
    d = cohort()
    full = sv.cox_multivariable(d, "pfs", ["x", "z"], "full")
    rng = np.random.default_rng(3)
    holed = d.copy()
    holed.loc[rng.random(len(d)) < 0.4, "x"] = np.nan
    pooled = im.pooled_cox(im.impute_binary(holed, "x", ["z"], "pfs", 30, 11), "pfs", ["x", "z"], "mi")
    assert pooled["n"].iloc[0] == len(d)
    assert np.log(pooled["hr"].iloc[0]) == pytest.approx(np.log(full["hr"].iloc[0]), abs=0.15)
    assert pooled["ucl"].iloc[0] / pooled["lcl"].iloc[0] > full["ucl"].iloc[0] / full["lcl"].iloc[0]  # wider


def test_imputed_values_are_binary_and_observed_ones_unchanged():
    d = cohort(60)
    d.loc[:9, "x"] = np.nan
    copies = im.impute_binary(d, "x", ["z"], "pfs", 3, 5)
    for c in copies:
        assert set(c["x"].unique()) <= {0.0, 1.0}
        pd.testing.assert_series_equal(c["x"].iloc[10:], d["x"].iloc[10:])

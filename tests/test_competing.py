"""Cumulative incidence and Gray's test against R (cmprsk::cuminc, survfit multi-state)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.stats import competing
from referee_reference import REF, analysis_or_skip, assert_close, check_inputs, r_out

SCRIPT = "tests/reference/competing_reference.R"


@pytest.fixture(scope="module")
def manifest():
    return check_inputs("competing_manifest.csv", SCRIPT)


@pytest.fixture(scope="module")
def mgus(manifest):
    return pd.read_csv(REF / "mgus2.csv")


def test_cif_mgus2_matches_cuminc_and_survfit(mgus):
    r = r_out("cuminc.csv").query("dataset == 'mgus2'")
    for (group, cause), rows in r.groupby(["group", "cause"]):
        d = mgus if group == "all" else mgus[mgus["sex"] == group.split("=")[1]]
        ours = competing.cif_at(d["time"], d["status"], rows["time"].to_numpy(), int(cause))
        assert_close(ours["cif"], rows["cif"], atol=1e-12, what=f"cuminc {group} {cause}")
        assert_close(ours["var"], rows["var"], rtol=1e-9, atol=1e-15, what=f"cuminc var {group} {cause}")
        assert_close(ours["cif"], rows["aj"], atol=1e-12, what=f"survfit Aalen-Johansen {group} {cause}")


def test_cif_of_all_causes_is_one_minus_km(mgus):
    """F_1 + F_2 = 1 - KM(all causes) at every time: a property a wrong weighting breaks."""
    t1 = competing.cumulative_incidence(mgus["time"], mgus["status"], 1)
    t2 = competing.cumulative_incidence(mgus["time"], mgus["status"], 2)
    np.testing.assert_allclose(t1["cif"] + t2["cif"], 1 - t1["surv"], atol=1e-12)


def test_without_competing_events_cif_is_one_minus_km():
    from compendium.stats import survival as sv
    rng = np.random.default_rng(3)
    t, e = rng.exponential(10, 60).round(1), rng.integers(0, 2, 60)
    km = sv.km_table(t, e)
    cif = competing.cumulative_incidence(t, e, 1)
    np.testing.assert_allclose(cif["cif"], 1 - km.loc[km["n_event"] > 0, "surv"], atol=1e-12)


@pytest.mark.parametrize("group", ["sex", "age70", "agegrp3"])
def test_gray_mgus2(mgus, group):
    g = mgus[group] if group != "agegrp3" else pd.read_csv(REF / "mgus2_agegrp3.csv")["agegrp3"]
    r = r_out("gray.csv").query("dataset == 'mgus2' and group == @group")
    for _, row in r.iterrows():
        ours = competing.gray_test(mgus["time"], mgus["status"], g, int(row["cause"]))
        assert ours["df"] == row["df"]
        # R's p is 1 - pchisq(...): exactly 0 below about 1e-16
        assert_close([ours["stat"], ours["p"]], [row["stat"], row["p"]], rtol=1e-9, atol=1e-15,
                     what=f"Gray {group} cause {row['cause']}")


def test_gray_is_zero_for_identical_groups():
    t = np.tile(np.arange(1.0, 21.0), 2)
    s = np.tile(np.array([1, 2, 0, 1, 1] * 4), 2)
    res = competing.gray_test(t, s, np.repeat([0, 1], 20))
    assert res["stat"] == pytest.approx(0.0, abs=1e-12) and res["p"] == pytest.approx(1.0)


def test_analysis_cif_and_gray(manifest):
    analysis = analysis_or_skip(manifest, SCRIPT)
    ours = competing.cif_results(analysis)
    r = r_out("cuminc.csv").query("dataset == 'analysis'")
    merged = r.merge(ours, on=["analysis", "group", "cause", "time"], suffixes=("_r", ""))
    assert len(merged) == len(r) > 0
    assert_close(merged["cif"], merged["cif_r"], atol=1e-12, what="analysis CIF")
    assert_close(merged["var"], merged["var_r"], rtol=1e-9, atol=1e-15, what="analysis CIF variance")
    gray = competing.gray_results(analysis)
    rg = r_out("gray.csv").query("dataset == 'analysis'").merge(gray, on=["analysis", "cause"], suffixes=("_r", ""))
    assert len(rg) == 4
    assert_close(rg["stat"], rg["stat_r"], rtol=1e-9, what="analysis Gray")


def test_competing_status_coding():
    a = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "ttnt_months": [5.0, 8.0, 9.0, 4.0],
                      "ttnt_event": [1, 0, 0, 0], "os_months": [20.0, 8.0, 12.0, 4.0], "os_event": [0, 1, 0, 0],
                      "pfs_months": [3.0, 8.0, 9.0, 4.0], "pfs_event": [1, 1, 0, 0]})
    cs = competing.competing_status(a)
    assert cs["next_treatment_status"].tolist() == [1, 2, 0, 0]
    assert cs["progression_status"].tolist() == [1, 2, 0, 0]


def test_bad_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        competing.cumulative_incidence([1, 2, 3], [0, 1, -1])


def test_group_with_a_missing_value_not_evaluable():
    """A patient not evaluable for response (nullable NA flag) is left out of the by-group rows."""
    a = pd.DataFrame({"patient_id": list("abcd"), "ttnt_months": [5.0, 8.0, 9.0, 4.0], "ttnt_event": [1, 0, 0, 1],
                      "os_months": [20.0, 8.0, 12.0, 4.0], "os_event": [0, 1, 0, 0],
                      "pfs_months": [3.0, 8.0, 9.0, 4.0], "pfs_event": [1, 1, 0, 1],
                      "vgpr_or_better": pd.array([1, 0, pd.NA, 1], dtype="Int64")})
    out = competing.cif_results(a, times=(6.0,))
    assert set(out["group"]) == {"all", "vgpr_or_better=0", "vgpr_or_better=1"}
    assert out.query("group == 'vgpr_or_better=1'")["n"].iloc[0] == 2
    from compendium.stats import rates
    assert set(rates.fixed_time_rates(a, endpoints=("pfs",), times=(6.0,))["n"]) == {4, 1, 2}

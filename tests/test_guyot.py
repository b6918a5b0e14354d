"""Guyot reconstruction: round trip on simulated data, and the published KEYNOTE-189 results."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compendium.stats import guyot
from compendium.stats import survival as sv

REF = Path(__file__).resolve().parent / "reference" / "guyot"

# KEYNOTE-189, Gandhi et al., N Engl J Med 2018;378:2078-92, doi 10.1056/NEJMoa1801005, abstract:
# hazard ratio for death 0.49 (95% CI 0.38 to 0.64); 12-month overall survival 69.2% and 49.4%.
KEYNOTE189_HR, KEYNOTE189_LCL, KEYNOTE189_UCL = 0.49, 0.38, 0.64
KEYNOTE189_OS12 = {"pembro": 0.692, "placebo": 0.494}


def surv_at(km: pd.DataFrame, t: float) -> float:
    before = km[km["time"] <= t]
    return 1.0 if before.empty else float(before["surv"].iloc[-1])


def hr(arms: dict[str, pd.DataFrame], treated: str) -> pd.Series:
    df = pd.concat([d.assign(treated=int(name == treated)) for name, d in arms.items()])
    df = df.rename(columns={"time": "os_months", "event": "os_event"})
    return sv.cox_fit(df, "os", ["treated"]).table().iloc[0]


def published_inputs(km: pd.DataFrame, data: pd.DataFrame, every: float = 3.0):
    """What a figure shows: the curve's step corners and the numbers at risk every 3 months."""
    t_risk = np.arange(0, data["time"].max(), every)
    n_risk = [(data["time"] >= x).sum() for x in t_risk]
    return km["time"], km["surv"], t_risk, n_risk


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(2012)
    arms = {}
    for name, rate in (("control", 0.06), ("treated", 0.06 * 0.6)):
        t_event = rng.exponential(1 / rate, 300)
        t_cens = rng.uniform(6, 42, 300)
        arms[name] = pd.DataFrame({"time": np.minimum(t_event, t_cens).round(2),
                                   "event": (t_event <= t_cens).astype(int)})
    return arms


def test_round_trip_reproduces_the_curves(simulated):
    grid = np.linspace(0, 40, 401)
    for data in simulated.values():
        km = sv.km_table(data["time"], data["event"])
        ipd = guyot.reconstruct(*published_inputs(km, data))
        assert len(ipd) == len(data)
        km2 = sv.km_table(ipd["time"], ipd["event"])
        gap = max(abs(surv_at(km, g) - surv_at(km2, g)) for g in grid)
        assert gap < 0.02
        assert abs(ipd["event"].sum() - data["event"].sum()) <= 0.03 * data["event"].sum()


def test_round_trip_reproduces_the_hazard_ratio(simulated):
    rebuilt = {}
    for name, data in simulated.items():
        km = sv.km_table(data["time"], data["event"])
        rebuilt[name] = guyot.reconstruct(*published_inputs(km, data))
    original, again = hr(simulated, "treated"), hr(rebuilt, "treated")
    assert again["hr"] == pytest.approx(original["hr"], rel=0.03)
    assert again["lcl"] == pytest.approx(original["lcl"], rel=0.05)
    assert again["ucl"] == pytest.approx(original["ucl"], rel=0.05)


@pytest.fixture(scope="module")
def keynote189():
    out = {}
    for arm in ("pembro", "placebo"):
        clicks = pd.read_csv(REF / f"keynote189_os_{arm}_clicks.csv")
        risk = pd.read_csv(REF / f"keynote189_os_{arm}_at_risk.csv")
        out[arm] = guyot.reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["NAR"])
        out[arm + "_risk"] = risk
    return out


def test_keynote189_patients_and_numbers_at_risk(keynote189):
    for arm in ("pembro", "placebo"):
        ipd, risk = keynote189[arm], keynote189[arm + "_risk"]
        assert len(ipd) == risk["NAR"].iloc[0]
        # at every risk-table time inside the drawn curve but the last, the reconstruction has the
        # printed number at risk within 1%
        inside = risk[(risk["time"] > 0) & (risk["time"] <= 12)]
        rebuilt = np.array([(ipd["time"] >= t).sum() for t in inside["time"]])
        np.testing.assert_allclose(rebuilt, inside["NAR"], rtol=0.015, atol=1)


def test_keynote189_hazard_ratio_and_12_month_survival_come_close(keynote189):
    arms = {"pembro": keynote189["pembro"], "placebo": keynote189["placebo"]}
    fit = hr(arms, "pembro")
    assert fit["hr"] == pytest.approx(KEYNOTE189_HR, abs=0.02)
    assert fit["lcl"] == pytest.approx(KEYNOTE189_LCL, abs=0.02)
    assert fit["ucl"] == pytest.approx(KEYNOTE189_UCL, abs=0.02)
    for arm, published in KEYNOTE189_OS12.items():
        km = sv.km_table(arms[arm]["time"], arms[arm]["event"])
        assert surv_at(km, 12) == pytest.approx(published, abs=0.01)


def test_bad_curves_are_refused_with_a_reason(tmp_path):
    with pytest.raises(guyot.CurveError, match="start at time 0"):
        guyot.reconstruct([0, 1, 2], [1, 0.9, 0.8], [1, 2], [10, 9])
    with pytest.raises(guyot.CurveError, match="never increase"):
        guyot.reconstruct([0, 1, 2], [1, 0.9, 0.8], [0, 1], [10, 12])
    with pytest.raises(guyot.CurveError, match="no digitised point between"):
        guyot.reconstruct([0, 0.5, 2.5], [1, 0.9, 0.8], [0, 1, 2], [10, 9, 8])
    (tmp_path / "x_clicks.csv").write_text("time,survival\n0,1\n1,1.4\n")
    (tmp_path / "x_at_risk.csv").write_text("time,n_risk\n0,10\n")
    with pytest.raises(guyot.CurveError, match=r"x_clicks.csv: row 3, column survival: 1.4"):
        guyot.read_curve(tmp_path / "x")
    (tmp_path / "x_clicks.csv").write_text("time,survival\n0,1\n1,abc\n")
    with pytest.raises(guyot.CurveError, match=r"row 3, column survival: 'abc' is not a number"):
        guyot.read_curve(tmp_path / "x")
    with pytest.raises(guyot.CurveError, match="y_clicks.csv: file not found"):
        guyot.read_curve(tmp_path / "y")
    assert guyot.curves_available(tmp_path) == [tmp_path / "x"]


def test_digitising_noise_is_cleaned():
    t, s = guyot.clean_clicks([2, 1, 3], [0.8, 0.9, 0.85])  # unsorted, and S rising at t = 3
    assert list(t) == [0, 1, 2, 3] and list(s) == [1, 0.9, 0.8, 0.8]


def test_a_digitised_curve_against_a_cohort(tmp_path, keynote189):
    for arm in ("pembro", "placebo"):
        pd.read_csv(REF / f"keynote189_os_{arm}_clicks.csv").to_csv(tmp_path / f"kn_os_{arm}_clicks.csv", index=False)
        keynote189[arm + "_risk"].rename(columns={"NAR": "n_risk"}).to_csv(tmp_path / f"kn_os_{arm}_at_risk.csv",
                                                                           index=False)
    assert guyot.curve_endpoint(tmp_path / "kn_os_placebo") == "os"
    with pytest.raises(guyot.CurveError, match="exactly one of _pfs_ or _os_"):
        guyot.curve_endpoint("trial_curve")
    # this "cohort" is the pembrolizumab arm: against the placebo curve it gives the trial's HR
    cohort = keynote189["pembro"].rename(columns={"time": "os_months", "event": "os_event"})
    res = guyot.against_cohort(tmp_path / "kn_os_placebo", cohort)
    assert res["hr"] == pytest.approx(KEYNOTE189_HR, abs=0.02) and res["endpoint"] == "os"
    # a cohort set against its own curve has a hazard ratio of 1
    same = guyot.against_cohort(tmp_path / "kn_os_pembro", cohort)
    assert same["hr"] == pytest.approx(1.0, abs=1e-9)

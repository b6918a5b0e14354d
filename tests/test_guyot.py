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


# --------------------------------------------------------------------------- a case with a known answer
def _known(seed: int, n: int = 250, rate: float = 0.05):
    """Simulated patients, and what a publication would show of them: the KM curve's step corners,
    the numbers at risk every 3 months, the total events and the censor ticks."""
    rng = np.random.default_rng(seed)
    t_event, t_cens = rng.exponential(1 / rate, n), rng.uniform(3, 40, n)
    data = pd.DataFrame({"time": np.minimum(t_event, t_cens).round(2), "event": (t_event <= t_cens).astype(int)})
    km = sv.km_table(data["time"], data["event"])
    clicks = pd.DataFrame({"time": km["time"], "survival": km["surv"]})
    t_risk = np.arange(0, data["time"].max(), 3.0)
    risk = pd.DataFrame({"time": t_risk, "n_risk": [(data["time"] >= x).sum() for x in t_risk]})
    return data, clicks, risk


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_total_events_correction_gives_the_published_total(seed):
    data, clicks, risk = _known(seed)
    total = int(data["event"].sum())
    ipd = guyot.reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["n_risk"], tot_events=total)
    plain = guyot.reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["n_risk"])
    # the published total, or the closest the rounding of events allows (never further than without it)
    assert len(ipd) == len(data) and abs(int(ipd["event"].sum()) - total) <= 1
    assert abs(int(ipd["event"].sum()) - total) <= abs(int(plain["event"].sum()) - total)
    report = guyot.accuracy(ipd, clicks, risk, tot_events=total,
                            median_published=sv.km_median(data["time"], data["event"])["median"]).set_index("measure")
    assert abs(report.loc["events", "difference"]) <= 1
    assert report.loc["rmse_surv", "reconstructed"] < 0.02
    assert report.loc["max_n_risk_mismatch", "reconstructed"] <= 0.03 * len(data) + 1
    assert abs(report.loc["median", "difference"]) < 1.5


def test_a_total_too_small_for_the_curve_stops_the_events_there():
    data, clicks, risk = _known(4)
    before_last = int((data["event"] == 1)[data["time"] < risk["time"].iloc[-1]].sum())
    ipd = guyot.reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["n_risk"],
                            tot_events=before_last // 2)
    assert len(ipd) == len(data)
    assert (ipd.loc[ipd["event"] == 1, "time"] < risk["time"].iloc[-1]).all()


def test_digitised_censor_marks_put_the_censored_patients_where_they_were():
    data, clicks, risk = _known(5)
    true_cens = np.sort(data.loc[data["event"] == 0, "time"].to_numpy())
    plain = guyot.reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["n_risk"])
    marked = guyot.reconstruct(clicks["time"], clicks["survival"], risk["time"], risk["n_risk"],
                               censor_times=true_cens)

    def gap(ipd):  # how far the reconstructed censoring times lie from the true ones (quantile by quantile)
        got = np.sort(ipd.loc[ipd["event"] == 0, "time"].to_numpy())
        q = np.linspace(0, 1, 50)
        return np.abs(np.quantile(got, q) - np.quantile(true_cens, q)).mean()

    assert gap(marked) < gap(plain)
    assert len(marked) == len(data)


def test_the_hazard_ratio_of_two_reconstructed_arms_is_reported_beside_the_true_one():
    a, ca, ra = _known(6, rate=0.03)
    b, cb, rb = _known(7, rate=0.06)
    arms = [guyot.reconstruct(c["time"], c["survival"], r["time"], r["n_risk"], tot_events=int(d["event"].sum()))
            for d, c, r in ((a, ca, ra), (b, cb, rb))]
    truth = guyot.hazard_ratio_accuracy(a, b, float("nan"))["reconstructed"]  # the simulated patients' own HR
    report = guyot.hazard_ratio_accuracy(*arms, truth)
    assert abs(report["difference"]) < 0.05 * truth


def test_published_numbers_beside_a_curve_are_read_and_checked(tmp_path):
    (tmp_path / "curves.csv").write_text("stem,tot_events,median_months,hr,hr_against,source,doi,location\n"
                                         "x_pfs_a,12,abc,,,,,\n")
    with pytest.raises(guyot.CurveError, match=r"curves.csv: row 2, column median_months: 'abc'"):
        guyot.read_published(tmp_path)
    assert guyot.read_published(tmp_path / "nowhere").empty


def test_a_summary_approximation_passes_through_the_published_points():
    curve, reason = guyot.from_summary([(7.8, 0.5, "median"), (12, 0.35, "12-month rate")])
    assert not reason
    assert curve.survival([7.8, 12])[0] == pytest.approx(0.5) and curve.survival([12])[0] == pytest.approx(0.35)
    assert np.isnan(curve.survival([13])[0])  # nothing is claimed beyond the last published point
    pseudo = guyot.pseudo_patients(curve, 60)
    assert sv.km_median(pseudo["time"], pseudo["event"])["median"] == pytest.approx(7.8, abs=0.3)
    assert guyot.from_summary([])[0] is None
    assert "falling" in guyot.from_summary([(5, 0.5, "median"), (10, 0.6, "rate")])[1]

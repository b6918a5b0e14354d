"""Response rates, exact CIs and the >= VGPR association tests, against R reference values.

R literals were produced with R 4.x (``Rscript``), printing ``sprintf("%.17g", ...)``; the
call is written next to each value.
"""

import numpy as np
import pandas as pd
import pytest

from compendium.chapters import counting
from compendium.data import endpoints
from compendium.chapters import response as r
from compendium.data import spec as specs
from compendium.report import swimmer
from compendium.stats import association as a

PAPER = specs.load().response
RATES = tuple(f for f, _ in PAPER.rates)

NA = pd.NA


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as read_analysis returns them: pandas strings with pd.NA for missing."""
    return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})

# R: binom.test(k, n)$conf.int
R_BINOM_CI = {
    (72, 85): (0.75267512521293078, 0.91597427962220501),
    (51, 85): (0.48801647536167658, 0.70480643933131848),
    (21, 85): (0.15989809586074535, 0.35252901506207401),
    (0, 10): (0.0, 0.30849710781876083),
    (10, 10): (0.69150289218123917, 1.0),
    (3, 7): (0.09898827844250789, 0.81594843235991699),
}
# Vectors of the rank-sum references (groups: reached >= VGPR / did not)
EXPOSURE_VGPR = [12.5, 7.25, 22.75, 30, 5, 12.5, 18]
EXPOSURE_BELOW = [3, 7.25, 9, 12.5, 4, 6]
# R: wilcox.test(c(12.5, 7.25, 22.75, 30, 5, 12.5, 18), c(3, 7.25, 9, 12.5, 4, 6),
#                exact = FALSE, correct = TRUE) -> W = 34.5, p-value:
R_WILCOX_EXPOSURE = (34.5, 0.061479528773559958)
DOSE_VGPR = [10, 10, 25, 25, 10, 15, 10]
DOSE_BELOW = [10, 25, 25, 25, 20, 25]
# R: wilcox.test(c(10,10,25,25,10,15,10), c(10,25,25,25,20,25), exact=FALSE, correct=TRUE)
R_WILCOX_DOSE = (11.0, 0.14075627569779353)
# R: fisher.test(matrix(c(20, 31, 20, 14), 2))$p.value   (rows: >= VGPR yes/no; cols: exposed yes/no)
R_FISHER_2X2 = ([[20, 20], [31, 14]], 0.11996181593280571)
# R: fisher.test(matrix(c(4, 3, 1, 5), 2))$p.value
R_FISHER_SMALL = ([[4, 1], [3, 5]], 0.26573426573426578)
# R: fisher.test(matrix(c(2, 3, 2, 1, 1, 3), 3))$p.value  (3 dose levels x (>= VGPR, below))
R_FISHER_3X2 = 0.77272727272727126


@pytest.mark.parametrize("kn", sorted(R_BINOM_CI))
def test_clopper_pearson_equals_r_binom_test(kn):
    low, high = a.clopper_pearson(*kn)
    assert low == pytest.approx(R_BINOM_CI[kn][0], abs=1e-10)
    assert high == pytest.approx(R_BINOM_CI[kn][1], abs=1e-10)


def response_cohort() -> pd.DataFrame:
    """Best responses and the flags the dataset derives from them (compendium.data.endpoints)."""
    best = pd.Series(["sCR", "CR", "VGPR", "VGPR", "PR", "PR", "SD", "PD", "NE"], dtype="string")
    flags = {name: endpoints.flag(best.isin(endpoints.RESPONSE_ORDER[:k]), best != "NE")
             for name, k in (("orr", 4), ("vgpr_or_better", 3), ("cr_or_better", 2))}
    return pd.DataFrame({"best_response": best, **flags})


def rate(dist, endpoint, population="all"):
    return dist[(dist.endpoint == endpoint) & (dist.population == population)].iloc[0]


def test_response_distribution_counts_rates_and_cis():
    dist = r.response_distribution(response_cohort(), RATES)
    orr = rate(dist, "orr")
    assert (orr["n"], orr["denominator"]) == (6, 9)
    assert orr["proportion"] == pytest.approx(6 / 9)
    assert (orr["lcl"], orr["ucl"]) == pytest.approx(a.clopper_pearson(6, 9))
    assert rate(dist, "vgpr_or_better")["n"] == 4
    assert rate(dist, "cr_or_better")["n"] == 2
    assert rate(dist, "MR")["n"] == 0
    # evaluable population leaves NE out of the denominator
    assert rate(dist, "orr", "evaluable")["denominator"] == 8
    assert rate(dist, "orr", "evaluable")["proportion"] == pytest.approx(0.75)
    assert not ((dist["population"] == "evaluable") & (dist["endpoint"] == "NE")).any()


def test_response_distribution_rejects_unknown_category():
    with pytest.raises(ValueError):
        r.response_distribution(pd.DataFrame({"best_response": ["CR", "nCR"]}))


def test_rates_from_the_flags_equal_rates_from_the_categories():
    """A rate is the flag the dataset derives; counting its categories gives the same numbers."""
    dist = r.response_distribution(response_cohort(), RATES)
    best = response_cohort()["best_response"]
    for name, categories in (("orr", 4), ("vgpr_or_better", 3), ("cr_or_better", 2)):
        k = int(best.isin(endpoints.RESPONSE_ORDER[:categories]).sum())
        assert (rate(dist, name)["n"], rate(dist, name)["denominator"]) == (k, 9)
        assert (rate(dist, name, "evaluable")["n"], rate(dist, name, "evaluable")["denominator"]) == (k, 8)


def test_nobody_evaluable_gives_reasons_not_numbers():
    frame = response_cohort().assign(best_response=pd.Series(["NE"] * 9, dtype="string"),
                                     **{f: pd.array([pd.NA] * 9, dtype="Int64") for f in RATES})
    dist = r.response_distribution(frame, RATES)
    evaluable = dist[dist.population == "evaluable"]
    assert evaluable["proportion"].isna().all() and evaluable["reason"].eq("no patient evaluable for response").all()
    assert dist.loc[dist.population == "all", "reason"].eq("").all()


def test_wilcoxon_equals_r_wilcox_test_with_ties():
    w, p = a.wilcoxon_rank_sum(EXPOSURE_VGPR, EXPOSURE_BELOW)
    assert w == R_WILCOX_EXPOSURE[0]
    assert p == pytest.approx(R_WILCOX_EXPOSURE[1], rel=1e-9)
    w, p = a.wilcoxon_rank_sum(DOSE_VGPR, DOSE_BELOW)
    assert (w, p) == (R_WILCOX_DOSE[0], pytest.approx(R_WILCOX_DOSE[1], rel=1e-9))


@pytest.mark.parametrize("table,p", [R_FISHER_2X2, R_FISHER_SMALL])
def test_fisher_equals_r_fisher_test(table, p):
    assert a.fisher_exact(table)[1] == pytest.approx(p, rel=1e-9)


def association_cohort() -> pd.DataFrame:
    """13 response-evaluable patients (7 reach >= VGPR) and one NE patient."""
    n_hit, n_miss = len(EXPOSURE_VGPR), len(EXPOSURE_BELOW)
    return pd.DataFrame({
        "vgpr_or_better": pd.array([1] * n_hit + [0] * n_miss + [NA], dtype="Int64"),
        "len_exposure_months": EXPOSURE_VGPR + EXPOSURE_BELOW + [50.0],
        "len_dose_start_mg": DOSE_VGPR + DOSE_BELOW + [25],
        "len_dose_pd_mg": [5, 5, 10, 10, 10, 25, 25] + [5, 10, 25, 25, 25, np.nan] + [10],
        # >= VGPR: 4 of 7 exposed; below: 3 of 6 exposed -> fisher.test(matrix(c(4,3,3,3),2))
        "bortezomib_exposed": pd.array([1, 1, 1, 1, 0, 0, 0] + [1, 1, 1, 0, 0, 0] + [1], dtype="Int64"),
        "carfilzomib_exposed": pd.array([0] * 13 + [1], dtype="Int64"),
    })


def test_vgpr_associations_use_the_stated_tests_and_drop_missing():
    assoc = r.associations(association_cohort(), PAPER, sensitivity=False).set_index("factor")
    assert list(assoc.index) == ["len_exposure", "len_dose_start", "len_dose_pd",
                                 "bortezomib_exposed", "carfilzomib_exposed"]
    assert assoc.loc["len_exposure", "test"] == "wilcoxon"
    assert assoc.loc["len_exposure", "n"] == 13                      # the NE patient is left out
    assert assoc.loc["len_exposure", "p"] == pytest.approx(R_WILCOX_EXPOSURE[1], rel=1e-9)
    assert assoc.loc["len_dose_start", "p"] == pytest.approx(R_WILCOX_DOSE[1], rel=1e-9)
    assert assoc.loc["len_dose_pd", "n"] == 12                       # missing dose left out
    # R: fisher.test(matrix(c(4, 3, 3, 3), 2))$p.value == 1
    assert assoc.loc["bortezomib_exposed", "p"] == pytest.approx(1.0)
    assert assoc.loc["bortezomib_exposed", "summary_vgpr"] == "4/7 exposed"
    # nobody evaluable exposed: R's fisher.test gives 1, a test of a factor with one level; we say why there is none
    assert np.isnan(assoc.loc["carfilzomib_exposed", "p"])
    assert assoc.loc["carfilzomib_exposed", "reason"] == "every patient has the same value, one level only"
    assert assoc["reason"].drop("carfilzomib_exposed").eq("").all()


def test_fisher_over_dose_levels_r_by_2():
    frame = pd.DataFrame({
        "vgpr_or_better": [1] * 7 + [0] * 5,
        "dose": [5, 5, 10, 10, 10, 25, 25] + [5, 10, 25, 25, 25],
    })
    res = r.by_level(frame, "vgpr_or_better", ">= VGPR", specs.Predictor("dose", "dose", "wilcoxon", "dose", by_level=True))
    assert res["test"] == "fisher (3 levels x 2)" and res["n"] == 12
    assert res["p"] == pytest.approx(R_FISHER_3X2, rel=1e-7)


def exposure_cohort() -> pd.DataFrame:
    return typed(pd.DataFrame({
        "patient_id": [f"P{i}" for i in range(10)],
        "best_response": ["CR", "VGPR", "PR", "PR", "SD", "PD", "VGPR", "CR", "PR", "MR"],
        "treatment_months": [1.0, 2.5, 4.0, 8.0, 10.0, 12.0, 20.0, 24.0, 30.0, 3.0],
        "on_treatment": pd.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0], dtype="Int64"),
        "end_reason": ["PD", "PD", "toxicity", "death", "ASCT", None, None, None, "PD", "unknown"],
        "dara_doses_skipped": [0, 0, 0, 1, 1, 2, 3, 5, 0, 7],
        "bortezomib_dose_reduced": [1, 1, 1, 0, 0, 0, 1, 0, 0, 0],
        "bortezomib_reduction_cycle": [1, 3, 4, None, None, None, 10, None, None, None],
        "bortezomib_weekly_switch": [1, 0, 0, 0, 1, 0, 0, 0, 0, 0],
        "salvage_asct": [0, 0, 0, 0, 1, 0, 1, 0, 1, 0],   # P4 stopped for ASCT; P6 still on it
        "salvage_asct_cycle": [None, None, None, None, 5, None, 5, None, 14, None],
    }).astype({"bortezomib_dose_reduced": "Int64", "bortezomib_weekly_switch": "Int64",
               "salvage_asct": "Int64"}))


def test_discontinuation_reasons_and_still_on_treatment():
    table = r.discontinuation_reasons(exposure_cohort()).set_index("level")
    assert table.loc["PD", "n"] == 3 and table.loc["toxicity", "n"] == 1
    assert table.loc["ASCT", "n"] == 1 and table.loc["unknown", "n"] == 1
    assert table.loc["still on DaraVd", "n"] == 3
    assert table.loc["PD", "pct"] == pytest.approx(30.0)


def test_dara_skipped_groups_keep_out_of_range_visible():
    groups = r.dara_skipped_groups(exposure_cohort()).set_index("level")["n"].to_dict()
    assert groups == {"0": 4, "1": 2, "2": 1, "3-5": 2, ">5": 1}
    some = dict(dara_doses_skipped="1..")
    assert counting.count(exposure_cohort(), **some).value == 6
    assert counting.quantile(exposure_cohort(), "dara_doses_skipped", 0.5, **some).value == 2.5  # 1 1 2 3 5 7
    assert counting.count(exposure_cohort(), dara_doses_skipped="3..5").value == 2


def test_bortezomib_modifications_first_three_cycles():
    c = exposure_cohort()
    assert counting.count(c, bortezomib_dose_reduced="1").value == 4
    assert counting.count(c, bortezomib_dose_reduced="1", bortezomib_reduction_cycle="..3").value == 2
    assert counting.pct(c, among="bortezomib_dose_reduced", bortezomib_reduction_cycle="..3").value == pytest.approx(50.0)
    assert counting.count(c, bortezomib_weekly_switch="1").value == 2
    assert counting.pct(c, bortezomib_dose_reduced="1").value == pytest.approx(40.0)


def test_salvage_asct():
    c = exposure_cohort()
    assert counting.count(c, salvage_asct="1").value == 3
    assert [counting.count(c, salvage_asct="1", salvage_asct_cycle=k).value for k in ("5", "14")] == [2, 1]
    # continued after ASCT: a salvage-ASCT patient who did not stop for it (P6 still on DaraVd, P8 stopped for PD)
    assert counting.count(c, salvage_asct="1", end_reason="!ASCT").value == 2


def test_median_iqr_type7():
    m = r.median_iqr(exposure_cohort()["treatment_months"])
    # sorted: 1 2.5 3 4 8 10 12 20 24 30 ; q1 at position 3.25, q3 at 7.75
    assert (m["n"], m["median"], m["q1"], m["q3"]) == (10, 9.0, 3.25, 18.0)


def test_swimmer_plot_draws_one_bar_per_patient():
    import matplotlib
    matplotlib.use("Agg")
    fig = swimmer.swimmer_plot(exposure_cohort())
    bars = fig.axes[0].patches
    assert len(bars) == 10
    assert sorted(b.get_width() for b in bars) == sorted(exposure_cohort()["treatment_months"])


def test_exact_rx2_enumeration_equals_r_on_a_6x2_dose_table():
    # R: fisher.test(matrix(c(2,5,30,3,2,9, 1,2,17,2,1,7), 6))$p.value
    table = [[2, 1], [5, 2], [30, 17], [3, 2], [2, 1], [9, 7]]
    assert a.fisher_exact_rx2(table) == pytest.approx(0.98572345054200805, rel=1e-9)
    # and on a 2x2 it agrees with scipy's (and R's) two-sided p
    assert a.fisher_exact_rx2(R_FISHER_2X2[0]) == pytest.approx(R_FISHER_2X2[1], rel=1e-9)


def test_sensitivity_rows_follow_the_primary_ones():
    assoc = r.associations(association_cohort(), PAPER)
    assert list(assoc["role"]) == ["primary"] * 5 + ["sensitivity"] * 2
    pd_row = assoc[(assoc["role"] == "sensitivity") & (assoc["factor"] == "len_dose_pd")].iloc[0]
    assert pd_row["test"] == "fisher (3 dose levels x 2)" and pd_row["n"] == 12


def test_distribution_display_formats_percent_and_ci():
    shown = r.distribution_display(r.response_distribution(response_cohort(), RATES), labels=dict(PAPER.rates)).set_index("response")
    assert shown.loc["ORR (>= PR)", "%"] == "66.7"
    lo, hi = a.clopper_pearson(6, 9)
    assert shown.loc["ORR (>= PR)", "95% CI (exact)"] == f"{100 * lo:.1f}–{100 * hi:.1f}"


def _r_fisher_tables():
    ref = pd.read_csv("tests/reference/r_out/fisher_rx2.csv", dtype={"p": float})
    return [([[int(v) for v in row.split()] for row in t.split(";")], p) for t, p in zip(ref["table"], ref["p"])]


@pytest.mark.parametrize("table,p", _r_fisher_tables())
def test_exact_rx2_equals_r_fisher_test_small_and_medium(table, p):
    # R: tests/reference/fisher_reference.R (fisher.test(x, workspace = 2e8)), up to 2,800 patients
    assert a.fisher_exact_rx2(table) == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert a.fisher_rx2(table) == {"p": a.fisher_exact_rx2(table), "method": "exact"}


def test_exact_rx2_equals_brute_force_enumeration_on_random_small_tables():
    from itertools import product

    from scipy.special import gammaln

    def brute(table):
        rows, k = table.sum(axis=1), int(table[:, 0].sum())
        lc = lambda n, x: gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)  # noqa: E731
        logs = np.array([lc(rows, np.array(xs)).sum() for xs in product(*[range(a + 1) for a in rows])
                         if sum(xs) == k])
        obs = lc(rows, table[:, 0]).sum()
        return np.exp(logs[logs <= obs + np.log1p(1e-7)] - lc(rows.sum(), k)).sum()

    rng = np.random.default_rng(7)
    for _ in range(60):
        table = rng.integers(0, 8, (int(rng.integers(2, 6)), 2))
        assert a.fisher_exact_rx2(table) == pytest.approx(min(1.0, brute(table)), rel=1e-9, abs=1e-15)


def test_rx2_of_100000_patients_is_exact_and_quick_for_three_rows():
    import time

    table = np.array([[10_000, 10_150], [30_000, 29_900], [10_000, 9_850]])
    start = time.perf_counter()
    res = a.fisher_rx2(table)
    assert time.perf_counter() - start < 20 and res["method"] == "exact"
    # the chi-square test agrees with the exact p at this size (to a few per cent)
    chi = __import__("scipy.stats", fromlist=["chi2_contingency"]).chi2_contingency(table, correction=False)
    assert res["p"] == pytest.approx(chi.pvalue, rel=0.05)


def test_rx2_past_the_exact_limit_falls_back_to_a_reproducible_monte_carlo_p_and_says_so():
    table = np.array([[400, 1000], [900, 860], [150, 200], [300, 310]])
    res = a.fisher_rx2(table, limit=10)
    assert res["method"].startswith("Monte Carlo")
    assert res == a.fisher_rx2(table, limit=10)  # fixed seed
    exact = a.fisher_exact_rx2(table)
    assert res["p"] == pytest.approx(max(exact, 1 / (a.FISHER_MC_TABLES + 1)), abs=1e-4)
    mid = np.array([[15, 10], [30, 41], [22, 20], [5, 18], [60, 55]])  # R: 0.040434209730417454
    mc = a.fisher_rx2(mid, limit=10)["p"]
    se = np.sqrt(0.0404 * (1 - 0.0404) / a.FISHER_MC_TABLES)
    assert abs(mc - 0.040434209730417454) < 4 * se


def test_swimmer_plot_samples_a_large_cohort_and_says_so():
    big = pd.concat([exposure_cohort()] * 30, ignore_index=True)
    big["patient_id"] = [f"P{i}" for i in range(len(big))]
    fig = swimmer.swimmer_plot(big, max_patients=40)
    ax = fig.axes[0]
    assert len(ax.patches) == 40
    assert ax.get_ylabel().startswith(f"Random sample of 40 of {len(big):,} patients")
    # reproducible: the same patients on a rerun
    assert swimmer.swimmer_sample(big, 40).index.equals(swimmer.swimmer_sample(big, 40).index)
    small = swimmer.swimmer_plot(exposure_cohort(), max_patients=40)
    assert small.axes[0].get_ylabel().startswith("Patients (n = 10)")

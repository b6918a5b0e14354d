"""Chapter 03 (response): its result object against the committed results, and on drawn cohorts.

- Accessors: ``rate``, ``association`` and every declared claim give what results/ holds.
- Drawn cohorts (5-40 patients from the any-N generator), single-centre subsets and the degenerate
  mixes of issue 16: compute completes, each declared claim is a finite value or a reason, and a
  table row without a value says why.
- Independent references: the exact interval is the beta-quantile formula; the rank-sum p is the
  normal approximation with tie and continuity corrections written out; a count address agrees
  with the table the notebook shows.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy import stats

from compendium import paths
from compendium.chapters import counting, response
from compendium.chapters.base import Context
from compendium.stats import association

sys.path.insert(0, str(Path(__file__).parent))
import chapter_cohorts  # noqa: E402

RESULTS = paths.ROOT / "results"
#: Whole chapters on drawn cohorts: few examples, no shrinking (a failing cohort is printed as drawn),
#: and no example database written into the repository.
COHORTS = dict(deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow])
QUICK = dict(database=None, deadline=None)


@pytest.fixture(scope="module")
def default():
    return response.compute(Context.for_run())


def test_rates_are_those_of_results_response_csv(default):
    committed = pd.read_csv(RESULTS / "response.csv")
    for row in committed[committed.endpoint.isin(dict(default.response.rates))].itertuples():
        assert default.rate(row.endpoint, row.population).value == pytest.approx(100 * row.proportion, rel=1e-10)
    assert default.rate("sCR").reason  # a category, not a rate of the specification


def test_associations_are_those_of_results_csv(default):
    committed = pd.read_csv(RESULTS / "response_associations.csv")
    for row in committed.itertuples():
        ours = default.association(row.factor, row.role)
        assert ours["p"] == pytest.approx(row.p, rel=1e-10) and ours["n"] == row.n and ours["test"] == row.test
    assert default.association("age_years") is None


def test_declared_claims_are_the_recorded_ones(default):
    recorded = pd.read_csv(RESULTS / "claims" / "03_response.csv")
    assert set(default.declared().claim_id) == set(recorded.claim_id) == set(default.values)
    for row in recorded.itertuples():
        assert default.values[row.claim_id] == pytest.approx(row.reproduced, rel=1e-10)


def test_sections_cover_every_claim_once(default):
    ids = [c for name in response.SECTIONS for c in default.section(name)]
    assert sorted(ids) == sorted(default.declared().claim_id)


def test_count_addresses_agree_with_the_tables_shown(default):
    skipped = default.table("dara_doses_skipped").set_index("level")
    for level, value in (("0", "0"), ("1", "1"), ("2", "2"), ("3-5", "3..5")):
        assert default.estimate(f"count(dara_doses_skipped={value})").value == skipped.at[level, "n"]
        assert default.estimate(f"pct(dara_doses_skipped={value})").value == pytest.approx(skipped.at[level, "pct"])
    stops = default.shown["discontinuation"].set_index("level")
    for reason in response.END_REASONS:
        assert default.estimate(f"count(end_reason={reason})").value == stops.at[reason, "n"]


def test_an_address_the_run_cannot_give_is_a_reason(default):
    assert default.estimate("count(ldh_high=1)").reason == "the analysis dataset has no column ldh_high"
    assert "not os" in default.estimate("assoc_p(os, len_exposure_months)").reason
    assert "not a predictor" in default.estimate("assoc_p(vgpr_or_better, age_years)").reason
    assert default.estimate("cox_p(os, amp1q)").reason == "cox_p(...) is not computed by notebook 03_response"


# --- drawn cohorts ----------------------------------------------------------------------------

FOLDER = Path(tempfile.mkdtemp(prefix="chapter-response-"))


def assert_complete(ch: response.ResponseChapter) -> None:
    for claim_id in ch.declared().claim_id:
        assert (claim_id in ch.values) != (claim_id in ch.reasons), claim_id
        if claim_id in ch.values:
            assert math.isfinite(ch.values[claim_id]), claim_id
        else:
            assert ch.reasons[claim_id].strip(), claim_id
    for name in ("response", "response_associations"):
        table = ch.tables[name]
        value = "proportion" if name == "response" else "p"
        if table[value].isna().any():
            assert table.loc[table[value].isna(), "reason"].str.len().gt(0).all(), name
    # what the notebook renders from the chapter
    for render in (response.methods_list, response.association_paragraph, response.exposure_sentence):
        assert render(ch)
    response.evaluable_denominators(ch)
    response.associations_display(ch)


@settings(max_examples=8, **COHORTS)
@given(n=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_drawn_cohorts_complete_with_values_or_reasons(n, seed):
    ch = response.compute(chapter_cohorts.context(n, seed, FOLDER))
    assert_complete(ch)
    assert ch.table("response").query("population == 'all'")["denominator"].eq(n).all()


@settings(max_examples=6, **COHORTS)
@given(seed=st.integers(0, 10_000), mix=st.sampled_from(sorted(chapter_cohorts.MIXES)))
def test_degenerate_mixes_complete_with_values_or_reasons(seed, mix):
    ch = response.compute(chapter_cohorts.degenerate(chapter_cohorts.context(24, seed, FOLDER), mix))
    assert_complete(ch)


@pytest.mark.parametrize("mix", sorted(chapter_cohorts.MIXES))
def test_every_degenerate_mix_says_why(mix):
    ch = response.compute(chapter_cohorts.degenerate(chapter_cohorts.context(20, 1, FOLDER), mix))
    assert_complete(ch)
    if mix in ("nobody reaches >=VGPR", "everybody reaches >=VGPR", "nobody evaluable for response"):
        primary = ch.table("response_associations").query("role == 'primary'")
        assert primary["p"].isna().all() and primary["reason"].str.startswith("no patient").all()
        assert all(ch.reasons[c] for c in ch.section("associations"))
    if mix == "nobody evaluable for response":
        assert ch.rate("orr", "evaluable").reason == "no patient evaluable for response"
        assert ch.rate("orr").value == 0
    if mix == "no treatment times":
        assert all(c in ch.reasons for c in ch.section("exposure"))


def test_single_centre_subsets_complete():
    source = chapter_cohorts.raw_cohort(60, 7, FOLDER)
    centres = pd.read_csv(source, usecols=["center"])["center"].unique()
    assert len(centres) > 1
    for centre in centres:
        ch = response.compute(chapter_cohorts.context_of(source, FOLDER, f"centre_{centre}", centre))
        assert_complete(ch)


# --- independent references --------------------------------------------------------------------

@settings(**QUICK)
@given(n=st.integers(1, 400), data=st.data())
def test_clopper_pearson_is_the_beta_quantile_interval(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = association.clopper_pearson(k, n)
    # Clopper & Pearson (1934): the limits are quantiles of beta distributions
    want_lo = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
    want_hi = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
    assert lo == pytest.approx(want_lo, abs=1e-9) and hi == pytest.approx(want_hi, abs=1e-9)


def _rank_sum_by_hand(x, y) -> float:
    """R's wilcox.test(exact = FALSE, correct = TRUE), written out from its source."""
    r = stats.rankdata(np.concatenate([x, y]))
    nx, ny = len(x), len(y)
    w = r[:nx].sum() - nx * (nx + 1) / 2
    _, ties = np.unique(r, return_counts=True)
    sigma = math.sqrt(nx * ny / 12 * ((nx + ny + 1) - (ties ** 3 - ties).sum() / ((nx + ny) * (nx + ny - 1))))
    z = w - nx * ny / 2
    z = (z - math.copysign(0.5, z)) / sigma if z else 0.0
    return 2 * min(stats.norm.cdf(z), stats.norm.sf(z))


@settings(**QUICK)
@given(x=st.lists(st.sampled_from([2.5, 5, 10, 15, 20, 25, 7.25, 12.5]), min_size=1, max_size=30),
       y=st.lists(st.sampled_from([2.5, 5, 10, 15, 20, 25, 7.25, 12.5]), min_size=1, max_size=30))
def test_rank_sum_p_is_the_corrected_normal_approximation(x, y):
    res = association.rank_sum_test(x, y)
    if len(set(x) | set(y)) < 2:
        assert math.isnan(res["p"]) and res["reason"]
    else:
        assert res["p"] == pytest.approx(min(1.0, _rank_sum_by_hand(np.array(x, float), np.array(y, float))), rel=1e-9)


@settings(**QUICK)
@given(table=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=4))
def test_fisher_test_gives_a_p_or_a_reason(table):
    res = association.fisher_test(table)
    t = np.array(table)
    informative = t[:, 0].sum() > 0 and t[:, 1].sum() > 0 and (t.sum(axis=1) > 0).sum() >= 2
    assert informative == (not res["reason"])
    if informative:
        assert 0 < res["p"] <= 1


@settings(**QUICK)
@given(values=st.lists(st.one_of(st.none(), st.integers(0, 8)), min_size=1, max_size=40),
       lo=st.integers(0, 8), width=st.integers(0, 4))
def test_count_and_pct_of_a_range(values, lo, width):
    frame = pd.DataFrame({"x": pd.array(values, dtype="Int64")})
    hi = lo + width
    want = sum(1 for v in values if v is not None and lo <= v <= hi)
    assert counting.count(frame, x=f"{lo}..{hi}").value == want
    assert counting.pct(frame, x=f"{lo}..{hi}").value == pytest.approx(100 * want / len(values))
    assert counting.count(frame, x=f"!{lo}").value == sum(1 for v in values if v != lo)

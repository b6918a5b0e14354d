"""Cohorts of any size and the degenerate mixes of issue 16 through the statistics layer.

Cohorts are drawn with ``python -m compendium synthetic --n N --seed S``'s generator
(``generator.write_any``) at N = 5 to 40 and go the pipeline's way to the analysis dataset
(``loading.load_raw``, ``endpoints.cohort_flow`` and ``derive`` as notebook 01, the CSV and
``dataset.read_analysis`` as notebooks 04-05), optionally made degenerate as a centre's export
can be: no deaths, nobody reaching >=VGPR, no FISH at all, one dexamethasone group only, EMD
never assessed. Every analysis of notebooks 04-05 must then give its result frames, each row
estimable or empty with a reason (the checks of ``test_degenerate_estimators``), and the reason
a degenerate mix implies where it implies one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.data import dataset, endpoints, loading
from compendium.data import spec as specs
from compendium.stats import competing, durations, models, multiplicity, rates, sensitivity
from compendium.stats import estimable as ne
from compendium.stats import survival as sv
from compendium import synthetic as generator
from test_degenerate_estimators import PHASES, check_cox, check_rows

PAPER = specs.load()
FISH = ["cyto_high_risk_dx", "cyto_high_risk_relapse", "del17p_relapse", "amp1q"]
MIXES = {
    "no_deaths": lambda a: a.assign(os_event=pd.array([0] * len(a), dtype="Int64")),
    "no_vgpr": lambda a: a.assign(vgpr_or_better=a["vgpr_or_better"].where(a["vgpr_or_better"].isna(), 0),
                                  cr_or_better=a["cr_or_better"].where(a["cr_or_better"].isna(), 0)),
    "no_fish": lambda a: a.assign(**{c: pd.array([pd.NA] * len(a), dtype="Int64") for c in FISH}),
    "one_dex_group": lambda a: a.assign(dex_dose_group=pd.array(["80"] * len(a), dtype="string")),
    "emd_never_assessed": lambda a: a.assign(emd_relapse=pd.array([pd.NA] * len(a), dtype="Int64")),
}
_CACHE: dict[tuple[int, int], pd.DataFrame] = {}


def analysis_dataset(n: int, seed: int) -> pd.DataFrame:
    """The analysis dataset of a generated cohort, made and read as the pipeline makes and reads it."""
    if (n, seed) not in _CACHE:
        with tempfile.TemporaryDirectory() as tmp:
            raw_path = Path(tmp) / "cohort.csv"
            generator.write_any(raw_path, n, seed)
            raw = loading.load_raw(raw_path)
            _, eligible = endpoints.cohort_flow(raw.frame)
            derived = endpoints.derive(raw.frame[eligible].reset_index(drop=True))
            run = paths.Paths.for_run(Path(tmp) / "run")
            run.analysis_csv.parent.mkdir(parents=True)
            paths.write_csv(derived, run.analysis_csv)
            _CACHE[n, seed] = dataset.read_analysis(run)
    return _CACHE[n, seed].copy()


def run_everything(a: pd.DataFrame, sensitivity_analyses: bool = False) -> dict:
    """What notebooks 04-05 compute from the analysis dataset and the specification (the sensitivity
    analyses, slow for their penalised and imputed fits, on request)."""
    covariates = list(PAPER.model("paper").covariates)
    km = models.km_results(a, PAPER)
    uni = models.univariate_results(a, PAPER)
    factor = pd.DataFrame([multiplicity.factor_test(a, e, "dex_dose_group", "full") for e in ("pfs", "os")])
    out = {
        "km": km, "uni": uni, "multi": models.multivariable_results(a, PAPER),
        "gray": competing.gray_results(a), "cif": competing.cif_results(a),
        "rates": rates.fixed_time_rates(a), "at_risk": rates.medians_at_risk(a, km),
        "factor": factor, "screen": multiplicity.screen(uni, factor),
        "durations": durations.duration_results(a),
        "eligibility": sensitivity.eligibility_landmark(a),
        "zph": pd.concat([sv.cox_zph(sv.cox_fit(a, e, covariates)) for e in ("pfs", "os")], ignore_index=True),
    }
    if sensitivity_analyses:
        out["sensitivity"] = pd.concat([sensitivity.model_sensitivity(a, e, covariates, "emd_relapse", m=3)
                                        for e in ("pfs", "os")], ignore_index=True)
    return out


def check_everything(out: dict) -> None:
    check_rows(out["km"], ["endpoint", "group", "n", "events", "median", "lcl", "ucl", "conf_type", "reason"], [])
    assert ((out["km"]["reason"] != "") == (out["km"]["n"] == 0)).all()
    check_cox(out["uni"])
    check_cox(out["multi"], model=True)
    if "sensitivity" in out:
        check_cox(out["sensitivity"], model=True)
    check_rows(out["gray"], ["analysis", "cause", "cause_label", "group", "stat", "df", "p", "n", "reason"],
               ["stat", "p"], {"p": (0, 1)})
    check_rows(out["cif"], ["analysis", "cause", "cause_label", "group", "n", "events", "time", "n_risk", "cif", "var",
                            "lower", "upper", "reason"], ["cif", "var"], {"cif": (0, 1)})
    check_rows(out["rates"], ["endpoint", "group", "n", "events", "time", "n_risk", "events_by", "surv", "std_err",
                              "lower", "upper", "conf_type", "reason"], ["surv"], {"surv": (0, 1)})
    check_rows(out["factor"], ["endpoint", "covariate", "chisq", "df", "p", "n", "events", "reason"], ["chisq", "p"])
    check_rows(out["zph"], ["covariate", "chisq", "df", "p", "reason"], ["chisq", "p"], {"p": (0, 1)})
    for name in ("at_risk", "screen", "durations", "eligibility"):
        assert out[name].columns[-1] == "reason" and set(out[name]["reason"]) <= set(ne.ALL) | {""}, name


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
          phases=PHASES)
@given(st.integers(5, 40), st.integers(0, 10_000))
def test_a_cohort_of_any_size_has_defined_results(n, seed):
    a = analysis_dataset(n, seed)
    assert len(a) == n
    check_everything(run_everything(a))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
          phases=PHASES)
@given(st.sampled_from([5, 12, 40]), st.integers(0, 1), st.sets(st.sampled_from(sorted(MIXES)), min_size=1))
def test_degenerate_mixes_have_defined_results_and_say_why(n, seed, mixes):
    a = analysis_dataset(n, seed)
    for mix in sorted(mixes):
        a = MIXES[mix](a)
    out = run_everything(a, sensitivity_analyses=True)
    check_everything(out)
    uni, multi, km = out["uni"], out["multi"], out["km"]
    if "no_deaths" in mixes:  # nothing is estimable for OS (a factor never recorded says that first)
        assert (uni.loc[uni.endpoint == "os", "reason"] != "").all()
        assert set(uni.loc[(uni.endpoint == "os") & (uni.covariate == "age_ge65"), "reason"]) == {ne.NO_EVENTS}
        assert km.loc[km.endpoint == "os", "median"].isna().all()  # not reached, nobody died
    if "no_vgpr" in mixes and a["vgpr_or_better"].notna().any():
        assert set(uni.loc[uni.covariate == "vgpr_or_better", "reason"]) - {ne.NO_EVENTS} == {ne.ONE_LEVEL}
        assert set(km.loc[km.group == "vgpr_or_better=1", "reason"]) == {ne.NO_PATIENTS}
    if "no_fish" in mixes:
        assert set(uni.loc[uni.covariate.isin(FISH), "reason"]) == {ne.ALL_MISSING}
    if "one_dex_group" in mixes:
        assert set(uni.loc[uni.covariate == "dex_dose_group", "reason"]) == {ne.REFERENCE_ABSENT}
        assert set(out["factor"]["reason"]) == {ne.REFERENCE_ABSENT}
    if "emd_never_assessed" in mixes:
        assert set(multi["reason"]) == {ne.ALL_MISSING}
        mi = out["sensitivity"][out["sensitivity"].model == "multiple_imputation"]
        assert set(mi["reason"]) == {ne.ALL_MISSING}
        assert (out["sensitivity"].loc[out["sensitivity"].model == "without_emd_relapse", "n"] > 0).all()


def test_every_single_centre_subset_has_defined_results():
    a = analysis_dataset(25, 11)
    centres = [c.reset_index(drop=True) for _, c in a.groupby("center")]
    assert len(centres) > 1
    for centre in centres:
        check_everything(run_everything(centre))

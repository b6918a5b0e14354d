"""The synthetic cohort: byte-identical regeneration, exact printed counts, clinical rules, a model that recovers its truth."""

import dataclasses
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter

from compendium.report import claims
from compendium.data import dataset, endpoints, loading, rules as clinical
from compendium import synthetic
from compendium.synthetic import multistate
from compendium import paths
from compendium.stats import survival as sv


@pytest.fixture(scope="module")
def analysis():
    raw = loading.load_raw(paths.SYNTHETIC_COHORT)
    return endpoints.derive(raw.frame)


def test_regeneration_is_byte_identical():
    assert synthetic.to_csv_text(synthetic.generate()) == paths.SYNTHETIC_COHORT.read_text()


def test_committed_provenance_is_what_the_generator_writes():
    """The analyses read the seeds from the file beside the cohort; it must say what the generator does."""
    assert paths.SYNTHETIC_META.read_text() == synthetic.meta_text()
    record = synthetic.meta()
    assert record["outcome_seed"] == synthetic.OUTCOME_SEED and record["construction_seed"] == synthetic.CONSTRUCTION_SEED
    assert record["cohort"]["file"] == paths.relative(paths.SYNTHETIC_COHORT)


def test_outcome_seed_is_the_one_that_reaches_the_cohort():
    """Another outcome seed draws another treatment layer on the same searched histories: the committed
    cohort is the one drawn with OUTCOME_SEED, which is the seed the provenance and the banner name."""
    base = synthetic.construct_baseline(np.random.default_rng(synthetic.CONSTRUCTION_SEED))
    start, obs = synthetic.history(base, synthetic.model_covariates(base), synthetic.calibrated_state())
    committed = loading.load_raw(paths.SYNTHETIC_COHORT).frame["daravd_end_reason"].fillna("").astype(str).tolist()

    def stops(outcome_seed):
        rng = np.random.default_rng([synthetic.CONSTRUCTION_SEED, outcome_seed, 1])
        return synthetic.courses.assign_treatment(rng, obs, base["best_response"].to_numpy(), base["age"].to_numpy(),
                                                  synthetic.admin_months(start))["end_reason"].tolist()
    assert stops(synthetic.OUTCOME_SEED) == committed
    assert stops(4729) != committed  # the seed once defined beside it reaches nothing of the cohort
    assert dataset.generator_provenance(loading.sha256(paths.SYNTHETIC_COHORT))["outcome_seed"] == synthetic.OUTCOME_SEED


def test_the_pipeline_does_not_import_the_generator():
    """Loading, deriving, the statistics, the report and the runner work without compendium.synthetic;
    of the notebooks only 00 (which documents the generator) and 05 (its truth) import it."""
    code = ("import sys; import compendium.data.dataset, compendium.data.endpoints, compendium.data.loading, "
            "compendium.stats.models, compendium.report.claims, compendium.run.runner; "
            "print(sorted(m for m in sys.modules if m.startswith('compendium.synthetic')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    importing = {nb.name[:2] for nb in paths.NOTEBOOKS.glob("[0-9][0-9]_*.py")
                 if re.search(r"^\s*(from compendium\.synthetic\b|from compendium import .*\bsynthetic\b|import compendium\.synthetic)",
                              nb.read_text(), re.M)}
    assert importing <= {"00", "05"}


def test_name_says_synthetic():
    assert "synthetic" in paths.SYNTHETIC_COHORT.name
    assert all(pid.startswith("SYN") for pid in pd.read_csv(paths.SYNTHETIC_COHORT)["patient_id"])


# Registry claim ids (published values live there) and how to count them on the analysis dataset.
COUNTED = {
    "T1_age_lt65_n": lambda a: (a.age_group == "<65").sum(),
    "T1_age_65_70_n": lambda a: (a.age_group == "65-70").sum(),
    "T1_age_gt70_n": lambda a: (a.age_group == ">70").sum(),
    "T1_sex_male_n": lambda a: (a.sex == "M").sum(),
    "T1_isotype_IgG_n": lambda a: (a.isotype == "IgG").sum(),
    "T1_isotype_BJ_n": lambda a: (a.isotype == "BJ").sum(),
    "T1_pc_ge60_n": lambda a: (a.pc_ge60_relapse == 1).sum(),
    "T1_pc_na_n": lambda a: a.pc_ge60_relapse.isna().sum(),
    "T1_iss_III_n": lambda a: (a.iss == "III").sum(),
    "T1_riss_na_n": lambda a: a.riss.isna().sum(),
    "T1_cyto_dx_high_n": lambda a: (a.cyto_high_risk_dx == 1).sum(),
    "T1_cyto_dx_na_n": lambda a: a.cyto_high_risk_dx.isna().sum(),
    "T1_emd_n": lambda a: (a.emd_relapse == 1).sum(),
    "R_emd_evaluable_n": lambda a: a.emd_relapse.notna().sum(),
    "T1_asct_double_n": lambda a: (a.asct_first_line == "double").sum(),
    "T1_bortezomib_exposed_n": lambda a: a.bortezomib_exposed.sum(),
    "T1_len_dose_pd_25_15_n": lambda a: (a.len_dose_pd_group == "25-15").sum(),
    "R_len_dose_pd_10_n": lambda a: (a.len_dose_pd_mg == 10).sum(),
    "R_cyto_relapse_high_n": lambda a: (a.cyto_high_risk_relapse == 1).sum(),
    "R_on_treatment_n": lambda a: a.on_treatment.sum(),
    "R_disc_pd_n": lambda a: (a.end_reason == "PD").sum(),
    "R_dara_all_doses_n": lambda a: (a.dara_doses_skipped == 0).sum(),
    "R_btz_reduced_n": lambda a: a.bortezomib_dose_reduced.sum(),
    "R_btz_weekly_n": lambda a: a.bortezomib_weekly_switch.sum(),
    "R_salvage_asct_n": lambda a: a.salvage_asct.sum(),
    "R_dex_full_n": lambda a: (a.dex_dose_group == "full").sum(),
    "R_any_ae_n": lambda a: (a.filter(like="_grade").max(axis=1) > 0).sum(),
    "R_ae_ge2_n": lambda a: (a.filter(like="_grade").max(axis=1) >= 2).sum(),
    "T6_thrombocytopenia_g34_n": lambda a: (a.ae_thrombocytopenia_grade >= 3).sum(),
    "T6_pn_g2_n": lambda a: (a.ae_pn_grade == 2).sum(),
    "T6_infection_g5_n": lambda a: (a.ae_infection_grade == 5).sum(),
    "R_ae_deaths_n": lambda a: (a.death_cause == "adverse_event").sum(),
}


@pytest.mark.parametrize("claim_id", sorted(COUNTED))
def test_constructed_counts_are_exact(analysis, claim_id):
    registry = claims.load_registry().set_index("claim_id")
    assert registry.loc[claim_id, "basis"] == "constructed"
    assert int(COUNTED[claim_id](analysis)) == registry.loc[claim_id, "published"]


def test_response_counts(analysis):
    registry = claims.load_registry().set_index("claim_id")
    pct = lambda col: 100 * analysis[col].mean()  # noqa: E731
    assert abs(pct("orr") - registry.loc["R_orr_pct", "published"]) <= registry.loc["R_orr_pct", "tolerance"]
    assert analysis["vgpr_or_better"].sum() == 51 and analysis["cr_or_better"].sum() == 21


@pytest.mark.parametrize("column,q", [("creatinine_mg_dl", (0.72, 0.85, 1.01)), ("calcium_mg_dl", (8.8, 9.1, 9.6))])
def test_quartiles_are_order_statistics(analysis, column, q):
    assert analysis[column].quantile([0.25, 0.5, 0.75]).tolist() == pytest.approx(q, abs=1e-12)


def test_median_age_and_len_exposure(analysis):
    assert analysis["age_years"].median() == 68
    assert analysis["len_exposure_months"].median() == pytest.approx(12.5, abs=1 / 30.4375)


def test_adverse_event_nesting(analysis):
    assert (analysis.ae_pneumonia_grade <= analysis.ae_infection_grade).all()
    assert (analysis.ae_herpes_zoster_grade <= analysis.ae_infection_grade).all()
    died_ae = analysis[analysis.death_cause == "adverse_event"]
    assert (died_ae.end_reason == "death").all() and (died_ae.ae_infection_grade == 5).all()


def test_joint_structure_transplant_younger(analysis):
    assert analysis.loc[analysis.prior_asct == 1, "age_years"].median() < analysis.loc[analysis.prior_asct == 0, "age_years"].median()


@pytest.fixture(scope="module")
def typed_default():
    return loading.load_raw(paths.SYNTHETIC_COHORT).frame


@pytest.fixture(scope="module")
def typed_10k(tmp_path_factory):
    """A generated 10,000-patient cohort, written and read back through the validating loader."""
    path = tmp_path_factory.mktemp("big") / "cohort_10k.csv"
    synthetic.write_any(path, 10_000, seed=11)
    return loading.load_raw(path).frame


# ---- clinical rules ------------------------------------------------------------------------

@pytest.mark.parametrize("rule", clinical.RULE_NAMES)
@pytest.mark.parametrize("which", ["default", "10k"])
def test_the_generator_obeys_the_clinical_rule(rule, which, typed_default, typed_10k):
    """Each clinical rule (compendium.data.rules) a test of its own, on the default cohort and on 10,000."""
    raw = typed_default if which == "default" else typed_10k
    bad = clinical.rule_breaches(raw)
    bad = bad[bad["rule"] == rule]
    assert bad.empty, bad.head(5).to_string()


def test_default_cohort_breaks_no_clinical_rule(typed_default):
    rules = clinical.clinical_rules(typed_default)
    assert len(rules) == len(clinical.RULES) >= 25
    assert rules["patients breaking it"].sum() == 0, rules[rules["patients breaking it"] > 0].to_string()


def _first(frame, mask):
    return frame.index[mask][0]


DAY = pd.Timedelta(days=1)


def _edit(raw, mask, **values):
    i = _first(raw, mask)
    for col, v in values.items():
        raw.loc[i, col] = v(raw.loc[i]) if callable(v) else v
    return i


#: For each rule, one patient of the default cohort edited so as to break it (and what a data manager would see).
BREAK = {
    "response_confirmed_before_progression": lambda r: _edit(
        r, r.best_response.isin(["VGPR", "CR"]) & r.progression_date.notna() & r.daravd_end_reason.eq("PD"),
        progression_date=lambda p: p.best_response_date + 20 * DAY, daravd_end_date=lambda p: p.best_response_date + 20 * DAY),
    "pd_best_is_progression": lambda r: _edit(r, r.best_response.eq("PD"), best_response_date=lambda p: p.progression_date - 7 * DAY),
    "vgpr_date_matches_response": lambda r: _edit(r, r.best_response.eq("CR"), vgpr_first_date=lambda p: p.best_response_date + DAY),
    "response_not_before_first_assessment": lambda r: _edit(r, r.best_response.eq("PR"),
                                                            best_response_date=lambda p: p.daravd_start_date + 10 * DAY),
    "response_confirmed_before_death": lambda r: _edit(r, r.death_date.notna() & r.progression_date.isna(),
                                                       best_response_date=lambda p: p.death_date - 5 * DAY),
    "best_response_within_followup": lambda r: _edit(r, r.best_response.eq("PR") & r.progression_date.isna(),
                                                     best_response_date=lambda p: p.last_followup_date + DAY),
    "pd_stop_on_progression_date": lambda r: _edit(r, r.daravd_end_reason.eq("PD"),
                                                   daravd_end_date=lambda p: p.progression_date + 30 * DAY),
    "death_stop_before_death": lambda r: _edit(r, r.daravd_end_reason.eq("death"),
                                               daravd_end_date=lambda p: p.death_date - 60 * DAY),
    "cycles_fit_schedule": lambda r: _edit(r, r.daravd_end_reason.eq("PD"), cycles_received=lambda p: p.cycles_received + 3),
    "death_cause_fits_course": lambda r: _edit(r, r.death_date.notna() & r.progression_date.isna(), death_cause="myeloma"),
    "next_line_order": lambda r: _edit(r, r.next_treatment_date.notna(),
                                       next_treatment_date=lambda p: p.progression_date - 10 * DAY),
    "bortezomib_toxicity_managed": lambda r: _edit(r, r.bortezomib_dose_reduced.eq(0) & r.bortezomib_weekly_switch.eq(0),
                                                   ae_pn_grade=3),
    "bortezomib_reduction_has_cause": lambda r: _edit(r, r.bortezomib_dose_reduced.eq(1), bortezomib_dose_reduced=1,
                                                      **{c: 0 for c in clinical.REDUCTION_CAUSES}),
    "bortezomib_reduction_within_schedule": lambda r: _edit(r, r.bortezomib_dose_reduced.eq(1) & (r.cycles_received >= 12),
                                                            bortezomib_reduction_cycle=11),
    "reduced_start_dose_has_neuropathy": lambda r: _edit(r, r.ae_pn_grade.eq(0), bortezomib_start_dose_mg_m2=1.0),
    "first_line_asct_age": lambda r: _edit(r, r.asct_first_line.eq("none") & r.daravd_start_date.notna(),
                                           asct_first_line="single",
                                           birth_date=lambda p: p.first_line_start_date - pd.Timedelta(days=round(75 * 365.25))),
    "salvage_asct_age": lambda r: _edit(r, r.salvage_asct.eq(0), salvage_asct=1, salvage_asct_cycle=5,
                                        birth_date=lambda p: p.daravd_start_date - pd.Timedelta(days=round(76 * 365.25))),
    "riss_staged_from_iss_and_fish": lambda r: _edit(r, r.iss_dx.eq("III"), riss_dx="I"),
    "second_progression_after_first_assessment": lambda r: _edit(
        r, r.second_progression_date.notna(), second_progression_date=lambda p: p.next_treatment_date + 5 * DAY),
    "myeloma_death_after_next_line_has_second_progression": lambda r: _edit(
        r, r.death_cause.eq("myeloma") & r.next_treatment_date.notna(), second_progression_date=pd.NaT),
    "on_treatment_seen_near_cutoff": lambda r: _edit(r, r.daravd_end_reason.isna() | r.daravd_end_reason.eq(""),
                                                     last_followup_date=lambda p: p.last_followup_date - 200 * DAY),
    "toxicity_stop_has_severe_event": lambda r: _edit(r, r.daravd_end_reason.eq("toxicity"),
                                                      **{c: 1 for c in clinical.AE_COLUMNS}),
    "pd_best_response_is_early": lambda r: _edit(r, r.best_response.eq("PD"),
                                                 progression_date=lambda p: p.daravd_start_date + 200 * DAY),
    "daratumumab_route_by_date": lambda r: _edit(r, r.dara_route_start.eq("IV"), dara_route_start="SC"),
    "progression_treated": lambda r: _edit(r, r.next_treatment_date.notna(),
                                           next_treatment_date=lambda p: p.progression_date + 300 * DAY),
}


def test_every_rule_has_a_broken_history_below():
    assert set(BREAK) == set(clinical.RULE_NAMES)


@pytest.mark.parametrize("rule", clinical.RULE_NAMES)
def test_each_rule_catches_a_history_that_breaks_it(rule, typed_default):
    """The rules are not vacuous: one edited patient of the default cohort is queried, by id, under that rule,
    with the edited values among those shown."""
    raw = typed_default.copy()
    i = BREAK[rule](raw)
    bad = clinical.rule_breaches(raw)
    hit = bad[(bad["rule"] == rule) & (bad["patient_id"] == raw.loc[i, "patient_id"])]
    assert len(hit) == 1, bad.to_string()


@pytest.mark.parametrize("breakage", ["early_progression", "vgpr_after_best", "pd_stop_late", "too_many_cycles",
                                      "myeloma_death_without_progression"])
def test_rule_checker_catches_a_broken_history(typed_default, breakage):
    """The checker is not vacuous: one edited patient is reported, by id, under the right rule."""
    raw = typed_default.copy()
    day = pd.Timedelta(days=1)
    if breakage == "early_progression":
        i = _first(raw, raw.best_response.isin(["VGPR", "CR"]) & raw.progression_date.notna())
        raw.loc[i, "progression_date"] = raw.loc[i, "best_response_date"] + 20 * day
        raw.loc[i, "daravd_end_date"] = raw.loc[i, "progression_date"]
    elif breakage == "vgpr_after_best":
        i = _first(raw, raw.best_response.eq("CR"))
        raw.loc[i, "vgpr_first_date"] = raw.loc[i, "best_response_date"] + day
    elif breakage == "pd_stop_late":
        i = _first(raw, raw.daravd_end_reason.eq("PD"))
        raw.loc[i, "daravd_end_date"] = raw.loc[i, "progression_date"] + 30 * day
    elif breakage == "too_many_cycles":
        i = _first(raw, raw.daravd_end_reason.eq("PD"))
        raw.loc[i, "cycles_received"] = raw.loc[i, "cycles_received"] + 3
    else:
        i = _first(raw, raw.death_date.notna() & raw.progression_date.isna())
        raw.loc[i, "death_cause"] = "myeloma"
    rules = clinical.clinical_rules(raw)
    broken = rules[rules["patients breaking it"] > 0]
    assert len(broken) >= 1 and (broken["examples"] == raw.loc[i, "patient_id"]).any()


@pytest.mark.parametrize("which", ["default", "10k"])
def test_response_times_are_plausible(which, typed_default, typed_10k):
    """Median time to best response near the paper's 3 months; >=VGPR first reached no later than best."""
    raw = typed_default if which == "default" else typed_10k
    months = lambda col: (raw[col] - raw.daravd_start_date).dt.days / synthetic.MONTH_DAYS  # noqa: E731
    best, vgpr = months("best_response_date"), months("vgpr_first_date")
    assert 2.0 <= best.median() <= 4.5
    deep = raw.best_response.isin(["sCR", "CR", "VGPR"])
    assert (vgpr[deep] <= best[deep]).all() and vgpr[~deep].isna().all()
    assert (vgpr[raw.best_response.isin(["CR", "sCR"])] < best[raw.best_response.isin(["CR", "sCR"])]).mean() > 0.8
    first_month = best[raw.best_response.isin(["sCR", "CR", "VGPR", "PR"])] < 0.6
    assert not first_month.any()  # no response is documented before the end of cycle 1


def test_10k_cohort_keeps_the_papers_proportions(typed_10k):
    """A free draw is not pinned, but its shares sit near the paper's (binomial error at n = 10,000)."""
    registry = claims.load_registry().set_index("claim_id")
    share = typed_10k.best_response.isin(["sCR", "CR", "VGPR"]).mean() * 100
    assert abs(share - registry.loc["R_vgpr_pct", "published"]) < 3
    assert abs(typed_10k.sex.eq("M").mean() - registry.loc["T1_sex_male_n", "published"] / 85) < 0.03


# ---- the optional first >=VGPR date -----------------------------------------------------------

def test_vgpr_date_is_used_and_falls_back_without_it(synthetic_text, write_csv):
    with_it = endpoints.derive(loading.load_raw(paths.SYNTHETIC_COHORT).frame)
    deep = with_it.vgpr_or_better == 1
    assert (with_it.loc[deep, "vgpr_date_source"] == "vgpr_first_date").all()
    assert (with_it.loc[deep, "vgpr_months"] <= with_it.loc[deep, "response_months"]).all()
    assert with_it.loc[~deep, "vgpr_months"].isna().all()
    path = write_csv(synthetic_text.drop(columns=["vgpr_first_date"]))
    without = endpoints.derive(loading.load_raw(path).frame)
    assert (without.loc[deep, "vgpr_date_source"] == "best_response_date").all()
    assert without.loc[deep, "vgpr_months"].tolist() == without.loc[deep, "response_months"].tolist()


def test_vgpr_date_after_best_response_is_rejected(synthetic_text, write_csv):
    text = synthetic_text.copy()
    i = text.index[text.best_response == "CR"][0]
    text.loc[i, "vgpr_first_date"] = "2030-01-01"
    with pytest.raises(loading.DataValidationError) as info:
        loading.load_raw(write_csv(text))
    assert "vgpr_first_date" in set(info.value.problems["column"]) or "best_response_date" in set(info.value.problems["column"])


# ---- the model and its quick estimators -----------------------------------------------------------

def test_quick_cox_agrees_with_lifelines():
    rng = np.random.default_rng(1)
    n = 300
    x = np.column_stack([rng.uniform(size=n) < 0.5, rng.normal(size=n), rng.uniform(size=n) < 0.3]).astype(float)
    t = rng.exponential(10 * np.exp(-0.5 * x[:, 0] + 0.3 * x[:, 1]))
    e = rng.uniform(size=n) < 0.7
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(t=t, e=e.astype(int))
    ref = CoxPHFitter().fit(df, "t", "e")  # continuous times: no ties, Efron = Breslow
    beta, se = multistate.cox(t, e, x)
    assert beta == pytest.approx(ref.params_.to_numpy(), abs=1e-6)
    assert se == pytest.approx(ref.standard_errors_.to_numpy(), abs=1e-6)
    b1, s1 = multistate.cox(t, e, x[:, :1])
    r1 = CoxPHFitter().fit(df[["a", "t", "e"]], "t", "e")
    assert b1[0] == pytest.approx(r1.params_["a"], abs=1e-6) and s1[0] == pytest.approx(r1.standard_errors_["a"], abs=1e-6)


def test_batched_univariate_cox_equals_one_fit_per_column():
    rng = np.random.default_rng(3)
    n = 120
    t = np.round(rng.exponential(10, n), 1)  # ties included
    e = rng.uniform(size=n) < 0.6
    x = np.column_stack([rng.uniform(size=n) < 0.5, rng.normal(size=n), rng.uniform(size=n) < 0.2]).astype(float)
    x[rng.uniform(size=(n, 3)) < 0.2] = np.nan  # each fit drops its own missing rows
    beta, se = multistate.cox_each(t, e, x)
    for k in range(3):
        b1, s1 = multistate.cox(t, e, x[:, k])
        assert beta[k] == pytest.approx(b1[0], abs=1e-7) and se[k] == pytest.approx(s1[0], abs=1e-7)


def test_quick_counting_process_cox_agrees_with_lifelines():
    rng = np.random.default_rng(4)
    n = 250
    t = rng.exponential(10, n) + 0.1
    tr = rng.uniform(0, 8, n)
    flag = (rng.uniform(size=n) < 0.6).astype(float)
    e = rng.uniform(size=n) < 0.7
    start, stop, ev, exposed = multistate.counting_process(t, e, flag, tr)
    cp = pd.DataFrame({"id": 0, "start": start, "stop": stop, "e": ev.astype(int), "r": exposed})
    cp["id"] = np.arange(len(cp))  # one row per id is fine for lifelines' partial likelihood
    ref = CoxTimeVaryingFitter().fit(cp, id_col="id", event_col="e", start_col="start", stop_col="stop")
    beta, se = multistate.cox(stop, ev, exposed, start=start)
    assert beta[0] == pytest.approx(ref.params_["r"], abs=1e-6)
    assert se[0] == pytest.approx(ref.standard_errors_["r"], abs=1e-6)
    # and the rows are those of compendium.stats.survival.time_dependent_response
    df = pd.DataFrame({"patient_id": np.arange(n), "pfs_months": t, "pfs_event": e.astype(int), "resp": tr, "flag": flag})
    rows = sv.time_dependent_response(df, "pfs", "resp", "flag")
    assert len(rows) == len(start) and rows["responded"].sum() == exposed.sum()


def test_quick_km_median_agrees_with_the_r_tested_one():
    rng = np.random.default_rng(2)
    for _ in range(20):
        t = np.round(rng.exponential(10, 60), 1)
        e = rng.uniform(size=60) < 0.6
        ref = sv.km_median(t, e.astype(int))["median"]
        ours = multistate.km_median(t, e)
        assert (np.isnan(ref) and np.isnan(ours)) or ours == pytest.approx(ref)


def test_model_recovers_its_post_progression_hazard_ratios():
    """Known truth: survival after progression is exponential with proportional effects for a patient fit
    for a next line (the unfit die within UNTREATED_MAX_DAYS, a rule of their own): all drawn fit here."""
    base, obs = synthetic.free_histories(20_000, seed=5, model=dataclasses.replace(multistate.MODEL, next_line_share=1.0))
    cov = synthetic.model_covariates(base)
    prog = obs.progressed.to_numpy()
    after = (obs.last_t - obs.progression_t).to_numpy()[prog]
    names = [k for k, _ in multistate.MODEL.pps_loghr]
    x = np.column_stack([cov[k][prog] for k in names])
    beta, se = multistate.cox(after, obs.died.to_numpy()[prog], x)
    for (name, truth), b, s in zip(multistate.MODEL.pps_loghr, beta, se):
        assert abs(b - truth) < 4 * s, name


def test_model_recovers_its_progression_hazard_ratios():
    """Known truth: from the response guard on, progression is Weibull with proportional effects and
    the >=VGPR effect; delayed entry at the guard recovers them (Cox is free of the baseline hazard)."""
    base, obs = synthetic.free_histories(20_000, seed=6)
    cov = synthetic.model_covariates(base)
    keep = base.best_response.isin(["sCR", "CR", "VGPR", "PR"]).to_numpy()
    guard = (obs.best_t + 2 * multistate.CONFIRM_DAYS / multistate.MONTH_DAYS).to_numpy()
    stop = np.where(obs.progressed, obs.progression_t, np.where(obs.death_noprog, obs.death_t, obs.last_t))
    # every term of the model, the latent aggressive relapse too (omitted, it would attenuate the others:
    # a Cox model is not collapsible); best response SD/MR is constant among the responders kept
    names = [k for k, _ in multistate.MODEL.pfs_loghr if k != "sd_mr_best"] + ["vgpr_or_better"]
    x = np.column_stack([cov[k] for k in names])[keep]
    beta, se = multistate.cox(stop[keep], obs.progressed.to_numpy()[keep], x, start=guard[keep])
    truth = dict(multistate.MODEL.pfs_loghr) | {"vgpr_or_better": multistate.MODEL.vgpr_loghr}
    for name, b, s in zip(names, beta, se):
        assert abs(b - truth[name]) < 4 * s, name


def test_course_constrained_draws_give_the_course_asked_for():
    base = synthetic.construct_baseline(np.random.default_rng(synthetic.CONSTRUCTION_SEED))
    cov = synthetic.model_covariates(base)
    state = synthetic.initial_state(np.random.default_rng(3), base, cov)
    _, obs = synthetic.history(base, cov, state)
    assert (obs.progressed.to_numpy() == (state.outcome == 1)).all()
    assert (obs.death_noprog.to_numpy() == (state.outcome == 2)).all()
    assert (obs.next_line.to_numpy() == state.next_line).all()
    assert obs.progressed.sum() == synthetic.COURSES[1] and obs.next_line.sum() == synthetic.COUNTS["next_treatment"]


# ---- calibration, truth, command line ---------------------------------------------------------------

def test_search_state_round_trips_exactly(tmp_path):
    state = synthetic.calibrated_state()
    synthetic.save_state(state, tmp_path / "s.csv")
    back = synthetic.load_state(tmp_path / "s.csv")
    assert all(np.array_equal(state.u[k], back.u[k]) for k in state.u)


def test_truth_file_is_what_the_generator_says():
    committed = synthetic.read_truth()
    fresh = synthetic.truth()
    assert committed["quantity"].tolist() == fresh["quantity"].tolist()
    assert committed["value"].to_numpy() == pytest.approx(fresh["value"].to_numpy(), rel=1e-9)
    td = committed.set_index(["quantity", "endpoint"])["value"]
    assert td["hr_vgpr_after_confirmation", "pfs"] == pytest.approx(np.exp(multistate.MODEL.vgpr_loghr))


def test_committed_simulation_is_what_the_generator_gives(tmp_path):
    """Notebook 05 reads the simulation from data/synthetic/: recomputed, it is the same file."""
    fresh = tmp_path / "simulation.csv"
    table = synthetic.write_simulation(fresh)
    assert fresh.read_bytes() == synthetic.SIMULATION_FILE.read_bytes()
    assert table["rep"].nunique() == synthetic.SIMULATION["reps"]


def test_cli_writes_any_n_reproducibly(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (a, b):
        done = subprocess.run([sys.executable, "-m", "compendium", "synthetic", "--n", "300", "--seed", "9", "--out", str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert a.read_bytes() == b.read_bytes()
    assert len(loading.load_raw(a).frame) == 300


def test_cli_rejects_bad_n_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "compendium", "synthetic", "--n", "0", "--out", str(tmp_path / "x.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "--n" in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_default_cohort_meets_the_issues_bounds(analysis):
    """Every hazard ratio of Tables 2-5 and the Results within 0.1 on the log scale, every p on the printed
    side of 0.05 (below 0.001 where printed '<0.001'), every median within half a month (and 'not reached'
    where printed so), computed with the R-tested estimators of the analyses. Confidence limits are
    reported in notebook 00 but not bound by the issue."""
    report = synthetic.calibration_report(analysis)
    kinds = synthetic.calibration_targets().set_index("claim_id")["kind"]
    bound = report[report["claim_id"].map(kinds) != "limit"]
    assert len(bound) >= 40
    assert bound["within bounds"].all(), bound.loc[~bound["within bounds"], ["claim_id", "published", "achieved"]].to_string()


def test_within_bounds_rules():
    assert synthetic.within_bounds("hr", 0.28 * np.exp(0.099), 0.28)
    assert not synthetic.within_bounds("hr", 0.28 * np.exp(0.101), 0.28)
    assert synthetic.within_bounds("p", 0.049, 0.008) and not synthetic.within_bounds("p", 0.051, 0.008)
    assert synthetic.within_bounds("p", 0.07, 0.054) and not synthetic.within_bounds("p", 0.04, 0.054)
    assert synthetic.within_bounds("p_below", 0.0009, 0.0005) and not synthetic.within_bounds("p_below", 0.002, 0.0005)
    assert synthetic.within_bounds("months", 14.5, 14) and not synthetic.within_bounds("months", 14.51, 14)
    assert synthetic.within_bounds("not_reached", np.nan, np.nan) and not synthetic.within_bounds("not_reached", 40.0, np.nan)


def test_the_dexamethasone_association_is_confounding_by_indication():
    """The dose has no effect in the model: the committed truth's hazard ratio of the full dose is far from 1 as
    the paper compares the groups, and near 1 once adjusted for what chose the dose (within 0.08 on the log
    scale: OS, made of two hazards, is not exactly proportional in the covariates)."""
    truth = synthetic.read_truth().set_index(["quantity", "endpoint"])["value"]
    assert dict(multistate.MODEL.pfs_loghr)["dex_full"] == 0 and dict(multistate.MODEL.pps_loghr)["dex_full"] == 0
    for endpoint in ("pfs", "os"):
        assert abs(np.log(truth["dex_full_vs_reduced_crude", endpoint])) > 0.5
        assert abs(np.log(truth["dex_full_vs_reduced_adjusted", endpoint])) < 0.08

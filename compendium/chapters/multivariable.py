"""Chapter 05, multivariable: Tables 4-5, their sensitivity, proportional hazards, guarantee time.

``compute(context)`` fits every model of the specification, the sensitivity analyses it declares
(``[sensitivity]``: without a sparse covariate, imputed, penalised; the eligibility window), the
proportional-hazards tests and plots, and the landmark and time-dependent analyses of the
comparison by response (``[response_timing]``), and sets them beside the synthetic generator's
simulation with known truth. Nothing here names a factor or a model: the specification does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from compendium import paths
from compendium.chapters.base import declared_order, Chapter, Context, Estimate, first
from compendium.report import display, plots
from compendium.stats import models, sensitivity
from compendium.stats import survival as sv

MONTH_DAYS = 30.4375
#: the generator's truth and its simulation of the response analyses (data files, read as data)
TRUTH_FILE = paths.SYNTHETIC_DIR / "daravd_synthetic_truth.csv"
SIMULATION_FILE = paths.SYNTHETIC_DIR / "daravd_response_simulation.csv"
#: the analyses the simulation repeats, in the order the figure draws them
SIMULATED = ("time_zero", "landmark_3m", "time_dependent", "time_dependent_best_date")


@dataclass
class MultivariableChapter(Chapter):
    notebook = "05_multivariable"
    fits: dict = field(default_factory=dict)            # (model, endpoint) -> CoxFit
    model_tables: list = field(default_factory=list)    # (title, display.DisplayTable)
    facts: dict = field(default_factory=dict)

    def label(self, model: str, endpoint: str) -> str:
        first_model = self.context.spec.models[0].name if self.context.spec.models else model
        return endpoint.upper() if model == first_model else f"{endpoint.upper()} ({model})"

    def get(self, endpoint: str, covariate: str, level: str | None = None, model: str | None = None) -> dict | None:
        """One estimate of ``cox_multivariable.csv`` (None when the run has no such row)."""
        where = {"endpoint": endpoint, "covariate": covariate}
        if level is not None:
            where["level"] = level
        if model is not None:
            where["model"] = model
        return first(self.tables["cox_multivariable"], **where)

    def sensitivity_estimate(self, endpoint: str, model: str, covariate: str) -> dict | None:
        table = self.tables.get("cox_sensitivity")
        return None if table is None else first(table, endpoint=endpoint, model=model, covariate=covariate)


def _fit(analysis, endpoint, covariates, references, **kw):
    """A Cox fit, or None with the reason when the data cannot give one (every coefficient estimable)."""
    fit = sv.cox_fit(analysis, endpoint, list(covariates), references, **kw)
    reason = fit.reason or next((r for r in fit.reasons if r), "")
    return (None, reason) if reason else (fit, "")


def compute(context: Context) -> MultivariableChapter:
    ch = MultivariableChapter(context)
    analysis, spec = context.analysis, context.spec
    reasons = {}
    for m in spec.models:
        for e in m.endpoints:
            fit, why = _fit(analysis, e, m.covariates, spec.references)
            if fit is None:
                reasons[(m.name, e)] = why
            else:
                ch.fits[(m.name, e)] = fit
    ch.facts["unfitted"] = reasons
    ch.facts["n_all"] = {e: int(analysis[f"{e}_months"].notna().sum()) for e in {e for m in spec.models for e in m.endpoints}}
    paper_models = models.multivariable_results(analysis, spec) if spec.models else _empty_cox()
    _tables(ch, paper_models)
    ch.shown["global_tests"] = pd.DataFrame(
        [{"model": name, "endpoint": e.upper(), **sv.cox_global_tests(f)} for (name, e), f in ch.fits.items()])
    _events_per_parameter(ch)
    _sensitivity(ch)
    _proportional_hazards(ch)
    extra = _response_timing(ch)
    columns = ["endpoint", "model", "covariate", "level", "reference", "hr", "lcl", "ucl", "p", "n", "events"]
    combined = pd.concat([paper_models] + [e[columns] for e in extra], ignore_index=True)
    for col in ("hr", "lcl", "ucl", "p"):
        combined[col] = combined[col].astype(float)
    ch.tables["cox_multivariable"] = combined
    ch.fill_declared()
    return ch


def _empty_cox() -> pd.DataFrame:
    return pd.DataFrame(columns=["endpoint", "model", "covariate", "level", "reference", "hr", "lcl", "ucl", "p",
                                 "n", "events"])


def _tables(ch: MultivariableChapter, paper_models: pd.DataFrame) -> None:
    spec, registry = ch.context.spec, ch.context.registry
    registered = set(registry["claim_id"])
    for table in spec.tables:
        if table.source == "univariate":
            continue
        rows = paper_models[paper_models.model == table.source]
        ch.model_tables.append((table.title, display.table(rows, spec, kind="paper", title=table.title,
                                                           rows=list(table.rows), registry=registry)))
        for row in table.rows:
            ours = models.oriented(rows, row)
            ok = models.estimable(ours["hr"], ours["lcl"], ours["ucl"])
            for key in ("hr", "lcl", "ucl", "p"):
                claim_id = f"{row.claim}_{key}"
                if row.claim and claim_id in registered:
                    ch.record(claim_id, Estimate(ours[key]) if ok else
                              Estimate(reason=f"{row.label}: {models.NOT_ESTIMABLE}"))


def _events_per_parameter(ch: MultivariableChapter) -> None:
    """Events per parameter of each model, counting also the parameters of the screen it was chosen from."""
    uni_parameters = sum(len(sv.cox_univariate(ch.context.analysis, ch.context.spec.screen_endpoints[0], f.column,
                                               f.reference)) for f in ch.context.spec.factors) \
        if ch.context.spec.screen_endpoints and ch.context.spec.factors else 0
    epp = sensitivity.events_per_parameter({ch.label(name, e): f for (name, e), f in ch.fits.items()})
    ch.tables["events_per_parameter"] = epp
    ch.facts["screen_parameters"] = uni_parameters


def _sensitivity(ch: MultivariableChapter) -> None:
    analysis, spec = ch.context.analysis, ch.context.spec
    sens = spec.sensitivity
    if sens is None:
        return
    model = spec.model(sens.model)
    ch.facts["sensitivity_model"] = model
    loss = pd.concat([sensitivity.complete_case_loss(analysis, e, model.covariates) for e in model.endpoints],
                     ignore_index=True)
    ch.shown["complete_case_loss"] = loss
    if sens.sparse is not None:
        ch.tables["cox_sensitivity"] = pd.concat(
            [sensitivity.model_sensitivity(analysis, e, model.covariates, sens.sparse, m=sens.imputations)
             for e in model.endpoints], ignore_index=True)
        ch.facts["sparse_present"] = int(analysis[sens.sparse].eq(1).sum())
    ch.tables["eligibility_landmark"] = sensitivity.eligibility_landmark(
        analysis, endpoints=model.endpoints, landmark=sens.eligibility_days / MONTH_DAYS)


def _proportional_hazards(ch: MultivariableChapter) -> None:
    spec = ch.context.spec
    parts = [sv.cox_zph(f).assign(model=ch.label(name, e)) for (name, e), f in ch.fits.items()]
    ch.tables["cox_zph"] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["covariate", "chisq", "df", "p", "model"])
    first_model = spec.models[0].name if spec.models else None
    for (name, e), f in ch.fits.items():
        stem = f"fig_zph_{e}" if name == first_model else f"fig_zph_{name}_{e}"
        ch.figures[stem] = plots.zph_plot_r(f, title=f"{ch.label(name, e)} model: scaled Schoenfeld residuals",
                                            labels=spec.labels, zph=ch.tables["cox_zph"][
                                                ch.tables["cox_zph"].model == ch.label(name, e)])
    # which way a time-varying effect of the response factor drifts (the sign of the residuals' trend)
    rt = spec.response_timing
    ch.facts["response_trend"] = {}
    if rt is None:
        return
    for (name, e), f in ch.fits.items():
        if rt.factor not in {c for c, _, _ in f.columns}:
            continue
        res = sv.scaled_schoenfeld(f)
        if rt.factor in res.columns and len(res) > 2:
            slope = float(np.polyfit(res["gtime"], res[rt.factor], 1)[0])
            coef = float(f.coef[[c for c, _, _ in f.columns].index(rt.factor)])
            ch.facts["response_trend"][ch.label(name, e)] = (coef, slope)


def _response_timing(ch: MultivariableChapter) -> list[pd.DataFrame]:
    """Time zero, landmarks and time-dependent fits of the response factor, for each endpoint."""
    analysis, spec = ch.context.analysis, ch.context.spec
    rt = spec.response_timing
    if rt is None:
        return []
    flag, extra, comparison, td_fits = rt.factor, [], [], {}

    def row(endpoint, label, table, n=None):
        r = first(table, covariate=table["covariate"].iloc[0]) if len(table) else None
        r = r or {"hr": math.nan, "lcl": math.nan, "ucl": math.nan, "p": math.nan, "n": 0, "events": 0}
        comparison.append({"endpoint": endpoint.upper(), "analysis": label, "n": r["n"] if n is None else n,
                           "events": r["events"], "HR (95% CI)": models.format_hr(r["hr"], r["lcl"], r["ucl"]),
                           "p": models.format_p(r["p"])})
        return r

    for endpoint in rt.endpoints:
        zero = sv.cox_univariate(analysis, endpoint, flag)
        ch.facts.setdefault("time_zero", {})[endpoint] = row(endpoint, "from time zero (as the paper)", zero)
        for lm in rt.landmarks:
            data = sv.landmark(analysis, endpoint, lm, rt.first_reached, flag)
            fit = sv.cox_univariate(data, endpoint, "responded_by_landmark")
            row(endpoint, f"landmark at {lm:g} months", fit)
            extra.append(fit.assign(model=f"landmark_{lm:g}m"))
        for model_name, column, label in (("time_dependent", rt.first_reached, f"time-dependent, {spec.factor(flag).label} first reached"),
                                          ("time_dependent_best_date", rt.best_date, "time-dependent, best-response date")):
            cp = sv.time_dependent_response(analysis, endpoint, column, flag)
            fit, _ = _fit(cp, endpoint, ["responded"], {}, start="tstart")
            if fit is None:
                continue
            td_fits.setdefault(endpoint, fit)
            table = fit.table()
            table["n"] = int(analysis[f"{endpoint}_months"].notna().sum())  # patients, not intervals
            row(endpoint, label, table)
            extra.append(table.assign(model=model_name))
    ch.shown["response_timing"] = pd.DataFrame(comparison)
    ch.shown["time_dependent_zph"] = pd.concat(
        [sv.cox_zph(f).assign(model=f"{e.upper()} time-dependent") for e, f in td_fits.items()],
        ignore_index=True) if td_fits else pd.DataFrame()
    responders = analysis[analysis[flag] == 1]
    source = responders["vgpr_date_source"].value_counts() if "vgpr_date_source" in analysis else pd.Series(dtype=int)
    ch.facts.update(responders=len(responders), from_best=int(source.get("best_response_date", 0)),
                    first_reached_median=responders[rt.first_reached].median(),
                    best_median=responders[rt.best_date].median(),
                    not_evaluable=int(analysis[flag].isna().sum()))
    drawn = rt.endpoints[0]
    at = sv.landmark(analysis, drawn, rt.landmark, rt.first_reached, flag)
    factor = spec.factor(flag)
    title = f"{drawn.upper()} from {rt.landmark:g} months, by response at {rt.landmark:g} months"
    if at.empty:
        ch.figures[f"fig_landmark_{drawn}_{rt.landmark:g}m"] = plots.nothing_to_draw(
            title, f"no patient is event-free and followed at {rt.landmark:g} months")
    else:
        ch.figures[f"fig_landmark_{drawn}_{rt.landmark:g}m"] = plots.km_plot(
            at, drawn, group="responded_by_landmark", labels={1: factor.level_label("1"), 0: factor.level_label("0")},
            order=declared_order([1, 0], factor), title=title, xlabel="Months from the landmark", ylabel=f"{drawn.upper()} probability")
    fitted = pd.concat(extra, ignore_index=True) if extra else _empty_cox()
    ch.facts["fitted"] = fitted
    _against_truth(ch, fitted)
    return extra


def bias_and_coverage(simulation: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint and analysis: bias and 95% coverage against the analysis's *own* estimand.

    Each analysis estimates its own population value (``hr_<analysis>`` of the truth table: what it
    gives with unlimited patients under this design); the gap between that estimand and the
    time-dependent effect is a difference of questions, reported apart (``estimand gap``).
    """
    values = truth[truth["quantity"].str.startswith("hr_") & (truth["endpoint"] != "")]
    own = values.set_index(["endpoint", "quantity"])["value"]
    out = []
    for (endpoint, analysis), g in simulation.dropna().groupby(["endpoint", "analysis"], sort=False):
        target = own.get((endpoint, f"hr_{analysis}"), math.nan)
        reference = own.get((endpoint, "hr_time_dependent"), math.nan)
        t = math.log(target)
        lo, hi = g["loghr"] - 1.959964 * g["se"], g["loghr"] + 1.959964 * g["se"]
        out.append({"endpoint": endpoint, "analysis": analysis, "cohorts": len(g),
                    "median HR": float(np.exp(g["loghr"].median())), "estimand HR": float(target),
                    "bias (log HR)": float(g["loghr"].mean() - t),
                    "coverage of 95% CI": float(((lo <= t) & (t <= hi)).mean()),
                    "estimand gap to time-dependent (log HR)": float(t - math.log(reference))})
    return pd.DataFrame(out)


def estimands(ch: MultivariableChapter) -> pd.DataFrame:
    """The truth table's hazard ratios, one row per analysis (``model``), one column per endpoint."""
    population = ch.facts["population"]
    return population.rename(index=lambda q: q.removeprefix("hr_")).rename_axis("model").reset_index()


def _against_truth(ch: MultivariableChapter, fitted: pd.DataFrame) -> None:
    """The generator's simulation of the same analyses, and this cohort's estimates beside it."""
    if not (TRUTH_FILE.exists() and SIMULATION_FILE.exists()):
        return
    truth = pd.read_csv(TRUTH_FILE, keep_default_na=False, na_values={"value": [""]})
    simulation = pd.read_csv(SIMULATION_FILE)
    ch.facts["population"] = truth[truth.quantity.str.startswith("hr_") & (truth.endpoint != "")].pivot(
        index="quantity", columns="endpoint", values="value")
    ch.facts["coverage"] = bias_and_coverage(simulation, truth)
    ch.facts["simulated_cohorts"] = int(simulation["rep"].nunique())
    rt = ch.context.spec.response_timing
    cohort = {}
    for e in rt.endpoints:
        zero = ch.facts["time_zero"].get(e)
        cohort[(e, "time_zero")] = zero["hr"] if zero else math.nan
        for model in ("landmark_3m", "time_dependent", "time_dependent_best_date"):
            r = first(fitted, endpoint=e, model=model)
            cohort[(e, model)] = float(r["hr"]) if r else math.nan
    ch.facts["cohort_hr"] = cohort
    true_td = truth[truth.quantity == "hr_time_dependent"].set_index("endpoint")["value"].to_dict()
    ch.facts["true_td"] = true_td
    ch.figures["fig_guarantee_time_truth"] = plots.simulation_figure(
        simulation, cohort, true_td, [e for e in rt.endpoints if e in true_td], SIMULATED,
        ["time zero", "landmark 3 m", "time-dep.\nfirst ≥VGPR", "time-dep.\nbest date"])


# -- prose: every sentence rendered from this run's values ---------------------------------------

def _nv():
    from compendium.report import narrative
    return narrative


def fitted_sentence(ch: MultivariableChapter) -> str:
    """'68 of 85 patients for PFS and 68 of 85 for OS' and the models that could not be fitted, with why."""
    nv = _nv()
    fitted = [f"{f.n} of {ch.facts['n_all'][e]} patients for {ch.label(name, e)}" for (name, e), f in ch.fits.items()]
    unfitted = [f"{ch.label(name, e)} not estimable ({why})" for (name, e), why in ch.facts["unfitted"].items()]
    return nv.listing(fitted + unfitted, empty="no model is declared")


def loss_sentence(ch: MultivariableChapter) -> str:
    nv = _nv()
    loss = ch.shown.get("complete_case_loss")
    if loss is None:
        return "The specification declares no sensitivity analysis."
    spec = ch.context.spec
    parts = []
    for endpoint, part in loss.groupby("endpoint", sort=False):
        total = first(part, covariate="any")
        by_cov = part[(part.covariate != "any") & (part.missing > 0)]
        n = int(ch.context.analysis[f"{endpoint}_months"].notna().sum())
        parts.append(f"{endpoint.upper()}: the complete-case model drops {total['missing']} of the "
                     f"{nv.count(n, 'patient')} ("
                     + nv.listing([f"{r.missing} with no value for {spec.labels.get(r.covariate, r.covariate)}"
                                   for r in by_cov.itertuples()], empty="none lacks a covariate")
                     + f"), and with them {nv.count(total['events_lost'], 'event')}.")
    return "  \n".join(parts)


def sensitivity_display(ch: MultivariableChapter):
    sens = ch.tables.get("cox_sensitivity")
    if sens is None:
        return None
    return display.table(sens[["endpoint", "model", "covariate", "n", "events", "hr", "lcl", "ucl", "p", "reason"]],
                         ch.context.spec, footnotes=[
                             "Complete cases: the model as fitted; without: the sparse covariate dropped, every patient "
                             "kept; multiple imputation: Rubin's rules; Firth-penalised: Breslow ties, as coxphf."])


def sensitivity_sentences(ch: MultivariableChapter) -> str:
    nv = _nv()
    spec, sens = ch.context.spec, ch.context.spec.sensitivity
    if sens is None or sens.sparse is None or "cox_sensitivity" not in ch.tables:
        return "No sensitivity analysis of a sparse covariate is declared."
    model = spec.model(sens.model)
    sparse = spec.labels.get(sens.sparse, sens.sparse)

    def est(e, m, c):
        r = ch.sensitivity_estimate(e, m, c)
        return nv.hr_ci(*(r[k] for k in ("hr", "lcl", "ucl"))) if r else "HR not estimable (no such fit on this cohort)"

    lines = []
    for e in model.endpoints:
        others = [c for c in model.covariates if c != sens.sparse]
        main = others[0] if others else None
        head = (f"{e.upper()}: {spec.labels.get(main, main)} {est(e, 'complete_case', main)} on complete cases, "
                f"{est(e, f'without_{sens.sparse}', main)} without {sparse} on all patients, "
                f"{est(e, 'multiple_imputation', main)} with {sparse} imputed; ") if main else f"{e.upper()}: "
        lines.append(head + f"{sparse} {est(e, 'complete_case', sens.sparse)} ordinary against "
                     f"{est(e, 'firth', sens.sparse)} penalised "
                     f"({nv.count(ch.facts.get('sparse_present', 0), 'patient')} with it).")
    return "  \n".join(lines)


def zph_paragraph(ch: MultivariableChapter) -> str:
    nv = _nv()
    spec, zph = ch.context.spec, ch.tables["cox_zph"]
    flagged = zph[zph.p < nv.ALPHA]
    text = nv.choose(
        flagged.empty,
        "No proportional-hazards test, global or per covariate, is significant at the 5% level in any model.",
        "Significant at the 5% level: " + nv.listing(
            [f"{'the global test' if r.covariate == 'GLOBAL' else spec.labels.get(r.covariate, r.covariate)} of the "
             f"{r.model} model ({nv.p_value(r.p)})" for r in flagged.itertuples()])
        + ". For a covariate so flagged the model's hazard ratio is an average over a ratio that changes with "
          "time; its panel above shows in which direction (the smooth leaving the dashed line of the model's "
          "coefficient). With few events a handful of residuals drive both the test and the curve: the finding "
          "says that the single hazard ratio summarises the data poorly more than that the effect truly changes.")
    rt = spec.response_timing
    p_of = {} if rt is None else {r.model: r.p for r in zph[zph.covariate == rt.factor].itertuples()}
    # a trend worth a sentence: the benefit rising towards zero, with a test at least suggestive (p < 0.1)
    fading = [(label, coef, slope) for label, (coef, slope) in ch.facts.get("response_trend", {}).items()
              if coef < 0 < slope and p_of.get(label, 1.0) < 0.1]
    if rt is not None and fading:
        factor = spec.factor(rt.factor).label
        text += (f" In {nv.listing([f'the {label} model ({nv.p_value(p_of.get(label))})' for label, _, _ in fading])}, "
                 f"the benefit of {factor} fades with time (the residuals' trend rises towards zero): that is the "
                 "signature guarantee-time bias leaves on a response fixed from time zero, since early progressors "
                 "are non-responders by construction and the groups differ most at the start. The landmark and "
                 "time-dependent analyses below address it.")
    return text


def eligibility_paragraph(ch: MultivariableChapter) -> str:
    nv = _nv()
    table = ch.tables.get("eligibility_landmark")
    if table is None:
        return "The specification declares no eligibility window."
    weeks = ch.context.spec.sensitivity.eligibility_days / 7
    lines = [f"{r.endpoint.upper()}: {nv.count(r.events_before_landmark, 'event')} within {weeks:g} weeks; median "
             f"{nv.months(r.median_from_start)} from the start of DaraVd, "
             f"{nv.months(r.median_from_landmark)} from the {weeks:g}-week landmark among the "
             f"{nv.count(r.n_at_landmark, 'patient')} still event-free "
             f"({nv.months(r.median_from_landmark_plus)} on the start's clock)." for r in table.itertuples()]
    events = int(table["events_before_landmark"].sum())
    lines.append(
        f"\nThe landmark median answers its own question (how long patients event-free at {weeks:g} weeks went on "
        "to do), not what an intention-to-treat arm would have shown. "
        + nv.choose(events > 0,
                    f"{nv.count(events, 'event')} of this cohort fall inside the window, although the eligibility "
                    "rule should exclude them, so the window did not remove every early event either. ",
                    "No event of this cohort falls inside the window. ")
        + "How much the rule flatters the medians depends on how many patients started DaraVd and never reached "
          "two cycles, which a cohort that excludes them cannot tell; no correction can be read off these data.")
    return "  \n".join(lines)


def first_reached_sentence(ch: MultivariableChapter) -> str:
    nv = _nv()
    rt = ch.context.spec.response_timing
    if rt is None:
        return "The specification declares no analysis by response timing."
    label = ch.context.spec.factor(rt.factor).label
    n, from_best = ch.facts["responders"], ch.facts["from_best"]
    return (f"Of the {nv.count(n, label + ' patient')} of this run, {nv.share(n - from_best, n)} have the date "
            f"{label} was first reached; "
            + nv.choose(from_best == 0, "no fallback is needed.",
                        f"for {nv.count(from_best, 'patient')} the analyses fall back to the best-response date.")
            + f" Median time to {label} first reached: {nv.months(ch.facts['first_reached_median'])} "
              f"(to the best response: {nv.months(ch.facts['best_median'])}).")


def truth_paragraph(ch: MultivariableChapter) -> str:
    nv = _nv()
    if "coverage" not in ch.facts:
        return "The generator's truth and simulation files are not available: no comparison with a known truth."
    synthetic = ch.context.synthetic
    return (
        "### Against a known truth\n\n"
        "Within one cohort we cannot tell which estimate is right. A simulation model can: the multi-state model of "
        "`compendium.synthetic.multistate` lowers the progression hazard from the day ≥VGPR is first reached, and its "
        "truth table (`data/synthetic/daravd_synthetic_truth.csv`) holds what each analysis estimates with unlimited "
        "patients under this design, its *estimand*. The analyses answer different questions, so each has its own: "
        "the time-zero comparison estimates the time-zero population value, the landmark its landmark value, the "
        "time-dependent model the time-dependent effect (the hazard of patients who have reached ≥VGPR against "
        "those who have not yet, averaged over time as Cox does). Each analysis is repeated on "
        f"{nv.count(ch.facts['simulated_cohorts'], 'simulated cohort')} of the paper's size (computed once, like the "
        "truth, by `python -m compendium synthetic`: `data/synthetic/daravd_response_simulation.csv`); the table "
        "gives each analysis's bias and the coverage of its 95% interval against its *own* estimand, and, apart, "
        "how far that estimand lies from the time-dependent effect (a difference of questions, not of accuracy). "
        + nv.choose(synthetic,
                    "This cohort is one draw of that model, but not a random one: it was selected by a calibration "
                    "search to reproduce the paper's numbers, so its estimates sit near the paper's by construction "
                    "and are shown beside the simulated ones, not as a test against the truth.",
                    "This cohort was not drawn from that model: the simulation shows how each analysis behaves when "
                    "the truth is known, and this cohort's estimates are shown beside the simulated ones, not against "
                    "a truth of their own."))


def reading(ch: MultivariableChapter) -> str:
    nv = _nv()
    rt = ch.context.spec.response_timing
    if rt is None:
        return "The specification declares no analysis by response timing."
    label = ch.context.spec.factor(rt.factor).label
    fitted, coverage = ch.facts["fitted"], ch.facts.get("coverage")
    lines = []
    for endpoint in rt.endpoints:
        zero = ch.facts["time_zero"].get(endpoint) or {}
        td = first(fitted, endpoint=endpoint, model="time_dependent") or {}
        lm = first(fitted, endpoint=endpoint, model=f"landmark_{rt.landmark:g}m") or {}
        hr = lambda r: nv.hr_ci(r.get("hr"), r.get("lcl"), r.get("ucl"))  # noqa: E731
        text = (f"**{endpoint.upper()}.** On this cohort {label} has {hr(zero)} from time zero, {hr(td)} as a "
                f"time-dependent covariate and {hr(lm)} from a {rt.landmark:g}-month landmark.")
        if coverage is not None:
            c0 = first(coverage, endpoint=endpoint, analysis="time_zero")
            ctd = first(coverage, endpoint=endpoint, analysis="time_dependent")
            clm = first(coverage, endpoint=endpoint, analysis="landmark_3m")
            if c0 and ctd and clm:
                small = max(abs(c["bias (log HR)"]) for c in (c0, ctd, clm)) < 0.1
                text += (
                    f" Over the simulated cohorts each analysis is "
                    f"{nv.choose(small, 'nearly unbiased', 'biased')} for its own estimand (bias "
                    f"{c0['bias (log HR)']:+.2f}, {ctd['bias (log HR)']:+.2f} and {clm['bias (log HR)']:+.2f} on the "
                    f"log scale; coverage {c0['coverage of 95% CI']:.0%}, {ctd['coverage of 95% CI']:.0%} and "
                    f"{clm['coverage of 95% CI']:.0%}); what separates them is the question: the time-zero estimand "
                    f"lies {c0['estimand gap to time-dependent (log HR)']:+.2f} from the time-dependent effect "
                    f"({nv.choose(c0['estimand gap to time-dependent (log HR)'] < 0, 'it exaggerates the benefit of response', 'it understates it')}), "
                    f"and the 3-month landmark's {clm['estimand gap to time-dependent (log HR)']:+.2f} (it counts "
                    "patients who respond later as non-responders and asks a narrower question).")
        lines.append(text)
    return "\n\n".join(lines)

"""Chapter 04, survival: Figures 1-2, Tables 2-3 and what the text says of PFS, OS, TTNT and PFS2.

``compute(context)`` fits everything the specification declares (Kaplan-Meier medians, univariate
Cox models of every factor, the figures, survival at fixed times, competing risks, durations, the
whole-factor tests and the Holm screen) and returns a :class:`SurvivalChapter`, whose accessors
(``median``, ``cox``, ``rate``, ``cif``) answer what the notebook's prose asks without a filter.
Nothing here names a factor, a model or a figure: they all come from the specification.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from compendium.chapters.base import declared_order, Chapter, Context, Estimate, first, parse_address
from compendium.chapters.response import median_iqr
from compendium.report import display, formats, plots
from compendium.stats import competing, durations, models, multiplicity, rates
from compendium.stats import survival as sv

#: why an address or a row of the specification has no value in this run
NOT_IN_SPEC = "not part of this run's specification"


def _group_label(column: str | None, value) -> str:
    return "all" if column is None else f"{column}={value}"


@dataclass
class GroupComparison:
    """One Kaplan-Meier figure by a factor: each level's median and the log-rank p."""

    endpoint: str
    column: str
    levels: list[tuple[str, str, float]]   # (level, reader's label, median)
    p: float


@dataclass
class SurvivalChapter(Chapter):
    notebook = "04_survival"
    univariate_tables: list = field(default_factory=list)     # (title, display.DisplayTable)
    comparisons: list[GroupComparison] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    # -- accessors
    def median(self, endpoint: str, group: str = "all", conf_type: str = "log") -> Estimate:
        km = self.tables["survival_km"]
        if endpoint not in set(km["endpoint"]):
            return Estimate(reason=f"no Kaplan-Meier of {endpoint} in the specification")
        row = first(km, endpoint=endpoint, group=group, conf_type=conf_type)
        if row is None:
            return Estimate(reason=f"no patients in group {group} for {endpoint}" if group != "all" else NOT_IN_SPEC)
        reason = row.get("reason", "")
        return Estimate(row["median"], reason if isinstance(reason, str) else "")

    def median_row(self, endpoint: str, group: str = "all", conf_type: str = "log") -> dict:
        row = first(self.tables["survival_km"], endpoint=endpoint, group=group, conf_type=conf_type)
        return row or {"n": 0, "events": 0, "median": math.nan, "lcl": math.nan, "ucl": math.nan}

    def cox(self, endpoint: str, covariate: str, level: str | None = None) -> dict | None:
        uni = self.tables["cox_univariate"]
        where = {"endpoint": endpoint, "covariate": covariate}
        if level is not None:
            where["level"] = level
        return first(uni, **where)

    def rate(self, endpoint: str, time: float, group: str = "all") -> dict | None:
        return first(self.tables["survival_rates"], endpoint=endpoint, group=group, time=float(time), conf_type="log")

    def cif(self, analysis: str, cause: int, time: float, group: str = "all") -> dict | None:
        table = self.tables.get("competing_risks")
        if table is None:
            return None
        return first(table, analysis=analysis, group=group, cause=cause, time=float(time))

    # -- addresses of the claims registry
    def resolvers(self):
        return {"median": self._median_address, "cox_p": self._cox_p, "logrank_p": self._logrank_p}

    def _median_address(self, endpoint, **group):
        (column, value), = group.items() if group else ((None, None),)
        return self.median(endpoint, _group_label(column, value))

    def _cox_p(self, endpoint, covariate):
        row = self.cox(endpoint, covariate)
        if row is None:
            return Estimate(reason=f"no univariate Cox model of {covariate} for {endpoint} in the specification")
        return _estimate_of(row, "p")

    def _logrank_p(self, endpoint, covariate):
        if covariate not in self.context.analysis.columns:
            return Estimate(reason=f"the analysis dataset has no column {covariate}")
        test = sv.logrank_test(self.context.analysis, endpoint, covariate)
        return Estimate(test["p"], test.get("reason", "") or "")


def _estimate_of(row: dict, key: str) -> Estimate:
    reason = row.get("reason", "")
    reason = reason if isinstance(reason, str) else ""
    if not reason and not models.estimable(row["hr"], row["lcl"], row["ucl"]):
        reason = models.NOT_ESTIMABLE
    return Estimate(row[key] if not reason else math.nan, reason)


def compute(context: Context) -> SurvivalChapter:
    ch = SurvivalChapter(context)
    analysis, spec = context.analysis, context.spec
    _kaplan_meier(ch)
    _figures(ch)
    _univariate(ch)
    ch.tables["survival_rates"] = rates.fixed_time_rates(
        analysis, endpoints=spec.rate_endpoints, groups=(None, *spec.km_groups), times=spec.rate_times)
    ch.tables["median_at_risk"] = rates.medians_at_risk(analysis, ch.tables["survival_km"])
    _competing(ch)
    ch.tables["durations_km"] = durations.duration_results(analysis)
    ttd = first(ch.tables["durations_km"], endpoint="ttd", conf_type="log") or {"median": math.nan}
    ch.facts.update(ttd_median=ttd["median"], treatment_plain=median_iqr(analysis["treatment_months"]),
                    still_on=int((analysis["on_treatment"] == 1).sum()))
    _factor_tests(ch)
    ch.fill_declared()
    return ch


def _kaplan_meier(ch: SurvivalChapter) -> None:
    analysis, spec = ch.context.analysis, ch.context.spec
    ch.tables["survival_km"] = models.km_results(analysis, spec)
    next_line = analysis[analysis["next_line"] == 1]
    ch.tables["pfs2_readings"] = pd.DataFrame([
        {"reading": "Methods: from DaraVd start (all patients)",
         **sv.km_median(analysis["pfs2_months"], analysis["pfs2_event"])},
        {"reading": "next line: from its start (patients with a next line)",
         **sv.km_median(next_line["next_line_pfs_months"], next_line["next_line_pfs_event"])},
    ])
    ttbr = analysis.loc[analysis["response_months"].notna(), "response_months"]
    ch.facts.update(next_line_n=len(next_line), best_response_median=ttbr.median(), best_response_n=len(ttbr))


def _figures(ch: SurvivalChapter) -> None:
    analysis, spec = ch.context.analysis, ch.context.spec
    for fig in spec.figures:
        tcol, ecol = sv.endpoint_columns(fig.endpoint)
        data = analysis.dropna(subset=[tcol, ecol] + ([fig.group] if fig.group else []))
        if data.empty:
            ch.figures[fig.id] = plots.nothing_to_draw(fig.title, f"no patient has {fig.endpoint.upper()} data"
                                                       + (f" and {spec.factor(fig.group).label}" if fig.group else ""))
            continue
        labels, order = None, None
        if fig.group:
            factor = spec.factor(fig.group)
            labels = {v: dict(factor.levels)[rates.level_label(v)] for v in data[fig.group].unique()
                      if rates.level_label(v) in dict(factor.levels)}
            order = declared_order(data[fig.group].unique(), factor) if factor.levels else None
            test = sv.logrank_test(data, fig.endpoint, fig.group)
            ch.comparisons.append(GroupComparison(
                fig.endpoint, fig.group,
                [(rates.level_label(v), factor.level_label(rates.level_label(v)),
                  ch.median(fig.endpoint, _group_label(fig.group, rates.level_label(v))).value) for v in order
                 or sorted(data[fig.group].unique())],
                test["p"]))
        # drawn in the specification's order of levels, which gives each level its colour in every figure
        ch.figures[fig.id] = plots.km_plot(analysis, fig.endpoint, group=fig.group, labels=labels, order=order,
                                           title=fig.title, ylabel=fig.ylabel, events_table=fig.events_table)


def _univariate(ch: SurvivalChapter) -> None:
    analysis, spec, registry = ch.context.analysis, ch.context.spec, ch.context.registry
    uni = models.univariate_results(analysis, spec=spec)
    ch.tables["cox_univariate"] = uni
    fewest = uni.loc[uni["n"].idxmin()] if len(uni) else None
    ch.facts["fewest"] = None if fewest is None else (spec.labels.get(fewest.covariate, fewest.covariate), int(fewest.n))
    for table in spec.tables:
        if table.source == "univariate":
            ch.univariate_tables.append((table.title, display.table(uni, spec, kind="paper", title=table.title,
                                                                    rows=list(table.rows), registry=registry)))
    for row in spec.rows("univariate"):
        ours = models.oriented(uni, row)
        ok = models.estimable(ours["hr"], ours["lcl"], ours["ucl"])
        for key in ("hr", "lcl", "ucl", "p"):
            claim_id = f"{row.claim}_{key}"
            if row.claim and claim_id in set(registry["claim_id"]):
                ch.record(claim_id, Estimate(ours[key]) if ok else Estimate(reason=f"{row.label}: {models.NOT_ESTIMABLE}"))
    # continuous factors enter as linear terms: one hazard ratio per unit
    continuous = [f.column for f in spec.factors
                  if pd.api.types.is_float_dtype(analysis[f.column]) and not set(analysis[f.column].dropna()) <= {0, 1}]
    ch.facts["continuous"] = uni[uni["covariate"].isin(continuous) & uni["endpoint"].isin(spec.screen_endpoints)]


def _competing(ch: SurvivalChapter) -> None:
    analysis, spec = ch.context.analysis, ch.context.spec
    comp = spec.competing
    if comp is None:
        return
    ch.tables["competing_risks"] = competing.cif_results(analysis, times=comp.times, group=comp.group)
    if comp.group is not None:
        ch.tables["gray_tests"] = competing.gray_results(analysis, group=comp.group)
    ch.figures["cif_competing_risks"] = plots.cif_plot(analysis)
    ttnt = sv.km_table(analysis["ttnt_months"].dropna(), analysis.loc[analysis["ttnt_months"].notna(), "ttnt_event"])
    at = rates.survival_at(analysis["ttnt_months"].dropna(),
                           analysis.loc[analysis["ttnt_months"].notna(), "ttnt_event"], (comp.horizon,))
    ch.facts["ttnt_at_horizon"] = at.iloc[0].to_dict() if len(ttnt) else None


def _factor_tests(ch: SurvivalChapter) -> None:
    """Whole-factor likelihood-ratio tests of every factor with more than two levels, and the screen."""
    analysis, spec = ch.context.analysis, ch.context.spec
    multi = [f for f in spec.factors if not pd.api.types.is_numeric_dtype(analysis[f.column])
             and analysis[f.column].nunique() > 2]
    tests = [multiplicity.factor_test(analysis, e, f.column, f.reference) for e in spec.screen_endpoints
             for f in multi]
    columns = ["endpoint", "covariate", "chisq", "df", "p", "n", "events", "reason"]
    ch.tables["factor_tests"] = pd.DataFrame(tests, columns=columns) if tests else pd.DataFrame(columns=columns)
    ch.facts["multi_level"] = multi
    ch.tables["univariate_holm"] = multiplicity.screen(ch.tables["cox_univariate"], ch.tables["factor_tests"],
                                                        endpoints=spec.screen_endpoints)



FEW_AT_RISK = rates.FEW_AT_RISK


def logrank_claims(ch: SurvivalChapter) -> pd.DataFrame:
    """The claims the registry computes by a log-rank test, with the Wald p of the same factor beside."""
    registry = ch.context.registry.set_index("claim_id")
    rows = []
    for claim in ch.declared().itertuples(index=False):
        kind, args, _ = parse_address(claim.estimate)
        if kind != "logrank_p":
            continue
        endpoint, covariate = args
        wald = ch.cox(endpoint, covariate)
        ours = ch.estimate(claim.estimate)
        rows.append({"quantity": registry.loc[claim.claim_id, "quantity"], "factor": covariate,
                     "log-rank p": formats.p(ours.value) if ours.estimable else f"not estimable ({ours.reason})",
                     "Wald p": formats.p(wald["p"]) if wald is not None else "not in the specification",
                     "Abstract": formats.p(registry.loc[claim.claim_id, "published"])})
    return pd.DataFrame(rows, columns=["quantity", "factor", "log-rank p", "Wald p", "Abstract"])


def rate_sentence(ch: SurvivalChapter, endpoint: str) -> str:
    """'PFS: 62% (95% CI 51–72%) at 12 months, ...; the last rests on 20 patients at risk.'"""
    from compendium.report import narrative as nv

    parts, last = [], None
    for t in ch.context.spec.rate_times:
        r = ch.rate(endpoint, t)
        if r is None:
            continue
        parts.append(f"{nv.rate_ci(r['surv'], r['lower'], r['upper'])} at {t:g} months")
        last = r
    if not parts:
        return f"{endpoint.upper()}: no patient has data for this endpoint."
    return (f"{endpoint.upper()}: {nv.listing(parts)}; the estimate at {last['time']:g} months rests on "
            f"{nv.count(last['n_risk'], 'patient')} still under observation.")


def competing_paragraph(ch: SurvivalChapter) -> str:
    """Next treatment by Kaplan-Meier against its cumulative incidence, at the specification's horizon."""
    from compendium.report import narrative as nv

    comp = ch.context.spec.competing
    if comp is None:
        return "The specification declares no competing-risks analysis."
    h = comp.horizon
    nt, died = ch.cif("next_treatment", 1, h), ch.cif("next_treatment", 2, h)
    km = ch.facts.get("ttnt_at_horizon")
    if nt is None or died is None or km is None:
        return f"No cumulative incidence at {h:g} months can be estimated from these data."
    text = (f"{nv.count(died['events'], 'patient')} died before any next treatment. TTNT's Kaplan-Meier puts the "
            f"probability of a next treatment by {h:g} months at "
            f"{nv.rate_ci(1 - km['surv'], 1 - km['upper'], 1 - km['lower'])}; the cumulative incidence, which lets "
            f"death compete, at {nv.rate_ci(nt['cif'], nt['lower'], nt['upper'])}, with "
            f"{nv.rate_ci(died['cif'], died['lower'], died['upper'])} dead by then without one. What TTNT's censoring "
            f"hides is this second share: patients who never reached a next line because they died.")
    gray = ch.tables.get("gray_tests")
    if gray is not None and comp.group is not None:
        g_nt = first(gray, analysis="next_treatment", cause=1)
        g_death = first(gray, analysis="next_treatment", cause=2)
        label = ch.context.spec.factor(comp.group).label
        if g_nt is not None and g_death is not None:
            text += (f" By {label}, Gray's test of equal incidence of next treatment is {nv.significance(g_nt['p'])}, "
                     f"and that of death before a next treatment {nv.significance(g_death['p'])}.")
    return text


def factor_test_sentence(ch: SurvivalChapter, r) -> str:
    from compendium.report import narrative as nv

    factor = ch.context.spec.factor(r.covariate)
    uni = ch.tables["cox_univariate"]
    contrasts = uni[(uni.endpoint == r.endpoint) & (uni.covariate == r.covariate)]
    return (f"{r.endpoint.upper()}: likelihood-ratio χ² = {r.chisq:.2f} on {r.df} df for the {factor.label} as a "
            f"whole ({nv.count(r.events, 'event')} among {nv.count(r.n, 'patient')}): {nv.significance(r.p)}; its "
            f"separate contrasts against {factor.level_label(factor.reference)} give "
            + nv.listing([f"{factor.level_label(lev)} {nv.p_value(p)}" for lev, p in
                          contrasts[["level", "p"]].itertuples(index=False)]) + ".")

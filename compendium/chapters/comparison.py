"""Chapter 07, comparison: this cohort beside CASTOR, OPTIMISMM and the other trials the paper discusses.

``compute(context)`` reads the evidence table (``data/external/evidence.csv``: what the other
studies published, each number with its source), checks every number the paper quotes from another
publication against it (claims with basis ``literature``, filled from the declared structure
``trials.QUOTES``: never typed here), draws the forest plots grouped like with like by the
population codes, runs the matching-adjusted indirect comparison against the declared target and
sets digitised trial curves, reconstructed, beside this cohort's. It returns a
:class:`ComparisonChapter` whose accessors answer what the notebook's prose asks.

Degenerate cohorts never raise: a median that is not reached, a subgroup nobody is in, a MAIC the
data cannot reach all come back as values with a ``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from compendium import paths
from compendium.chapters.base import Chapter, Context, Estimate, first
from compendium.report import claims, forest, plots, trials
from compendium.stats import estimable as ne
from compendium.stats import guyot, maic
from compendium.stats import survival as sv

#: the subgroup of this cohort the paper sets beside CASTOR: selected on an outcome reached during
#: treatment, so drawn apart from every trial population (column, level, what it was selected on)
OUTCOME_SUBGROUP = ("vgpr_or_better", 1, "response ≥VGPR")
#: the MAIC's target population in data/external/maic_targets.csv, and its arm in the evidence table
MAIC_TARGET = "DREAMM-7 DaraVd arm"
MAIC_TARGET_ARM = dict(trial="DREAMM-7", endpoint="pfs", population_type="whole_trial", arm="control")
MAIC_BOOT, MAIC_SEED = 1000, 20250
#: how the evidence table is shown: the population codes, the analysis and the limits in words
EVIDENCE_COLUMNS = ["trial", "regimen", "arm", "analysis", "population", "len_status", "share_lenref_pct",
                    "prior_lines", "analysis_set", "population_type", "endpoint", "n", "median_months", "lcl",
                    "ucl", "median_limits", "median_not_reached", "hr", "hr_lcl", "hr_ucl", "hr_limits",
                    "rate_months", "rate_pct", "orr_pct", "source_type", "location"]
RESULT_FIELDS = ["median_months", "rate_pct", "hr", "orr_pct"]


@dataclass
class ComparisonChapter(Chapter):
    notebook = "07_comparison"
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: dict = field(default_factory=dict)
    maic_fit: dict = field(default_factory=dict)
    curves: list = field(default_factory=list)     # reconstructed digitised curves (dicts)

    # -- accessors
    def trial(self, trial: str, endpoint: str, population_type: str, arm: str) -> dict | None:
        """The current evidence row of one trial result, or None when the table has no such row."""
        try:
            return trials.select(self.evidence, trial, endpoint, population_type, arm).to_dict()
        except KeyError:
            return None

    def maic_shown(self, name: str) -> pd.DataFrame:
        """A MAIC table (``maic_targets``, ``maic_balance``) with its covariates named in words
        (a covariate not in ``MAIC_LABELS`` is left to the display layer's labels)."""
        frame = self.table(name)
        return frame.assign(covariate=frame["covariate"].map(lambda c: MAIC_LABELS.get(c, c)))

    def cohort_median(self, endpoint: str, subgroup: bool = False) -> dict:
        return self.facts["subgroup_km" if subgroup else "km"][endpoint]

    def literature_ids(self) -> list[str]:
        reg = self.context.registry
        return list(reg.loc[(reg["notebook"] == self.notebook) & (reg["basis"] == claims.LITERATURE), "claim_id"])

    def quotes(self) -> pd.DataFrame:
        """Every quotation of another publication: the paper's number beside the source's."""
        return self.recorded(self.literature_ids()).rename(columns={"compendium": "source"})

    def quote_source(self, claim_id: str) -> dict | None:
        """The evidence row a quotation is checked against (None for derived shares and unread sources)."""
        q = dict(trials.QUOTES.get(claim_id, {}))
        q.pop("field", None)
        return self.trial(**q) if q else None

    # -- addresses of the claims registry
    def resolvers(self):
        return {"median_ratio": self._median_ratio, "curve": self._curve}

    def _curve(self, stem, measure):
        """A reconstruction's accuracy measure (``curve(dreamm7_pfs_dvd, median)``): the reconstructed value."""
        table = self.tables.get("curve_accuracy")
        hit = None if table is None else first(table, curve=stem, measure=measure)
        if hit is None:
            return Estimate(reason=f"no digitised curve {stem} with a {measure} in data/external/curves/")
        return Estimate(hit["reconstructed"])

    def _median_ratio(self, endpoint, trial, population_type, arm="experimental"):
        ours = self.cohort_median(endpoint)
        row = self.trial(trial, endpoint, population_type, arm)
        if row is None or not trials._present(row["median_months"]):
            return Estimate(reason=f"the evidence table gives no median {endpoint.upper()} for {trial} "
                                   f"({trials.POPULATION_TYPES[population_type].lower()})")
        if ours["reason"]:
            return Estimate(reason=ne.label(ours["reason"]))
        if not trials._present(ours["median"]):
            return Estimate(reason=f"median {endpoint.upper()} not reached in this cohort")
        return Estimate(ours["median"] / row["median_months"])


def compute(context: Context) -> ComparisonChapter:
    ch = ComparisonChapter(context, evidence=trials.load_evidence())
    ch.facts["label"] = trials.cohort_label(context.meta)
    _evidence_facts(ch)
    _quotations(ch)
    _cohort_medians(ch)
    _forests(ch)
    _maic(ch)
    _approximations(ch)
    _curves(ch)
    ch.fill_declared()
    return ch


# --------------------------------------------------------------------------- the evidence and quotations
def _evidence_facts(ch: ComparisonChapter) -> None:
    ev = ch.evidence
    found = ev[RESULT_FIELDS].notna().any(axis=1) | ev["median_not_reached"]
    ch.shown["evidence"] = ev[EVIDENCE_COLUMNS]
    ch.shown["not_found"] = ev.loc[~found, ["trial", "population", "endpoint", "missing_reason"]]
    pfs = ev[(ev["endpoint"] == "pfs") & ev["current"]]
    lenref = pfs[(pfs["population_type"] == "lenref_any_line") & pfs["median_months"].notna()]
    first_relapse = pfs[pfs["population_type"] == trials.COHORT_POPULATION]
    ch.facts.update(
        n_results=len(ev), n_studies=int(ev["trial"].nunique()),
        n_secondary=int((ev["source_type"] == "secondary").sum()), n_not_found=int((~found).sum()),
        lenref_range=(lenref["median_months"].min(), lenref["median_months"].max()),
        first_relapse_n=len(first_relapse), first_relapse_found=int(first_relapse["median_months"].notna().sum()))


def _quotations(ch: ComparisonChapter) -> None:
    """Each literature claim: the source's number from the evidence table, or why it cannot be checked."""
    for claim_id in ch.literature_ids():
        value, reason = trials.quoted_value(ch.evidence, claim_id)
        ch.record(claim_id, Estimate(reason=reason) if reason else Estimate(value))


# --------------------------------------------------------------------------- this cohort beside the trials
def _cohort_medians(ch: ComparisonChapter) -> None:
    analysis = ch.context.analysis
    column, level, _ = OUTCOME_SUBGROUP
    sub = analysis[pd.to_numeric(analysis[column], errors="coerce") == level] if column in analysis else analysis[:0]
    ch.facts["km"], ch.facts["subgroup_km"] = {}, {}
    for endpoint in ("pfs", "os"):
        tcol, ecol = sv.endpoint_columns(endpoint)
        ch.facts["km"][endpoint] = sv.km_median(analysis[tcol], analysis[ecol])
        ch.facts["subgroup_km"][endpoint] = sv.km_median(sub[tcol], sub[ecol])


def _forests(ch: ComparisonChapter) -> None:
    label, (_, _, selected_on) = ch.facts["label"], OUTCOME_SUBGROUP
    for endpoint, xlabel in (("pfs", "Median PFS (months)"), ("os", "Median OS (months)")):
        rows = [trials.cohort_row(label, ch.cohort_median(endpoint))]
        sub = ch.cohort_median(endpoint, subgroup=True)
        if endpoint == "pfs" and sub["n"] > 0:  # the paper sets this subgroup beside CASTOR's PFS only
            rows.append(trials.cohort_row(label.replace("This cohort", "This cohort, ≥VGPR only"), sub,
                                          selected_on=selected_on))
        table = trials.forest_rows(ch.evidence, endpoint, rows)
        ch.shown[f"forest_{endpoint}"] = table
        ch.figures[f"07_forest_{endpoint}"] = forest.forest_plot(table, xlabel)


# --------------------------------------------------------------------------- MAIC
#: covariates of maic_targets.csv that are not columns of the analysis dataset, built from it; the
#: last two hold for every patient by the study's eligibility (lenalidomide-refractory first relapse)
MAIC_COLUMNS = {
    "male": lambda a: (a["sex"] == "M").astype(float).where(a["sex"].notna()),
    "iss_iii": lambda a: (a["iss"] == "III").astype(float).where(a["iss"].notna()),
    "len_refractory": lambda a: pd.Series(1.0, index=a.index),
    "one_prior_line": lambda a: pd.Series(1.0, index=a.index),
}
#: how readers see the covariates above
MAIC_LABELS = {"age_years": "Age (years)", "male": "Male sex", "cyto_high_risk_dx": "High-risk cytogenetics at diagnosis",
               "iss_iii": "ISS stage III", "len_refractory": "Lenalidomide-refractory",
               "one_prior_line": "One prior line", "prior_asct": "Prior ASCT"}
BALANCE_COLUMNS = ["covariate", "statistic", "target_value", "target", "unweighted", "weighted", "smd_before",
                   "smd_after", "matched", "reason", "source"]


def _maic(ch: ComparisonChapter) -> None:
    target_table = trials.load_maic_targets()
    used = target_table[target_table["target"] == MAIC_TARGET]
    ch.shown["maic_targets"] = used[["covariate", "statistic", "value", "source_type", "location", "note"]]
    targets = trials.maic_targets(target_table, MAIC_TARGET)
    analysis = ch.context.analysis
    ipd = analysis.assign(**{c: f(analysis) for c, f in MAIC_COLUMNS.items() if c not in analysis})
    arm = ch.trial(**MAIC_TARGET_ARM)
    comparator, curve, approx_reason = _comparator(arm)
    fit = maic.estimate(ipd, targets, "pfs_months", "pfs_event", n_boot=MAIC_BOOT, seed=MAIC_SEED,
                        comparator=comparator)
    ch.maic_fit = fit
    word, why = maic.wording(fit)
    not_read = used[used["value"].isna()]
    ch.facts.update(maic_target=MAIC_TARGET, maic_arm=arm, maic_wording=word, maic_why=why,
                    maic_matched=[t.column for t in fit["matched"]], maic_unmatched=fit["unmatched"],
                    maic_not_read=list(not_read["covariate"]), maic_comparator_reason=approx_reason,
                    maic_comparator=curve,
                    maic_secondary=int((used["value"].notna() & (used["source_type"] == "secondary")).sum()))
    ch.tables["maic_balance"] = _balance_table(ipd, targets, fit, not_read)
    if fit["reason"]:
        reason = f"no MAIC on this input ({ne.label(fit['reason'])})"
        ch.figures["07_maic_pfs"] = plots.nothing_to_draw("MAIC: PFS reweighted to " + MAIC_TARGET, reason)
        ch.figures["07_maic_weights"] = plots.nothing_to_draw("MAIC weights", reason)
        return
    ch.tables["maic_pfs"] = pd.DataFrame([{
        "target_population": MAIC_TARGET, "endpoint": "pfs", "n": fit["n"], "ess": fit["ess"],
        "median": fit["median"], "lcl": fit["lcl"], "ucl": fit["ucl"],
        **{k: fit.get(k, float("nan")) for k in ("comparator_median", "hr", "hr_lcl", "hr_ucl")},
        "wording": word, "n_boot": fit["n_boot"], "failed": fit["failed"], "seed": fit["seed"]}])
    ch.figures["07_maic_weights"] = forest.weights_plot(fit["weights"], fit["ess"], f"MAIC weights: {MAIC_TARGET}")
    label = ch.facts["label"]
    curves = [(f"{label}, n = {fit['n']}, unweighted", fit["km_unweighted"], plots.OKABE_ITO[1], "-"),
              (f"reweighted to {MAIC_TARGET} (ESS {fit['ess']:.0f})", fit["km_weighted"], plots.OKABE_ITO[0], "--")]
    if comparator is not None:
        curves.append((f"{MAIC_TARGET}: approximation from its published median", ch.facts["maic_comparator"].table(),
                       plots.OKABE_ITO[2], ":"))
    ch.figures["07_maic_pfs"] = forest.km_overlay(
        curves, "Months from start of DaraVd", "PFS probability",
        risk_names={curves[0][0]: "Unweighted", curves[1][0]: "Weighted"})
    plots.mark_used(ch.figures["07_maic_pfs"], f"MAIC: n = {fit['n']} with every matched covariate, ESS {fit['ess']:.0f}")


def _comparator(arm: dict | None):
    """Pseudo-patients of the target arm from its published summary and the approximated curve, or
    (None, None, why not)."""
    if arm is None:
        return None, None, "the evidence table has no row for the target arm"
    curve, reason = guyot.from_summary(summary_points(arm))
    if curve is None or not trials._present(arm["n"]):
        return None, None, reason or "the evidence table gives no number of patients for the target arm"
    return guyot.pseudo_patients(curve, arm["n"]), curve, ""


def summary_points(row: dict) -> list[tuple[float, float, str]]:
    """What an evidence row publishes of its curve: the median and a landmark rate."""
    points = []
    if trials._present(row["median_months"]):
        points.append((row["median_months"], 0.5, "median"))
    if trials._present(row.get("rate_months")) and trials._present(row.get("rate_pct")):
        points.append((row["rate_months"], row["rate_pct"] / 100, f"{row['rate_months']:g}-month rate"))
    return points


def _balance_table(ipd, targets, fit, not_read) -> pd.DataFrame:
    """Every covariate the target reports: matched (before/after, standardised differences), not
    matchable (the cohort's value, and why), or not read (why)."""
    rows = [dict(r, matched="yes", reason="") for r in fit["balance"].to_dict("records")]
    for t in targets:
        if t.column in fit["unmatched"]:
            m = t.moment(pd.to_numeric(ipd[t.column], errors="coerce").dropna().to_numpy(float))
            rows.append({"covariate": t.column, "statistic": t.label, "target": t.aim, "unweighted": m.mean() if len(m) else float("nan"),
                         "matched": "no", "reason": fit["unmatched"][t.column], "source": t.source})
    for r in not_read.itertuples():
        rows.append({"covariate": r.covariate, "statistic": r.statistic, "matched": "no", "reason": r.note,
                     "source": r.source})
    values = {t.column: t.mean for t in targets}
    out = pd.DataFrame(rows, columns=BALANCE_COLUMNS)
    out["target_value"] = [values.get(c, float("nan")) if s != "SD (population)" else float("nan")
                           for c, s in zip(out["covariate"], out["statistic"])]
    return out.assign(target_population=MAIC_TARGET)


# --------------------------------------------------------------------------- trial curves
#: the comparator arms whose figures could not be digitised here, approximated from their published
#: summary (the paper's two comparisons: CASTOR's lenalidomide-refractory, OPTIMISMM at first relapse)
APPROXIMATED = [dict(trial="CASTOR", endpoint="pfs", population_type="lenref_any_line", arm="experimental"),
                dict(trial="OPTIMISMM", endpoint="pfs", population_type="lenref_first_relapse", arm="experimental")]


def _approximations(ch: ComparisonChapter) -> None:
    """Comparator curves from published summaries, drawn beside this cohort's KM and labelled as such;
    a number the evidence table lacks is said in the figure, never filled in."""
    drawn, missing, rows = [], [], []
    for key in APPROXIMATED:
        row = ch.trial(**key)
        name = (f"{key['trial']} {row['regimen'] if row else ''}, "
                f"{trials.POPULATION_TYPES[key['population_type']].lower()}")
        if row is None:
            missing.append(f"{name}: no row in the evidence table")
            rows.append({"curve": name, "drawn": "no", "from": "", "lacking": "the whole result"})
            continue
        points = summary_points(row)
        curve, reason = guyot.from_summary(points)
        lacking = [f"95% limits ({row['median_limits']})"] if row["median_limits"] != "reported" else []
        lacking += [] if trials._present(row.get("rate_pct")) else ["landmark rates"]
        lacking += ["numbers at risk (the evidence table holds none)"]
        if curve is None:
            why = row["missing_reason"] or reason
            missing.append(f"{name}: no median, landmark rate or numbers at risk in the evidence table "
                           f"({why.split(':')[0]})")
            rows.append({"curve": name, "drawn": "no", "from": "", "lacking": why})
            continue
        used = nv_listing([w for _, _, w in points])
        drawn.append((f"{name}: APPROXIMATION from its published {used} only (piecewise exponential; "
                      f"{'; '.join(lacking[:-1]) or 'nothing else'} not in the evidence table)", curve.table()))
        rows.append({"curve": name, "drawn": "yes, approximated", "from": used, "lacking": "; ".join(lacking)})
    ch.shown["comparator_curves"] = pd.DataFrame(rows, columns=["curve", "drawn", "from", "lacking"])
    km = ch.context.analysis
    tcol, ecol = sv.endpoint_columns("pfs")
    data = km[[tcol, ecol]].dropna()
    ch.facts["approximations_drawn"] = len(drawn)
    if data.empty:
        ch.figures["07_comparator_curves"] = plots.nothing_to_draw(
            "PFS beside approximated trial curves", "no patient has PFS data")
        return
    ch.figures["07_comparator_curves"] = forest.approximations_plot(
        (ch.facts["label"], sv.km_table(data[tcol], data[ecol])), drawn, missing, "Progression-free")


def nv_listing(items) -> str:
    from compendium.report import narrative

    return narrative.listing(items)


def _curves(ch: ComparisonChapter, folder=None) -> None:
    """Digitised curves, reconstructed as IPDfromKM does, each with its accuracy report."""
    folder = folder or paths.EXTERNAL_CURVES
    cohort = ch.context.analysis
    ch.facts["curve_stems"] = [s.name for s in guyot.curves_available(folder)]
    reports = []
    try:
        published = guyot.read_published(folder)
    except guyot.CurveError as err:
        published, ch.facts["curves_published_reason"] = None, str(err)
    for stem in guyot.curves_available(folder):
        try:
            res = guyot.against_cohort(stem, cohort, published)
        except guyot.CurveError as err:
            ch.curves.append({"name": stem.name, "reason": str(err)})
            continue
        ch.curves.append({**res, "reason": ""})
        reports.append(res["accuracy"].assign(curve=res["name"]))
        overlay = [(ch.facts["label"], res["km_cohort"], plots.OKABE_ITO[1], "-"),
                   (f"{res['name']} (reconstructed)", res["km_trial"], plots.OKABE_ITO[0], "--")]
        ch.figures[f"07_curve_{res['name']}"] = forest.km_overlay(overlay, "Months", res["endpoint"].upper())
    _hazard_ratio_checks(ch, published, reports)
    if reports:
        ch.tables["curve_accuracy"] = pd.concat(reports, ignore_index=True)[
            ["curve", "measure", "published", "reconstructed", "difference"]]


def _hazard_ratio_checks(ch: ComparisonChapter, published, reports: list) -> None:
    """A published HR of one digitised arm against another, beside the reconstructed arms' HR."""
    if published is None or not len(published):
        return
    arms = {c["name"]: c["trial"] for c in ch.curves if not c["reason"]}
    for r in published.itertuples():
        if r.stem in arms and r.hr_against in arms and trials._present(r.hr):
            check = guyot.hazard_ratio_accuracy(arms[r.stem], arms[r.hr_against], r.hr)
            reports.append(pd.DataFrame([check]).assign(curve=r.stem))

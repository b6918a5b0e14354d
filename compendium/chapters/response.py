"""Chapter 03, response: the response rates, what the text relates to reaching >=VGPR, and how
DaraVd was given (cycles, duration, why it stopped, doses skipped or reduced).

``compute(context)`` returns a :class:`ResponseChapter`. What it analyses comes from the
specification's ``[response]`` table (``data/spec/paper.toml``): the rates (0/1 flags of the
analysis dataset, so that a response rate is defined once, where the dataset is derived), the
outcome the predictors are related to, and for each predictor its test. The paper names no test
for its five "not influenced by" p-values; ours are the Wilcoxon rank-sum test (R ``wilcox.test(exact
= FALSE, correct = TRUE)``) and Fisher's exact test (R ``fisher.test``), in
:mod:`compendium.stats.association` with the exact (Clopper-Pearson) intervals of the rates.
Medians and quartiles are R's type 7, plain medians of the observed times: the paper's method.

Claims are declared in the registry by address (``rate(orr)``, ``rate(orr, population=evaluable)``,
``assoc_p(vgpr_or_better, len_exposure_months)``, and the :mod:`~compendium.chapters.counting`
addresses ``count(end_reason=PD)``, ``pct(...)``, ``median(...)``, ``q1``, ``q3``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from compendium.chapters import counting
from compendium.chapters.base import Chapter, Context, Estimate, first, parse_address
from compendium.chapters.descriptives import (equals, flag, format_median_iqr, format_number,
                                              implied_denominator_table, implied_denominators,
                                              summarise_continuous)
from compendium.data import endpoints
from compendium.data import spec as specs
from compendium.report import display, swimmer
from compendium.report import formats as fmt
from compendium.report import narrative as nv
from compendium.stats import association as assoc
from compendium.stats import estimable as ne

RESPONSE_CATEGORIES = [*endpoints.RESPONSE_ORDER, "NE"]
END_REASONS = ["PD", "toxicity", "death", "ASCT", "unknown"]
DARA_SKIP_GROUPS = [("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), (">5", 6, np.inf)]
DEX_GROUPS = ["full", "80", "40", "20"]
#: How DaraVd was started: (item as results/treatment_start.csv names it, column, levels in order).
TREATMENT_START = [("daratumumab route", "dara_route_start", ["IV", "SC"]),
                   ("bortezomib start (mg/m²)", "bortezomib_start_dose_mg_m2", [1.3, 1.0, 0.7]),
                   ("dexamethasone start", "dex_dose_group", DEX_GROUPS)]
#: Treatment exposure as the paper summarises it (median [IQR]): (row, column).
EXPOSURE = [("time to best response (months)", "response_months"), ("cycles received", "cycles_received"),
            ("treatment duration (months)", "treatment_months")]
#: The notebook's sections and the claims each shows: by the kind of address, or the column it is about.
SECTIONS = {
    "rates": {"rate"}, "associations": {"assoc_p"},
    "exposure": {c for _, c in EXPOSURE},
    "discontinuation": {"end_reason", "on_treatment"},
    "start": {c for _, c, _ in TREATMENT_START} | {"salvage_asct"},
    "modifications": {"dara_doses_skipped", "bortezomib_dose_reduced", "bortezomib_reduction_cycle",
                      "bortezomib_weekly_switch"},
}
#: Printed (percentage, count) pairs whose denominator the notebook asks about (the registry has both).
DENOMINATOR_PAIRS = [("A_btz_reduced_pct", "A_btz_reduced_n"), ("A_dara_delayed_pct", "A_dara_delayed_n"),
                     ("R_btz_reduced_pct", "R_btz_reduced_n")]
ASSOCIATION_COLUMNS = ["factor", "column", "test", "n", "n_vgpr", "n_below", "summary_vgpr", "summary_below",
                       "statistic", "p", "role"]
NO_RESPONSE_SPEC = "the specification declares no [response] table"
#: the tests as a table names them (the methods list says which R function each is)
TEST_NAMES = {"wilcoxon": "Wilcoxon rank-sum", "fisher": "Fisher's exact"}


def _with_reason(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """A results frame; its ``reason`` column only when some row has one (the default cohort's files
    keep their columns)."""
    frame = pd.DataFrame(rows, columns=columns + ["reason"])
    return frame if frame["reason"].fillna("").astype(bool).any() else frame.drop(columns="reason")


# --- response rates -------------------------------------------------------------------------

def _proportion_row(endpoint, population, k, n, reason="") -> dict:
    lcl, ucl = assoc.clopper_pearson(k, n)
    return {"endpoint": endpoint, "population": population, "n": int(k), "denominator": int(n),
            "proportion": k / n if n else float("nan"), "lcl": lcl, "ucl": ucl, "ci_method": "clopper-pearson",
            "reason": reason or ("" if n else "no patient evaluable for response")}


def response_distribution(analysis: pd.DataFrame, rates=()) -> pd.DataFrame:
    """Best response categories, then each rate (a 0/1 flag column), with exact 95% CIs.

    ``population = all``: over every treated patient (the Results' denominator); ``evaluable``: over
    the patients with an assessable response (a category other than NE; for a rate, its flag not empty).
    """
    best = analysis["best_response"]
    unknown = sorted(set(best.dropna()) - set(RESPONSE_CATEGORIES))
    if unknown:  # the loader's validation makes this unreachable on data it has read
        raise ValueError(f"unknown best response categories {unknown}")
    counts = best.value_counts()  # one pass over the column, not one comparison per category
    size = {"all": len(best), "evaluable": int(best.notna().sum()) - int(counts.get("NE", 0))}
    rows = []
    for population in ("all", "evaluable"):
        for category in RESPONSE_CATEGORIES:
            if population == "evaluable" and category == "NE":
                continue
            rows.append(_proportion_row(category, population, int(counts.get(category, 0)), size[population]))
        for column in rates:
            if column not in analysis.columns:
                rows.append(_proportion_row(column, population, 0, 0, f"the analysis dataset has no column {column}"))
                continue
            f = pd.to_numeric(analysis[column], errors="coerce")
            n = len(f) if population == "all" else int(f.notna().sum())
            rows.append(_proportion_row(column, population, equals(f, 1).sum(), n))
    return _with_reason(rows, ["endpoint", "population", "n", "denominator", "proportion", "lcl", "ucl", "ci_method"])


def distribution_display(distribution: pd.DataFrame, population: str = "all", labels: dict | None = None) -> pd.DataFrame:
    """Best response for readers: n, % and exact 95% CI (in percent, one decimal)."""
    labels = labels or {}
    d = distribution[distribution["population"] == population]
    reasons = d["reason"].fillna("") if "reason" in d else pd.Series("", index=d.index)
    return pd.DataFrame({
        "response": [labels.get(e, e) for e in d["endpoint"]],
        "n": d["n"].to_numpy(),
        "%": [format_number(100 * p, 1) if not math.isnan(p) else fmt.not_estimable(r or ne.NO_PATIENTS)
              for p, r in zip(d["proportion"], reasons)],
        "95% CI (exact)": [f"{format_number(100 * lo, 1)}–{format_number(100 * hi, 1)}" if not math.isnan(lo)
                           else fmt.DASH for lo, hi in zip(d["lcl"], d["ucl"])],
    })


# --- what goes with reaching the outcome ------------------------------------------------------

def _split(analysis: pd.DataFrame, outcome: str, column: str):
    y = pd.to_numeric(analysis[outcome], errors="coerce")
    x = analysis[column]
    x = pd.to_numeric(x, errors="coerce") if pd.api.types.is_numeric_dtype(x) else x
    keep = y.notna() & x.notna()
    return x[keep & equals(y, 1)], x[keep & equals(y, 0)]


def _median_iqr_text(values) -> str:
    s = summarise_continuous(values)
    return format_median_iqr(s["median"], s["q1"], s["q3"], decimals=1) if s["n"] else ""


def _levels(values: pd.Series) -> list:
    present = set(values.dropna())
    return [1, 0] if present <= {0, 1} else sorted(present, key=str)


def _level_summary(group: pd.Series, levels: list, predictor: specs.Predictor) -> str:
    if group.empty:
        return ""
    if levels == [1, 0]:
        return f"{int((group == 1).sum())}/{len(group)} {predictor.level_label('1')}"
    return ", ".join(f"{predictor.level_label(str(v))} {int((group == v).sum())}" for v in levels)


def predictor_association(analysis: pd.DataFrame, outcome: str, outcome_label: str, predictor: specs.Predictor) -> dict:
    """One predictor against reaching the outcome, among the patients with both known."""
    hit, miss = _split(analysis, outcome, predictor.column)
    names = (f"reaching {outcome_label}", f"below {outcome_label}")
    row = {"factor": predictor.name, "column": predictor.column, "test": predictor.test, "n": len(hit) + len(miss),
           "n_vgpr": len(hit), "n_below": len(miss), "role": "primary"}
    if predictor.test == "wilcoxon":
        if not pd.api.types.is_numeric_dtype(analysis[predictor.column]):
            res = {"statistic": math.nan, "p": math.nan, "reason": f"{predictor.column} is not numeric, so it has no ranks"}
        else:
            res = assoc.rank_sum_test(hit, miss, names)
        summaries = (_median_iqr_text(hit), _median_iqr_text(miss))
    else:
        levels = _levels(pd.concat([hit, miss]))
        table = [[int((g == v).sum()) for v in levels] for g in (hit, miss)]
        res = assoc.fisher_test(table, names, group_axis=0)
        summaries = tuple(_level_summary(g, levels, predictor) for g in (hit, miss))
    return {**row, "summary_vgpr": summaries[0], "summary_below": summaries[1], "statistic": res["statistic"],
            "p": res["p"], "reason": res["reason"]}


def by_level(analysis: pd.DataFrame, outcome: str, outcome_label: str, predictor: specs.Predictor) -> dict:
    """Sensitivity analysis: Fisher's exact test over every observed value of the predictor x the outcome."""
    hit, miss = _split(analysis, outcome, predictor.column)
    levels = sorted(set(hit) | set(miss))
    table = np.array([[(hit == d).sum(), (miss == d).sum()] for d in levels], dtype=np.int64).reshape(-1, 2)
    res = assoc.fisher_test(table, (f"reaching {outcome_label}", f"below {outcome_label}"), group_axis=1)
    method = "" if res["method"] in ("exact", "") else f"; p by {res['method']}"
    noun = " ".join(filter(None, [predictor.level_name, "level" if len(levels) == 1 else "levels"]))
    return {"factor": predictor.name, "column": predictor.column, "test": f"fisher ({len(levels)} {noun} x 2{method})",
            "n": int(table.sum()), "n_vgpr": len(hit), "n_below": len(miss), "summary_vgpr": "", "summary_below": "",
            "statistic": float("nan"), "p": res["p"], "role": "sensitivity", "reason": res["reason"]}


def associations(analysis: pd.DataFrame, response: specs.Response | None, sensitivity: bool = True) -> pd.DataFrame:
    """Every predictor of the specification in its order (``role = primary``), then Fisher's test over the
    levels of those declared ``by_level`` (``role = sensitivity``)."""
    if response is None:
        return pd.DataFrame(columns=ASSOCIATION_COLUMNS)
    label = response.rate_label(response.outcome)
    rows = [predictor_association(analysis, response.outcome, label, p) for p in response.predictors]
    if sensitivity:
        rows += [by_level(analysis, response.outcome, label, p) for p in response.predictors if p.by_level]
    return _with_reason(rows, ASSOCIATION_COLUMNS)


# --- treatment exposure -------------------------------------------------------------------

def median_iqr(values) -> dict:
    """n, median, q1, q3 (R type 7) of the non-missing values."""
    s = summarise_continuous(values)
    return {k: s[k] for k in ("n", "median", "q1", "q3")}


def count_table(series: pd.Series, levels, denominator: int | None = None) -> pd.DataFrame:
    """Counts of the given levels in order (missing counted nowhere), with % of the denominator."""
    denominator = len(series) if denominator is None else denominator
    n = [int(equals(series, level).sum()) for level in levels]
    return pd.DataFrame({"level": [str(v) for v in levels], "n": n,
                         "pct": [100.0 * k / denominator for k in n]})


def discontinuation_reasons(analysis: pd.DataFrame) -> pd.DataFrame:
    """Why DaraVd stopped (``end_reason``), and how many are still on it."""
    table = count_table(analysis["end_reason"], END_REASONS)
    on = int(flag(analysis["on_treatment"]).sum())
    extra = pd.DataFrame({"level": ["still on DaraVd"], "n": [on], "pct": [100.0 * on / len(analysis)]})
    return pd.concat([table, extra], ignore_index=True)


def dara_skipped_groups(analysis: pd.DataFrame) -> pd.DataFrame:
    """Daratumumab doses skipped, in the text's groups (0, 1, 2, 3-5; > 5 kept visible)."""
    skipped = pd.to_numeric(analysis["dara_doses_skipped"], errors="coerce")
    n = [int(((skipped >= lo) & (skipped <= hi)).sum()) for _, lo, hi in DARA_SKIP_GROUPS]
    return pd.DataFrame({"level": [g for g, _, _ in DARA_SKIP_GROUPS], "n": n,
                         "pct": [100.0 * k / len(analysis) for k in n]})


def treatment_start(analysis: pd.DataFrame) -> pd.DataFrame:
    start = pd.concat({item: count_table(analysis[column], levels) for item, column, levels in TREATMENT_START})
    return start.reset_index(level=0, names=["item"])


# --- the chapter ----------------------------------------------------------------------------

@dataclass
class ResponseChapter(Chapter):
    notebook = "03_response"
    facts: dict = field(default_factory=dict)
    counts: counting.Counts | None = field(default=None, repr=False)

    def _counts(self) -> counting.Counts:
        if self.counts is None:
            self.counts = counting.Counts(self.context.analysis)
        return self.counts

    @property
    def response(self) -> specs.Response | None:
        return self.context.spec.response

    # -- accessors
    def rate(self, flag_column: str, population: str = "all") -> Estimate:
        """Per cent reaching a rate of the specification (the Results' denominator, or the evaluable)."""
        row = first(self.tables["response"], endpoint=flag_column, population=population)
        if row is None or self.response is None or flag_column not in dict(self.response.rates):
            return Estimate(reason=f"{flag_column} is not a rate of the specification's [response]"
                            if self.response else NO_RESPONSE_SPEC)
        reason = row.get("reason", "")
        return Estimate(100 * row["proportion"], reason if isinstance(reason, str) else "")

    def association(self, predictor: str, role: str = "primary") -> dict | None:
        """The association row of a predictor (its name or column)."""
        p = self.response.predictor(predictor) if self.response else None
        return None if p is None else first(self.tables["response_associations"], factor=p.name, role=role)

    def published(self, claim_id: str) -> float:
        return float(self.context.registry.set_index("claim_id").at[claim_id, "published"])

    def section(self, name: str) -> list[str]:
        """The claim ids of one section of the notebook (:data:`SECTIONS`), in the registry's order."""
        wanted = SECTIONS[name]
        ids = []
        for row in self.declared().itertuples(index=False):
            kind, args, keys = parse_address(row.estimate)
            if kind in wanted or counting.first_column(args, keys) in wanted:
                ids.append(row.claim_id)
        return ids

    # -- addresses of the claims registry
    def resolvers(self):
        return {"rate": self.rate, "assoc_p": self._assoc_p, **self._counts().resolvers()}

    def _assoc_p(self, outcome, column):
        if self.response is None:
            return Estimate(reason=NO_RESPONSE_SPEC)
        if outcome != self.response.outcome:
            return Estimate(reason=f"the specification relates its predictors to {self.response.outcome}, not {outcome}")
        row = self.association(column)
        if row is None:
            return Estimate(reason=f"{column} is not a predictor of the specification's [response]")
        reason = row.get("reason", "")
        return Estimate(row["p"], reason if isinstance(reason, str) else "")


def compute(context: Context) -> ResponseChapter:
    ch = ResponseChapter(context)
    analysis, response = context.analysis, context.spec.response
    rates = tuple(f for f, _ in response.rates) if response else ()
    ch.tables["response"] = response_distribution(analysis, rates)
    ch.tables["response_associations"] = associations(analysis, response)
    ch.tables["treatment_start"] = treatment_start(analysis)
    ch.tables["dara_doses_skipped"] = dara_skipped_groups(analysis)
    ch.shown["exposure"] = pd.DataFrame.from_dict({label: median_iqr(analysis[c]) for label, c in EXPOSURE},
                                                  orient="index").rename_axis("quantity")
    ch.shown["discontinuation"] = discontinuation_reasons(analysis)
    ch.figures["03_swimmer"] = swimmer.swimmer_plot(analysis)
    ch.facts.update(n=len(analysis), not_evaluable=int(equals(analysis["best_response"], "NE").sum()),
                    swimmer_shown=len(swimmer.swimmer_sample(analysis)))
    ch.fill_declared()
    return ch


# --- what the notebook shows and says ------------------------------------------------------

def evaluable_denominators(ch: ResponseChapter) -> pd.DataFrame:
    """For the claims over the response-evaluable patients: the paper's % and which denominators our
    count of responders (over all patients) would need to give it."""
    rows = []
    for claim in ch.declared().itertuples(index=False):
        kind, args, keys = parse_address(claim.estimate)
        if kind != "rate" or keys.get("population") != "evaluable":
            continue
        row = first(ch.tables["response"], endpoint=args[0], population="all")
        if row is None:
            continue
        printed = ch.published(claim.claim_id)
        fits = implied_denominators(row["n"], printed, float(claim.tolerance), int(row["n"]), 2 * ch.facts["n"])
        rows.append({"claim_id": claim.claim_id, "quantity": claim.quantity, "printed_pct": printed,
                     "our_count": int(row["n"]), "denominators_that_fit": ", ".join(map(str, fits)) if fits else "none"})
    return pd.DataFrame(rows, columns=["claim_id", "quantity", "printed_pct", "our_count", "denominators_that_fit"])


def _claim_of(ch: ResponseChapter) -> dict[str, str]:
    """Predictor name -> the claim whose address is its association p."""
    out = {}
    for claim in ch.declared().itertuples(index=False):
        kind, args, _ = parse_address(claim.estimate)
        p = ch.response.predictor(args[-1]) if kind == "assoc_p" and ch.response and args else None
        if p is not None:
            out[p.name] = claim.claim_id
    return out


def associations_display(ch: ResponseChapter) -> display.DisplayTable:
    """The association table for readers: each predictor's test, the two groups (n, median [IQR] or
    counts), our p and the paper's p beside each primary test that it reports; the sensitivity
    analyses (Fisher's test over every observed level) in a group of their own."""
    table = ch.tables["response_associations"]
    claim_of = _claim_of(ch)
    response_spec = ch.response
    outcome = response_spec.rate_label(response_spec.outcome) if response_spec else "the outcome"
    predictors = {p.name: p for p in response_spec.predictors} if response_spec else {}
    reasons = table["reason"].fillna("") if "reason" in table else pd.Series("", index=table.index)
    rows, groups = [], []
    for r, reason in zip(table.to_dict("records"), reasons):
        p = predictors.get(r["factor"])
        label = p.label if p else display.Labels(ch.context.spec).factor(r["column"])
        test = r["test"]
        test = (TEST_NAMES.get(test, test) if r["role"] == "primary"
                else "Fisher's exact, " + test.removeprefix("fisher").strip(" ()").replace(" x ", " × "))
        published = ch.published(claim_of[r["factor"]]) if r["role"] == "primary" and r["factor"] in claim_of else None
        rows.append([label[:1].upper() + label[1:], test, fmt.count(r["n"]),
                     fmt.count(r["n_vgpr"]), r["summary_vgpr"] or fmt.DASH,
                     fmt.count(r["n_below"]), r["summary_below"] or fmt.DASH,
                     fmt.not_estimable(reason) if reason else fmt.p(r["p"], missing_text=fmt.DASH),
                     fmt.text(published) if published is not None else "not reported"])
        groups.append("Primary tests" if r["role"] == "primary" else "Sensitivity: every observed level")
    return display.DisplayTable(
        ["Predictor", "Test", "n", "n", "Median [IQR] or count", "n", "Median [IQR] or count", "p", "Paper p"], rows,
        title=f"Reaching {outcome}: predictors and tests", groups=groups,
        spanners=[(f"Reaching {outcome}", [3, 4]), (f"Below {outcome}", [5, 6])],
        footnotes=["Among the patients with both the response and the predictor known; two-sided tests "
                   "(Wilcoxon: R wilcox.test, exact = FALSE, correct = TRUE; Fisher: R fisher.test). Paper p as "
                   "the paper prints it; it names no test."])


def methods_list(ch: ResponseChapter) -> str:
    """One bullet per predictor: what is tested and why, and the sensitivity analysis where declared."""
    if ch.response is None or not ch.response.predictors:
        return f"- No predictor is declared ({NO_RESPONSE_SPEC if ch.response is None else 'the [response] table lists none'})."
    analysis, lines = ch.context.analysis, []
    for p in ch.response.predictors:
        line = f"- **{p.label}** (`{p.column}`): the {specs.RESPONSE_TESTS[p.test]}"
        line += f": {p.note}" if p.note else ""
        values = pd.to_numeric(analysis[p.column], errors="coerce") if p.column in analysis else pd.Series(dtype=float)
        if p.test == "wilcoxon" and values.notna().any():
            line += f" (here {nv.num(values.min())} to {nv.num(values.max())})"
        if p.by_level:
            line += ("; as a sensitivity analysis, also Fisher's exact test over every observed value (an r × 2 table, "
                     "computed exactly, as R's `fisher.test`, by an algorithm whose work grows with the table's counts; "
                     f"past `{assoc.FISHER_EXACT_LIMIT:,}` partial tables it falls back to R's own remedy, a Monte "
                     "Carlo p-value with a fixed seed, and the `test` column says so)")
        lines.append(line + ".")
    return "\n".join(lines)


def association_paragraph(ch: ResponseChapter) -> str:
    """What the primary tests say, beside what the paper says."""
    if ch.response is None:
        return f"No association was tested: {NO_RESPONSE_SPEC}."
    table = ch.tables["response_associations"]
    primary = table[table["role"] == "primary"]
    label = ch.response.rate_label(ch.response.outcome)
    labels = {p.name: p.label for p in ch.response.predictors}
    reasons = (primary["reason"] if "reason" in primary else pd.Series("", index=primary.index)).fillna("")
    done = primary[reasons == ""]
    significant = done[done["p"] < nv.ALPHA]
    if len(done):
        parts = [f"Of the {nv.count(len(done), 'association')} with reaching {label} that could be tested, "
                 + nv.choose(len(significant) == 0, "none is significant at the 5% level",
                             nv.listing(f"{labels[r.factor]} ({nv.p_value(r.p)})" for r in significant.itertuples())
                             + f" {nv.verb(len(significant), 'is', 'are')} significant at the 5% level")]
    else:
        parts = [f"None of the {nv.count(len(primary), 'association')} with reaching {label} could be tested"]
    for reason, rows in primary[reasons != ""].groupby(reasons[reasons != ""], sort=False):
        parts.append(f"not estimable for {nv.listing(labels[f] for f in rows['factor'])} ({reason})")
    claims = list(_claim_of(ch).values())
    if claims:
        printed = [ch.published(c) for c in claims]
        parts.append(f"the paper's {len(claims)} p-values are "
                     + nv.choose(all(v >= nv.ALPHA for v in printed), "all above 0.05", "not all above 0.05"))
    return "; ".join(parts) + "."


def exposure_sentence(ch: ResponseChapter) -> str:
    ex = ch.shown["exposure"]
    values = [ex.at[label, "median"] for label, _ in EXPOSURE]
    return (f"Here the median time to best response is {nv.months(values[0])}, the median number of cycles "
            f"{nv.num(values[1], 0)} and the median treatment duration {nv.months(values[2])}.")


def denominators(ch: ResponseChapter, pairs=DENOMINATOR_PAIRS) -> pd.DataFrame:
    """Which denominators make each printed count reproduce its printed percentage (registry numbers only)."""
    known = set(ch.context.registry["claim_id"])
    return implied_denominator_table(ch.context.registry, [p for p in pairs if set(p) <= known])


def start_table(ch: ResponseChapter) -> display.DisplayTable:
    """How DaraVd was started (``results/treatment_start.csv``): each item, then its levels, n and %."""
    return display.table(ch.tables["treatment_start"], ch.context.spec, kind="counts", group="item",
                         of={item: column for item, column, _ in TREATMENT_START}, level_header="",
                         title="How DaraVd was started", footnotes=["% of all treated patients."])

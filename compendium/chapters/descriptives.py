"""Descriptive statistics: Table 1 and the first-line history (notebook 02).

Conventions, as the paper's R analysis would have them:

- percentages are over *all* patients (Table 1 prints n (%) over 85, with NA rows) and,
  beside them, over the patients evaluable for that characteristic (what the text uses:
  ISS over 83, R-ISS over 61 ...); both are kept unrounded, in percent;
- medians and interquartile ranges use R's default quantile (type 7, linear interpolation
  between order statistics), which is also numpy's and pandas' default.

Every function takes a DataFrame shaped like ``data/derived/analysis.csv`` and returns a
tidy DataFrame (or a dict of named numbers); :func:`compute` is notebook 02's chapter (at the end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from compendium.chapters import counting
from compendium.chapters.base import Chapter, Context, Estimate, first, parse_address
from compendium.report import display, seaborn_figures
from compendium.report import formats as fmt
from compendium.stats import estimable as ne
# how a category, a flag and a quantile are counted, shared with every chapter (re-exported here)
from compendium.chapters.counting import equals, flag, quantile7, summarise_continuous  # noqa: F401

TABLE1_COLUMNS = [
    "key", "characteristic", "level", "n", "n_evaluable", "pct_all", "pct_evaluable",
    "median", "q1", "q3",
]

# Table 1 of the paper, top to bottom: (key stem, characteristic as printed, column,
# [(level value, key suffix, level as printed), ...], NA row printed?)
CATEGORICAL_ROWS = [
    ("age", "Age at relapse", "age_group",
     [("<65", "lt65", "< 65 years"), ("65-70", "65_70", "65–70 years"), (">70", "gt70", "> 70 years")],
     False),
    ("sex", "Sex", "sex", [("M", "male", "Male"), ("F", "female", "Female")], False),
    ("isotype", "Isotype", "isotype",
     [("IgG", "IgG", "IgG"), ("IgA", "IgA", "IgA"), ("IgD", "IgD", "IgD"), ("IgM", "IgM", "IgM"),
      ("BJ", "BJ", "BJ")], False),
    ("pc", "Medullary PCs at relapse", "pc_ge60_relapse",
     [(0, "lt60", "< 60%"), (1, "ge60", "≥ 60%")], True),
    ("iss", "ISS", "iss", [("I", "I", "I"), ("II", "II", "II"), ("III", "III", "III")], True),
    ("riss", "R-ISS", "riss", [("I", "I", "I"), ("II", "II", "II"), ("III", "III", "III")], True),
    ("cyto_dx", "Cytogenetic risk at diagnosis", "cyto_risk_dx",
     [("high", "high", "Hi-R"), ("standard", "standard", "St-R")], True),
]
FLAG_ROWS = [
    ("emd", "EMD at relapse", "emd_relapse"),
    ("asct_prior", "Prior ASCT", "prior_asct"),
]
ASCT_ROWS = [("single", "asct_single", "Single"), ("double", "asct_double", "Double")]
EXPOSURE_ROWS = [
    ("bortezomib_exposed", "Bortezomib exposed", "bortezomib_exposed"),
    ("carfilzomib_exposed", "Carfilzomib exposed", "carfilzomib_exposed"),
]
CONTINUOUS_ROWS = {
    "age": ("Age at relapse", "age_years"),
    "creatinine": ("Creatinine at relapse (mg/dL)", "creatinine_mg_dl"),
    "calcium": ("Calcium at relapse (mg/dL)", "calcium_mg_dl"),
    "len_exposure": ("Time of lenalidomide exposure (months)", "len_exposure_months"),
}
LEN_DOSE_ROWS = ("len_dose_pd", "Lenalidomide dose at relapse (mg)", "len_dose_pd_group",
                 [("25-15", "25_15", "25 – 15"), ("10-2.5", "10_2_5", "10 – 2.5")], True)


def _row(key, characteristic, level, n, n_evaluable, n_all, **extra) -> dict:
    return {
        "key": key, "characteristic": characteristic, "level": level, "n": int(n),
        "n_evaluable": int(n_evaluable),
        "pct_all": 100.0 * n / n_all if n_all else float("nan"),
        "pct_evaluable": 100.0 * n / n_evaluable if n_evaluable and level != "NA" else float("nan"),
        "median": float("nan"), "q1": float("nan"), "q3": float("nan"), **extra,
    }


def level_counts(series: pd.Series, levels, stem: str, characteristic: str, na_row: bool) -> list[dict]:
    """One row per level (n, % of all, % of evaluable), then the NA row if asked."""
    n_all = len(series)
    evaluable = series.notna()
    rows = [_row(f"{stem}_{suffix}", characteristic, printed, equals(series[evaluable], value).sum(),
                 evaluable.sum(), n_all)
            for value, suffix, printed in levels]
    if na_row:
        rows.append(_row(f"{stem}_na", characteristic, "NA", (~evaluable).sum(), n_all, n_all))
    return rows


def flag_row(series: pd.Series, key: str, characteristic: str, level: str = "yes") -> dict:
    """Count of a 0/1 flag equal to 1; evaluable = non-missing."""
    s = pd.to_numeric(series, errors="coerce")
    return _row(key, characteristic, level, flag(s).sum(), s.notna().sum(), len(s))


def continuous_row(series: pd.Series, key: str, characteristic: str) -> dict:
    """Median [IQR] row: n is the number of non-missing values."""
    summary = summarise_continuous(series)
    row = _row(key, characteristic, "median [IQR]", summary["n"], summary["n"], len(series))
    row.update(pct_all=float("nan"), pct_evaluable=float("nan"),
               median=summary["median"], q1=summary["q1"], q3=summary["q3"])
    return row


def table1(analysis: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as the paper prints it, tidy: one row per characteristic and level."""
    rows = []
    age_label, age_col = CONTINUOUS_ROWS["age"]
    rows.append(continuous_row(analysis[age_col], "age_median", age_label))
    for stem, label, col, levels, na_row in CATEGORICAL_ROWS[:3]:
        rows += level_counts(analysis[col], levels, stem, label, na_row)
    for stem in ("creatinine", "calcium"):
        label, col = CONTINUOUS_ROWS[stem]
        rows.append(continuous_row(analysis[col], f"{stem}_median", label))
    for stem, label, col, levels, na_row in CATEGORICAL_ROWS[3:]:
        rows += level_counts(analysis[col], levels, stem, label, na_row)
    rows.append(flag_row(analysis["emd_relapse"], "emd", "EMD at relapse", "present"))
    rows.append(flag_row(analysis["prior_asct"], "asct_prior", "Prior ASCT"))
    for value, key, printed in ASCT_ROWS:
        rows.append(_row(key, "Prior ASCT", printed, equals(analysis["asct_first_line"], value).sum(),
                         analysis["asct_first_line"].notna().sum(), len(analysis)))
    for key, label, col in EXPOSURE_ROWS:
        rows.append(flag_row(analysis[col], key, label))
    label, col = CONTINUOUS_ROWS["len_exposure"]
    rows.append(continuous_row(analysis[col], "len_exposure_median", label))
    stem, label, col, levels, na_row = LEN_DOSE_ROWS
    rows += level_counts(analysis[col], levels, stem, label, na_row)
    return pd.DataFrame(rows, columns=TABLE1_COLUMNS)


def table1_claims(t1: pd.DataFrame) -> dict:
    """Claim id -> value for every Table 1 entry (``T1_<key>_n``/``_pct``; medians, quartiles)."""
    out = {}
    for row in t1.itertuples(index=False):
        if row.level == "median [IQR]":
            stem = row.key.removesuffix("_median")
            out.update({f"T1_{stem}_median": row.median, f"T1_{stem}_q1": row.q1,
                        f"T1_{stem}_q3": row.q3})
        else:
            out.update({f"T1_{row.key}_n": row.n, f"T1_{row.key}_pct": row.pct_all})
    return out


def format_number(x, decimals: int) -> str:
    """Round half away from zero (as people, and the paper, round), never banker's rounding."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    scaled = abs(x) * 10 ** decimals
    rounded = math.floor(scaled + 0.5 + 1e-9) / 10 ** decimals
    return f"{math.copysign(rounded, x) if rounded else 0.0:.{decimals}f}"


def format_n_pct(n, pct, decimals: int = 0) -> str:
    """``n (pct)`` as Table 1 and Table 6 print it."""
    return f"{int(n)} ({format_number(pct, decimals)})"


def format_median_iqr(median, q1, q3, decimals: int = 2) -> str:
    return f"{format_number(median, decimals)} [{format_number(q1, decimals)}–{format_number(q3, decimals)}]"


UNPRINTED_WHEN_ZERO = {"isotype_IgM"}  # the paper has no IgM row (no IgM patient)


def table1_display(t1: pd.DataFrame) -> pd.DataFrame:
    """Table 1 for readers: the paper's ``Number (%)`` over all, and % over the evaluable."""
    t1 = t1[~(t1["key"].isin(UNPRINTED_WHEN_ZERO) & (t1["n"] == 0))]
    decimals = {"age_median": 0, "creatinine_median": 2, "calcium_median": 1,
                "len_exposure_median": 2}
    cells, evaluable = [], []
    for row in t1.itertuples(index=False):
        if row.level == "median [IQR]":
            cells.append(format_median_iqr(row.median, row.q1, row.q3, decimals[row.key]) if row.n else
                         fmt.not_estimable(ne.ALL_MISSING))
            evaluable.append(f"n = {row.n_evaluable}")
        else:
            cells.append(format_n_pct(row.n, row.pct_all))
            evaluable.append("" if row.level == "NA" else fmt.DASH if not row.n_evaluable else
                             f"{format_number(row.pct_evaluable, 0)} (of {row.n_evaluable})")
    return pd.DataFrame({"characteristic": t1["characteristic"], "level": t1["level"],
                         "Number (%)": cells, "% of evaluable": evaluable})


def table1_table(t1: pd.DataFrame, title: str = "Table 1 · Baseline characteristics") -> display.DisplayTable:
    """Table 1 for readers, as the paper prints it: each characteristic, then its levels, ``Number (%)``
    over all patients, and the share of the evaluable beside it (the notebook and the exports show this)."""
    shown = table1_display(t1)
    return display.DisplayTable(["Characteristics", "Number (%)", "% of evaluable"],
                                [[r["level"], r["Number (%)"], r["% of evaluable"] or fmt.DASH]
                                 for r in shown.to_dict("records")],
                                title=title, groups=list(shown["characteristic"]),
                                footnotes=["IQR, interquartile range; NA, not available. Percentages of all "
                                           "patients, as the paper prints them; beside them, of those evaluable. "
                                           "Medians [IQR] by R's type-7 quantile."])


def render_table(display: pd.DataFrame, title: str, table_id: str, group: str = "characteristic",
                 stub: str = "level", note: str = ""):
    """A great_tables rendering, rows grouped by ``group``.

    ``table_id`` fixes the HTML id, which great_tables otherwise draws at random, and the result
    is returned as plain HTML (the GT object's text form carries memory addresses): the notebook
    output is then identical on every run.
    """
    from great_tables import GT
    from IPython.display import HTML

    gt = GT(display, groupname_col=group, rowname_col=stub, id=table_id).tab_header(title=title)
    if note:
        gt = gt.tab_source_note(note)
    return HTML(gt.opt_row_striping().opt_table_font(font="Helvetica").as_raw_html())


def first_line_history(analysis: pd.DataFrame) -> pd.DataFrame:
    """First-line therapy as the text tells it: tidy ``quantity, level, n, denominator, value``."""
    n_all = len(analysis)
    rows = []

    def add(quantity, level, n=None, denominator=None, value=None):
        rows.append({"quantity": quantity, "level": level,
                     "n": n, "denominator": denominator,
                     "value": value if value is not None else
                     (100.0 * n / denominator if denominator else float("nan"))})

    for level in ("bortezomib", "lenalidomide", "carfilzomib"):
        add("first-line class", level, int(equals(analysis["first_line_class"], level).sum()), n_all)
    for level in ("none", "single", "double"):
        add("first-line ASCT", level, int(equals(analysis["asct_first_line"], level).sum()), n_all)
    add("carfilzomib refractory", "yes", int(flag(analysis["carfilzomib_refractory"]).sum()), n_all)
    add("bortezomib refractory", "yes", int(flag(analysis["bortezomib_refractory"]).sum()), n_all)
    exposure = summarise_continuous(analysis["len_exposure_months"])
    add("lenalidomide in first line", "yes", exposure["n"], n_all)
    for stat in ("median", "q1", "q3", "min", "max"):
        add("lenalidomide exposure (months)", stat, value=exposure[stat])
    for level, n in len_dose_groups(analysis["len_dose_pd_mg"]).items():
        add("lenalidomide dose at relapse", level, n, n_all)
    for level, mask in (("all", slice(None)), ("ASCT", flag(analysis["prior_asct"])),
                        ("no ASCT", equals(pd.to_numeric(analysis["prior_asct"]), 0))):
        summary = summarise_continuous(analysis.loc[mask, "first_line_pfs_months"])
        add("first-line PFS median (months)", level, summary["n"], value=summary["median"])
    add("diagnosis to DaraVd median (months)", "all",
        int(analysis["months_dx_to_daravd"].notna().sum()),
        value=quantile7(analysis["months_dx_to_daravd"], 0.5))
    return pd.DataFrame(rows, columns=["quantity", "level", "n", "denominator", "value"]).astype(
        {"n": "Int64", "denominator": "Int64"})


LEN_DOSE_TEXT_GROUPS = [("25 mg", lambda d: d == 25), ("15-20 mg", lambda d: (d >= 15) & (d < 25)),
                        ("10 mg", lambda d: d == 10), ("<10 mg", lambda d: d < 10)]


def len_dose_groups(dose_mg: pd.Series) -> dict:
    """The text's finer lenalidomide dose groups at relapse (25; 15 or 20; 10; < 10 mg/day; NA)."""
    d = pd.to_numeric(dose_mg, errors="coerce")
    out = {label: int(rule(d).sum()) for label, rule in LEN_DOSE_TEXT_GROUPS}
    out["NA"] = int(d.isna().sum())
    return out


def audit_printed_percentages(registry: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Printed percentages against count / denominator, from the registry's own numbers.

    Pairs every ``<stem>_n`` claim with its ``<stem>_pct`` claim (same prefix); the check is
    whether the printed percentage is the count over the stated denominator, rounded as
    printed (within the claim's tolerance). No number here is typed: all come from the registry.
    """
    reg = registry[registry["claim_id"].str.startswith(prefix)].set_index("claim_id")
    rows = []
    for cid in reg.index:
        if not cid.endswith("_pct"):
            continue
        n_id = cid.removesuffix("_pct") + "_n"
        if n_id not in reg.index:
            continue
        n, pct, den = reg.at[n_id, "published"], reg.at[cid, "published"], reg.at[cid, "denominator"]
        exact = 100.0 * n / den
        rows.append({"claim_id": cid, "quantity": reg.at[cid, "quantity"], "printed_n": n,
                     "printed_pct": pct, "denominator": den, "n_over_denominator_pct": exact,
                     "consistent": abs(exact - pct) <= reg.at[cid, "tolerance"] + 1e-12})
    return pd.DataFrame(rows, columns=["claim_id", "quantity", "printed_n", "printed_pct", "denominator",
                                       "n_over_denominator_pct", "consistent"])


def implied_denominators(count: float, pct: float, tolerance: float, lo: int = 1, hi: int = 200) -> list[int]:
    """Denominators N for which 100*count/N rounds to the printed percentage."""
    return [n for n in range(max(lo, int(count), 1), hi + 1)
            if abs(100.0 * count / n - pct) <= tolerance + 1e-12]


#: the registry's claim of the paper's cohort size, against which printed counts are read as percentages
PAPER_N_CLAIM = "M_patients_n"


def implied_denominator_table(registry: pd.DataFrame, pairs, lo: int = 50, hi: int = 120) -> pd.DataFrame:
    """For (percentage claim, count claim) pairs of the registry: which denominators make the
    printed count reproduce the printed percentage (e.g. the abstract's 67 (85%) -> 79)."""
    reg = registry.set_index("claim_id")
    # the paper's own cohort size, as the registry holds it (the Methods' "patients enrolled and analysed")
    printed_n = reg.at[PAPER_N_CLAIM, "published"] if PAPER_N_CLAIM in reg.index else float("nan")
    rows = []
    for pct_id, n_id in pairs:
        pct, n, tol = reg.at[pct_id, "published"], reg.at[n_id, "published"], reg.at[pct_id, "tolerance"]
        fits = implied_denominators(n, pct, tol, lo, hi)
        rows.append({"claim_id": pct_id, "quantity": reg.at[pct_id, "quantity"], "printed_pct": pct,
                     "count_claim": n_id, "printed_count": n,
                     "pct_of_paper_n": 100.0 * n / printed_n if n and printed_n else float("nan"),
                     "denominators_that_fit": ", ".join(map(str, fits)) if fits else "none in range"})
    return pd.DataFrame(rows)


CYTO_FINDINGS = [
    ("diagnosis", "cyto_risk_dx", ["high", "standard"]),
    ("diagnosis", "chr1_dx", ["del1p", "gain1q", "amp1q"]),
    ("relapse", "cyto_risk_relapse", ["high", "standard"]),
    ("relapse", "del17p_relapse", [1]),
    ("relapse", "chr1_relapse", ["del1p", "gain1q", "amp1q"]),
]


def cytogenetics_summary(analysis: pd.DataFrame) -> pd.DataFrame:
    """FISH findings at diagnosis and relapse: patients with each finding among the evaluable."""
    rows = []
    for timepoint, column, findings in CYTO_FINDINGS:
        values = analysis[column]
        evaluable = int(values.notna().sum())
        for finding in findings:
            n = int(equals(values, finding).sum())
            rows.append({"timepoint": timepoint, "column": column, "finding": str(finding), "n": n,
                         "evaluable": evaluable, "pct_evaluable": 100.0 * n / evaluable if evaluable else float("nan")})
    return pd.DataFrame(rows)


# --- the chapter (notebook 02) -------------------------------------------------------------------
#
# compute(context) -> DescriptivesChapter: Table 1 and the first-line history as written to results/,
# the FISH findings, and the registry's claims resolved by address: ``table1(sex_male, pct_all)``
# reads a cell of Table 1 (its ``key`` and a column of results/table1.csv), and the counting
# addresses (``count(first_line_class=bortezomib)``, ``pct(cyto_risk_dx=high, among=cyto_risk_dx=*)``,
# ``median(first_line_pfs_months, prior_asct=1)``, ``min``/``max``) count the analysis dataset.

#: The notebook's sections: Table 1 itself, the text's re-reading of it, FISH, and the first line
#: (its counts, and the times: first-line PFS and diagnosis to DaraVd).
CYTO_COLUMNS = {column for _, column, _ in CYTO_FINDINGS}
#: the companion figure of Table 1: its continuous characteristics by response group (figures/<name>.png|svg)
BASELINE_FIGURE = "02_baseline_by_response"
FIRST_LINE_TIMES = {"first_line_pfs_months", "months_dx_to_daravd"}


@dataclass
class DescriptivesChapter(Chapter):
    notebook = "02_descriptives"
    facts: dict = field(default_factory=dict)
    counts: counting.Counts | None = field(default=None, repr=False)

    def _counts(self) -> counting.Counts:
        if self.counts is None:
            self.counts = counting.Counts(self.context.analysis)
        return self.counts

    def cell(self, key: str, column: str) -> Estimate:
        """One cell of Table 1: the row ``key`` (``sex_male``, ``age_median``) and a column of table1.csv."""
        row = first(self.tables["table1"], key=key)
        if row is None or column not in row:
            return Estimate(reason=f"Table 1 has no {'row ' + key if row is None else 'column ' + column}")
        value = row[column]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return Estimate(reason=f"no patient evaluable for {row['characteristic']}" if not row["n_evaluable"]
                            else f"{column} is not defined for {key}")
        return Estimate(value)

    def finding(self, column: str, finding: str) -> dict | None:
        return first(self.shown["cytogenetics"], column=column, finding=str(finding))

    def published(self, claim_id: str) -> float:
        return float(self.context.registry.set_index("claim_id").at[claim_id, "published"])

    def section(self, name: str) -> list[str]:
        """The claim ids of one section: ``table1``, ``text``, ``cytogenetics``, ``first_line``, ``first_line_times``."""
        ids = []
        for row in self.declared().itertuples(index=False):
            kind, args, keys = parse_address(row.estimate)
            column = args[1] if kind == "table1" else counting.first_column(args, keys)
            about = ("table1" if row.location == "Table 1" else "text") if kind == "table1" else (
                "cytogenetics" if column in CYTO_COLUMNS else
                "first_line_times" if column in FIRST_LINE_TIMES else "first_line")
            if about == name:
                ids.append(row.claim_id)
        return ids

    def resolvers(self):
        return {"table1": self.cell, **self._counts().resolvers()}


def compute(context: Context) -> DescriptivesChapter:
    ch = DescriptivesChapter(context)
    analysis = context.analysis
    ch.tables["table1"] = table1(analysis)
    ch.tables["first_line"] = first_line_history(analysis)
    ch.shown["cytogenetics"] = cytogenetics_summary(analysis)
    ch.shown["table1_audit"] = audit_printed_percentages(context.registry, "T1_")
    column, groups = response_groups(context.spec)
    ch.figures[BASELINE_FIGURE] = seaborn_figures.baseline_distributions(analysis, column, groups)
    ch.fill_declared()
    asct = first(ch.tables["first_line"], quantity="first-line PFS median (months)", level="ASCT")
    no_asct = first(ch.tables["first_line"], quantity="first-line PFS median (months)", level="no ASCT")
    ch.facts.update(n=len(analysis), median_age=ch.cell("age_median", "median").value,
                    fl_pfs_asct=asct["value"], fl_pfs_no_asct=no_asct["value"])
    return ch


def cytogenetics_sentence(ch: DescriptivesChapter) -> str:
    """'Here FISH at diagnosis is known for 60 patients, of whom 16 are high risk; at relapse ...'."""
    from compendium.report import narrative as nv

    parts = []
    for when, column in (("diagnosis", "cyto_risk_dx"), ("relapse", "cyto_risk_relapse")):
        row = ch.finding(column, "high")
        parts.append(f"at {when} for {nv.count(row['evaluable'], 'patient')}"
                     + ("" if not row["evaluable"] else f", of whom {row['n']} {nv.verb(row['n'], 'is', 'are')} high risk"))
    return f"Here FISH is known {parts[0]}; {parts[1]}."


def first_line_pfs_sentence(ch: DescriptivesChapter) -> str:
    """First-line PFS with and without ASCT (a plain median: every patient relapsed, none is censored)."""
    from compendium.report import narrative as nv

    asct, no_asct = ch.facts["fl_pfs_asct"], ch.facts["fl_pfs_no_asct"]
    if nv.missing(asct) or nv.missing(no_asct):
        who = "with" if nv.missing(asct) else "without"
        return f"No patient here had first-line PFS {who} a first-line ASCT, so the two cannot be compared"
    return (f"Here patients with a first-line ASCT had a {nv.compare(asct, no_asct, 'longer', 'shorter')} first-line "
            f"PFS than those without ({nv.months(asct)} against {nv.months(no_asct)})")


# --- what the notebook shows and says ------------------------------------------------------------

#: how readers name a FISH finding (the dataset codes it ``high``, ``del1p``, ...; a 0/1 flag as ``1``)
FINDINGS = {"high": "high risk", "standard": "standard risk", "del1p": "del(1p)", "gain1q": "gain(1q)",
            "amp1q": "amp(1q)"}
#: the statistics of a continuous first-line quantity, in words
STATISTICS = {"median": "median", "q1": "first quartile", "q3": "third quartile", "min": "minimum", "max": "maximum"}


def response_groups(spec) -> tuple[str, dict[str, str]]:
    """The response flag the baseline figure splits by (the specification's ``[response]`` outcome,
    ``vgpr_or_better`` without one) and its levels as the specification labels them."""
    column = spec.response.outcome if spec.response else "vgpr_or_better"
    labels = display.Labels(spec)
    return column, {level: labels.level(column, level) if labels.level(column, level) not in ("yes", "no")
                    else f"{labels.factor(column)}: {labels.level(column, level)}" for level in ("1", "0")}


def cytogenetics_table(ch: DescriptivesChapter) -> display.DisplayTable:
    """The FISH findings at diagnosis and at relapse: patients with each among the evaluable."""
    frame = ch.shown["cytogenetics"]
    labels = display.Labels(ch.context.spec)
    shown = frame.assign(
        timepoint=["At diagnosis" if t == "diagnosis" else "At first relapse" for t in frame["timepoint"]],
        finding=[FINDINGS.get(f, labels.factor(c) if f == "1" else f) for c, f in zip(frame["column"], frame["finding"])])
    return display.table(shown, ch.context.spec, kind="counts", level="finding", group="timepoint",
                         denominator="evaluable", pct="pct_evaluable", level_header="Finding",
                         title="FISH findings among the evaluable patients",
                         footnotes=["High risk: del(17p) and/or t(4;14) and/or t(14;16). "
                                    "N: patients evaluable by FISH at that time."])


def first_line_tables(ch: DescriptivesChapter) -> tuple[display.DisplayTable, display.DisplayTable]:
    """``results/first_line.csv`` for readers: the patients counted (n of all, %), then the times (months)."""
    table = ch.tables["first_line"]
    counted, times = table[table["denominator"].notna()], table[table["denominator"].isna()]
    patients = display.table(counted, ch.context.spec, kind="counts", group="quantity", pct="value",
                             denominator="denominator", level_header="", title="First-line history: patients")
    times = times.drop(columns="denominator").assign(level=[STATISTICS.get(v, v) for v in times["level"]])
    return patients, display.table(times, ch.context.spec, title="First-line history: times (months)",
                                   footnotes=["n: patients with the time known; medians and quartiles by R's "
                                              "type-7 quantile."])


def baseline_sentence(ch: DescriptivesChapter) -> str:
    """What the companion figure of Table 1 shows, from the data: the groups, their sizes, two medians."""
    from compendium.report import narrative as nv

    column, groups = response_groups(ch.context.spec)
    a = ch.context.analysis
    if column not in a.columns or a[column].notna().sum() == 0:
        return f"No patient here has {column} recorded, so the figure has nothing to split by."
    flag_ = pd.to_numeric(a[column], errors="coerce")
    parts = {level: a[flag_ == int(level)] for level in ("1", "0")}
    sizes = nv.listing(f"{groups[level]} (n = {len(part)})" for level, part in parts.items())
    unknown = int(flag_.isna().sum())
    text = (f"Each panel shows one continuous characteristic of Table 1 patient by patient, under a box (median and "
            f"quartiles, whiskers to 1.5 times the interquartile range), by best response: {sizes}"
            + (f", and {nv.count(unknown, 'patient')} not evaluable for response" if unknown else "") + ".")
    medians = []
    for name, unit, col in (("age", "years", "age_years"), ("time on lenalidomide", "months", "len_exposure_months")):
        values = [summarise_continuous(part[col])["median"] if col in part else float("nan") for part in parts.values()]
        if not any(nv.missing(v) for v in values):
            medians.append(f"the median {name} is {nv.num(values[0])} against {nv.num(values[1])} {unit}")
    if medians:
        text += f" Between {groups['1']} and {groups['0']}, " + "; ".join(medians) + "."
    known = int(a["bm_pc_pct_relapse"].notna().sum()) if "bm_pc_pct_relapse" in a else 0
    if known < len(a):
        text += f" Marrow plasma cells at relapse are known for {known} of the {len(a)} patients."
    return text

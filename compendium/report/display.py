"""Tables for readers: one presentation layer for every table a notebook, the site or an export shows.

``display.table(frame, spec=..., kind=...)`` turns a tidy result frame (a ``results/*.csv``, full
precision, coded as the data code it) into a :class:`DisplayTable`: every cell text, formatted by
:mod:`compendium.report.formats` (the paper's printed precision, ``NR`` for not reached, an en
dash for what a source lacks, ``0.26 (0.15–0.46)``, counts as integers, p as ``<0.001`` or three
decimals, "not estimable (reason)" from the frame's ``reason`` column), labelled for readers (a
factor's label and its levels' labels from the specification, ``data/spec/paper.toml``; any
other column's description from ``data/dictionary.csv``; never ``vgpr_or_better=1``), with
column spanners, row groups and footnotes, and no index. The same object renders as HTML in a
notebook (great_tables), and as Word and LaTeX in :mod:`compendium.report.export`.

Why pandas' Styler rather than great_tables (both measured on the compendium's own tables, pandas
2.3.3 against great_tables 1.1.0, on this 2-core machine under the load of a shared session):

- speed, the deciding difference: great_tables' pandas backend copies every cell through
  ``DataFrame.loc`` one at a time; a 30-row Cox table took 0.41-0.59 s against Styler's 0.05 s, and
  the reconciliation's 526 claims 5.3-7.3 s against 0.5-0.6 s (``cell_ids=False``). Notebook 04
  shows 17 tables, notebook 08 the 526 claims: seconds per notebook on every run;
- offline inside MyST-NB: both emit one self-contained block with an inline ``<style>`` scoped to
  the table's id and reference no font, script or stylesheet on the network;
- deterministic: great_tables draws a random id per table and Styler a random uuid unless given one;
  here the id is a hash of the table's content, so reruns (and nbval) see identical bytes;
- no index: Styler's ``hide(axis="index")``; great_tables has none to hide;
- column spanners: great_tables' ``tab_spanner``; Styler draws them from a two-level column index
  (equal adjacent labels merged), which :meth:`DisplayTable.html` builds from ``spanners``;
- footnotes: great_tables has ``tab_source_note``; Styler has none, so the notes are a ``<tfoot>``
  of the same table (one string insertion);
- row groups (Tables 1 and 6): great_tables' ``groupname_col``; here a group row above its members,
  classed through ``set_td_classes``.

What great_tables gives beyond that (its own formatters, nanoplots) the compendium does not use:
cells are formatted by :mod:`compendium.report.formats` before either library sees them.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from compendium import paths
from compendium.report import formats as fmt

#: how readers see an endpoint (the paper's abbreviations, defined in its Methods)
ENDPOINTS = {"pfs": "PFS", "os": "OS", "ttnt": "TTNT", "pfs2": "PFS2", "followup": "Follow-up (reverse KM)",
             "ttd": "Time to treatment discontinuation", "dor": "Duration of response",
             "ttbr": "Time to best response"}
#: header labels of the result columns every frame shares; anything else is humanised
COLUMNS = {
    "endpoint": "Endpoint", "group": "Patients", "median": "Median (months)", "n": "n", "events": "Events", "covariate": "Factor",
    "level": "Level", "reference": "Reference", "model": "Model", "p": "p", "holm": "p, Holm",
    "chisq": "χ²", "df": "df", "time": "Months", "n_risk": "At risk", "events_by": "Events by then",
    "test": "Test", "analysis": "Analysis", "cause_label": "Event", "stat": "Statistic",
    "parameters": "Parameters", "events_per_parameter": "Events per parameter",
    "meets_rule_of_ten": "≥10 events per parameter", "significant_raw": "Significant (raw)",
    "significant_holm": "Significant (Holm)", "missing": "Missing", "events_lost": "Events lost",
    "n_risk_at_median": "At risk at the median", "events_at_or_after_median": "Events at or after it",
    "few": "Fewer than 10 at risk", "description": "Description", "reading": "Reading",
    "events_before_landmark": "Events in the window", "median_from_start": "Median from start (months)",
    "n_at_landmark": "At the landmark", "median_from_landmark": "Median from the landmark (months)",
    "median_from_landmark_plus": "… on the start's clock (months)", "loglik_null": "Log-likelihood, null",
    "loglik": "Log-likelihood", "lr_chisq": "LR χ²", "lr_p": "LR p", "wald_chisq": "Wald χ²", "wald_p": "Wald p",
    "score_chisq": "Score χ²", "score_p": "Score p", "iterations": "Iterations", "converged": "Converged",
    "cohorts": "Cohorts", "location": "Where", "quantity": "Quantity", "status": "Status", "basis": "Basis",
}
#: (value, lower, upper) triples shown as one "estimate (95% CI)" cell, with the header they get
TRIPLES = (("hr", "lcl", "ucl", "HR (95% CI)", "hr"), ("median", "lcl", "ucl", "Median, months (95% CI)", "median"),
           ("surv", "lower", "upper", "Survival (95% CI)", "proportion"),
           ("cif", "lower", "upper", "Cumulative incidence (95% CI)", "proportion"))
#: columns that only serve the computation (a variance beside its limits, the limits' method)
DROPPED = {"var", "std_err", "reason", "cause"}
#: the look of every table: rules above and below as booktabs draws them, no grid, compact rows
_CSS = (("", "border-collapse: collapse; margin: 0.4em 0; font-family: Helvetica, Arial, sans-serif; "
             "font-size: 13px; border-top: 2px solid #555; border-bottom: 2px solid #555;"),
        ("caption", "caption-side: top; text-align: left; font-weight: bold; font-size: 14px; padding: 4px 0;"),
        ("th", "font-weight: normal; padding: 3px 8px; vertical-align: bottom;"),
        ("thead tr:last-child th", "border-bottom: 1px solid #555;"),
        ("th.level0:not(:empty)", "text-align: center;"),
        ("td", "padding: 3px 8px; border: none; vertical-align: top;"),
        ("tbody tr:nth-child(even)", "background: #f6f6f6;"),
        ("td.dt-note", "font-size: 11px; color: #444; text-align: left; padding-top: 4px; background: #fff;"),
        ("tfoot tr:first-child td", "border-top: 1px solid #555;"),
        ("td.dt-group", "font-style: italic; background: #fff; padding-top: 6px;"),
        ("td.dt-member.col0", "padding-left: 1.2em;"))
#: a table of this many columns or more scrolls sideways, each column at least this wide (pixels)
WIDE, WIDE_COLUMN_PX = 10, 105
#: columns whose name would mislead the rules below (a ratio named like a count)
DECIMALS = {"events_per_parameter": 1}

# -- the columns of notebooks 06-08 (toxicity, comparison, reconciliation) and of the site's pages --
COLUMNS.update({
    "claim_id": "Claim", "published": "Paper", "reproduced": "This run", "tolerance": "Tolerance", "note": "Note",
    "reason": "Reason", "detail": "Detail", "assumption": "Assumption", "check": "Check", "kind": "Kind",
    "printed": "Printed", "implied": "Implied", "consistent": "Consistent", "checked": "Checked",
    "recorded in": "Recorded in", "computed from": "Computed from",
    "all": "All", "match": "Match", "differs": "Differs", "not_reproducible": "Not reproducible", "not_run": "Not run",
    "pct": "%", "event": "Adverse event", "patients": "Patients", "premedication": "Premedication",
    "printed_total": "Printed total", "sum_of_grade_rows": "Sum of its printed grade rows",
    "grade_rows": "Printed grade rows", "adds_up": "Adds up", "printed_n": "Printed n", "printed_pct": "Printed %",
    "denominator": "Denominator", "n_over_denominator_pct": "n / denominator (%)", "count_claim": "Count (claim)",
    "printed_count": "Printed count", "denominators_that_fit": "Denominators that fit",
    "irr_n": "With an infusion-related reaction", "irr_pct": "% with an infusion-related reaction",
    "trial": "Study", "population": "Population", "missing_reason": "Why it was not found",
    "statistic": "Statistic", "source_type": "Source", "source": "Source", "target_value": "Target, published",
    "target": "Target, as matched", "unweighted": "Unweighted", "weighted": "Weighted", "smd_before": "SMD before",
    "smd_after": "SMD after", "matched": "Matched", "curve": "Curve", "drawn": "Drawn", "from": "From",
    "lacking": "Lacking",
})
#: header names built from a value (``pct_of_85``: the percentage of 85 patients)
HEADER_PATTERNS = ((re.compile(r"^pct_of_(\d+)$"), r"% of \1"),)
#: counts whose name does not say so (a printed total, a denominator)
COUNTS = {"printed_total", "sum_of_grade_rows", "printed_n", "printed_count", "denominator", "patients", "checked",
          "n_boot", "failed"}
#: a number of the paper, shown as it prints it (no trailing zeros added, none taken away)
AS_PRINTED = {"printed", "printed_pct", "published"}
#: a number computed from printed ones or from data, shown to three significant digits
COMPUTED = {"implied", "target_value", "target", "unweighted", "weighted", "value"}
DECIMALS.update({"smd_before": 2, "smd_after": 2, "n_over_denominator_pct": 1})
_P = re.compile(r"^(p|holm|\w+_p|p_\w+)$")
_COUNT = re.compile(r"^(n|events|df|parameters|cohorts|iterations|missing|events_lost|n_\w+|events_\w+|\w+_n)$")
_MONTHS = re.compile(r"^(time|median\w*|\w+_months)$")
_NUMERIC_START = re.compile(r"^([<>≥≤]?\s?-?\d[\d.,]*(?!\w)|NR\b|\u2013$|not estimable)")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


@dataclass
class DisplayTable:
    """A table as readers see it: text cells, headers, spanners, row groups and footnotes."""

    columns: list[str]
    rows: list[list[str]]
    title: str = ""
    spanners: list[tuple[str, list[int]]] = field(default_factory=list)   # (label, column positions)
    groups: list[str] | None = None                                       # one row-group label per row
    footnotes: list[str] = field(default_factory=list)
    caption: str = ""                                                     # a paper's caption, for exports

    def __post_init__(self):
        self.rows = [[fmt.text(c) if not isinstance(c, str) else c for c in row] for row in self.rows]
        if any(len(r) != len(self.columns) for r in self.rows):
            raise ValueError(f"{self.title or 'table'}: every row needs {len(self.columns)} cells")

    @property
    def id(self) -> str:
        """A stable HTML id: the same table gets the same id on every run."""
        digest = hashlib.sha1(repr((self.title, self.columns, self.rows, self.groups)).encode()).hexdigest()
        return f"t{digest[:10]}"

    def frame(self) -> pd.DataFrame:
        """The text cells as a frame (unique internal column names ``c0``, ``c1``, ...)."""
        return pd.DataFrame(self.rows, columns=[f"c{i}" for i in range(len(self.columns))], dtype=object)

    def html(self) -> str:
        """One self-contained ``<div>``: a scoped stylesheet and the table (pandas' Styler, see above)."""
        from html import escape

        from pandas.io.formats.style import Styler

        frame, group_rows = self.frame(), []
        if self.groups is not None:  # a row of its own above each group's rows, as Table 1 prints them
            shown, last = [], object()
            for group, row in zip(self.groups, self.rows):
                if group != last and group:
                    group_rows.append(len(shown))
                    shown.append([group] + [""] * (len(self.columns) - 1))
                shown.append(row)
                last = group
            frame = pd.DataFrame(shown, columns=frame.columns, dtype=object)
        if self.spanners:
            top = [""] * len(self.columns)
            for label, positions in self.spanners:
                for i in positions:
                    top[i] = label
            frame.columns = pd.MultiIndex.from_arrays([top, self.columns])
        else:
            frame.columns = self.columns
        styles = [{"selector": sel, "props": props} for sel, props in _CSS]
        styles += [{"selector": f"td.col{i}, th.col_heading.col{i}", "props": f"text-align: {side};"}
                   for i, side in enumerate(self.alignment())]
        if len(self.columns) >= WIDE:  # wide enough to scroll sideways rather than wrap every cell to a word
            styles.append({"selector": "", "props": f"min-width: {WIDE_COLUMN_PX * len(self.columns)}px;"})
        if self.spanners:  # after the alignment rules, which it overrides at equal specificity
            styles.append({"selector": "th.col_heading.level0:not(:empty)",
                           "props": "text-align: center; border-bottom: 1px solid #999;"})
        styler = (Styler(frame, uuid=self.id, cell_ids=False).hide(axis="index").format(escape="html")
                  .format_index(escape="html", axis=1).set_table_styles(styles))
        if self.groups is not None:
            classes = [["dt-group" if r in group_rows else ("dt-member" if c == 0 else "")
                        for c in range(len(self.columns))] for r in range(len(frame))]
            styler = styler.set_td_classes(pd.DataFrame(classes, index=frame.index, columns=frame.columns))
        if self.title:
            styler = styler.set_caption(escape(self.title))
        body = styler.to_html()
        if group_rows:
            body = _span_groups(body, len(self.columns))
        if self.footnotes:
            notes = "".join(f'<tr><td class="dt-note" colspan="{len(self.columns)}">{escape(n)}</td></tr>'
                            for n in self.footnotes)
            body = body.replace("</tbody>\n</table>", f"</tbody>\n<tfoot>{notes}</tfoot>\n</table>")
        return f'<div class="dt-table" style="overflow-x: auto;">\n{body}</div>\n'

    def alignment(self) -> list[str]:
        """Numbers right, words left: a column is numeric when most of its cells start as a number does."""
        def numeric(cell: str) -> bool:
            return bool(_NUMERIC_START.match(cell))
        out = []
        for i in range(len(self.columns)):
            cells = [r[i] for r in self.rows if r[i]]
            out.append("left" if i == 0 or not cells or sum(map(numeric, cells)) * 2 < len(cells) else "right")
        return out

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        """Plain text for text/plain outputs: aligned columns, no index."""
        frame = pd.DataFrame(self.rows, columns=self.columns)
        if self.groups is not None:
            frame.insert(0, "", self.groups)
        body = frame.to_string(index=False) if len(frame) else " | ".join(self.columns)
        return "\n".join(filter(None, [self.title, body, *self.footnotes]))

    def __len__(self) -> int:
        return len(self.rows)


_GROUP_ROW = re.compile(r'(<td class="[^"]*\bdt-group\b[^"]*")\s*>(.*?)</td>(?:\s*<td class="[^"]*\bdt-group\b[^"]*"\s*></td>)+')


def _span_groups(body: str, width: int) -> str:
    """A group's label row as one cell across the table (Styler draws one cell per column)."""
    return _GROUP_ROW.sub(lambda m: f'{m.group(1)} colspan="{width}">{m.group(2)}</td>', body)


# -- labels -------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def dictionary() -> dict[str, str]:
    """``data/dictionary.csv``: column name -> description."""
    with open(paths.DICTIONARY, encoding="utf-8", newline="") as f:
        return {r["name"]: r["description"] for r in csv.DictReader(f)}


def humanise(name: str) -> str:
    """A machine name readers can read: ``events_lost`` -> ``Events lost``."""
    words = str(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Labels:
    """How readers see factors, levels, groups, endpoints and models: from the specification,
    then the data dictionary, then the name with its underscores turned to spaces."""

    spec: object = None   # compendium.data.spec.Spec

    def factor(self, column) -> str:
        column = str(column)
        if self.spec is not None:
            declared = {f.column: f for f in self.spec.factors}
            if column in declared:
                return declared[column].label
            rt = getattr(self.spec, "response_timing", None)
            if rt is not None and column in ("responded", "responded_by_landmark"):
                base = self.factor(rt.factor)
                return f"{base} by the landmark" if column == "responded_by_landmark" else f"{base} (time-dependent)"
        special = {"GLOBAL": "Global test", "any": "Any covariate", "responded": "Responded (time-dependent)",
                   "responded_by_landmark": "Responded by the landmark"}
        if column in special:
            return special[column]
        described = dictionary().get(column)
        return described.split(" (")[0] if described else humanise(column)

    def level(self, column, level) -> str:
        """A level as readers see it: the specification's label, ``yes``/``no`` for a flag."""
        if fmt.missing(level):
            return fmt.DASH
        level = fmt.text(level)
        if self.spec is not None:
            for f in self.spec.factors:
                if f.column == str(column) and level in dict(f.levels):
                    return dict(f.levels)[level]
        return {"1": "yes", "0": "no", "per unit": "per unit"}.get(level, humanise(level) if _IDENTIFIER.match(level)
                                                                    else level)

    def group(self, group) -> str:
        """``vgpr_or_better=1`` -> ``≥VGPR``; ``all`` -> ``All patients``."""
        group = fmt.text(group)
        if group == "all":
            return "All patients"
        column, eq, value = group.partition("=")
        if not eq:  # a column by which the rows are grouped, named alone
            return self.factor(group) if _IDENTIFIER.match(group) else group
        shown = self.level(column, value)
        return shown if shown not in ("yes", "no") else f"{self.factor(column)}: {shown}"

    def endpoint(self, endpoint) -> str:
        e = fmt.text(endpoint)
        return ENDPOINTS.get(e.lower(), humanise(e) if _IDENTIFIER.match(e) else e)

    def model(self, name) -> str:
        name = fmt.text(name)
        m = re.fullmatch(r"landmark_([\d.]+)m", name)
        if m:
            return f"landmark at {m.group(1)} months"
        if name.startswith("without_"):
            return f"without {self.factor(name[len('without_'):])} (all patients)"
        known = {"time_zero": "from time zero", "complete_case": "complete cases", "multiple_imputation": "multiple imputation",
                 "firth": "Firth-penalised", "time_dependent": "time-dependent, first reached",
                 "time_dependent_best_date": "time-dependent, best-response date"}
        if name in known:
            return known[name]
        if self.spec is not None and name in {m.name for m in self.spec.models}:
            model = self.spec.model(name)
            return f"{name}: " + ", ".join(self.factor(c) for c in model.covariates)
        return humanise(name) if _IDENTIFIER.match(name) else name

    def cell(self, value) -> str:
        """Any text cell: a code that is a machine name is turned to words."""
        text = fmt.text(value)
        return humanise(text).lower() if _IDENTIFIER.match(text) else text


def header(name: str) -> str:
    if name in ENDPOINTS:  # a wide frame, one column per endpoint
        return ENDPOINTS[name]
    for pattern, template in HEADER_PATTERNS:
        if pattern.match(name):
            return pattern.sub(template, name)
    return COLUMNS.get(name, humanise(name) if "_" in name else name)


# -- the API ------------------------------------------------------------------------------------

def table(frame: pd.DataFrame, spec=None, kind: str | None = None, title: str = "", footnotes=(),
          empty: str = "", **options) -> DisplayTable:
    """The display table of a result frame.

    ``kind`` names a layout of :data:`KINDS` (``"km"``: Kaplan-Meier medians with R's log and the
    log-log limits side by side; ``"paper"``: a published table beside this run's, which needs
    ``rows`` and ``registry``; ``"claims"``: the paper's numbers beside this run's); without it,
    every column is formatted by what its name says it holds (see the module docstring).
    ``spec`` gives the labels; ``footnotes`` are added under the table; ``empty`` is what a table
    without a row says instead (``"None: every entry matches."``), under its header.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown display kind {kind!r}; expected one of {sorted(KINDS)}")
    out = (KINDS[kind] if kind else generic)(frame, Labels(spec), **options)
    if title:
        out.title = title
    out.footnotes = [*out.footnotes, *footnotes]
    if empty and not len(out):
        out.footnotes.insert(0, empty)
    return out


def generic(frame: pd.DataFrame, labels: Labels, drop=(), keep_reason: bool = False,
            headers: dict | None = None) -> DisplayTable:
    """Every column formatted by its name: estimate triples merged, codes labelled, no index
    (``headers``: a header for a column whose name means something else in this table)."""
    frame = _no_index(frame).drop(columns=[c for c in drop if c in frame.columns])
    reason = frame["reason"] if "reason" in frame.columns else pd.Series("", index=frame.index)
    reason = reason.map(lambda r: r if isinstance(r, str) else "")
    cells: dict[str, list[str]] = {}
    heads: dict[str, str] = {}
    used: set[str] = set()
    for value, lo, hi, head, how in TRIPLES:
        if {value, lo, hi} <= set(frame.columns) and not ({value, lo, hi} & used):
            cells[value] = [_estimate(how, v, a, b, r) for v, a, b, r in zip(frame[value], frame[lo], frame[hi], reason)]
            heads[value] = head
            used |= {value, lo, hi}
    order = []
    for col in frame.columns:
        if col in used - set(cells) or (col in DROPPED and not (col == "reason" and keep_reason)):
            continue
        order.append(col)
        if col in cells:
            continue
        heads[col] = header(str(col))
        cells[col] = [_cell(col, v, row, labels, r) for v, row, r in zip(frame[col], frame.to_dict("records"), reason)]
    if "conf_type" in order:
        cells["conf_type"] = [{"log": "log (R's default)", "log-log": "log-log"}.get(v, v) for v in cells["conf_type"]]
        heads["conf_type"] = "CI scale"
    if reason.astype(bool).any() and not any(c in cells for c, *_ in TRIPLES) and "reason" not in order:
        order.append("reason")
        heads["reason"] = "Note"
        cells["reason"] = [fmt.not_estimable(r) if r else "" for r in reason]
    heads.update({c: h for c, h in (headers or {}).items() if c in heads})
    rows = [[cells[c][i] for c in order] for i in range(len(frame))]
    return DisplayTable([heads[c] for c in order], rows)


def _no_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame whose index carries information (a named one, a pivot's) keeps it as columns."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    if frame.index.name is None and frame.index.names == [None]:
        return frame.reset_index(drop=True)
    return frame.reset_index()


def _estimate(how: str, value, lo, hi, reason: str) -> str:
    if how == "hr":
        return fmt.hr(value, lo, hi, reason)
    if how == "median":
        return fmt.median_ci(value, lo, hi, reason)
    if how == "iqr":
        return median_iqr(value, lo, hi, reason)
    if reason:
        return fmt.not_estimable(reason)
    return fmt.proportion_ci(value, lo, hi)


def _cell(col: str, value, row: dict, labels: Labels, reason: str) -> str:
    if col == "endpoint":
        return labels.endpoint(value)
    if col in ("covariate", "factor", "column"):
        return labels.factor(value)
    if col in ("level", "reference"):
        return labels.level(row.get("covariate", ""), value) if not fmt.missing(value) else fmt.DASH
    if col == "group":
        return labels.group(value)
    if col in ("model", "analysis"):
        return labels.model(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return labels.cell(value)
    if col in DECIMALS:
        return fmt.number(value, DECIMALS[col])
    if col in AS_PRINTED:
        return fmt.text(value)
    if col in COMPUTED:
        return significant(value)
    if _P.match(col):
        return "" if reason and fmt.missing(value) else fmt.p(value, missing_text=fmt.DASH)
    if col == "time" and not fmt.missing(value):
        return fmt.text(float(value))
    if _MONTHS.match(col):
        return fmt.months(value) if not reason else ""
    if fmt.missing(value):
        return fmt.DASH
    if _COUNT.match(col) or col in COUNTS or isinstance(value, (int, np.integer)):
        return fmt.count(value)
    if "pct" in col:
        return fmt.number(value, 1)
    return fmt.number(value, 3 if abs(float(value)) < 1 else 2)


# -- layouts ------------------------------------------------------------------------------------

def km(frame: pd.DataFrame, labels: Labels) -> DisplayTable:
    """``survival_km.csv``: one row per curve, R's log limits and the log-log limits side by side."""
    rows = []
    for (endpoint, group), part in frame.groupby(["endpoint", "group"], sort=False):
        by = {r["conf_type"]: r for r in part.to_dict("records")}
        log, loglog = by.get("log", {}), by.get("log-log", {})
        any_row = log or loglog
        reason = next((r for r in (any_row.get("reason"),) if isinstance(r, str) and r), "")
        if reason:
            median = ci_log = ci_loglog = fmt.not_estimable(reason)
        else:
            median = fmt.months(any_row.get("median"))
            ci_log = fmt.interval(log.get("lcl"), log.get("ucl")) if log else fmt.DASH
            ci_loglog = fmt.interval(loglog.get("lcl"), loglog.get("ucl")) if loglog else fmt.DASH
        rows.append([labels.endpoint(endpoint), labels.group(group), fmt.count(any_row.get("n")),
                     fmt.count(any_row.get("events")), median, ci_log, ci_loglog])
    return DisplayTable(["Endpoint", "Patients", "n", "Events", "Median", "95% CI, log", "95% CI, log-log"], rows,
                        spanners=[("Months", [4, 5, 6])],
                        footnotes=["NR, not reached. Log: R survfit's default band; log-log: the band many "
                                   "clinical reports use. Follow-up: reverse Kaplan-Meier (censoring as the event)."])


def paper(frame: pd.DataFrame, labels: Labels, rows=(), registry: pd.DataFrame | None = None) -> DisplayTable:
    """A published table (the specification's rows) beside this run's estimates, in the paper's
    orientation (``invert`` rows show the other level against this one)."""
    from compendium.stats import models

    reg = registry.set_index("claim_id")["published"] if registry is not None else pd.Series(dtype=float)
    out, turned = [], False
    for row in rows:
        ours = models.oriented(frame, row)
        turned |= row.invert
        shown = fmt.hr(ours["hr"], ours["lcl"], ours["ucl"], ours["reason"])
        ok = not ours["reason"] and fmt.estimable_hr(ours["hr"], ours["lcl"], ours["ucl"])
        published = {k: reg.get(f"{row.claim}_{k}") for k in ("hr", "lcl", "ucl", "p")} if row.claim else {}
        has = bool(published) and not fmt.missing(published["hr"])
        out.append([row.label, shown, fmt.p(ours["p"]) if ok else "", f"{ours['n']} / {ours['events']}",
                    fmt.hr(published["hr"], published["lcl"], published["ucl"]) if has else "not reported",
                    fmt.p(published["p"], missing_text=fmt.DASH) if has else fmt.DASH])
    notes = ["HR, hazard ratio; CI, confidence interval. Cox models, Efron's ties, Wald limits and p (R coxph)."]
    if turned:
        notes.append("Rows named by the favourable level (\u201cabsence of EMD\u201d) invert the hazard ratio of the "
                     "coded level and swap its limits; p is unchanged.")
    return DisplayTable(["Characteristic", "HR (95% CI)", "p", "n / events", "HR (95% CI)", "p"], out,
                        spanners=[("This run", [1, 2, 3]), ("Paper", [4, 5])], footnotes=notes)


def claims(frame: pd.DataFrame, labels: Labels, registry: pd.DataFrame | None = None, claim: bool = False,
           extra=(), ours: str = "This run", reasons: str = "inline") -> DisplayTable:
    """The paper's numbers beside this run's (``Recorder.table`` or ``results/claims.csv``).

    ``claim``: a first column of claim ids (readers look them up in the registry); ``extra``: further
    columns of the frame shown as text (``note``, ``basis``, ``recorded in``); ``ours``: the header of
    the value compared (``"Source"`` for a quotation of another publication); ``reasons="column"``:
    why a value is missing in a column of its own rather than inside the value's cell. A Status
    column is shown when the frame has one.
    """
    from compendium.report import claims as registry_module

    reg = (registry if registry is not None else registry_module.load_registry()).set_index("claim_id")
    frame = frame.rename(columns={"paper": "published", "compendium": "reproduced"})
    if "claim_id" not in frame.columns and frame.index.name == "claim_id":  # Recorder.table's index
        frame = frame.reset_index()
    has_status, has_location = "status" in frame.columns, "location" in frame.columns
    records = frame.to_dict("records")
    why = [r.get("reason") if isinstance(r.get("reason"), str) and fmt.missing(r.get("reproduced")) else ""
           for r in records]
    note_column = reasons == "column" and any(why)
    rows = []
    for r, reason in zip(records, why):
        unit = r.get("unit") if isinstance(r.get("unit"), str) else reg["unit"].get(r.get("claim_id"), "")
        value = _claim_value(r.get("reproduced"), r.get("published"), unit)
        if fmt.missing(r.get("reproduced")):
            value = (f"not reproducible ({reason})" if reason and r.get("status") == "not_reproducible"
                     and not note_column else fmt.DASH)
            if not reason and unit == "months" and r.get("status") in ("match", "differs"):
                value = "not reached"  # a median that was computed, and not reached
        row = ([fmt.text(r.get("claim_id"))] if claim else []) + ([fmt.text(r.get("location"))] if has_location else [])
        row += [typeset(r.get("quantity")), _as_printed(r.get("published"), unit), value]
        row += [labels.cell(r.get("status", ""))] if has_status else []
        row += [fmt.text(r.get(c)) for c in extra]
        rows.append(row + ([reason] if note_column else []))
    columns = (["Claim"] if claim else []) + (["Where"] if has_location else []) + ["Quantity", "Paper", ours]
    columns += ["Status"] if has_status else []
    columns += [header(str(c)) for c in extra] + (["Why there is no value"] if note_column else [])
    return DisplayTable(columns, rows,
                        footnotes=[("This run's value" if ours == "This run" else f"{ours}: the value")
                                   + " at the precision the paper prints (one more decimal where "
                                   "the paper prints a whole number of months or a percentage)."])


def _as_printed(published, unit) -> str:
    """The paper's number as the paper prints it (25 months stays 25, p as p)."""
    if fmt.missing(published):
        return "not reached" if unit == "months" else fmt.DASH
    if unit == "p":
        return fmt.p(published)
    if unit in ("n", "count", "patients"):
        return fmt.count(published)
    if unit == "HR":  # the paper prints every hazard ratio and limit to two decimals (0.80, not 0.8)
        return fmt.number(published, 2)
    return f"{float(published):g}"


def _claim_value(value, published, unit) -> str:
    """This run's value at the paper's printed precision (one more decimal for whole months and %)."""
    if fmt.missing(value) or unit in ("p", "n", "count", "patients"):
        return _as_printed(value, unit)
    printed = f"{float(published):g}" if not fmt.missing(published) else ""
    decimals = len(printed.split(".")[1]) if "." in printed and "e" not in printed else 0
    if unit == "HR":
        decimals = max(decimals, 2)
    elif unit in ("months", "%"):
        decimals = max(decimals, 1)
    return fmt.number(value, decimals)


def grouped(frame: pd.DataFrame, labels: Labels, group: str, columns: dict[str, str]) -> DisplayTable:
    """A frame already in text form, rows grouped under ``group`` (Tables 1 and 6)."""
    return DisplayTable(list(columns.values()), [[fmt.text(r[c], "") for c in columns] for r in frame.to_dict("records")],
                        groups=[fmt.text(g) for g in frame[group]])


KINDS = {"km": km, "paper": paper, "claims": claims}


# -- notebooks 01-03: the cohort, Table 1, the response ----------------------------------------

#: more result columns, as notebooks 01-03 name them (cohort flow, endpoints, counts, audits)
COLUMNS.update({
    "step": "Step", "reason": "Reason", "event": "Event", "censored_at": "Censored at", "censored": "Censored",
    "paper_section": "Part of the paper", "variables": "Columns of the data file", "response": "Response",
    "pct": "%", "item": "Item", "timepoint": "Timepoint", "finding": "Finding", "evaluable": "Evaluable",
    "pct_evaluable": "% of evaluable", "value": "Value", "denominator": "Denominator", "role": "Role",
})
#: counts whose names the count rule does not catch
DECIMALS.update({"denominator": 0, "evaluable": 0, "censored": 0})
#: a median with its quartiles, "13.8 [8.0–22.1]", as Table 1 and the paper's text print them
TRIPLES = TRIPLES + (("median", "q1", "q3", "Median [IQR]", "iqr"),)
#: columns of the analysis dataset that the dictionary (which describes the raw export) does not name
DATASET_COLUMNS = {"patient_id": "Patient", "center": "Centre", "age_years": "Age (years)", "age_ge65": "Age ≥65"}
#: what a claim's status says to readers, in the order a tally shows them
STATUSES = {"match": "Match", "differs": "Differs", "not_reproducible": "Not reproducible", "not_run": "Not run"}


def median_iqr(median, q1, q3, reason: str = "", digits: int = 1) -> str:
    """``13.8 [8.0–22.1]``; "not estimable (reason)"; an en dash where there is no value."""
    if isinstance(reason, str) and reason:
        return fmt.not_estimable(reason)
    if fmt.missing(median):
        return fmt.DASH
    return f"{fmt.number(median, digits)} [{fmt.number(q1, digits)}{fmt.DASH}{fmt.number(q3, digits)}]"


def column_label(labels: Labels, name) -> str:
    """A column of the analysis dataset as readers name it: ``pfs_months`` -> ``PFS (months)``."""
    name = str(name)
    if name in DATASET_COLUMNS:
        return DATASET_COLUMNS[name]
    stem, _, suffix = name.rpartition("_")
    if stem in ENDPOINTS and suffix in ("months", "event"):
        return f"{ENDPOINTS[stem]} ({suffix})" if suffix == "months" else f"{ENDPOINTS[stem]} event"
    label = labels.factor(name)
    return label[:1].upper() + label[1:]


def _dataset_cell(column: str, value) -> str:
    if fmt.missing(value):
        return fmt.DASH
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if _MONTHS.match(column):  # every time of a column to one decimal, a whole one too
        return fmt.months(value)
    return fmt.count(value) if float(value).is_integer() else fmt.text(float(value))


def records(frame: pd.DataFrame, labels: Labels) -> DisplayTable:
    """Rows of the analysis dataset as they are coded (a sample that shows the coding): readers'
    headers, the codes and flags as stored, an en dash for an empty cell, months to one decimal;
    a footnote names the columns as ``analysis.csv`` does."""
    frame = _no_index(frame)
    rows = [[_dataset_cell(str(c), v) for c, v in zip(frame.columns, r)] for r in frame.itertuples(index=False)]
    flags = [c for c in frame.columns if frame[c].notna().any()
             and set(pd.to_numeric(frame[c], errors="coerce").dropna().unique()) <= {0, 1}
             and pd.api.types.is_numeric_dtype(frame[c])]
    notes = [f"Columns of analysis.csv, in order: {', '.join(map(str, frame.columns))}."]
    notes.append(("Flags: 1 present, 0 absent. " if flags else "") + f"{fmt.DASH}: an empty cell (not evaluable).")
    return DisplayTable([column_label(labels, c) for c in frame.columns], rows, footnotes=notes)


#: the columns of an audit of printed numbers (count over denominator against the printed percentage)
_AUDIT = {"quantity": "Quantity", "printed_n": "Printed n", "printed_count": "Printed n",
          "our_count": "This run's count", "denominator": "Denominator", "printed_pct": "Printed %",
          "n_over_denominator_pct": "n / denominator (%)", "denominators_that_fit": "Denominators that fit",
          "consistent": "Consistent", "pct_of_paper_n": "% of the paper's N"}


def audit(frame: pd.DataFrame, labels: Labels) -> DisplayTable:
    """The paper's printed counts, denominators and percentages checked against each other
    (``descriptives.audit_printed_percentages``, ``implied_denominator_table``): claim ids are left
    out (the quantity names the row), the printed numbers shown as printed, computed ones to one decimal."""
    frame = _no_index(frame)
    order = [c for c in frame.columns if c in _AUDIT or re.fullmatch(r"pct_of_\d+", str(c))]
    heads = [_AUDIT.get(c) or f"% of {str(c).removeprefix('pct_of_')}" for c in order]
    rows = []
    for r in frame.to_dict("records"):
        cells = []
        for c in order:
            v = r[c]
            if c in ("printed_n", "printed_count", "our_count", "denominator"):
                cells.append(fmt.count(v))
            elif c == "printed_pct":
                cells.append(fmt.text(v))
            elif c == "consistent":
                cells.append(fmt.text(bool(v)) if not fmt.missing(v) else fmt.DASH)
            elif c.startswith("pct_of_") or c == "n_over_denominator_pct":
                cells.append(fmt.number(v, 1))
            else:
                cells.append(fmt.text(v))
        rows.append(cells)
    rule = ("A printed percentage is consistent when the count over the denominator rounds to it (within the "
            "claim's tolerance)." if "consistent" in order else
            "Denominators that fit: those over which the count rounds to the printed percentage.")
    return DisplayTable(heads, rows, footnotes=[f"Printed: the paper's numbers, from the claims registry. {rule}"])


def tally(frame: pd.DataFrame, labels: Labels) -> DisplayTable:
    """How many claims match, differ or cannot be reproduced, by where the paper states them
    (``Chapter.recorded()``: ``location`` and ``status``), with a row for them all."""
    frame = _no_index(frame)
    present = list(dict.fromkeys(frame["status"]))
    statuses = [s for s in STATUSES if s in present] + [s for s in present if s not in STATUSES]
    rows = []
    for location in dict.fromkeys(frame["location"]):
        part = frame[frame["location"] == location]
        rows.append([fmt.text(location)] + [fmt.count((part["status"] == s).sum()) for s in statuses]
                    + [fmt.count(len(part))])
    rows.append(["All"] + [fmt.count((frame["status"] == s).sum()) for s in statuses] + [fmt.count(len(frame))])
    return DisplayTable(["Where"] + [STATUSES.get(s, labels.cell(s)) for s in statuses] + ["Claims"], rows)


def counts(frame: pd.DataFrame, labels: Labels, level: str = "level", group: str | None = None, of=None,
           n: str = "n", pct: str = "pct", denominator: str | None = None, digits: int = 1,
           level_header: str = "") -> DisplayTable:
    """Patients by level, ``n`` and ``%`` (over ``denominator`` when the frame has one), rows under
    ``group`` when given. ``of`` names the dataset column whose labels the levels take (one column,
    or a dict: group value -> column), so that ``80`` reads ``80 mg/week``; without it a level is
    shown as it is written."""
    frame = _no_index(frame)
    rows, groups = [], []
    for r in frame.to_dict("records"):
        column = of.get(r[group]) if isinstance(of, dict) else of
        value = r[level]
        shown = labels.level(column, value) if column else labels.cell(value)
        row = [shown, fmt.count(r[n])]
        if denominator:
            row.append(fmt.count(r[denominator]))
        row.append(fmt.number(r[pct], digits))
        rows.append(row)
        shown_group = labels.cell(r[group]) if group else ""
        groups.append(shown_group[:1].upper() + shown_group[1:])
    heads = [level_header or header(level), "n"] + (["N"] if denominator else []) + ["%"]
    return DisplayTable(heads, rows, groups=groups if group else None)


KINDS.update(records=records, audit=audit, tally=tally, counts=counts)


# -- layouts of notebooks 06-08 and of the site's own pages ---------------------------------------

def typeset(value) -> str:
    """A text cell as print sets it: the registry's ASCII ``>=`` and ``<=`` as ``≥`` and ``≤``."""
    return fmt.text(value).replace(">=", "\u2265").replace("<=", "\u2264")


def significant(value, digits: int = 3) -> str:
    """A computed number to ``digits`` significant digits, never in exponent form; a whole number
    as an integer; below 0.001 as ``<0.001``; an en dash where there is none."""
    if fmt.missing(value) or not np.isfinite(float(value)):
        return fmt.DASH
    v = float(value)
    if v.is_integer():
        return str(int(v))
    if abs(v) < 0.001:
        return "<0.001" if v > 0 else f"{v:.1e}"
    decimals = max(0, digits - 1 - int(np.floor(np.log10(abs(v)))))
    return f"{v:.{decimals}f}"


def crosstab(frame: pd.DataFrame, labels: Labels, total: str = "all") -> DisplayTable:
    """A cross-tabulation of counts (``pd.crosstab``, its margins named ``total``): the row labels
    (the index, named or not) in words, the column codes as headers, every cell an integer."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        data, stub = frame, str(frame.columns[0])
    else:  # the row labels are the index (named by what it holds, or not named at all)
        data, stub = frame.reset_index(), frame.index.name or ""

    def words(code) -> str:
        return "All" if fmt.text(code) == total else humanise(labels.cell(code))

    columns = [header(str(stub)) if stub else ""] + ["All" if str(c) == total else humanise(header(str(c)))
                                                     for c in data.columns[1:]]
    rows = [[words(r[0])] + [fmt.count(v) for v in r[1:]] for r in data.itertuples(index=False)]
    return DisplayTable(columns, rows)


def checks(frame: pd.DataFrame, labels: Labels, registry: pd.DataFrame | None = None,
          headers: dict | None = None) -> DisplayTable:
    """Checks of the paper against itself (``results/paper_audit.csv``, or a choice of its columns):
    the printed number as the paper prints it (its unit from the registry: p as p), the implied one
    to three significant digits (a p as the paper would print it); no consistency column where
    every row shown fails, or every row passes."""
    from compendium.report import claims as registry_module

    units = (registry if registry is not None else registry_module.load_registry()).set_index("claim_id")["unit"]
    frame = _no_index(frame)
    if "consistent" in frame.columns and frame["consistent"].nunique() <= 1:
        frame = frame.drop(columns="consistent")
    columns, rows = [(headers or {}).get(c, header(str(c))) for c in frame.columns], []
    for r in frame.to_dict("records"):
        unit = units.get(r.get("claim_id"), "")
        row = []
        for c, v in r.items():
            if c == "printed":  # a p of 0.02 stays 0.02 here: the check is about its rounding
                row.append(fmt.DASH if fmt.missing(v) else fmt.p(v) if unit == "p" and float(v) < 0.001
                           else _as_printed(v, unit) if unit != "p" else f"{float(v):g}")
            elif c == "implied":
                row.append(fmt.p(v, missing_text=fmt.DASH) if unit == "p" else significant(v))
            elif isinstance(v, (bool, np.bool_)):
                row.append("yes" if v else "no")
            else:
                row.append(typeset(v))
        rows.append(row)
    return DisplayTable(columns, rows, footnotes=[
        "Printed: the paper's number as it prints it; implied: what the paper's other printed numbers give "
        "(three significant digits; a p-value as the paper prints one)."])


#: the evidence table's population codes (data/external/evidence.csv) as readers say them
EVIDENCE_WORDS = {
    "len_status": {"refractory": "refractory", "mixed": "mixed", "exposed": "exposed",
                   "imid_refractory": "IMiD-refractory"},
    "analysis_set": {"itt": "ITT", "subgroup": "subgroup", "post_hoc_subgroup": "post hoc subgroup",
                     "pooled": "pooled"},
}


def evidence(frame: pd.DataFrame, labels: Labels, detail: bool = False) -> DisplayTable:
    """The other studies' published results (``data/external/evidence.csv``, one row per study x arm
    x population x endpoint): the median with its limits where the source gives them (``13.8
    (9.1–NR)``), "not reported" where it gives none, "NR" where it is not reached, the hazard ratio
    (an en dash for an arm that has none of its own). ``detail``: the population's codes in words
    (lenalidomide status and share refractory, prior lines, analysis set, forest-plot group), the
    analysis, the limits in words and where in the source each number was read."""
    from compendium.report import trials

    def median(r) -> str:
        if r.get("median_not_reached") in (1, True, "1"):
            shown = fmt.NOT_REACHED
        elif fmt.missing(r.get("median_months")):
            return "not reported"
        else:
            shown = fmt.months(r["median_months"])
        if not fmt.missing(r.get("lcl")):
            shown += f" ({fmt.interval(r['lcl'], r.get('ucl'))})"
        return shown

    def hazard(r) -> str:
        if not fmt.missing(r.get("hr")):
            return (fmt.hr(r["hr"], r["hr_lcl"], r["hr_ucl"]) if not fmt.missing(r.get("hr_lcl"))
                    else f"{fmt.number(r['hr'], 2)} (limits not reported)")
        no_own = r.get("hr_limits") == "not applicable" or (fmt.missing(r.get("hr_limits")) and r.get("arm") != "experimental")
        return fmt.DASH if no_own else "not reported"

    def other(r) -> str:
        parts = []
        if not fmt.missing(r.get("rate_pct")):
            parts.append(f"{fmt.text(r.get('rate_months'))}-month rate {fmt.number(r['rate_pct'], 1)}%")
        if not fmt.missing(r.get("orr_pct")):
            parts.append(f"ORR {fmt.number(r['orr_pct'], 1)}%")
        return "; ".join(parts) or fmt.DASH

    def lenalidomide(r) -> str:
        status = EVIDENCE_WORDS["len_status"].get(fmt.text(r.get("len_status")), labels.cell(r.get("len_status")))
        share = r.get("share_lenref_pct")
        if status != "refractory" and not fmt.missing(share):
            status += f", {fmt.number(share, 0)}% refractory"
        return status

    def lines(r) -> str:
        text = fmt.text(r.get("prior_lines"))
        return text.replace(">=", "≥").replace("-", "\u2013")

    def count(r) -> str:
        return "not reported" if fmt.missing(r.get("n")) else fmt.count(r["n"])

    def regimen(r) -> str:
        return fmt.text(r.get("regimen")) + (f" ({r['arm']})" if detail and isinstance(r.get("arm"), str) else "")

    def study(r) -> str:
        analysis = r.get("analysis") if detail and isinstance(r.get("analysis"), str) else ""
        return fmt.text(r.get("trial")) + (f", {analysis}" if analysis else "")

    spec = [("Study", study), ("Regimen", regimen)]
    if detail:
        spec += [("Population", lambda r: fmt.text(r.get("population"))), ("Lenalidomide", lenalidomide),
                 ("Prior lines", lines),
                 ("Analysis set", lambda r: EVIDENCE_WORDS["analysis_set"].get(fmt.text(r.get("analysis_set")),
                                                                              labels.cell(r.get("analysis_set"))))]
    else:
        spec += [("Population", lambda r: fmt.text(r.get("population")))]
    spec += [("Endpoint", lambda r: labels.endpoint(r.get("endpoint"))), ("n", count),
             ("Median, months (95% CI)", median)]
    spec += [("HR (95% CI)", hazard)]
    if detail and {"rate_pct", "orr_pct"} & set(frame.columns):
        spec += [("Other results", other)]
    if detail:
        spec += [("Source", lambda r: fmt.text(r.get("source_type")) + (
            f": {r['location']}" if isinstance(r.get("location"), str) and r["location"] else ""))]
    else:
        spec += [("Source", lambda r: fmt.text(r.get("source")))]
    frame, groups = _no_index(frame), None
    if detail and "population_type" in frame.columns:  # like with like: grouped as the forest plots group them
        order = {code: i for i, code in enumerate(trials.POPULATION_TYPES)}
        frame = frame.iloc[frame["population_type"].map(lambda c: order.get(c, len(order))).argsort(kind="stable")]
        groups = [trials.POPULATION_TYPES.get(fmt.text(c), labels.cell(c)) for c in frame["population_type"]]
    rows = [[make(r) for _, make in spec] for r in frame.to_dict("records")]
    notes = ["NR, not reached; not reported: the source gives no such number; "
             "\u2013: not applicable (a control arm has no hazard ratio of its own)."]
    if detail:
        notes.append("Rows are grouped as the forest plots group the populations. A median is shown with its "
                     "95% limits where the source gives them, alone where it gives none. Source: primary (the "
                     "study's own publication) or secondary (a text quoting it), and where in it the numbers "
                     "were read.")
    return DisplayTable([name for name, _ in spec], rows, groups=groups, footnotes=notes)


KINDS.update({"crosstab": crosstab, "checks": checks, "evidence": evidence, "grouped": grouped})

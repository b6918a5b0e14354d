"""The display layer on the tables of notebooks 06-08 and of the site's own pages (issue 19, part 1),
and the two seaborn figures those notebooks show (part 3).

Every table is read back as a browser gets it (:meth:`DisplayTable.html`) and checked with the site
test's own reader (``test_site_tables.offences``: no NaN, None, bare index or machine label), on the
canonical run's results, on frames with missing values drawn by hypothesis, and on the chapters of
a 15-patient cohort.
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters import comparison, reconciliation, toxicity
from compendium.chapters.base import Context
from compendium.report import audit, claims, display, formats, seaborn_figures, trials
from compendium.run import site

from chapter_cohorts import context as cohort_context
from test_site_tables import MACHINE, MISSING, offences

REGISTRY = claims.load_registry()
RESULTS = paths.Paths.for_run(None).results
FOLDER = Path(tempfile.mkdtemp(prefix="display-pages-"))


def clean(table: display.DisplayTable) -> display.DisplayTable:
    """The table as HTML has nothing a reader should not see; returned for further checks."""
    found = offences(table.html())
    assert found == [], f"{table.title or table.columns}: {found[:5]}"
    return table


def column(table: display.DisplayTable, name: str) -> list[str]:
    return [r[table.columns.index(name)] for r in table.rows]


# -- the kinds ----------------------------------------------------------------------------------

def test_counts_label_the_codes_and_print_integers():
    table = pd.read_csv(RESULTS / "claims.csv")
    crosstab = pd.crosstab(table["basis"], table["status"], margins=True, margins_name="all")
    shown = clean(display.table(crosstab, kind="crosstab"))
    assert len(shown) == len(crosstab)
    assert shown.columns[0] == "Basis" and shown.columns[-1] == "All"
    assert "Not reproducible" in shown.columns and "not_reproducible" not in shown.columns
    assert shown.rows[-1][0] == "All"
    assert all(re.fullmatch(r"\d+", cell) for row in shown.rows for cell in row[1:])
    # an index without a name (a value_counts) keeps its labels as the first column
    unnamed = pd.DataFrame({"n": table["status"].value_counts()}).rename_axis(None)
    shown = clean(display.table(unnamed, kind="crosstab"))
    assert {r[0] for r in shown.rows} == {formats.text(s).replace("_", " ").capitalize() for s in unnamed.index}


def test_the_audit_prints_the_paper_as_printed_and_the_implied_to_three_digits():
    report = pd.read_csv(RESULTS / "paper_audit.csv")
    shown = clean(display.table(report, kind="checks", registry=REGISTRY))
    assert len(shown) == len(report)
    assert "Consistent" in shown.columns, "a mix of passing and failing checks keeps the column"
    units = REGISTRY.set_index("claim_id")["unit"]
    for r, cells in zip(report.to_dict("records"), shown.rows):
        printed, implied = cells[shown.columns.index("Printed")], cells[shown.columns.index("Implied")]
        assert "e" not in implied and "nan" not in implied.lower()
        if units.get(r["claim_id"]) == "p" and r["printed"] < 0.001:
            assert printed == "<0.001"
    failing = report[~report["consistent"]]
    assert "Consistent" not in display.table(failing, kind="checks", registry=REGISTRY).columns


def test_the_evidence_says_not_reported_where_a_source_gives_nothing():
    ev = trials.load_evidence()
    for detail in (False, True):
        shown = clean(display.table(ev, kind="evidence", detail=detail))
        assert len(shown) == len(ev)
    shown = display.table(ev, kind="evidence")  # the export's form keeps the CSV's order
    medians, hrs = column(shown, "Median, months (95% CI)"), column(shown, "HR (95% CI)")
    for r, median, hr in zip(ev.to_dict("records"), medians, hrs):
        if r["median_not_reached"]:
            assert median.startswith("NR")
        elif pd.isna(r["median_months"]):
            assert median == "not reported"
        elif pd.isna(r["lcl"]):
            assert median == formats.months(r["median_months"]), "no limits: the median alone"
        elif pd.isna(r["ucl"]):
            assert median.endswith("\u2013NR)")
        if r["hr_limits"] == "not applicable":
            assert hr == formats.DASH
        elif pd.isna(r["hr"]):
            assert hr == "not reported"
    grouped = display.table(ev, kind="evidence", detail=True)
    runs = [g for i, g in enumerate(grouped.groups) if i == 0 or g != grouped.groups[i - 1]]
    assert len(runs) == len(set(runs)), "each population type is one block of rows"
    assert set(grouped.groups) <= set(trials.POPULATION_TYPES.values())


def _recorded() -> pd.DataFrame:
    return pd.DataFrame({"location": ["Results", "Table 2", "Results"], "quantity": ["a >= b", "HR", "Median PFS"],
                         "paper": [12.0, 0.26, 30.0], "compendium": [np.nan, 0.2649, np.nan],
                         "unit": ["n", "HR", "months"], "status": ["not_reproducible", "match", "match"],
                         "reason": ["no such column", "", ""]},
                        index=pd.Index(["R_x_n", "T2_x_hr", "R_pfs_median"], name="claim_id"))


def test_claims_name_the_claim_and_say_why_a_value_is_missing():
    frame = _recorded()
    inline = clean(display.table(frame, kind="claims", registry=REGISTRY))
    assert inline.columns == ["Where", "Quantity", "Paper", "This run", "Status"]
    assert inline.rows[0][3] == "not reproducible (no such column)" and inline.rows[0][4] == "not reproducible"
    assert inline.rows[0][1] == "a \u2265 b", "the registry's ASCII >= set as print sets it"
    assert inline.rows[2][3] == "not reached", "a median computed and not reached"
    shown = clean(display.table(frame, kind="claims", registry=REGISTRY, claim=True, ours="Source",
                                reasons="column"))
    assert shown.columns == ["Claim", "Where", "Quantity", "Paper", "Source", "Status", "Why there is no value"]
    assert column(shown, "Claim") == list(frame.index)
    assert column(shown, "Source")[0] == formats.DASH and column(shown, "Why there is no value") == ["no such column", "", ""]
    assert column(shown, "Source")[1] == "0.26"
    without = display.table(frame.drop(columns=["location", "status"]), kind="claims", registry=REGISTRY)
    assert without.columns == ["Quantity", "Paper", "This run"]


families = st.sampled_from(["printed", "implied", "printed_total", "denominator", "pct", "n_over_denominator_pct",
                            "target", "smd_before", "printed_pct", "patients", "checked", "published"])


@settings(max_examples=80, deadline=None)
@given(columns=st.lists(families, min_size=1, max_size=5, unique=True),
       values=st.lists(st.one_of(st.just(np.nan), st.just(None), st.floats(-1e4, 1e4), st.integers(0, 500)),
                       min_size=1, max_size=6))
def test_missing_values_never_print_as_nan_whatever_the_column(columns, values):
    frame = pd.DataFrame({c: pd.Series(values, dtype=object if None in values else None) for c in columns})
    shown = clean(display.table(frame))
    assert len(shown) == len(frame)
    assert all(not MACHINE.match(h) for h in shown.columns), shown.columns
    for cells, row in zip(shown.rows, frame.to_dict("records")):
        for c, cell in zip(columns, cells):
            if formats.missing(row[c]):
                assert cell == formats.DASH


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_computed_number_never_prints_in_exponent_form(value):
    text = display.significant(value)
    assert not MISSING.search(text) and "inf" not in text
    if math.isfinite(value) and abs(value) >= 0.001 and abs(value) < 1e15:
        assert "e" not in text
        assert float(text) == pytest.approx(value, rel=0.006, abs=0.5)


# -- the chapters' tables, as notebooks 06-08 show them ------------------------------------------

def toxicity_tables(ch: toxicity.ToxicityChapter) -> list[display.DisplayTable]:
    t6 = ch.recorded(ch.table6_claims())
    severe = ch.table("toxicity_grade3plus")
    summary = ch.recorded()
    return [toxicity.table6_table(ch.table("table6")),
            display.table(t6, kind="claims", reasons="column"),
            display.table(ch.paper_totals), display.table(ch.paper_percentages, drop=["consistent"]),
            display.table(severe[["label", "n", "pct"]], headers={"label": "Adverse event"}),
            display.table(ch.summary_table()), display.table(ch.facts["irr"]),
            display.table(ch.section("infusion reactions"), kind="claims", reasons="column"),
            display.table(ch.neuropathy()[["row_label", "n", "denominator", "pct"]]),
            display.table(ch.abstract_denominators),
            display.table(summary.groupby(["location", "status"]).size().unstack(fill_value=0), kind="crosstab")]


def reconciliation_tables(ch: reconciliation.ReconciliationChapter) -> list[display.DisplayTable]:
    return [display.table(ch.by_basis(), kind="crosstab"), display.table(ch.by_location(), kind="crosstab"),
            display.table(ch.by_source(), kind="crosstab"),
            display.table(ch.differences(), kind="claims", claim=True, extra=["note", "recorded in"]),
            display.table(ch.calibrated(), kind="claims", claim=True, extra=["tolerance"]),
            display.table(ch.not_reproducible(), keep_reason=True), display.table(ch.audit_summary()),
            display.table(ch.failed(audit.CONTRADICTION)[reconciliation.SHOWN], kind="checks", registry=REGISTRY),
            display.table(ch.recorded(), kind="claims", reasons="column")]


@pytest.fixture(scope="module")
def small() -> Context:
    return cohort_context(15, 3, FOLDER)


@pytest.mark.parametrize("which", ["canonical", "15 patients"])
def test_the_toxicity_tables_read_cleanly(which, small):
    ch = toxicity.compute(Context.for_run() if which == "canonical" else small)
    for table in toxicity_tables(ch):
        clean(table)
    t6 = toxicity.table6_table(ch.table("table6"))
    assert len(t6) == len(toxicity.table6_display(ch.table("table6")))
    assert {r[0] for r in t6.rows} >= {toxicity.ANY_GRADE, "G1"} and t6.groups[0] == "Anemia"
    assert len(display.table(ch.paper_totals)) == len(ch.paper_totals)


@pytest.mark.parametrize("which", ["canonical", "15 patients"])
def test_the_reconciliation_tables_read_cleanly(which, small):
    ch = reconciliation.compute(Context.for_run() if which == "canonical" else small)
    tables = reconciliation_tables(ch)
    for table in tables:
        clean(table)
    assert len(tables[3]) == len(ch.differences()) and tables[3].columns[0] == "Claim"
    by_source = tables[2]
    assert {r[0] for r in by_source.rows} <= {"Match", "Differs", "Not reproducible", "Not run"}


def test_the_comparison_tables_read_cleanly_on_a_small_cohort(small):
    ch = comparison.compute(small)
    for table in (display.table(ch.table("evidence"), kind="evidence", detail=True),
                  display.table(ch.table("not_found")),
                  display.table(ch.recorded(ch.literature_ids()), kind="claims", ours="Source", reasons="column"),
                  display.table(ch.maic_shown("maic_targets"), headers={"value": "Published value"}),
                  display.table(ch.maic_shown("maic_balance"), drop=["target_population"], keep_reason=True),
                  display.table(ch.table("comparator_curves")), display.table(ch.recorded(), kind="claims")):
        clean(table)
    covariates = column(display.table(ch.maic_shown("maic_balance")), "Factor")
    assert all("_" not in c for c in covariates), covariates


# -- the site's own pages -----------------------------------------------------------------------

def _cells(csv_path: Path) -> list[list[str]]:
    with csv_path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_the_site_pages_tables_are_display_tables(tmp_path):
    site.claims_page(RESULTS / "claims.csv", tmp_path, pages={"04_survival"}, anchors=set())
    site.audit_page(RESULTS / "paper_audit.csv", tmp_path)
    claims_csv = pd.read_csv(RESULTS / "claims.csv")
    written = sorted(tmp_path.glob("*.csv"))
    assert {p.stem for p in written} >= {"claims_match", "claims_differs", "audit_inconsistent"}
    for path in written:
        rows = _cells(path)
        for cell in (c for row in rows for c in row):
            assert not MISSING.search(cell) and not MACHINE.match(cell), f"{path.name}: {cell!r}"
        if path.stem.startswith("claims_"):
            status = path.stem.removeprefix("claims_")
            assert rows[0][0] == "Claim" and len(rows) - 1 == int((claims_csv["status"] == status).sum())
            assert not any(cell.startswith(">") for row in rows for cell in row), "Markdown would quote it"
    index = site.index_page("x", "y", RESULTS / "claims.csv", [])
    summary = index[index.index(":::{table}"):]
    assert "| Basis |" in summary and "Not reproducible" in summary and "not_reproducible" not in summary


# -- the figures beside the tables ----------------------------------------------------------------

def test_every_panel_of_the_reconciliation_figure_has_its_own_legend():
    table = pd.read_csv(RESULTS / "claims.csv")
    fig = seaborn_figures.paper_against_compendium(table, REGISTRY)
    panels = [ax for ax in fig.axes if ax.axison]
    quoted = table[(table["basis"] == "literature") & (table["published"] > 0) & (table["reproduced"] > 0)]
    assert len(panels) >= 2 and (panels[-1].get_ylabel() == "the source") == (len(quoted) > 0)
    for ax in panels:
        legend = ax.get_legend()
        assert legend is not None, ax.get_title()
        shown = {t.get_text() for t in legend.get_texts()} - {"agreement"}
        drawn = len(ax.collections[0].get_offsets())
        assert shown and drawn == int(re.search(r"n = (\d+)", ax.get_title()).group(1))
    assert "literature" not in {t.get_text() for ax in panels for t in ax.get_legend().get_texts()}, \
        "quotations are not this cohort's claims: they have a panel of their own, by unit"


def test_the_adverse_events_figure_ends_each_bar_in_its_count():
    t6 = pd.read_csv(RESULTS / "table6.csv")
    fig = seaborn_figures.adverse_events_by_grade(t6)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    anys = t6[t6["row"] == "any"].sort_values("n", ascending=False, kind="stable")
    assert labels == [f"{n} ({toxicity.format_n_pct(n, 100 * n / d).split(' (')[1][:-1]}%)"
                      for n, d in zip(anys["n"], anys["denominator"])], "rounded as Table 6 rounds"
    assert ax.get_xlim()[1] > anys["n"].max(), "the longest bar and its label fit inside the axes"
    assert ax.get_xlabel() == f"Patients (of {int(t6['denominator'].max())})"

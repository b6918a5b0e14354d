"""The display layer on the tables of notebooks 06-08 and of the site's own pages (issue 19, part 1).

Every table is read back as a browser gets it (:meth:`DisplayTable.html`) and checked with the site
test's own reader (``test_site_tables.offences``: no NaN, None, bare index or machine label), on the
canonical run's results and on frames with missing values drawn by hypothesis.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.data import spec as specs
from compendium.report import claims, display, formats, trials
from compendium.run import site

from test_site_tables import MACHINE, MISSING, offences

SPEC = specs.load()
REGISTRY = claims.load_registry()
RESULTS = paths.Paths.for_run(None).results


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
    shown = clean(display.table(crosstab, kind="counts"))
    assert len(shown) == len(crosstab)
    assert shown.columns[0] == "Basis" and shown.columns[-1] == "All"
    assert "Not reproducible" in shown.columns and "not_reproducible" not in shown.columns
    assert shown.rows[-1][0] == "All"
    assert all(re.fullmatch(r"\d+", cell) for row in shown.rows for cell in row[1:])
    # an index without a name (a value_counts) keeps its labels as the first column
    unnamed = pd.DataFrame({"n": table["status"].value_counts()}).rename_axis(None)
    shown = clean(display.table(unnamed, kind="counts"))
    assert {r[0] for r in shown.rows} == {formats.text(s).replace("_", " ").capitalize() for s in unnamed.index}


def test_the_audit_prints_the_paper_as_printed_and_the_implied_to_three_digits():
    report = pd.read_csv(RESULTS / "paper_audit.csv")
    shown = clean(display.table(report, kind="audit", registry=REGISTRY))
    assert len(shown) == len(report)
    assert "Consistent" in shown.columns, "a mix of passing and failing checks keeps the column"
    units = REGISTRY.set_index("claim_id")["unit"]
    for r, cells in zip(report.to_dict("records"), shown.rows):
        printed, implied = cells[shown.columns.index("Printed")], cells[shown.columns.index("Implied")]
        assert "e" not in implied and "nan" not in implied.lower()
        if units.get(r["claim_id"]) == "p" and r["printed"] < 0.001:
            assert printed == "<0.001"
    failing = report[~report["consistent"]]
    assert "Consistent" not in display.table(failing, kind="audit", registry=REGISTRY).columns


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

"""The presentation layer: every table a reader sees has words for codes, the paper's precision,
and never NaN, None, a bare index or a machine label (issue 19 part 1).

The rendered tables are read back as HTML (the executed notebooks' ``text/html`` outputs and
:meth:`DisplayTable.html`), the way a browser gets them.
"""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.data import spec as specs
from compendium.report import claims, display, formats, narrative, plots
from compendium.stats import estimable as ne
from compendium.stats import models

SPEC = specs.load()
RESULTS = paths.Paths.for_run(None).results
#: results written by notebooks 04 and 05 (the notebooks this layer is applied to)
RESULTS_04_05 = ("survival_km", "pfs2_readings", "cox_univariate", "survival_rates", "median_at_risk",
                 "competing_risks", "gray_tests", "durations_km", "factor_tests", "univariate_holm",
                 "cox_multivariable", "cox_sensitivity", "cox_zph", "events_per_parameter", "eligibility_landmark")
#: a machine label: a snake_case name (``vgpr_or_better``, ``T2_no_emd_p``) or ``column=value``
MACHINE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b|\b\w+=\w+")
#: a header that names a count
COUNT_HEADER = re.compile(r"^(n|N)\b|\b(events?|patients|number|at risk|censored|count|deaths|progressions)\b", re.I)
#: ... unless it names a ratio or a measurement of them
RATIO_HEADER = re.compile(r"\bper\b|rate|median|mean|%|months", re.I)
EMPTY_WORDS = {"nan", "NaN", "None", "<NA>", "NaT", "inf", "-inf"}


def cells_of(markup: str) -> list[list[str]]:
    """The text of every row's cells, header and body, as a browser would show them."""
    rows = []
    for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", markup, re.S):
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", row, re.S)])
    return rows


def problems(markup: str, analysis_columns=()) -> list[str]:
    """What a reader should never see in a table."""
    found = []
    rows = cells_of(markup)
    body = [r for r in re.findall(r"<tbody\b.*?</tbody>", markup, re.S)]
    body_rows = cells_of("".join(body))
    for cell in (c for r in rows for c in r):
        if cell in EMPTY_WORDS or re.search(r"\b(nan|NaN|None)\b", cell):
            found.append(f"empty value shown as {cell!r}")
        if MACHINE.search(cell) or cell in analysis_columns:
            found.append(f"machine label {cell!r}")
    # a count printed as a float: ".0" in a column whose header names a count (a median of 14.03 months
    # printed at its precision as "14.0" is not one)
    head = cells_of("".join(re.findall(r"<thead\b.*?</thead>", markup, re.S)))
    labels = head[-1] if head else []
    for j, label in enumerate(labels):
        if COUNT_HEADER.search(label) and not RATIO_HEADER.search(label):
            for r in body_rows:
                if j < len(r) and re.fullmatch(r"-?\d+\.0", r[j]):
                    found.append(f"a count printed as a float: {r[j]!r} under {label!r}")
    first = [r[0] for r in body_rows if r]
    if len(first) > 1 and first == [str(i) for i in range(len(first))]:
        found.append("a bare 0, 1, 2 index column")
    return found


# -- the formats ---------------------------------------------------------------------------------

@given(st.floats(min_value=0, max_value=1, allow_nan=False))
def test_p_is_printed_as_the_paper_prints_it(p):
    text = formats.p(p)
    assert re.fullmatch(r"<0\.001|[01]\.\d{3}", text)
    if text != "<0.001":
        assert abs(float(text) - p) <= 0.0005 + 1e-12 and p >= 0.001 - 1e-12
    # the three callers say the same thing, each in its own setting
    assert models.format_p(p) == text
    assert plots.format_p(p) == text.replace("<", "< ")
    assert narrative.p_value(p) == ("p < 0.001" if text == "<0.001" else f"p = {text}")


@given(st.floats(1e-3, 1e3), st.floats(0.01, 1), st.floats(1, 100))
def test_a_hazard_ratio_reads_back_as_its_numbers(hr, lo_factor, hi_factor):
    lcl, ucl = hr * lo_factor, hr * hi_factor
    text = formats.hr(hr, lcl, ucl)
    m = re.fullmatch(r"(\d+\.\d\d) \((\d+\.\d\d)\u2013(\d+\.\d\d)\)", text)
    assert m, text
    for shown, value in zip(m.groups(), (hr, lcl, ucl)):
        assert abs(float(shown) - value) <= 0.005 + 1e-9


@pytest.mark.parametrize("hr, lcl, ucl, reason, expected", [
    (np.nan, np.nan, np.nan, ne.NO_EVENTS, "not estimable (no events)"),
    (1e-9, 0.0, np.inf, "", "not estimable (monotone likelihood: one level has no events)"),
    (None, None, None, "", "not estimable (monotone likelihood: one level has no events)"),
])
def test_what_cannot_be_estimated_says_why(hr, lcl, ucl, reason, expected):
    assert formats.hr(hr, lcl, ucl, reason) == expected


@given(st.one_of(st.none(), st.just(np.nan), st.just(pd.NA), st.integers(0, 10_000).map(float)))
def test_counts_are_integers_and_missing_is_a_dash(value):
    text = formats.count(value)
    assert text == formats.DASH if formats.missing(value) else text == str(int(value))


def test_not_reached_is_nr():
    assert formats.median_ci(14.2, 9.8, np.nan) == "14.2 (9.8\u2013NR)"
    assert formats.months(None) == "NR"


# -- the tables ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", RESULTS_04_05)
def test_every_result_of_04_and_05_displays_without_codes_or_empties(name):
    frame = pd.read_csv(RESULTS / f"{name}.csv")
    shown = display.table(frame, SPEC)
    assert len(shown) == len(frame)
    markup = shown.html()
    assert problems(markup) == []
    assert markup == display.table(frame, SPEC).html(), "the same table must render to the same bytes"
    assert "http" not in markup, "a table must not load anything from the network"


def test_published_tables_beside_ours_in_the_papers_orientation():
    registry = claims.load_registry()
    uni = pd.read_csv(RESULTS / "cox_univariate.csv")
    table = SPEC.table("T2")
    shown = display.table(uni, SPEC, kind="paper", rows=table.rows, registry=registry, title=table.title)
    assert [r[0] for r in shown.rows] == [r.label for r in table.rows]
    assert shown.spanners == [("This run", [1, 2, 3]), ("Paper", [4, 5])]
    for row, cells in zip(table.rows, shown.rows):
        ours = models.oriented(uni, row)
        assert cells[1] == formats.hr(ours["hr"], ours["lcl"], ours["ucl"])
        assert cells[3] == f"{ours['n']} / {ours['events']}"
        # the paper's column is the registry's number, printed as the paper prints it
        published = registry.set_index("claim_id")["published"]
        assert cells[4] == formats.hr(*(published[f"{row.claim}_{k}"] for k in ("hr", "lcl", "ucl")))
    assert problems(shown.html()) == []


def test_km_table_has_one_row_per_curve_and_nr_for_not_reached():
    km = pd.read_csv(RESULTS / "survival_km.csv")
    shown = display.table(km, SPEC, kind="km")
    assert len(shown) == len(km.groupby(["endpoint", "group"]))
    unreached = km[km["median"].isna() & km["reason"].isna()]
    assert len(unreached) == 0 or any(r[4] == "NR" for r in shown.rows)
    assert {r[1] for r in shown.rows} >= {"All patients", "≥VGPR", "<VGPR"}


result_frames = st.builds(
    lambda n, hr, lo, p, reason, group: pd.DataFrame({
        "endpoint": ["pfs"] * n, "group": [group] * n, "covariate": ["emd_relapse"] * n, "level": ["1"] * n,
        "reference": ["0"] * n, "hr": hr[:n], "lcl": lo[:n], "ucl": [h * 3 if h == h else h for h in hr[:n]],
        "p": p[:n], "n": [float(k) for k in range(n)], "events": [np.nan] + [1.0] * (n - 1),
        "reason": reason[:n]}),
    st.integers(1, 4),
    st.lists(st.one_of(st.just(np.nan), st.floats(0.01, 50)), min_size=4, max_size=4),
    st.lists(st.one_of(st.just(np.nan), st.just(0.0), st.floats(0.001, 1)), min_size=4, max_size=4),
    st.lists(st.one_of(st.just(np.nan), st.floats(0, 1)), min_size=4, max_size=4),
    st.lists(st.sampled_from([np.nan, "", ne.NO_EVENTS, ne.ONE_LEVEL]), min_size=4, max_size=4),
    st.sampled_from(["all", "vgpr_or_better=1", "vgpr_or_better=0", "dex_dose_group=20"]))


@settings(max_examples=60, deadline=None)
@given(result_frames)
def test_any_mix_of_missing_values_and_reasons_displays_cleanly(frame):
    shown = display.table(frame, SPEC)
    assert problems(shown.html()) == []
    estimates = [r[shown.columns.index("HR (95% CI)")] for r in shown.rows]
    for cell, reason in zip(estimates, frame["reason"]):
        if isinstance(reason, str) and reason:
            assert cell == f"not estimable ({reason})"


def test_an_index_that_carries_information_becomes_a_column():
    frame = pd.DataFrame({"pfs": [0.25, 0.35], "os": [0.19, 0.22]},
                         index=pd.Index(["time_zero", "time_dependent"], name="model"))
    shown = display.table(frame, SPEC)
    assert shown.columns == ["Model", "PFS", "OS"]
    assert [r[0] for r in shown.rows] == ["from time zero", "time-dependent, first reached"]


def test_rows_must_match_the_header():
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        display.DisplayTable(["a", "b"], [["1"]])


# -- the rendered notebooks ----------------------------------------------------------------------

@pytest.mark.parametrize("stem", ["04_survival", "05_multivariable"])
def test_the_executed_notebooks_tables_read_cleanly(stem):
    """Every table of the committed executed notebook, as HTML: words, not codes or empties."""
    nb = json.loads((paths.NOTEBOOKS / f"{stem}.ipynb").read_text())
    columns = set(pd.read_csv(paths.ROOT / "data" / "derived" / "analysis.csv", nrows=0).columns)
    columns -= {"amp1q", "sex", "center", "isotype", "iss", "riss", "orr"}  # words readers use too
    tables = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            markup = "".join(output.get("data", {}).get("text/html", ""))
            if "<table" not in markup:
                continue
            tables += 1
            assert problems(markup, columns) == [], f"{stem}: {problems(markup, columns)[:3]}"
            assert 'class="dt-table"' in markup, f"{stem}: a table shown without the display layer"
    assert tables >= 10


def test_problems_finds_what_it_looks_for():
    """The checker itself: a pandas dump of a result has every fault the test looks for."""
    raw = pd.read_csv(RESULTS / "cox_univariate.csv").head(3).assign(n=lambda d: d.n.astype(float))
    raw.loc[0, "hr"] = math.nan
    found = " ".join(problems(raw.to_html()))
    assert "machine label" in found and "nan" in found.lower() and "index" in found and "float" in found

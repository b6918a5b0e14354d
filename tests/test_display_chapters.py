"""The display tables of notebooks 01-03 (issue 19 parts 1 and 3): every table they show is a
publication table of :mod:`compendium.report.display`, labelled, titled, with no NaN, None, bare index
or machine label, on the default cohort, on small drawn cohorts and on the degenerate mixes; and the
seaborn companion figure of Table 1 is one of the descriptives chapter's figures.

The tables are read back as HTML, as a browser (and ``tests/test_site_tables.py``) reads them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.chapters import cleaning, descriptives, response
from compendium.chapters.base import Context
from compendium.data import spec as specs
from compendium.report import display, formats, seaborn_figures

sys.path.insert(0, str(Path(__file__).parent))
import chapter_cohorts  # noqa: E402
from test_display import cells_of, problems  # noqa: E402
from test_site_tables import offences  # noqa: E402

SPEC = specs.load()
FOLDER = Path(tempfile.mkdtemp(prefix="display-chapters-"))
COHORTS = dict(deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
               suppress_health_check=[HealthCheck.too_slow])
MISSING = [np.nan, None, pd.NA]


def body(table: display.DisplayTable) -> list[str]:
    return [c for row in table.rows for c in row]


def clean(table: display.DisplayTable, strict: bool = True) -> list[str]:
    """What a reader should not see: the site's check, and (``strict``) the display tests' stricter one."""
    markup = table.html()
    # a percentage to one decimal may be whole (60.0): the count columns are checked where they are known;
    # a reason may name the column it is about ("nobody with cyto_risk_relapse known"), as the CSVs say it
    excused = ("count printed as a float", "'not reproducible (", "'not estimable (")
    found = offences(markup) + ([f for f in problems(markup) if not any(e in f for e in excused)] if strict else [])
    if not table.title:
        found.append("a table without a title")
    return found


# -- the layouts notebooks 01-03 added ------------------------------------------------------------

counted = st.builds(
    lambda levels, n, pct, group: pd.DataFrame({"item": group[:len(levels)] * 1, "level": levels,
                                                "n": n[:len(levels)], "pct": pct[:len(levels)]}),
    st.lists(st.sampled_from(["full", "80", "20", "1", "0", "NA", "still_on", "IV"]), min_size=1, max_size=4),
    st.lists(st.one_of(st.integers(0, 90).map(float), st.sampled_from(MISSING)), min_size=4, max_size=4),
    st.lists(st.one_of(st.floats(0, 100), st.sampled_from(MISSING)), min_size=4, max_size=4),
    st.lists(st.sampled_from(["dexamethasone start", "daratumumab route"]), min_size=4, max_size=4))


@settings(max_examples=25, deadline=None)
@given(counted)
def test_counts_print_integers_and_a_dash_for_what_is_missing(frame):
    shown = display.table(frame, SPEC, kind="counts", group="item",
                          of={"dexamethasone start": "dex_dose_group"}, title="Counts")
    assert shown.columns == ["Level", "n", "%"] and len(shown) == len(frame)
    assert clean(shown, strict=False) == []
    for row, n in zip(shown.rows, frame["n"]):
        assert row[1] == (formats.DASH if formats.missing(n) else str(int(n)))
    for row, (item, level) in zip(shown.rows, zip(frame["item"], frame["level"])):
        if item == "dexamethasone start" and level in dict(SPEC.factor("dex_dose_group").levels):
            assert row[0] == dict(SPEC.factor("dex_dose_group").levels)[level]  # "80" reads "80 mg/week"
    assert all(g[:1].isupper() for g in shown.groups)


def test_counts_over_a_denominator_add_its_column():
    frame = pd.DataFrame({"finding": ["high risk", "amp(1q)"], "n": [3, 0], "evaluable": [0, 0],
                          "pct_evaluable": [np.nan, np.nan]})
    shown = display.table(frame, kind="counts", level="finding", denominator="evaluable", pct="pct_evaluable")
    assert shown.columns == ["Finding", "n", "N", "%"]
    assert shown.rows == [["high risk", "3", "0", formats.DASH], ["amp(1q)", "0", "0", formats.DASH]]


rows_of_the_dataset = st.lists(st.fixed_dictionaries({
    "patient_id": st.sampled_from(["SYN001", "P-2"]), "age_years": st.one_of(st.integers(40, 90), st.none()),
    "vgpr_or_better": st.sampled_from([1, 0, None]), "dex_dose_group": st.sampled_from(["full", "80", None]),
    "pfs_months": st.one_of(st.floats(0, 80), st.none()), "pfs_event": st.sampled_from([1, 0, None])}),
    min_size=1, max_size=5)


@settings(max_examples=25, deadline=None)
@given(rows_of_the_dataset)
def test_rows_of_the_dataset_keep_their_codes_under_readers_headers(rows):
    columns = ["patient_id", "age_years", "vgpr_or_better", "dex_dose_group", "pfs_months", "pfs_event"]
    frame = pd.DataFrame(rows, columns=columns).astype({"age_years": "Int64", "vgpr_or_better": "Int64", "pfs_event": "Int64"})
    shown = display.table(frame, SPEC, kind="records", title="Rows")
    assert shown.columns == ["Patient", "Age (years)", "≥VGPR", "Dexamethasone dose group", "PFS (months)", "PFS event"]
    assert clean(shown, strict=False) == []
    for row, record in zip(shown.rows, rows):
        assert row[2] == (formats.DASH if record["vgpr_or_better"] is None else str(record["vgpr_or_better"]))
        months = record["pfs_months"]
        assert row[4] == (formats.DASH if months is None else formats.months(months))
    # the footnote names the columns as analysis.csv does, so that the codes the text speaks of can be found
    assert "vgpr_or_better" in shown.footnotes[0] and "pfs_months" in shown.footnotes[0]


def test_an_audit_names_quantities_not_claim_ids_and_prints_the_papers_numbers():
    registry = descriptives.audit_printed_percentages(Context.for_run().registry, "T1_")
    shown = display.table(registry, kind="audit", title="Audit")
    assert shown.columns == ["Quantity", "Printed n", "Printed %", "Denominator", "n / denominator (%)", "Consistent"]
    assert not any(cell.startswith("T1_") for cell in body(shown))
    assert {r[-1] for r in shown.rows} <= {"yes", "no"}
    assert all(r[1].isdigit() and r[3].isdigit() for r in shown.rows)  # counts as integers, never 31.0
    assert clean(shown) == []
    implied = descriptives.implied_denominator_table(Context.for_run().registry, [("A_btz_reduced_pct", "A_btz_reduced_n")])
    shown = display.table(implied, kind="audit", title="Implied")
    assert "count_claim" not in shown.columns and shown.columns[-1] == "Denominators that fit"
    assert clean(shown) == []


def test_a_tally_adds_up_and_says_not_reproducible_in_words():
    recorded = pd.DataFrame({"location": ["Results", "Results", "Abstract", "Table 1", "Results"],
                             "status": ["match", "not_reproducible", "differs", "match", "match"]})
    shown = display.table(recorded, kind="tally", title="Tally")
    assert shown.columns == ["Where", "Match", "Differs", "Not reproducible", "Claims"]
    assert [r[0] for r in shown.rows] == ["Results", "Abstract", "Table 1", "All"]
    for row in shown.rows:
        assert sum(map(int, row[1:-1])) == int(row[-1])
    assert [int(c) for c in shown.rows[-1][1:]] == [sum(int(r[i]) for r in shown.rows[:-1]) for i in range(1, 5)]
    assert clean(shown) == []


def test_a_median_with_its_quartiles_is_one_cell_and_a_table_without_rows_says_so():
    exposure = pd.DataFrame({"n": [3, 0], "median": [3.0226, np.nan], "q1": [1.9, np.nan], "q3": [5.55, np.nan]},
                            index=pd.Index(["cycles received", "treatment duration (months)"], name="quantity"))
    shown = display.table(exposure, title="Exposure")
    assert shown.columns == ["Quantity", "n", "Median [IQR]"]
    assert shown.rows == [["cycles received", "3", "3.0 [1.9–5.5]"], ["treatment duration (months)", "0", formats.DASH]]
    empty = display.table(exposure.iloc[0:0], title="Nothing", empty="None: every entry matches.")
    assert len(empty) == 0 and empty.footnotes[0] == "None: every entry matches."
    assert "None: every entry matches." in empty.html()


# -- every table of notebooks 01-03, as the notebooks build them ------------------------------------

def cleaning_tables(ch: cleaning.CleaningChapter) -> list[display.DisplayTable]:
    spec = ch.context.spec
    return [display.table(ch.shown["dictionary"], spec, title="Dictionary"),
            display.table(ch.shown["flow"], spec, keep_reason=True, title="Cohort flow"),
            display.table(ch.shown["endpoints"], spec, title="Endpoints"),
            display.table(ch.shown["sample"], spec, kind="records", title="Sample"),
            ch.claims_table(title="Claims")]


def descriptives_tables(ch: descriptives.DescriptivesChapter) -> list[display.DisplayTable]:
    t1_check = ch.recorded(ch.section("table1"))
    audit = ch.shown["table1_audit"]
    summary = ch.recorded()
    return [descriptives.table1_table(ch.table("table1")),
            display.table(t1_check, kind="tally", title="Tally"),
            ch.claims_table(t1_check.index[t1_check["status"] != "match"], title="Differ", empty="None."),
            display.table(audit[~audit["consistent"]], kind="audit", title="Audit", empty="None."),
            ch.claims_table(ch.section("text"), title="Text"),
            descriptives.cytogenetics_table(ch), ch.claims_table(ch.section("cytogenetics"), title="FISH"),
            *descriptives.first_line_tables(ch), ch.claims_table(ch.section("first_line"), title="First line"),
            ch.claims_table(ch.section("first_line_times"), title="Times"),
            display.table(summary, kind="tally", title="All"),
            ch.claims_table(summary.index[summary["status"] != "match"], title="Not matching", empty="None.")]


def response_tables(ch: response.ResponseChapter) -> list[display.DisplayTable]:
    spec = ch.context.spec
    labels = dict(spec.response.rates) if spec.response else {}
    out = [display.table(response.distribution_display(ch.table("response"), "all", labels), spec, title="Best"),
           display.table(response.evaluable_denominators(ch), kind="audit", title="Evaluable", empty="None."),
           response.associations_display(ch),
           display.table(ch.shown["exposure"], spec, title="Exposure"),
           display.table(ch.shown["discontinuation"], spec, kind="counts", level_header="Reason", title="Stop"),
           response.start_table(ch),
           display.table(ch.table("dara_doses_skipped"), spec, kind="counts", level_header="Doses", title="Skip"),
           display.table(response.denominators(ch), kind="audit", title="Denominators"),
           display.table(ch.recorded(), kind="tally", title="All")]
    return out + [ch.claims_table(ch.section(name), title=name) for name in response.SECTIONS]


def assert_readable(tables: list[display.DisplayTable], strict: bool = True) -> None:
    for table in tables:
        assert clean(table, strict) == [], f"{table.title}: {clean(table, strict)[:4]}"
        assert table.html() == table.html()


@pytest.fixture(scope="module")
def default_context():
    return Context.for_run()


def test_the_default_cohorts_tables_read_cleanly(default_context):
    source = cleaning.setup(FOLDER / "default", None, None)
    first = cleaning_tables(cleaning.compute(source))
    # the dictionary and the dataset's rows name the data file's columns, which are what they are about:
    # the site's check (a machine label is a cell that is one); every other table the stricter one
    assert_readable(first, strict=False)
    assert_readable(first[1:3] + first[4:])
    assert_readable(descriptives_tables(descriptives.compute(default_context)))
    assert_readable(response_tables(response.compute(default_context)))


def test_table1_is_the_papers_rows_and_the_exports_table(default_context):
    from compendium.report import export

    ch = descriptives.compute(default_context)
    shown = descriptives.table1_table(ch.table("table1"))
    printed = descriptives.table1_display(ch.table("table1"))
    assert len(shown) == len(printed) and shown.groups == list(printed["characteristic"])
    assert shown.title.startswith("Table 1")
    exported = export.table1(ch.table("table1"))
    assert exported.rows == shown.rows and exported.title == ""


def test_the_associations_table_names_predictors_and_tests_in_words(default_context):
    ch = response.compute(default_context)
    shown = response.associations_display(ch)
    predictors = {p.label[:1].upper() + p.label[1:] for p in SPEC.response.predictors}
    assert {r[0] for r in shown.rows} <= predictors
    primary = [r for r, g in zip(shown.rows, shown.groups) if g == "Primary tests"]
    assert len(primary) == len(SPEC.response.predictors)
    assert {r[1] for r in primary} <= set(response.TEST_NAMES.values())
    assert [label for label, _ in shown.spanners] == [f"Reaching {SPEC.response.rate_label('vgpr_or_better')}",
                                                     f"Below {SPEC.response.rate_label('vgpr_or_better')}"]
    paper = {r[-1] for r, g in zip(shown.rows, shown.groups) if g == "Primary tests"}
    assert "not reported" not in paper  # the paper gives all five primary p-values


@settings(max_examples=4, **COHORTS)
@given(n=st.integers(5, 20), seed=st.integers(0, 10_000))
def test_small_drawn_cohorts_show_no_nan(n, seed):
    ctx = chapter_cohorts.context(n, seed, FOLDER)
    assert_readable(descriptives_tables(descriptives.compute(ctx)))
    assert_readable(response_tables(response.compute(ctx)))


@settings(max_examples=6, **COHORTS)
@given(seed=st.integers(0, 10_000), mix=st.sampled_from(sorted(chapter_cohorts.MIXES)))
def test_degenerate_mixes_show_no_nan(seed, mix):
    ctx = chapter_cohorts.degenerate(chapter_cohorts.context(15, seed, FOLDER), mix)
    assert_readable(descriptives_tables(descriptives.compute(ctx)))
    assert_readable(response_tables(response.compute(ctx)))


# -- the companion figure of Table 1 --------------------------------------------------------------

def test_the_baseline_figure_is_a_chapter_figure_with_its_groups_and_their_sizes(default_context, tmp_path):
    import dataclasses

    ch = descriptives.compute(default_context)
    fig = ch.figures[descriptives.BASELINE_FIGURE]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["≥VGPR", "<VGPR"]
    assert legend.get_title().get_text() == "Best response"
    a = default_context.analysis
    columns = {title: column for column, title in seaborn_figures.BASELINE}
    assert len(fig.axes) == len(columns)
    for ax in fig.axes:  # under each box, the patients with that characteristic known in that group
        column = columns[ax.get_title()]
        sizes = [int(t.get_text().removeprefix("n = ")) for t in ax.get_xticklabels()]
        assert sizes == [int(((a["vgpr_or_better"] == v) & a[column].notna()).sum()) for v in (1, 0)]
    # saved as the chapter's other figures are, under the run's figures/
    run = dataclasses.replace(default_context, paths=paths.Paths.for_run(tmp_path))
    ch = descriptives.compute(run)
    ch.save()
    for suffix in (".png", ".svg"):
        assert run.paths.figure(descriptives.BASELINE_FIGURE).with_suffix(suffix).stat().st_size > 1000
    assert descriptives.baseline_sentence(ch).count("(n = ") == 2


def test_the_baseline_figure_shows_patients_not_evaluable_as_a_group_of_their_own(default_context):
    a = default_context.analysis.copy()
    a.loc[a.index[:4], "vgpr_or_better"] = pd.NA
    column, groups = descriptives.response_groups(SPEC)
    fig = seaborn_figures.baseline_distributions(a, column, groups)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["≥VGPR", "<VGPR", "not evaluable"]
    assert fig.axes[0].get_xticklabels()[2].get_text() == "n = 4"


# -- the executed notebooks -----------------------------------------------------------------------

@pytest.mark.parametrize("stem", ["01_cleaning", "02_descriptives", "03_response"])
def test_the_executed_notebooks_show_only_display_tables(stem):
    nb = json.loads((paths.NOTEBOOKS / f"{stem}.ipynb").read_text())
    tables = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            markup = "".join(output.get("data", {}).get("text/html", ""))
            if "<table" not in markup:
                continue
            tables += 1
            assert 'class="dt-table"' in markup, f"{stem}: a table shown without the display layer"
            assert offences(markup) == [], f"{stem}: {offences(markup)[:3]}"
            assert "<caption>" in markup, f"{stem}: a table without a title: {cells_of(markup)[:1]}"
    assert tables >= 5

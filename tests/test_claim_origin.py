"""Claims traced to their source: the notebook, cell and line of the ``.py`` that recorded each value.

The cell a kernel executes is found in the notebook's ``.py`` (compendium.report.origin); the
reference for cell numbers and sources is jupytext itself, which reads the ``.py`` independently of
the regular expression the compendium uses. In a real kernel (a tiny notebook run by the runner)
the recorded lines are checked against a plain text search of the ``.py``.
"""

from __future__ import annotations

import jupytext
import nbformat
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.data import spec as specs
from compendium.report import claims
from compendium.report import origin as trace
from compendium.run import runner

STATEMENTS = ["x = 1", "rec.record('a', x)", "for i in range(3):\n    y = i", "print(x)", "",
              "ch = chapter.compute(ctx)", "z = [1,\n     2]", "value = x * 2  # why"]


@st.composite
def notebooks(draw):
    """A notebook of 1-8 cells, markdown or code, code bodies drawn from a few statements (repeats
    and prefixes of other cells included: the first identical cell is the one reported)."""
    cells = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            lines = draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=5))
            if not any(line.strip() for line in lines):
                lines = ["x = 1"]
            cells.append(nbformat.v4.new_code_cell("\n".join(lines).strip("\n")))
        else:
            cells.append(nbformat.v4.new_markdown_cell(draw(st.sampled_from(["# Title", "Some *prose*.\n\nMore."]))))
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


@settings(max_examples=60, deadline=None)
@given(nb=notebooks(), data=st.data())
def test_a_cell_and_line_are_found_as_jupytext_reads_the_py(tmp_path_factory, nb, data):
    py = tmp_path_factory.mktemp("nb") / "05_x.py"
    py.write_text(jupytext.writes(nb, fmt="py:percent"))
    back = jupytext.read(py)
    code = [i for i, c in enumerate(back.cells) if c.cell_type == "code"]
    if not code:
        return
    index = data.draw(st.sampled_from(code))
    source = back.cells[index].source.splitlines()
    lineno = data.draw(st.integers(1, len(source)))
    found = trace.locate(py, source, lineno)
    assert found is not None
    cell, line = found
    assert back.cells[cell - 1].source == back.cells[index].source, "the cell found reads as the one executed"
    assert cell - 1 <= index
    assert py.read_text().splitlines()[line - 1] == source[lineno - 1]
    assert len(trace.cell_starts(py.read_text().splitlines())) == len(back.cells)


def test_a_transformed_cell_is_found_by_its_recording_line(tmp_path):
    py = tmp_path / "05_x.py"
    py.write_text("# %% [markdown]\n# Text\n\n# %%\n# %time x = 1\nrec.record('a', 1)\n")
    transformed = ["get_ipython().run_line_magic('time', 'x = 1')", "rec.record('a', 1)"]
    assert trace.locate(py, transformed, 2) == (2, 6)
    assert trace.locate(py, ["unrelated()"], 1) is None


def test_outside_a_kernel_a_value_has_no_cell():
    assert trace.here("04_survival") == trace.Origin("04_survival")


def test_the_compute_call_of_a_converted_notebook():
    where = trace.compute_call("04_survival")
    lines = (paths.NOTEBOOKS / "04_survival.py").read_text().splitlines()
    assert "survival.compute(ctx)" in lines[where.line - 1]
    assert where.cell == jupytext_cell_of(paths.NOTEBOOKS / "04_survival.py", lines[where.line - 1])


def jupytext_cell_of(py, text: str) -> int:
    cells = jupytext.read(py).cells
    return next(i for i, c in enumerate(cells, 1) if text in c.source.splitlines())


def test_a_specification_row_is_named_as_the_source_of_its_claims():
    spec = specs.load()
    table = next(t for t in spec.tables if t.rows and t.rows[0].claim)
    row = table.rows[0]
    assert trace.spec_source(spec, f"{row.claim}_hr") == f"paper.toml {table.id}: {row.covariate}={row.level}, hr"
    assert trace.spec_source(spec, f"{row.claim}_median") == ""
    assert trace.spec_source(spec, "M_patients_n") == ""


def test_reconcile_falls_back_to_the_registry_address_and_tolerates_old_files(tmp_path):
    run = paths.Paths(tmp_path)
    registry = pd.DataFrame({
        "claim_id": ["a", "b"], "location": ["Results"] * 2, "quantity": ["q"] * 2, "published": [1.0, 2.0],
        "unit": ["n"] * 2, "denominator": [85.0] * 2, "tolerance": [0.0] * 2, "basis": ["emergent"] * 2,
        "notebook": ["04_x"] * 2, "note": [""] * 2, "estimate": ["median(pfs)", ""]})
    run.claims_dir.mkdir(parents=True)
    # written before claims were traced: four columns only
    (run.claims_dir / "04_x.csv").write_text("claim_id,reproduced,reason,notebook\na,1,,04_x\n")
    out = claims.reconcile(run, synthetic=True, registry=registry).set_index("claim_id")
    assert out.loc["a", "source"] == "median(pfs)" and pd.isna(out.loc["a", "cell"])
    assert out.loc["b", "status"] == "not_reproducible" and out.loc["b", "notebook"] == "04_x"
    rec = claims.Recorder("04_x", run, registry)
    rec.record("a", 1.0, origin=trace.Origin("04_x", 3, 40), source="spec row")
    rec.save()
    out = claims.reconcile(run, synthetic=True, registry=registry).set_index("claim_id")
    assert (out.loc["a", "cell"], out.loc["a", "line"], out.loc["a", "source"]) == (3, 40, "spec row")
    assert claims.recorded_in(out.reset_index()).tolist() == ["04_x, cell 3 (line 40)", "04_x"]
    written = (run.claims_dir / "04_x.csv").read_text().splitlines()
    assert written == ["claim_id,reproduced,reason,notebook,cell,line,source", "a,1,,04_x,3,40,spec row"]


# ------------------------------------------------------------------ in a real kernel

TINY = '''# %% tags=["parameters"]
data_path = None
out_dir = None

# %%
import pandas as pd

from compendium import paths
from compendium.chapters import base
from compendium.data import spec as specs
from compendium.report import claims

P = paths.Paths.for_run(out_dir)
registry = claims.load_registry()
ids = list(registry["claim_id"][:6])
rec = claims.Recorder("00_tiny", P, registry)

# %% [markdown]
# A function defined here records when a later cell calls it.

# %%
def record_later(i):
    rec.record(ids[i], float(i))

# %%
%time x = 1
rec.record(ids[0], 0.0)
for i in (1,):
    rec.record(ids[i], 1.0)
record_later(2)

# %%
rec.not_reproducible(ids[3], "no reason")
rec.save()

# %%
class TinyChapter(base.Chapter):
    notebook = "00_tiny"


def compute(context):
    ch = TinyChapter(context)
    ch.record(ids[4], 4.0)
    ch.values[ids[5]] = 5.0
    return ch

# %%
context = base.Context(paths.Paths(P.out / "chapter"), pd.DataFrame(), {}, specs.load(), registry)

# %%
ch = compute(context)

# %%
ch.save()
'''


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "00_tiny.py").write_text(TINY)
    monkeypatch.setattr(paths, "NOTEBOOKS", folder)
    out = tmp_path / "run"
    runner.run(str(paths.SYNTHETIC_COHORT), str(out), only=["00"], progress=False)
    return folder / "00_tiny.py", out


def _expected(py, statement: str) -> tuple[int, int]:
    lines = py.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip() == statement)
    return jupytext_cell_of(py, lines[line - 1]), line


def test_in_a_kernel_each_value_names_the_cell_and_line_that_recorded_it(tiny):
    py, out = tiny
    ids = list(claims.load_registry()["claim_id"][:6])
    recorded = pd.read_csv(out / "results" / "claims" / "00_tiny.csv").set_index("claim_id")
    where = {i: (recorded.loc[i, "cell"], recorded.loc[i, "line"]) for i in ids[:4]}
    assert where[ids[0]] == _expected(py, "rec.record(ids[0], 0.0)"), "a cell with a magic in it"
    assert where[ids[1]] == _expected(py, "rec.record(ids[i], 1.0)"), "inside a loop"
    # a function from an earlier cell: the cell that called it recorded the value
    assert where[ids[2]] == _expected(py, "record_later(2)")
    assert where[ids[3]] == _expected(py, 'rec.not_reproducible(ids[3], "no reason")')
    chapter = pd.read_csv(out / "chapter" / "results" / "claims" / "00_tiny.csv").set_index("claim_id")
    # a chapter's claims come from the cell that called compute, not the one that saved them,
    # whether recorded through record() or filled in directly
    for claim_id in ids[4:6]:
        assert (chapter.loc[claim_id, "cell"], chapter.loc[claim_id, "line"]) == _expected(py, "ch = compute(context)")

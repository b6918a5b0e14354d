"""``python -m compendium export``: Word and LaTeX read back, deterministic, neutralised; the PDF builds."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from docx import Document

from compendium import paths
from compendium.report import display, export
from compendium.run import runner

RUN = paths.Paths.for_run(None)


@pytest.fixture(scope="module")
def tables():
    shown, missing = export.supplement(RUN)
    return shown, missing


def expected_rows(table: display.DisplayTable) -> int:
    """Spanner row, header row, a row per group and a row per body row."""
    groups = 0 if table.groups is None else sum(
        1 for i, g in enumerate(table.groups) if g and (i == 0 or table.groups[i - 1] != g))
    return bool(table.spanners) + 1 + groups + len(table.rows)


def test_the_supplement_has_every_table_of_the_paper_and_the_reconciliation(tables):
    shown, missing = tables
    captions = [t.caption for t in shown]
    for number in range(1, 7):
        assert any(c.startswith(f"Table {number}") for c in captions), f"Table {number} missing: {captions}"
    assert any("Reconciliation" in c for c in captions) and any("other studies" in c for c in captions)
    assert any("Sensitivity" in c for c in captions) and any("multivariable" in c for c in captions)
    assert missing == []
    for table in shown:
        assert not any("not estimable (no such estimate" in cell for row in table.rows[:3] for cell in row), \
            f"{table.caption}: the results were not matched to the specification's rows"


def test_word_reads_back_with_every_table_and_row(tmp_path, tables):
    out, _ = export.export(None, "docx", tmp_path / "s.docx")
    doc = Document(str(out))
    shown, _ = tables
    assert len(doc.tables) == len(shown)
    for grid, table in zip(doc.tables, shown):
        assert len(grid.rows) == expected_rows(table), table.caption
        header = [c.text for c in grid.rows[int(bool(table.spanners))].cells]
        assert header == table.columns
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions == [t.caption for t in shown]
    body = " ".join(c.text for g in doc.tables for r in g.rows for c in r.cells)
    assert not re.search(r"\bnan\b|\bNone\b|NaN", body)


def test_word_and_latex_are_identical_from_run_to_run(tmp_path):
    first, _ = export.export(None, "docx", tmp_path / "a.docx")
    second, _ = export.export(None, "docx", tmp_path / "b.docx")
    assert first.read_bytes() == second.read_bytes()
    assert b"2025-01-01T00:00:00Z" in _part(first, "docProps/core.xml")
    tex_a, _ = export.export(None, "latex", tmp_path / "a.tex")
    tex_b, _ = export.export(None, "latex", tmp_path / "b.tex")
    assert tex_a.read_text() == tex_b.read_text()


def _part(path, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as z:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        return z.read(name)


def test_a_cell_a_spreadsheet_would_execute_is_neutralised():
    table = display.DisplayTable(["Study", "HR"], [["=HYPERLINK(\"http://x\")", "-0.5"], ["+1+1", "@SUM(A1)"]],
                                 caption="Injection")
    doc = Document(io.BytesIO(export.to_docx([table], "t", "n")))
    cells = [c.text for r in doc.tables[0].rows[1:] for c in r.cells]
    assert cells == ["'=HYPERLINK(\"http://x\")", "-0.5", "'+1+1", "'@SUM(A1)"]


def test_latex_is_a_booktabs_document_with_every_caption(tmp_path, tables):
    out, _ = export.export(None, "latex", tmp_path / "s.tex")
    tex = out.read_text()
    shown, _ = tables
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\begin{longtable}") == tex.count(r"\end{longtable}") == len(shown)
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) >= len(shown)
    for table in shown:
        assert rf"\caption{{{export.latex_escape(table.caption)}}}" in tex
    assert all(ord(ch) < 256 for ch in tex), "pdflatex needs every symbol as a command"
    body = re.sub(r"\\[a-zA-Z]+|\\.", "", tex)
    assert body.count("{") == body.count("}")
    if shutil.which("pdflatex"):
        for _ in range(2):  # longtable settles its column widths on the second pass
            done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", out.name],
                                  cwd=tmp_path, capture_output=True, text=True, errors="replace")
            assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("text, expected", [("≥VGPR 0.26 (0.15–0.46)", r"\ensuremath{\geq}VGPR 0.26 (0.15--0.46)"),
                                            ("50% & $5_x", r"50\% \& \$5\_x"), ("χ²", r"\ensuremath{\chi}\textsuperscript{2}")])
def test_latex_escape(text, expected):
    assert export.latex_escape(text) == expected


def test_the_command_names_what_a_partial_run_cannot_give(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "results").mkdir(parents=True)
    (run / "data" / "derived").mkdir(parents=True)
    shutil.copy(RUN.analysis_meta, run / "data" / "derived" / "analysis.meta.json")
    shutil.copy(RUN.result("cox_univariate.csv"), run / "results" / "cox_univariate.csv")
    assert runner.main(["export", "--run", str(run), "--to", "docx"]) == 0
    err = capsys.readouterr().err
    assert "not exported: Table 1" in err and "table1.csv" in err
    doc = Document(str(run / "export" / "supplement.docx"))
    assert len(doc.tables) == 4  # Tables 2-3, the Results text's row, the evidence table
    assert runner.main(["export", "--run", str(tmp_path / "nowhere"), "--to", "latex"]) == 2


@pytest.mark.pdf
def test_the_whole_supplement_prints_to_pdf_with_its_captions(tmp_path):
    out, _ = export.export(None, "pdf", tmp_path / "supplement.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    # WeasyPrint writes compressed object streams, where "/Type /Page" is not plain text: ask poppler
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    else:
        pages = max([int(n) for n in re.findall(rb"/Count\s+(\d+)", data)] or [0])
    assert pages > 0
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
        for caption in ("Univariate Cox models for PFS", "Multivariable Cox model for OS", "Figure"):
            assert caption in text, caption
        assert "nan" not in re.findall(r"\b\w+\b", text)

"""The supplement's tables as Word and LaTeX: ``python -m compendium export [--run DIR] --to docx|latex|pdf``.

From a run's ``results/*.csv`` (and the evidence table, an input), through the display layer
(:mod:`compendium.report.display`, the same tables the notebooks show), in the paper's order:
Tables 1-6 (each captioned as the paper captions it: the specification's table titles, the
registry's location for Tables 1 and 6), every multivariable and response-timing model, the
sensitivity analyses, the other studies' evidence and the reconciliation of every claim.

- Word (python-docx): three-line tables as journals print them, a caption above each; the file is
  byte-identical from run to run (core properties fixed, zip entries dated 1980-01-01).
- LaTeX (booktabs, longtable): a complete document that ``pdflatex`` compiles, every character
  outside Latin-1 written as a LaTeX command, so no package beyond TeX Live's recommended set is
  needed; ``\\input`` the file or copy a table out of it.
- PDF: the whole supplement (:mod:`compendium.report.pdf`).

A text cell that a spreadsheet would execute (``=``, ``+``, ``-``, ``@``, a tab or a carriage
return first, and not a plain number) is written with a leading quote, as OWASP's guidance on CSV
injection asks of every spreadsheet-readable file (a Word table pasted into Excel is one).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from compendium import paths
from compendium.data import spec as specs
from compendium.report import display, formats

FORMATS = {"docx": ".docx", "latex": ".tex", "pdf": ".pdf"}
#: Tables 1 and 6 come from notebooks 02 and 06, outside the specification: the paper's captions
#: (its words; their numbers are the registry's ``location``)
PAPER_CAPTIONS = {"Table 1": "Baseline characteristics", "Table 6": "Toxicity"}
#: a fixed date for the document's metadata, so that the bytes do not depend on the day
FIXED_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)

try:  # the compendium's one neutraliser, where it exists (issue 19 part 8)
    from compendium.report.cells import neutralise
except ImportError:  # pragma: no cover - until compendium/report/cells.py is merged
    _NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

    def neutralise(value):
        """Text a spreadsheet would read as a formula gets a leading quote (a plain number does not)."""
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
            return "'" + value
        return value


class ExportError(ValueError):
    """Nothing to export from this run (the message says what is missing and how to make it)."""


# -- the tables ---------------------------------------------------------------------------------

def _read(run_paths: paths.Paths, name: str) -> pd.DataFrame | None:
    path = run_paths.result(f"{name}.csv")
    # levels are codes ("1", "20", "full"): read as text, as the results were written
    return pd.read_csv(path, dtype={"level": str, "reference": str}) if path.exists() else None


def supplement(run_paths: paths.Paths, spec: specs.Spec | None = None) -> tuple[list[display.DisplayTable], list[str]]:
    """Every table of the supplement this run can give, captioned, and what it could not give (and why)."""
    from compendium.report import claims

    spec = spec or specs.load()
    registry = claims.load_registry()
    out, missing = [], []

    def add(table: display.DisplayTable | None, caption: str, source: str) -> None:
        if table is None:
            missing.append(f"{caption}: {source} is not in this run's results (run the notebook that writes it)")
        else:
            out.append(replace(table, title="", caption=caption))

    t1 = _read(run_paths, "table1")
    add(None if t1 is None else table1(t1), f"Table 1 {PAPER_CAPTIONS['Table 1']}", "table1.csv")
    univariate, multivariable = _read(run_paths, "cox_univariate"), _read(run_paths, "cox_multivariable")
    for t in spec.tables:
        results = univariate if t.source == "univariate" else (
            None if multivariable is None else multivariable[multivariable["model"] == t.source])
        source = "cox_univariate.csv" if t.source == "univariate" else "cox_multivariable.csv"
        add(None if results is None else display.table(results, spec, kind="paper", rows=t.rows, registry=registry),
            t.title, source)
    t6 = _read(run_paths, "table6")
    add(None if t6 is None else table6(t6), f"Table 6 {PAPER_CAPTIONS['Table 6']}", "table6.csv")
    add(None if multivariable is None else display.table(multivariable, spec),
        "Supplementary table · Every multivariable and response-timing Cox model of this run", "cox_multivariable.csv")
    sensitivity = _read(run_paths, "cox_sensitivity")
    add(None if sensitivity is None else display.table(sensitivity, spec),
        "Supplementary table · Sensitivity analyses of the multivariable model", "cox_sensitivity.csv")
    add(evidence(pd.read_csv(paths.DATA / "external" / "evidence.csv")),
        "Supplementary table · Published results of the other studies (data/external/evidence.csv)", "evidence.csv")
    reconciliation = _read(run_paths, "claims")
    add(None if reconciliation is None else display.table(reconciliation, kind="claims", registry=registry),
        "Supplementary table · Reconciliation: every number of the paper beside this run's", "claims.csv")
    if not out:
        raise ExportError(f"{paths.relative(run_paths.results)}: no result to export; write them with "
                          "`python -m compendium run` (or `run --out DIR`, then `export --run DIR`)")
    return out, missing


def table1(t1: pd.DataFrame) -> display.DisplayTable:
    """Table 1 as the paper prints it: ``Number (%)``, with the share of the evaluable beside it."""
    from compendium.chapters import descriptives

    return descriptives.table1_table(t1, title="")  # the one Table 1 of notebook 02 and the exports


def table6(t6: pd.DataFrame) -> display.DisplayTable:
    """Table 6 as the paper prints it: each event, then its grades, ``Number (%)`` (as notebook 06 shows it)."""
    from compendium.chapters import toxicity

    return toxicity.table6_table(t6)


def evidence(ev: pd.DataFrame) -> display.DisplayTable:
    """The other studies' results: what each reported, "not reported" where it gave nothing."""
    return display.table(ev, kind="evidence")


# -- Word ---------------------------------------------------------------------------------------

def to_docx(tables: list[display.DisplayTable], title: str, note: str) -> bytes:
    """A Word document of the tables, three-line style, byte-identical for the same tables."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(9)
    core = doc.core_properties
    core.title, core.author, core.last_modified_by, core.revision = title, "daravd-compendium", "daravd-compendium", 1
    core.created = core.modified = core.last_printed = FIXED_DATE.replace(tzinfo=None)
    doc.add_heading(title, level=1)
    doc.add_paragraph(note)
    for table in tables:
        doc.add_paragraph(table.caption, style="Caption")
        _docx_table(doc, table)
        for footnote in table.footnotes:
            doc.add_paragraph(footnote).runs[0].font.size = Pt(7.5)
    buffer = io.BytesIO()
    doc.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _docx_rows(table: display.DisplayTable):
    """(cells, kind) for every row of the Word table: spanners, header, then groups and members."""
    n = len(table.columns)
    if table.spanners:
        top = [""] * n
        for label, positions in table.spanners:
            for i in positions:
                top[i] = label
        yield top, "spanner"
    yield table.columns, "header"
    last = object()
    for group, row in zip(table.groups or [None] * len(table.rows), table.rows):
        if group is not None and group != last and group:
            yield [group] + [""] * (n - 1), "group"
        last = group
        yield row, "member" if group else "body"


def _docx_table(doc, table: display.DisplayTable) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    rows = list(_docx_rows(table))
    grid = doc.add_table(rows=len(rows), cols=len(table.columns))
    aligns = table.alignment()
    # row by row: python-docx's table.cell(r, c) rebuilds the whole grid on every call
    for (cells, kind), grid_row in zip(rows, grid.rows):
        grid_cells = grid_row.cells
        for c, text in enumerate(cells):
            paragraph = grid_cells[c].paragraphs[0]
            run = paragraph.add_run(neutralise(text) if text else "")
            run.italic = kind == "group"
            paragraph.alignment = (WD_ALIGN_PARAGRAPH.CENTER if kind == "spanner" else
                                   WD_ALIGN_PARAGRAPH.RIGHT if aligns[c] == "right" else WD_ALIGN_PARAGRAPH.LEFT)
        if kind == "spanner":  # one merged cell per spanner, as the HTML's colspan
            for _, positions in table.spanners:
                if len(positions) > 1:
                    merged = grid_cells[positions[0]].merge(grid_cells[positions[-1]])
                    for extra in merged.paragraphs[1:]:
                        extra._element.getparent().remove(extra._element)
        elif kind == "group":
            merged = grid_cells[0].merge(grid_cells[-1])
            for extra in merged.paragraphs[1:]:
                extra._element.getparent().remove(extra._element)
    header_last = sum(1 for _, kind in rows if kind in ("spanner", "header")) - 1
    _three_lines(grid, header_last)


def _three_lines(grid, header_last: int) -> None:
    """A rule above the table, one under the header, one below the table: booktabs' three lines."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def border(cell, side: str, size: int) -> None:
        props = cell._tc.get_or_add_tcPr()
        borders = props.find(qn("w:tcBorders"))
        if borders is None:
            borders = OxmlElement("w:tcBorders")
            props.append(borders)
        edge = OxmlElement(f"w:{side}")
        for key, value in (("val", "single"), ("sz", str(size)), ("space", "0"), ("color", "000000")):
            edge.set(qn(f"w:{key}"), value)
        borders.append(edge)

    rows = grid.rows
    for cell in rows[0].cells:
        border(cell, "top", 12)
    for cell in rows[header_last].cells:
        border(cell, "bottom", 6)
    for cell in rows[len(rows) - 1].cells:
        border(cell, "bottom", 12)


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry dated 1980-01-01, so that the bytes do not depend on the clock."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            out.writestr(info, source.read(item.filename))
    return target.getvalue()


# -- LaTeX --------------------------------------------------------------------------------------

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
_LATEX_UNICODE = {"≥": r"\ensuremath{\geq}", "≤": r"\ensuremath{\leq}", "\u2013": "--", "\u2014": "---",
                  "\u2212": r"\ensuremath{-}", "×": r"\ensuremath{\times}", "χ": r"\ensuremath{\chi}",
                  "²": r"\textsuperscript{2}", "β": r"\ensuremath{\beta}", "·": r"\textperiodcentered{}",
                  "µ": r"\ensuremath{\mu}", "μ": r"\ensuremath{\mu}", "α": r"\ensuremath{\alpha}",
                  "\u2019": "'", "\u2018": "`", "\u201c": "``", "\u201d": "''", "…": r"\ldots{}",
                  "±": r"\ensuremath{\pm}", "\u00a0": "~", "κ": r"\ensuremath{\kappa}", "λ": r"\ensuremath{\lambda}"}


def latex_escape(text: str) -> str:
    """Text as LaTeX source: specials escaped, symbols as commands, Latin-1 letters kept (T1 fonts)."""
    out = []
    for ch in str(text):
        if ch in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[ch])
        elif ch in _LATEX_UNICODE:
            out.append(_LATEX_UNICODE[ch])
        elif ord(ch) < 256:
            out.append(ch)
        else:  # nothing outside Latin-1 reaches pdflatex raw: it would stop the build
            out.append(f"[{unicodedata.name(ch, 'U+%04X' % ord(ch)).lower()}]")
    return "".join(out)


LATEX_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{tgtermes}
\usepackage[margin=2cm]{geometry}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{array}
\usepackage{pdflscape}
\usepackage[font=small,labelformat=empty,skip=4pt]{caption}
\setlength{\LTcapwidth}{\linewidth}
"""


def _column_spec(table: display.DisplayTable, width_cm: float) -> str:
    """``l``/``r`` for short columns, a paragraph column for long text, shrunk only to fit the page."""
    lengths = [max([len(table.columns[i])] + [len(r[i]) for r in table.rows]) for i in range(len(table.columns))]
    aligns = table.alignment()
    cm_per_char = 0.16  # \small text
    wide = [i for i, n in enumerate(lengths) if n > 30]
    narrow_cm = sum(n * cm_per_char + 0.4 for i, n in enumerate(lengths) if i not in wide)
    wanted = {i: min(lengths[i], 70) * cm_per_char for i in wide}
    room = max(width_cm - narrow_cm - 0.4 * len(wide), 1.5 * len(wide))
    scale = min(1.0, room / sum(wanted.values())) if wanted else 1.0
    return "".join(f"p{{{max(wanted[i] * scale, 1.5):.2f}cm}}" if i in wide else ("r" if aligns[i] == "right" else "l")
                   for i in range(len(lengths)))


def latex_table(table: display.DisplayTable, label: str) -> str:
    """One table as a booktabs longtable (captioned, spanners ruled, groups as italic rows, notes below)."""
    n = len(table.columns)
    landscape = n > 7
    colspec = _column_spec(table, 24.0 if landscape else 16.5)
    head = []
    if table.spanners:
        cells, rules, i = [], [], 0
        spans = {positions[0]: (label_, positions) for label_, positions in table.spanners}
        while i < n:
            if i in spans:
                text, positions = spans[i]
                cells.append(rf"\multicolumn{{{len(positions)}}}{{c}}{{{latex_escape(text)}}}")
                rules.append(rf"\cmidrule(lr){{{positions[0] + 1}-{positions[-1] + 1}}}")
                i += len(positions)
            else:
                cells.append("")
                i += 1
        head += [" & ".join(cells) + r" \\", " ".join(rules)]
    head.append(" & ".join(latex_escape(c) for c in table.columns) + r" \\")
    lines = [r"\begin{landscape}" if landscape else "", r"{\small", rf"\begin{{longtable}}{{{colspec}}}",
             rf"\caption{{{latex_escape(table.caption or table.title)}}}\label{{{label}}}\\", r"\toprule",
             *head, r"\midrule", r"\endfirsthead",
             rf"\multicolumn{{{n}}}{{l}}{{\footnotesize\itshape {latex_escape(table.caption or table.title)} (continued)}}\\",
             r"\toprule", *head, r"\midrule", r"\endhead", r"\bottomrule"]
    for note in table.footnotes:
        lines.append(rf"\multicolumn{{{n}}}{{p{{{'22' if landscape else '16'}cm}}}}{{\footnotesize {latex_escape(note)}}}\\")
    lines.append(r"\endlastfoot")
    last = object()
    for group, row in zip(table.groups or [None] * len(table.rows), table.rows):
        if group is not None and group != last and group:
            lines.append(rf"\multicolumn{{{n}}}{{l}}{{\textit{{{latex_escape(group)}}}}}\\")
        last = group
        cells = [latex_escape(c) for c in row]
        if group:
            cells[0] = r"\quad " + cells[0]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\end{longtable}", "}", r"\end{landscape}" if landscape else ""]
    return "\n".join(line for line in lines if line != "") + "\n"


def to_latex(tables: list[display.DisplayTable], title: str, note: str) -> str:
    body = "\n".join(latex_table(t, f"tab:{k + 1}") for k, t in enumerate(tables))
    return (LATEX_PREAMBLE + rf"\title{{{latex_escape(title)}}}" + "\n\\date{}\n\\begin{document}\n\\maketitle\n"
            + latex_escape(note) + "\n\n" + body + "\\end{document}\n")


# -- the command --------------------------------------------------------------------------------

def export(run: str | Path | None = None, to: str = "docx", out: str | Path | None = None,
           spec_path: str | Path | None = None) -> tuple[Path, list[str]]:
    """Write the supplement's tables of a run (default: the canonical one); returns the file and
    the tables the run could not give."""
    if to not in FORMATS:
        raise ExportError(f"--to {to}: expected one of {', '.join(FORMATS)}")
    if run is not None and not Path(run).is_dir():
        raise FileNotFoundError(f"--run {run}: no such folder (write one with `run --out {run}`)")
    run_paths = paths.Paths.for_run(run)
    if out is None:
        folder = paths.ROOT / "_export" if run_paths.out == paths.ROOT else run_paths.out / "export"
        out = folder / f"supplement{FORMATS[to]}"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from compendium.data import dataset

    title = "Supplementary tables: Rizzello et al. 2025 reproduced"
    note = (f"Computed on {dataset.provenance_label(dataset.read_meta(run_paths))} by daravd-compendium; "
            "every number is this run's, the paper's beside it where the paper prints one.")
    if to == "pdf":
        from compendium.report import pdf
        return pdf.build(run_paths, out), []
    tables, missing = supplement(run_paths, specs.load(spec_path))
    if to == "docx":
        out.write_bytes(to_docx(tables, title, note))
    else:
        paths.atomic_write_text(out, to_latex(tables, title, note))
    return out, missing

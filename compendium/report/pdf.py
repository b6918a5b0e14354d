"""The whole supplement as one PDF, built offline: ``python -m compendium export --to pdf [--run DIR]``.

The site's pages (the executed notebooks, the reconciliation, the audit, the references; staged by
:func:`compendium.run.site.stage`, nothing executed) are built by Sphinx as one HTML page
(``singlehtml``, the plain ``basic`` theme) and printed to PDF by WeasyPrint with a print stylesheet
that drops the code cells, so the PDF shows what the site shows: prose, tables, figures.

Measured for issue 19 on this 2-core machine (loaded by other sessions, so every time is long):

- Sphinx's LaTeX builder with Debian's TeX (texlive-latex-recommended, -latex-extra,
  -fonts-recommended, latexmk, tex-gyre): 235 s to install, 535 MB on disk; 192 s to build, and
  then pdflatex stops at the first ``≥`` (an engine with Unicode, xelatex, is another package), and
  MyST-NB gives the LaTeX builder no ``text/html`` output, so every table of the notebooks is missing;
- rinohtype (PyPI, pure Python): the same loss of every HTML table (it renders docutils nodes only),
  and still typesetting page 38 after 10 minutes;
- WeasyPrint (PyPI; Debian's pango, which Chromium, the site test's browser, already installs):
  31 s for the single page and 10 min for its 234 pages under a load of 10 on 2 cores; nothing
  is lost, tables and figures print as on the site, and nothing is fetched from the network.

WeasyPrint is the choice: the only one of the three whose PDF has the tables in it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from compendium import paths

#: what the printed supplement leaves out (code, the theme's navigation) and how its pages look
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: counter(page); font-size: 8pt; color: #555; } }
html { font-family: "DejaVu Serif", serif; font-size: 9.5pt; }
div.cell_input, details.above-input, details.hide, .sphinxsidebar, div.related, .headerlink,
div.footer, form, #searchbox, .toggle-details, button { display: none !important; }
div.body { max-width: none; }
img { max-width: 100%; height: auto; }
div.dt-table, figure, table { break-inside: avoid-page; }
div.dt-table table { font-size: 8pt; }
pre { white-space: pre-wrap; font-size: 7.5pt; }
h1 { break-before: page; font-size: 16pt; }
"""


class PdfError(ValueError):
    """The PDF could not be built (the message says which step and what it printed)."""


def build(run_paths: paths.Paths, out: Path) -> Path:
    """Stage the run's site, build it as one page, print it to ``out``; returns ``out``."""
    from compendium.run import site

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="daravd-pdf-") as tmp:
        source, html = Path(tmp) / "source", Path(tmp) / "html"
        site.stage(run_paths, source)
        # the book theme's options mean nothing to the basic theme: they are dropped, not errors
        with open(source / "conf.py", "a", encoding="utf-8") as conf:
            conf.write('\nhtml_theme = "basic"\nhtml_theme_options = {}\nhtml_favicon = None\n')
        _step("Sphinx (singlehtml)", [sys.executable, "-m", "sphinx", "-b", "singlehtml", "-q", "-j", "1",
                                      "-d", str(Path(tmp) / "doctrees"), str(source), str(html)])
        css = Path(tmp) / "print.css"
        css.write_text(PRINT_CSS, encoding="utf-8")
        staged = Path(tmp) / "supplement.pdf"
        _step("WeasyPrint", [sys.executable, "-m", "weasyprint", "--quiet", "-s", str(css),
                             str(html / "index.html"), str(staged)])
        staged.replace(out) if staged.stat().st_dev == out.parent.stat().st_dev else out.write_bytes(staged.read_bytes())
    return out


def _step(name: str, command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PdfError(f"the PDF did not build: {name} failed:\n{tail}")

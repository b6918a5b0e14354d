"""A static site of the executed notebooks: ``python -m compendium site [--out DIR]``.

Each committed executed notebook becomes one HTML page (nbconvert's lab template,
figures embedded), with an index that lists the notebooks by their titles and
the status of the claims. Nothing is executed: the site shows exactly the
outputs that CI checks with nbval.
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import HTMLExporter

from . import paths

DEFAULT_OUT = paths.ROOT / "_site"


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def build(out: Path | None = None, run_paths: paths.Paths | None = None) -> Path:
    """Write the site; returns the index page."""
    out = Path(out) if out else DEFAULT_OUT
    run_paths = run_paths or paths.Paths.for_run()
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    entries = []
    for ipynb in sorted(run_paths.notebooks.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(ipynb, as_version=4)
        body, _ = exporter.from_notebook_node(nb)
        page = out / f"{ipynb.stem}.html"
        paths.atomic_write_text(page, body)
        entries.append((page.name, _title(nb, ipynb.stem)))
    claims_csv = run_paths.result("claims.csv")
    summary = ""
    if claims_csv.exists():
        table = pd.read_csv(claims_csv, keep_default_na=False)
        summary = pd.crosstab(table["basis"], table["status"], margins=True, margins_name="all").to_html()
    items = "\n".join(f'<li><a href="{href}">{html.escape(title)}</a></li>' for href, title in entries)
    index = (
        "<!doctype html><html><head><meta charset='utf-8'><title>DaraVd compendium</title>"
        "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}</style></head><body>"
        "<h1>DaraVd compendium</h1>"
        "<p>Executable supplement to Rizzello et al., Ann Hematol 2025: second-line daratumumab-bortezomib-"
        "dexamethasone in lenalidomide-refractory multiple myeloma. Unless a page says otherwise, the outputs "
        "were computed on the <strong>synthetic cohort</strong>, not on patient data.</p>"
        f"<h2>Notebooks</h2><ol>{items}</ol><h2>Claims of the paper, by basis and status</h2>{summary}"
        "</body></html>\n")
    index_path = out / "index.html"
    paths.atomic_write_text(index_path, index)
    return index_path

"""The rendered site of a run: ``python -m compendium site [--run DIR] [--out DIR]``.

The site is built with Sphinx, MyST-NB and the sphinx-book-theme (the Python engine of the
Jupyter Book project), because all three install from PyPI and build offline with every asset
local; the MyST CLI (Jupyter Book 2) downloads its theme from the web at build time, and
Quarto's PyPI package downloads its binary at install.

The configuration lives in ``site/`` (committed). ``build`` copies it into a temporary folder
with the run's executed notebooks, prepared for readers: the parameters cell and papermill's
injected cell removed, code folded behind a toggle (``hide-input``), every single-output figure
and table numbered and labelled; and pages for the claims (reconciliation), the paper's audit,
the list of figures and tables, and the references. Nothing is executed. The HTML goes to
``_site/`` (the canonical run) or ``DIR/site/`` (a user's run), replacing it only when the
build has succeeded.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pandas as pd

from compendium.data import dataset
from compendium import paths
from compendium.report import display
from compendium.report import origin as trace
from compendium.report import trials
from compendium.report.cells import to_csv as csv_without_formulas

SOURCE = paths.ROOT / "site"
DEFAULT_OUT = paths.ROOT / "_site"
REMOVED_TAGS = {"parameters", "injected-parameters"}
#: notebooks shown in the numbered part of the site, in the paper's order (01 -> section 1).
APPENDIX_NOTEBOOKS = {"00"}
#: an asset (script, stylesheet, image, frame) fetched from the network when a page opens
ANCHOR_CELL = re.compile(r"^\((nb\d\d-cell-\d+)\)=$")
FIGURE_STEM = re.compile(r"\.figure\(\s*[\"']([\w.-]+)[\"']")
REMOTE_ASSET = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//",
                          re.IGNORECASE)


class SiteError(ValueError):
    """The site cannot be built from this run (message says why and what to do)."""


def data_label(run_paths: paths.Paths) -> tuple[str, str]:
    """(short label, banner sentence) naming the data the run analysed, as the figures' footers do."""
    meta_path = run_paths.analysis_meta
    if not meta_path.exists():
        raise SiteError(f"{meta_path}: missing; notebook 01 writes it (run `python -m compendium run` first)")
    meta = json.loads(meta_path.read_text())
    name = Path(meta["input_file"]).name
    label = f"synthetic cohort ({name})" if meta["synthetic"] else name
    return label, f"Every result on this site was computed on {dataset.provenance_label(meta)}."


def _heading(cell) -> str | None:
    found = None
    for line in cell.source.splitlines():
        if line.startswith("#"):
            found = line.lstrip("#").strip()
    return found


def _display_outputs(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result")]


def _kind(output) -> str | None:
    data = output.get("data", {})
    if "image/png" in data or "image/svg+xml" in data:
        return "figure"
    if "<table" in "".join(data.get("text/html", "")):
        return "table"
    return None


def _figure_stem(output) -> str | None:
    """The file a figure output was saved as, when the chapter that showed it said so."""
    meta = output.get("metadata", {})
    return (meta.get("image/png") or {}).get("figure") or meta.get("figure")


def _caption(kind: str, heading: str | None, source: str, svg_stems: set[str], output=None) -> str:
    """The section heading; for a figure, the file it was saved as and a link to its vector copy."""
    caption = heading or "Output"
    if kind == "table" and source.rstrip().endswith(("rec.table()", "ch.recorded()")):
        return f"{caption}: the paper's numbers beside this run's"
    m = FIGURE_STEM.search(source) if kind == "figure" else None
    stem = (_figure_stem(output) if output is not None else None) or (m.group(1) if m else None)
    if kind == "figure" and stem in svg_stems:
        return f"{caption} (`{stem}`, {{download}}`vector copy <figures/{stem}.svg>`)"
    return caption


def _split(cell) -> list:
    """A cell that shows several figures or tables (one per declared figure, say) becomes one cell per
    output, so that each is numbered and captioned; the code stays with the first."""
    shown = _display_outputs(cell)
    if len(shown) < 2 or not all(_kind(o) for o in shown) or len(shown) != len(cell.get("outputs", [])):
        return [cell]
    parts = []
    for k, output in enumerate(shown):
        part = copy.deepcopy(cell)
        part.outputs = [output]
        if k:
            # MyST-NB drops a code cell whose source is empty, with its label: a comment keeps it
            part.source = "# (the cell above, continued)"
            part["id"] = f"{cell.get('id', 'cell')}-{k}"
            part.metadata["tags"] = sorted(set(part.metadata.get("tags", [])) | {"remove-input"})
        parts.append(part)
    return parts


def prepare_notebook(nb: nbformat.NotebookNode, number: str,
                     svg_stems: set[str] = frozenset()) -> tuple[nbformat.NotebookNode, list[dict]]:
    """A reader's copy of an executed notebook, and the figures and tables it labels.

    Removes the parameters and injected-parameters cells, folds every code cell's source behind
    a toggle, turns the title's "04 · " into the section number the site gives it, and wraps
    each cell whose only display output is a figure or a table into a numbered, captioned
    figure or table (caption: the section heading above it; a figure saved as ``figures/STEM``
    whose SVG is in ``svg_stems`` links its vector copy). Every code cell gets a target named by
    its number in the notebook's ``.py`` (:func:`compendium.report.origin.cell_anchor`), which the
    reconciliation page links each claim to.
    """
    nb = copy.deepcopy(nb)
    cells, items, heading, number_in_py = [], [], None, 0
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if "injected-parameters" not in tags:  # papermill's cell is not one of the .py's
            number_in_py += 1
        if tags & REMOVED_TAGS:
            continue
        if cell.cell_type == "markdown":
            if not cells:
                cell.source = re.sub(r"^# \d\d\s*·\s*", "# ", cell.source, count=1)
            heading = _heading(cell) or heading
        elif cell.cell_type == "code":
            cells.append(nbformat.v4.new_markdown_cell(f"({trace.cell_anchor(number, number_in_py)})=",
                                                       id=f"anchor-{number}-{number_in_py}"))
            cell.metadata["tags"] = sorted(tags | {"hide-input"})
            for output in cell.get("outputs", []):  # prose rendered from the data may open a section
                text = output.get("data", {}).get("text/markdown")
                if text:
                    heading = _heading(nbformat.from_dict({"source": "".join(text)})) or heading
            for part in _split(cell):
                shown = _display_outputs(part)
                kind = _kind(shown[0]) if len(shown) == 1 else None
                if kind:
                    label = f"{'fig' if kind == 'figure' else 'tab'}-{number}-{len(items) + 1}"
                    caption = _caption(kind, heading, cell.source, svg_stems, shown[0])
                    options = {"name": label, "caption": caption}
                    if kind == "table":
                        options["classes"] = "nbtable"
                    part.metadata.setdefault("mystnb", {})["figure"] = options
                    items.append({"kind": kind, "label": label, "caption": caption})
                cells.append(part)
            continue
        cells.append(cell)
    nb.cells = cells
    return nb, items


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].strip()
    return fallback


def bib_entries(evidence_csv: Path) -> str:
    """BibTeX entries for the publications of the trial evidence table (one per DOI).

    The source column reads "Author et al., Journal YEAR (detail), as quoted by ...": author,
    journal and year become fields, the detail the title beside the trial's name, and any
    mention of a secondary source a note, so that the reference says where the number was read.
    """
    entries, seen = [], set()
    with evidence_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            doi = row["doi"].strip()
            if not doi or doi in seen:
                continue
            seen.add(doi)
            key = "trial-" + re.sub(r"[^a-z0-9]+", "-", doi.lower()).strip("-")
            m = re.match(r"^([^,]+?) et al\., (.+?) (\d{4})\b(.*)$", row["source"])
            if not m:
                entries.append(f"@misc{{{key},\n  title = {{{{{row['source']}}}}},\n  doi = {{{doi}}}\n}}\n")
                continue
            author, journal, year, rest = m.groups()
            primary, _, secondary = rest.partition(", ")
            detail = re.search(r"\(([^)]*)\)", primary)
            title = "{" + f"{row['trial']}" + (f": {detail.group(1)}" if detail else "") + "}"  # braces keep the case
            fields = [("author", f"{author} and others"), ("title", title), ("journal", journal), ("year", year),
                      ("doi", doi)] + ([("note", "{" + secondary.strip() + "}")] if secondary.strip() else [])
            body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
            entries.append(f"@article{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


def _bib_keys(bib: str) -> list[str]:
    return re.findall(r"@\w+\{([^,]+),", bib)


def _md_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _csv_table(frame: pd.DataFrame, title: str, name: str, folder: Path, stem: str) -> str:
    buffer = io.StringIO()
    csv_without_formulas(frame, buffer)  # the page offers the file for download
    (folder / f"{stem}.csv").write_text(buffer.getvalue())
    return (f"```{{csv-table}} {title}\n:name: {name}\n:file: {stem}.csv\n:header-rows: 1\n"
            ":class: site-data\n```\n")


#: what would open a Markdown block at the start of a cell (MyST parses a csv-table's cells as Markdown)
MARKDOWN_BLOCK = re.compile(r"^(?:[>#+*-]|\d+[.)](?:\s|$))")


def _shown(table: display.DisplayTable) -> pd.DataFrame:
    """A display table's text cells under its headers, as a page's csv-table or Markdown table shows them
    (a cell that Markdown would read as a quotation, a heading or a list item escaped)."""
    rows = [[f"\\{c}" if MARKDOWN_BLOCK.match(c) else c for c in row] for row in table.rows]
    return pd.DataFrame(rows, columns=table.columns, dtype=object)


def _recorded_in(row: dict, pages: set[str], anchors: set[str]) -> str:
    """A link to the cell that recorded the claim's value, else to its notebook's page."""
    notebook, cell = row["notebook"], row["cell"]
    anchor = trace.cell_anchor(notebook, int(cell)) if cell.isdigit() else ""
    if anchor in anchors:
        return f"{{ref}}`{notebook[:2]} · cell {cell} <{anchor}>`"
    if notebook in pages:
        return f"{{doc}}`{notebook[:2]} <{notebook}>`"
    return notebook


def claims_page(claims_csv: Path, folder: Path, pages: set[str] = frozenset(),
                anchors: set[str] = frozenset()) -> str:
    """The reconciliation page; each claim links to the notebook cell (of ``anchors``) that recorded it.

    Its tables come from the display layer (the paper's number as printed, this run's at the paper's
    precision, why a claim has no value); the links and the addresses are added as text."""
    table = pd.read_csv(claims_csv, dtype=str, keep_default_na=False)
    for column in ["published", "reproduced"]:  # the display layer formats them, from the numbers
        table[column] = pd.to_numeric(table[column].replace("", None), errors="coerce")
    extra = ["basis"]
    if "notebook" in table:  # results/claims.csv written before claims were traced has no such column
        table["recorded in"] = [_recorded_in(row, pages, anchors) for row in table.to_dict("records")]
        extra.append("recorded in")
    if "source" in table and table["source"].str.strip().ne("").any():
        table["computed from"] = table["source"].map(lambda text: f"`{text}`" if text else "")
        extra.append("computed from")
    parts = ["# Reconciliation: every claim of the paper\n",
             "Each quantitative statement of the paper (from the claims registry, `data/claims/`; a claim is "
             "named by its id there) beside the value this run computed, with the basis of the comparison "
             "and its status, the notebook cell that recorded the value and what it was computed from (an "
             "address of the registry, or a row of the specification). "
             "The full-precision values are in `results/claims.csv`; notebook 8 discusses them.\n"]
    for status in ["differs", "not_reproducible", "not_run", "match"]:
        part = table[table["status"] == status]
        if part.empty:
            continue
        words = status.replace("_", " ")
        shown = display.table(part.drop(columns="status"), kind="claims", claim=True, extra=extra,
                              reasons="column")
        parts.append(f"## {words.capitalize()} ({len(part)})\n")
        parts.append(_csv_table(_shown(shown), f"Claims with status {words}", f"tab-claims-{status}", folder,
                                f"claims_{status}"))
    return "\n".join(parts)


def audit_page(audit_csv: Path, folder: Path) -> str:
    table = pd.read_csv(audit_csv, keep_default_na=False, na_values=[""])
    consistent = table["consistent"].astype(str).str.lower()
    parts = ["# Audit: the paper beside itself\n",
             "Checks of the paper's printed numbers against each other (Wald arithmetic of hazard ratios, "
             "confidence intervals and p-values, percentages against counts, totals, the Abstract against "
             "the body). They need no patient data. Notebook 8 explains each check.\n"]
    for flag, title in [("false", "Inconsistent"), ("true", "Consistent")]:
        part = table[(consistent == flag).to_numpy()].drop(columns="consistent")
        if part.empty:
            continue
        parts.append(f"## {title} ({len(part)})\n")
        parts.append(_csv_table(_shown(display.table(part, kind="checks")), f"{title} printed values",
                                f"tab-audit-{title.lower()}", folder, f"audit_{title.lower()}"))
    return "\n".join(parts)


def index_page(label: str, banner: str, claims_csv: Path, keys: list[str]) -> str:
    trial_keys = ", ".join(k for k in keys if k.startswith("trial-"))
    text = (SOURCE / "index.md").read_text()
    summary = ""
    if claims_csv.exists():
        claims = pd.read_csv(claims_csv, keep_default_na=False)
        crosstab = pd.crosstab(claims["basis"], claims["status"], margins=True, margins_name="all")
        summary = (":::{table} Claims of the paper by basis and status in this run\n:name: tab-claims-summary\n\n"
                   + _md_table(_shown(display.table(crosstab, kind="crosstab"))) + "\n:::\n")
    return (text.replace("{{label}}", label).replace("{{banner}}", banner)
            .replace("{{claims_summary}}", summary or "*This run recorded no claims.*")
            .replace("{{trial_keys}}", trial_keys))


def figures_page(listing: list[tuple[str, str, list[dict]]]) -> str:
    lines = ["# Figures and tables\n",
             "Every figure and table of the notebooks, numbered by notebook (Table 4.2 is the second table "
             "of notebook 4) and linked to where it stands. Captions are the section headings above them.\n"]
    for kind, heading in [("figure", "Figures"), ("table", "Tables")]:
        lines.append(f"## {heading}\n")
        for _, title, items in listing:
            chosen = [i for i in items if i["kind"] == kind]
            if chosen:
                lines.append(f"**{title}**\n")
                lines += [f"- {{numref}}`{i['label']}`: {i['caption']}" for i in chosen]
                lines.append("")
    return "\n".join(lines)


def _toctree(caption: str, docs: list[str], numbered: bool) -> str:
    options = ":maxdepth: 1\n" + (":numbered: 1\n" if numbered else "")
    return f"```{{toctree}}\n:caption: {caption}\n{options}\n" + "\n".join(docs) + "\n```\n"


def stage(run_paths: paths.Paths, folder: Path) -> None:
    """Write the site's source (configuration, prepared notebooks, generated pages) into folder."""
    notebooks = sorted(run_paths.notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise SiteError(f"{run_paths.notebooks}: no executed notebooks; run "
                        "`python -m compendium run --out DIR` first, then `python -m compendium site --run DIR`")
    label, banner = data_label(run_paths)
    shutil.copytree(SOURCE, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "index.md"))
    (folder / "run.json").write_text(json.dumps({"label": label, "banner": banner}))
    svg_stems = {svg.stem for svg in run_paths.figures.glob("*.svg")}
    if svg_stems:
        shutil.copytree(run_paths.figures, folder / "figures", ignore=shutil.ignore_patterns("*.png"))
    listing, main, appendix, anchors = [], [], [], set()
    for ipynb in notebooks:
        number = ipynb.stem[:2]
        nb, items = prepare_notebook(nbformat.read(ipynb, as_version=4), number, svg_stems)
        anchors |= {m.group(1) for c in nb.cells if c.cell_type == "markdown"
                    for m in [ANCHOR_CELL.match(c.source)] if m}
        nbformat.write(nb, folder / ipynb.name)
        listing.append((ipynb.stem, _title(nb, ipynb.stem), items))
        (appendix if number in APPENDIX_NOTEBOOKS else main).append(ipynb.stem)
    pages = []
    if run_paths.result("claims.csv").exists():
        (folder / "claims.md").write_text(claims_page(run_paths.result("claims.csv"), folder,
                                                      set(main + appendix), anchors))
        pages.append("claims")
    if run_paths.result("paper_audit.csv").exists():
        (folder / "audit.md").write_text(audit_page(run_paths.result("paper_audit.csv"), folder))
        pages.append("audit")
    (folder / "figures.md").write_text(figures_page(listing))
    bib = (SOURCE / "references.bib").read_text() + "\n" + bib_entries(trials.EVIDENCE)
    (folder / "references.bib").write_text(bib)
    index = index_page(label, banner, run_paths.result("claims.csv"), _bib_keys(bib))
    index += "\n" + _toctree("The paper, in its order", main, numbered=True)
    index += "\n" + _toctree("Reconciliation", pages + ["figures"], numbered=False)
    index += "\n" + _toctree("Appendix", appendix + ["references"], numbered=False)
    (folder / "index.md").write_text(index)


def remote_assets(site: Path) -> list[str]:
    """Pages that would fetch a script, stylesheet or image from the network ("page: tag")."""
    found = []
    for page in sorted(site.rglob("*.html")):
        for m in REMOTE_ASSET.finditer(page.read_text(errors="replace")):
            found.append(f"{page.relative_to(site)}: {m.group(0)}")
    return found


def build(out: Path | None = None, run_paths: paths.Paths | None = None, run: Path | None = None) -> Path:
    """Render the site of a run (default: the canonical run in the repository); returns index.html."""
    if run_paths is None:
        run_paths = paths.Paths.for_run(run)
    if out is None:
        out = DEFAULT_OUT if run_paths.out == paths.ROOT else run_paths.out / "site"
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="daravd-site-") as tmp:
        source, html = Path(tmp) / "source", Path(tmp) / "html"
        stage(run_paths, source)
        done = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-j", "1",
             "-d", str(Path(tmp) / "doctrees"), str(source), str(html)],
            capture_output=True, text=True)
        if done.returncode:
            raise SiteError("the site did not build:\n" + (done.stderr or done.stdout).replace(str(source) + "/", ""))
        remote = remote_assets(html)
        if remote:
            raise SiteError("the site would load assets from the network:\n" + "\n".join(remote))
        for template in (html / "_static").glob("*.html"):  # the theme's build macros, not pages
            template.unlink()
        staging = Path(tempfile.mkdtemp(prefix=".site-", dir=out.parent))
        shutil.copytree(html, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    return out / "index.html"

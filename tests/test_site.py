"""The rendered site: how notebooks are prepared, and the built site opened in a real browser.

The browser test builds the canonical run's site, serves it on 127.0.0.1 and opens every page
in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven by Selenium). It fails
on a console error, an image that does not load, an internal link or anchor that does not
resolve, and an asset fetched from the network. Screenshots of the index and of notebook 04 are
saved in a temporary folder (``SITE_SCREENSHOTS`` to choose it) for a person to look at.
"""

from __future__ import annotations

import copy
import functools
import http.server
import json
import os
import re
import shutil
import threading
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from compendium import paths
from compendium.run import site

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


# --- preparing a notebook for readers -------------------------------------------------------

def _notebook() -> nbformat.NotebookNode:
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# 04 · Survival\n\nText."),
        v4.new_code_cell("out_dir = None", metadata={"tags": ["parameters"]}),
        v4.new_code_cell('out_dir = "x"', metadata={"tags": ["injected-parameters"]}),
        v4.new_markdown_cell("## Figure 1: PFS"),
        v4.new_code_cell('plots.save_and_show(fig, P.figure("fig1a_pfs"))', outputs=[v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<F>"})]),
        v4.new_markdown_cell("## Table 2"),
        v4.new_code_cell("rec.table()", outputs=[v4.new_output("execute_result", data={"text/html": "<table></table>"},
                                                          execution_count=1)]),
        v4.new_code_cell("two()", outputs=[v4.new_output("display_data", data={"text/html": "<table></table>"}),
                                           v4.new_output("display_data", data={"text/html": "<table></table>"})]),
    ]
    return nb


def test_prepare_removes_parameter_cells_and_folds_code():
    nb, _ = site.prepare_notebook(_notebook(), "04")
    sources = [c.source for c in nb.cells]
    assert "out_dir = None" not in sources and 'out_dir = "x"' not in sources
    assert all("hide-input" in c.metadata["tags"] for c in nb.cells if c.cell_type == "code")
    assert nb.cells[0].source.startswith("# Survival"), "the numbered toctree gives the number"


def test_prepare_numbers_single_figures_and_tables_with_the_heading_as_caption():
    nb, items = site.prepare_notebook(_notebook(), "04", svg_stems={"fig1a_pfs"})
    assert items == [
        {"kind": "figure", "label": "fig-04-1",
         "caption": "Figure 1: PFS (`fig1a_pfs`, {download}`vector copy <figures/fig1a_pfs.svg>`)"},
        {"kind": "table", "label": "tab-04-2", "caption": "Table 2: the paper's numbers beside this run's"},
        # a cell showing two tables (one per declared table, say) gives two numbered tables, not none
        {"kind": "table", "label": "tab-04-3", "caption": "Table 2"},
        {"kind": "table", "label": "tab-04-4", "caption": "Table 2"}]
    _, items = site.prepare_notebook(_notebook(), "04")
    assert items[0]["caption"] == "Figure 1: PFS", "no link to a vector copy the run does not have"
    figure_cells = [c for c in nb.cells if "mystnb" in c.metadata]
    assert [c.metadata["mystnb"]["figure"].get("classes") for c in figure_cells] == [None] + ["nbtable"] * 3
    split = [c for c in nb.cells if c.get("outputs") and "two()" in c.source or
             ("mystnb" in c.metadata and c.metadata["mystnb"]["figure"]["name"] == "tab-04-4")]
    assert all(len(c.outputs) == 1 for c in split), "each numbered part holds one output, so no two share a label"


def test_every_code_cell_gets_the_anchor_claims_link_to_numbered_as_in_the_py():
    nb, _ = site.prepare_notebook(_notebook(), "04")
    anchors = [c.source for c in nb.cells if c.cell_type == "markdown" and site.ANCHOR_CELL.match(c.source)]
    # cells of the .py: 1 title, 2 parameters, (papermill's injected cell is not one), 3 heading, 4 figure, ...
    assert anchors == ["(nb04-cell-4)=", "(nb04-cell-6)=", "(nb04-cell-7)="]


def test_the_reconciliation_page_links_claims_to_their_cell(tmp_path):
    claims_csv = tmp_path / "claims.csv"
    claims_csv.write_text("claim_id,location,quantity,published,reproduced,tolerance,basis,status,reason,"
                          "notebook,cell,line,source\n"
                          "a,Results,q,1,1,0,emergent,match,,04_survival,4,37,median(pfs)\n"
                          "b,Results,q,1,,0,emergent,not_run,not run,02_descriptives,,,\n"
                          "c,Results,q,1,2,0,emergent,differs,,04_survival,9,80,\n")
    page = site.claims_page(claims_csv, tmp_path, pages={"04_survival"}, anchors={"nb04-cell-4"})
    table = (tmp_path / "claims_match.csv").read_text()
    assert "{ref}`04 · cell 4 <nb04-cell-4>`" in table and "`median(pfs)`" in table
    assert "02_descriptives" in (tmp_path / "claims_not_run.csv").read_text()
    assert "{doc}`04 <04_survival>`" in (tmp_path / "claims_differs.csv").read_text(), "no such anchor: the page"
    assert "Recorded in" in table.splitlines()[0] and "Claims with status match" in page


def test_prepare_leaves_the_committed_notebook_alone():
    original = _notebook()
    before = copy.deepcopy(original)
    site.prepare_notebook(original, "04")
    assert original == before


def test_bibliography_of_the_trials_has_one_entry_per_doi_with_its_doi():
    from compendium.report import trials
    bib = site.bib_entries(trials.EVIDENCE)
    dois = set(re.findall(r"doi = \{([^}]*)\}", bib))
    import csv
    with trials.EVIDENCE.open(newline="") as handle:
        expected = {row["doi"] for row in csv.DictReader(handle) if row["doi"]}
    assert dois == expected
    assert "author = {Mateos and others}" in bib and "year = {2020}" in bib
    assert "title = {{CASTOR: final OS analysis}}" in bib, "braces keep the capitals"


def test_a_number_read_in_a_secondary_source_says_so(tmp_path):
    evidence = tmp_path / "evidence.csv"
    evidence.write_text("trial,source,doi\n"
                        "X-1,\"Roe et al., Lancet Oncol 2019 (final OS), as quoted by a news site (2023)\",10.1/x\n"
                        "X-1,\"Roe et al., Lancet Oncol 2019\",10.1/x\n"
                        "Y,Some abstract page,\n")
    bib = site.bib_entries(evidence)
    assert bib.count("@article") == 1 and "@misc" not in bib
    assert "title = {{X-1: final OS}}" in bib and "note = {{as quoted by a news site (2023)}}" in bib


def test_remote_assets_are_found(tmp_path):
    (tmp_path / "a.html").write_text('<script src="https://cdn.example/x.js"></script><a href="https://doi.org/1">ok</a>'
                                     '<link rel="stylesheet" href="//fonts.example/css"><img src="_images/x.png">')
    found = site.remote_assets(tmp_path)
    assert len(found) == 2 and all(f.startswith("a.html: ") for f in found)


def _user_run(tmp_path: Path) -> paths.Paths:
    """A user's run folder: the committed notebooks, and meta naming the user's export."""
    run = paths.Paths.for_run(tmp_path / "my-run")
    run.notebooks.mkdir(parents=True)
    for name in ["04_survival.ipynb", "08_reconciliation.ipynb"]:
        shutil.copy(paths.NOTEBOOKS / name, run.notebooks / name)
    meta = json.loads(paths.Paths.for_run().analysis_meta.read_text())
    meta.update(synthetic=False, input_file="exports/center_export.xlsx", input_sha256="ab" * 32)
    run.analysis_meta.parent.mkdir(parents=True)
    run.analysis_meta.write_text(json.dumps(meta))
    return run


def test_a_users_run_is_labelled_with_its_own_data(tmp_path):
    run = _user_run(tmp_path)
    source = tmp_path / "source"
    site.stage(run, source)
    label = json.loads((source / "run.json").read_text())
    assert label["label"] == "center_export.xlsx"
    assert label["banner"] == ("Every result on this site was computed on "
                               "Data: center_export.xlsx, sha256 abababababab, n = 85.")
    assert "center_export.xlsx" in (source / "index.md").read_text()
    assert sorted(p.name for p in source.glob("*.ipynb")) == ["04_survival.ipynb", "08_reconciliation.ipynb"]
    assert not (source / "claims.md").exists(), "this run has no results/claims.csv"


def test_a_run_without_notebooks_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(site.SiteError, match="no executed notebooks.*compendium run --out"):
        site.stage(paths.Paths.for_run(tmp_path), tmp_path / "source")


def test_the_site_command_renders_a_users_run_into_its_folder(tmp_path, monkeypatch):
    from compendium.run import runner
    calls = []
    monkeypatch.setattr(site, "build",
                        lambda out=None, run_paths=None, run=None: calls.append((out, run_paths.out)) or Path("i"))
    assert runner.main(["site", "--run", str(tmp_path)]) == 0
    assert calls == [(None, tmp_path.resolve())]


# --- the built site in a browser ------------------------------------------------------------

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


@functools.lru_cache(maxsize=None)
def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text())
    return parser


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "html"
    site.build(out=out)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(f"the browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} missing): "
                    "apt-get install chromium chromium-driver (.ci/run does this)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_the_site_has_every_page_a_reader_needs(built_site):
    pages = {p.name for p in built_site.glob("*.html")}
    notebooks = {p.stem + ".html" for p in paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert notebooks | {"index.html", "claims.html", "audit.html", "figures.html", "references.html"} <= pages
    index = (built_site / "index.html").read_text()
    assert "SYNTHETIC cohort (not patient data)" in index and "10.5281/zenodo.16091434" in index
    survival = (built_site / "04_survival.html").read_text()
    assert "Show code cell source" in survival, "code is folded behind a toggle"
    assert "out_dir = None" not in survival and "injected" not in survival.lower()
    assert "Table 4.1" in survival and "Figure 4.1" in survival, "figures and tables numbered per notebook"
    # every claim links to the cell of its notebook that recorded it (the browser test resolves the anchors)
    reconciliation = _parse(built_site / "claims.html").hrefs
    assert any(re.fullmatch(r"04_survival\.html#nb04-cell-\d+", h) for h in reconciliation)
    assert any(re.fullmatch(r"02_descriptives\.html#nb02-cell-\d+", h) for h in reconciliation)
    nav = _parse(built_site / "04_survival.html").hrefs
    assert "03_response.html" in nav and "05_multivariable.html" in nav, "previous / next"
    assert site.remote_assets(built_site) == []


def test_every_page_opens_in_chromium_without_errors(built_site, server, browser, tmp_path_factory):
    shots = Path(os.environ.get("SITE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    pages = sorted((p.name for p in built_site.glob("*.html")), key=lambda name: (name != "index.html", name))
    problems = []
    for page in pages:
        browser.get(server + page)
        for entry in browser.get_log("browser"):
            if entry["level"] == "SEVERE":
                problems.append(f"{page}: console error: {entry['message']}")
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src'))")
        problems += [f"{page}: image does not load: {src}" for src in broken]
        parsed = _parse(built_site / page)
        for href in parsed.hrefs:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(server + page, href))
            if f"{target.scheme}://{target.netloc}/" != server:
                continue  # an external link (a DOI), not an asset
            file = built_site / urllib.parse.unquote(target.path.lstrip("/"))
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                problems.append(f"{page}: link to a missing page: {href}")
            elif target.fragment and file.suffix == ".html" and target.fragment not in _parse(file).ids:
                problems.append(f"{page}: link to a missing anchor: {href}")
        if page in ("index.html", "04_survival.html"):
            browser.save_screenshot(str(shots / page.replace(".html", ".png")))
    print(f"screenshots in {shots}")
    assert len(pages) >= 13
    assert not problems, "\n".join(problems)
    assert (shots / "index.png").stat().st_size > 10_000

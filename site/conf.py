"""Sphinx configuration of the compendium's site (MyST-NB + sphinx-book-theme).

`compendium/site.py` copies this folder into a temporary build directory together with the
run's executed notebooks and a `run.json` that says which data the run analysed.
Nothing is executed here: the pages show the outputs the run computed.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the local `site_tables` extension

RUN = json.loads((Path(__file__).parent / "run.json").read_text())

project = "DaraVd compendium"
author = "daravd-compendium contributors"
copyright = "the authors of the compendium; the paper is CC BY 4.0"
extensions = ["myst_nb", "sphinxcontrib.bibtex", "site_tables"]
exclude_patterns = ["run.json", "_build"]
root_doc = "index"
language = "en"

# Notebooks are shown as the run left them, never re-executed.
nb_execution_mode = "off"
nb_merge_streams = True
# No require.js from a CDN: the notebooks have no widgets.
nb_ipywidgets_js = {}
myst_enable_extensions = ["colon_fence", "dollarmath"]
# Heading levels are the notebooks' choice (an H3 under the title is fine to a reader).
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# Figures and tables numbered per notebook (Table 4.2 is the second table of notebook 04).
numfig = True
numfig_secnum_depth = 1
numfig_format = {"figure": "Figure %s", "table": "Table %s"}

bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "unsrt"
bibtex_reference_style = "author_year"

html_theme = "sphinx_book_theme"
html_title = "DaraVd compendium"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "light"}  # no colour-mode guess on a fresh browser
html_css_files = ["custom.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "announcement": RUN["banner"],
    "show_prev_next": True,
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
# The build is byte-stable only without search-index timestamps; nothing else varies.
html_permalinks = True

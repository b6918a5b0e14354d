"""A run on another cohort tells that cohort's story (issue 7).

The whole pipeline runs on a second cohort the project makes itself (tests/second_cohort.py:
another size, four centres, another share of responders, a factor with no events in one level,
an overall OS median not reached). Then no executed notebook may state a number that belongs to
the default synthetic cohort, none may say the data are synthetic, and every figure must name
that input in its footer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from compendium.report import claims
from compendium import paths

sys.path.insert(0, str(Path(__file__).parent))
import second_cohort  # noqa: E402


#: What a notebook would say of synthetic data (the method's own words may name the generator).
SYNTHETIC_CLAIM = re.compile(r"synthetic (cohort|data)|made-up patients|not patient data", re.I)


@pytest.fixture(scope="module")
def other_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("other")
    data = second_cohort.make(base / "cohort_b.csv")
    out = base / "run"
    done = subprocess.run([sys.executable, "-m", "compendium", "run", "--data", str(data), "--out", str(out),
                           "--no-progress"], cwd=paths.ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return data, out


def _texts(nb_path: Path) -> list[str]:
    """What a reader of an executed notebook reads: markdown cells and every text output."""
    nb = nbformat.read(nb_path, as_version=4)
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            texts.append(cell.source)
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                texts.append(out.text)
            for kind in ("text/markdown", "text/plain", "text/html"):
                if kind in out.get("data", {}):
                    texts.append(out["data"][kind])
    return texts


def _prose(nb_path: Path) -> str:
    """Only the prose: markdown cells and rendered markdown (tables and data frames left out)."""
    nb = nbformat.read(nb_path, as_version=4)
    parts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    parts += [o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
    return "\n".join(parts)


def _fingerprints(default: Path, other: Path) -> set[str]:
    """Numbers, as prose prints them, of the default cohort that neither the paper nor the other cohort has."""
    published = {f"{v:g}" for v in claims.load_registry()["published"].dropna()}
    fp = set()
    km = {name: pd.read_csv(root / "results" / "survival_km.csv") for name, root in (("d", default), ("o", other))}
    merged = km["d"].merge(km["o"], on=["endpoint", "group", "conf_type"], suffixes=("_d", "_o"))
    for r in merged[merged.conf_type == "log"].itertuples():
        if not np.isnan(r.median_d) and f"{r.median_d:.1f}" != (f"{r.median_o:.1f}" if not np.isnan(r.median_o) else ""):
            fp.add(f"{r.median_d:.1f} months")
    # a median the other cohort has too, for any endpoint or group, is no sign of the default cohort
    fp -= {f"{m:.1f} months" for m in km["o"]["median"].dropna()}
    uni = {name: pd.read_csv(root / "results" / "cox_univariate.csv") for name, root in (("d", default), ("o", other))}
    both = uni["d"].merge(uni["o"], on=["endpoint", "covariate", "level"], suffixes=("_d", "_o"))
    for r in both.itertuples():
        if f"{r.hr_d:.2f}" != f"{r.hr_o:.2f}":
            fp.add(f"HR {r.hr_d:.2f} (95% CI {r.lcl_d:.2f}–{r.ucl_d:.2f})")
    n_default = len(pd.read_csv(default / "data" / "derived" / "analysis.csv"))
    fp |= {f"{n_default} made-up patients", f"{n_default} patients analysed", f"(here {n_default})"}
    return {f for f in fp if f.split()[0] not in published}


def test_notebooks_tell_the_other_cohorts_story(other_run):
    data, out = other_run
    analysis = pd.read_csv(out / "data" / "derived" / "analysis.csv")
    fingerprints = _fingerprints(paths.ROOT, out)
    assert len(fingerprints) > 10  # the check has teeth: many default-cohort numbers to look for
    notebooks = sorted((out / "notebooks").glob("*.ipynb"))
    assert [p.stem[:2] for p in notebooks] == ["01", "02", "03", "04", "05", "06", "07", "08"]  # no 00
    for nb_path in notebooks:
        text = "\n".join(_texts(nb_path))
        prose = _prose(nb_path)
        # sentences about the paper may carry numbers derived from it (9 cycles last about 6.4 months)
        about_data = " ".join(x for x in re.split(r"(?<=[.])\s", prose) if "paper" not in x.lower())
        stated = sorted(f for f in fingerprints if f in about_data)
        assert not stated, f"{nb_path.name} states numbers of the default cohort: {stated}"
        claim = SYNTHETIC_CLAIM.search(prose)
        assert not claim, f"{nb_path.name} calls the data synthetic: {claim and claim.group(0)!r}"
        assert "SYNTHETIC" not in text, nb_path.name
        assert "Traceback" not in text and "Warning:" not in text, nb_path.name
        if nb_path.stem[:2] != "01":
            assert f"{len(analysis)} patients analysed" in prose, f"{nb_path.name}: no data label"
    # the other cohort's own numbers are what the prose states
    prose04 = _prose(out / "notebooks" / "04_survival.ipynb")
    km = pd.read_csv(out / "results" / "survival_km.csv")
    pfs = km[(km.endpoint == "pfs") & (km.group == "all") & (km.conf_type == "log")].iloc[0]
    assert f"median PFS is {pfs['median']:.1f} months" in prose04
    assert "not estimable" in "\n".join(_texts(out / "notebooks" / "04_survival.ipynb"))
    assert "0.00 (0.00" not in "\n".join(_texts(out / "notebooks" / "04_survival.ipynb"))


def test_every_figure_names_its_input(other_run):
    data, out = other_run
    figures = sorted((out / "figures").glob("*.png"))
    assert figures
    for png in figures:
        source = Image.open(png).text.get("Source", "")
        assert data.name in source and "SYNTHETIC" not in source, png.name
        svg = png.with_suffix(".svg").read_text()
        assert data.name in svg, png.name


def test_results_say_what_they_were_computed_on(other_run):
    data, out = other_run
    record = json.loads((out / "results" / "provenance.json").read_text())
    assert record["input"]["file"] == data.name and record["input"]["synthetic"] is False
    assert record["specification"]["file"] == "data/spec/paper.toml"
    canonical = json.loads((paths.ROOT / "results" / "provenance.json").read_text())
    assert canonical["input"]["synthetic"] is True
    for nb_path in (out / "notebooks").glob("*.ipynb"):
        assert str(out.parent) not in nb_path.read_text(), f"{nb_path.name} records an absolute path"


def test_default_figures_say_synthetic():
    for png in sorted((paths.ROOT / "figures").glob("*.png")):
        assert Image.open(png).text.get("Source", "").startswith("SYNTHETIC"), png.name

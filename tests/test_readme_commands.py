"""Every command the README shows, run as written (subprocess), on the synthetic cohort.

The README's placeholders are replaced: ``path/to/export.*`` by the committed synthetic cohort,
``my-run/`` by a temporary folder, and ``.venv/bin/`` by the folder of the Python running the
tests. The commands that write into the repository by default are pointed at the temporary run
with ``COMPENDIUM_OUT``. The tests of this module share one run and go in order: the full run, a
warm rerun, ``--only``, papermill, the site. None of them may change the working tree.

The full run is also the figure check that nbval cannot make (it ignores images): every PNG of a
fresh run is compared with the committed one by matplotlib's own image comparison.
"""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.testing.compare import compare_images

from compendium.report import claims
from compendium import paths
from compendium.run import runner

README = (paths.ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
#: Root-mean-square difference allowed between a fresh PNG and the committed one, in grey levels
#: (0-255). Reruns are byte-identical on one machine (matplotlib's wheel bundles its FreeType); the
#: margin absorbs anti-aliasing of another build, and is far below what a moved curve, a changed
#: tick label or a different number at risk produces (several grey levels).
FIGURE_RMS_TOLERANCE = 0.5

RUN = ".venv/bin/python -m compendium run --data path/to/export.xlsx --out my-run/"
ONLY = ".venv/bin/python -m compendium run --only 04"
VALIDATE = ".venv/bin/python -m compendium validate path/to/export.csv"
RUN_01 = ".venv/bin/python -m compendium run --only 01 --out my-run/"
PAPERMILL = ".venv/bin/papermill notebooks/04_survival.ipynb my-run/04_survival.ipynb -p out_dir my-run/"
SITE = ".venv/bin/python -m compendium site --run my-run/"
STATUS = ".venv/bin/python -m compendium status --out my-run/"
FORCE = ".venv/bin/python -m compendium run --force 04 --out my-run/"
COMPARE_CANONICAL = ".venv/bin/python -m compendium compare . my-run/"
OTHER_COHORT = ".venv/bin/python -m compendium synthetic --n 85 --seed 7 --out other.csv"
OTHER_RUN = ".venv/bin/python -m compendium run --data other.csv --out other-run/"
COMPARE = ".venv/bin/python -m compendium compare my-run/ other-run/"


def _git_status():
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=paths.ROOT,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def cold_run(tmp_path_factory):
    """The README's run command, once, into a fresh folder: (its result, the folder)."""
    folder = tmp_path_factory.mktemp("readme") / "my-run"
    return _command(RUN, folder), folder


@pytest.fixture
def my_run(cold_run):
    return cold_run[1]


def _command(readme_text, my_run, *extra, env=None, others=None):
    """Run a README command; ``others`` replaces the names of further placeholders (``other.csv``)."""
    assert readme_text in README, f"the README no longer shows `{readme_text}`"
    text = (readme_text.replace("path/to/export.xlsx", paths.relative(paths.SYNTHETIC_COHORT))
            .replace("path/to/export.csv", paths.relative(paths.SYNTHETIC_COHORT))
            .replace("my-run/", f"{my_run}/"))
    for placeholder, value in (others or {}).items():
        text = text.replace(placeholder, str(value))
    argv = shlex.split(text) + list(extra)
    argv[0] = str(BIN / Path(argv[0]).name)
    before = _git_status()
    result = subprocess.run(argv, cwd=paths.ROOT, capture_output=True, text=True,
                            env=dict(os.environ, **(env or {})))
    assert _git_status() == before, f"`{readme_text}` changed the working tree"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


def test_validate_as_written(tmp_path):
    result = _command(VALIDATE, tmp_path)
    assert result.returncode == 0 and "85 rows follow the dictionary" in result.stdout


def test_run_as_written_reproduces_the_committed_outputs(cold_run):
    result, my_run = cold_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "without encryption" not in result.stdout + result.stderr
    assert f"{len(runner.discover())} executed, 0 unchanged" in result.stdout
    for sub in ("results", "data/derived"):
        committed = sorted(p.relative_to(paths.ROOT) for p in (paths.ROOT / sub).rglob("*.csv"))
        fresh = sorted(p.relative_to(my_run) for p in (my_run / sub).rglob("*.csv"))
        assert fresh == committed
        for rel in committed:
            assert (my_run / rel).read_bytes() == (paths.ROOT / rel).read_bytes(), f"{rel} differs; `make all`?"


def test_figures_match_the_committed_ones(my_run):
    committed = sorted(p.name for p in (paths.ROOT / "figures").glob("*.png"))
    assert committed and sorted(p.name for p in (my_run / "figures").glob("*.png")) == committed
    failures = [compare_images(str(paths.ROOT / "figures" / name), str(my_run / "figures" / name),
                               tol=FIGURE_RMS_TOLERANCE) for name in committed]
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)


def test_warm_rerun_executes_nothing(my_run):
    stamps = {p: p.stat().st_mtime_ns for p in (my_run / "figures").iterdir()}
    result = _command(RUN, my_run)
    assert result.returncode == 0
    assert f"0 executed, {len(runner.discover())} unchanged" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in (my_run / "figures").iterdir()} == stamps


def test_only_as_written_runs_one_notebook_and_reports_the_others_not_run(my_run):
    result = _command(ONLY, my_run, env={paths.OUT_ENV: str(my_run)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 notebooks: 0 executed, 2 unchanged" in result.stdout  # 01 and 04, cached by the full run
    table = pd.read_csv(my_run / "results" / "claims.csv", keep_default_na=False)
    notebook = claims.load_registry().set_index("claim_id")["notebook"]
    ran = table["claim_id"].map(notebook).isin({"01_cleaning", "04_survival"})
    assert set(table.loc[~ran, "status"]) == {"not_run"}
    assert "not_run" not in set(table.loc[ran, "status"]) and ran.any()


@pytest.mark.parametrize("bad", ["04x", "9"])
def test_only_rejects_unknown_keys(tmp_path, bad):
    out = tmp_path / "never"
    result = subprocess.run([str(BIN / "python"), "-m", "compendium", "run", "--only", bad, "--out", str(out)],
                            cwd=paths.ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert f"no notebook '{bad}'" in result.stderr and "valid keys: 00 (00_synthetic_cohort), 01 (01_cleaning)" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_papermill_as_written(my_run):
    assert RUN_01 in README
    result = _command(PAPERMILL, my_run, "--no-progress-bar")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (my_run / "04_survival.ipynb").exists()
    # papermill wrote the same results as the runner did
    fresh = pd.read_csv(my_run / "results" / "survival_km.csv")
    pd.testing.assert_frame_equal(fresh, pd.read_csv(paths.ROOT / "results" / "survival_km.csv"))


def test_site_as_written(my_run, tmp_path):
    result = _command(SITE, my_run, "--out", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists()
    missing = _command(SITE, tmp_path / "no-such-run")
    assert missing.returncode == 2 and "no such folder" in missing.stderr


def test_status_and_force_as_written(my_run):
    fresh = _command(STATUS, my_run)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "every notebook is fresh" in fresh.stdout, fresh.stdout
    assert len([line for line in fresh.stdout.splitlines() if line.endswith("  fresh")]) == len(runner.discover())
    forced = _command(FORCE, my_run)
    assert forced.returncode == 0, forced.stderr[-3000:]
    # 04, and 08, which reads what 04 recorded; everything else cached
    assert "2 executed, 7 unchanged" in forced.stdout and "forced: 04, 08" in forced.stdout
    assert "every notebook is fresh" in _command(STATUS, my_run).stdout
    # a specification other than the run's: every notebook stale, and the reason named
    spec = my_run.parent / "my-spec.toml"
    spec.write_text((paths.ROOT / "data" / "spec" / "paper.toml").read_text() + "\n# edited\n")
    stale = _command(STATUS, my_run, "--spec", str(spec))
    assert stale.returncode == 0 and stale.stdout.count("stale: the run's parameters changed") == len(runner.discover())
    assert "the specification changed (" in stale.stdout


def test_compare_as_written(my_run, tmp_path):
    same = _command(COMPARE_CANONICAL, my_run)
    assert same.returncode == 0, same.stderr[-3000:]
    assert "RUN_A and RUN_B were computed on the same inputs." in same.stdout
    assert "Claims that differ: none" in same.stdout and "Estimates that differ: none" in same.stdout
    others = {"other.csv": tmp_path / "other.csv", "other-run/": f"{tmp_path / 'other-run'}/"}
    assert _command(OTHER_COHORT, my_run, others=others).returncode == 0
    other = _command(OTHER_RUN, my_run, "--only", "04", others=others)  # 01 and 04 are enough to differ
    assert other.returncode == 0, other.stderr[-3000:]
    result = _command(COMPARE, my_run, "--csv", str(tmp_path / "diff.csv"), others=others)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RUN_A and RUN_B differ in the data and the notebooks run" in result.stdout
    assert any(line.split()[:2] == ["input", "sha256"] and line.rstrip().endswith("differs")
               for line in result.stdout.splitlines())
    diff = pd.read_csv(tmp_path / "diff.csv", keep_default_na=False)
    assert {"survival_km", "cox_univariate"} <= set(diff["table"])
    assert "T2_vgpr_hr" in set(diff["claim_id"])
    refused = _command(COMPARE, my_run, others={"other-run/": f"{tmp_path}/"})
    assert refused.returncode == 2 and "not a run (no results/provenance.json)" in refused.stderr

"""The command line: bad input fails cleanly and writes nothing; --out keeps the repository untouched."""

import subprocess
import sys

import pandas as pd

from compendium.report import claims
from compendium.data import loading
from compendium import paths
from compendium.run import runner


def _run(*args, cwd=paths.ROOT):
    return subprocess.run([sys.executable, "-m", "compendium", *args], cwd=cwd, capture_output=True, text=True)


def test_bad_input_fails_with_the_message_and_writes_nothing(tmp_path, synthetic_text):
    text = synthetic_text.copy()
    text.loc[2, "isotype"] = "IgX"
    bad = tmp_path / "bad.csv"
    text.to_csv(bad, index=False)
    out = tmp_path / "out"
    result = _run("run", "--data", str(bad), "--out", str(out), "--no-progress")
    assert result.returncode == 2
    assert "bad.csv" in result.stderr and "column 'isotype', row 3" in result.stderr and "IgX" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.rglob("*"))


def test_out_dir_run_writes_only_there(tmp_path):
    before = _tracked_state()
    out = tmp_path / "run"
    result = _run("run", "--data", str(paths.SYNTHETIC_COHORT), "--out", str(out), "--only", "01", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert (out / "data" / "derived" / "analysis.csv").exists()
    assert (out / "notebooks" / "01_cleaning.ipynb").exists()
    assert (out / "results" / "claims.csv").exists()
    assert not list(out.glob(".run-*")), "staging folder left behind"
    assert _tracked_state() == before
    # same input, same analysis dataset as the committed canonical one
    fresh = pd.read_csv(out / "data" / "derived" / "analysis.csv")
    pd.testing.assert_frame_equal(fresh, pd.read_csv(paths.ROOT / "data" / "derived" / "analysis.csv"))


def _tracked_state():
    return subprocess.run(["git", "status", "--porcelain"], cwd=paths.ROOT, capture_output=True, text=True).stdout


def test_only_pulls_in_dependencies():
    selected = runner.select(runner.discover(), ["04"]) if any(nb.key == "04" for nb in runner.discover()) else \
        runner.select(runner.discover(), ["01"])
    keys = [nb.key for nb in selected]
    assert "01" in keys and keys == sorted(keys)


def test_executed_notebooks_carry_no_timings_or_machine_paths():
    for ipynb in paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):
        text = ipynb.read_text()
        assert '"start_time"' not in text and '"duration"' not in text, ipynb.name
        assert str(paths.ROOT) not in text, f"{ipynb.name} names a path of this machine"


def test_validate_command(tmp_path):
    result = _run("validate", str(paths.SYNTHETIC_COHORT))
    assert result.returncode == 0 and "85 rows follow the dictionary" in result.stdout
    assert loading.sha256(paths.SYNTHETIC_COHORT) in result.stdout


def test_whole_pipeline_runs_unchanged_on_a_real_like_export(tmp_path, synthetic_text):
    """An XLSX 'real' file (not the synthetic one) with a patient not evaluable for response and
    more missing values: every notebook must run, and the outputs must say it is not synthetic."""
    text = synthetic_text.copy()
    text.loc[3, ["best_response", "best_response_date"]] = ["NE", ""]
    text.loc[7, "emd_relapse"] = ""
    text.loc[9, ["bm_pc_pct_relapse"]] = [""]
    export = tmp_path / "export.xlsx"
    loading.typed(text).to_excel(export, index=False)
    out = tmp_path / "run"
    result = _run("run", "--data", str(export), "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    meta = (out / "data" / "derived" / "analysis.meta.json").read_text()
    assert '"synthetic": false' in meta and "export.xlsx" in meta
    table = pd.read_csv(out / "results" / "claims.csv")
    # on real data every basis becomes "observed", except quotations of other publications
    quoted = table["claim_id"].isin(claims.load_registry().query("basis == 'literature'")["claim_id"])
    assert set(table.loc[~quoted, "basis"]) == {"observed"} and set(table.loc[quoted, "basis"]) == {"literature"}
    analysis = pd.read_csv(out / "data" / "derived" / "analysis.csv")
    assert analysis.loc[3, "best_response"] == "NE" and pd.isna(analysis.loc[3, "vgpr_or_better"])
    for stem in ("fig1a_pfs", "fig2a_pfs_by_vgpr", "06_adverse_events_by_grade"):
        assert (out / "figures" / f"{stem}.png").exists()


def test_site_renders_every_executed_notebook(tmp_path):
    from compendium.run import site

    index = site.build(tmp_path / "site")
    pages = sorted(p.name for p in (tmp_path / "site").glob("[0-9][0-9]_*.html"))
    assert pages == sorted(f"{p.stem}.html" for p in paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    text = index.read_text()
    assert all(f'href="{p}"' in text for p in pages) and "synthetic cohort" in text

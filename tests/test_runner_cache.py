"""The runner's graph, parallel schedule, content-hash cache and failure handling.

The schedule is checked with a stand-in for papermill (fast, exact timings); the cache and the
failure path with real kernels on small notebooks in a temporary notebooks folder.
"""

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from compendium.report import claims
from compendium import paths
from compendium.run import runner


def test_graph_is_explicit_and_covers_every_notebook():
    keys = [nb.key for nb in runner.discover()]
    assert set(keys) <= set(runner.GRAPH), "a notebook is missing from runner.GRAPH"
    assert runner.depends_on("00", keys) == () and runner.depends_on("01", keys) == ()
    for key in ("02", "03", "04", "05", "06", "07"):
        assert runner.depends_on(key, keys) == ("01",)
    assert set(runner.depends_on("08", keys)) == set(keys) - {"08"}


@pytest.mark.parametrize("given, expected", [
    (["04"], ["01", "04"]), (["4"], ["01", "04"]), (["04_survival"], ["01", "04"]),
    (["00"], ["00"]), (["08"], None),
])
def test_only_selects_what_is_named_and_what_it_needs(given, expected):
    notebooks = runner.discover()
    keys = [nb.key for nb in runner.select(notebooks, given)]
    assert keys == (expected if expected is not None else [nb.key for nb in notebooks])


@pytest.mark.parametrize("bad", ["04x", "4x", "99", "004", "survival"])
def test_only_rejects_unknown_keys_with_the_valid_ones(bad):
    with pytest.raises(ValueError) as err:
        runner.select(runner.discover(), ["01", bad])
    assert repr(bad) in str(err.value)
    assert all(f"{nb.key} ({nb.stem})" in str(err.value) for nb in runner.discover())


def _fake_execute(log, lock, seconds=0.15):
    """Stands in for papermill: records start and end, writes one output per notebook, and checks
    that the outputs of everything upstream were copied into its staging folder first."""
    def execute(nb, data, staging, shown, progress=False, warm=None):
        keys = [n.key for n in runner.discover()]
        for dep in runner.depends_on(nb.key, keys):
            stem = next(n.stem for n in runner.discover() if n.key == dep)
            assert (staging.results / f"{stem}.txt").read_text() == dep, f"{nb.stem} started before {stem}'s output"
        with lock:
            log.append(("start", nb.key, time.perf_counter()))
        time.sleep(seconds)
        staging.results.mkdir(parents=True, exist_ok=True)
        (staging.results / f"{nb.stem}.txt").write_text(nb.key)
        staging.notebooks.mkdir(parents=True, exist_ok=True)
        (staging.notebooks / f"{nb.stem}.ipynb").write_text("{}")
        with lock:
            log.append(("end", nb.key, time.perf_counter()))
    return execute


def test_schedule_follows_the_graph_two_at_a_time(monkeypatch, tmp_path):
    log, lock = [], threading.Lock()
    monkeypatch.setattr(runner, "execute", _fake_execute(log, lock))
    monkeypatch.setattr(runner.claims, "gather", lambda *a, **k: pd.DataFrame({"status": []}))
    runner.run(str(paths.SYNTHETIC_COHORT), str(tmp_path / "out"), progress=False)
    start = {k: t for e, k, t in log if e == "start"}
    end = {k: t for e, k, t in log if e == "end"}
    assert set(start) == {nb.key for nb in runner.discover()}
    for key in ("02", "03", "04", "05", "06", "07"):
        assert start[key] >= end["01"]
    assert start["08"] >= max(t for k, t in end.items() if k != "08")
    running, most = 0, 0
    for event, _, _ in sorted(log, key=lambda e: (e[2], e[0] == "start")):
        running += 1 if event == "start" else -1
        most = max(most, running)
    assert most == runner.JOBS == 2, "independent notebooks should run two at a time, never more"
    # every notebook's output moved into place, nothing staged left behind
    assert sorted(p.name for p in (tmp_path / "out" / "results").iterdir()) == sorted(
        [f"{nb.stem}.txt" for nb in runner.discover()] + ["provenance.json"])  # the run's own record
    assert not list((tmp_path / "out").glob(".run-*"))


def test_ready_notebooks_start_longest_first(monkeypatch, tmp_path):
    """Of the notebooks ready at once, the one that took longest last time starts first, so that no
    long one is left to run alone at the end (times as recorded in the output folder's cache)."""
    log, lock = [], threading.Lock()
    monkeypatch.setattr(runner, "execute", _fake_execute(log, lock, seconds=0.2))
    monkeypatch.setattr(runner.claims, "gather", lambda *a, **k: pd.DataFrame({"status": []}))
    last_time = {"02": 1.0, "03": 6.0, "04": 2.0, "05": 9.0, "06": 3.0, "07": 5.0, "00": 1.0, "01": 1.0, "08": 1.0}
    cache = tmp_path / "out" / runner.CACHE_DIR
    cache.mkdir(parents=True)
    for nb in runner.discover():
        (cache / f"{nb.stem}.json").write_text(json.dumps({"seconds": last_time[nb.key]}))
    runner.run(str(paths.SYNTHETIC_COHORT), str(tmp_path / "out"), progress=False)
    started = [k for e, k, _ in sorted(log, key=lambda e: e[2]) if e == "start" and k in ("02", "03", "04", "05", "06", "07")]
    # two workers take them in that order, two at a time (which of a pair logs its start first is chance)
    assert [set(started[i:i + 2]) for i in (0, 2, 4)] == [{"05", "03"}, {"07", "06"}, {"04", "02"}]
    # and the run records how long each took, for the next one
    assert all(json.loads((cache / f"{nb.stem}.json").read_text())["seconds"] is not None for nb in runner.discover())
    # a rerun with nothing changed reuses everything, although notebooks that need 01 now come before it
    for nb in runner.discover():
        record = json.loads((cache / f"{nb.stem}.json").read_text())
        (cache / f"{nb.stem}.json").write_text(json.dumps({**record, "seconds": last_time[nb.key]}))
    log.clear()
    runner.run(str(paths.SYNTHETIC_COHORT), str(tmp_path / "out"), progress=False)
    assert log == []


def test_a_failure_stops_the_run_and_leaves_nothing(monkeypatch, tmp_path):
    def execute(nb, data, staging, shown, progress=False, warm=None):
        staging.results.mkdir(parents=True, exist_ok=True)
        (staging.results / f"{nb.stem}.txt").write_text(nb.key)
        if nb.key == "03":
            raise runner.RunError("notebook 03_response failed in cell 5: `x`\n  KeyError: 'x'")
    monkeypatch.setattr(runner, "execute", execute)
    out = tmp_path / "new" / "out"
    with pytest.raises(runner.RunError, match="03_response"):
        runner.run(str(paths.SYNTHETIC_COHORT), str(out), progress=False)
    assert not (tmp_path / "new").exists(), "a failed run must remove the folder it created"
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "mine.txt").write_text("kept")
    with pytest.raises(runner.RunError):
        runner.run(str(paths.SYNTHETIC_COHORT), str(existing), progress=False)
    assert [p.name for p in existing.iterdir()] == ["mine.txt"], "only the user's own file may remain"


def test_cache_key_changes_with_each_input(tmp_path):
    nb = runner.discover()[2]
    context = {"parameters": None, "input_sha256": "a" * 64, "code": "c"}
    upstream = {"01": {"data/derived/analysis.csv": "1", "notebooks/01_cleaning.ipynb": "n"}}
    base = runner.cache_key(nb, context, upstream)
    assert runner.cache_key(nb, dict(context), {k: dict(v) for k, v in upstream.items()}) == base
    assert runner.cache_key(nb, dict(context, input_sha256="b" * 64), upstream) != base
    assert runner.cache_key(nb, dict(context, code="d"), upstream) != base
    assert runner.cache_key(nb, dict(context, parameters={"out_dir": "x"}), upstream) != base
    assert runner.cache_key(nb, context, {"01": {"data/derived/analysis.csv": "2"}}) != base
    # an upstream notebook's executed .ipynb (its prose) is not an input downstream
    assert runner.cache_key(nb, context, {"01": {"data/derived/analysis.csv": "1",
                                                 "notebooks/01_cleaning.ipynb": "m"}}) == base
    assert runner.cache_key(runner.discover()[3], context, upstream) != base


def test_claims_of_notebooks_not_run_are_not_run(tmp_path):
    run_paths = paths.Paths(tmp_path)
    registry = claims.load_registry()
    some = registry[registry["notebook"] == "03_response"]["claim_id"].iloc[0]
    rec = claims.Recorder("03_response", run_paths, registry)
    rec.record(some, 1.0)
    rec.save()
    table = claims.reconcile(run_paths, synthetic=True, registry=registry)
    others = table[~table["claim_id"].isin(registry.loc[registry["notebook"] == "03_response", "claim_id"])]
    assert set(others["status"]) == {"not_run"}
    assert others["reason"].str.contains("was not part of this run").all()
    ours = table[table["claim_id"] == some].iloc[0]
    assert ours["status"] in {"match", "differs"}
    # a stale file from an earlier run does not count when the run says what it ran
    stale = claims.reconcile(run_paths, synthetic=True, registry=registry, ran={"04_survival"})
    assert stale.loc[stale["claim_id"] == some, "status"].item() == "not_run"


# ------------------------------------------------------------------ real kernels, small notebooks

TINY = '''# %% tags=["parameters"]
data_path = None
out_dir = None

# %%
from compendium.data import dataset
from compendium import paths

P = paths.Paths.for_run(out_dir)
n = len(dataset.read_analysis(P))
P.results.mkdir(parents=True, exist_ok=True)
(P.results / "tiny.txt").write_text(f"{n} patients\\n")
print(n, "patients")
'''


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    """A notebooks folder with the real 01 and a tiny 02 that reads its dataset."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "01_cleaning.py").write_text((paths.NOTEBOOKS / "01_cleaning.py").read_text())
    (folder / "02_tiny.py").write_text(TINY)
    monkeypatch.setattr(paths, "NOTEBOOKS", folder)
    return folder


def _run(out, capsys):
    runner.run(str(paths.SYNTHETIC_COHORT), str(out), only=["02"])
    return capsys.readouterr()


def _mtimes(root: Path):
    """When each output was last written; results/claims.csv, the run's summary, is gathered anew
    by every run (by content it is compared separately)."""
    return {p: p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and ".compendium-cache" not in p.parts and p.name != "claims.csv"}


def test_cache_reexecutes_only_what_changed(notebooks, tmp_path, capsys):
    out = tmp_path / "run"
    first = _run(out, capsys)
    assert "2 executed, 0 unchanged" in first.out
    assert (out / "results" / "tiny.txt").read_text() == "85 patients\n"
    assert "without encryption" not in first.out + first.err
    before, summary = _mtimes(out), (out / "results" / "claims.csv").read_bytes()

    warm = _run(out, capsys)
    assert "0 executed, 2 unchanged" in warm.out
    assert _mtimes(out) == before, "a cached rerun rewrote an output"
    assert (out / "results" / "claims.csv").read_bytes() == summary

    # an edited notebook is executed again; what it depends on is not
    (notebooks / "02_tiny.py").write_text(TINY + "\n# %% [markdown]\n# An added remark.\n")
    edited = _run(out, capsys)
    assert "1 executed, 1 unchanged" in edited.out and "running   02_tiny" in edited.out
    assert "An added remark" in (out / "notebooks" / "02_tiny.ipynb").read_text()

    # an output removed or changed behind the runner's back: its notebook runs again; the
    # notebook downstream does not, as what it reads came back byte-identical
    (out / "data" / "derived" / "analysis.csv").unlink()
    repaired = _run(out, capsys)
    assert "1 executed, 1 unchanged" in repaired.out and "running   01_cleaning" in repaired.out
    assert (out / "data" / "derived" / "analysis.csv").exists()


def test_a_failing_cell_is_named_without_traceback(notebooks, tmp_path, capsys):
    (notebooks / "02_tiny.py").write_text(TINY.replace("n = len(", "n = len(undefined_name) + len("))
    out = tmp_path / "fresh" / "run"
    code = runner.main(["run", "--data", str(paths.SYNTHETIC_COHORT), "--out", str(out), "--only", "02"])
    err = capsys.readouterr().err
    assert code == 1
    assert "notebook 02_tiny failed in cell 2 (line 5 of 02_tiny.py)" in err
    assert "`from compendium.data import dataset`" in err
    assert "NameError: name 'undefined_name' is not defined" in err
    assert "Traceback" not in err and "nothing was written" in err
    assert not (tmp_path / "fresh").exists()

"""`status`, `run --force` and the parts of the cache key they share; `compare` of two runs.

The property tests draw the parts a notebook last ran under, change some of them, and check that
the words of `status` name exactly what changed and that they are empty exactly when the cache key
is unchanged (so that `status` can never call fresh what `run` would execute, or the reverse).
The real-kernel tests use two tiny notebooks in a temporary notebooks folder.
"""

from __future__ import annotations

import copy
import json
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium import paths
from compendium.run import cache, compare, runner, status

FILES = ["compendium/stats/survival.py", "compendium/report/plots.py", "data/dictionary.csv",
         "data/claims/04_survival.csv", "data/synthetic/daravd_synthetic_cohort.csv", "data/spec/paper.toml",
         "data/external/evidence.csv"]
SHA = st.text("0123456789abcdef", min_size=8, max_size=8)


@st.composite
def parts(draw):
    code = {f: draw(SHA) for f in draw(st.lists(st.sampled_from(FILES), min_size=1, unique=True))}
    upstream = {"01_cleaning": {"data/derived/analysis.csv": draw(SHA), "results/claims/01_cleaning.csv": draw(SHA)}}
    return {"parameters": draw(st.sampled_from([None, {"data_path": "a.csv", "out_dir": "run"}])),
            "input_sha256": draw(SHA) * 8, "spec_sha256": draw(SHA), "mapping_sha256": draw(st.sampled_from([None, "m1"])),
            "code": code, "versions": {"python": "3.11.7", "numpy": "2.4.6"}, "notebook": "04_survival",
            "source": draw(SHA), "upstream": upstream}


def _new(value: str) -> str:
    return value + "0"


#: (name, edit of the parts, words status must use)
EDITS = {
    "source": (lambda p: p.update(source=_new(p["source"])), ["its source notebooks/04_survival.py changed"]),
    "data": (lambda p: p.update(input_sha256=_new(p["input_sha256"])), ["the data changed", "my.csv"]),
    "spec": (lambda p: p.update(spec_sha256=_new(p["spec_sha256"])), ["the specification changed"]),
    "mapping": (lambda p: p.update(mapping_sha256="m2" if p["mapping_sha256"] else "m1"), ["mapping"]),
    "parameters": (lambda p: p.update(parameters={"data_path": "b.csv", "out_dir": "run"}), ["parameters changed"]),
    "module": (lambda p: p["code"].update({FILES[0]: "changed"}), ["package module compendium/stats/survival.py"]),
    "dictionary": (lambda p: p["code"].update({"data/dictionary.csv": "changed"}), ["data dictionary data/dictionary.csv"]),
    "registry": (lambda p: p["code"].update({"data/claims/04_survival.csv": "x"}), ["claims registry data/claims/04_survival.csv"]),
    "removed": (lambda p: p["code"].pop(next(iter(p["code"]))), ["(removed)"]),
    "version": (lambda p: p["versions"].update(numpy="2.5.0"), ["numpy 2.4.6 -> 2.5.0"]),
    "upstream": (lambda p: p["upstream"]["01_cleaning"].update({"data/derived/analysis.csv": "changed"}),
                 ["the output of 01_cleaning changed: data/derived/analysis.csv"]),
}
NAMES = {"source": "notebooks/04_survival.py", "data": "my.csv", "spec": "paper.toml", "mapping": "m.toml"}


@settings(max_examples=200, deadline=None)
@given(before=parts(), chosen=st.lists(st.sampled_from(sorted(EDITS)), unique=True, max_size=4))
def test_status_names_every_changed_part_and_only_when_the_key_changes(before, chosen):
    after = copy.deepcopy(before)
    for name in chosen:
        if name == "parameters" and before["parameters"] == {"data_path": "b.csv", "out_dir": "run"}:
            continue
        EDITS[name][0](after)
    said = cache.changes(before, after, NAMES)
    assert (said == []) == (cache.key_of(before) == cache.key_of(after)) == (before == after)
    text = "\n".join(said)
    for name in chosen:
        if before != after and name != "removed":  # a removed file may be one another edit changed
            for words in EDITS[name][1]:
                if name == "module" and FILES[0] not in before["code"]:
                    words = f"{FILES[0]} (added)"
                elif name in ("dictionary", "registry") and words.split()[-1] not in before["code"]:
                    words = f"{words.split()[-1]} (added)"
                assert words in text, (name, said)


def test_key_parts_are_what_the_cache_records_and_hashes(tmp_path):
    nb = runner.discover()[4]
    context = {"parameters": None, "input_sha256": "a" * 64, "code": {"x.py": "1"}}
    parts = cache.key_parts(nb, context, {"01_cleaning": {"results/a.csv": "1", "notebooks/01_cleaning.ipynb": "n"}})
    assert parts["upstream"] == {"01_cleaning": {"results/a.csv": "1"}}, "an upstream notebook's prose is no input"
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.csv").write_text("x\n")
    outputs = cache.outputs_of(tmp_path)
    store = cache.Cache(tmp_path / cache.CACHE_DIR)
    store.store(nb, parts, outputs, 1.5)
    record = json.loads((tmp_path / cache.CACHE_DIR / f"{nb.stem}.json").read_text())
    assert record["parts"] == parts and record["key"] == cache.key_of(parts) == runner.cache_key(
        nb, context, {"01_cleaning": {"results/a.csv": "1"}})
    assert store.lookup(nb, cache.key_of(parts), tmp_path) == outputs
    (tmp_path / "results" / "a.csv").write_text("y\n")
    assert store.lookup(nb, cache.key_of(parts), tmp_path) is None
    assert cache.changed_outputs(outputs, tmp_path) == ["results/a.csv was changed since it was written"]


# ------------------------------------------------------------------ real kernels, tiny notebooks

ONE = '''# %% tags=["parameters"]
data_path = None
out_dir = None

# %%
from compendium import paths

P = paths.Paths.for_run(out_dir)
P.results.mkdir(parents=True, exist_ok=True)
(P.results / "one.txt").write_text("one\\n")
'''

TWO = '''# %% tags=["parameters"]
data_path = None
out_dir = None

# %%
from compendium import paths

P = paths.Paths.for_run(out_dir)
(P.results / "two.txt").write_text((P.results / "one.txt").read_text() + "two\\n")
'''


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "01_one.py").write_text(ONE)
    (folder / "02_two.py").write_text(TWO)
    monkeypatch.setattr(paths, "NOTEBOOKS", folder)
    return folder


def _status(out) -> dict[str, status.NotebookStatus]:
    return {nb.stem: nb for nb in status.status(str(paths.SYNTHETIC_COHORT), str(out)).notebooks}


def _main(*argv) -> int:
    return runner.main([*argv])


def test_status_and_force_on_real_kernels(tiny, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert {s: nb.reasons for s, nb in _status(out).items()} == {"01_one": ["never run in this folder"],
                                                                  "02_two": ["never run in this folder"]}
    runner.run(str(paths.SYNTHETIC_COHORT), str(out), progress=False)
    capsys.readouterr()
    assert all(nb.fresh and not nb.waits_on for nb in _status(out).values())
    assert _main("status", "--out", str(out)) == 0
    assert "every notebook is fresh" in capsys.readouterr().out

    # an edited notebook is stale, and says why; the one it reads stays fresh
    (tiny / "02_two.py").write_text(TWO + "\n# %% [markdown]\n# A remark.\n")
    now = _status(out)
    assert now["01_one"].fresh and now["02_two"].reasons == [f"its source {paths.relative(tiny / '02_two.py')} changed"]

    # a package module changed: every notebook names it (status computes the same parts as run)
    real = cache.code_files
    monkeypatch.setattr(cache, "code_files", lambda: dict(real(), **{"compendium/stats/survival.py": "edited"}))
    assert all(nb.reasons[-1] == "package module compendium/stats/survival.py changed" for nb in _status(out).values())
    monkeypatch.setattr(cache, "code_files", real)

    # a different input: the data changed, named
    other = tmp_path / "other.csv"
    other.write_bytes(paths.SYNTHETIC_COHORT.read_bytes() + b"\n")
    said = status.status(str(other), str(out))
    assert all(any(r.startswith("the data changed (") for r in nb.reasons) for nb in said.notebooks)

    runner.run(str(paths.SYNTHETIC_COHORT), str(out), progress=False)
    capsys.readouterr()
    # --force executes a fresh notebook ...
    assert _main("run", "--data", str(paths.SYNTHETIC_COHORT), "--out", str(out), "--force", "02") == 0
    ran = capsys.readouterr().out
    assert "1 executed, 1 unchanged" in ran and "forced: 02" in ran
    # ... and what reads its outputs
    assert _main("run", "--data", str(paths.SYNTHETIC_COHORT), "--out", str(out), "--force", "1") == 0
    ran = capsys.readouterr().out
    assert "2 executed, 0 unchanged" in ran and "forced: 01, 02" in ran
    assert _main("run", "--out", str(out), "--force", "9") == 2
    assert "--force: no notebook '9'" in capsys.readouterr().err

    # an output changed behind the runner's back: its notebook is stale; the one reading it waits
    (out / "results" / "one.txt").write_text("tampered\n")
    now = _status(out)
    assert now["01_one"].reasons == ["its output results/one.txt was changed since it was written"]
    assert now["02_two"].fresh and now["02_two"].waits_on == ["01_one"]
    assert _main("status", "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert "02_two  fresh (executed again if 01_one, stale, writes different outputs)" in text
    assert "1 of 2 notebooks stale" in text


def test_status_of_a_missing_input_is_a_message(tmp_path, capsys):
    assert _main("status", "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "--data nope.csv: no such file" in err and "Traceback" not in err


# ------------------------------------------------------------------ compare

def _fake_run(folder, rows: list[dict], claims_rows: list[dict], sha="a" * 64, spec="data/spec/paper.toml"):
    run = paths.Paths(folder)
    run.results.mkdir(parents=True)
    (run.results / "provenance.json").write_text(json.dumps({
        "input": {"file": "cohort.csv", "sha256": sha, "synthetic": False, "rows": 5}, "mapping": None,
        "specification": {"file": spec, "sha256": "s"}, "notebooks_run": ["01_cleaning", "04_survival"]}))
    paths.write_csv(pd.DataFrame(rows), run.result("survival_km.csv"))
    paths.write_csv(pd.DataFrame(claims_rows), run.result("claims.csv"))
    return folder


KM = [{"endpoint": "pfs", "group": "all", "n": 5, "median": 10.0, "conf_type": "log", "reason": ""},
      {"endpoint": "pfs", "group": "all", "n": 5, "median": 10.0, "conf_type": "log-log", "reason": ""},
      {"endpoint": "os", "group": "all", "n": 5, "median": float("nan"), "conf_type": "log", "reason": "not reached"}]
CLAIMS = [{"claim_id": "a", "quantity": "median PFS", "published": 14.0, "reproduced": 10.0, "status": "differs"},
          {"claim_id": "b", "quantity": "n", "published": 5.0, "reproduced": 5.0, "status": "match"}]


def test_compare_matches_rows_on_their_keys_whatever_their_order(tmp_path):
    a = _fake_run(tmp_path / "a", KM, CLAIMS)
    shuffled = [dict(KM[2]), dict(KM[1], median=10.0 * (1 + 1e-12)), dict(KM[0])]
    b = _fake_run(tmp_path / "b", shuffled, CLAIMS[::-1])
    same = compare.compare(str(a), str(b))
    assert same.claims.empty and same.estimates.empty and same.inputs["same"].all()
    assert "computed on the same inputs" in compare.summary(same) and "Every one of the 2 claims agrees" in compare.summary(same)


def test_compare_names_every_difference(tmp_path):
    a = _fake_run(tmp_path / "a", KM, CLAIMS)
    changed = [dict(KM[0], median=11.0), KM[1], dict(KM[2], median=30.0, reason=""),
               {"endpoint": "ttnt", "group": "all", "n": 5, "median": 3.0, "conf_type": "log", "reason": ""}]
    b = _fake_run(tmp_path / "b", changed, [dict(CLAIMS[0], reproduced=11.0), dict(CLAIMS[1], status="differs")],
                  sha="b" * 64, spec="my-spec.toml")
    result = compare.compare(str(a), str(b))
    assert set(result.inputs.loc[~result.inputs["same"], "item"]) == {"input sha256", "specification"}
    assert result.claims["claim_id"].tolist() == ["a", "b"]
    est = result.estimates
    assert est[["row", "column", "A", "B"]].values.tolist() == [
        ["endpoint=pfs, group=all, conf_type=log", "median", "10", "11"],
        ["endpoint=os, group=all, conf_type=log", "median", "(empty)", "30"],
        ["endpoint=os, group=all, conf_type=log", "reason", "not reached", "(empty)"],
        ["endpoint=ttnt, group=all, conf_type=log", "", "", "(row)"]]
    text = compare.report(result, str(tmp_path / "diff.csv"))
    assert "differ in the data and the specification" in text and "2 of the 2 claims differ (1 change status)" in text
    assert len(pd.read_csv(tmp_path / "diff.csv")) == 6


def test_compare_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    a = _fake_run(tmp_path / "a", KM, CLAIMS)
    assert _main("compare", str(a), str(tmp_path / "empty")) == 2
    err = capsys.readouterr().err
    assert "RUN_B" in err and "not a run (no results/provenance.json)" in err and "Traceback" not in err
    assert _main("compare", str(tmp_path / "missing"), str(a)) == 2
    assert "RUN_A" in capsys.readouterr().err
    shutil.rmtree(a)

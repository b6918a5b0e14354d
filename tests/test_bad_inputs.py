"""The bad-input corpus (tests/bad_inputs/, made by make_corpus.py): every file a user might hand over.

For each file, expected.csv says whether it must be refused or accepted and a fragment of the
message (or notice) it must give. Every case goes through the command line's own entry point;
a sample of them also through `python -m compendium` as a separate process, as a user runs it.
In every case the file's bytes are unchanged and a refused run leaves nothing in --out.
"""

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from compendium import paths
from compendium.run import runner

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = list(csv.DictReader(open(CORPUS / "expected.csv", encoding="utf-8")))
REFUSED = [c for c in CASES if c["outcome"] == "refused"]
# One case of each kind for the (slower, ~3 s each) separate-process runs, alternately through
# `validate` and `run`: path, bytes, encoding, header, shape, XLSX, plausibility, accepted with a notice.
SAMPLE = ["a_folder.csv", "image.csv", "latin1.csv", "title_rows.csv", "row_too_short.csv", "header_only.xlsx",
          "age_130.csv", "trailing_bare_commas.csv"]


def _digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_corpus_is_complete():
    assert len(REFUSED) >= 25
    listed = {c["file"] for c in CASES}
    on_disk = {p.name for p in CORPUS.iterdir()} - {"expected.csv", "make_corpus.py", "__pycache__"}
    assert on_disk == listed - {"does_not_exist.csv"}, "every corpus file has an expected message, and back"
    assert all(c["expected"] for c in CASES) and {c["outcome"] for c in CASES} == {"refused", "accepted"}


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_validate_gives_the_expected_message(case, capsys):
    path = CORPUS / case["file"]
    before = _digest(path)
    code = runner.main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert _digest(path) == before, "the raw file was modified"
    if case["outcome"] == "refused":
        assert code == 2 and out == ""
        assert case["expected"] in err and case["file"] in err, err
        assert len(err.strip().splitlines()) <= 1 + err.count("\n  - ")  # one message, or one line per cell
    else:
        assert code == 0, err
        assert case["expected"] in out + err
        assert f"{case['file']}: 6 rows follow the dictionary" in out


@pytest.mark.parametrize("case", REFUSED, ids=[c["file"] for c in REFUSED])
def test_refused_run_writes_nothing(case, capsys, tmp_path):
    path = CORPUS / case["file"]
    before = _digest(path)
    out_dir = tmp_path / "run"
    code = runner.main(["run", "--data", str(path), "--out", str(out_dir), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and case["expected"] in err
    assert not out_dir.exists(), "a refused run left its output folder behind"
    assert _digest(path) == before


def test_refused_run_leaves_an_existing_out_folder_as_it_was(tmp_path, capsys):
    out_dir = tmp_path / "run"
    (out_dir / "results").mkdir(parents=True)
    (out_dir / "results" / "mine.csv").write_text("kept\n")
    code = runner.main(["run", "--data", str(CORPUS / "semicolons.csv"), "--out", str(out_dir), "--no-progress"])
    assert code == 2
    assert _tree(out_dir) == ["results", "results/mine.csv"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "compendium", *args], cwd=paths.ROOT, capture_output=True,
                          text=True)


@pytest.mark.parametrize("name", SAMPLE)
def test_command_line_as_a_user_runs_it(name, tmp_path):
    case = next(c for c in CASES if c["file"] == name)
    path = CORPUS / name
    before = _digest(path)
    out_dir = tmp_path / "run"
    command = ("validate", str(path)) if case["outcome"] == "accepted" or SAMPLE.index(name) % 2 else \
        ("run", "--data", str(path), "--out", str(out_dir), "--no-progress")
    result = _cli(*command)
    assert "Traceback" not in result.stderr + result.stdout
    assert _digest(path) == before
    assert not out_dir.exists()
    if case["outcome"] == "refused":
        assert result.returncode == 2 and case["expected"] in result.stderr, result.stderr
    else:
        assert result.returncode == 0 and case["expected"] in result.stderr


def test_corpus_script_writes_what_is_committed(tmp_path):
    """The committed files are what make_corpus.py makes (XLSX aside: zip timestamps differ)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = tmp_path
    module.main()
    made = {p.name for p in tmp_path.iterdir()}
    assert made == {p.name for p in CORPUS.iterdir()} - {"make_corpus.py", "__pycache__"}
    for name in sorted(made):
        if (tmp_path / name).is_file() and not name.endswith(".xlsx") and name != "workbook_named_csv.csv":
            assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name


def test_a_run_failing_in_a_notebook_removes_the_folders_it_made(tmp_path, capsys, monkeypatch):
    """Input that passes validation can still fail inside a notebook: nothing may stay behind, not even
    the --out folder (nor its missing parents) the run created."""
    def fail(nb, parameters, staging, shown, progress=False, warm=None):
        (staging.results / "partial.csv").parent.mkdir(parents=True, exist_ok=True)
        (staging.results / "partial.csv").write_text("half\n")
        raise runner.RunError(f"notebook {nb.stem} failed in cell 3: `x`\n  ValueError: no events")

    monkeypatch.setattr(runner, "execute", fail)
    out_dir = tmp_path / "new" / "run"
    code = runner.main(["run", "--data", str(paths.SYNTHETIC_COHORT), "--out", str(out_dir), "--only", "01",
                        "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "01_cleaning failed in cell 3" in err and "nothing was written" in err
    assert not (tmp_path / "new").exists()

"""The editing loop: every notebooks/NN_name.py and its executed .ipynb stay one pair.

The .ipynb must have exactly the .py's cells (papermill's injected cell is not kept), so that
`jupytext --sync` is a no-op on the committed pair in either direction and, after an edit of the
.py, keeps the outputs of the cells that did not change.
"""

import os
import shutil

import jupytext
import nbformat
import pytest
from jupytext.cli import jupytext as jupytext_cli

from compendium import paths

PAIRS = sorted(p.stem for p in paths.NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_is_a_pair():
    assert PAIRS, "no notebooks found"
    missing = [s for s in PAIRS if not (paths.NOTEBOOKS / f"{s}.ipynb").exists()]
    assert not missing, f"run `make all` to execute {missing}"
    config = (paths.ROOT / "jupytext.toml").read_text()
    assert 'formats = "ipynb,py:percent"' in config


@pytest.mark.parametrize("stem", PAIRS)
def test_pair_has_the_same_cells(stem):
    script = jupytext.read(paths.NOTEBOOKS / f"{stem}.py")
    executed = nbformat.read(paths.NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    assert _cells(executed) == _cells(script), f"{stem}: .py and .ipynb differ; run `make all`"
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert [c.metadata.get("tags", []) for c in executed.cells] == [c.metadata.get("tags", []) for c in script.cells]


@pytest.fixture
def pair_copy(tmp_path):
    """The repository's pairing config and one pair, copied where jupytext may rewrite them."""
    def _copy(stem):
        (tmp_path / "notebooks").mkdir(exist_ok=True)
        shutil.copy(paths.ROOT / "jupytext.toml", tmp_path / "jupytext.toml")
        for suffix in (".py", ".ipynb"):
            shutil.copy(paths.NOTEBOOKS / f"{stem}{suffix}", tmp_path / "notebooks" / f"{stem}{suffix}")
        return tmp_path / "notebooks" / f"{stem}.py", tmp_path / "notebooks" / f"{stem}.ipynb"
    return _copy


def _newer(path):
    """Make ``path`` the side jupytext --sync takes as the source."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


@pytest.mark.parametrize("stem", PAIRS)
def test_sync_changes_nothing(stem, pair_copy):
    script, executed = pair_copy(stem)
    original = script.read_bytes(), executed.read_bytes()
    for side in (script, executed):
        _newer(side)
        assert jupytext_cli(["--sync", "--quiet", str(executed)]) == 0
        assert (script.read_bytes(), executed.read_bytes()) == original, f"jupytext --sync rewrote {stem}"


def test_editing_the_py_keeps_the_outputs(pair_copy):
    stem = "04_survival" if "04_survival" in PAIRS else PAIRS[-1]
    script, executed = pair_copy(stem)
    before = nbformat.read(executed, as_version=4)
    script.write_text(script.read_text() + "\n# %% [markdown]\n# A remark added while editing.\n")
    _newer(script)
    assert jupytext_cli(["--sync", "--quiet", str(script)]) == 0
    after = nbformat.read(executed, as_version=4)
    assert after.cells[-1].source == "A remark added while editing."
    outputs = lambda nb: [c.outputs for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    assert outputs(after) == outputs(before) and any(outputs(after))
    # and the .py keeps only the tags of the cells, not jupytext's or papermill's bookkeeping
    text = script.read_text()
    assert "jupytext_version" not in text and "papermill" not in text and "execution" not in text

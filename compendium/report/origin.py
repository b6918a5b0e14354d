"""Where a claim value was recorded: the notebook, its cell, and the line of the notebook's ``.py``.

A value is traced when it is recorded, from the call stack. Inside a Jupyter kernel the code of
the cell being executed runs as a module in the kernel's user namespace, under a file name that
IPython registers in :mod:`linecache` together with the cell's source. The outermost frame of that
namespace is the cell the kernel is executing: a function defined in an earlier cell, or a chapter's
``compute`` (:mod:`compendium.chapters.base`), called from it still counts as this cell, because this
cell is what produced the value. Its source is looked up among the cells of the notebook's jupytext
``.py`` (papermill executes exactly those cells, plus an injected parameters cell that records
nothing), which gives the cell's number as the runner counts cells in its error messages (every
``# %%`` marker, markdown included, from 1) and the line of the call.

Outside a kernel (a test, a script) there is no cell, and a value is recorded without an origin.
"""

from __future__ import annotations

import functools
import linecache
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from compendium import paths

#: a jupytext percent-format cell marker (``# %%``, ``# %% [markdown]``, ``# %% tags=[...]``)
CELL_MARKER = re.compile(r"# %%( |$)")
#: the call that computes a chapter: where a chapter's claims come from when no frame says so
COMPUTE_CALL = re.compile(r"^(?!\s*def\s)[^#]*\bcompute\(")


@dataclass(frozen=True)
class Origin:
    """The cell (1-based, as the runner counts them) and the line of ``notebooks/<notebook>.py``."""

    notebook: str
    cell: int | None = None
    line: int | None = None

    @property
    def anchor(self) -> str:
        """The site's target of the cell (``nb04-cell-5``), '' when the cell is not known."""
        return cell_anchor(self.notebook, self.cell) if self.cell else ""


def cell_anchor(notebook: str, cell: int) -> str:
    """One name per notebook cell, unique across the site (Sphinx labels are global)."""
    return f"nb{notebook[:2]}-cell-{int(cell)}"


def cell_starts(lines: list[str]) -> list[int]:
    """The 1-based line of every cell marker of a percent-format notebook."""
    return [i for i, line in enumerate(lines, 1) if CELL_MARKER.match(line)]


@functools.lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(lines), tuple(cell_starts(lines))


def _notebook_lines(py: Path) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    try:
        return _read(str(py), py.stat().st_mtime_ns)  # the mtime: a notebook edited mid-session is read again
    except OSError:
        return None


def _cell_of(starts: tuple[int, ...], line: int) -> int:
    return sum(1 for s in starts if s <= line)


def locate(py: Path, source: list[str], lineno: int) -> tuple[int, int] | None:
    """(cell, line of the ``.py``) of line ``lineno`` of a cell whose source is ``source``.

    A code cell's lines follow its marker verbatim in the ``.py``. IPython compiles a cell after
    its own transformations (a ``%magic`` becomes a call; jupytext comments it out in the ``.py``),
    so a cell that matches no marker is found by the recording line alone, when one line of the
    ``.py`` reads exactly so.
    """
    read = _notebook_lines(py)
    if read is None or not 1 <= lineno <= len(source):
        return None
    lines, starts = read
    body = [s.rstrip() for s in source]
    while body and not body[-1]:
        body.pop()
    ends = [*starts[1:], len(lines) + 1]
    for number, (start, end) in enumerate(zip(starts, ends), 1):
        region = [s.rstrip() for s in lines[start:end - 1]]  # up to the next marker, blank lines trimmed
        while region and not region[-1]:
            region.pop()
        if region == body:
            return number, start + lineno
    wanted = source[lineno - 1].strip()
    hits = [i for i, text in enumerate(lines, 1) if wanted and text.strip() == wanted]
    return (_cell_of(starts, hits[0]), hits[0]) if len(hits) == 1 else None


def compute_call(notebook: str) -> Origin:
    """The cell and line where the notebook calls its chapter's ``compute`` (the first such call)."""
    for py in notebook_sources(notebook):
        lines, starts = _notebook_lines(py) or ((), ())
        for i, text in enumerate(lines, 1):
            if COMPUTE_CALL.match(text) and starts and i > starts[0]:
                return Origin(notebook, _cell_of(starts, i), i)
    return Origin(notebook)


def notebook_sources(notebook: str) -> list[Path]:
    """Where the notebook's ``.py`` may be: the folder the kernel runs in (the runner starts each
    kernel in the notebooks folder it executes from), then the repository's ``notebooks/``."""
    found = []
    for folder in (Path.cwd(), paths.NOTEBOOKS):
        candidate = folder / f"{notebook}.py"
        if candidate not in found and candidate.is_file():
            found.append(candidate)
    return found


def _executing_cell():
    """(source lines, line number) of the cell the kernel is executing, or None outside a kernel."""
    ipython = sys.modules.get("IPython")  # never imported here: a script has no cell to name
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    namespace = shell.user_global_ns
    frame, found = sys._getframe(1), None
    while frame is not None:
        if frame.f_globals is namespace:
            found = frame
        frame = frame.f_back
    if found is None:
        return None
    source = linecache.getlines(found.f_code.co_filename)
    return (source, found.f_lineno) if source else None


def here(notebook: str) -> Origin:
    """The origin of a value recorded now by ``notebook`` (no cell outside a kernel)."""
    cell = _executing_cell()
    if cell is None:
        return Origin(notebook)
    source, lineno = cell
    for py in notebook_sources(notebook):
        located = locate(py, [s.rstrip("\n") for s in source], lineno)
        if located:
            return Origin(notebook, *located)
    return Origin(notebook)


def spec_source(spec, claim_id: str) -> str:
    """The row of a specification table a claim comes from (``paper.toml T2: vgpr_or_better=1, hr``)."""
    for table in spec.tables:
        for row in table.rows:
            if row.claim and claim_id.startswith(row.claim + "_"):
                key = claim_id[len(row.claim) + 1:]
                if key in ("hr", "lcl", "ucl", "p"):
                    return f"{Path(spec.path).name} {table.id}: {row.covariate}={row.level}, {key}"
    return ""

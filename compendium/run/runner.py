"""Run the notebooks with papermill: ``python -m compendium run``.

Each notebook's source is its jupytext ``.py`` file. The notebooks form an
explicit dependency graph (:data:`GRAPH`); notebooks whose inputs are ready run
side by side (two at a time by default). A notebook whose source, parameters,
input file, package code and upstream outputs are all unchanged since it last
ran into the same output folder is not executed again: a small content-hash
cache in ``<out>/.compendium-cache/`` remembers what each notebook read and
wrote (:mod:`compendium.run.cache`, which ``status`` reads to say what changed);
``--force`` executes notebooks and what reads them whatever the cache says.

Every notebook executes into its own private staging folder; only when all of
them succeeded are their outputs moved into place, so a failed run leaves
nothing behind (not even the ``--out`` folder, when the run created it).
Executed notebooks are stripped of timings and given stable cell ids, so a
rerun on the same input is byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

# rfc3987_syntax, an optional extra of jsonschema that the Jupyter packages install, compiles a Lark
# grammar when it is imported: 1.8 s at the start of every run, for jsonschema's check of the "iri"
# string format, which nbformat's notebook schema never uses. The runner's process does without it.
sys.modules.setdefault("rfc3987_syntax", None)

from compendium.report import claims  # noqa: E402
from compendium.report import origin as trace
from compendium.data import dataset, endpoints
from compendium import paths
from compendium.run import zygote
from compendium.run.cache import (CACHE_DIR, Cache, cache_key, data_outputs, key_of, key_parts,  # noqa: F401
                                  outputs_of, run_context)
from compendium.data import mapping as mappings
from compendium.data import spec as specs
from compendium.data import validated
from compendium.data.loading import DataValidationError, load_raw

KERNEL = "daravd"
KERNEL_DISPLAY = "DaraVd compendium"
RECONCILIATION = "08"
JOBS = 2  # notebooks executed at the same time; this machine has two cores

#: The dependency graph: which notebooks' outputs each notebook reads. ``"*"``: every other one.
#: 00 documents the generator and 01 reads the input file; 02-07 read the analysis dataset that
#: 01 writes; the reconciliation (08) reads what every other notebook recorded. A notebook not
#: listed here is taken to read the analysis dataset only.
GRAPH: dict[str, tuple[str, ...] | str] = {
    "00": (),
    "01": (),
    "02": ("01",),
    "03": ("01",),
    "04": ("01",),
    "05": ("01",),
    "06": ("01",),
    "07": ("01",),
    RECONCILIATION: "*",
}
DEFAULT_DEPENDS = ("01",)

class RunError(Exception):
    """A run that cannot go on; the message says which notebook and cell, and what to do."""


@dataclass(frozen=True)
class Notebook:
    key: str      # "04"
    stem: str     # "04_survival"
    source: Path  # notebooks/04_survival.py

    @property
    def depends(self) -> tuple[str, ...]:
        """The keys of the notebooks whose outputs this one reads (see :data:`GRAPH`)."""
        return depends_on(self.key, [nb.key for nb in discover()])


def depends_on(key: str, keys: list[str]) -> tuple[str, ...]:
    need = GRAPH.get(key, DEFAULT_DEPENDS)
    if need == "*":
        return tuple(k for k in keys if k != key)
    return tuple(k for k in need if k in keys and k != key)


def discover() -> list[Notebook]:
    found = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    return [Notebook(p.name[:2], p.stem, p) for p in found]


def keys_named(notebooks: list[Notebook], items: list[str], option: str = "--only") -> list[str]:
    """The keys of the notebooks named by number (``4`` or ``04``) or by name (``04_survival``)."""
    by_name = {nb.key: nb.key for nb in notebooks} | {nb.stem: nb.key for nb in notebooks}
    found, unknown = [], []
    for item in items:
        key = item.zfill(2) if re.fullmatch(r"\d", item) else item
        (found.append(by_name[key]) if key in by_name else unknown.append(item))
    if unknown:
        valid = ", ".join(f"{nb.key} ({nb.stem})" for nb in notebooks)
        raise ValueError(f"{option}: no notebook {', '.join(map(repr, unknown))}; valid keys: {valid}")
    return found


def ancestors(key: str, keys: list[str]) -> list[str]:
    """Every notebook whose outputs ``key`` reads, directly or through another one."""
    seen, todo = [], list(depends_on(key, keys))
    while todo:
        k = todo.pop()
        if k not in seen:
            seen.append(k)
            todo.extend(depends_on(k, keys))
    return sorted(seen)


def descendants(named: set[str], keys: list[str]) -> set[str]:
    """The notebooks named and every notebook that reads their outputs, directly or not."""
    return set(named) | {k for k in keys if set(ancestors(k, keys)) & set(named)}


def select(notebooks: list[Notebook], only: list[str] | None) -> list[Notebook]:
    """The notebooks named (by number, ``4`` or ``04``, or by name) and everything they need."""
    if not only:
        return notebooks
    keys = [nb.key for nb in notebooks]
    wanted = set(keys_named(notebooks, only))
    for key in list(wanted):
        wanted.update(ancestors(key, keys))
    return [nb for nb in notebooks if nb.key in wanted]


def stable_ids(nb: nbformat.NotebookNode, stem: str) -> None:
    """Cell ids from the notebook name and position, not random."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = hashlib.sha1(f"{stem}:{i}".encode()).hexdigest()[:12]


def coalesce_streams(cell: nbformat.NotebookNode) -> None:
    """Merge consecutive stdout/stderr chunks: how a print is split into messages depends on timing."""
    merged = []
    for out in cell.get("outputs", []):
        if merged and out.output_type == "stream" and merged[-1].output_type == "stream" \
                and merged[-1].name == out.name:
            merged[-1].text += out.text
        else:
            merged.append(out)
    cell.outputs = merged


def strip_volatile(nb: nbformat.NotebookNode, parameters: dict | None) -> None:
    """Drop timings and run-specific paths.

    With ``parameters=None`` (the canonical run: the notebooks' own defaults) papermill's
    injected cell is removed, so that the executed notebook has exactly the cells of its
    ``.py`` and ``jupytext --sync`` keeps its outputs. Otherwise the injected cell shows the
    parameters a reader would pass.
    """
    nb.metadata.pop("papermill", None)
    kept = []
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
        if cell.cell_type == "code":
            coalesce_streams(cell)
        if "injected-parameters" in cell.metadata.get("tags", []):
            if parameters is None:
                continue
            cell.source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
        kept.append(cell)
    nb.cells = kept


def _shown(path: Path | None) -> str | None:
    """A path as recorded in executed notebooks: repository-relative, else its name only."""
    return None if path is None else paths.relative(path)


def shown_parameters(data: Path, target: paths.Paths, spec: Path | None = None,
                     mapping: Path | None = None) -> dict | None:
    """Parameters as recorded in executed notebooks: no absolute path of the machine that ran them;
    None when they are the notebooks' defaults (the canonical run)."""
    out_shown = None if target.out == paths.ROOT else target.out.name
    try:
        default = Path(data).resolve() == paths.default_input().resolve()
    except FileExistsError:
        default = False
    if default and out_shown is None and spec is None and mapping is None:
        return None
    return {"data_path": _shown(data), "out_dir": out_shown, "spec_path": _shown(spec),
            "mapping_path": _shown(mapping)}


#: patients whose derived columns stand for the whole input when the specification is checked
CHECK_ROWS = 500


def check_spec(spec_path: Path | None, raw) -> None:
    """A specification naming a column the analysis dataset will lack fails before anything runs."""
    spec = specs.load(spec_path)
    flow, eligible = endpoints.cohort_flow(raw.frame)
    # the columns the analysis dataset will have do not depend on how many patients it holds
    columns = endpoints.derive(raw.frame[eligible].head(CHECK_ROWS).reset_index(drop=True)).columns
    specs.check_columns(spec, columns)


def ensure_kernel() -> None:
    """Register this environment's kernel as ``daravd`` if `make install` has not done so."""
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        from ipykernel.kernelspec import install

        install(kernel_name=KERNEL, display_name=KERNEL_DISPLAY, prefix=sys.prefix)


def _ipc_kernel_manager(warm: zygote.Zygote | None = None):
    """Kernels talk to the runner over local sockets (IPC), not TCP: nothing is exposed on the
    network, two kernels started at once cannot race for a port, and the kernel has no reason
    to warn about running over TCP without encryption. With ``warm`` (a running
    :class:`compendium.run.zygote.Zygote`), each kernel is forked from it, its libraries imported."""
    import uuid

    from jupyter_client import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        # IPC sockets exist on POSIX systems only; elsewhere the kernel keeps TCP
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc" if os.name == "posix" else "tcp",
                                    config=True)

        @default("ip")
        def _ip_default(self) -> str:
            # an absolute socket path: kernel and runner have different working directories
            # (the kernel removes its socket files when it shuts down)
            return os.path.join(tempfile.gettempdir(), f"daravd-kernel-{uuid.uuid4().hex[:12]}")

        def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
            if warm is None or warm.path is None:
                return super().format_kernel_cmd(extra_arguments)
            return warm.kernel_cmd(os.path.realpath(self.connection_file))

    return IPCKernelManager


# ---------------------------------------------------------------- execution

def _cell_location(nb: Notebook, notebook: nbformat.NotebookNode, index: int) -> str:
    """'cell 12 (line 80 of notebooks/04_survival.py): `first line`' for the cell at ``index``."""
    first = next((line for line in notebook.cells[index].source.splitlines() if line.strip()), "")
    starts = trace.cell_starts(nb.source.read_text().splitlines())  # numbered as claims.csv numbers cells
    where = (f" (line {starts[index]} of {paths.relative(nb.source)})"
             if len(starts) == len(notebook.cells) else "")
    return f"cell {index + 1}{where}: `{first.strip()[:80]}`"


def _failure(nb: Notebook, notebook: nbformat.NotebookNode, err: BaseException) -> RunError:
    """Name the notebook, the cell and the error; no traceback."""
    if type(err).__name__ == "PapermillExecutionError":
        params = next((i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])), None)
        # papermill counts its injected cell, which sits right after the parameters cell
        index = err.cell_index - (1 if params is not None and err.cell_index > params + 1 else 0)
        index = min(max(index, 0), len(notebook.cells) - 1)
        return RunError(f"notebook {nb.stem} failed in {_cell_location(nb, notebook, index)}\n"
                        f"  {err.ename}: {err.evalue}")
    if type(err).__name__ == "DeadKernelError":
        return RunError(f"notebook {nb.stem}: its kernel died (out of memory, or killed): {err}")
    return RunError(f"notebook {nb.stem} could not be executed: {type(err).__name__}: {err}")


def execute(nb: Notebook, parameters: dict, staging: paths.Paths, shown: dict | None, progress: bool = False,
            warm: zygote.Zygote | None = None) -> Path:
    """Execute one notebook with papermill, its outputs going below ``staging`` (its kernel forked
    from ``warm`` when given)."""
    import jupytext  # imported here, not at the top: a fully cached rerun needs none of them
    import nbformat
    import papermill as pm

    notebook = jupytext.read(nb.source)
    # the pairing exactly as jupytext writes it into an .ipynb, so that `jupytext --sync` is a no-op
    pairing = {k: v for k, v in notebook.metadata.get("jupytext", {}).items() if k != "text_representation"}
    notebook.metadata["kernelspec"] = {"display_name": KERNEL_DISPLAY, "language": "python", "name": KERNEL}
    stable_ids(notebook, nb.stem)
    staging.notebooks.mkdir(parents=True, exist_ok=True)
    src = staging.out.parent / f".{nb.stem}.input.ipynb"
    out = staging.notebooks / f"{nb.stem}.ipynb"
    nbformat.write(notebook, src)
    try:
        pm.execute_notebook(
            str(src), str(out), parameters={**parameters, "out_dir": str(staging.out)},
            kernel_name=KERNEL, progress_bar=progress, log_output=False,
            request_save_on_cell_execute=False, kernel_manager_class=_ipc_kernel_manager(warm),
            resources={"metadata": {"path": str(paths.NOTEBOOKS)}},
        )
    except Exception as err:  # noqa: BLE001 - every failure becomes one message naming the cell
        raise _failure(nb, notebook, err) from None
    finally:
        src.unlink(missing_ok=True)
    executed = nbformat.read(out, as_version=4)
    strip_volatile(executed, shown)
    stable_ids(executed, nb.stem)
    executed.metadata["jupytext"] = pairing
    paths.atomic_write_text(out, nbformat.writes(executed) + "\n")
    return out


def _copy_outputs(outputs: dict[str, str], src_root: Path, dest_root: Path) -> None:
    for rel in data_outputs(outputs):
        dest = dest_root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / rel, dest)


def _created_root(out: Path) -> Path | None:
    """The topmost folder that creating ``out`` would make (to remove it again on failure)."""
    created = None
    for folder in [out, *out.parents]:
        if folder.exists():
            break
        created = folder
    return created


class _Run:
    """One run: schedules the selected notebooks over the graph, executes or reuses each."""

    def __init__(self, selected, data, target, shown, context, jobs, quiet, warm: zygote.Zygote,
                 forced: set[str] = frozenset()):
        self.selected, self.data, self.target, self.shown = selected, data, target, shown
        self.context, self.jobs, self.quiet = context, jobs, quiet
        self.keys = [nb.key for nb in selected]
        self.stems = {nb.key: nb.stem for nb in selected}
        self.forced = descendants(forced, self.keys)  # executed even when cached, and what reads them
        self.cache = Cache(target.out / CACHE_DIR)
        self.outputs: dict[str, dict[str, str]] = {}   # key -> files it wrote (rel -> sha256)
        self.where: dict[str, Path] = {}               # key -> root its outputs are under now
        self.run_parts: dict[str, dict] = {}           # key -> the parts of the cache key it executed under
        self.seconds: dict[str, float] = {}            # key -> how long an executed notebook took
        # ready notebooks start longest first (their last recorded time, here or in the repository's
        # own run), so that no long one is left to run alone at the end; unknown ones keep their order
        hints = [self.cache, Cache(paths.ROOT / CACHE_DIR)]
        self.expected = {nb.key: next((t for c in hints if (t := c.seconds(nb)) is not None), 0.0)
                         for nb in selected}
        self.executed: list[str] = []
        self.cached: list[str] = []
        self.lock = threading.Lock()
        self.warm = warm  # waited for when a notebook has to be executed

    def say(self, text: str) -> None:
        if not self.quiet:
            with self.lock:  # workers report too: one whole line at a time
                sys.stdout.write(text + "\n")
                sys.stdout.flush()

    def _ancestors(self, key: str) -> list[str]:
        return ancestors(key, self.keys)

    def _execute_one(self, nb: Notebook, staging_root: Path) -> tuple[float, dict[str, str]]:
        self.say(f"  running   {nb.stem}")
        start = time.perf_counter()
        staging = paths.Paths(staging_root / nb.stem)
        staging.out.mkdir(parents=True, exist_ok=True)  # 01's may hold the validated input already
        for dep in self._ancestors(nb.key):
            _copy_outputs(self.outputs[dep], self.where[dep], staging.out)
        copied = set(outputs_of(staging.out))
        execute(nb, self.data, staging, self.shown, warm=self.warm)  # self.data: every notebook's parameters
        return time.perf_counter() - start, outputs_of(staging.out, skip=copied)

    def _by_expected_time(self, pending: dict) -> list:
        return sorted(pending.items(), key=lambda item: -self.expected.get(item[0], 0.0))

    def schedule(self, staging_root: Path) -> None:
        pending = {nb.key: nb for nb in self.selected}
        running: dict = {}
        failure: RunError | None = None
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            while (pending and failure is None) or running:
                reused = False  # a cached notebook makes those after it ready: then look again at once
                for key, nb in self._by_expected_time(pending):
                    if failure is not None or not all(d in self.outputs for d in depends_on(key, self.keys)):
                        continue
                    del pending[key]
                    upstream = {self.stems[d]: self.outputs[d] for d in self._ancestors(key)}
                    parts = key_parts(nb, self.context, upstream)
                    hit = None if key in self.forced else self.cache.lookup(nb, key_of(parts), self.target.out)
                    if hit is not None:
                        self.outputs[key], self.where[key] = hit, self.target.out
                        self.cached.append(key)
                        self.say(f"  cached    {nb.stem}")
                        reused = True
                        continue
                    self.run_parts[key] = parts
                    if not self.executed and not running:  # the first notebook to execute:
                        import papermill  # noqa: F401 - imported once here, not by two workers at once
                        self.warm.ready()  # and wait until the warm process (started by run()) listens
                    running[pool.submit(self._execute_one, nb, staging_root)] = nb
                if not running:
                    if reused:
                        continue
                    if pending and failure is None:  # cannot happen with a graph that has no cycle
                        raise RunError(f"notebooks {', '.join(pending)} wait on each other (cycle in runner.GRAPH)")
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    nb = running.pop(future)
                    try:
                        seconds, written = future.result()
                    except RunError as err:
                        failure = failure or err
                        continue
                    self.outputs[nb.key], self.where[nb.key] = written, staging_root / nb.stem
                    self.seconds[nb.key] = round(seconds, 1)
                    self.executed.append(nb.key)
                    self.say(f"  done      {nb.stem} ({seconds:.1f} s)")
        if failure is not None:
            raise failure

    def commit(self, staging_root: Path) -> None:
        """Move every executed notebook's outputs into place, then remember them in the cache."""
        for nb in self.selected:
            if nb.key in self.executed:
                for rel in self.outputs[nb.key]:
                    dest = self.target.out / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging_root / nb.stem / rel, dest)
        for nb in self.selected:
            if nb.key in self.executed:
                self.cache.store(nb, self.run_parts[nb.key], self.outputs[nb.key], self.seconds.get(nb.key))


@dataclass(frozen=True)
class Inputs:
    """A run's arguments resolved as the run reads them (``run`` and ``status`` alike)."""

    data: Path
    spec: Path | None
    mapping: Path | None
    target: paths.Paths
    shown: dict | None  # the parameters as executed notebooks record them

    @classmethod
    def resolve(cls, data=None, out=None, spec=None, mapping=None) -> "Inputs":
        data_path = Path(data).resolve() if data else paths.default_input()
        spec_path = Path(spec).resolve() if spec else None
        mapping_path = Path(mapping).resolve() if mapping else None
        target = paths.Paths.for_run(out)
        return cls(data_path, spec_path, mapping_path, target,
                   shown_parameters(data_path, target, spec_path, mapping_path))

    def context(self, input_sha256: str) -> dict:
        """The cache-key parts every notebook of this run shares."""
        return run_context(self.shown, input_sha256, self.spec, self.mapping)


def run(data: str | None = None, out: str | None = None, only: list[str] | None = None,
        progress: bool = True, jobs: int = JOBS, spec: str | None = None, mapping: str | None = None,
        force: list[str] | None = None) -> paths.Paths:
    """The whole pipeline (or the notebooks in ``only`` and what they need); returns the
    output locations. ``progress=False`` prints only the summary. The notebooks in ``force``, and
    every notebook that reads their outputs, are executed even when their cache is fresh."""
    notebooks = discover()
    forced = set(keys_named(notebooks, force, "--force")) if force else set()
    selected = select(notebooks, [*only, *sorted(forced)] if only else None)
    # the warm process that kernels are forked from imports while the input is checked
    warm = zygote.take(paths.NOTEBOOKS)
    try:
        return _run(selected, data, out, progress, jobs, spec, mapping, warm, forced)
    finally:
        warm.close()


def _run(selected, data, out, progress, jobs, spec, mapping, warm, forced=frozenset()) -> paths.Paths:
    inputs = Inputs.resolve(data, out, spec, mapping)
    data_path, spec_path, mapping_path, target = inputs.data, inputs.spec, inputs.mapping, inputs.target
    # fail fast, before anything is written, with the dictionary's, the mapping's or the spec's message
    raw = load_raw(data_path, mappings.load(mapping_path))
    for note in raw.notices:
        print(f"notice: {note}", file=sys.stderr)
    check_spec(spec_path, raw)
    synthetic = dataset.is_synthetic(raw.source, raw.sha256)
    if not synthetic:  # 00 documents how the synthetic cohort was made: nothing to say about other data
        selected = [nb for nb in selected if nb.key != "00"]
    ensure_kernel()
    created = _created_root(target.out)
    started = time.perf_counter()
    parameters = {"data_path": str(data_path), "spec_path": spec_path and str(spec_path),
                  "mapping_path": mapping_path and str(mapping_path)}
    job = _Run(selected, parameters, target, inputs.shown, inputs.context(raw.sha256), max(1, jobs),
               quiet=not progress, warm=warm, forced=forced)
    staging_dir = None
    try:
        target.out.mkdir(parents=True, exist_ok=True)
        staging_dir = Path(tempfile.mkdtemp(prefix=".run-", dir=target.out))
        # validated once per run: notebook 01 reads this frame back from its staging folder's cache
        # (compendium.data.validated), which goes when the run ends, as every staged file does
        for nb in (nb for nb in selected if nb.key == "01"):
            validated.save(raw.frame, raw.notices, validated.location(staging_dir / nb.stem, raw.sha256, mapping_path))
        rows = len(raw.frame)
        raw = replace(raw, frame=raw.frame.head(0))  # the runner holds no copy of the data while notebooks run
        job.schedule(staging_dir)
        warm.close()  # the warm process and every kernel it forked end here (run() closes it on failure)
        job.commit(staging_dir)
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    finally:
        if staging_dir is not None:
            shutil.rmtree(staging_dir, ignore_errors=True)
    ran = {nb.stem for nb in selected}
    dataset.write_provenance(target, raw, spec_path, mapping_path, sorted(ran), rows=rows)
    table = claims.gather(target, synthetic=synthetic, ran=ran)
    counts = table["status"].value_counts().to_dict()
    forced_here = sorted(job.forced & set(job.executed))
    print(f"{len(selected)} notebooks: {len(job.executed)} executed, {len(job.cached)} unchanged (cached), "
          f"{time.perf_counter() - started:.1f} s" + (f"; forced: {', '.join(forced_here)}" if forced_here else ""))
    print(f"claims: {len(table)} registered; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"outputs under {target.out}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compendium", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute the notebooks with papermill (cached, in parallel)")
    p_run.add_argument("--data", help="input file (CSV or XLSX in data/dictionary.csv format); "
                                      "default: the file in data/raw/, else the synthetic cohort")
    p_run.add_argument("--out", help="write every output below this directory instead of the repository")
    p_run.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (and what they need)")
    p_run.add_argument("--jobs", type=int, default=JOBS, help=f"notebooks run at once (default {JOBS})")
    p_run.add_argument("--no-progress", action="store_true", help="print the summary only")
    p_run.add_argument("--spec", help="analysis specification (TOML); default: the paper's, data/spec/paper.toml")
    p_run.add_argument("--mapping", help="mapping of an export's columns, codes and date format to the "
                                         "dictionary (TOML; write a skeleton with `map EXPORT --template FILE`)")
    p_run.add_argument("--force", nargs="+", metavar="NN",
                       help="execute these notebooks (and those that read their outputs) even when nothing changed")
    p_status = sub.add_parser("status", help="which notebooks a rerun would execute, and which input changed")
    p_status.add_argument("--out", help="the run's folder (default: the repository's canonical run)")
    p_status.add_argument("--data", help="input file, as given to `run` (default: as `run` chooses it)")
    p_status.add_argument("--spec", help="analysis specification, as given to `run`")
    p_status.add_argument("--mapping", help="mapping file, as given to `run`")
    p_cmp = sub.add_parser("compare", help="the inputs, claims and estimates in which two runs differ")
    p_cmp.add_argument("run_a", metavar="RUN_A", help="a run's folder (`run --out RUN_A`; `.`: the repository's)")
    p_cmp.add_argument("run_b", metavar="RUN_B", help="another run's folder")
    p_cmp.add_argument("--tolerance", type=float, default=None,
                       help="relative difference below which two estimates are the same (default 1e-9)")
    p_cmp.add_argument("--csv", metavar="FILE", help="also write every difference to this CSV")
    p_syn = sub.add_parser("synthetic", help="regenerate data/synthetic/, or write a generated cohort of any size")
    p_syn.add_argument("--n", type=int, default=None, help="patients (default 85: the paper's cohort, pinned to its counts)")
    p_syn.add_argument("--seed", type=int, default=None, help="seed of a free draw from the model (any N)")
    p_syn.add_argument("--out", help="output CSV (default: data/synthetic/daravd_synthetic_cohort.csv for the default cohort)")
    p_site = sub.add_parser("site", help="render the executed notebooks as a static site")
    p_site.add_argument("--out", help="site folder (default: _site/)")
    p_site.add_argument("--run", metavar="DIR", help="render the run written with `run --out DIR` "
                                                     "(default: the repository's canonical run)")
    p_val = sub.add_parser("validate", help="validate a raw file against the dictionary")
    p_val.add_argument("file")
    p_val.add_argument("--mapping", help="mapping file (TOML), applied in memory before validation")
    p_val.add_argument("--queries", metavar="FILE.csv", help="write every data query (patient, rule, values) to this CSV")
    p_map = sub.add_parser("map", help="write a mapping skeleton for an export whose columns and codes differ "
                                       "from data/dictionary.csv")
    p_map.add_argument("export", help="the export (CSV or XLSX)")
    p_map.add_argument("--template", required=True, metavar="MAPPING", help="the mapping file to write (TOML)")
    from compendium.data import fetch as fetching
    p_fetch = sub.add_parser("fetch", help="download the study's Zenodo deposit into data/raw/ and verify it "
                                           "(the one step that needs a network)")
    p_fetch.add_argument("--record", default=fetching.DEFAULT_RECORD,
                         help=f"Zenodo record number or DOI (default {fetching.DEFAULT_RECORD}: the paper's deposit)")
    p_fetch.add_argument("--to", default=None, metavar="DIR", help="folder to download into (default: data/raw/)")
    p_fetch.add_argument("--overwrite", action="store_true",
                         help="replace a file that is there already and differs from the deposit's")
    p_fetch.add_argument("--api", default=None, help=f"Zenodo API address (default ${fetching.API_ENV}, "
                                                     f"else {fetching.DEFAULT_API})")
    p_fetch.add_argument("--timeout", type=float, default=fetching.TIMEOUT,
                         help=f"seconds without an answer before giving up (default {fetching.TIMEOUT:g})")
    p_exp = sub.add_parser("export", help="write the supplement's tables (Tables 1-6, models, evidence, "
                                          "reconciliation) as Word or LaTeX, or the whole supplement as PDF")
    p_exp.add_argument("--run", metavar="DIR", help="the run written with `run --out DIR` (default: the canonical run)")
    p_exp.add_argument("--to", required=True, choices=["docx", "latex", "pdf"], help="the format")
    p_exp.add_argument("--out", metavar="FILE", help="the file to write (default: _export/supplement.EXT, "
                                                      "or DIR/export/supplement.EXT for --run DIR)")
    p_exp.add_argument("--spec", help="analysis specification (TOML) the run used; default: the paper's")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            return fetching.command(args.record, args.to or paths.RAW_DIR, api=args.api, timeout=args.timeout,
                                    overwrite=args.overwrite)
        if args.command == "run":
            run(args.data, args.out, args.only, progress=not args.no_progress, jobs=args.jobs,
                spec=args.spec, mapping=args.mapping, force=args.force)
        elif args.command == "status":
            from compendium.run import status
            print(status.report(status.status(args.data, args.out, args.spec, args.mapping), args))
        elif args.command == "compare":
            from compendium.run import compare
            print(compare.report(compare.compare(args.run_a, args.run_b, args.tolerance), args.csv))
        elif args.command == "map":
            written = mappings.write_template(args.export, args.template)
            print(f"wrote {written}: a proposal for every variable, with its evidence; check each, set "
                  f"`confirmed = true` under [template], then "
                  f"`python -m compendium validate {args.export} --mapping {written}`")
        elif args.command == "synthetic":
            from compendium.synthetic import write_cli  # the generator is loaded only for this command
            print(f"wrote {write_cli(args.n, args.seed, args.out)}")
        elif args.command == "site":
            from compendium.run import site
            if args.run and not Path(args.run).is_dir():
                raise FileNotFoundError(f"--run {args.run}: no such folder (write one with `run --out {args.run}`)")
            print(f"wrote {site.build(args.out, paths.Paths.for_run(args.run))}")
        elif args.command == "export":
            from compendium.report import export
            written, missing = export.export(args.run, args.to, args.out, args.spec)
            for line in missing:
                print(f"not exported: {line}", file=sys.stderr)
            print(f"wrote {written}")
        elif args.command == "validate":
            mapping = mappings.load(args.mapping, unconfirmed_ok=True)
            raw = load_raw(args.file, mapping)
            for note in raw.notices:
                print(f"notice: {note}", file=sys.stderr)
            print(f"{args.file}: {len(raw.frame)} rows follow the dictionary (sha256 {raw.sha256})")
            from compendium.data import queries  # the clinical rules, as queries: they never refuse a file
            found = queries.queries(raw.frame)
            print(queries.report(found, args.file))
            if args.queries:
                written = Path(args.queries)
                if written.resolve() == Path(args.file).resolve():
                    raise FileExistsError(f"--queries {args.queries} is the input itself: name another file")
                from compendium.report import cells
                paths.atomic_write_text(written, cells.to_csv(found))
                print(f"wrote {len(found)} queries to {written}")
            if mapping is not None and not mapping.confirmed:
                print(f"notice: {args.mapping} is not confirmed: `run` refuses it until {mappings.UNCONFIRMED}",
                      file=sys.stderr)
    except DataValidationError as err:
        print(err, file=sys.stderr)
        return 2
    except (mappings.MappingError, specs.SpecError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RunError as err:
        print(f"error: {err}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return 1
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0

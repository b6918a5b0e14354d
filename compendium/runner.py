"""Run the notebooks in order with papermill: ``python -m compendium run``.

Each notebook's source is its jupytext ``.py`` file. A run executes the
selected notebooks (and what they depend on) into a private staging folder,
then moves everything into place only when all of them succeeded: a failed run
leaves no half-written results behind. Executed notebooks are stripped of
timings and given stable cell ids, so a rerun on the same input is
byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from . import claims, dataset, endpoints, paths
from . import mapping as mappings
from . import spec as specs
from .loading import DataValidationError, load_raw

KERNEL = "daravd"
KERNEL_DISPLAY = "DaraVd compendium"
RECONCILIATION = "08"


@dataclass(frozen=True)
class Notebook:
    key: str      # "04"
    stem: str     # "04_survival"
    source: Path  # notebooks/04_survival.py

    @property
    def depends(self) -> tuple[str, ...]:
        """Everything after cleaning reads the analysis dataset that 01 writes; the
        reconciliation (08) reads what every other notebook recorded."""
        if self.key == RECONCILIATION:
            return tuple(nb.key for nb in discover() if nb.key != RECONCILIATION)
        return ("01",) if self.key not in ("00", "01") else ()


def discover() -> list[Notebook]:
    found = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    return [Notebook(p.name[:2], p.stem, p) for p in found]


def select(notebooks: list[Notebook], only: list[str] | None) -> list[Notebook]:
    if not only:
        return notebooks
    by_key = {nb.key: nb for nb in notebooks}
    wanted = {k.zfill(2)[:2] for k in only}
    unknown = sorted(wanted - set(by_key))
    if unknown:
        raise SystemExit(f"--only: no notebook numbered {', '.join(unknown)} (have {', '.join(by_key)})")
    for key in list(wanted):
        wanted.update(by_key[key].depends)
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


def strip_volatile(nb: nbformat.NotebookNode, parameters: dict) -> None:
    """Drop timings and run-specific paths; show the parameters a reader would pass."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            coalesce_streams(cell)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())


def _shown(path: Path | None) -> str | None:
    """A path as recorded in executed notebooks: repository-relative, else its name only."""
    return None if path is None else paths.relative(path)


def shown_parameters(data: Path, target: paths.Paths, spec: Path | None = None,
                     mapping: Path | None = None) -> dict:
    """Parameters as recorded in executed notebooks: no absolute path of the machine that ran them."""
    out_shown = None if target.out == paths.ROOT else target.out.name
    return {"data_path": _shown(data), "out_dir": out_shown, "spec_path": _shown(spec),
            "mapping_path": _shown(mapping)}


def check_spec(spec_path: Path | None, raw) -> None:
    """A specification naming a column the analysis dataset will lack fails before anything runs."""
    spec = specs.load(spec_path)
    flow, eligible = endpoints.cohort_flow(raw.frame)
    columns = endpoints.derive(raw.frame[eligible].reset_index(drop=True)).columns
    specs.check_columns(spec, columns)


def ensure_kernel() -> None:
    """Register this environment's kernel as ``daravd`` if `make install` has not done so."""
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        from ipykernel.kernelspec import install

        install(kernel_name=KERNEL, display_name=KERNEL_DISPLAY, prefix=sys.prefix)


def execute(nb: Notebook, parameters: dict, staging: paths.Paths, shown: dict, progress: bool) -> Path:
    import papermill as pm

    notebook = jupytext.read(nb.source)
    notebook.metadata["kernelspec"] = {"display_name": KERNEL_DISPLAY, "language": "python", "name": KERNEL}
    stable_ids(notebook, nb.stem)
    staging.notebooks.mkdir(parents=True, exist_ok=True)
    src = staging.notebooks / f".{nb.stem}.input.ipynb"
    out = staging.notebooks / f"{nb.stem}.ipynb"
    nbformat.write(notebook, src)
    pm.execute_notebook(
        str(src), str(out), parameters={**parameters, "out_dir": str(staging.out)},
        kernel_name=KERNEL, cwd=str(paths.NOTEBOOKS), progress_bar=progress, log_output=False,
    )
    src.unlink()
    executed = nbformat.read(out, as_version=4)
    strip_volatile(executed, shown)
    stable_ids(executed, nb.stem)
    paths.atomic_write_text(out, nbformat.writes(executed) + "\n")
    return out


def _move_tree(staging: Path, target: Path) -> list[Path]:
    moved = []
    for src in sorted(p for p in staging.rglob("*") if p.is_file()):
        dest = target / src.relative_to(staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        moved.append(dest)
    return moved


def run(data: str | None = None, out: str | None = None, only: list[str] | None = None,
        progress: bool = True, spec: str | None = None, mapping: str | None = None) -> paths.Paths:
    """The whole pipeline; returns the output locations."""
    data_path = Path(data).resolve() if data else paths.default_input()
    spec_path = Path(spec).resolve() if spec else None
    mapping_path = Path(mapping).resolve() if mapping else None
    # fail fast, before anything is written, with the dictionary's, the mapping's or the spec's message
    raw = load_raw(data_path, mappings.load(mapping_path))
    check_spec(spec_path, raw)
    synthetic = dataset.is_synthetic(raw.source, raw.sha256)
    ensure_kernel()
    target = paths.Paths.for_run(out)
    target.out.mkdir(parents=True, exist_ok=True)
    selected = select(discover(), only)
    if not synthetic:  # 00 documents how the synthetic cohort was made: nothing to say about other data
        selected = [nb for nb in selected if nb.key != "00"]
    shown = shown_parameters(data_path, target, spec_path, mapping_path)
    parameters = {"data_path": str(data_path), "spec_path": spec_path and str(spec_path),
                  "mapping_path": mapping_path and str(mapping_path)}
    staging_dir = Path(tempfile.mkdtemp(prefix=".run-", dir=target.out))
    staging = paths.Paths(staging_dir)
    try:
        for i, nb in enumerate(selected, 1):
            print(f"[{i}/{len(selected)}] {nb.stem}", flush=True)
            execute(nb, parameters, staging, shown, progress)
        _move_tree(staging_dir, target.out)
    finally:
        shutil.rmtree(staging_dir, ignore_errors=True)
    dataset.write_provenance(target, raw, spec_path, mapping_path, [nb.stem for nb in selected])
    table = claims.gather(target, synthetic=synthetic)
    counts = table["status"].value_counts().to_dict()
    print(f"claims: {len(table)} registered; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"outputs under {target.out}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compendium", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute the notebooks in order with papermill")
    p_run.add_argument("--data", help="input file (CSV or XLSX in data/dictionary.csv format); "
                                      "default: the file in data/raw/, else the synthetic cohort")
    p_run.add_argument("--out", help="write every output below this directory instead of the repository")
    p_run.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (and what they need)")
    p_run.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    p_run.add_argument("--spec", help="analysis specification (TOML); default: the paper's, data/spec/paper.toml")
    p_run.add_argument("--mapping", help="mapping of an export's columns, codes and date format to the "
                                         "dictionary (TOML; write a skeleton with `map EXPORT --template FILE`)")
    sub.add_parser("synthetic", help="regenerate data/synthetic/ from compendium.synthetic")
    p_site = sub.add_parser("site", help="render a run's executed notebooks as a static site")
    p_site.add_argument("--run", help="the run's folder (the --out of `run`; default: the repository's canonical run)")
    p_site.add_argument("--out", help="site folder (default: _site/, or RUN/site/ with --run)")
    p_val = sub.add_parser("validate", help="validate a raw file against the dictionary")
    p_val.add_argument("file")
    p_val.add_argument("--mapping", help="mapping file (TOML), applied in memory before validation")
    p_map = sub.add_parser("map", help="write a mapping skeleton for an export whose columns and codes differ "
                                       "from data/dictionary.csv")
    p_map.add_argument("export", help="the export (CSV or XLSX)")
    p_map.add_argument("--template", required=True, metavar="MAPPING", help="the mapping file to write (TOML)")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            run(args.data, args.out, args.only, progress=not args.no_progress, spec=args.spec, mapping=args.mapping)
        elif args.command == "map":
            written = mappings.write_template(args.export, args.template)
            print(f"wrote {written}: check every line, fill in the empty codes, then "
                  f"`python -m compendium validate {args.export} --mapping {written}`")
        elif args.command == "synthetic":
            from . import synthetic
            synthetic.write()
            print(f"wrote {paths.relative(paths.SYNTHETIC_COHORT)}")
        elif args.command == "site":
            from . import site
            print(f"wrote {site.build(args.out, run=args.run)}")
        elif args.command == "validate":
            raw = load_raw(args.file, mappings.load(args.mapping))
            print(f"{args.file}: {len(raw.frame)} rows follow the dictionary (sha256 {raw.sha256})")
    except DataValidationError as err:
        print(err, file=sys.stderr)
        return 2
    except (mappings.MappingError, specs.SpecError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # papermill: show the failing cell's error, not a wall of traceback
        if type(err).__name__ == "PapermillExecutionError":
            print(f"error: a notebook failed ({err.ename}: {err.evalue}); nothing was written", file=sys.stderr)
            return 1
        raise
    return 0

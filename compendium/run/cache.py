"""The runner's content-hash cache, kept part by part.

A notebook is executed again only when something its result depends on changed: its ``.py``,
the run's parameters, the input file (sha256), the specification, the mapping, the package code,
registry, dictionary, synthetic cohort and evidence table (each file by sha256), the versions of
Python and the key packages, or the files written by the notebooks upstream of it. Those are the
*parts* of its cache key (:func:`key_parts`, the one function both ``run`` and ``status`` compute
them with); the record of a notebook (``<out>/.compendium-cache/<notebook>.json``) keeps the parts
themselves beside their hash, so that ``status`` can name the part that changed
(:func:`changes`), and the files the notebook wrote with their sha256.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from compendium import paths
from compendium.data.loading import sha256

CACHE_DIR = ".compendium-cache"
#: What a notebook reads from the repository besides its own source: a change to any of these
#: invalidates the cache of every notebook.
SHARED_SOURCES = ("compendium/**/*.py", "data/*.csv", "data/claims/*.csv", "data/synthetic/*", "data/spec/*",
                  "data/external/**/*")
#: Installed packages whose version is part of every cache key.
KEY_PACKAGES = ("numpy", "pandas", "scipy", "lifelines", "matplotlib", "pandera", "papermill",
                "nbformat", "ipykernel", "jupytext", "great-tables")
#: How a changed shared file is named, by where it lives (first match).
KINDS = (("compendium/", "package module"), ("data/claims/", "claims registry"),
         ("data/synthetic/", "synthetic cohort"), ("data/spec/", "specification file"),
         ("data/external/", "evidence file"), ("data/dictionary", "data dictionary"), ("", "file"))
SHOWN = 4  # changed files named one by one; more are counted


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def code_files() -> dict[str, str]:
    """The package code, registry, dictionary, synthetic cohort, ... (relative path -> sha256)."""
    files = sorted({f for pattern in SHARED_SOURCES for f in paths.ROOT.glob(pattern) if f.is_file()})
    return {f.relative_to(paths.ROOT).as_posix(): sha256(f) for f in files}


def versions() -> dict[str, str]:
    """Python's version and those of the key packages (``-`` for one not installed)."""
    found = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "-"
    return found


def run_context(parameters: dict | None, input_sha256: str, spec_path: Path | None,
                mapping_path: Path | None) -> dict:
    """The parts every notebook of a run shares (``spec_path`` None: the paper's specification)."""
    from compendium.data import spec as specs

    return {"parameters": parameters, "input_sha256": input_sha256,
            "spec_sha256": sha256(spec_path or specs.DEFAULT),
            "mapping_sha256": mapping_path and sha256(mapping_path),
            "code": code_files(), "versions": versions()}


def outputs_of(root: Path, skip: set[str] = frozenset()) -> dict[str, str]:
    """Every file below ``root`` (relative POSIX path -> sha256), except those in ``skip``."""
    found = {}
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root).as_posix()
        if rel not in skip and not rel.startswith(CACHE_DIR + "/"):
            found[rel] = sha256(f)
    return found


def data_outputs(outputs: dict[str, str]) -> dict[str, str]:
    """What downstream notebooks read: everything but the executed notebooks themselves, so
    that editing a notebook's prose does not re-execute what depends on it."""
    return {rel: h for rel, h in outputs.items() if not rel.startswith("notebooks/")}


def key_parts(nb, context: dict, upstream: dict[str, dict[str, str]]) -> dict:
    """Everything the notebook's result depends on: the run's shared parts, its own source, and
    what the notebooks upstream of it wrote (by notebook, relative path -> sha256)."""
    return dict(context, notebook=nb.stem, source=sha256(nb.source),
                upstream={k: data_outputs(v) for k, v in sorted(upstream.items())})


def key_of(parts: dict) -> str:
    return _sha256_text(json.dumps(parts, sort_keys=True))


def cache_key(nb, context: dict, upstream: dict[str, dict[str, str]]) -> str:
    """Hash of everything the notebook's result depends on."""
    return key_of(key_parts(nb, context, upstream))


def changed_outputs(outputs: dict[str, str], out: Path) -> list[str]:
    """The recorded outputs that are gone or no longer as written ("results/x.csv was removed")."""
    found = []
    for rel, digest in outputs.items():
        f = out / rel
        if not f.is_file():
            found.append(f"{rel} was removed")
        elif sha256(f) != digest:
            found.append(f"{rel} was changed since it was written")
    return found


@dataclass
class Cache:
    """One JSON record per notebook: the parts of its key, the key, and the files it wrote."""

    folder: Path

    def _record(self, nb) -> Path:
        return self.folder / f"{nb.stem}.json"

    def record(self, nb) -> dict | None:
        try:
            record = json.loads(self._record(nb).read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def lookup(self, nb, key: str, out: Path) -> dict[str, str] | None:
        """The notebook's outputs if it ran under ``key`` and they are still there, unchanged."""
        record = self.record(nb)
        if record is None or record.get("key") != key or not record.get("outputs"):
            return None
        return None if changed_outputs(record["outputs"], out) else record["outputs"]

    def store(self, nb, parts: dict, outputs: dict[str, str], seconds: float | None = None) -> None:
        record = {"notebook": nb.stem, "key": key_of(parts), "parts": parts, "outputs": outputs, "seconds": seconds}
        paths.atomic_write_text(self._record(nb), json.dumps(record, indent=1, sort_keys=True) + "\n")

    def seconds(self, nb) -> float | None:
        """How long the notebook took when it last ran into this folder (None: unknown)."""
        try:
            return float((self.record(nb) or {})["seconds"])
        except (KeyError, TypeError, ValueError):
            return None


# ---------------------------------------------------------------- naming what changed

def _files(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str]]:
    """(path, "changed" | "added" | "removed") for every file that differs."""
    return ([(f, "changed") for f in sorted(before.keys() & after.keys()) if before[f] != after[f]]
            + [(f, "added") for f in sorted(after.keys() - before.keys())]
            + [(f, "removed") for f in sorted(before.keys() - after.keys())])


def _kind(rel: str) -> str:
    return next(kind for prefix, kind in KINDS if rel.startswith(prefix))


def _listed(items: list[str]) -> str:
    shown = items[:SHOWN] + ([f"{len(items) - SHOWN} more"] if len(items) > SHOWN else [])
    return ", ".join(shown)


def _parameters(before: dict | None, after: dict | None) -> str:
    before, after = before or {}, after or {}
    said = [f"{k} {before.get(k)!r} -> {after.get(k)!r}" for k in sorted(before.keys() | after.keys())
            if before.get(k) != after.get(k)]
    return f"the run's parameters changed ({', '.join(said) or 'the defaults against named values'})"


def changes(before: dict, after: dict, names: dict[str, str] | None = None) -> list[str]:
    """What differs between the parts a notebook last ran under and the parts of a run now, in
    words: which input changed, naming the package module or the upstream notebook and its files.

    ``names`` says how to call the run's files in the message (``data``, ``spec``, ``mapping``).
    """
    names = names or {}
    said = []
    if before.get("source") != after.get("source"):
        said.append(f"its source {names.get('source', after.get('notebook', '') + '.py')} changed")
    if before.get("parameters") != after.get("parameters"):
        said.append(_parameters(before.get("parameters"), after.get("parameters")))
    if before.get("input_sha256") != after.get("input_sha256"):
        said.append(f"the data changed ({names.get('data', 'the input file')} has sha256 "
                    f"{str(after.get('input_sha256'))[:12]}; it ran on {str(before.get('input_sha256'))[:12]})")
    if before.get("spec_sha256") != after.get("spec_sha256"):
        said.append(f"the specification changed ({names.get('spec', 'its sha256')})")
    if before.get("mapping_sha256") != after.get("mapping_sha256"):
        was, now = before.get("mapping_sha256"), after.get("mapping_sha256")
        said.append("a mapping was added" if was is None else "the mapping was dropped" if now is None
                    else f"the mapping changed ({names.get('mapping', 'its sha256')})")
    by_kind: dict[str, list[str]] = {}
    for rel, how in _files(before.get("code") or {}, after.get("code") or {}):
        by_kind.setdefault(_kind(rel), []).append(rel if how == "changed" else f"{rel} ({how})")
    for kind, files in by_kind.items():
        said.append(f"{kind}{'s' if len(files) > 1 else ''} {_listed(files)} changed")
    old_versions, new_versions = before.get("versions") or {}, after.get("versions") or {}
    bumped = [f"{k} {old_versions.get(k, '-')} -> {new_versions.get(k, '-')}"
              for k in sorted(old_versions.keys() | new_versions.keys()) if old_versions.get(k) != new_versions.get(k)]
    if bumped:
        said.append(f"package versions changed ({_listed(bumped)})")
    old_up, new_up = before.get("upstream") or {}, after.get("upstream") or {}
    for stem in sorted(old_up.keys() | new_up.keys()):
        if stem not in old_up:
            said.append(f"it now reads the outputs of {stem}")
        elif stem not in new_up:
            said.append(f"it no longer reads the outputs of {stem}")
        elif old_up[stem] != new_up[stem]:
            files = [rel if how == "changed" else f"{rel} ({how})" for rel, how in _files(old_up[stem], new_up[stem])]
            said.append(f"the output of {stem} changed: {_listed(files)}")
    known = {"source", "parameters", "input_sha256", "spec_sha256", "mapping_sha256", "code", "versions",
             "upstream", "notebook"}
    other = sorted(k for k in (before.keys() | after.keys()) - known if before.get(k) != after.get(k))
    if other:
        said.append(f"the runner's record differs in {', '.join(other)}")
    return said

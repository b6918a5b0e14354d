"""``python -m compendium status``: which notebooks a rerun would execute, and why.

Each notebook is *fresh* when the parts of its cache key, computed now exactly as ``run`` computes
them (:func:`compendium.run.cache.key_parts`), equal those it last ran under in that folder and the
files it wrote are still there as written; otherwise it is *stale*, with every part that changed
named (:func:`compendium.run.cache.changes`). Nothing is executed and nothing is written.

What a notebook upstream will write is not known before it runs: a fresh notebook downstream of a
stale one is executed again only if the stale one's outputs come out different, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compendium import paths
from compendium.data import dataset
from compendium.data.loading import sha256
from compendium.run import cache, runner


@dataclass
class NotebookStatus:
    stem: str
    fresh: bool
    reasons: list[str] = field(default_factory=list)   # what changed (stale), in words
    waits_on: list[str] = field(default_factory=list)  # stale notebooks upstream (fresh ones)


@dataclass
class Status:
    inputs: runner.Inputs
    synthetic: bool
    notebooks: list[NotebookStatus]

    @property
    def stale(self) -> list[NotebookStatus]:
        return [nb for nb in self.notebooks if not nb.fresh]


def _exists(path: Path | None, option: str) -> None:
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"{option} {path.name}: no such file")


def _names(inputs: runner.Inputs) -> dict[str, str]:
    from compendium.data import spec as specs

    return {"data": paths.relative(inputs.data), "spec": paths.relative(inputs.spec or specs.DEFAULT),
            "mapping": paths.relative(inputs.mapping) if inputs.mapping else "none"}


def status(data: str | None = None, out: str | None = None, spec: str | None = None,
           mapping: str | None = None) -> Status:
    """Fresh or stale, and why, for every notebook ``run`` with these arguments would consider."""
    inputs = runner.Inputs.resolve(data, out, spec, mapping)
    _exists(inputs.data, "--data")
    _exists(inputs.spec, "--spec")
    _exists(inputs.mapping, "--mapping")
    input_sha = sha256(inputs.data)
    synthetic = dataset.is_synthetic(inputs.data, input_sha)
    notebooks = [nb for nb in runner.discover() if synthetic or nb.key != "00"]  # as run() selects them
    keys = [nb.key for nb in notebooks]
    stems = {nb.key: nb.stem for nb in notebooks}
    context = inputs.context(input_sha)
    records = cache.Cache(inputs.target.out / cache.CACHE_DIR)
    names = _names(inputs)
    found: dict[str, NotebookStatus] = {}
    outputs: dict[str, dict[str, str] | None] = {}  # what each notebook's readers find now (None: not there)
    for nb in _in_order(notebooks, keys):
        record = records.record(nb)
        recorded_up = ((record or {}).get("parts") or {}).get("upstream") or {}
        upstream, waits = {}, []
        for key in runner.ancestors(nb.key, keys):
            if not found[key].fresh or outputs[key] is None:
                waits.append(stems[key])
            # a stale notebook's outputs are not known yet: compare with what is there now, else
            # with what this one read last time (that is what it depends on if they come out the same)
            upstream[stems[key]] = outputs[key] if outputs[key] is not None else recorded_up.get(stems[key], {})
        parts = cache.key_parts(nb, context, upstream)
        if record is None or not record.get("outputs"):
            reasons = ["never run in this folder"]
        elif "parts" not in record:
            reasons = ["last run by a runner that did not record its inputs"]
        else:
            reasons = cache.changes(record["parts"], parts, dict(names, source=paths.relative(nb.source)))
            reasons += [f"its output {what}" for what in cache.changed_outputs(record["outputs"], inputs.target.out)]
            if not reasons and record.get("key") != cache.key_of(parts):
                reasons = ["its cache key differs"]
        intact = record is not None and record.get("outputs") and \
            not cache.changed_outputs(record["outputs"], inputs.target.out)
        outputs[nb.key] = record["outputs"] if intact else None
        fresh = not reasons
        found[nb.key] = NotebookStatus(nb.stem, fresh, reasons, waits if fresh else [])
    return Status(inputs, synthetic, [found[k] for k in keys])


def _in_order(notebooks: list[runner.Notebook], keys: list[str]) -> list[runner.Notebook]:
    """Every notebook after those it reads (the graph has no cycle: ``run`` checks it)."""
    done, ordered, todo = set(), [], list(notebooks)
    while todo:
        ready = [nb for nb in todo if set(runner.ancestors(nb.key, keys)) <= done]
        if not ready:
            raise runner.RunError(f"notebooks {', '.join(nb.key for nb in todo)} wait on each other "
                                  "(cycle in runner.GRAPH)")
        for nb in ready:
            ordered.append(nb)
            done.add(nb.key)
            todo.remove(nb)
    return ordered


def _command(args) -> str:
    """The ``run`` command this status is about, as the user would type it."""
    words = ["python -m compendium run"]
    for option in ("data", "spec", "mapping", "out"):
        value = getattr(args, option, None) if args is not None else None
        if value:
            words.append(f"--{option} {value}")
    return " ".join(words)


def report(result: Status, args=None) -> str:
    """The status as a reader sees it: one line per notebook, what changed below a stale one."""
    names = _names(result.inputs)
    label = "the synthetic cohort" if result.synthetic else "not the synthetic cohort"
    lines = [f"status of `{_command(args)}`: data {names['data']} ({label}), specification "
             f"{names['spec']}, mapping {names['mapping']}"]
    width = max(len(nb.stem) for nb in result.notebooks) if result.notebooks else 0
    for nb in result.notebooks:
        if nb.fresh:
            note = (f" (executed again if {', '.join(nb.waits_on)}, stale, "
                    f"{'writes' if len(nb.waits_on) == 1 else 'write'} different outputs)") if nb.waits_on else ""
            lines.append(f"  {nb.stem:<{width}}  fresh{note}")
        else:
            lines.append(f"  {nb.stem:<{width}}  stale: {nb.reasons[0]}")
            lines += [f"  {'':<{width}}         {reason}" for reason in nb.reasons[1:]]
    stale = result.stale
    if not stale:
        lines.append(f"every notebook is fresh: `{_command(args)}` would execute nothing")
    else:
        lines.append(f"{len(stale)} of {len(result.notebooks)} notebooks stale: `{_command(args)}` executes "
                     f"{'it' if len(stale) == 1 else 'them'}, and any notebook whose upstream outputs come out different")
    return "\n".join(lines)

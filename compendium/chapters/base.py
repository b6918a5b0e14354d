"""What every chapter shares: the run's context in, a result object out.

A notebook is one setup line, one ``compute`` call, then display and prose::

    ctx = setup(out_dir, spec_path)          # the dataset, the specification, the registry
    ch = survival.compute(ctx)               # everything the notebook shows
    ch.table("survival_km")                  # a tidy frame, as written to results/
    ch.figure("fig1a_pfs")                   # a figure, exactly as written to figures/
    ch.save()                                # results, figures and claim values, said aloud

Claims are declared once: a registry row (``data/claims/``) names in its ``estimate`` column the
computed quantity it is compared with (``median(pfs)``, ``median(pfs, vgpr_or_better=1)``,
``cox_p(os, len_exposure_months)``, ``logrank_p(pfs, amp1q)``), and table rows of the
specification carry their claim prefix. A chapter resolves those addresses through its
accessors; an address the run cannot give (a factor the specification dropped, a median not
estimable) is recorded as not reproducible with the reason, never raised.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compendium import paths
from compendium.data import dataset
from compendium.data import spec as specs
from compendium.report import claims, plots
from compendium.report import origin as trace


@dataclass(frozen=True)
class Context:
    """One run's inputs, as every chapter reads them."""

    paths: paths.Paths
    analysis: pd.DataFrame
    meta: dict
    spec: specs.Spec
    registry: pd.DataFrame

    @property
    def synthetic(self) -> bool:
        return bool(self.meta["synthetic"])

    @property
    def provenance(self) -> str:
        return dataset.provenance_label(self.meta)

    @classmethod
    def for_run(cls, out_dir=None, spec_path=None) -> "Context":
        run_paths = paths.Paths.for_run(out_dir)
        return cls(paths=run_paths, analysis=dataset.read_analysis(run_paths), meta=dataset.read_meta(run_paths),
                   spec=specs.load(spec_path), registry=claims.load_registry())


def declared_order(values, factor) -> list:
    """The values of a factor in the order its specification declares the levels (undeclared ones after,
    sorted): the first declared level is drawn first and takes the first colour, in every figure."""
    codes = [code for code, _ in factor.levels]
    rank = {code: i for i, code in enumerate(codes)}
    return sorted(values, key=lambda v: (rank.get(_level_code(v), len(codes)), _level_code(v)))


def _level_code(value) -> str:
    from compendium.stats.rates import level_label

    return level_label(value)


def setup(out_dir=None, spec_path=None, synthetic_note: str = "") -> Context:
    """The notebook's one setup line: read the run's inputs and show the banner naming them."""
    from IPython.display import display

    pd.set_option("display.max_rows", 200)
    context = Context.for_run(out_dir, spec_path)
    display(dataset.banner(context.paths, synthetic_note))
    return context


@dataclass(frozen=True)
class Estimate:
    """A value, or why there is none (``reason``); prose and tables show either the same way."""

    value: float = math.nan
    reason: str = ""

    @property
    def estimable(self) -> bool:
        return not self.reason and not _missing(self.value)


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


_ADDRESS = re.compile(r"^\s*(?P<kind>\w+)\s*\((?P<args>[^)]*)\)\s*$")


def parse_address(address: str) -> tuple[str, list[str], dict[str, str]]:
    """``median(pfs, vgpr_or_better=1)`` -> ('median', ['pfs'], {'vgpr_or_better': '1'})."""
    match = _ADDRESS.match(address)
    if not match:
        raise ValueError(f"estimate address {address!r} is not of the form kind(arg, key=value)")
    args, keys = [], {}
    for part in (p.strip() for p in match["args"].split(",") if p.strip()):
        key, eq, value = part.partition("=")
        if eq:
            keys[key.strip()] = value.strip()
        else:
            args.append(part)
    return match["kind"], args, keys


@dataclass
class Chapter:
    """The result object of one notebook: its tables, figures, claim values and facts."""

    notebook: ClassVar[str] = ""
    context: Context
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)   # results/<name>.csv
    shown: dict[str, pd.DataFrame] = field(default_factory=dict)    # shown in the notebook only
    figures: dict[str, Figure] = field(default_factory=dict)        # figures/<name>.png|svg
    values: dict[str, float] = field(default_factory=dict)          # claim id -> our value
    reasons: dict[str, str] = field(default_factory=dict)           # claim id -> why none
    origins: dict[str, trace.Origin] = field(default_factory=dict, repr=False)  # claim id -> cell that computed it
    _rendered: dict[str, tuple[bytes, bytes]] = field(default_factory=dict, repr=False)

    # -- what subclasses provide: how an address of the registry is computed
    def resolvers(self) -> dict[str, Callable[..., Estimate]]:
        return {}

    # -- claims
    def record(self, claim_id: str, estimate: Estimate | float | None) -> None:
        if not isinstance(estimate, Estimate):
            estimate = Estimate(math.nan if estimate is None else float(estimate))
        if estimate.reason:
            self.reasons[claim_id] = estimate.reason
            self.values.pop(claim_id, None)
        else:
            self.values[claim_id] = float(estimate.value)
            self.reasons.pop(claim_id, None)
        # traced now, inside compute: the notebook's cell that called it (save() runs in another cell)
        self.origins[claim_id] = trace.here(self.notebook)

    def estimate(self, address: str) -> Estimate:
        """The value an ``estimate`` address of the registry names, in this run."""
        kind, args, keys = parse_address(address)
        resolver = self.resolvers().get(kind)
        if resolver is None:
            return Estimate(reason=f"{kind}(...) is not computed by notebook {self.notebook}")
        return resolver(*args, **keys)

    def declared(self) -> pd.DataFrame:
        """The registry rows of this notebook that name an ``estimate`` address."""
        reg = self.context.registry
        mine = reg[(reg["notebook"] == self.notebook)]
        if "estimate" not in mine.columns:
            return mine.iloc[0:0]
        return mine[mine["estimate"].fillna("").astype(str).str.strip() != ""]

    def claims_where(self, kind: str | None = None, location: str | None = None) -> list[str]:
        """The ids of this notebook's declared claims computed as ``kind(...)`` and/or stated at ``location``."""
        rows = self.declared()
        if kind is not None:
            rows = rows[[parse_address(a)[0] == kind for a in rows["estimate"]]]
        if location is not None:
            rows = rows[rows["location"] == location]
        return list(rows["claim_id"])

    def fill_declared(self) -> None:
        for row in self.declared().itertuples(index=False):
            self.record(row.claim_id, self.estimate(row.estimate))

    def recorded(self, claim_ids=None) -> pd.DataFrame:
        """Paper beside compendium for the claims recorded (or those named)."""
        recorder = self._recorder()
        return recorder.table(claim_ids)

    def claims_table(self, claim_ids=None, title: str = "", empty: str = ""):
        """:meth:`recorded` for readers (``display.table(..., kind="claims")``), with the reason of each
        claim not reproducible; ``empty`` is what it says when ``claim_ids`` names none."""
        from compendium.report import display

        table = self.recorded(claim_ids)
        table["reason"] = [self.reasons.get(i, "") for i in table.index]
        return display.table(table, self.context.spec, kind="claims", title=title, empty=empty)

    def _recorder(self) -> claims.Recorder:
        recorder = claims.Recorder(self.notebook, self.context.paths, self.context.registry)
        estimates = self.context.registry.set_index("claim_id").get("estimate", pd.Series(dtype=str))
        compute_call = None
        for claim_id in [*self.values, *self.reasons]:
            where = self.origins.get(claim_id)
            if where is None or where.cell is None:  # filled in without record(), or outside a kernel
                where = compute_call = compute_call or trace.compute_call(self.notebook)
            address = estimates.get(claim_id, "")
            source = address if isinstance(address, str) and address.strip() else \
                trace.spec_source(self.context.spec, claim_id)
            if claim_id in self.values:
                recorder.record(claim_id, self.values[claim_id], origin=where, source=source)
            else:
                recorder.not_reproducible(claim_id, self.reasons[claim_id], origin=where, source=source)
        return recorder

    # -- display
    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name] if name in self.tables else self.shown[name]

    def _render(self, name: str) -> tuple[bytes, bytes]:
        if name not in self._rendered:
            self._rendered[name] = plots.render(self.figures[name], self.context.provenance)
        return self._rendered[name]

    def figure(self, name: str):
        """The figure as readers see it: the PNG bytes that ``save`` writes."""
        from IPython.display import Image

        return Image(data=self._render(name)[0], metadata={"figure": name})  # the site captions by it

    # -- output
    def save(self) -> None:
        """Write every table to results/, every figure to figures/, and the claim values."""
        for name, frame in self.tables.items():
            paths.write_csv(frame, self.context.paths.result(f"{name}.csv"))
        for name in self.figures:
            png, svg = self._render(name)
            stem = self.context.paths.figure(name)
            stem.parent.mkdir(parents=True, exist_ok=True)
            stem.with_suffix(".png").write_bytes(png)
            stem.with_suffix(".svg").write_bytes(svg)
        self._recorder().save()


def first(frame: pd.DataFrame, **where) -> dict | None:
    """The one row of ``frame`` where every column equals its value, or None (no ``.iloc[0]``)."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    hit = frame[mask]
    return None if len(hit) != 1 else hit.iloc[0].to_dict()


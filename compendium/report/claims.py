"""The claims registry: the paper's numbers, and ours beside them.

Published values are written in one place only, the registry ``data/claims/``
(one CSV per notebook that computes them, read as one table).
A notebook never types a published number: it computes a value and records it
against a claim id with :class:`Recorder`; the run then gathers every recorded
value into ``results/claims.csv`` (GUIDE contract) with a status, and with where each value was
recorded (:data:`TRACE_COLUMNS`: the notebook, cell and line of its ``.py``, traced by
:mod:`compendium.report.origin`, and the address or specification row it was computed from).

Registry columns: ``claim_id, location, quantity, published, unit, denominator,
tolerance, basis, notebook, note`` and, optionally, ``estimate``: the address of the
computed quantity the claim is compared with (``median(pfs)``, ``cox_p(os, amp1q)``), which
the notebook's chapter resolves (:mod:`compendium.chapters.base`), so that a claim is
declared once, here, and not typed cell by cell. ``basis`` says how the *synthetic* cohort
relates to the claim (``constructed``: the generator fixes it exactly;
``calibrated``: the generator aims at it; ``emergent``: nothing aims at it). On
real data every basis becomes ``observed``, except ``literature``: a number the
paper quotes from another publication, whose "reproduced" value is that
publication's number (from ``data/external/evidence.csv``); it says nothing about
the cohort and keeps its basis on any input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from compendium import paths
from compendium.report import origin as trace

REGISTRY_COLUMNS = [
    "claim_id", "location", "quantity", "published", "unit", "denominator",
    "tolerance", "basis", "notebook", "note",
]
BASES = {"constructed", "calibrated", "emergent", "literature"}
LITERATURE = "literature"  # quoted from another publication: never becomes "observed"
CLAIMS_COLUMNS = [
    "claim_id", "location", "quantity", "published", "reproduced", "tolerance",
    "basis", "status", "reason",
]
#: Where each value was recorded, after the GUIDE's columns: the notebook, the cell of it (numbered
#: as the runner numbers cells, markdown included, from 1) and the line of its ``.py`` that
#: recorded the value, and what it was computed from (the registry's ``estimate`` address, or
#: the row of a specification table); empty where not known (a value recorded outside a kernel).
TRACE_COLUMNS = ["notebook", "cell", "line", "source"]
#: What each notebook writes to ``results/claims/<notebook>.csv``.
RECORDED_COLUMNS = ["claim_id", "reproduced", "reason", "notebook", "cell", "line", "source"]


def load_registry(path=None) -> pd.DataFrame:
    """Read and check the registry: unique ids, known bases, numeric values."""
    path = path or paths.CLAIMS_REGISTRY
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    reg = pd.concat([
        pd.read_csv(f, dtype={"claim_id": str, "note": str, "unit": str, "estimate": str}, keep_default_na=False,
                    na_values={"published": [""], "tolerance": [""], "denominator": [""]})
        for f in files], ignore_index=True)
    missing = [c for c in REGISTRY_COLUMNS if c not in reg.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    dup = reg.loc[reg["claim_id"].duplicated(), "claim_id"].tolist()
    if dup:
        raise ValueError(f"{path}: duplicate claim ids {dup}")
    bad = sorted(set(reg["basis"]) - BASES)
    if bad:
        raise ValueError(f"{path}: unknown basis {bad}; expected one of {sorted(BASES)}")
    for col in ("published", "tolerance"):
        reg[col] = pd.to_numeric(reg[col], errors="raise")
    reg["estimate"] = reg["estimate"].fillna("") if "estimate" in reg.columns else ""
    return reg


@dataclass
class Recorder:
    """Collects the values one notebook computes for registered claims, and where each was recorded."""

    notebook: str
    run_paths: paths.Paths
    registry: pd.DataFrame = field(default_factory=load_registry)
    values: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    origins: dict = field(default_factory=dict)   # claim id -> origin.Origin
    sources: dict = field(default_factory=dict)   # claim id -> what it was computed from

    def _check(self, claim_id: str) -> None:
        if claim_id not in set(self.registry["claim_id"]):
            raise KeyError(f"claim {claim_id!r} is not in the claims registry (data/claims/)")

    def _trace(self, claim_id: str, origin: trace.Origin | None, source: str) -> None:
        # traced here, at the call, unless the caller knows better (a chapter records at compute time)
        self.origins[claim_id] = origin or trace.here(self.notebook)
        if source:
            self.sources[claim_id] = source

    def record(self, claim_id: str, value, origin: trace.Origin | None = None, source: str = "") -> None:
        """Record our computed value for a claim (None/NaN means: not reached / not estimable)."""
        self._check(claim_id)
        value = float("nan") if value is None else float(value)
        self.values[claim_id] = value
        self.reasons.pop(claim_id, None)
        self._trace(claim_id, origin, source)

    def not_reproducible(self, claim_id: str, reason: str, origin: trace.Origin | None = None,
                         source: str = "") -> None:
        """Say why a claim cannot be computed from the data (kept in results/claims.csv)."""
        self._check(claim_id)
        self.reasons[claim_id] = reason
        self.values.pop(claim_id, None)
        self._trace(claim_id, origin, source)

    def table(self, claim_ids=None) -> pd.DataFrame:
        """Paper beside compendium for display: the claims recorded so far (or those named)."""
        ids = list(claim_ids) if claim_ids is not None else list(self.values) + list(self.reasons)
        reg = self.registry.set_index("claim_id").loc[ids]
        out = pd.DataFrame({
            "location": reg["location"],
            "quantity": reg["quantity"],
            "paper": reg["published"],
            "compendium": [self.values.get(i, float("nan")) for i in ids],
            "unit": reg["unit"],
        })
        out["status"] = [
            status(reg.loc[i, "published"], self.values.get(i), reg.loc[i, "tolerance"])
            if i in self.values else "not_reproducible" for i in ids
        ]
        out["reason"] = [self.reasons.get(i, "") for i in ids]  # why a claim has no value (display says so)
        return out

    def save(self) -> None:
        """Write what this notebook recorded to ``results/claims/<notebook>.csv`` and say so."""
        rows = [{"claim_id": k, "reproduced": v, "reason": ""} for k, v in self.values.items()]
        rows += [{"claim_id": k, "reproduced": float("nan"), "reason": r} for k, r in self.reasons.items()]
        for row in rows:
            where = self.origins.get(row["claim_id"]) or trace.Origin(self.notebook)
            row.update(notebook=self.notebook, cell=where.cell, line=where.line,
                       source=self.sources.get(row["claim_id"], ""))
        frame = pd.DataFrame(rows, columns=RECORDED_COLUMNS).astype({"cell": "Int64", "line": "Int64"})
        paths.write_csv(frame, self.run_paths.claims_dir / f"{self.notebook}.csv")
        print(f"{self.notebook}: recorded {len(self.values)} claim values"
              + (f" and {len(self.reasons)} not reproducible" if self.reasons else "")
              + f" -> results/claims/{self.notebook}.csv")


def status(published: float, reproduced, tolerance: float) -> str:
    """``match`` when within tolerance (both 'not reached' also match), else ``differs``."""
    if reproduced is None:
        return "not_reproducible"
    pub_nan, rep_nan = math.isnan(published), math.isnan(reproduced)
    if pub_nan or rep_nan:
        return "match" if pub_nan and rep_nan else "differs"
    return "match" if abs(reproduced - published) <= tolerance + 1e-12 else "differs"


def gather(run_paths: paths.Paths, synthetic: bool, registry: pd.DataFrame | None = None,
           ran: set[str] | None = None) -> pd.DataFrame:
    """Join every notebook's recorded values with the registry into ``results/claims.csv``."""
    out = reconcile(run_paths, synthetic, registry, ran)
    paths.write_csv(out, run_paths.result("claims.csv"))
    return out


def reconcile(run_paths: paths.Paths, synthetic: bool, registry: pd.DataFrame | None = None,
              ran: set[str] | None = None) -> pd.DataFrame:
    """Registry and recorded values side by side, with a status per claim (not written).

    ``ran`` names the notebooks (``04_survival``) that were part of the run; the claims of any
    other notebook are ``not_run``, whatever an earlier run left in ``results/claims/``. By
    default a notebook took part when its ``results/claims/<notebook>.csv`` exists.
    """
    registry = load_registry() if registry is None else registry
    files = sorted(run_paths.claims_dir.glob("*.csv"))
    ran = {f.stem for f in files} if ran is None else set(ran)
    files = [f for f in files if f.stem in ran]
    recorded = pd.concat([_read_recorded(f) for f in files], ignore_index=True) if files else \
        pd.DataFrame(columns=RECORDED_COLUMNS)
    dup = recorded.loc[recorded["claim_id"].duplicated(), "claim_id"].tolist()
    if dup:
        raise ValueError(f"claims recorded by more than one notebook: {dup}")
    traced = recorded.rename(columns={c: f"recorded_{c}" for c in TRACE_COLUMNS})
    merged = registry.merge(traced, on="claim_id", how="left")
    rows = []
    for rec in merged.itertuples(index=False):
        reason = rec.reason if isinstance(rec.reason, str) else ""
        if rec.notebook not in ran:
            reason = f"notebook {rec.notebook} was not part of this run"
            st = "not_run"
        elif not isinstance(rec.reason, str):
            reason = "no notebook computed this claim in this run"
            st = "not_reproducible"
        elif reason:
            st = "not_reproducible"
        else:
            st = status(rec.published, rec.reproduced, rec.tolerance)
        took_part = rec.notebook in ran and isinstance(rec.reason, str)
        rows.append({
            "claim_id": rec.claim_id, "location": rec.location, "quantity": rec.quantity,
            "published": rec.published, "reproduced": rec.reproduced, "tolerance": rec.tolerance,
            "basis": rec.basis if synthetic or rec.basis == LITERATURE else "observed",
            "status": st, "reason": reason,
            "notebook": rec.recorded_notebook if took_part and rec.recorded_notebook else rec.notebook,
            "cell": rec.recorded_cell if took_part else pd.NA,
            "line": rec.recorded_line if took_part else pd.NA,
            "source": (rec.recorded_source if took_part and rec.recorded_source else "") or _text(rec, "estimate"),
        })
    return pd.DataFrame(rows, columns=CLAIMS_COLUMNS + TRACE_COLUMNS).astype({"cell": "Int64", "line": "Int64"})


def _text(rec, column: str) -> str:
    value = getattr(rec, column, "")
    return value if isinstance(value, str) else ""


def _read_recorded(path) -> pd.DataFrame:
    """One notebook's recorded values; a file written before claims were traced has no cell or line."""
    frame = pd.read_csv(path, dtype={"claim_id": str, "reason": str, "notebook": str, "source": str},
                        keep_default_na=False, na_values={"reproduced": [""], "cell": [""], "line": [""]})
    for column in RECORDED_COLUMNS:
        if column not in frame.columns:
            frame[column] = "" if column in ("notebook", "source") else pd.NA
    return frame[RECORDED_COLUMNS].astype({"cell": "Int64", "line": "Int64"})


def recorded_in(table: pd.DataFrame) -> pd.Series:
    """Where each claim's value was recorded, for display: ``04_survival, cell 5 (line 37)``
    (empty for a table without the trace columns)."""
    if not {"notebook", "cell"} <= set(table.columns):
        return pd.Series("", index=table.index, dtype=str)

    def number(value) -> int | None:  # Int64 from reconcile, text from a CSV read as such
        try:
            return None if pd.isna(value) or value == "" else int(float(value))
        except (TypeError, ValueError):
            return None

    def where(row) -> str:
        cell, line = number(row["cell"]), number(row.get("line"))
        if cell is None:
            return row["notebook"] if row.get("status") != "not_run" else ""
        return f"{row['notebook']}, cell {cell}" + (f" (line {line})" if line is not None else "")
    return table.apply(where, axis=1).astype(str) if len(table) else pd.Series([], index=table.index, dtype=str)

"""Mapping a real export onto the data dictionary, in memory.

A centre's export has its own column names ("Sesso"), codes ("Maschio") and date format
(DD/MM/YYYY). Rather than rewriting the file by hand, a user confirms a mapping once:

    python -m compendium map EXPORT --template MAPPING.toml   # proposals, to check and confirm
    python -m compendium validate EXPORT --mapping MAPPING.toml
    python -m compendium run --data EXPORT --mapping MAPPING.toml --out my-run/

The mapping renames columns, recodes values and parses the stated date format after the export
is read and before it is validated; the export itself is never written to. An unmapped required
variable, an export value with no code, or a date that does not follow the stated format is an
error that names it.

Mapping file (TOML)::

    [template]           # only in a file written by `map --template`
    confirmed = false    # true once every proposal is checked: `run` refuses the file before
    [columns]            # dictionary variable = "export column"
    sex = "Sesso"
    [values.sex]         # "export value" = "dictionary value"
    Maschio = "M"
    [dates]
    format = "%d/%m/%Y"  # every date column ("excel": Excel's serial day numbers)
    [dates.columns]      # single columns in another format
    birth_date = "excel"
    [numbers]
    decimal = ","        # numbers written 0,91
    [missing]
    values = ["n.d."]    # what the export writes for a missing value (not in patient_id, center)

The proposals themselves (which column, which code, which date format, and why) are made by
:mod:`compendium.data.mapping_propose` (dates: :mod:`compendium.data.mapping_dates`) and written by
:mod:`compendium.data.mapping_template`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from compendium import paths
from compendium.data.mapping_dates import EXCEL, excel_dates
from compendium.data.mapping_propose import IDENTIFIERS
from compendium.data.spec import read_toml

ISO = "%Y-%m-%d"
SECTIONS = {"template", "columns", "values", "dates", "numbers", "missing"}
UNCONFIRMED = ("its proposals are not confirmed yet: check every line marked PROPOSED or CHECK (and fill in "
               "what is marked NO), correct what is wrong, then set `confirmed = true` under [template]")


class MappingError(ValueError):
    """A mapping that cannot be applied; the message names the file and the entry."""


@dataclass(frozen=True)
class Mapping:
    path: Path
    columns: dict[str, str]                       # dictionary variable -> export column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # variable -> {export: dictionary}
    date_format: str = ISO
    date_columns: dict[str, str] = field(default_factory=dict)       # variable -> format
    decimal: str = "."
    missing: tuple[str, ...] = ()
    confirmed: bool = True

    def export_columns(self) -> list[str]:
        """The export columns this mapping names: what the export's header must hold."""
        return [c for c in self.columns.values() if c]

    def apply(self, export: pd.DataFrame, source: str, dictionary: pd.DataFrame) -> pd.DataFrame:
        """The export as the dictionary's text table (columns renamed, codes recoded, ISO dates)."""
        name = self.path.name
        problems = []
        unknown_vars = sorted(set(self.columns) - set(dictionary["name"]))
        if unknown_vars:
            problems.append(f"[columns] names variables that are not in data/dictionary.csv: {', '.join(unknown_vars)}")
        absent = sorted(c for c in self.columns.values() if c and c not in export.columns)
        if absent:
            problems.append(f"[columns] names export columns that {source} does not have: {', '.join(absent)} "
                            f"(its header: {', '.join(export.columns)})")
        twice = sorted({c for c in self.export_columns() if self.export_columns().count(c) > 1})
        if twice:
            problems.append(f"[columns] gives the export column(s) {', '.join(map(repr, twice))} to more than "
                            "one variable")
        required = dictionary.loc[dictionary["nullable"] == "no", "name"]
        unmapped = [v for v in dictionary["name"] if v not in self.columns or not self.columns[v]]
        unmapped_required = [v for v in unmapped if v in set(required) and v not in export.columns]
        if unmapped_required:
            problems.append(f"[columns] maps no export column to the required variable(s): {', '.join(unmapped_required)}")
        if problems:
            raise MappingError(f"{name}: cannot map {source}:\n  - " + "\n  - ".join(problems))
        out = pd.DataFrame(index=export.index)
        for var in dictionary["name"]:
            column = self.columns.get(var) or (var if var in export.columns else None)
            out[var] = export[column] if column else ""
        spec = dictionary.set_index("name")
        if self.missing:
            for var in out.columns.difference(IDENTIFIERS):
                listed = set(self.values.get(var, {}))  # a value given a code is not missing
                out[var] = out[var].mask(out[var].isin(set(self.missing) - listed), "")
        if self.decimal == ",":
            for var in spec.index[spec["type"] == "number"]:
                out[var] = out[var].str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
        for var, codes in self.values.items():
            if var not in out:
                continue
            col = out[var]
            known = set(codes) | {""}
            bad = sorted(set(col) - known)
            if bad:
                rows = [str(i + 2) for i in col.index[col.isin(bad)][:5]]
                problems.append(f"[values.{var}]: export value(s) {', '.join(repr(b) for b in bad)} of column "
                                f"'{self.columns.get(var, var)}' have no code (rows {', '.join(rows)}...); "
                                f"allowed codes: {spec.loc[var, 'allowed'] or 'any'}")
                continue
            empty = sorted(k for k, v in codes.items() if v == "" and (col == k).any())
            if empty:
                problems.append(f"[values.{var}]: export value(s) {', '.join(map(repr, empty))} are not given a code")
                continue
            out[var] = col.map(lambda v, c=codes: c.get(v, v))
        for var in dictionary.loc[dictionary["type"] == "date", "name"]:
            fmt = self.date_columns.get(var, self.date_format)
            if fmt == ISO:
                continue
            col = out[var]
            parsed = excel_dates(col) if fmt == EXCEL else pd.to_datetime(col.where(col != ""), format=fmt,
                                                                           errors="coerce")
            bad = col[(col != "") & parsed.isna()]
            if len(bad):
                shown = "Excel's serial day numbers" if fmt == EXCEL else f"the format {fmt!r}"
                problems.append(f"[dates]: column '{self.columns.get(var, var)}' ({var}) row {bad.index[0] + 2} value "
                                f"{bad.iloc[0]!r} does not follow {shown}"
                                + (f" ({len(bad)} such values)" if len(bad) > 1 else ""))
                continue
            out[var] = parsed.dt.strftime(ISO).fillna("")
        if problems:
            raise MappingError(f"{name}: cannot map {source}:\n  - " + "\n  - ".join(problems))
        return out


def load(path: str | Path | None, unconfirmed_ok: bool = False) -> Mapping | None:
    """Read a mapping file (None when no mapping is asked for).

    A template whose proposals are not confirmed is refused, unless ``unconfirmed_ok`` (``validate``
    reads it to show what the proposals give, and says that ``run`` will refuse it)."""
    if path is None:
        return None
    path = Path(path)
    doc = read_toml(path, MappingError, "mapping")
    unknown = sorted(set(doc) - SECTIONS)
    if unknown:
        raise MappingError(f"{path.name}: unknown section(s) {unknown}; expected "
                           "[template], [columns], [values.*], [dates], [numbers], [missing]")
    template = doc.get("template", {})
    confirmed = template.get("confirmed", True)
    if not isinstance(confirmed, bool) or set(template) - {"confirmed"}:
        raise MappingError(f"{path.name}: [template] holds only `confirmed = true` or `confirmed = false`")
    if not confirmed and not unconfirmed_ok:
        raise MappingError(f"{path.name}: {UNCONFIRMED}")
    columns = {str(k): str(v) for k, v in doc.get("columns", {}).items()}
    values = {str(var): {str(k): str(v) for k, v in codes.items()} for var, codes in doc.get("values", {}).items()}
    dates = doc.get("dates", {})
    fmt = str(dates.get("format", ISO))
    per_column = {str(k): str(v) for k, v in dates.get("columns", {}).items()}
    for f in [fmt, *per_column.values()]:
        if f == EXCEL:
            continue
        try:
            datetime.datetime(2020, 1, 31).strftime(f)
        except ValueError:
            raise MappingError(f"{path.name}: [dates] format {f!r} is not a strftime format") from None
    decimal = str(doc.get("numbers", {}).get("decimal", "."))
    if decimal not in (".", ","):
        raise MappingError(f"{path.name}: [numbers] decimal is {decimal!r}; expected \".\" or \",\"")
    missing = doc.get("missing", {}).get("values", [])
    if not isinstance(missing, list) or not all(isinstance(m, str) and m for m in missing):
        raise MappingError(f"{path.name}: [missing] values must be a list of texts, e.g. [\"n.d.\"]")
    return Mapping(path, columns, values, fmt, per_column, decimal, tuple(missing), confirmed)


def write_template(export_path: str | Path, out: str | Path) -> Path:
    """``python -m compendium map EXPORT --template OUT``: never overwrites an existing file."""
    from compendium.data.inputs import read_table
    from compendium.data.loading import load_dictionary
    from compendium.data.mapping_propose import propose
    from compendium.data.mapping_template import render

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists already; name another file or remove it")
    export = read_table(Path(export_path), None).frame  # any header: its names are what is mapped
    dictionary = load_dictionary()
    text = render(propose(export, dictionary), Path(export_path).name, dictionary)
    paths.atomic_write_text(out, text)
    return out

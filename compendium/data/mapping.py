"""Mapping a real export onto the data dictionary, in memory.

A centre's export has its own column names ("Sesso"), codes ("Maschio") and date format
(DD/MM/YYYY). Rather than rewriting the file by hand, a user writes a mapping once:

    python -m compendium map EXPORT --template MAPPING.toml   # a skeleton to edit
    python -m compendium validate EXPORT --mapping MAPPING.toml
    python -m compendium run --data EXPORT --mapping MAPPING.toml --out my-run/

The mapping renames columns, recodes values and parses the stated date format after the export
is read and before it is validated; the export itself is never written to. An unmapped required
variable, an export value with no code, or a date that does not follow the stated format is an
error that names it.

Mapping file (TOML)::

    [columns]            # dictionary variable = "export column"
    sex = "Sesso"
    [values.sex]         # "export value" = "dictionary value"
    Maschio = "M"
    [dates]
    format = "%d/%m/%Y"  # every date column; [dates.columns] overrides single columns
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from compendium import paths
from compendium.data.spec import read_toml

ISO = "%Y-%m-%d"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%m/%d/%Y", "%Y/%m/%d", "%d/%m/%y")


class MappingError(ValueError):
    """A mapping that cannot be applied; the message names the file and the entry."""


@dataclass(frozen=True)
class Mapping:
    path: Path
    columns: dict[str, str]                       # dictionary variable -> export column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # variable -> {export: dictionary}
    date_format: str = ISO
    date_columns: dict[str, str] = field(default_factory=dict)       # variable -> format

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
            parsed = pd.to_datetime(col.where(col != ""), format=fmt, errors="coerce")
            bad = col[(col != "") & parsed.isna()]
            if len(bad):
                problems.append(f"[dates]: column '{self.columns.get(var, var)}' ({var}) row {bad.index[0] + 2} value "
                                f"{bad.iloc[0]!r} does not follow the format {fmt!r}"
                                + (f" ({len(bad)} such values)" if len(bad) > 1 else ""))
                continue
            out[var] = parsed.dt.strftime(ISO).fillna("")
        if problems:
            raise MappingError(f"{name}: cannot map {source}:\n  - " + "\n  - ".join(problems))
        return out


def load(path: str | Path | None) -> Mapping | None:
    """Read a mapping file (None when no mapping is asked for)."""
    if path is None:
        return None
    path = Path(path)
    doc = read_toml(path, MappingError, "mapping")
    unknown = sorted(set(doc) - {"columns", "values", "dates"})
    if unknown:
        raise MappingError(f"{path.name}: unknown section(s) {unknown}; expected [columns], [values.*], [dates]")
    columns = {str(k): str(v) for k, v in doc.get("columns", {}).items()}
    values = {str(var): {str(k): str(v) for k, v in codes.items()} for var, codes in doc.get("values", {}).items()}
    dates = doc.get("dates", {})
    fmt = str(dates.get("format", ISO))
    per_column = {str(k): str(v) for k, v in dates.get("columns", {}).items()}
    for f in [fmt, *per_column.values()]:
        try:
            datetime.datetime(2020, 1, 31).strftime(f)
        except ValueError:
            raise MappingError(f"{path.name}: [dates] format {f!r} is not a strftime format") from None
    return Mapping(path, columns, values, fmt, per_column)


# --- the template -----------------------------------------------------------------------------

#: Names under which the commonest variables appear in Italian and English exports (the study's
#: centres are Italian); compared, like the variable's own name and description, after folding
#: case and accents.
ALIASES = {
    "patient_id": ["id paziente", "codice paziente", "paziente", "patient", "subject id", "id"],
    "center": ["centro", "centre", "site", "ospedale", "sede"],
    "sex": ["sesso", "gender", "genere"],
    "birth_date": ["data di nascita", "data nascita", "date of birth", "dob"],
    "isotype": ["isotipo", "isotipo componente monoclonale", "m protein type"],
    "diagnosis_date": ["data diagnosi", "data di diagnosi", "date of diagnosis"],
    "daravd_start_date": ["data inizio daravd", "inizio daravd", "data inizio terapia", "start of daravd"],
    "daravd_end_date": ["data fine daravd", "fine daravd", "stop daravd"],
    "best_response": ["migliore risposta", "best response", "risposta migliore"],
    "best_response_date": ["data migliore risposta", "date of best response"],
    "progression_date": ["data progressione", "data di progressione", "date of progression"],
    "death_date": ["data decesso", "data morte", "data di morte", "date of death"],
    "death_cause": ["causa decesso", "causa di morte", "cause of death"],
    "last_followup_date": ["ultimo follow up", "data ultimo follow up", "last follow up", "data ultimo contatto"],
    "emd_relapse": ["malattia extramidollare", "emd", "extramedullary disease"],
}

def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def best_column(variable: str, description: str, header: list[str]) -> tuple[str | None, float]:
    """The export column whose name is closest to the variable's name or description."""
    best, score = None, 0.0
    targets = [_norm(variable), _norm(description)] + [_norm(a) for a in ALIASES.get(variable, [])]
    for column in header:
        c = _norm(column)
        s = max(difflib.SequenceMatcher(None, c, t).ratio() for t in targets if t)
        if c in targets[:1] + targets[2:]:
            s = 1.0
        if s > score:
            best, score = column, s
    return best, score


def detect_date_format(values: pd.Series) -> list[str]:
    """Every candidate format that parses all non-empty values."""
    filled = values[values != ""]
    if filled.empty:
        return []
    return [f for f in DATE_FORMATS
            if pd.to_datetime(filled, format=f, errors="coerce").notna().all()]


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def template(export: pd.DataFrame, source: str, dictionary: pd.DataFrame, threshold: float = 0.6) -> str:
    """A mapping skeleton for an unknown export: best-matching columns, its values beside the codes."""
    header = list(export.columns)
    lines = [f"# Mapping of {source} to data/dictionary.csv, written by `python -m compendium map`.",
             "# Check every line: a guessed column is only the closest name. Then run",
             f"#   python -m compendium validate {source} --mapping THIS_FILE", "",
             "[columns]", "# dictionary variable = \"export column\"   (the dictionary's description)"]
    matched: dict[str, str] = {}
    # exact names and aliases first; fuzzy matches only among the columns left over, so that one
    # export column is not proposed for two variables
    exact = {}
    for spec in dictionary.itertuples(index=False):
        column, score = best_column(spec.name, spec.description, header)
        if score == 1.0:
            exact[spec.name] = column
    for spec in dictionary.itertuples(index=False):
        need = "required" if spec.nullable == "no" else "optional"
        if spec.name in exact:
            column, score = exact[spec.name], 1.0
        else:
            column, score = best_column(spec.name, spec.description,
                                        [c for c in header if c not in exact.values() and c not in matched.values()])
        if column is not None and score >= threshold:
            matched[spec.name] = column
            lines.append(f"{spec.name} = {_toml_str(column)}   # {need}; {spec.description} (match {score:.2f})")
        else:
            lines.append(f"# {spec.name} = \"\"   # {need}; {spec.description}: no export column matched")
    unused = [c for c in header if c not in matched.values()]
    if unused:
        lines.append(f"# export columns not used above: {', '.join(unused)}")
    lines.append("")
    formats: dict[str, list[str]] = {}
    for spec in dictionary.itertuples(index=False):
        col = matched.get(spec.name)
        if col is None:
            continue
        if spec.type == "date":
            formats[spec.name] = detect_date_format(export[col])
        if spec.type in ("category", "flag") and spec.allowed:
            allowed = spec.allowed.split("|") if spec.type == "category" else ["0", "1"]
            distinct = sorted(v for v in export[col].unique() if v != "")
            lines.append(f"[values.{spec.name}]   # allowed: {', '.join(allowed)}")
            for v in distinct:
                code = v if v in allowed else ""
                hint = "" if code else "   # give the dictionary code"
                lines.append(f"{_toml_str(v)} = {_toml_str(code)}{hint}")
            lines.append("")
    fitting = [set(f) for f in formats.values() if f]
    common = [f for f in DATE_FORMATS if fitting and all(f in s for s in fitting)]
    lines.append("[dates]")
    if common:
        note = "" if len(common) == 1 else f"   # also fits {', '.join(common[1:])}: check which is meant"
        lines.append(f"format = {_toml_str(common[0])}{note}")
    else:
        lines.append('format = "%Y-%m-%d"   # no single format fits every date column; see [dates.columns]')
    odd = {v: f for v, f in formats.items() if f and common and common[0] not in f}
    if odd:
        lines.append("[dates.columns]")
        lines += [f"{v} = {_toml_str(f[0])}" for v, f in odd.items()]
    return "\n".join(lines) + "\n"


def write_template(export_path: str | Path, out: str | Path) -> Path:
    """``python -m compendium map EXPORT --template OUT``: never overwrites an existing file."""
    from compendium.data.loading import load_dictionary, read_text_table

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists already; name another file or remove it")
    export = read_text_table(Path(export_path))
    text = template(export, Path(export_path).name, load_dictionary())
    paths.atomic_write_text(out, text)
    return out

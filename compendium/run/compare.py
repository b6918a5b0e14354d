"""``python -m compendium compare RUN_A RUN_B``: where two runs differ.

First what each run was computed on (``results/provenance.json`` and
``data/derived/analysis.meta.json``: input file and checksum, synthetic or not, patients, mapping,
specification, notebooks run, dictionary, generator, versions), then every claim
(``results/claims.csv``, by ``claim_id``) whose reproduced value or status differs, then every
estimate of every other ``results/*.csv`` that differs. Rows of a results table are matched on its
key columns (:data:`KEY_COLUMNS`: endpoint, group, covariate, level, model, conf_type, time, ...),
and among rows with the same key by their order; numbers are the same when they agree to a relative
``tolerance`` (the CSVs hold 12 significant digits; two machines differ in the last of them), text
when it is equal. The same run against itself, or a rerun on the same input, shows no difference.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from compendium import paths

TOLERANCE = 1e-9
ABSOLUTE = 1e-12  # below this two numbers are the same whatever their ratio (a p-value of 1e-15 against 0)
#: Columns that say which estimate a row is (never compared as values), in the order they are shown.
KEY_COLUMNS = ("analysis", "endpoint", "population", "cause", "group", "model", "covariate", "level",
               "reference", "conf_type", "time", "factor", "test", "quantity", "key", "characteristic",
               "ae", "row", "item", "reading", "statistic", "target_population", "check", "claim_id", "kind")
NOT_ESTIMATES = {"claims.csv"}  # compared claim by claim, below
SHOWN_WIDTH = 48  # characters of a text value shown in the table


class NotARun(ValueError):
    """The folder is not a run's (the message says what is missing and how to make one)."""


@dataclass
class Run:
    name: str  # as the user named it
    paths: paths.Paths
    provenance: dict
    meta: dict

    @classmethod
    def open(cls, folder: str, which: str) -> "Run":
        root = Path(folder)
        if not root.is_dir():
            raise NotARun(f"{which} {folder}: no such folder")
        run_paths = paths.Paths.for_run(root)
        record = run_paths.result("provenance.json")
        if not record.is_file():
            raise NotARun(f"{which} {folder}: not a run (no results/provenance.json); "
                          f"write one with `python -m compendium run --out {folder}`")
        try:
            provenance = json.loads(record.read_text(encoding="utf-8"))
            meta = json.loads(run_paths.analysis_meta.read_text(encoding="utf-8")) \
                if run_paths.analysis_meta.is_file() else {}
        except (ValueError, UnicodeDecodeError) as err:
            raise NotARun(f"{which} {folder}: results/provenance.json or data/derived/analysis.meta.json "
                          f"is not JSON ({err})") from None
        return cls(folder, run_paths, provenance, meta)


@dataclass
class Comparison:
    a: Run
    b: Run
    tolerance: float
    inputs: pd.DataFrame      # item, A, B, same
    claims: pd.DataFrame      # claims that differ
    not_run: dict             # RUN_A / RUN_B -> claims of notebooks that run did not run
    estimates: pd.DataFrame   # estimates that differ (and rows or tables in one run only)
    n_claims: int             # claims both runs computed (neither says not_run)
    tables: list[str]         # tables both runs have, compared
    one_sided: list[str]      # tables one run has


def _get(record: dict, *keys, default=None):
    for key in keys:
        if not isinstance(record, dict) or key not in record:
            return default
        record = record[key]
    return record


def _analysed(meta: dict):
    flow = meta.get("cohort_flow") or []
    return next((step.get("n") for step in flow if step.get("step") == "analysed"), None)


def _inputs(a: Run, b: Run) -> pd.DataFrame:
    def items(run: Run) -> dict[str, object]:
        p, m = run.provenance, run.meta
        found = {
            "input file": _get(p, "input", "file"), "input sha256": _get(p, "input", "sha256"),
            "synthetic": _get(p, "input", "synthetic"), "rows of the input": _get(p, "input", "rows"),
            "patients analysed": _analysed(m), "mapping": _get(p, "mapping", "file", default="none"),
            "mapping sha256": _get(p, "mapping", "sha256", default=""),
            "specification": _get(p, "specification", "file"),
            "specification sha256": _get(p, "specification", "sha256"),
            "notebooks run": ", ".join(s[:2] for s in p.get("notebooks_run", [])),
            "dictionary sha256": m.get("dictionary_sha256"),
            "generator seeds": (f"construction {_get(m, 'generator', 'construction_seed')}, "
                                f"outcome {_get(m, 'generator', 'outcome_seed')}") if m.get("generator") else "",
            "python": m.get("python"),
        }
        for name, version in sorted((m.get("packages") or {}).items()):
            found[name] = version
        return found

    left, right = items(a), items(b)
    rows = [{"item": k, "A": _plain(left.get(k)), "B": _plain(right.get(k))} for k in dict.fromkeys([*left, *right])]
    table = pd.DataFrame(rows, columns=["item", "A", "B"])
    table["same"] = table["A"] == table["B"]
    return table


def _plain(value) -> str:
    text = "" if value is None else str(value)
    # a checksum is told apart by its first 12 hex digits, as the figures' footers show it
    return text[:12] if len(text) == 64 and all(ch in "0123456789abcdef" for ch in text) else text


def _number(text: str):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def same(x: str, y: str, tolerance: float) -> bool:
    """Two CSV cells: equal numbers to a relative tolerance (both empty or NaN: same), else equal text."""
    fx, fy = _number(x), _number(y)
    if fx is None or fy is None:
        return (x or "") == (y or "")
    if math.isnan(fx) or math.isnan(fy):
        return math.isnan(fx) and math.isnan(fy)
    return math.isclose(fx, fy, rel_tol=tolerance, abs_tol=ABSOLUTE)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _shown(text: str) -> str:
    if not text.strip():
        return "(empty)"  # a median not reached, an estimate with its reason instead
    number = _number(text)
    if number is not None and text.strip():
        return f"{number:.6g}"
    return text if len(text) <= SHOWN_WIDTH else text[:SHOWN_WIDTH - 1] + "…"


def _difference(x: str, y: str) -> str:
    fx, fy = _number(x), _number(y)
    if fx is None or fy is None or math.isnan(fx) or math.isnan(fy):
        return ""
    return f"{fy - fx:+.3g}"


def _claims(a: Run, b: Run, tolerance: float) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """The claims whose value or status differs; a claim one run did not compute (``not_run``)
    is no difference of value, and is counted apart, by run."""
    files = [run.paths.result("claims.csv") for run in (a, b)]
    columns = ["claim_id", "quantity", "published", "A", "B", "B - A", "status A", "status B"]
    if not all(f.is_file() for f in files):
        return pd.DataFrame(columns=columns), 0, {}
    left, right = (_read(f).set_index("claim_id") for f in files)
    rows, not_run, skipped = [], {"RUN_A": 0, "RUN_B": 0}, 0
    for claim_id in dict.fromkeys([*left.index, *right.index]):
        x = left.loc[claim_id] if claim_id in left.index else None
        y = right.loc[claim_id] if claim_id in right.index else None
        if x is not None and y is not None and "not_run" in (x["status"], y["status"]):
            not_run["RUN_A"] += x["status"] == "not_run"
            not_run["RUN_B"] += y["status"] == "not_run"
            skipped += 1
            continue
        if x is not None and y is not None and same(x["reproduced"], y["reproduced"], tolerance) \
                and x["status"] == y["status"]:
            continue
        ref = x if x is not None else y
        rows.append({"claim_id": claim_id, "quantity": _shown(ref["quantity"]), "published": _shown(ref["published"]),
                     "A": _shown(x["reproduced"]) if x is not None else "(not in A)",
                     "B": _shown(y["reproduced"]) if y is not None else "(not in B)",
                     "B - A": _difference(x["reproduced"], y["reproduced"]) if x is not None and y is not None else "",
                     "status A": x["status"] if x is not None else "", "status B": y["status"] if y is not None else ""})
    return pd.DataFrame(rows, columns=columns), len(set(left.index) | set(right.index)) - skipped, not_run


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows indexed by their key, and among equal keys by their order."""
    frame = frame.copy()
    frame["#"] = frame.groupby(keys, sort=False).cumcount().astype(str) if keys else [str(i) for i in range(len(frame))]
    return frame.set_index([*keys, "#"])


def _label(keys: list[str], index) -> str:
    index = index if isinstance(index, tuple) else (index,)
    said = [f"{k}={v}" for k, v in zip(keys, index) if v != ""]
    if index[-1] != "0":
        said.append(f"#{int(index[-1]) + 1}")
    return ", ".join(said) or "(the row)"


def _table(name: str, left: pd.DataFrame, right: pd.DataFrame, tolerance: float) -> list[dict]:
    keys = [k for k in KEY_COLUMNS if k in left.columns and k in right.columns]
    values = [c for c in left.columns if c not in keys] + [c for c in right.columns if c not in keys and c not in left]
    left, right = _keyed(left, keys), _keyed(right, keys)
    rows = []
    for column in values:
        if column not in left.columns or column not in right.columns:
            rows.append({"table": name, "row": "(every row)", "column": column,
                         "A": "" if column not in left.columns else "(column)",
                         "B": "" if column not in right.columns else "(column)", "B - A": ""})
    for index in dict.fromkeys([*left.index, *right.index]):
        if index not in right.index or index not in left.index:
            rows.append({"table": name, "row": _label(keys, index), "column": "",
                         "A": "(row)" if index in left.index else "", "B": "(row)" if index in right.index else "",
                         "B - A": ""})
            continue
        x, y = left.loc[index], right.loc[index]
        for column in values:
            if column in left.columns and column in right.columns and not same(x[column], y[column], tolerance):
                rows.append({"table": name, "row": _label(keys, index), "column": column, "A": _shown(x[column]),
                             "B": _shown(y[column]), "B - A": _difference(x[column], y[column])})
    return rows


def _estimates(a: Run, b: Run, tolerance: float) -> tuple[pd.DataFrame, list[str]]:
    columns = ["table", "row", "column", "A", "B", "B - A"]
    names = [{f.name for f in run.paths.results.glob("*.csv")} - NOT_ESTIMATES for run in (a, b)]
    rows, compared = [], []
    for name in sorted(names[0] | names[1]):
        if name not in names[0] or name not in names[1]:
            rows.append({"table": name, "row": "(the table)", "column": "",
                         "A": "(table)" if name in names[0] else "", "B": "(table)" if name in names[1] else "",
                         "B - A": ""})
            continue
        compared.append(name)
        rows += _table(name.removesuffix(".csv"), _read(a.paths.result(name)), _read(b.paths.result(name)), tolerance)
    return pd.DataFrame(rows, columns=columns), compared


def compare(run_a: str, run_b: str, tolerance: float | None = None) -> Comparison:
    tolerance = TOLERANCE if tolerance is None else tolerance
    if not tolerance >= 0:
        raise ValueError(f"--tolerance {tolerance}: expected a relative difference of 0 or more (e.g. 1e-6)")
    a, b = Run.open(run_a, "RUN_A"), Run.open(run_b, "RUN_B")
    claims, n_claims, not_run = _claims(a, b, tolerance)
    estimates, tables = _estimates(a, b, tolerance)
    one_sided = sorted(set(estimates.loc[estimates["row"] == "(the table)", "table"]))
    return Comparison(a, b, tolerance, _inputs(a, b), claims, not_run, estimates[estimates["row"] != "(the table)"],
                      n_claims, tables, one_sided)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def summary(c: Comparison) -> str:
    """A few sentences: what the inputs differ in, how many claims and estimates differ."""
    differ = c.inputs.loc[~c.inputs["same"], "item"].tolist()
    groups = {"the data": {"input file", "input sha256", "synthetic", "rows of the input", "patients analysed",
                           "generator seeds"},
              "the mapping": {"mapping", "mapping sha256"},
              "the specification": {"specification", "specification sha256"},
              "the notebooks run": {"notebooks run"}}
    said = [name for name, items in groups.items() if set(differ) & items]
    other = [item for item in differ if not any(item in items for items in groups.values())]
    if other:
        said.append("the environment (" + ", ".join(other) + ")")
    sentences = ["RUN_A and RUN_B were computed on the same inputs." if not said else
                 "RUN_A and RUN_B differ in " + (", ".join(said[:-1]) + " and " + said[-1] if len(said) > 1
                                                 else said[0]) + "."]
    changed_status = int((c.claims["status A"] != c.claims["status B"]).sum()) if len(c.claims) else 0
    both = "claims both runs computed" if any(c.not_run.values()) else "claims"
    if not c.n_claims and not any(c.not_run.values()):
        sentences.append("The runs have no claims to compare (results/claims.csv).")
    elif len(c.claims):
        sentences.append(f"{len(c.claims)} of the {c.n_claims} {both} differ"
                         + (f" ({changed_status} change status)" if changed_status else "") + ".")
    else:
        sentences.append(f"Every one of the {c.n_claims} {both} agrees.")
    for which, n in c.not_run.items():
        if n:
            sentences.append(f"{_count(n, 'claim')} {'was' if n == 1 else 'were'} not run in {which} "
                             "(their notebooks were not part of it).")
    if len(c.estimates):
        tables = sorted(set(c.estimates["table"]))
        sentences.append(f"{_count(len(c.estimates), 'estimate or row', 'estimates or rows')} differ in "
                         f"{len(tables)} of the {len(c.tables)} tables both runs have "
                         f"(numbers to a relative {c.tolerance:g}).")
    else:
        sentences.append(f"Every estimate of the {len(c.tables)} tables both runs have agrees "
                         f"(numbers to a relative {c.tolerance:g}).")
    if c.one_sided:
        sentences.append(f"{_count(len(c.one_sided), 'table')} {'is' if len(c.one_sided) == 1 else 'are'} "
                         "in one run only.")
    return " ".join(sentences)


def text_table(frame: pd.DataFrame) -> str:
    """Left-aligned columns, as a terminal reader scans them."""
    cells = [[str(c) for c in frame.columns]] + [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(frame.columns))]
    return "\n".join("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)


def report(c: Comparison, csv: str | None = None) -> str:
    """The comparison as text: the inputs side by side, the claims and estimates that differ, the summary."""
    def block(title: str, frame: pd.DataFrame) -> list[str]:
        if frame.empty:
            return [f"{title}: none", ""]
        return [f"{title} ({len(frame)}):", text_table(frame), ""]

    if csv:
        one_sided = pd.DataFrame({"table": c.one_sided, "row": "(the table)"})
        both = pd.concat([c.claims.assign(kind="claim"), c.estimates.assign(kind="estimate"),
                          one_sided.assign(kind="table")], ignore_index=True)
        paths.write_csv(both, Path(csv))
    lines = [f"RUN_A = {c.a.name}, RUN_B = {c.b.name}", "",
             "Inputs and specification:", text_table(c.inputs.assign(same=c.inputs["same"].map({True: "", False: "differs"}))
             .rename(columns={"same": ""})), ""]
    lines += block("Claims that differ", c.claims)
    lines += block("Estimates that differ", c.estimates)
    if c.one_sided:
        lines += [f"Tables in one run only: {', '.join(c.one_sided)}", ""]
    lines.append(summary(c))
    return "\n".join(lines)

"""The analysis dataset on disk: ``analysis.csv`` and ``analysis.meta.json`` (GUIDE contract).

Written only by notebook 01; every later notebook reads it through
:func:`read_analysis`, which restores the types (nullable 0/1 flags, strings
with missing values) so that analyses never guess.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from compendium import paths
from compendium.data.loading import RawData, sha256

PACKAGES = ["numpy", "pandas", "scipy", "pandera", "matplotlib", "papermill", "jupytext"]
STRING_COLUMNS = {
    "patient_id", "center", "sex", "best_response", "dex_dose_group", "age_group", "isotype", "iss", "riss",
    "cyto_risk_dx", "cyto_risk_relapse", "chr1_dx", "chr1_relapse", "first_line_class", "asct_first_line",
    "len_dose_pd_group", "dara_route_start", "end_reason", "death_cause", "ae_pn_outcome", "vgpr_date_source",
}
FLOAT_COLUMNS = {
    "len_exposure_months", "len_dose_start_mg", "len_dose_pd_mg", "pfs_months", "os_months", "ttnt_months",
    "pfs2_months", "creatinine_mg_dl", "calcium_mg_dl", "bm_pc_pct_relapse", "first_line_pfs_months",
    "months_dx_to_daravd", "bortezomib_start_dose_mg_m2", "treatment_months", "response_months", "vgpr_months",
    "next_line_pfs_months",
}


def is_synthetic(source: Path, digest: str) -> bool:
    """Synthetic when the input is the committed synthetic cohort (by content, wherever it lies)."""
    committed = paths.SYNTHETIC_COHORT
    return committed.exists() and sha256(committed) == digest


def build_meta(raw: RawData, flow: pd.DataFrame, mapping=None) -> dict:
    synth = is_synthetic(raw.source, raw.sha256)
    meta = {
        "input_file": paths.relative(raw.source),
        "input_sha256": raw.sha256,
        "mapping_file": paths.relative(mapping.path) if mapping is not None else None,
        "mapping_sha256": sha256(mapping.path) if mapping is not None else None,
        "synthetic": synth,
        "dictionary_sha256": sha256(paths.DICTIONARY),
        "cohort_flow": flow.to_dict(orient="records"),
        "month_days": 30.4375,
        "python": platform.python_version(),
        "packages": {name: metadata.version(name) for name in PACKAGES},
    }
    if synth:
        meta["generator"] = generator_provenance(raw.sha256)
    return meta


def generator_provenance(digest: str) -> dict:
    """What the generator wrote beside the committed cohort (module, seeds, dates, checksums), read
    from the file rather than from the generator, which the analyses never import."""
    where = paths.relative(paths.SYNTHETIC_META)
    if not paths.SYNTHETIC_META.exists():
        return {"module": "compendium.synthetic",
                "reason": f"{where} is missing (`python -m compendium synthetic` writes it)"}
    record = json.loads(paths.SYNTHETIC_META.read_text(encoding="utf-8"))
    if record.get("cohort", {}).get("sha256") != digest:
        return {"module": record.get("module", "compendium.synthetic"),
                "reason": f"{where} describes another cohort (`python -m compendium synthetic` rewrites it)"}
    return record


def write_provenance(run_paths: paths.Paths, raw: RawData, spec_path: Path | None, mapping_path: Path | None,
                     notebooks: list[str], rows: int | None = None) -> Path:
    """``results/provenance.json``: what every results CSV and figure of the run was computed from
    (``rows``: the input's patients, when ``raw`` no longer holds them)."""
    def described(path: Path | None, default: Path | None = None) -> dict | None:
        path = path or default
        return None if path is None else {"file": paths.relative(path), "sha256": sha256(path)}

    from compendium.data import spec as specs

    record = {
        "input": {"file": paths.relative(raw.source), "sha256": raw.sha256,
                  "synthetic": is_synthetic(raw.source, raw.sha256), "rows": len(raw.frame) if rows is None else rows},
        "mapping": described(mapping_path),
        "specification": described(spec_path, specs.DEFAULT),
        "notebooks_run": notebooks,
        "label": ("SYNTHETIC cohort (not patient data)" if is_synthetic(raw.source, raw.sha256) else "Data")
                 + f": {raw.source.name}, sha256 {raw.sha256[:12]}",
    }
    out = run_paths.result("provenance.json")
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    if not out.exists() or out.read_text(encoding="utf-8") != text:  # a cached rerun rewrites nothing
        paths.atomic_write_text(out, text)
    return out


def write_analysis(frame: pd.DataFrame, meta: dict, run_paths: paths.Paths) -> None:
    paths.write_csv(frame, run_paths.analysis_csv)
    paths.atomic_write_text(run_paths.analysis_meta, json.dumps(meta, indent=2, sort_keys=True) + "\n")


def _run_01_first(run_paths: paths.Paths) -> str:
    """The command that writes the analysis dataset into this run's folder (not the repository's)."""
    out = "" if run_paths.out == paths.ROOT else f" --out {run_paths.out}"
    return f"run notebook 01 first (.venv/bin/python -m compendium run --only 01{out})"


def read_meta(run_paths: paths.Paths) -> dict:
    if not run_paths.analysis_meta.exists():
        raise FileNotFoundError(f"{run_paths.analysis_meta} is missing: {_run_01_first(run_paths)}")
    return json.loads(run_paths.analysis_meta.read_text())


def read_analysis(run_paths: paths.Paths) -> pd.DataFrame:
    """The analysis dataset with its types: strings, floats, and nullable integers for the rest."""
    if not run_paths.analysis_csv.exists():
        raise FileNotFoundError(f"{run_paths.analysis_csv} is missing: {_run_01_first(run_paths)}")
    header = pd.read_csv(run_paths.analysis_csv, nrows=0).columns
    # numbers parsed by the CSV reader itself (fast at any N); only an empty cell is missing
    # ("NA" is a centre's code)
    frame = pd.read_csv(run_paths.analysis_csv, keep_default_na=False, na_values=[""],
                        dtype={col: "string" for col in header if col in STRING_COLUMNS})
    for col in header:
        if col not in STRING_COLUMNS:
            frame[col] = frame[col].astype(float if col in FLOAT_COLUMNS else "Int64")
    return frame


def provenance_label(meta: dict) -> str:
    """One line naming the input of a run, for the foot of every figure and for results/."""
    n = meta["cohort_flow"][-1]["n"] if meta.get("cohort_flow") else "?"
    name = Path(meta["input_file"]).name
    head = "SYNTHETIC cohort (not patient data)" if meta["synthetic"] else "Data"
    return f"{head}: {name}, sha256 {meta['input_sha256'][:12]}, n = {n}"


def banner(run_paths: paths.Paths, synthetic_note: str = ""):
    """The first thing every notebook shows: which data these results come from.

    ``synthetic_note`` is what the notebook has to add when, and only when, the input is the
    synthetic cohort (which of its numbers are constructed, calibrated or emergent).
    """
    from compendium.report.narrative import md

    meta = read_meta(run_paths)
    name = Path(meta["input_file"]).name
    n = meta["cohort_flow"][-1]["n"]
    if meta["synthetic"]:
        gen = meta["generator"]
        seeds = (f"construction seed {gen['construction_seed']}, outcome seed {gen['outcome_seed']}"
                 if "outcome_seed" in gen else f"seeds unknown: {gen.get('reason', 'no provenance')}")
        text = (f"> **Synthetic cohort: not patient data.** These outputs were computed on `{name}` "
                f"(sha256 `{meta['input_sha256'][:12]}`, {n} made-up patients), generated by "
                f"`compendium.synthetic` ({seeds}; notebook 00) and calibrated to the published "
                f"aggregates of Rizzello et al. 2025. They show the method and how the paper's numbers "
                f"relate to each other, not results about patients. {synthetic_note}")
    else:
        text = (f"> **Data:** `{name}` (sha256 `{meta['input_sha256'][:12]}`), {n} patients analysed "
                f"(cohort flow in notebook 01).")
    return md(text.strip())

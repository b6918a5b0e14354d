"""Chapter 00, the synthetic cohort: how the default data were made, and how close they come.

Unlike chapters 01-08, this one is about the committed synthetic cohort itself, whatever the run's
input: ``compute()`` regenerates the cohort from its seeds and sets it beside the committed file,
checks every constructed count and quantile against its target, lists the generator's assumptions
and its known truth, checks the clinical rules (:mod:`compendium.data.rules`) on the default cohort
and on a freshly generated one, and sets each calibration target of the registry beside what the
analyses' own estimators give. It is the only chapter that imports the generator; the runner
executes notebook 00 only when the input is the synthetic cohort.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd

from compendium import paths, synthetic
from compendium.data import endpoints, loading
from compendium.data import rules as clinical
from compendium.report import claims

#: the generated cohort the clinical rules are also checked on (free draws of the same model)
BIG_N = 10_000
BIG_SEED = 1
#: what the printed counts of the generator's COUNTS are counted in, where the name differs
COLUMN_OF = {"end_reason": "daravd_end_reason", "age_group": None, "pc_relapse": None}
#: the order statistics a quantile target gives
STATS = ["lo", "q1", "median", "q3", "hi"]


@dataclass
class GeneratorChapter:
    notebook: ClassVar[str] = "00_synthetic_cohort"
    shown: dict[str, pd.DataFrame] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    registry: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def table(self, name: str) -> pd.DataFrame:
        return self.shown[name]


def _readable(quantity: str) -> str:
    """``kinetics.first_min`` -> ``kinetics: first min``."""
    return quantity.replace(".", ": ", 1).replace("_", " ")


def _months_from_start(raw: pd.DataFrame, column: str) -> pd.Series:
    return (raw[column] - raw["daravd_start_date"]).dt.days / synthetic.MONTH_DAYS


def compute(big_n: int = BIG_N) -> GeneratorChapter:
    ch = GeneratorChapter(registry=claims.load_registry())
    _regeneration(ch)
    raw = loading.typed(loading.read_text_table(paths.SYNTHETIC_COHORT))
    _constructed(ch, raw)
    _assumptions_and_truth(ch)
    big_text = synthetic.fast_csv_text(synthetic.generate_any(big_n, seed=BIG_SEED))
    big = loading.typed(pd.read_csv(io.StringIO(big_text), dtype=str, keep_default_na=False))
    _rules(ch, raw, big, big_n)
    _calibration(ch, raw)
    return ch


def _regeneration(ch: GeneratorChapter) -> None:
    tic = time.perf_counter()
    text = synthetic.to_csv_text(synthetic.generate())
    seconds = time.perf_counter() - tic
    committed = paths.SYNTHETIC_COHORT.read_text()
    ch.facts.update(construction_seed=synthetic.CONSTRUCTION_SEED, outcome_seed=synthetic.OUTCOME_SEED,
                    meta_file=paths.relative(paths.SYNTHETIC_META),
                    meta_identical=synthetic.meta_text() == paths.SYNTHETIC_META.read_text(),
                    sha_regenerated=hashlib.sha256(text.encode()).hexdigest()[:16],
                    sha_committed=hashlib.sha256(committed.encode()).hexdigest()[:16],
                    identical=text == committed, seconds=seconds)


def _constructed(ch: GeneratorChapter, raw: pd.DataFrame) -> None:
    rows = []
    for variable, counts in synthetic.COUNTS.items():
        column = COLUMN_OF.get(variable, variable)
        if not isinstance(counts, dict) or column not in raw:
            continue
        observed = raw[column].astype(object).where(raw[column].notna(), "").astype(str)
        for level, target in counts.items():
            got = int((observed == str(level)).sum())
            rows.append({"covariate": column, "level": str(level) if level != "" else "not recorded",
                         "target": int(target), "generated": got})
    ch.shown["constructed"] = pd.DataFrame(rows)
    grades = []
    for event, by_grade in synthetic.AE_GRADES.items():
        column = raw[f"ae_{event}_grade"]
        row = {"covariate": f"ae_{event}_grade"}
        for grade in range(1, 6):
            target = by_grade.get(grade, 0)
            got = int((column == grade).sum())
            row[f"grade {grade}"] = f"{got}" if got == target else f"{got} (target {target})"
        grades.append(row)
    ch.shown["ae_grades"] = pd.DataFrame(grades)
    ch.facts["ae_exact"] = all(int((raw[f"ae_{e}_grade"] == g).sum()) == n
                               for e, by in synthetic.AE_GRADES.items() for g, n in by.items())
    ch.facts["counts_exact"] = bool((ch.shown["constructed"]["target"] == ch.shown["constructed"]["generated"]).all())
    series = {"creatinine_mg_dl": raw["creatinine_mg_dl"], "calcium_mg_dl": raw["calcium_mg_dl"],
              "len_exposure_months": (raw["len_end_date"] - raw["len_start_date"]).dt.days / synthetic.MONTH_DAYS}
    quantiles = []
    for name, spec in synthetic.QUANTILES.items():
        got = series[name].quantile([0, .25, .5, .75, 1]).to_numpy()  # R's type 7, as the analyses
        for what, values in (("target", [spec[s] for s in STATS]), ("generated", got)):
            quantiles.append({"covariate": name, "what": what, **dict(zip(["minimum", "first quartile", "median value", "third quartile", "maximum"],
                                                                             map(float, values)))})
    ch.shown["quantiles"] = pd.DataFrame(quantiles)


def _assumptions_and_truth(ch: GeneratorChapter) -> None:
    ch.shown["assumptions"] = pd.DataFrame({"number": range(1, len(synthetic.ASSUMPTIONS) + 1),
                                            "assumption": list(synthetic.ASSUMPTIONS)})
    truth = synthetic.read_truth()
    parameters = truth[truth["endpoint"] == ""]
    ch.shown["parameters"] = pd.DataFrame({"parameter": parameters["quantity"].map(_readable).str.capitalize(),
                                           "value": parameters["value"].astype(float)})
    for name, rows in (("estimands", truth["quantity"].str.startswith("hr_")),
                       ("confounding", truth["quantity"].str.startswith("dex_"))):
        part = truth[rows & (truth["endpoint"] != "")]
        ch.shown[name] = pd.DataFrame({"quantity": part["quantity"].map(_readable).str.capitalize(),
                                       "endpoint": part["endpoint"], "value": part["value"].astype(float),
                                       "description": part["description"]})
    dex = truth[truth["quantity"].str.startswith("dex_")].set_index(["quantity", "endpoint"])["value"]
    ch.facts["dex_truth"] = {k: float(v) for k, v in dex.items()}
    params = parameters.set_index("quantity")["value"]
    for fact, term in (("dex_effect", "dex_full"), ("aggressive_effect", "aggressive_relapse")):
        ch.facts[fact] = {e: float(params.get(f"{e}_loghr.{term}", float("nan"))) for e in ("pfs", "pps")}


def _rules(ch: GeneratorChapter, raw: pd.DataFrame, big: pd.DataFrame, big_n: int) -> None:
    default = clinical.clinical_rules(raw)
    generated = clinical.clinical_rules(big)
    ch.shown["rules"] = pd.DataFrame({"rule": default["rule"],
                                      f"default cohort ({len(raw)})": default["patients breaking it"].astype(int),
                                      f"generated cohort ({big_n:,})": generated["patients breaking it"].astype(int)})
    ch.facts["breaches"] = int(default["patients breaking it"].sum() + generated["patients breaking it"].sum())
    ch.facts["rules"] = len(default)
    ch.facts["broken_rules"] = int(((default["patients breaking it"] > 0) | (generated["patients breaking it"] > 0)).sum())
    kinetics = {}
    for name, frame in (("default cohort", raw), (f"generated {big_n:,}", big)):
        kinetics[name] = {"first ≥VGPR (median of the ≥VGPR patients)": _months_from_start(frame, "vgpr_first_date").median(),
                          "best response (median of all)": _months_from_start(frame, "best_response_date").median()}
    frame = pd.DataFrame(kinetics)
    ch.shown["kinetics"] = frame.rename_axis("time from the start of DaraVd (months)").reset_index()
    ch.facts["best_default"] = float(frame.iloc[1, 0])
    ch.facts["best_generated"] = float(frame.iloc[1, 1])


def _calibration(ch: GeneratorChapter, raw: pd.DataFrame) -> None:
    report = synthetic.calibration_report(endpoints.derive(raw), ch.registry)
    kind = report["claim_id"].map(synthetic.calibration_targets(ch.registry).set_index("claim_id")["kind"])
    ch.shown["calibration"] = report.assign(kind=kind)
    summary = (ch.shown["calibration"].groupby("kind")[["printed precision", "within bounds"]]
               .agg(["sum", "count"]))
    ch.shown["calibration_summary"] = pd.DataFrame({
        "kind of target": summary.index, "targets": summary[("printed precision", "count")].to_numpy(),
        "at the printed precision": summary[("printed precision", "sum")].to_numpy(),
        "within the bounds": summary[("within bounds", "sum")].to_numpy()})

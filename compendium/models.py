"""The paper's survival models, and their presentation in the paper's orientation.

The CSV results keep the data's coding (a flag is presence: ``emd_relapse = 1``
means extramedullary disease present, and its hazard ratio is that of
presence). The paper's Tables 2-5 speak of the *favourable* level ("absence of
EMD", "standard cytogenetic risk", "plasma cells < 60%"); for display only we
turn such rows round: HR' = 1 / HR and the limits swap (1 / ucl, 1 / lcl),
which is exactly the Wald interval of the negated coefficient. p is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import survival as sv

ENDPOINTS = ("pfs", "os", "ttnt", "pfs2")
KM_ENDPOINTS = ("pfs", "os", "ttnt", "pfs2", sv.FOLLOWUP)

# Every factor the paper reports or mentions for PFS and OS (Results, Tables 2-3, Abstract).
UNIVARIATE_FACTORS = [
    ("vgpr_or_better", None), ("cr_or_better", None), ("age_ge65", None), ("dex_dose_group", "full"),
    ("emd_relapse", None), ("cyto_high_risk_dx", None), ("cyto_high_risk_relapse", None),
    ("del17p_relapse", None), ("pc_ge60_relapse", None), ("amp1q", None),
    ("len_exposure_months", None), ("len_dose_start_mg", None), ("len_dose_pd_mg", None),
]
# "The same characteristics were selected for ... a multivariate model for PFS and OS".
MULTIVARIABLE = ("vgpr_or_better", "emd_relapse", "age_ge65")
LABELS = {"vgpr_or_better": "≥VGPR", "emd_relapse": "EMD present", "age_ge65": "age ≥65"}


@dataclass(frozen=True)
class PaperRow:
    """One row of a published table and where our estimate of it comes from."""

    claim: str       # claim-id prefix in the registry, e.g. "T2_no_emd"
    label: str       # the paper's wording
    endpoint: str
    covariate: str
    level: str       # level as coded in our results
    invert: bool     # the paper reports the other level against this one


def _rows(prefix: str, endpoint: str, spec) -> list[PaperRow]:
    return [PaperRow(f"{prefix}_{key}", label, endpoint, cov, level, inv) for key, label, cov, level, inv in spec]


_VGPR = ("vgpr", "Best response ≥VGPR", "vgpr_or_better", "1", False)
_AGE = ("age65", "Age ≥65 years at relapse", "age_ge65", "1", False)
_NO_EMD = ("no_emd", "Absence of EMD at relapse", "emd_relapse", "1", True)
_PC = ("pc_lt60", "Medullary plasma cells <60% at relapse", "pc_ge60_relapse", "1", True)
_DEX = {mg: (f"dex{mg}", f"Dexamethasone {mg} mg/week", "dex_dose_group", str(mg), False) for mg in (20, 40, 80)}
_T2 = [_VGPR, _AGE, _DEX[20], _NO_EMD,
       ("std_risk_dx", "Standard cytogenetic risk at diagnosis", "cyto_high_risk_dx", "1", True),
       ("no_del17p", "Absence of del17p at relapse", "del17p_relapse", "1", True), _PC]
_T3 = [_VGPR, _AGE, _DEX[20], _DEX[40], _DEX[80], _NO_EMD, _PC]
_MV = [_VGPR, _NO_EMD, _AGE]
TABLE2 = _rows("T2", "pfs", _T2)
TABLE3 = _rows("T3", "os", _T3)
TABLE4 = _rows("T4", "pfs", _MV)
TABLE5 = _rows("T5", "os", _MV)
# Mentioned in the Results text only.
TEXT_PFS = _rows("R_pfs", "pfs", [("std_risk_relapse", "Standard cytogenetic risk at relapse", "cyto_high_risk_relapse", "1", True)])


def km_results(analysis: pd.DataFrame) -> pd.DataFrame:
    """Every Kaplan-Meier median of the paper: ``results/survival_km.csv``."""
    parts = [sv.km_summary(analysis, e) for e in KM_ENDPOINTS]
    parts += [sv.km_summary(analysis, e, group="vgpr_or_better") for e in ENDPOINTS]
    return pd.concat(parts, ignore_index=True)


def univariate_results(analysis: pd.DataFrame, endpoints=("pfs", "os", "pfs2")) -> pd.DataFrame:
    """Univariate Cox models of every factor: ``results/cox_univariate.csv``."""
    parts = [sv.cox_univariate(analysis, e, cov, ref) for e in endpoints for cov, ref in UNIVARIATE_FACTORS]
    return pd.concat(parts, ignore_index=True)


def multivariable_results(analysis: pd.DataFrame) -> pd.DataFrame:
    """The paper's multivariable models for PFS and OS: ``results/cox_multivariable.csv``."""
    return pd.concat([sv.cox_multivariable(analysis, e, list(MULTIVARIABLE), "paper") for e in ("pfs", "os")],
                     ignore_index=True)


def oriented(results: pd.DataFrame, row: PaperRow) -> dict:
    """Our estimate for a published row, turned to the paper's orientation."""
    hit = results[(results["endpoint"] == row.endpoint) & (results["covariate"] == row.covariate)
                  & (results["level"] == row.level)]
    if len(hit) != 1:
        raise KeyError(f"no unique estimate for {row.endpoint} {row.covariate}={row.level}")
    r = hit.iloc[0]
    hr, lcl, ucl = (1 / r.hr, 1 / r.ucl, 1 / r.lcl) if row.invert else (r.hr, r.lcl, r.ucl)
    return {"hr": hr, "lcl": lcl, "ucl": ucl, "p": r.p, "n": int(r.n), "events": int(r.events)}


def format_p(p: float) -> str:
    """p as clinical tables print it: <0.001, else three decimals."""
    if p is None or np.isnan(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_hr(hr: float, lcl: float, ucl: float) -> str:
    """'0.26 (0.15–0.46)'; a fit with no finite estimate (monotone likelihood) says so."""
    if not np.isfinite(ucl) or lcl <= 0 or hr < 1e-6 or hr > 1e6:
        return "not estimable (monotone likelihood)"
    return f"{hr:.2f} ({lcl:.2f}–{ucl:.2f})"


def _months(v: float) -> str:
    return "NR" if v is None or np.isnan(v) else f"{v:.1f}"


def format_median(median: float, lcl: float, ucl: float) -> str:
    """'14.3 (10.2–19.8)' with NR for anything not reached."""
    return f"{_months(median)} ({_months(lcl)}–{_months(ucl)})"


def paper_table(results: pd.DataFrame, rows: list[PaperRow], registry: pd.DataFrame) -> pd.DataFrame:
    """A published table beside ours: HR (95% CI) and p from both, n and events of our model."""
    reg = registry.set_index("claim_id")["published"]
    out = []
    for row in rows:
        ours = oriented(results, row)
        paper_p = reg.get(f"{row.claim}_p", np.nan)
        out.append({
            "characteristic": row.label,
            "HR (95% CI), compendium": format_hr(ours["hr"], ours["lcl"], ours["ucl"]),
            "p, compendium": format_p(ours["p"]),
            "n / events": f"{ours['n']} / {ours['events']}",
            "HR (95% CI), paper": format_hr(reg[f"{row.claim}_hr"], reg[f"{row.claim}_lcl"], reg[f"{row.claim}_ucl"]),
            "p, paper": "<0.001" if paper_p == 0.0005 else format_p(paper_p),
        })
    return pd.DataFrame(out)


def record_rows(rec, results: pd.DataFrame, rows: list[PaperRow]) -> None:
    """Record HR, limits and p of each published row against its claims."""
    for row in rows:
        ours = oriented(results, row)
        for key in ("hr", "lcl", "ucl", "p"):
            rec.record(f"{row.claim}_{key}", ours[key])


def median_of(km: pd.DataFrame, endpoint: str, group: str = "all", conf_type: str = "log") -> dict:
    hit = km[(km["endpoint"] == endpoint) & (km["group"] == group) & (km["conf_type"] == conf_type)]
    if len(hit) != 1:
        raise KeyError(f"no unique median for {endpoint} {group} {conf_type}")
    return hit.iloc[0].to_dict()


def km_display(km: pd.DataFrame) -> pd.DataFrame:
    """survival_km.csv for readers: one row per curve, R's log and the log-log limits side by side."""
    wide = km.pivot_table(index=["endpoint", "group"], columns="conf_type", values=["median", "lcl", "ucl"],
                          aggfunc="first", dropna=False)
    counts = km.groupby(["endpoint", "group"])[["n", "events"]].first()
    out = counts.copy()
    out["median (95% CI, log)"] = [format_median(wide.loc[i, ("median", "log")], wide.loc[i, ("lcl", "log")],
                                                 wide.loc[i, ("ucl", "log")]) for i in out.index]
    out["95% CI, log-log"] = [f"{_months(wide.loc[i, ('lcl', 'log-log')])}–{_months(wide.loc[i, ('ucl', 'log-log')])}"
                              for i in out.index]
    order = {e: k for k, e in enumerate(KM_ENDPOINTS)}
    return out.reset_index().sort_values(["endpoint", "group"], key=lambda s: s.map(order) if s.name == "endpoint" else s,
                                         kind="stable").reset_index(drop=True)

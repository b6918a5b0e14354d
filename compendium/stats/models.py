"""The specification's survival models, and their presentation in the paper's orientation.

Every function takes the specification (``compendium.data.spec.load()``) as an argument:
nothing of the paper's specification is frozen in this module, so ``--spec`` governs all of it.

The CSV results keep the data's coding (a flag is presence: ``emd_relapse = 1``
means extramedullary disease present, and its hazard ratio is that of
presence). The paper's Tables 2-5 speak of the *favourable* level ("absence of
EMD", "standard cytogenetic risk", "plasma cells < 60%"); for display only we
turn such rows round: HR' = 1 / HR and the limits swap (1 / ucl, 1 / lcl),
which is exactly the Wald interval of the negated coefficient. p is unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.stats import estimable as ne
from compendium.stats import survival as sv
from compendium.report import formats
from compendium.report.narrative import NOT_ESTIMABLE, estimable
from compendium.data.spec import PaperRow, Spec  # noqa: F401  (PaperRow is part of this module's interface)


def km_results(analysis: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Every Kaplan-Meier median of the specification: ``results/survival_km.csv``."""
    parts = [sv.km_summary(analysis, e) for e in spec.km_endpoints]
    parts += [sv.km_summary(analysis, e, group=g) for g in spec.km_groups for e in spec.km_group_endpoints]
    return pd.concat(parts, ignore_index=True)


def univariate_results(analysis: pd.DataFrame, spec: Spec, endpoints=None) -> pd.DataFrame:
    """Univariate Cox models of every factor: ``results/cox_univariate.csv``."""
    endpoints = spec.cox_endpoints if endpoints is None else endpoints
    parts = [sv.cox_univariate(analysis, e, f.column, f.reference) for e in endpoints for f in spec.factors]
    return pd.concat(parts, ignore_index=True)


def multivariable_results(analysis: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The specification's multivariable models: ``results/cox_multivariable.csv``."""
    refs = spec.references
    return pd.concat([sv.cox_multivariable(analysis, e, list(m.covariates), m.name, refs)
                      for m in spec.models for e in m.endpoints], ignore_index=True)


def _reason(value) -> str:
    """A reason cell: results read back from a CSV hold NaN where the reason is empty."""
    return value if isinstance(value, str) else ne.ESTIMABLE


def oriented(results: pd.DataFrame, row: PaperRow) -> dict:
    """Our estimate for a published row, turned to the paper's orientation, with its ``reason``.

    A row the results do not hold (a level the data lack, a factor never fitted) is not
    estimable: the reason of the covariate's other rows if they agree on one, else
    "no such estimate in the results".
    """
    same = results[(results["endpoint"] == row.endpoint) & (results["covariate"] == row.covariate)]
    hit = same[same["level"] == row.level]
    if len(hit) != 1:
        others = {_reason(r) for r in same["reason"]} if "reason" in same else set()
        reason = others.pop() if len(others) == 1 and "" not in others else ne.NOT_IN_RESULTS
        n = int(same["n"].iloc[0]) if len(same) else 0
        events = int(same["events"].iloc[0]) if len(same) else 0
        return {"hr": np.nan, "lcl": np.nan, "ucl": np.nan, "p": np.nan, "n": n, "events": events, "reason": reason}
    r = hit.iloc[0]
    with np.errstate(divide="ignore"):  # a limit of 0 (monotone likelihood) turns into inf: not estimable
        hr, lcl, ucl = (1 / r.hr, 1 / r.ucl, 1 / r.lcl) if row.invert else (r.hr, r.lcl, r.ucl)
    return {"hr": hr, "lcl": lcl, "ucl": ucl, "p": r.p, "n": int(r.n), "events": int(r.events),
            "reason": _reason(r.get("reason"))}


def format_p(p: float) -> str:
    """p as clinical tables print it: <0.001, else three decimals (:func:`compendium.report.formats.p`)."""
    return formats.p(p)


def format_hr(hr: float, lcl: float, ucl: float, reason: str = "") -> str:
    """'0.26 (0.15–0.46)'; 'not estimable (reason)' for a row with a reason, and a fit with no
    finite estimate (monotone likelihood, in results without a reason) says so too."""
    return formats.hr(hr, lcl, ucl, reason)


_months = formats.months


def format_median(median: float, lcl: float, ucl: float) -> str:
    """'14.3 (10.2–19.8)' with NR for anything not reached."""
    return formats.median_ci(median, lcl, ucl)


def paper_table(results: pd.DataFrame, rows: list[PaperRow], registry: pd.DataFrame) -> pd.DataFrame:
    """A published table beside ours: HR (95% CI) and p from both, n and events of our model.

    Rows without a registered claim (a user's own specification) show the paper's columns empty.
    """
    reg = registry.set_index("claim_id")["published"]
    out = []
    for row in rows:
        ours = oriented(results, row)
        paper = {k: reg.get(f"{row.claim}_{k}", np.nan) for k in ("hr", "lcl", "ucl", "p")} if row.claim else {}
        has_paper = bool(paper) and not np.isnan(paper["hr"])
        ok = not ours["reason"] and estimable(ours["hr"], ours["lcl"], ours["ucl"])
        out.append({
            "characteristic": row.label,
            "HR (95% CI), compendium": format_hr(ours["hr"], ours["lcl"], ours["ucl"], ours["reason"]),
            "p, compendium": format_p(ours["p"]) if ok else "",
            "n / events": f"{ours['n']} / {ours['events']}",
            "HR (95% CI), paper": format_hr(paper["hr"], paper["lcl"], paper["ucl"]) if has_paper else "",
            "p, paper": ("<0.001" if paper["p"] == 0.0005 else format_p(paper["p"])) if has_paper else "",
        })
    return pd.DataFrame(out)


def record_rows(rec, results: pd.DataFrame, rows: list[PaperRow]) -> None:
    """Record HR, limits and p of each published row against its claims (rows with claims only).

    A hazard ratio that is not estimable is recorded as not reproducible, with the reason.
    """
    registered = set(rec.registry["claim_id"])
    for row in rows:
        ours = oriented(results, row)
        ok = not ours["reason"] and estimable(ours["hr"], ours["lcl"], ours["ucl"])
        why = ne.label(ours["reason"]) or NOT_ESTIMABLE
        for key in ("hr", "lcl", "ucl", "p"):
            claim_id = f"{row.claim}_{key}"
            if not row.claim or claim_id not in registered:
                continue
            if ok:
                rec.record(claim_id, ours[key])
            else:
                rec.not_reproducible(claim_id, f"{row.label}: {why}")


def median_of(km: pd.DataFrame, endpoint: str, group: str = "all", conf_type: str = "log") -> dict:
    """One row of ``survival_km.csv`` as a dict; a curve the results do not hold (a group nobody is
    in) is an empty median with the reason "no such estimate in the results"."""
    hit = km[(km["endpoint"] == endpoint) & (km["group"] == group) & (km["conf_type"] == conf_type)]
    if len(hit) != 1:
        return {"endpoint": endpoint, "group": group, "n": 0, "events": 0, "median": np.nan, "lcl": np.nan,
                "ucl": np.nan, "conf_type": conf_type, "reason": ne.NOT_IN_RESULTS}
    out = hit.iloc[0].to_dict()
    out["reason"] = _reason(out.get("reason"))
    return out


def km_display(km: pd.DataFrame) -> pd.DataFrame:
    """survival_km.csv for readers: one row per curve, R's log and the log-log limits side by side.

    Endpoints in the order the results list them (the specification's); a curve without a
    median for want of data says "not estimable (reason)" rather than NR.
    """
    wide = km.pivot_table(index=["endpoint", "group"], columns="conf_type", values=["median", "lcl", "ucl"],
                          aggfunc="first", dropna=False)
    counts = km.groupby(["endpoint", "group"])[["n", "events"]].first()
    reasons = (km.assign(reason=km["reason"].map(_reason)) if "reason" in km else km.assign(reason="")) \
        .groupby(["endpoint", "group"])["reason"].first()
    out = counts.copy()
    out["median (95% CI, log)"] = [ne.label(reasons[i]) or format_median(
        wide.loc[i, ("median", "log")], wide.loc[i, ("lcl", "log")], wide.loc[i, ("ucl", "log")]) for i in out.index]
    out["95% CI, log-log"] = [ne.label(reasons[i]) or
                              f"{_months(wide.loc[i, ('lcl', 'log-log')])}–{_months(wide.loc[i, ('ucl', 'log-log')])}"
                              for i in out.index]
    order = {e: k for k, e in enumerate(dict.fromkeys(km["endpoint"]))}
    return out.reset_index().sort_values(["endpoint", "group"], key=lambda s: s.map(order) if s.name == "endpoint" else s,
                                         kind="stable").reset_index(drop=True)

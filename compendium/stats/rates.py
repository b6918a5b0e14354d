"""Survival at fixed times, and how many patients a median rests on.

A median says where a curve crosses 0.5; a referee also wants the curve at
clinically meaningful times (1, 2 and 3 years) and to know how many patients
were still under observation there. Built on the public Kaplan-Meier table of
:mod:`compendium.stats.survival`, with R's conventions:

* ``survival_at`` is ``summary(survfit(Surv(time, event) ~ 1, conf.type=...),
  times = ...)``: the curve at the last event time at or before ``t``, the
  number at risk at ``t`` (observed at ``t`` or later), the standard error of
  S(t) (Greenwood) and R's pointwise limits; a time beyond the last
  observation has no estimate (R leaves it out; we keep the row, empty).
* ``at_risk_at`` gives the number still at risk at a time, e.g. at a median:
  a median reached when only a handful are left at risk rests on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.stats import estimable as ne
from compendium.stats import survival as sv

RATE_TIMES = (12.0, 24.0, 36.0)


def level_label(value) -> str:
    """A group value as results label it: 1.0 (a 0/1 flag read with NA) -> "1"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
#: Below this many patients at risk a median (or a rate) is flagged as resting on few patients.
FEW_AT_RISK = 10


def survival_at(time, event, times=RATE_TIMES, conf_type: str = "log", conf_level: float = 0.95) -> pd.DataFrame:
    """S(t) at each of ``times`` as R's ``summary(survfit(...), times=)``.

    Columns ``time, n_risk, events_by, surv, std_err, lower, upper, conf_type, reason``;
    ``events_by`` counts events at or before ``t`` (R's ``n.event`` summed),
    ``std_err`` is that of S(t) (R's ``summary`` column, S times the SE of
    -log S). A time after the last observation gives an empty row (no one at
    risk), and so does every time without any patient.
    """
    n_raw = len(np.asarray(time))
    tab = sv.km_table(time, event, conf_type, conf_level)
    obs = tab["time"].to_numpy()
    last_time = obs[-1] if len(obs) else -np.inf
    rows = []
    for t in times:
        idx = np.searchsorted(obs, t, side="right") - 1  # last observed time <= t
        n_risk = int(tab.loc[obs >= t, "n_risk"].iloc[0]) if (obs >= t).any() else 0
        events_by = int(tab["n_event"].to_numpy()[: idx + 1].sum())
        reason = ne.of_counts(len(obs), n_raw=n_raw) or (ne.NO_ONE_AT_RISK if t > last_time else ne.ESTIMABLE)
        if reason:
            surv = std_err = lower = upper = np.nan
        elif idx < 0:
            surv, std_err, lower, upper = 1.0, 0.0, 1.0, 1.0
        else:
            r = tab.iloc[idx]
            surv, std_err, lower, upper = r["surv"], r["surv"] * r["std_err"], r["lower"], r["upper"]
        rows.append({"time": float(t), "n_risk": n_risk, "events_by": events_by, "surv": surv,
                     "std_err": std_err, "lower": lower, "upper": upper, "conf_type": conf_type, "reason": reason})
    return pd.DataFrame(rows, columns=["time", "n_risk", "events_by", "surv", "std_err", "lower", "upper",
                                       "conf_type", "reason"])


def at_risk_at(time, event, t: float) -> int:
    """Patients still at risk at ``t`` (observed at ``t`` or later); 0 for a missing ``t``."""
    if t is None or not np.isfinite(t):
        return 0
    tt = np.asarray(time, float)
    tt = tt[np.isfinite(tt) & pd.notna(np.asarray(event))]
    return int((tt >= t).sum())


def fixed_time_rates(analysis: pd.DataFrame, endpoints=("pfs", "os", "ttnt"), groups=(None, "vgpr_or_better"),
                     times=RATE_TIMES, conf_types=("log", "log-log")) -> pd.DataFrame:
    """``results/survival_rates.csv``: S(t) per endpoint, group, time and conf_type.

    Columns ``endpoint, group, n, events, time, n_risk, events_by, surv,
    std_err, lower, upper, conf_type, reason`` (``group`` as in ``survival_km.csv``).
    """
    rows = []
    for endpoint in endpoints:
        tcol, ecol = sv.endpoint_columns(endpoint)
        for group in groups:
            if group is None:
                subsets = [("all", analysis)]
            else:
                g = analysis[group]
                subsets = [(f"{group}={level_label(v)}", analysis[(g == v).fillna(False).to_numpy(bool)])
                           for v in sv.group_levels(g)]
            for label, sub in subsets:
                data = sub[[tcol, ecol]].dropna()
                for ct in conf_types:
                    part = survival_at(data[tcol], data[ecol], times, ct)
                    part.insert(0, "events", int(data[ecol].sum()))
                    part.insert(0, "n", len(data))
                    part.insert(0, "group", label)
                    part.insert(0, "endpoint", endpoint)
                    rows.append(part)
    return pd.concat(rows, ignore_index=True)


def medians_at_risk(analysis: pd.DataFrame, km: pd.DataFrame, few: int = FEW_AT_RISK) -> pd.DataFrame:
    """For each median of ``survival_km.csv`` (log rows): patients at risk there, events after it.

    Columns ``endpoint, group, n, events, median, n_risk_at_median, events_at_or_after_median, few,
    reason``; ``few`` is True when fewer than ``few`` patients were at risk where the
    curve crossed 0.5: the median then rests on them and moves with one event. A median
    not reached leaves the counts empty with an empty reason; a median without patients
    keeps the reason of ``survival_km.csv``.
    """
    rows = []
    for _, r in km[km["conf_type"] == "log"].iterrows():
        tcol, ecol = sv.endpoint_columns(r["endpoint"])
        sub = analysis
        if r["group"] != "all":
            col, val = r["group"].split("=", 1)
            sub = analysis[analysis[col].map(level_label) == val]
        data = sub[[tcol, ecol]].dropna()
        ev = data[ecol] if r["endpoint"] != sv.FOLLOWUP else 1 - data[ecol]
        med = r["median"]
        reached = pd.notna(med)
        n_risk = at_risk_at(data[tcol], ev, med) if reached else np.nan
        after = int(((data[tcol] >= med) & (ev == 1)).sum()) if reached else np.nan
        rows.append({"endpoint": r["endpoint"], "group": r["group"], "n": int(r["n"]), "events": int(r["events"]),
                     "median": med, "n_risk_at_median": n_risk, "events_at_or_after_median": after,
                     "few": bool(reached and n_risk < few), "reason": ne.first(r.get("reason"))})
    return pd.DataFrame(rows, columns=["endpoint", "group", "n", "events", "median", "n_risk_at_median",
                                       "events_at_or_after_median", "few", "reason"])

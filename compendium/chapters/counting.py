"""Counts, percentages and plain quantiles of the analysis dataset under conditions.

These are the addresses by which the claims registry names a count of patients
(``count(end_reason=PD)``), a percentage (``pct(dara_doses_skipped=1..)``) or a plain median
(``median(cycles_received)``, ``median(dara_doses_skipped, dara_doses_skipped=1..)``). A condition
is ``column=value``, the value as the data code it (``PD``, ``1``, ``1.0``), and may be

- ``a|b``: any of several values;
- ``lo..hi``: a closed numeric range, either end may be left open (``1..``, ``..3``);
- ``!value``: anything but it (a missing value included);
- ``*``: any value, missing excluded (``count(cyto_risk_dx=*)``: the patients with a FISH result).

``pct(..., among=flag)`` takes as denominator the patients with ``flag`` equal to 1, and
``pct(..., among=column=value)`` those meeting that condition (``among=cyto_risk_dx=*``: the
evaluable); only they count in the numerator. Without it the denominator is every patient. A column the data lack,
or an empty denominator, gives an :class:`~compendium.chapters.base.Estimate` with a reason.
Quantiles are R's type 7 (:func:`quantile7`), the paper's method; ``min`` and ``max``
are the smallest and largest value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from compendium.chapters.base import Estimate


def equals(series: pd.Series, value) -> pd.Series:
    """Plain boolean ``series == value``; missing values are never equal (no pd.NA leaks)."""
    return (series == value).fillna(False).astype(bool)


def flag(series: pd.Series) -> pd.Series:
    """A 0/1 flag as plain booleans: 1 is True, 0 and missing are False."""
    return equals(pd.to_numeric(series, errors="coerce"), 1)


def quantile7(values, q):
    """R's default quantile (type 7) of the non-missing values; NaN when there are none."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype=float)
    if x.size == 0:
        return float("nan")
    return float(np.quantile(x, q, method="linear"))


def summarise_continuous(values) -> dict:
    """n, median, quartiles (type 7), min and max of the non-missing values."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return {
        "n": int(x.size), "median": quantile7(x, 0.5), "q1": quantile7(x, 0.25),
        "q3": quantile7(x, 0.75),
        "min": float(x.min()) if x.size else float("nan"),
        "max": float(x.max()) if x.size else float("nan"),
    }


QUANTILES = {"median": 0.5, "q1": 0.25, "q3": 0.75, "min": 0.0, "max": 1.0}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _matches(series: pd.Series, value: str) -> pd.Series:
    """Where ``series`` satisfies one condition value (see the module's grammar)."""
    if value.startswith("!"):
        return ~_matches(series, value[1:])
    if value == "*":
        return series.notna().astype(bool)
    numeric = pd.api.types.is_numeric_dtype(series)
    if ".." in value and numeric:
        lo, hi = (_number(v) if v else None for v in value.split("..", 1))
        x = pd.to_numeric(series, errors="coerce")
        hit = x.notna()
        if lo is not None:
            hit &= x >= lo
        if hi is not None:
            hit &= x <= hi
        return hit.fillna(False).astype(bool)
    hit = pd.Series(False, index=series.index)
    for option in value.split("|"):
        number = _number(option) if numeric else None
        hit |= equals(series, number if number is not None else option)
    return hit


def where(frame: pd.DataFrame, conditions: dict, cache: dict | None = None) -> tuple[pd.Series | None, str]:
    """The patients meeting every condition, or None and the reason (a column the data lack).

    ``cache`` keeps each condition's patients between calls on the same frame (a chapter resolves
    dozens of addresses that share conditions; comparing a text column is the costly part).
    """
    hit = pd.Series(True, index=frame.index)
    for column, value in conditions.items():
        if column not in frame.columns:
            return None, f"the analysis dataset has no column {column}"
        key = (column, str(value))
        if cache is None or key not in cache:
            matched = _matches(frame[column], str(value))
            if cache is None:
                hit &= matched
                continue
            cache[key] = matched
        hit &= cache[key]
    return hit, ""


class Counts:
    """The counting addresses over one frame, sharing the patients of each condition between them."""

    def __init__(self, frame: pd.DataFrame):
        self.frame, self._cache = frame, {}

    def where(self, conditions: dict):
        return where(self.frame, conditions, self._cache)

    def count(self, **conditions) -> Estimate:
        hit, reason = self.where(conditions)
        return Estimate(reason=reason) if hit is None else Estimate(int(hit.sum()))

    def pct(self, among: str | None = None, **conditions) -> Estimate:
        """Per cent of all patients (or of those ``among`` names) meeting the conditions."""
        hit, reason = self.where(conditions)
        if hit is None:
            return Estimate(reason=reason)
        if among is None:
            denominator, k = len(self.frame), int(hit.sum())
        else:
            column, is_condition, value = among.partition("=")
            base, reason = self.where({column: value if is_condition else "1"})
            if base is None:
                return Estimate(reason=reason)
            denominator, k = int(base.sum()), int((hit & base).sum())
        if not denominator:
            if among is None:
                return Estimate(reason="no patient in the denominator")
            column, is_condition, value = among.partition("=")
            who = (f"{column} known" if value == "*" else f"{column} = {value}") if is_condition else f"{among} = 1"
            return Estimate(reason=f"no patient in the denominator (nobody with {who})")
        return Estimate(100.0 * k / denominator)

    def quantile(self, column: str, q: float, **conditions) -> Estimate:
        """R's type-7 quantile of ``column`` among the patients meeting the conditions."""
        if column not in self.frame.columns:
            return Estimate(reason=f"the analysis dataset has no column {column}")
        hit, reason = self.where(conditions)
        if hit is None:
            return Estimate(reason=reason)
        values = pd.to_numeric(self.frame.loc[hit, column], errors="coerce").dropna()
        if values.empty:
            return Estimate(reason=f"no patient has a value of {column}" + (" among those selected" if conditions else ""))
        if q in (0.0, 1.0):  # the observed extremes themselves, not an interpolation
            return Estimate(float(values.min() if q == 0.0 else values.max()))
        return Estimate(quantile7(values, q))

    def resolvers(self) -> dict:
        """``count``, ``pct``, ``median``, ``q1``, ``q3``, ``min`` and ``max`` addresses."""
        out = {"count": self.count, "pct": self.pct}
        for kind, q in QUANTILES.items():
            out[kind] = lambda column, _q=q, **c: self.quantile(column, _q, **c)
        return out


def count(frame: pd.DataFrame, **conditions) -> Estimate:
    return Counts(frame).count(**conditions)


def pct(frame: pd.DataFrame, among: str | None = None, **conditions) -> Estimate:
    return Counts(frame).pct(among, **conditions)


def quantile(frame: pd.DataFrame, column: str, q: float, **conditions) -> Estimate:
    return Counts(frame).quantile(column, q, **conditions)


def first_column(args: list[str], keys: dict) -> str:
    """The column an address is about: its first argument, else its first condition."""
    return args[0] if args else next(iter(keys), "")

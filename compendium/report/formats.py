"""How a number is printed: the one formatting module of tables, figures and prose.

The paper's conventions (Tables 1-6), which gtsummary and survminer made the clinical default:
p as ``<0.001`` or three decimals; a hazard ratio and its limits to two decimals,
``0.26 (0.15–0.46)``; a median in months to one decimal, ``NR`` where it is not reached; counts
as integers, with a percentage to whole numbers, ``37 (44)``. What a source does not give is an
en dash; an estimate the data cannot give is "not estimable (reason)" (GUIDE section 2).

``compendium.stats.models``, ``compendium.report.plots`` and ``compendium.report.narrative``
call these functions; ``compendium.report.display`` builds its tables with them. The tidy CSVs
are never formatted: they keep full precision.
"""

from __future__ import annotations

import math

from compendium.stats import estimable as ne

#: what a source lacks (the paper has no such number, a trial did not report it)
DASH = "\u2013"
#: a median, or a limit of one, that the curve never reaches
NOT_REACHED = "NR"


def missing(x) -> bool:
    """None, pandas' NA, NaN, or an empty string: a cell with nothing in it."""
    if x is None or (isinstance(x, str) and not x.strip()):
        return True
    try:
        return bool(x != x)  # NaN and pd.NA (whose comparison is NA, truthy-ambiguous) both land here
    except TypeError:
        return True


def _float(x) -> float:
    return float(x)


def p(value, missing_text: str = "NA", space: str = "") -> str:
    """p as the paper prints it: ``<0.001``, else three decimals (``space=" "``: ``< 0.001``)."""
    if missing(value) or not math.isfinite(_float(value)):
        return missing_text
    return f"<{space}0.001" if _float(value) < 0.001 else f"{_float(value):.3f}"


def p_phrase(value) -> str:
    """p in a sentence or a legend: ``p = 0.025``, ``p < 0.001``, ``p not computable``."""
    if missing(value) or not math.isfinite(_float(value)):
        return "p not computable"
    return "p < 0.001" if _float(value) < 0.001 else f"p = {_float(value):.3f}"


def estimable_hr(hr, lcl, ucl) -> bool:
    """False for a fit with no finite estimate (monotone likelihood: a level without events)."""
    if any(missing(v) for v in (hr, lcl, ucl)):
        return False
    hr, lcl, ucl = _float(hr), _float(lcl), _float(ucl)
    return math.isfinite(ucl) and lcl > 0 and 1e-6 < hr < 1e6


def not_estimable(reason: str = "") -> str:
    """'not estimable (no events)'; a fit with no finite estimate and no stated reason is monotone."""
    return ne.label(reason or ne.MONOTONE)


def hr(value, lcl, ucl, reason="", digits: int = 2) -> str:
    """``0.26 (0.15–0.46)``, or "not estimable (reason)"."""
    reason = reason if isinstance(reason, str) else ""
    if reason:
        return ne.label(reason)
    if not estimable_hr(value, lcl, ucl):
        return not_estimable()
    return f"{_float(value):.{digits}f} ({_float(lcl):.{digits}f}{DASH}{_float(ucl):.{digits}f})"


def months(value, digits: int = 1) -> str:
    """A time in months, ``NR`` where it is not reached."""
    return NOT_REACHED if missing(value) or not math.isfinite(_float(value)) else f"{_float(value):.{digits}f}"


def median_ci(median, lcl, ucl, reason="", digits: int = 1) -> str:
    """``14.3 (10.2–19.8)``, NR for anything not reached, or "not estimable (reason)"."""
    if isinstance(reason, str) and reason:
        return ne.label(reason)
    return f"{months(median, digits)} ({months(lcl, digits)}{DASH}{months(ucl, digits)})"


def interval(lcl, ucl, digits: int = 1) -> str:
    """``10.2–19.8`` (NR for an upper limit not reached)."""
    return f"{months(lcl, digits)}{DASH}{months(ucl, digits)}"


def count(value) -> str:
    """An integer count (``251``, never ``251.0``); an en dash where there is none."""
    return DASH if missing(value) else str(int(round(_float(value))))


def number(value, digits: int = 2) -> str:
    """A number at the precision asked; an en dash where there is none."""
    if missing(value):
        return DASH
    v = _float(value)
    return DASH if not math.isfinite(v) else f"{v:.{digits}f}"


def percent(value, digits: int = 0) -> str:
    """A percentage already on the 0-100 scale, as Table 1 prints it (``44``)."""
    return number(value, digits)


def proportion_ci(estimate, lower, upper, digits: int = 0) -> str:
    """A probability with its limits as percentages: ``62% (51–72%)``."""
    if missing(estimate):
        return DASH
    fmt = lambda v: DASH if missing(v) else f"{100 * _float(v):.{digits}f}"  # noqa: E731
    return f"{fmt(estimate)}% ({fmt(lower)}{DASH}{fmt(upper)}%)"


def n_pct(n, pct, digits: int = 0) -> str:
    """``37 (44)``: a count and its percentage, as Tables 1 and 6 print them."""
    if missing(n):
        return DASH
    return f"{count(n)} ({percent(pct, digits)})" if not missing(pct) else count(n)


def text(value, empty: str = DASH) -> str:
    """Any cell as text: never ``nan`` or ``None``; a whole float loses its ``.0``."""
    if missing(value):
        return empty
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)

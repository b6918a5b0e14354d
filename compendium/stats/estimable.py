"""Why an estimate is not estimable: the one vocabulary of the statistics layer.

An estimate the data cannot give is an empty value beside a ``reason`` (GUIDE section 2:
"an empty value with a reason in the CSVs, and 'not estimable (reason)' in tables, figures
and prose; never an exception, never 0.000 (0.000-inf)"). Every result frame of
``compendium.stats`` has a ``reason`` column: the empty string where the row is estimable,
else one of the constants below, so that tables, figures and prose say it the same way
(:func:`label`).

A median not reached is a result, not a failure: its value is empty and its reason is empty.
"""

from __future__ import annotations

import math

NO_PATIENTS = "no patients"
TOO_FEW = "too few patients"
ALL_MISSING = "all values missing"
NO_EVENTS = "no events"
TOO_FEW_EVENTS = "too few events"
ONE_LEVEL = "one level only"
#: R's coxph warns "Loglik converged before variable ...; coefficient may be infinite" (a level
#: without events, or a covariate that separates events from non-events); the words are those the
#: notebooks printed before this module existed.
MONOTONE = "monotone likelihood: one level has no events"
NOT_CONVERGED = "the fit did not converge"
SINGULAR = "singular information matrix"
SINGULAR_COVARIANCE = "singular covariance matrix"
NO_ONE_AT_RISK = "no one at risk"
REFERENCE_ABSENT = "reference level not in the data"
NOT_IN_RESULTS = "no such estimate in the results"
UNREACHABLE = "target outside the range of the data"
NOTHING_TO_MATCH = "no covariate the data can match"

ALL = (NO_PATIENTS, TOO_FEW, ALL_MISSING, NO_EVENTS, TOO_FEW_EVENTS, ONE_LEVEL, MONOTONE, NOT_CONVERGED,
       SINGULAR, SINGULAR_COVARIANCE, NO_ONE_AT_RISK, REFERENCE_ABSENT, NOT_IN_RESULTS, UNREACHABLE,
       NOTHING_TO_MATCH)

ESTIMABLE = ""


def label(reason: str) -> str:
    """'not estimable (no events)'; the empty string for an estimable row."""
    return f"not estimable ({reason})" if reason else ""


def first(*reasons) -> str:
    """The first non-empty reason (a model is as estimable as its least estimable part)."""
    return next((r for r in reasons if isinstance(r, str) and r), ESTIMABLE)


def of_counts(n: int, events: int | None = None, n_raw: int | None = None) -> str:
    """The reason a fit on ``n`` usable rows (of ``n_raw`` before dropping missing values) with
    ``events`` events cannot be made, or ``""``."""
    if n == 0:
        return ALL_MISSING if n_raw else NO_PATIENTS
    if events is not None and events == 0:
        return NO_EVENTS
    return ESTIMABLE


def blank(value: float, reason: str) -> float:
    """``value`` where estimable, NaN (an empty CSV cell) where not."""
    return math.nan if reason else value

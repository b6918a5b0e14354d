"""Prose about the data in hand, rendered from the data.

A notebook never types a sentence that states something about the data (a
count, a median, a p-value, a direction, whether an association is
significant): it computes the values and renders the sentence with
:func:`md`, choosing the wording with the small helpers below. Run on the
synthetic cohort, on the real export or on a user's own cohort, the same cell
then tells the truth about that input.

Sentences about the *paper* quote it through the claims registry
(:func:`published`), never by typing its numbers.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from compendium.report import formats as _formats
from compendium.stats import estimable as _ne

ALPHA = 0.05


def md(text: str):
    """A Markdown cell output from an f-string (dedented, stripped)."""
    from IPython.display import Markdown

    return Markdown(textwrap.dedent(text).strip())


def missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def num(x, digits: int = 1, nr: str = "NR") -> str:
    """A number for prose; ``nr`` (not reached) where it is missing."""
    return nr if missing(x) else f"{float(x):.{digits}f}"


def months(x, digits: int = 1) -> str:
    """'14.3 months', or 'not reached'."""
    return "not reached" if missing(x) else f"{float(x):.{digits}f} months"


def p_value(p) -> str:
    """'p = 0.025', 'p < 0.001', 'p not computable' (:func:`compendium.report.formats.p_phrase`)."""
    return _formats.p_phrase(p)


def significant(p, alpha: float = ALPHA) -> bool:
    return not missing(p) and p < alpha


def significance(p, alpha: float = ALPHA) -> str:
    """'significant (p = 0.012)' or 'not significant (p = 0.31)' at the two-sided 5% level."""
    word = "significant" if significant(p, alpha) else "not significant"
    return f"{word} ({p_value(p)})"


estimable = _formats.estimable_hr  # False for a fit with no finite estimate (monotone likelihood)


NOT_ESTIMABLE = _ne.label(_ne.MONOTONE)  # the vocabulary lives in compendium.stats.estimable


def hr_ci(hr, lcl, ucl, digits: int = 2) -> str:
    """'HR 0.28 (95% CI 0.11–0.72)', or the reason there is none."""
    if not estimable(hr, lcl, ucl):
        return f"HR {NOT_ESTIMABLE}"
    return f"HR {hr:.{digits}f} (95% CI {lcl:.{digits}f}–{ucl:.{digits}f})"


def hazard_direction(hr, lower: str = "lower", higher: str = "higher", same: str = "about the same") -> str:
    """Which way a hazard ratio points, in the caller's words."""
    if missing(hr):
        return same
    if abs(math.log(hr)) < 0.01:
        return same
    return lower if hr < 1 else higher


def compare(a, b, more: str = "longer", less: str = "shorter", same: str = "the same") -> str:
    """Word for a against b (medians: 'longer'/'shorter'); 'not reached' counts as longest."""
    a_inf = math.inf if missing(a) else float(a)
    b_inf = math.inf if missing(b) else float(b)
    if a_inf == b_inf:
        return same
    return more if a_inf > b_inf else less


def count(n, singular: str, plural: str | None = None) -> str:
    """'1 patient', '5 patients'."""
    n = int(n)
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def share(k, n, digits: int = 1) -> str:
    """'12 of 85 (14.1%)'."""
    k, n = int(k), int(n)
    if n == 0:
        return f"{k} of 0"
    return f"{k} of {n} ({100 * k / n:.{digits}f}%)"


def percent(k, n, digits: int = 1) -> str:
    return "NA" if int(n) == 0 else f"{100 * int(k) / int(n):.{digits}f}%"


def listing(items, conj: str = "and", empty: str = "none") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    if not items:
        return empty
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def choose(condition: bool, if_true: str, if_false: str) -> str:
    return if_true if condition else if_false


def published(registry: pd.DataFrame, claim_id: str, digits: int | None = None) -> str:
    """The paper's printed value of a registered claim, for quoting the paper in prose."""
    value = registry.set_index("claim_id").loc[claim_id, "published"]
    if missing(value):
        return "not reached"
    if digits is None:
        return f"{value:g}"
    return f"{value:.{digits}f}"


def quoter(registry: pd.DataFrame):
    """``paper = quoter(registry); paper("R_pfs_median")`` -> '14': the paper's number, as printed."""
    return lambda claim_id, digits=None: published(registry, claim_id, digits)


def verb(n, singular: str, plural: str) -> str:
    """The verb that agrees with a count: verb(1, 'differs', 'differ')."""
    return singular if int(n) == 1 else plural
def rate_ci(estimate, lower, upper, digits: int = 0) -> str:
    """'62% (95% CI 51–72%)' for a probability with its limits; 'not estimable' when missing."""
    if missing(estimate):
        return "not estimable (beyond follow-up)"
    fmt = lambda v: "NA" if missing(v) else f"{100 * float(v):.{digits}f}"  # noqa: E731
    return f"{fmt(estimate)}% (95% CI {fmt(lower)}–{fmt(upper)}%)"


def holm_survivors(screen: pd.DataFrame, labels: dict | None = None) -> str:
    """Which findings significant before adjustment stay so after Holm's: a sentence fragment."""
    labels = labels or {}
    name = lambda r: f"{labels.get(r.covariate, r.covariate)} ({r.endpoint.upper()})"  # noqa: E731
    raw = screen[screen["significant_raw"]]
    kept = [name(r) for r in raw.itertuples() if r.significant_holm]
    lost = [name(r) for r in raw.itertuples() if not r.significant_holm]
    if raw.empty:
        return "no test was significant at the 5% level even before adjustment"
    return (f"{count(len(raw), 'test')} {choose(len(raw) == 1, 'was', 'were')} significant at the 5% level "
            f"before adjustment; after Holm's adjustment "
            f"{listing(kept, empty='none')} {choose(len(kept) == 1, 'remains', 'remain')} significant"
            + (f", while {listing(lost)} {choose(len(lost) == 1, 'does', 'do')} not" if lost else ""))


def estimate_months(estimate) -> str:
    """An :class:`~compendium.chapters.base.Estimate` of months: 'not reached', or the reason there is none."""
    if estimate.reason:
        return f"not estimable ({estimate.reason})"
    return months(estimate.value)


def group_comparison(name: str, levels, p) -> str:
    """'PFS: ≥VGPR 26.1 months, <VGPR 7.2 months (log-rank p < 0.001, a significant difference ...).'

    ``levels`` lists (level, label, median); with two levels the first is compared with the second.
    """
    if len(levels) < 2:
        return f"{name}: only one group has data, so there is nothing to compare."
    test = f"log-rank {p_value(p)}, {choose(significant(p), 'a significant', 'not a significant')} difference at the 5% level"
    if len(levels) == 2:
        (_, a, ma), (_, b, mb) = levels
        return (f"{name}: patients with {a} had a {compare(ma, mb)} median than those with {b} "
                f"({months(ma)} against {months(mb)}; {test}).")
    return f"{name}: " + listing([f"{lab} {months(m)}" for _, lab, m in levels]) + f" ({test})."

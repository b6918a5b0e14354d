"""Exact tests of association and binomial intervals, as R computes them.

- :func:`clopper_pearson`: the exact (Clopper-Pearson) interval of a proportion, R ``binom.test``.
- :func:`wilcoxon_rank_sum`: R ``wilcox.test(x, y, exact = FALSE, correct = TRUE)``, the normal
  approximation with tie and continuity corrections.
- :func:`fisher_exact`: two-sided Fisher's exact test, R ``fisher.test``, for 2 x 2 and r x 2
  tables (:func:`fisher_rx2`: exact by a partial enumeration, or R's Monte Carlo fallback).

An estimate the data cannot give is NaN with a reason (:func:`rank_sum_test`, :func:`fisher_test`),
never an exception: an empty group, one value only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval for k successes in n (R ``binom.test``)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)



def wilcoxon_rank_sum(x, y) -> tuple[float, float]:
    """Two-sided rank-sum test as R ``wilcox.test(x, y, exact=FALSE, correct=TRUE)``.

    Returns (W, p) with W the Mann-Whitney statistic of ``x`` (R's ``W``).
    """
    x = pd.to_numeric(pd.Series(x), errors="coerce").dropna().to_numpy(float)
    y = pd.to_numeric(pd.Series(y), errors="coerce").dropna().to_numpy(float)
    res = stats.mannwhitneyu(x, y, use_continuity=True, alternative="two-sided", method="asymptotic")
    return float(res.statistic), float(res.pvalue)


#: Largest number of partial tables :func:`fisher_exact_rx2` enumerates (about 2 s); past
#: it, :func:`fisher_rx2` falls back to R's own remedy, a Monte Carlo p-value.
FISHER_EXACT_LIMIT = 2_000_000
#: Tables simulated by the Monte Carlo fallback (R's default B is 2000); seed fixed for reruns.
FISHER_MC_TABLES = 100_000
FISHER_MC_SEED = 20250101
#: Largest tail mass of an enumerated row's hypergeometric margin left out (see _tail).
FISHER_TAIL = 1e-17
_REL_ERR = 1 + 1e-7  # R fisher.test: tables within this factor of the observed one count as "as likely"


def fisher_exact(table) -> tuple[float, float]:
    """Two-sided Fisher's exact test as R ``fisher.test`` (odds ratio, p).

    2x2: scipy (its odds ratio is the sample one, not R's conditional MLE; only p is
    reported). r x 2: :func:`fisher_rx2` (exact, or R's Monte Carlo fallback past
    :data:`FISHER_EXACT_LIMIT`), because scipy's default for larger tables is an
    unseeded Monte Carlo p-value.
    """
    table = np.asarray(table, dtype=int)
    if table.shape == (2, 2):
        res = stats.fisher_exact(table, alternative="two-sided")
        return float(res.statistic), float(res.pvalue)
    return float("nan"), fisher_rx2(table)["p"]


def _log_choose(n, x):
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)


def _rx2_setup(table):
    """Non-empty rows sorted by size (the two largest last), and the log probability of the
    observed table under the hypergeometric null given both margins."""
    table = np.asarray(table, dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 2 or (table < 0).any():
        raise ValueError("expected an r x 2 table of counts")
    table = table[table.sum(axis=1) > 0]
    table = table[np.argsort(table.sum(axis=1), kind="stable")]
    rows, k, total = table.sum(axis=1), int(table[:, 0].sum()), int(table.sum())
    observed = float(np.sum(_log_choose(rows, table[:, 0])) - _log_choose(total, k))
    return table, rows, k, total, observed


def _row_range(a: int, k: int, total: int, x_obs: int, tail: float) -> np.ndarray:
    """Values of one row's first-column count that carry more than ``tail`` of its
    hypergeometric margin in either tail (always including the observed value)."""
    x = np.arange(max(0, k - (total - a)), min(a, k) + 1)
    pmf = np.exp(_log_choose(a, x) + _log_choose(total - a, k - x) - _log_choose(total, k))
    keep = (np.cumsum(pmf) > tail) & (np.cumsum(pmf[::-1])[::-1] > tail)
    lo, hi = x[keep].min(initial=x_obs), x[keep].max(initial=x_obs)
    return np.arange(min(lo, x_obs), max(hi, x_obs) + 1)


def _rx2_size(table) -> int:
    """How many partial tables fisher_exact_rx2 would enumerate."""
    table, rows, k, total, observed = _rx2_setup(table)
    tail = _tail(observed)
    return int(np.prod([len(_row_range(a, k, total, x, tail)) for a, x in zip(rows[:-2], table[:-2, 0])],
                       dtype=float))


def _tail(observed_log_p: float) -> float:
    """Margin mass an enumerated row may leave out: FISHER_TAIL, and at most 1e-10 of the
    observed table's probability, so the p-value keeps ~10 significant digits when tiny."""
    return max(min(FISHER_TAIL, 1e-10 * float(np.exp(observed_log_p))), 1e-300)


def fisher_exact_rx2(table) -> float:
    """Exact two-sided p of an r x 2 table, R's rule: the total probability of every table
    with the observed margins that is no more likely than the observed one (relative
    tolerance 1e-7).

    Not by listing every table (their number grows as N^(r-1)): the rows but the two largest
    are enumerated (each over the values holding all but 1e-17 of its hypergeometric
    margin, and all but 1e-10 of the observed table's probability: the p-value is exact to
    1e-16 absolute and 1e-9 relative, down to p ~ 1e-290), and for each such partial
    table the two remaining rows form a hypergeometric distribution in one count, whose
    probability is unimodal: the tables at most as likely as the observed one are its two
    tails, found by binary search and summed (once per distinct count left to them). Work and memory grow
    with the product of the enumerated rows' ranges (O(N^((r-2)/2))), not with the number
    of tables; a 2 x 2 or 3 x 2 table of a million patients takes milliseconds.
    """
    table, rows, k, total, observed = _rx2_setup(table)
    if len(rows) < 2 or k in (0, total):
        return 1.0
    limit = observed + np.log(_REL_ERR)
    sums, logs = np.zeros(1, dtype=np.int64), np.zeros(1)
    remaining = total  # patients in the rows not yet enumerated
    for a, x_obs in zip(rows[:-2], table[:-2, 0]):
        remaining -= int(a)
        x = _row_range(int(a), k, total, int(x_obs), _tail(observed))
        sums = (sums[:, None] + x[None, :]).ravel()
        logs = (logs[:, None] + _log_choose(a, x)[None, :]).ravel()
        keep = (sums <= k) & (sums >= k - remaining)
        sums, logs = sums[keep], logs[keep]
    big_a, big_b = int(rows[-2]), int(rows[-1])
    p = 0.0
    # the two largest rows: for each count m left to them, the second-largest row's count is
    # hypergeometric; the qualifying tables are the tails of that unimodal distribution
    for m, slot in zip(*_group_by(k - sums)):
        pmf_log = _pair_logpmf(big_a, big_b, int(m))
        pmf = np.exp(pmf_log)
        mode = int(np.argmax(pmf_log))
        threshold = limit - logs[slot] + _log_choose(total, k) - _log_choose(big_a + big_b, m)
        left = np.searchsorted(pmf_log[: mode + 1], threshold, side="right")  # prefix that qualifies
        right_desc = pmf_log[mode + 1:][::-1]  # rising again, read from the far end
        right = np.searchsorted(right_desc, threshold, side="right")  # suffix that qualifies
        left_mass = np.concatenate([[0.0], np.cumsum(pmf[: mode + 1])])[left]
        right_mass = np.concatenate([[0.0], np.cumsum(pmf[mode + 1:][::-1])])[right]
        weight = np.exp(logs[slot] + _log_choose(big_a + big_b, m) - _log_choose(total, k))
        p += float(np.sum(weight * (left_mass + right_mass)))
    return float(min(1.0, p))


def _group_by(values: np.ndarray):
    """Distinct values and, for each, the positions holding it."""
    order = np.argsort(values, kind="stable")
    uniq, starts = np.unique(values[order], return_index=True)
    return uniq, np.split(order, starts[1:])


def _pair_logpmf(a: int, b: int, m: int) -> np.ndarray:
    """log P(X = x) for X ~ hypergeometric (m draws from a + b, a marked), over the values
    within 60 standard deviations of the mode (the hypergeometric tail beyond is far below
    double precision next to the mode)."""
    lo, hi = max(0, m - b), min(a, m)
    mode = min(max(((m + 1) * (a + 1)) // (a + b + 2), lo), hi)
    sd = np.sqrt(max(m * a / (a + b) * (b / (a + b)) * (a + b - m) / max(a + b - 1, 1), 1.0))
    lo, hi = max(lo, int(mode - 60 * sd) - 2), min(hi, int(mode + 60 * sd) + 2)
    x = np.arange(lo, hi + 1)
    return _log_choose(a, x) + _log_choose(b, m - x) - _log_choose(a + b, m)


def fisher_rx2(table, limit: int = FISHER_EXACT_LIMIT) -> dict:
    """Fisher's test of an r x 2 table: ``{p, method}``.

    Exact (:func:`fisher_exact_rx2`) while it enumerates at most ``limit`` partial
    tables; past that, R's own fallback for large tables, ``fisher.test(simulate.p.value =
    TRUE)``: the share of tables drawn under the null (fixed margins, here
    :data:`FISHER_MC_TABLES` with a fixed seed) at most as likely as the observed one,
    (1 + hits) / (B + 1). ``method`` says which was used, for the output to state it.
    """
    if _rx2_size(table) <= limit:
        return {"p": fisher_exact_rx2(table), "method": "exact"}
    table, rows, k, _, observed = _rx2_setup(table)
    rng = np.random.default_rng(FISHER_MC_SEED)
    draws = rng.multivariate_hypergeometric(rows, k, size=FISHER_MC_TABLES, method="marginals")
    logs = _log_choose(rows[None, :], draws).sum(axis=1)
    hits = int(np.sum(logs <= observed + _log_choose(int(rows.sum()), k) + np.log(_REL_ERR)))
    return {"p": (1 + hits) / (FISHER_MC_TABLES + 1),
            "method": f"Monte Carlo, {FISHER_MC_TABLES:,} tables (as R fisher.test(simulate.p.value = TRUE))"}




# --- the tests as a chapter calls them: a value or the reason there is none ------------------

def _reason_groups(sizes: dict) -> str:
    empty = [name for name, n in sizes.items() if n == 0]
    return f"no patient {empty[0]}" if empty else ""


def rank_sum_test(x, y, names=("in the first group", "in the second group")) -> dict:
    """:func:`wilcoxon_rank_sum` as ``{statistic, p, reason}``: not estimable when a group is
    empty or every value is the same (R's ``wilcox.test`` then gives NaN)."""
    x = pd.to_numeric(pd.Series(x), errors="coerce").dropna()
    y = pd.to_numeric(pd.Series(y), errors="coerce").dropna()
    reason = _reason_groups({names[0]: len(x), names[1]: len(y)})
    if not reason and pd.concat([x, y]).nunique() < 2:
        reason = "every patient has the same value, so ranks cannot tell the groups apart"
    if reason:
        return {"statistic": float("nan"), "p": float("nan"), "reason": reason}
    statistic, p = wilcoxon_rank_sum(x, y)
    return {"statistic": statistic, "p": p, "reason": ""}


def fisher_test(table, names=("in the first group", "in the second group"), group_axis: int = 1) -> dict:
    """Fisher's exact test of a table of levels by the two groups as ``{statistic, p, method,
    reason}``: not estimable when a group is empty or only one level has patients.

    ``group_axis`` says where the two groups lie (1: columns, 0: rows). A 2 x 2 table is passed to
    scipy as given, since its p differs in the last bits between a table and its transpose.
    """
    table = np.asarray(table, dtype=np.int64)
    by_group = table if group_axis == 1 else table.T
    by_group = by_group.reshape(-1, 2)
    reason = _reason_groups({names[0]: int(by_group[:, 0].sum()), names[1]: int(by_group[:, 1].sum())})
    if not reason and int((by_group.sum(axis=1) > 0).sum()) < 2:
        reason = "every patient has the same value, one level only"
    if reason:
        return {"statistic": float("nan"), "p": float("nan"), "method": "", "reason": reason}
    if by_group.shape == (2, 2):
        statistic, p = fisher_exact(table)
        return {"statistic": statistic, "p": p, "method": "exact", "reason": ""}
    return {"statistic": float("nan"), **fisher_rx2(by_group), "reason": ""}

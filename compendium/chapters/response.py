"""Response to DaraVd and treatment exposure (notebook 03).

- Response rates carry exact (Clopper-Pearson) 95% confidence intervals, the interval R's
  ``binom.test`` reports, computed with :func:`scipy.stats.binomtest`.
- The paper states that reaching >= VGPR "was not influenced by" lenalidomide exposure
  time, starting dose, dose at progression, prior bortezomib or prior carfilzomib, with
  five p-values but no test named. Our choice (:data:`ASSOCIATION_FACTORS`): the
  Wilcoxon rank-sum test (R ``wilcox.test(exact = FALSE, correct = TRUE)``: normal
  approximation with tie correction and continuity correction) for the exposure time and
  for the two doses, taken as ordered values; Fisher's exact test (two-sided, R
  ``fisher.test``) for the two prior exposures.
- Medians and quartiles are R's type 7 (see :mod:`compendium.chapters.descriptives`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from compendium.chapters.descriptives import equals, flag, format_median_iqr, quantile7, summarise_continuous

RESPONSE_ORDER = ["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "NE"]
RATES = {  # rate name -> categories that count as reaching it
    "orr": ("sCR", "CR", "VGPR", "PR"),
    "vgpr_or_better": ("sCR", "CR", "VGPR"),
    "cr_or_better": ("sCR", "CR"),
}
END_REASONS = ["PD", "toxicity", "death", "ASCT", "unknown"]
DARA_SKIP_GROUPS = [("0", 0, 0), ("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), (">5", 6, np.inf)]
DEX_GROUPS = ["full", "80", "40", "20"]


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval for k successes in n (R ``binom.test``)."""
    if n == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def _proportion_row(endpoint, population, k, n) -> dict:
    lcl, ucl = clopper_pearson(k, n)
    return {"endpoint": endpoint, "population": population, "n": int(k), "denominator": int(n),
            "proportion": k / n if n else float("nan"), "lcl": lcl, "ucl": ucl,
            "ci_method": "clopper-pearson"}


def response_distribution(analysis: pd.DataFrame) -> pd.DataFrame:
    """Best response categories and the three rates, with exact 95% CIs.

    ``population = all``: over every treated patient (the text's 84.7%); ``evaluable``:
    over patients with an assessable response (best response other than NE).
    """
    best = analysis["best_response"]
    unknown = sorted(set(best.dropna()) - set(RESPONSE_ORDER))
    if unknown:
        raise ValueError(f"unknown best response categories {unknown}")
    populations = {"all": best, "evaluable": best[best.notna() & ~equals(best, "NE")]}
    rows = []
    for population, values in populations.items():
        for category in RESPONSE_ORDER:
            if population == "evaluable" and category == "NE":
                continue
            rows.append(_proportion_row(category, population, equals(values, category).sum(), len(values)))
        for rate, categories in RATES.items():
            rows.append(_proportion_row(rate, population, values.isin(categories).fillna(False).sum(), len(values)))
    return pd.DataFrame(rows)


def rate(distribution: pd.DataFrame, endpoint: str, population: str = "all") -> pd.Series:
    """One row of :func:`response_distribution`."""
    hit = distribution[(distribution["endpoint"] == endpoint) & (distribution["population"] == population)]
    return hit.iloc[0]


# --- associations with reaching >= VGPR -------------------------------------------------

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


# factor -> (column, test, what the paper's p refers to)
ASSOCIATION_FACTORS = {
    "len_exposure": ("len_exposure_months", "wilcoxon", "median time of len exposure"),
    "len_dose_start": ("len_dose_start_mg", "wilcoxon", "starting dose of len"),
    "len_dose_pd": ("len_dose_pd_mg", "wilcoxon", "dose of len at progression"),
    "bortezomib_exposed": ("bortezomib_exposed", "fisher", "previous exposure to bortezomib"),
    "carfilzomib_exposed": ("carfilzomib_exposed", "fisher", "previous exposure to carfilzomib"),
}
ASSOCIATION_COLUMNS = [
    "factor", "column", "test", "n", "n_vgpr", "n_below", "summary_vgpr", "summary_below",
    "statistic", "p",
]


def _split_by_vgpr(analysis: pd.DataFrame, column: str):
    vgpr = pd.to_numeric(analysis["vgpr_or_better"], errors="coerce")
    value = pd.to_numeric(analysis[column], errors="coerce")
    keep = vgpr.notna() & value.notna()
    return value[keep & equals(vgpr, 1)], value[keep & equals(vgpr, 0)]


def _median_iqr_text(values) -> str:
    s = summarise_continuous(values)
    return format_median_iqr(s["median"], s["q1"], s["q3"], decimals=1)


def vgpr_association(analysis: pd.DataFrame, factor: str) -> dict:
    """One association test between reaching >= VGPR and a factor (patients with both known)."""
    column, test, _ = ASSOCIATION_FACTORS[factor]
    hit, miss = _split_by_vgpr(analysis, column)
    if test == "wilcoxon":
        statistic, p = wilcoxon_rank_sum(hit, miss)
        summaries = (_median_iqr_text(hit), _median_iqr_text(miss))
    else:
        table = [[(hit == 1).sum(), (hit == 0).sum()], [(miss == 1).sum(), (miss == 0).sum()]]
        statistic, p = fisher_exact(table)
        summaries = tuple(f"{(g == 1).sum()}/{len(g)} exposed" for g in (hit, miss))
    return {"factor": factor, "column": column, "test": test, "n": len(hit) + len(miss),
            "n_vgpr": len(hit), "n_below": len(miss), "summary_vgpr": summaries[0],
            "summary_below": summaries[1], "statistic": statistic, "p": p}


def dose_category_fisher(analysis: pd.DataFrame, column: str) -> dict:
    """Sensitivity analysis: Fisher's exact test on every observed dose level x (>= VGPR or not)."""
    hit, miss = _split_by_vgpr(analysis, column)
    levels = sorted(set(hit) | set(miss))
    table = np.array([[(hit == d).sum(), (miss == d).sum()] for d in levels]).reshape(-1, 2)
    res = fisher_rx2(table) if len(levels) > 2 else {"p": fisher_exact(table)[1], "method": "exact"}
    return {"column": column, "levels": len(levels), "n": int(table.sum()), **res}


def vgpr_associations(analysis: pd.DataFrame, sensitivity: bool = True) -> pd.DataFrame:
    """The paper's five 'not influenced by' tests in its order (``role = primary``), then, for the
    two doses, Fisher's exact test over the dose levels (``role = sensitivity``)."""
    rows = [dict(vgpr_association(analysis, f), role="primary") for f in ASSOCIATION_FACTORS]
    if sensitivity:
        for factor in ("len_dose_start", "len_dose_pd"):
            column = ASSOCIATION_FACTORS[factor][0]
            hit, miss = _split_by_vgpr(analysis, column)
            res = dose_category_fisher(analysis, column)
            method = "" if res["method"] == "exact" else f"; p by {res['method']}"
            rows.append({"factor": factor, "column": column, "test": f"fisher ({res['levels']} dose levels x 2{method})",
                         "n": res["n"], "n_vgpr": len(hit), "n_below": len(miss),
                         "summary_vgpr": "", "summary_below": "", "statistic": float("nan"),
                         "p": res["p"], "role": "sensitivity"})
    return pd.DataFrame(rows, columns=ASSOCIATION_COLUMNS + ["role"])


def distribution_display(distribution: pd.DataFrame, population: str = "all") -> pd.DataFrame:
    """Best response for readers: n, % and exact 95% CI (in percent, one decimal)."""
    from compendium.chapters.descriptives import format_number

    d = distribution[distribution["population"] == population]
    names = {"orr": "ORR (>= PR)", "vgpr_or_better": ">= VGPR", "cr_or_better": ">= CR"}
    return pd.DataFrame({
        "response": [names.get(e, e) for e in d["endpoint"]],
        "n": d["n"].to_numpy(),
        "%": [format_number(100 * p, 1) for p in d["proportion"]],
        "95% CI (exact)": [f"{format_number(100 * lo, 1)}–{format_number(100 * hi, 1)}"
                           for lo, hi in zip(d["lcl"], d["ucl"])],
    })


# --- treatment exposure -----------------------------------------------------------------

def median_iqr(values) -> dict:
    """n, median, q1, q3 (R type 7) of the non-missing values."""
    s = summarise_continuous(values)
    return {k: s[k] for k in ("n", "median", "q1", "q3")}


def count_table(series: pd.Series, levels, denominator: int | None = None) -> pd.DataFrame:
    """Counts of the given levels in order (missing counted nowhere), with % of the denominator."""
    denominator = len(series) if denominator is None else denominator
    n = [int(equals(series, level).sum()) for level in levels]
    return pd.DataFrame({"level": [str(v) for v in levels], "n": n,
                         "pct": [100.0 * k / denominator for k in n]})


def discontinuation_reasons(analysis: pd.DataFrame) -> pd.DataFrame:
    """Why DaraVd stopped (``end_reason``), and how many are still on it."""
    table = count_table(analysis["end_reason"], END_REASONS)
    on = int(flag(analysis["on_treatment"]).sum())
    extra = pd.DataFrame({"level": ["still on DaraVd"], "n": [on], "pct": [100.0 * on / len(analysis)]})
    return pd.concat([table, extra], ignore_index=True)


def dara_skipped_groups(analysis: pd.DataFrame) -> pd.DataFrame:
    """Daratumumab doses skipped, in the text's groups (0, 1, 2, 3-5; > 5 kept visible)."""
    skipped = pd.to_numeric(analysis["dara_doses_skipped"], errors="coerce")
    n = [int(((skipped >= lo) & (skipped <= hi)).sum()) for _, lo, hi in DARA_SKIP_GROUPS]
    return pd.DataFrame({"level": [g for g, _, _ in DARA_SKIP_GROUPS], "n": n,
                         "pct": [100.0 * k / len(analysis) for k in n]})


def bortezomib_modifications(analysis: pd.DataFrame, early_cycles: int = 3) -> dict:
    """Dose reductions (and how many within the first cycles) and weekly switches."""
    reduced = flag(analysis["bortezomib_dose_reduced"])
    cycle = pd.to_numeric(analysis["bortezomib_reduction_cycle"], errors="coerce")
    early = int((reduced & (cycle <= early_cycles).fillna(False).astype(bool)).sum())
    weekly = int(flag(analysis["bortezomib_weekly_switch"]).sum())
    n_all = len(analysis)
    return {"reduced_n": int(reduced.sum()), "reduced_pct": 100.0 * reduced.sum() / n_all,
            "reduced_early_n": early,
            "reduced_early_pct_of_reduced": 100.0 * early / reduced.sum() if reduced.sum() else float("nan"),
            "weekly_switch_n": weekly, "weekly_switch_pct": 100.0 * weekly / n_all}


def salvage_asct(analysis: pd.DataFrame) -> dict:
    """Salvage ASCT during DaraVd: how many, after how many cycles, how many went on with DaraVd."""
    done = flag(analysis["salvage_asct"])
    cycles = pd.to_numeric(analysis.loc[done, "salvage_asct_cycle"], errors="coerce")
    continued = done & ~equals(analysis["end_reason"], "ASCT")
    return {"n": int(done.sum()),
            "after_cycles": {int(c): int((cycles == c).sum()) for c in sorted(cycles.dropna().unique())},
            "continued_n": int(continued.sum())}


def skipped_summary(analysis: pd.DataFrame) -> dict:
    """Patients who skipped any daratumumab dose, and the median number skipped among them."""
    skipped = pd.to_numeric(analysis["dara_doses_skipped"], errors="coerce")
    some = skipped[skipped > 0]
    return {"n": int(some.size), "pct": 100.0 * some.size / len(analysis),
            "median_skipped": quantile7(some, 0.5)}


# --- figure ----------------------------------------------------------------------------

RESPONSE_COLOURS = {  # Okabe-Ito, deepest response darkest
    "sCR": "#0072B2", "CR": "#56B4E9", "VGPR": "#009E73", "PR": "#F0E442",
    "MR": "#E69F00", "SD": "#D55E00", "PD": "#CC79A7", "NE": "#999999",
}
END_MARKERS = {  # end_reason -> (marker, label); ongoing patients get an arrow
    "PD": ("x", "stopped: progression"), "toxicity": ("^", "stopped: toxicity"),
    "death": ("s", "stopped: death"), "ASCT": ("D", "stopped: ASCT"),
    "unknown": ("o", "stopped: unknown"),
}


#: Most bars a swimmer plot draws: past this, one bar per patient is unreadable (a bar
#: narrower than a line of print), so the plot shows a random sample of this size.
SWIMMER_MAX_PATIENTS = 150
SWIMMER_SEED = 20250101


def swimmer_sample(analysis: pd.DataFrame, max_patients: int = SWIMMER_MAX_PATIENTS) -> pd.DataFrame:
    """The patients a swimmer plot shows: all of them, or a reproducible random sample of
    ``max_patients`` when there are more (same seed, same sample on a rerun)."""
    if len(analysis) <= max_patients:
        return analysis
    return analysis.sample(n=max_patients, random_state=SWIMMER_SEED)


def swimmer_plot(analysis: pd.DataFrame, width_in: float = 7.0, max_patients: int = SWIMMER_MAX_PATIENTS):
    """One bar per patient: months on DaraVd, coloured by best response, ended by why it stopped.

    With more than ``max_patients`` patients the plot shows a random sample of them
    (:func:`swimmer_sample`) and its axis label says so.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cohort_n = len(analysis)
    analysis = swimmer_sample(analysis, max_patients)
    frame = analysis.assign(
        months=pd.to_numeric(analysis["treatment_months"], errors="coerce"),
        on=flag(analysis["on_treatment"]),
    ).sort_values(["months", "patient_id"], kind="stable").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(width_in, 0.06 * len(frame) + 1.6))
    y = np.arange(len(frame))
    ax.barh(y, frame["months"], color=[RESPONSE_COLOURS.get(r, "#999999") for r in frame["best_response"]],
            height=0.8, linewidth=0)
    for reason, (marker, _) in END_MARKERS.items():
        hit = equals(frame["end_reason"], reason)
        ax.scatter(frame.loc[hit, "months"] + 0.6, y[hit.to_numpy()], marker=marker, s=12,
                   color="black", linewidths=0.8, facecolors="none" if marker in "oD" else "black", zorder=3)
    ongoing = frame["on"]
    ax.scatter(frame.loc[ongoing, "months"] + 0.8, y[ongoing.to_numpy()], marker=">", s=12, color="black", zorder=3)
    ax.set_yticks([])
    ax.set_ylim(-1, len(frame))
    ax.set_xlabel("Months on DaraVd", fontsize=9)
    if len(frame) < cohort_n:
        ax.set_ylabel(f"Random sample of {len(frame)} of {cohort_n:,} patients,\nby time on treatment", fontsize=9)
    else:
        ax.set_ylabel(f"Patients (n = {len(frame)}), by time on treatment", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right", "left"]].set_visible(False)
    present = [r for r in RESPONSE_ORDER if equals(frame["best_response"], r).any()]
    handles = [Patch(color=RESPONSE_COLOURS[r], label=r) for r in present]
    handles += [Line2D([], [], marker=m, linestyle="", color="black", markersize=4,
                       markerfacecolor="none" if m in "oD" else "black", label=label)
                for reason, (m, label) in END_MARKERS.items() if equals(frame["end_reason"], reason).any()]
    handles.append(Line2D([], [], marker=">", linestyle="", color="black", markersize=4, label="still on DaraVd"))
    ax.legend(handles=handles, title="Best response / end", fontsize=7, title_fontsize=7.5,
              frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


"""The evidence table: what other trials and series published, each number with its source.

``data/external/evidence.csv`` holds one row per trial x arm x population x endpoint x analysis
(PFS or OS; a trial's primary analysis and its later updates are separate rows, ``current`` marks
the latest one read). Its format, vocabularies and sourcing rules are in
``data/external/README.md``; in short, a row gives the population *as the trial defines it*, in
separate codes (``len_status``: lenalidomide naive / exposed / refractory / mixed, with the share
refractory; ``prior_lines``; ``analysis_set``: ITT or subgroup), the result (median with its 95%
limits, whose status ``median_limits`` names in words, a landmark rate, a hazard ratio with its
limits, ORR) and its source (citation, DOI and/or URL, where in it, and whether the text read is
the publication itself, ``primary``, or a text quoting it, ``secondary``). A number that could not
be read stays empty and ``missing_reason`` says why; nothing is filled in from memory or from this
paper's quotation of it.

The forest-plot groups are not typed into the table: :func:`population_group` builds them from the
codes, so that like is set beside like by construction (a series 77% lenalidomide-refractory is
"lenalidomide-exposed", never "refractory"). The claims registry (basis ``literature``) holds what
*this* paper says about the other studies, so that notebook 07 can check each quotation against its
source. The table is validated on load (:func:`load_evidence`); every problem is reported with file,
row, column and what was expected.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from compendium import paths

EVIDENCE = paths.DATA / "external" / "evidence.csv"

# Codes of a population, as the trial defines it.
LEN_STATUS = {
    "refractory": "every patient refractory to lenalidomide",
    "exposed": "every patient exposed to lenalidomide, a share of them refractory",
    "mixed": "lenalidomide-naive and -exposed patients together",
    "naive": "no patient exposed to lenalidomide",
    "imid_refractory": "refractory to an immunomodulatory drug (lenalidomide status not separable)",
}
PRIOR_LINES = ("1", "1-2", "1-3", ">=1")  # "1": first relapse
ANALYSIS_SETS = ("itt", "subgroup", "post_hoc_subgroup", "pooled")
MEDIAN_LIMITS = ("reported", "upper not reached", "not reported", "not applicable")
HR_LIMITS = ("reported", "not reported", "not applicable")
UNREADABLE = "not found in a readable source"
NOT_REPORTED = "not reported"

# Like with like: the groups of the forest plots, closest to this cohort first, each defined by codes
# alone (population_group). The cohort's own eligibility is the first group.
POPULATION_TYPES = {
    "lenref_first_relapse": "Lenalidomide-refractory at first relapse (1 prior line)",
    "lenref_any_line": "Lenalidomide-refractory, one or more prior lines",
    "len_exposed": "Lenalidomide-exposed, partly refractory",
    "imid_refractory_any_line": "IMiD-refractory, any line",
    "one_prior_line": "One prior line, mixed lenalidomide status",
    "len_naive": "Lenalidomide-naive",
    "whole_trial": "Mixed lenalidomide status, one or more prior lines",
}
COHORT_POPULATION = "lenref_first_relapse"  # this study's eligibility: refractory at first relapse
SELECTED_ON_OUTCOME = "selected_on_outcome"
SELECTED_TITLE = "This cohort, selected on an outcome: no trial population is comparable"
# Texts this table never rests on: manufacturers' promotional or prescriber pages and news aggregators
# (copies of other sites' articles). A number found only there is "not found in a readable source".
EXCLUDED_SOURCES = ("gskpro.com", "jnjmedicalconnect.com", "afnnews.qaasid.com", "trial.medpath.com")
MAX_SECONDARY_SHARE = 0.25  # at most a quarter of the rows may rest on a text quoting the publication
ENDPOINTS = ("pfs", "os")
SOURCE_TYPES = ("primary", "secondary")
TEXT_COLUMNS = ["trial", "design", "regimen", "arm", "comparator", "analysis", "population", "len_status",
                "prior_lines", "analysis_set", "endpoint", "median_limits", "hr_limits", "source", "doi", "url",
                "location", "source_type", "missing_reason", "note"]
NUMBER_COLUMNS = ["current", "share_lenref_pct", "n", "median_followup_months", "median_months",
                  "median_not_reached", "lcl", "ucl", "rate_months", "rate_pct", "hr", "hr_lcl", "hr_ucl",
                  "orr_pct"]
COLUMNS = ["trial", "design", "regimen", "arm", "comparator", "analysis", "current", "population", "len_status",
           "share_lenref_pct", "prior_lines", "analysis_set", "endpoint", "n", "median_followup_months",
           "median_months", "median_not_reached", "lcl", "ucl", "median_limits", "rate_months", "rate_pct", "hr",
           "hr_lcl", "hr_ucl", "hr_limits", "orr_pct", "source", "doi", "url", "location", "source_type",
           "missing_reason", "note"]
RESULT_COLUMNS = ["median_months", "median_not_reached", "rate_pct", "hr", "orr_pct"]
KEY = ["trial", "arm", "population", "endpoint"]  # unique among current rows; with analysis, among all


def population_group(len_status: str, prior_lines: str) -> str:
    """The forest-plot group of a population, from its codes alone."""
    if len_status == "refractory":
        return "lenref_first_relapse" if prior_lines == "1" else "lenref_any_line"
    if len_status == "exposed":
        return "len_exposed"
    if len_status == "imid_refractory":
        return "imid_refractory_any_line"
    if len_status == "naive":
        return "len_naive"
    return "one_prior_line" if prior_lines == "1" else "whole_trial"


MAIC_TARGETS = paths.DATA / "external" / "maic_targets.csv"
MAIC_TARGET_COLUMNS = ["target", "covariate", "statistic", "value", "source", "doi", "url", "location",
                       "source_type", "note"]


class EvidenceError(ValueError):
    """The evidence table does not follow its format; the message lists every problem."""


def load_evidence(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the evidence table; raise :class:`EvidenceError` listing every problem.

    The table returned has two more columns: ``population_type``, the forest-plot group built from the
    population codes by :func:`population_group`, and ``len_exposed_pct`` (100 where the code says every
    patient had lenalidomide).
    """
    path = Path(path or EVIDENCE)
    name = path.name
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise EvidenceError(f"{name}: file not found") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise EvidenceError(f"{name}: missing columns {missing}; expected {COLUMNS}")
    problems: list[str] = []
    table = raw[COLUMNS].copy()
    for col in TEXT_COLUMNS:
        table[col] = table[col].str.strip()
    for col in NUMBER_COLUMNS:
        values = pd.to_numeric(table[col].str.strip().replace("", None), errors="coerce")
        for i in table.index[values.isna() & table[col].str.strip().ne("")]:
            problems.append(f"{name}: row {i + 2}, column {col}: {table.at[i, col]!r} is not a number")
        table[col] = values
    for i, r in table.iterrows():
        problems += [f"{name}: row {i + 2} ({r.trial}, {r.population}, {r.endpoint}), {p}" for p in _row_problems(r)]
    problems += _duplicates(table, KEY + ["analysis"], name, "")
    problems += _duplicates(table[table["current"] == 1], KEY, name, " among current rows (current = 1)")
    if problems:
        raise EvidenceError("\n".join(problems))
    table["median_not_reached"] = table["median_not_reached"].fillna(0).astype(bool)
    table["current"] = table["current"].astype(int).astype(bool)
    table["population_type"] = [population_group(s, p) for s, p in zip(table["len_status"], table["prior_lines"])]
    # eligibility, not a count: every patient of an exposed or refractory population had lenalidomide
    table["len_exposed_pct"] = table["len_status"].map({"exposed": 100.0, "refractory": 100.0})
    return table


def _duplicates(table: pd.DataFrame, key: list[str], name: str, where: str) -> list[str]:
    dup = table[table.duplicated(key, keep=False)]
    return [f"{name}: rows {[j + 2 for j in rows]} repeat the same {key}{where}: {list(k)}"
            for k, rows in dup.groupby(key).groups.items()]


def _vocabulary(r: pd.Series, col: str, allowed) -> list[str]:
    return [] if r[col] in allowed else [f"column {col}: {r[col]!r}; expected one of {list(allowed)}"]


def _row_problems(r: pd.Series) -> list[str]:
    """What is wrong with one row of the evidence table (empty list: nothing)."""
    out = []
    for col in ("trial", "regimen", "arm", "analysis", "population", "source", "location"):
        if not r[col]:
            out.append(f"column {col}: empty; every row needs it")
    for col, allowed in (("len_status", LEN_STATUS), ("prior_lines", PRIOR_LINES), ("analysis_set", ANALYSIS_SETS),
                         ("endpoint", ENDPOINTS), ("source_type", SOURCE_TYPES), ("median_limits", MEDIAN_LIMITS),
                         ("hr_limits", HR_LIMITS)):
        out += _vocabulary(r, col, allowed)
    if r.current not in (0, 1):
        out.append(f"column current: {r.current!r}; expected 1 (the latest analysis read) or 0")
    if not r.doi and not r.url:
        out.append("columns doi/url: both empty; a source needs a DOI or a URL")
    if r.doi and not r.doi.startswith("10."):
        out.append(f"column doi: {r.doi!r} is not a DOI (expected it to start with '10.')")
    if r.url and not r.url.startswith(("http://", "https://")):
        out.append(f"column url: {r.url!r} is not a web address")
    banned = [d for d in EXCLUDED_SOURCES if d in r.url]
    if banned:
        out.append(f"column url: {banned[0]} is a promotional page or a news aggregator; find the publication "
                   f"or say {UNREADABLE!r}")
    if _present(r.n) and not (r.n == int(r.n) and r.n > 0):
        out.append(f"column n: {r.n:g}; expected a positive whole number")
    for col in ("share_lenref_pct", "rate_pct", "orr_pct"):
        if _present(r[col]) and not 0 <= r[col] <= 100:
            out.append(f"column {col}: {r[col]:g}; expected a percentage between 0 and 100")
    for col in ("median_followup_months", "median_months", "lcl", "ucl", "rate_months"):
        if _present(r[col]) and r[col] <= 0:
            out.append(f"column {col}: {r[col]:g}; expected a positive number of months")
    out += _share_problems(r)
    if _present(r.median_not_reached) and r.median_not_reached not in (0, 1):
        out.append(f"column median_not_reached: {r.median_not_reached:g}; expected 0 or 1")
    if r.median_not_reached == 1 and _present(r.median_months):
        out.append("columns median_months/median_not_reached: a median cannot be both given and not reached")
    out += _limits_problems(r, "median_months", "lcl", "ucl", allow_open_estimate=r.median_not_reached == 1)
    out += _limits_problems(r, "hr", "hr_lcl", "hr_ucl")
    out += _limits_status_problems(r)
    if _present(r.hr) and r.hr <= 0:
        out.append(f"column hr: {r.hr:g}; expected a positive hazard ratio")
    if _present(r.rate_pct) != _present(r.rate_months):
        out.append("columns rate_pct/rate_months: a landmark rate needs both its value and its time")
    has_result = any(_present(r[c]) and (c != "median_not_reached" or r[c] == 1) for c in RESULT_COLUMNS)
    if not has_result and not r.missing_reason.startswith((UNREADABLE, NOT_REPORTED)):
        out.append(f"column missing_reason: {r.missing_reason!r}, but the row reports no result; say why, "
                   f"beginning with {UNREADABLE!r} or {NOT_REPORTED!r}")
    return out


def _share_problems(r: pd.Series) -> list[str]:
    """A population's share of lenalidomide-refractory patients must agree with its code."""
    share = r.share_lenref_pct
    if not _present(share):
        return []
    if r.len_status == "refractory" and share != 100:
        return [f"columns len_status/share_lenref_pct: {share:g}% refractory is not a refractory population; "
                "code it 'exposed' (every patient exposed, a share refractory) or 'mixed'"]
    if r.len_status in ("exposed", "mixed") and share == 100:
        return [f"columns len_status/share_lenref_pct: every patient refractory; code it 'refractory', "
                f"not {r.len_status!r}"]
    if r.len_status == "naive" and share != 0:
        return [f"columns len_status/share_lenref_pct: a lenalidomide-naive population cannot be {share:g}% "
                "refractory"]
    return []


def _limits_status_problems(r: pd.Series) -> list[str]:
    """``median_limits`` and ``hr_limits`` say in words what the limit columns hold."""
    out = []
    has_median = _present(r.median_months) or r.median_not_reached == 1
    lo, hi = _present(r.lcl), _present(r.ucl)
    expected = ("not applicable" if not has_median and not lo and not hi else
                "reported" if lo and hi else "upper not reached" if lo else "not reported" if not hi else None)
    if expected is None:
        out.append("columns lcl/ucl: an upper limit without a lower one")
    elif r.median_limits != expected:
        out.append(f"column median_limits: {r.median_limits!r}, but the limit columns say {expected!r}")
    hr_expected = ("not applicable" if not _present(r.hr) else
                   "reported" if _present(r.hr_lcl) and _present(r.hr_ucl) else "not reported")
    if r.hr_limits != hr_expected:
        out.append(f"column hr_limits: {r.hr_limits!r}, but the hazard-ratio columns say {hr_expected!r}")
    return out


def _limits_problems(r: pd.Series, est: str, lo: str, hi: str, allow_open_estimate: bool = False) -> list[str]:
    """Limits must sit around the estimate (a limit without an estimate only when it was not reached)."""
    out = []
    e, l, u = r[est], r[lo], r[hi]
    if _present(l) and _present(u) and l > u:
        out.append(f"columns {lo}/{hi}: lower limit {l:g} above upper limit {u:g}")
    if _present(e):
        if _present(l) and l > e:
            out.append(f"columns {lo}/{est}: lower limit {l:g} above the estimate {e:g}")
        if _present(u) and u < e:
            out.append(f"columns {hi}/{est}: upper limit {u:g} below the estimate {e:g}")
    elif (_present(l) or _present(u)) and not allow_open_estimate:
        out.append(f"columns {lo}/{hi}: limits given without the estimate {est}")
    return out


def _present(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def select(evidence: pd.DataFrame, trial: str, endpoint: str, population_type: str | None = None,
           arm: str | None = None, current: bool = True) -> pd.Series:
    """The one row of a trial result (by default its latest analysis); refuses an ambiguous or absent match."""
    hit = evidence[(evidence["trial"] == trial) & (evidence["endpoint"] == endpoint)]
    if current:
        hit = hit[hit["current"]]
    if population_type is not None:
        hit = hit[hit["population_type"] == population_type]
    if arm is not None:
        hit = hit[hit["arm"] == arm]
    if len(hit) != 1:
        raise KeyError(f"{len(hit)} evidence rows for {trial} / {population_type} / {arm} / {endpoint}; expected one")
    return hit.iloc[0]


def source_label(row: pd.Series) -> str:
    """'doi:10...' or the URL, with '(secondary source)' where the row quotes another text."""
    where = f"doi:{row['doi']}" if row["doi"] else row["url"]
    return where + (" (secondary source)" if row["source_type"] == "secondary" else "")


def cohort_label(meta: dict) -> str:
    """How figures name this cohort: its data source, 'synthetic data' when it is."""
    return "This cohort (synthetic data)" if meta["synthetic"] else f"This cohort ({Path(meta['input_file']).name})"


def cohort_row(label: str, km: dict, population_type: str = COHORT_POPULATION,
               selected_on: str | None = None) -> dict:
    """A forest-plot row of this cohort from a :func:`compendium.stats.survival.km_median` result.

    ``selected_on`` names the outcome a subgroup was selected on (e.g. "response >=VGPR"); such a
    row is drawn in a group of its own, never beside a trial population.
    """
    return {"label": label, "population_type": population_type, "selected_on": selected_on or "",
            **{k: km[k] for k in ("median", "lcl", "ucl", "n")}}


def _cohort_group(row: dict) -> str:
    if row.get("selected_on"):
        return SELECTED_ON_OUTCOME
    if row["population_type"] != COHORT_POPULATION:
        raise ValueError(
            f"cohort row {row['label']!r}: population type {row['population_type']!r}; this cohort is "
            f"{POPULATION_TYPES[COHORT_POPULATION].lower()} by eligibility, so its rows stand in "
            f"{COHORT_POPULATION!r}, or, for a subgroup selected on an outcome, pass selected_on= (drawn apart)")
    return COHORT_POPULATION


def forest_rows(evidence: pd.DataFrame, endpoint: str, cohort_rows: list[dict]) -> pd.DataFrame:
    """Rows of a forest plot of medians for one endpoint, grouped by population type (current analyses).

    ``cohort_rows`` are this cohort's estimates (:func:`cohort_row`); they are placed at the top of
    their group, and a subgroup selected on an outcome in a last group of its own. Trial rows
    without a median (not reached, or not found) are kept, flagged, so the plot can say so.
    """
    ev = evidence[(evidence["endpoint"] == endpoint) & evidence["current"]]
    groups = {**POPULATION_TYPES, SELECTED_ON_OUTCOME: SELECTED_TITLE}
    placed = [(_cohort_group(c), c) for c in cohort_rows]
    rows = []
    for ptype, title in groups.items():
        group = [dict(c, population_type=ptype, kind="cohort", selected=g == SELECTED_ON_OUTCOME)
                 for g, c in placed if g == ptype]
        for r in ev[ev["population_type"] == ptype].itertuples(index=False):
            label = f"{r.trial} {r.regimen}" + ("" if r.arm in ("experimental", "single arm", "pooled")
                                                else " (control)")
            group.append({"label": label, "median": r.median_months, "lcl": r.lcl, "ucl": r.ucl, "n": r.n,
                          "population_type": ptype, "analysis_set": r.analysis_set, "selected": False,
                          "kind": ("missing" if not _present(r.median_months) and not r.median_not_reached
                                   else "secondary" if r.source_type == "secondary" else "trial"),
                          "not_reached": bool(r.median_not_reached)})
        if group:
            rows.append({"label": title, "kind": "header", "population_type": ptype, "selected": False})
            rows += group
    out = pd.DataFrame(rows)
    for col in ("median", "lcl", "ucl", "n"):
        out[col] = pd.to_numeric(out.get(col), errors="coerce")
    out["not_reached"] = out["not_reached"].eq(True) if "not_reached" in out else False
    return out


# --------------------------------------------------------------------------- the paper's quotations
# Each number the paper quotes from another publication (claims with basis "literature") is
# checked against the evidence table: a field of one row, a share derived from published counts,
# or, where the source could not be found, the reason.
Q = dict  # (trial, endpoint, population_type, arm, field)
QUOTES = {
    "I_optimismm_pfs": Q(trial="OPTIMISMM", endpoint="pfs", population_type="len_exposed", arm="experimental"),
    "I_apollo_pfs": Q(trial="APOLLO", endpoint="pfs", population_type="len_exposed", arm="experimental"),
    "I_boston_pfs": Q(trial="BOSTON", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "I_castor_pfs": Q(trial="CASTOR", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "I_endeavor_pfs": Q(trial="ENDEAVOR", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "I_ikema_pfs": Q(trial="IKEMA", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "I_candor_pfs": Q(trial="CANDOR", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "I_cartitude4_pfs": Q(trial="CARTITUDE-4", endpoint="pfs", population_type="lenref_any_line", arm="experimental"),
    "I_cartitude4_pfs12": Q(trial="CARTITUDE-4", endpoint="pfs", population_type="lenref_any_line",
                            arm="experimental", field="rate_pct"),
    "I_dreamm7_pfs": Q(trial="DREAMM-7", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "I_dreamm8_pfs": Q(trial="DREAMM-8", endpoint="pfs", population_type="len_exposed", arm="experimental"),
    "I_dreamm8_pfs12": Q(trial="DREAMM-8", endpoint="pfs", population_type="len_exposed", arm="experimental",
                         field="rate_pct"),
    "D_ikema_pfs": Q(trial="IKEMA", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "D_candor_pfs": Q(trial="CANDOR", endpoint="pfs", population_type="whole_trial", arm="experimental"),
    "D_optimismm_lenref_pfs": Q(trial="OPTIMISMM", endpoint="pfs", population_type="lenref_first_relapse",
                                arm="experimental"),
    "D_mm014_lenref": Q(trial="MM-014", endpoint="pfs", population_type="len_exposed", arm="single arm",
                        field="share_lenref_pct"),
    "D_mm014_lenref_pfs": Q(trial="MM-014", endpoint="pfs", population_type="lenref_any_line", arm="single arm"),
    "D_cartitude4_lenref": Q(trial="CARTITUDE-4", endpoint="pfs", population_type="lenref_any_line",
                             arm="experimental", field="share_lenref_pct"),
    "D_castor_lenref_pfs": Q(trial="CASTOR", endpoint="pfs", population_type="lenref_any_line", arm="experimental"),
    "D_castor_1pl_pfs": Q(trial="CASTOR", endpoint="pfs", population_type="one_prior_line", arm="experimental"),
    "D_vgpr_castor_1pl_pfs": Q(trial="CASTOR", endpoint="pfs", population_type="one_prior_line",
                               arm="experimental"),
    "D_castor_imid_ref_os": Q(trial="CASTOR", endpoint="os", population_type="imid_refractory_any_line",
                              arm="experimental"),
    "D_mm014_lenref_os": Q(trial="MM-014", endpoint="os", population_type="lenref_any_line", arm="single arm"),
    "D_yong_pfs": Q(trial="Yong 2025 (pooled)", endpoint="pfs",
                    population_type="lenref_any_line", arm="pooled"),
    "D_yong_os": Q(trial="Yong 2025 (pooled)", endpoint="os",
                   population_type="lenref_any_line", arm="pooled"),
    "I_optimismm_lenexp": Q(trial="OPTIMISMM", endpoint="pfs", population_type="len_exposed", arm="experimental",
                            field="len_exposed_pct"),
    "I_apollo_lenexp": Q(trial="APOLLO", endpoint="pfs", population_type="len_exposed", arm="experimental",
                         field="len_exposed_pct"),
    "I_dreamm8_lenexp": Q(trial="DREAMM-8", endpoint="pfs", population_type="len_exposed", arm="experimental",
                          field="len_exposed_pct"),
    "D_barila_n": Q(trial="Barila 2024 (real life)", endpoint="pfs", population_type="len_exposed",
                    arm="single arm", field="n"),
    "D_barila_lenref": Q(trial="Barila 2024 (real life)", endpoint="pfs", population_type="len_exposed",
                         arm="single arm", field="share_lenref_pct"),
}
# Shares derived from published counts: (numerator rows, denominator rows), each (trial, endpoint, type, arm).
DERIVED_SHARES = {
    "I_castor_lenref": ([("CASTOR", "pfs", "lenref_any_line", "experimental")],
                        [("CASTOR", "pfs", "whole_trial", "experimental")]),
    "D_castor_lenref": ([("CASTOR", "pfs", "lenref_any_line", "experimental")],
                        [("CASTOR", "pfs", "whole_trial", "experimental")]),
    "I_dreamm7_lenref": ([("DREAMM-7", "pfs", "lenref_any_line", "experimental"),
                          ("DREAMM-7", "pfs", "lenref_any_line", "control")],
                         [("DREAMM-7", "pfs", "whole_trial", "experimental"),
                          ("DREAMM-7", "pfs", "whole_trial", "control")]),
}
_COMPOSITION = ("the share was not found in a readable text of the trial's report (the evidence table "
                "records a population's composition only where the source of a result states it)")
NOT_FOUND = {
    **{c: _COMPOSITION for c in (
        "I_optimismm_lenref_first", "I_apollo_lenref", "I_dreamm8_lenref", "I_cartitude4_first",
        "I_endeavor_lenref", "I_ikema_lenref", "I_candor_lenref", "I_boston_lenref", "I_castor_first_line_len",
        "D_ikema_lenref", "D_candor_lenref", "D_boston_lenref", "D_apollo_lenref", "D_apollo_lenref_first",
        "D_mm014_lenref_first", "D_cartitude4_first")},
    "D_mm014_prior_lines": "the median number of prior lines is not in the MM-014 abstract (62.5% had one)",
    "D_ikema_orr": "the updated IKEMA abstract reports CR and MRD rates, not the overall response rate",
    "D_candor_orr": "the final CANDOR abstract reports MRD rates, not the overall response rate",
    "I_optimismm_lenref": ("the PVd arm's share is not in the texts read; the trial's ASH 2019 abstract gives "
                           "70% lenalidomide-refractory for all 559 patients"),
    "D_barila_prior_lines": "the number of prior lines is not in the part of the abstract that could be read",
    "D_barila_lenref_pfs": "the abstract gives the PFS of all 57 patients; the stored copy is cut off where it "
                           "compares lenalidomide-exposed with lenalidomide-refractory patients",
    "D_mccarthy_pfs": "not looked up: a meta-analysis of first-line maintenance, outside the comparison of "
                      "second-line regimens",
}


def quoted_value(evidence: pd.DataFrame, claim_id: str) -> tuple[float, str]:
    """(the source's number, '') or (nan, reason why it cannot be checked) for a literature claim."""
    if claim_id in NOT_FOUND:
        return float("nan"), NOT_FOUND[claim_id]
    if claim_id in DERIVED_SHARES:
        num, den = DERIVED_SHARES[claim_id]
        total = lambda keys: sum(select(evidence, t, e, p, a)["n"] for t, e, p, a in keys)  # noqa: E731
        return 100 * total(num) / total(den), ""
    q = dict(QUOTES[claim_id])
    field = q.pop("field", "median_months")
    row = select(evidence, **q)
    if field == "median_months" and row["median_not_reached"]:
        return float("nan"), ""  # not reached: matches a quotation of "not reached"
    if not _present(row[field]):
        return float("nan"), row["missing_reason"] or f"{field} not reported in the source"
    return float(row[field]), ""


def load_maic_targets(path: str | Path | None = None) -> pd.DataFrame:
    """Published baseline aggregates of the MAIC target populations, validated like the evidence.

    ``statistic`` is ``mean``, ``sd``, ``proportion`` or ``median`` (a median is matched by the share
    of patients below it, as the R package ``maic`` does). An aggregate the target reports but that
    could not be read has an empty ``value`` and a ``note`` beginning "not found in a readable source".
    """
    path = Path(path or MAIC_TARGETS)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in MAIC_TARGET_COLUMNS if c not in table.columns]
    if missing:
        raise EvidenceError(f"{path.name}: missing columns {missing}; expected {MAIC_TARGET_COLUMNS}")
    problems = []
    value = pd.to_numeric(table["value"], errors="coerce")
    for i, r in table.iterrows():
        where = f"{path.name}: row {i + 2} ({r.target}, {r.covariate})"
        if not r.value.strip():
            if not r.note.startswith(UNREADABLE):
                problems.append(f"{where}, column value: empty; give the number, or say in note why it is "
                                f"missing (beginning {UNREADABLE!r})")
        elif pd.isna(value[i]):
            problems.append(f"{where}, column value: {r.value!r} is not a number")
        elif r.statistic == "proportion" and not 0 < value[i] < 1:
            problems.append(f"{where}, column value: {r.value}; a proportion strictly between 0 and 1")
        if r.statistic not in ("mean", "sd", "proportion", "median"):
            problems.append(f"{where}, column statistic: {r.statistic!r}; expected mean, sd, proportion or median")
        if not r.source or not (r.doi or r.url) or not r.location:
            problems.append(f"{where}: every aggregate needs its source, a DOI or URL, and where in it")
        if r.source_type not in SOURCE_TYPES:
            problems.append(f"{where}, column source_type: {r.source_type!r}; expected one of {list(SOURCE_TYPES)}")
    if problems:
        raise EvidenceError("\n".join(problems))
    return table.assign(value=value)


def maic_targets(table: pd.DataFrame, target: str) -> list:
    """The matched aggregates of one target population, as :class:`compendium.stats.maic.Target`
    (aggregates that could not be read are left out: the table says which)."""
    from compendium.stats.maic import Target

    rows = table[(table["target"] == target) & table["value"].notna()]
    if rows.empty:
        raise KeyError(f"no MAIC target {target!r}")
    out = []
    for cov, part in rows.groupby("covariate", sort=False):
        stats = dict(zip(part["statistic"], part["value"]))
        kind = next((k for k in ("median", "proportion", "mean") if k in stats), "mean")
        out.append(Target(cov, float(stats[kind]), stats.get("sd") if kind != "median" else None,
                          "; ".join(part["source"].unique()), kind))
    return out

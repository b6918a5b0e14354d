"""Audit of the published report against itself, from the claims registry alone.

Nothing here reads data: every check compares numbers the paper prints with
other numbers the paper prints (as registered in ``data/claims/``), so the audit
is the same whatever cohort the compendium runs on.

- Hazard ratios: a Wald interval is symmetric on the log scale around the
  estimate, and its width gives the standard error, hence a p-value. Each
  printed ``HR (lcl-ucl) p`` is checked for both, allowing for the rounding of
  every printed digit (the implied p is computed at all corners of the rounding
  box of the two limits).
- Abstract against body: the same quantity printed twice with two values;
  where the two are given over different denominators (85 patients in the
  body, 79 or 84 in the Abstract) that is itself reported as an
  inconsistency, with both denominators.
- Percentages against counts and denominators; Table 6 totals against the sum
  of their grade rows (reusing the descriptive and toxicity audits).
- Statements that exclude each other (``logical_checks``), e.g. a median PFS2
  below the median PFS although PFS2 is defined from the same start.
- The text against the tables it summarises (``text_against_tables``): the
  Abstract's figures against the body's rows they stand for (infections, delayed
  daratumumab), the factors the Abstract and Results call independently
  associated against Tables 4-5, the Methods' rule for choosing the
  multivariable covariates against the models fitted, and the dexamethasone
  groups' doses against the approved schedule the Results quote.
- The reference list against the in-text citations (``citation_check``): each
  citation is registered with what the sentence cites it for (a trial name, a
  drug, an author) and checked against the title and authors of the reference
  of that number.

Every row carries a ``kind``: a failed check is a **contradiction** (the
printed statements cannot all be true), a **tension** (they conflict only
under an assumption, stated in ``assumption``: a p-value printed twice may come
from two different tests; cycles and months agree only without delays), or
**denominators** (the same quantity over different patients in two places).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from compendium.chapters import descriptives, toxicity
from compendium import paths
from compendium.data import spec as specs
from compendium.stats import models

Z95 = stats.norm.ppf(0.975)
# Abstract p-values whose counterpart in the body carries another stem.
EXTRA_PAIRS = {"A_pfs_vgpr_p": "T2_vgpr_p", "A_pfs_no_emd_p": "T2_no_emd_p", "A_pfs_pc_lt60_p": "T2_pc_lt60_p"}
AUDIT_COLUMNS = ["check", "claim_id", "quantity", "printed", "implied", "consistent", "detail"]
CONTRADICTION, TENSION, DENOMINATOR = "contradiction", "tension", "denominators"
#: The kind of a failed check, and the assumption a tension rests on.
CHECK_KINDS = {
    "HR centred in its CI": (CONTRADICTION, ""),
    "p implied by the CI": (TENSION, "the printed p is the Wald test of the printed (Wald) interval"),
    "Abstract against body": (CONTRADICTION, ""),
    "Abstract against body: p-values": (TENSION, "the Abstract and the body report the same test"),
    "Abstract against body: denominators": (DENOMINATOR, ""),
    "percentage = count / denominator": (CONTRADICTION, ""),
    "Table 6 total = sum of grade rows": (CONTRADICTION, ""),
    "statements that exclude each other": (CONTRADICTION, ""),
    "statements in tension": (TENSION, "treatment given on the approved schedule without delays"),
    "citation matches the reference": (CONTRADICTION, ""),
    "Abstract against body: a grade within a merged row": (
        TENSION, "the Abstract's grade is the body's merged row (Table 6 prints grades 3 and 4 as one, G3/4)"),
    "text against the multivariable tables": (CONTRADICTION, ""),
    "Methods' rule against the models fitted": (CONTRADICTION, ""),
    "dexamethasone groups against the approved schedule": (
        TENSION, "'mg/week' is the dose given in a week of the approved 21-day schedule the Results quote"),
}


def _interval(value: float, tolerance: float, unit: str) -> tuple[float, float]:
    """The values a printed number stands for; a p printed '<0.001' is registered as 0.0005 ± 0.0005."""
    lo, hi = value - tolerance, value + tolerance
    return (max(lo, 0.0), hi) if unit != "HR" else (max(lo, 1e-12), hi)


def wald_p_from_limits(lcl: float, ucl: float) -> float:
    """Two-sided Wald p implied by a 95% interval: centre and width on the log scale."""
    beta = (np.log(lcl) + np.log(ucl)) / 2
    se = (np.log(ucl) - np.log(lcl)) / (2 * Z95)
    return float(2 * stats.norm.sf(abs(beta / se)))


def hazard_ratio_consistency(registry: pd.DataFrame) -> pd.DataFrame:
    """Each printed HR (CI) p against what its own limits imply, rounding allowed for."""
    reg = registry.set_index("claim_id")
    rows = []
    for hr_id in [c for c in reg.index if c.endswith("_hr")]:
        stem = hr_id.removesuffix("_hr")
        ids = {k: f"{stem}_{k}" for k in ("hr", "lcl", "ucl", "p")}
        if not all(i in reg.index for i in ids.values()):
            continue
        box = {k: _interval(reg.at[i, "published"], reg.at[i, "tolerance"], reg.at[i, "unit"])
               for k, i in ids.items()}
        centre = np.sqrt(reg.at[ids["lcl"], "published"] * reg.at[ids["ucl"], "published"])
        centre_lo, centre_hi = np.sqrt(box["lcl"][0] * box["ucl"][0]), np.sqrt(box["lcl"][1] * box["ucl"][1])
        hr_ok = box["hr"][0] <= centre_hi and centre_lo <= box["hr"][1]
        p_corners = [wald_p_from_limits(lo, hi) for lo, hi in itertools.product(box["lcl"], box["ucl"])]
        p_lo, p_hi = min(p_corners), max(p_corners)
        p_ok = box["p"][0] <= p_hi and p_lo <= box["p"][1]
        label = reg.at[hr_id, "quantity"].removesuffix(": HR")
        rows.append({"check": "HR centred in its CI", "claim_id": hr_id, "quantity": label,
                     "printed": reg.at[hr_id, "published"], "implied": centre, "consistent": hr_ok,
                     "detail": f"geometric mean of the printed limits {centre_lo:.3f}-{centre_hi:.3f}"})
        rows.append({"check": "p implied by the CI", "claim_id": ids["p"], "quantity": label,
                     "printed": reg.at[ids["p"], "published"], "implied": wald_p_from_limits(
                         reg.at[ids["lcl"], "published"], reg.at[ids["ucl"], "published"]),
                     "consistent": p_ok, "detail": f"Wald p from the rounded limits {p_lo:.4f}-{p_hi:.4f}"})
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def abstract_vs_body(registry: pd.DataFrame) -> pd.DataFrame:
    """Quantities the Abstract prints again, with another value or over another denominator.

    A pair over two different denominators (the body's 85 patients, the
    Abstract's 79) is an inconsistency of its own: the same count cannot be a
    share of both cohorts, and a percentage over another denominator is not
    the same quantity, so it is reported as such rather than compared.
    p-values printed twice are a tension only: the Abstract may report another
    test than the table.
    """
    reg = registry.set_index("claim_id")
    rows = []
    for a_id in sorted(c for c in reg.index if c.startswith("A_")):
        stem = a_id[2:]
        partners = [c for c in reg.index if c != a_id and not c.startswith("A_") and c.split("_", 1)[1] == stem]
        partners += [EXTRA_PAIRS[a_id]] if a_id in EXTRA_PAIRS else []
        for b_id in sorted(set(partners)):
            da, db = reg.at[a_id, "denominator"], reg.at[b_id, "denominator"]
            a, b = reg.at[a_id, "published"], reg.at[b_id, "published"]
            where = f"{b_id} ({reg.at[b_id, 'location']})"
            if pd.notna(da) and pd.notna(db) and da != db:
                unit = reg.at[a_id, "unit"]
                pct = "%" if unit == "%" else ""
                rows.append({"check": "Abstract against body: denominators", "claim_id": a_id,
                             "quantity": reg.at[a_id, "quantity"], "printed": da, "implied": db, "consistent": False,
                             "detail": f"Abstract {a:g}{pct} of {da:g}; {where} {b:g}{pct} of {db:g}: the two rest on "
                                       f"different patients, so they are not the same quantity and a reader "
                                       f"comparing them is misled"})
                continue
            if pd.isna(da) != pd.isna(db) and reg.at[a_id, "unit"] == "%":
                # a percentage with a stated denominator beside one without is checked against its count;
                # the Abstract's share without one is set against the body's count and denominator
                if pd.isna(da):
                    row = share_against_body(reg, a_id, (b_id.removesuffix("_pct"),), "Abstract against body")
                    rows += [row] if row else []
                continue
            tol = max(reg.at[a_id, "tolerance"], reg.at[b_id, "tolerance"])
            check = "Abstract against body: p-values" if reg.at[a_id, "unit"] == "p" else "Abstract against body"
            rows.append({"check": check, "claim_id": a_id, "quantity": reg.at[a_id, "quantity"],
                         "printed": a, "implied": b, "consistent": bool(abs(a - b) <= tol + 1e-12),
                         "detail": f"{where} prints {b:g}"})
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def percentages(registry: pd.DataFrame) -> pd.DataFrame:
    """Printed percentages against printed count / denominator (every location)."""
    audit = descriptives.audit_printed_percentages(registry, "")
    audit = audit[audit["denominator"].notna()]  # no denominator printed or implied: nothing to check
    return pd.DataFrame({
        "check": "percentage = count / denominator", "claim_id": audit["claim_id"], "quantity": audit["quantity"],
        "printed": audit["printed_pct"], "implied": audit["n_over_denominator_pct"],
        "consistent": audit["consistent"],
        "detail": [f"{n:g} / {d:g}" for n, d in zip(audit["printed_n"], audit["denominator"])],
    }, columns=AUDIT_COLUMNS)


def table6_totals(registry: pd.DataFrame) -> pd.DataFrame:
    """Table 6: each any-grade total against the sum of its grade rows."""
    audit = toxicity.audit_table6_totals(registry)
    ids = {label: f"T6_{key}_any_n" for key, label, _ in toxicity.TABLE6_EVENTS}
    return pd.DataFrame({
        "check": "Table 6 total = sum of grade rows", "claim_id": audit["event"].map(ids), "quantity": audit["event"],
        "printed": audit["printed_total"], "implied": audit["sum_of_grade_rows"], "consistent": audit["adds_up"],
        "detail": "grade rows: " + audit["grade_rows"].astype(str),
    }, columns=AUDIT_COLUMNS)


# Approved DaraVd schedule: eight 21-day cycles, then 28-day cycles.
def schedule_months(cycles: float) -> float:
    """Months that ``cycles`` DaraVd cycles last on the approved schedule, without delays."""
    return (min(cycles, 8) * 21 + max(cycles - 8, 0) * 28) / 30.4375


def logical_checks(registry: pd.DataFrame) -> pd.DataFrame:
    """Statements that cannot all be true, each named by the claims it sets against each other."""
    reg = registry.set_index("claim_id")["published"]
    rules = [
        ("PFS2 from DaraVd start is never shorter than PFS", "R_pfs2_median",
         reg["R_pfs2_median"] >= reg["R_pfs_median"], reg["R_pfs_median"],
         "median PFS2 (Methods' definition) must be >= median PFS (R_pfs_median)"),
        ("FISH evaluable at diagnosis = high + standard risk", "R_cyto_dx_evaluable_n",
         reg["R_cyto_dx_evaluable_n"] == reg["R_cyto_dx_high_n"] + reg["R_cyto_dx_standard_n"],
         reg["R_cyto_dx_high_n"] + reg["R_cyto_dx_standard_n"], "R_cyto_dx_high_n + R_cyto_dx_standard_n"),
        ("discontinuations for toxicity stated twice", "R_tox_discontinued_n",
         reg["R_tox_discontinued_n"] == reg["R_disc_toxicity_n"], reg["R_disc_toxicity_n"],
         "Toxicity section against the list of stop reasons (R_disc_toxicity_n)"),
        ("infusion-related reactions grade 1: text against Table 6", "R_irr_g1_n",
         reg["R_irr_g1_n"] == reg["T6_irr_g1_n"], reg["T6_irr_g1_n"], "T6_irr_g1_n"),
        ("infections grade >= 3: text against Table 6", "R_infection_ge3_n",
         reg["R_infection_ge3_n"] == reg["T6_infection_g34_n"] + reg["T6_infection_g5_n"],
         reg["T6_infection_g34_n"] + reg["T6_infection_g5_n"], "T6_infection_g34_n + T6_infection_g5_n"),
    ]
    # only under an assumption: cycles convert to months on the approved schedule without delays
    tensions = [
        ("median cycles against median duration (approved schedule, one cycle of slack)", "R_duration_median",
         abs(reg["R_duration_median"] - schedule_months(reg["R_cycles_median"])) <= 28 / 30.4375,
         schedule_months(reg["R_cycles_median"]), "months of R_cycles_median cycles on schedule"),
    ]
    quantity = registry.set_index("claim_id")["quantity"]
    return pd.DataFrame([{"check": check, "claim_id": cid,
                          "quantity": f"{rule}: {quantity[cid]}", "printed": reg[cid], "implied": implied,
                          "consistent": bool(ok), "detail": detail}
                         for check, group in (("statements that exclude each other", rules),
                                              ("statements in tension", tensions))
                         for rule, cid, ok, implied, detail in group], columns=AUDIT_COLUMNS)


# --- the text against the tables it summarises ------------------------------------------

#: Abstract figures whose counterpart in the body carries other claim ids: (check, Abstract claim,
#: the stems of the body's counts that add up to it). Pairs with the same stem are found alone.
ABSTRACT_COUNTERPARTS = (
    ("Abstract against body: a grade within a merged row", "A_infection_g3_pct", ("T6_infection_g34",)),
    ("Abstract against body", "A_dara_delayed_n", ("R_dara_skip1", "R_dara_skip2", "R_dara_skip3_5")),
    ("Abstract against body", "A_dara_delayed_pct", ("R_dara_skip1", "R_dara_skip2", "R_dara_skip3_5")),
)
ALPHA_CLAIM = "M_alpha"                      # the Methods' cutoff for significance
COHORT_CLAIM = "M_patients_n"                # patients enrolled and analysed
DEX_SCHEDULE = "R_dex_schedule_"             # the approved schedule the Results quote: dose, days, cycle
INDEPENDENT_SUFFIX = "_mv_independent_n"     # <where>_<endpoint>_mv_independent_n: factors the text names
WEEKLY_DOSE_SUFFIX = "_weekly_mg"            # a dexamethasone group's dose as its label gives it
_EPS = 1e-9


def _p_text(p: float) -> str:
    return models.format_p(p)


def _whole(lo: float, hi: float) -> str:
    first, last = int(np.ceil(lo - _EPS)), int(np.floor(hi + _EPS)) if np.isfinite(hi) else None
    if last is None:
        return f"{first} or more"
    return f"{first}" if first == last else f"{first}-{last}"


def share_against_body(reg: pd.DataFrame, a_id: str, stems, check: str) -> dict | None:
    """The Abstract's count or share ``a_id`` against the body's counts ``<stem>_n`` that add up to it.

    A share is set against the body's own percentage where it prints one for a single row, else
    against the count over the body's denominator. Where they differ, the denominators that would
    make the body's count give the Abstract's share tell the kind: one the Abstract states for
    another figure means the two describe different patients (``denominators``); none means they
    cannot both hold over any set of patients the paper describes.
    """
    count_ids = [f"{stem}_n" for stem in stems]
    if a_id not in reg.index or any(c not in reg.index for c in count_ids):
        return None
    count = float(sum(reg.at[c, "published"] for c in count_ids))
    cohort = reg.at[COHORT_CLAIM, "published"] if COHORT_CLAIM in reg.index else np.nan
    denominator = reg.at[count_ids[0], "denominator"]
    denominator = cohort if pd.isna(denominator) else denominator
    a, tol = reg.at[a_id, "published"], reg.at[a_id, "tolerance"]
    location = reg.at[count_ids[0], "location"]
    body = (" + ".join(count_ids) + " = " + " + ".join(f"{reg.at[c, 'published']:g}" for c in count_ids)
            + f" = {count:g}" if len(count_ids) > 1 else f"{count_ids[0]} {count:g}") + f" of {denominator:g}"
    row = {"check": check, "claim_id": a_id, "quantity": reg.at[a_id, "quantity"], "printed": a}
    if reg.at[a_id, "unit"] != "%":
        return {**row, "implied": count, "consistent": bool(abs(a - count) <= tol + 1e-12),
                "detail": f"{location}: {body}"}
    pct_id = f"{stems[0]}_pct"
    single = len(stems) == 1 and pct_id in reg.index
    body_pct = reg.at[pct_id, "published"] if single else 100.0 * count / denominator
    body_tol = reg.at[pct_id, "tolerance"] if single else 0.0
    ok = bool(abs(a - body_pct) <= max(tol, body_tol) + 1e-12)
    detail = f"Abstract {a:g}% (no denominator); {location}: {body}, " + (
        f"printed {body_pct:g}%" if single else f"that is {body_pct:.1f}%")
    if ok:
        return {**row, "implied": body_pct, "consistent": True, "detail": detail}
    lo, hi = 100.0 * count / (a + tol), (100.0 * count / (a - tol) if a > tol else np.inf)
    elsewhere = sorted(d for d in set(reg.loc[reg["location"] == "Abstract", "denominator"].dropna())
                       if lo - _EPS <= d <= hi + _EPS and d != denominator)
    if elsewhere:
        return {**row, "check": "Abstract against body: denominators", "printed": elsewhere[0],
                "implied": denominator, "consistent": False,
                "detail": f"{detail}; {count:g} is {a:g}% of {elsewhere[0]:g}, a denominator the Abstract gives for "
                          f"other figures: the two rest on different patients"}
    why = (f"more than the {cohort:g} treated" if np.isfinite(cohort) and lo > cohort + _EPS
           else "a number of patients the paper gives for no figure")
    detail += f"; {count:g} is {a:g}% of {_whole(lo, hi)} patients, {why}"
    if check != "Abstract against body":   # a part of a merged row: what the part would leave to the rest
        part = round(a / 100.0 * denominator)
        detail += (f"; as one grade of that row, {a:g}% of {denominator:g} is {part} patients, leaving {count - part:g} "
                   f"of the row at the other grade" if part <= count else "")
    return {**row, "implied": body_pct, "consistent": False, "detail": detail}


def abstract_counterparts(reg: pd.DataFrame) -> list[dict]:
    rows = [share_against_body(reg, a_id, stems, check) for check, a_id, stems in ABSTRACT_COUNTERPARTS]
    return [r for r in rows if r]


def _multivariable_tables(tables) -> list:
    return [t for t in tables if t.source != "univariate"]


def _where(reg: pd.DataFrame, table) -> str:
    ids = [f"{r.claim}_p" for r in table.rows if f"{r.claim}_p" in reg.index]
    return reg.at[ids[0], "location"] if ids else table.title


def multivariable_statements(reg: pd.DataFrame, tables, alpha: float) -> list[dict]:
    """The number of factors the text calls independently associated, against the multivariable
    table of that endpoint: its rows with a printed p below the Methods' cutoff."""
    rows = []
    for cid in [c for c in reg.index if c.endswith(INDEPENDENT_SUFFIX)]:
        endpoint = cid.removesuffix(INDEPENDENT_SUFFIX).split("_", 1)[1]
        fitted = [t for t in _multivariable_tables(tables) if t.endpoint == endpoint]
        if not fitted:
            continue
        table = fitted[0]
        printed = [(r.label, reg.at[f"{r.claim}_p", "published"]) for r in table.rows if f"{r.claim}_p" in reg.index]
        below = [label for label, p in printed if p < alpha]
        rows.append({"check": "text against the multivariable tables", "claim_id": cid,
                     "quantity": f"{reg.at[cid, 'location']}: {reg.at[cid, 'quantity']}",
                     "printed": reg.at[cid, "published"], "implied": float(len(below)),
                     "consistent": bool(reg.at[cid, "published"] == len(below)),
                     "detail": f"{_where(reg, table)}: " + ", ".join(f"{label} p {_p_text(p)}" for label, p in printed)
                               + f"; below {alpha:g}: " + (", ".join(below) or "none")})
    return rows


def methods_rule(reg: pd.DataFrame, tables, alpha: float) -> list[dict]:
    """The Methods: 'a multivariable Cox regression model fitted with still significant covariates in
    the previous univariate regression analysis'. For each multivariable table, every factor of the
    univariate tables of its endpoint (its smallest printed p over its levels) and every factor fitted:
    significant and fitted, or neither."""
    rows = []
    for model in _multivariable_tables(tables):
        univariate: dict[str, list] = {}
        for table in (t for t in tables if t.source == "univariate" and t.endpoint == model.endpoint):
            for r in table.rows:
                if f"{r.claim}_p" in reg.index:
                    univariate.setdefault(r.covariate, []).append((reg.at[f"{r.claim}_p", "published"], r, table))
        fitted = {r.covariate: r for r in model.rows}
        where = _where(reg, model)
        for covariate in list(univariate) + [c for c in fitted if c not in univariate]:
            in_model = covariate in fitted
            if covariate not in univariate:
                rows.append({"check": "Methods' rule against the models fitted", "claim_id": f"{fitted[covariate].claim}_p",
                             "quantity": f"{model.endpoint.upper()}: {fitted[covariate].label}", "printed": np.nan,
                             "implied": alpha, "consistent": False,
                             "detail": f"in {where}'s model without a univariate p for {model.endpoint.upper()}"})
                continue
            levels = univariate[covariate]
            p, first_row, table = min(levels, key=lambda x: x[0])
            significant = p < alpha
            printed = ", ".join(f"{r.label} p {_p_text(q)}" for q, r, _ in levels)
            rows.append({"check": "Methods' rule against the models fitted", "claim_id": f"{first_row.claim}_p",
                         "quantity": f"{model.endpoint.upper()}: {first_row.label}", "printed": p, "implied": alpha,
                         "consistent": bool(significant == in_model),
                         "detail": f"{reg.at[f'{first_row.claim}_p', 'location']}: {printed} "
                                   f"({'below' if significant else 'not below'} {alpha:g}); "
                                   f"{'in' if in_model else 'left out of'} {where}'s model"})
    return rows


def dexamethasone_groups(reg: pd.DataFrame) -> list[dict]:
    """Each reduced-dose group's weekly dose, as its label gives it, against the full dose of the
    approved schedule the Results quote (a dose on each listed day of each cycle): a reduction is
    below the full dose however a week is counted, in a dosing week or averaged over the cycle."""
    dose_id, cycle_id = f"{DEX_SCHEDULE}dose_mg", f"{DEX_SCHEDULE}cycle_days"
    day_ids = sorted(c for c in reg.index if c.startswith(f"{DEX_SCHEDULE}day_"))
    if dose_id not in reg.index or cycle_id not in reg.index or not day_ids:
        return []
    dose, cycle = reg.at[dose_id, "published"], reg.at[cycle_id, "published"]
    days = sorted(reg.at[c, "published"] for c in day_ids)
    weekly = [dose * sum(7 * k < d <= 7 * (k + 1) for d in days) for k in range(int(np.ceil(cycle / 7)))]
    mean = dose * len(days) * 7 / cycle
    schedule = (f"approved schedule: {dose:g} mg on days {', '.join(f'{d:g}' for d in days)} of a {cycle:g}-day cycle, "
                + ", ".join(f"{w:g} mg in week {k + 1}" for k, w in enumerate(weekly)) + f" ({mean:.1f} mg/week over the cycle)")
    rows = []
    for gid in sorted(c for c in reg.index if c.endswith(WEEKLY_DOSE_SUFFIX)):
        group = reg.at[gid, "published"]
        reduced = group < mean - _EPS
        verdict = (f"{group:g} mg/week is below the full dose however a week is counted" if reduced else
                   f"{group:g} mg/week is " + ("the full dose of each dosing week" if any(abs(group - w) < _EPS for w in weekly)
                                               else "not below the full dose of a dosing week" if group <= max(weekly)
                                               else "more than the full dose of any week")
                   + f" and not below its mean over the cycle: no reduction, so the group needs a definition")
        rows.append({"check": "dexamethasone groups against the approved schedule", "claim_id": gid,
                     "quantity": f"{reg.at[gid, 'location']}: dexamethasone {group:g} mg/week against the full dose",
                     "printed": group, "implied": mean, "consistent": bool(reduced), "detail": f"{schedule}; {verdict}"})
    return rows


def text_against_tables(registry: pd.DataFrame, tables=None) -> pd.DataFrame:
    """The Abstract's figures against the body's rows, the text's reading of Tables 4-5, the Methods'
    rule against the models fitted and the dexamethasone groups against the approved schedule.

    ``tables`` are the paper's tables as its specification lays them out (which registry rows are
    which factor, which tables are univariate and which a model); the paper's own by default, so that
    the audit of the paper does not change with a user's specification.
    """
    reg = registry.set_index("claim_id")
    tables = specs.load().tables if tables is None else tables
    rows = abstract_counterparts(reg)
    if ALPHA_CLAIM in reg.index:
        alpha = reg.at[ALPHA_CLAIM, "published"]
        rows += multivariable_statements(reg, tables, alpha) + methods_rule(reg, tables, alpha)
    rows += dexamethasone_groups(reg)
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


REFERENCES_DIR = paths.DATA / "references"
REFERENCE_COLUMNS = ["number", "first_author", "authors", "title", "journal", "year", "doi"]
CITATION_COLUMNS = ["citation_id", "location", "context", "number", "cited_for"]


def load_references(directory=REFERENCES_DIR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's reference list and its in-text citations, as registered from the paper's text."""
    out = []
    for name, cols in (("reference_list.csv", REFERENCE_COLUMNS), ("citations.csv", CITATION_COLUMNS)):
        path = directory / name
        frame = pd.read_csv(path, dtype={"year": str})
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{paths.relative(path)}: missing columns {missing}")
        numbers = pd.to_numeric(frame["number"], errors="coerce")
        bad = frame.index[numbers.isna() | (numbers % 1 != 0)]
        if len(bad):
            raise ValueError(f"{paths.relative(path)}, column number, row {bad[0] + 2}: "
                             f"expected a whole reference number, found {frame.at[bad[0], 'number']!r}")
        frame["number"] = numbers.astype(int)
        out.append(frame)
    if out[0]["number"].duplicated().any():
        raise ValueError("data/references/reference_list.csv: reference numbers must be unique")
    return out[0], out[1]


def _reference_text(ref: pd.Series) -> str:
    return " ".join(str(ref[c]) for c in ("authors", "title", "journal") if pd.notna(ref[c])).lower()


def citation_check(references: pd.DataFrame, citations: pd.DataFrame) -> pd.DataFrame:
    """Each in-text citation against the reference of its number.

    ``citations`` holds, per cited number, what the sentence cites it for
    (``cited_for``: a trial name, a drug or an author, as the paper writes it,
    alternatives separated by ``|``); the check is that this appears in the
    reference's authors, title or journal. A failure names the reference(s)
    that would match, i.e. what the citation should have been.
    """
    refs = references.set_index("number")
    text = {n: _reference_text(r) for n, r in refs.iterrows()}
    rows = []
    for c in citations.itertuples():
        keys = [k.strip().lower() for k in str(c.cited_for).split("|")]
        hit = lambda n: any(k in text[n] for k in keys)  # noqa: E731
        ok = c.number in text and hit(c.number)
        matches = [n for n in text if hit(n)]
        cited = (f"[{c.number}] {refs.at[c.number, 'first_author']} {refs.at[c.number, 'year']}"
                 if c.number in refs.index else f"[{c.number}] not in the reference list")
        detail = cited + ("" if ok else f"; cited for '{c.cited_for}', which is "
                          + (", ".join(f"[{n}] {refs.at[n, 'first_author']} {refs.at[n, 'year']}" for n in matches)
                             if matches else "in no reference of the list"))
        rows.append({"check": "citation matches the reference", "claim_id": c.citation_id,
                     "quantity": f"{c.location}: {c.context}", "printed": c.number,
                     "implied": matches[0] if (not ok and len(matches) == 1) else np.nan,
                     "consistent": bool(ok), "detail": detail})
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def paper_audit(registry: pd.DataFrame, references: pd.DataFrame | None = None,
                citations: pd.DataFrame | None = None, tables=None) -> pd.DataFrame:
    """Every internal-consistency check of the report, one row per check: ``results/paper_audit.csv``.

    Columns ``check, kind, assumption, claim_id, quantity, printed, implied,
    consistent, detail``; ``kind`` is ``contradiction``, ``tension`` or
    ``denominators`` (what a failure of that check means), ``assumption`` what
    a tension rests on.
    """
    parts = [hazard_ratio_consistency(registry), abstract_vs_body(registry), percentages(registry),
             table6_totals(registry), logical_checks(registry), text_against_tables(registry, tables)]
    if references is not None and citations is not None:
        parts.append(citation_check(references, citations))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out["consistent"] = out["consistent"].astype(bool)
    kinds = out["check"].map(CHECK_KINDS)
    out.insert(1, "kind", [k[0] for k in kinds])
    out.insert(2, "assumption", [k[1] for k in kinds])
    return out

"""Clinical rules of a DaraVd course, checked on any raw frame (a typed export or a generated cohort).

Each rule is data (``RULES``): a name, what it says, the columns it reads and the check that finds
the patients breaking it, so that the same list drives the generator's tests, notebook 00 and, for a
real export, the queries a data manager answers (``rule_breaches``: one row per patient and rule,
with the values involved). The schedule, the IMWG confirmation interval and every threshold are
defined here, once, because the generator draws its histories to obey them and the checks read
data against them.

Where a threshold is a convention rather than a published fact, its comment says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd

# Nominal cycle starts (days): eight 21-day DaraVd cycles, then 28-day daratumumab cycles (CASTOR schedule).
CYCLE_STARTS = np.concatenate([np.arange(8) * 21, 168 + np.arange(400) * 28])
CYCLE_DELAY = 0.15  # cycles may stretch by up to 15% (delays for toxicity, holidays)
CONFIRM_DAYS = 28  # IMWG: one assessment (a cycle) to confirm a response, and 4 weeks more before progression
CONFIRM_GAP_DAYS = 2 * CONFIRM_DAYS

#: CASTOR schedule: bortezomib is given in cycles 1-8 only (daratumumab goes on alone from cycle 9).
BORTEZOMIB_CYCLES = 8
#: Transplant eligibility: 70 completed years at the start of first-line therapy, the upper end of the
#: 65-70 band Italian practice gives for a first-line ASCT in patients without comorbidity (the
#: AIOM/SIE myeloma guidelines plan ASCT for patients under 65 and reduced-intensity transplants for
#: selected older ones). The exact cut is the compendium's convention.
ASCT_MAX_AGE = 70
#: Subcutaneous daratumumab: authorised in the EU in 2020 and classified C(nn) in Italy (AIFA Determina
#: 94/2020, Gazzetta Ufficiale 16 October 2020: on the market, not reimbursed); reimbursed by the
#: Italian national health service from December 2021 (Janssen's announcement, 15 December 2021).
#: The paper: the 82 intravenous starts were intravenous "as SC formulation was not approved at the
#: time of treatment initiation". So an SC start before this date, or an IV start on or after it, is a query.
SC_DARATUMUMAB_DATE = date(2021, 12, 15)
#: The first response assessment is at the end of cycle 1: no response is documented earlier.
FIRST_ASSESSMENT_DAYS = int(CYCLE_STARTS[1])
#: A progression on the next line is documented at its first assessment at the earliest: one 28-day cycle.
NEXT_LINE_MIN_DAYS = 28
#: Best response PD means progression at the first assessments: by the start of cycle 4 (three 21-day
#: cycles, with the schedule's delay). A patient on DaraVd for longer without progression is SD at worst (IMWG).
PD_BEST_MAX_DAYS = int(CYCLE_STARTS[3] * (1 + CYCLE_DELAY))
#: A patient still on DaraVd is seen every cycle, so at the data cut-off the last visit is recent: 3 months.
ON_TREATMENT_SEEN_DAYS = 92
#: Relapsed myeloma is treated: a next line within 6 months of progression, unless death or the end of
#: follow-up comes first (a patient followed longer than that without a next line is a query).
UNTREATED_MAX_DAYS = 183
#: A stop for toxicity is a stop for a severe event: CTCAE grade 3 or higher (the labels of bortezomib and
#: daratumumab withhold or stop treatment from grade 3, or grade 2 neuropathy with pain, which the
#: dictionary does not record; a grade-2 event is managed by dose changes).
TOXICITY_STOP_MIN_GRADE = 3
#: Toxicities the dictionary records that justify a bortezomib dose reduction (label: neuropathy of any grade
#: with pain or grade 2, grade-4 haematological toxicity, grade-3 non-haematological toxicity), with the
#: grade from which each counts. Thrombocytopenia counts from grade 3, as reductions for it are made in
#: practice (the paper: "reduced for thrombocytopenia or PN").
REDUCTION_CAUSES = {"ae_pn_grade": 1, "ae_thrombocytopenia_grade": 3, "ae_neutropenia_grade": 4,
                    "ae_infection_grade": 3, "ae_asthenia_grade": 3, "ae_diarrhoea_grade": 3, "ae_nausea_grade": 3,
                    "ae_constipation_grade": 3, "ae_skin_rash_grade": 3, "ae_hepatic_grade": 3}
#: Toxicities that oblige a reduction or a once-weekly switch (label: grade-3 neuropathy, grade-4 thrombocytopenia).
REDUCTION_NEEDED = {"ae_pn_grade": 3, "ae_thrombocytopenia_grade": 4}

AE_COLUMNS = ("ae_thrombocytopenia_grade", "ae_pn_grade", "ae_anemia_grade", "ae_infection_grade", "ae_asthenia_grade",
              "ae_neutropenia_grade", "ae_diarrhoea_grade", "ae_constipation_grade", "ae_pneumonia_grade",
              "ae_irr_grade", "ae_nausea_grade", "ae_skin_rash_grade", "ae_hepatic_grade", "ae_herpes_zoster_grade")


class _Frame:
    """What the checks read from a typed raw frame: dates, day differences, flags, ages."""

    def __init__(self, raw: pd.DataFrame, cutoff=None):
        self.raw = raw
        self.d = {c: raw[c] for c in raw.columns if c.endswith("_date")}
        self.has = {k: v.notna() for k, v in self.d.items()}
        self.best = raw["best_response"].astype(object)
        self.reason = raw["daravd_end_reason"].astype(object).fillna("")
        self.progressed = self.has["progression_date"]
        self.cutoff = pd.Timestamp(cutoff) if cutoff is not None else self.d["last_followup_date"].max()

    def days(self, a: str, b: str) -> pd.Series:
        return (self.d[b] - self.d[a]).dt.days

    def num(self, col: str) -> pd.Series:
        return pd.to_numeric(self.raw[col], errors="coerce").astype(float)

    def text(self, col: str) -> pd.Series:
        return self.raw[col].astype(object).fillna("")

    def age_at(self, col: str) -> pd.Series:
        """Completed years from birth_date to a date column."""
        birth, when = self.d["birth_date"], self.d[col]
        before = (when.dt.month < birth.dt.month) | ((when.dt.month == birth.dt.month) & (when.dt.day < birth.dt.day))
        return when.dt.year - birth.dt.year - before.astype(float)

    def any_grade(self, thresholds: dict) -> pd.Series:
        out = pd.Series(False, index=self.raw.index)
        for col, grade in thresholds.items():
            out |= self.num(col).fillna(0) >= grade
        return out


@dataclass(frozen=True)
class Rule:
    """One clinical rule: ``check`` is True for the patients who break it."""

    name: str
    description: str
    columns: tuple
    check: Callable[[_Frame], pd.Series]


def _confirmed_before_progression(f):
    return ~f.best.eq("PD") & f.progressed & (f.days("best_response_date", "progression_date") < CONFIRM_GAP_DAYS)


def _pd_best_is_progression(f):
    return f.best.eq("PD") & ~(f.progressed & (f.d["best_response_date"] == f.d["progression_date"]))


def _vgpr_date(f):
    deep = f.best.isin(["sCR", "CR", "VGPR"])
    return (deep != f.has["vgpr_first_date"]) | (f.days("vgpr_first_date", "best_response_date") < 0)


def _response_after_first_assessment(f):
    early = pd.Series(False, index=f.raw.index)
    for col in ("best_response_date", "vgpr_first_date"):
        early |= f.days("daravd_start_date", col) < FIRST_ASSESSMENT_DAYS
    return early


def _confirmed_before_death(f):
    return (~f.progressed & f.has["death_date"] & f.has["best_response_date"]
            & (f.days("best_response_date", "death_date") < CONFIRM_DAYS))


def _best_within_followup(f):
    return f.days("best_response_date", "last_followup_date") < 0


def _pd_stop(f):
    return ((f.reason.eq("PD") & (f.d["daravd_end_date"] != f.d["progression_date"]))
            | (f.reason.eq("") & (f.progressed | f.has["death_date"]))
            | (f.progressed & (f.days("daravd_end_date", "progression_date") < 0)))


def _death_stop(f):
    return f.reason.eq("death") & ~(f.days("daravd_end_date", "death_date").between(0, 21))


def _cycles(f):
    dur = (f.d["daravd_end_date"].fillna(f.d["last_followup_date"]) - f.d["daravd_start_date"]).dt.days.to_numpy(float)
    cyc = f.num("cycles_received").to_numpy(float)
    idx = np.clip(np.nan_to_num(cyc).astype(int), 1, len(CYCLE_STARTS) - 1)
    bad = (cyc < 2) | (CYCLE_STARTS[idx - 1] > dur) | (CYCLE_STARTS[idx] * (1 + CYCLE_DELAY) < dur) & ~f.reason.eq("ASCT").to_numpy()
    return pd.Series(bad, index=f.raw.index)


def _death_cause(f):
    cause = f.text("death_cause")
    return ((~f.progressed & f.has["death_date"] & cause.eq("myeloma"))
            | (cause.eq("adverse_event") & ~(f.reason.eq("death") & (f.num("ae_infection_grade") == 5))))


def _next_line_order(f):
    return ((f.has["next_treatment_date"] & ~(f.progressed & (f.days("progression_date", "next_treatment_date") >= 0)))
            | (f.has["second_progression_date"] & ~(f.days("next_treatment_date", "second_progression_date") >= 0))
            | (f.has["second_progression_date"] & f.has["death_date"] & (f.days("second_progression_date", "death_date") < 0)))


def _bortezomib_toxicity_managed(f):
    managed = (f.num("bortezomib_dose_reduced") == 1) | (f.num("bortezomib_weekly_switch") == 1)
    return f.any_grade(REDUCTION_NEEDED) & ~managed


def _bortezomib_reduction_cause(f):
    return (f.num("bortezomib_dose_reduced") == 1) & ~f.any_grade(REDUCTION_CAUSES)


def _bortezomib_reduction_cycle(f):
    cycle = f.num("bortezomib_reduction_cycle")
    return cycle.notna() & ((cycle > BORTEZOMIB_CYCLES) | (cycle > f.num("cycles_received")))


def _reduced_start_dose(f):
    return (f.num("bortezomib_start_dose_mg_m2") < 1.3) & ~(f.num("ae_pn_grade") >= 1)


def _first_line_asct_age(f):
    return f.text("asct_first_line").isin(["single", "double"]) & (f.age_at("first_line_start_date") > ASCT_MAX_AGE)


def _salvage_asct_age(f):
    return (f.num("salvage_asct") == 1) & (f.age_at("daravd_start_date") > ASCT_MAX_AGE)


def _riss(f):
    """R-ISS (Palumbo 2015): I = ISS I, standard-risk FISH and normal LDH; III = ISS III and high-risk FISH
    or high LDH; II otherwise. The dictionary holds no LDH, so every stage some LDH value allows is accepted."""
    iss, riss, fish = f.text("iss_dx"), f.text("riss_dx"), f.text("cyto_risk_dx")
    staged = riss.ne("")
    return staged & (iss.eq("")
                     | (riss.eq("I") & ~(iss.eq("I") & fish.eq("standard")))
                     | (riss.eq("III") & ~iss.eq("III"))
                     | (riss.eq("II") & iss.eq("III") & ~fish.eq("standard")))


def _second_progression_timing(f):
    return f.has["second_progression_date"] & (f.days("next_treatment_date", "second_progression_date") < NEXT_LINE_MIN_DAYS)


def _myeloma_death_after_next_line(f):
    died = f.has["death_date"] & f.text("death_cause").eq("myeloma") & f.has["next_treatment_date"]
    return died & ~(f.has["second_progression_date"] & (f.days("second_progression_date", "death_date") >= 0))


def _on_treatment_seen(f):
    on = f.reason.eq("") & ~f.has["daravd_end_date"]
    return on & ((f.cutoff - f.d["last_followup_date"]).dt.days > ON_TREATMENT_SEEN_DAYS)


def _toxicity_stop(f):
    worst = pd.concat([f.num(c).fillna(0) for c in AE_COLUMNS if c in f.raw], axis=1).max(axis=1)
    return f.reason.eq("toxicity") & (worst < TOXICITY_STOP_MIN_GRADE)


def _pd_best_early(f):
    return f.best.eq("PD") & (f.days("daravd_start_date", "progression_date") > PD_BEST_MAX_DAYS)


def _route_by_date(f):
    route, start = f.text("dara_route_start"), f.d["daravd_start_date"]
    sc_from = pd.Timestamp(SC_DARATUMUMAB_DATE)
    return (route.eq("SC") & (start < sc_from)) | (route.eq("IV") & (start >= sc_from))


def _progression_treated(f):
    to_next = f.days("progression_date", "next_treatment_date")
    followed = f.days("progression_date", "last_followup_date")
    return f.progressed & ((f.has["next_treatment_date"] & (to_next > UNTREATED_MAX_DAYS))
                           | (~f.has["next_treatment_date"] & (followed > UNTREATED_MAX_DAYS)))


RULES: tuple[Rule, ...] = (
    Rule("response_confirmed_before_progression",
         "a response is confirmed at least 4 weeks before progression (best response date 8 weeks or more before it)",
         ("best_response", "best_response_date", "progression_date"), _confirmed_before_progression),
    Rule("pd_best_is_progression", "best response PD is a documented progression on that date",
         ("best_response", "best_response_date", "progression_date"), _pd_best_is_progression),
    Rule("vgpr_date_matches_response", ">=VGPR first reached exactly for >=VGPR patients, no later than the best response",
         ("best_response", "vgpr_first_date", "best_response_date"), _vgpr_date),
    Rule("response_not_before_first_assessment",
         f"a response (best, or >=VGPR first reached) is documented at the first assessment at the earliest "
         f"({FIRST_ASSESSMENT_DAYS} days, the end of cycle 1)",
         ("daravd_start_date", "best_response_date", "vgpr_first_date"), _response_after_first_assessment),
    Rule("response_confirmed_before_death", "a response is confirmed (4 weeks) before a death without progression",
         ("best_response_date", "progression_date", "death_date"), _confirmed_before_death),
    Rule("best_response_within_followup", "the best response is documented within follow-up",
         ("best_response_date", "last_followup_date"), _best_within_followup),
    Rule("pd_stop_on_progression_date",
         "stopping for PD happens on the progression date; nobody stays on DaraVd after progression or death",
         ("daravd_end_reason", "daravd_end_date", "progression_date", "death_date"), _pd_stop),
    Rule("death_stop_before_death", "stopping for death happens within 3 weeks before the death",
         ("daravd_end_reason", "daravd_end_date", "death_date"), _death_stop),
    Rule("cycles_fit_schedule",
         "cycles received agree with the schedule (21-day cycles 1-8, then 28-day; up to 15% delay; at least 2)",
         ("cycles_received", "daravd_start_date", "daravd_end_date", "last_followup_date", "daravd_end_reason"), _cycles),
    Rule("death_cause_fits_course",
         "a death without progression has a cause other than myeloma; an adverse-event death is a grade-5 infection on DaraVd",
         ("death_cause", "progression_date", "daravd_end_reason", "ae_infection_grade"), _death_cause),
    Rule("next_line_order", "the next line follows progression, and second progression the next line, before death",
         ("progression_date", "next_treatment_date", "second_progression_date", "death_date"), _next_line_order),
    Rule("bortezomib_toxicity_managed",
         "grade-3 neuropathy or grade-4 thrombocytopenia comes with a bortezomib dose reduction or a once-weekly switch",
         ("ae_pn_grade", "ae_thrombocytopenia_grade", "bortezomib_dose_reduced", "bortezomib_weekly_switch"),
         _bortezomib_toxicity_managed),
    Rule("bortezomib_reduction_has_cause",
         "a bortezomib dose reduction has a toxicity that justifies it (neuropathy, grade-3 thrombocytopenia, "
         "grade-4 neutropenia or a grade-3 non-haematological event)",
         ("bortezomib_dose_reduced",) + tuple(REDUCTION_CAUSES), _bortezomib_reduction_cause),
    Rule("bortezomib_reduction_within_schedule",
         f"a bortezomib dose reduction happens in cycles 1-{BORTEZOMIB_CYCLES} (bortezomib stops after cycle "
         f"{BORTEZOMIB_CYCLES} in the CASTOR schedule) and within the cycles received",
         ("bortezomib_reduction_cycle", "cycles_received"), _bortezomib_reduction_cycle),
    Rule("reduced_start_dose_has_neuropathy",
         "a reduced bortezomib starting dose goes with neuropathy (the paper: pre-existing grade-1 or 2 neuropathy)",
         ("bortezomib_start_dose_mg_m2", "ae_pn_grade"), _reduced_start_dose),
    Rule("first_line_asct_age",
         f"a first-line ASCT (single or double) is given at {ASCT_MAX_AGE} years or younger at the start of first-line therapy",
         ("asct_first_line", "birth_date", "first_line_start_date"), _first_line_asct_age),
    Rule("salvage_asct_age", f"a salvage ASCT during DaraVd is given at {ASCT_MAX_AGE} years or younger",
         ("salvage_asct", "birth_date", "daravd_start_date"), _salvage_asct_age),
    Rule("riss_staged_from_iss_and_fish",
         "R-ISS is given only where ISS and FISH allow it: I needs ISS I and standard-risk FISH, III needs ISS III, "
         "II from ISS III needs standard-risk FISH (with normal LDH); no R-ISS without ISS",
         ("iss_dx", "riss_dx", "cyto_risk_dx"), _riss),
    Rule("second_progression_after_first_assessment",
         f"a second progression is documented at least {NEXT_LINE_MIN_DAYS} days (one cycle) after the next line starts",
         ("next_treatment_date", "second_progression_date"), _second_progression_timing),
    Rule("myeloma_death_after_next_line_has_second_progression",
         "a myeloma death after the start of a next line follows a documented second progression (on or before the death)",
         ("death_cause", "death_date", "next_treatment_date", "second_progression_date"), _myeloma_death_after_next_line),
    Rule("on_treatment_seen_near_cutoff",
         f"a patient still on DaraVd was last seen within {ON_TREATMENT_SEEN_DAYS} days of the data cut-off "
         "(the latest last_followup_date)",
         ("daravd_end_date", "daravd_end_reason", "last_followup_date"), _on_treatment_seen),
    Rule("toxicity_stop_has_severe_event",
         f"a stop for toxicity has an adverse event of grade {TOXICITY_STOP_MIN_GRADE} or higher",
         ("daravd_end_reason",) + AE_COLUMNS, _toxicity_stop),
    Rule("pd_best_response_is_early",
         f"best response PD is a progression at the first assessments (within {PD_BEST_MAX_DAYS} days, by cycle 4); "
         "later, without progression, the best response is SD at worst (IMWG)",
         ("best_response", "daravd_start_date", "progression_date"), _pd_best_early),
    Rule("daratumumab_route_by_date",
         f"subcutaneous daratumumab starts on or after {SC_DARATUMUMAB_DATE.isoformat()} (reimbursed in Italy), "
         "intravenous starts before it",
         ("dara_route_start", "daravd_start_date"), _route_by_date),
    Rule("progression_treated",
         f"a progression is followed by a next line within {UNTREATED_MAX_DAYS} days, unless death or the end of "
         "follow-up comes first",
         ("progression_date", "next_treatment_date", "last_followup_date"), _progression_treated),
)
RULE_NAMES = tuple(r.name for r in RULES)


def _broken(raw: pd.DataFrame, cutoff=None) -> dict:
    f = _Frame(raw, cutoff)
    return {r.name: pd.Series(r.check(f), index=raw.index).fillna(False).astype(bool) for r in RULES}


def clinical_rules(raw: pd.DataFrame, cutoff=None) -> pd.DataFrame:
    """Each rule (name, what it says, the columns it reads) and how many patients of a typed raw frame
    (``loading.typed``) break it, with up to five of them. ``cutoff``: the data cut-off (default: the
    latest last_followup_date)."""
    rows = []
    broken = _broken(raw, cutoff)
    for r in RULES:
        bad = broken[r.name]
        rows.append({"name": r.name, "rule": r.description, "columns": ", ".join(r.columns),
                     "patients breaking it": int(bad.sum()),
                     "examples": ", ".join(raw.loc[bad, "patient_id"].astype(str).head(5))})
    return pd.DataFrame(rows)


def _shown(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _by_distinct(values: pd.Series, show) -> np.ndarray:
    """``show`` of every cell, as an object array, calling it once per distinct value.

    A typed column (dates, Int64, floats, strings) holds one kind of missing value, so factorizing
    with the missing values kept as a value of their own loses nothing. An object column may mix
    values that compare equal but print differently (``1``, ``1.0``, ``True``; ``None`` and NaN),
    so it is shown cell by cell.
    """
    if values.dtype == object:
        return np.array([show(v) for v in values.to_numpy()], dtype=object)
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.array([show(v) for v in distinct], dtype=object)[codes]


def rule_breaches(raw: pd.DataFrame, cutoff=None) -> pd.DataFrame:
    """The long form, as data-manager queries: one row per patient and rule broken, with the values involved
    (``patient_id``, ``rule``, ``description``, ``values``: "column=value; ..." for the rule's columns).

    Rows come rule by rule (in ``RULES`` order), patients in the frame's order within a rule. Each column
    is formatted once per distinct value (``_shown``), and the rows are taken from those by position.
    """
    broken = _broken(raw, cutoff)
    shown: dict[str, np.ndarray] = {}

    def column(c: str) -> np.ndarray:
        if c not in shown:
            shown[c] = _by_distinct(raw[c], lambda v, c=c: f"{c}={_shown(v)}")
        return shown[c]

    ids, names, descriptions, values = [], [], [], []
    patient = None
    for r in RULES:
        at = np.flatnonzero(broken[r.name].to_numpy())
        if not len(at):
            continue
        if patient is None:
            patient = _by_distinct(raw["patient_id"], str)
        cols = [c for c in r.columns if c in raw]
        joined = np.full(len(at), "", dtype=object)
        for k, c in enumerate(cols):
            joined = column(c)[at] if k == 0 else joined + "; " + column(c)[at]
        ids.append(patient[at])
        names.append(np.full(len(at), r.name, dtype=object))
        descriptions.append(np.full(len(at), r.description, dtype=object))
        values.append(joined)
    if not ids:
        return pd.DataFrame([], columns=["patient_id", "rule", "description", "values"])
    return pd.DataFrame({"patient_id": np.concatenate(ids), "rule": np.concatenate(names),
                         "description": np.concatenate(descriptions), "values": np.concatenate(values)})

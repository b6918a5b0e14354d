"""Data queries for the data manager: the clinical rules of a DaraVd course read against an export.

The rules (:mod:`compendium.data.rules`) are constraints the synthetic generator obeys; a real e-CRF
can break them (a best response of PD after seven cycles, a bortezomib reduction after cycle 8, a
transplant at 75). Such a history is not an error of the file's format: ``validate`` accepts the file,
lists each breach as a *query* (patient, rule, the values involved) for the data manager to confirm or
correct at the centre, and notebook 01 counts them by rule. A query never refuses a file and never
changes an analysis: the analyses run on the data as recorded.
"""

from __future__ import annotations

import pandas as pd

from compendium.data import rules

#: how many queries ``validate`` prints one by one (all of them go to ``--queries FILE``)
PRINTED = 20


def queries(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per patient and rule broken: ``patient_id, rule, description, values``."""
    return rules.rule_breaches(raw)


def by_rule(found: pd.DataFrame) -> pd.DataFrame:
    """Every rule with the number of patients it queries (0 included), in the rules' order."""
    counts = found.groupby("rule")["patient_id"].nunique() if len(found) else pd.Series(dtype=int)
    return pd.DataFrame({"rule": [r.name for r in rules.RULES], "description": [r.description for r in rules.RULES],
                         "patients": [int(counts.get(r.name, 0)) for r in rules.RULES]})


def report(found: pd.DataFrame, source: str, printed: int = PRINTED) -> str:
    """What ``validate`` prints: the count, the rules that query anyone, the first queries."""
    if found.empty:
        return f"{source}: no data queries (every history follows the {len(rules.RULES)} clinical rules)"
    counted = by_rule(found)
    counted = counted[counted["patients"] > 0]
    lines = [f"{source}: {len(found)} data quer{'y' if len(found) == 1 else 'ies'} for the data manager "
             f"({found['patient_id'].nunique()} patient(s); the file is accepted and the analyses use the data as "
             "recorded):"]
    lines += [f"  {r.patients:>5}  {r.rule}: {r.description}" for r in counted.itertuples()]
    for r in found.head(printed).itertuples():
        lines.append(f"  patient {r.patient_id}, {r.rule}: {r.values}")
    if len(found) > printed:
        lines.append(f"  ... and {len(found) - printed} more (write them all with --queries FILE.csv)")
    return "\n".join(lines)

"""Date formats of an export's columns: which strftime format (or Excel's serial day numbers) reads
every value of a column, and, where two fit, which one the export means.

Day and month are told apart by the values: a column of DD/MM/YYYY dates has days above 12, which
MM/DD/YYYY cannot read. A column that both read (no day above 12, as in a small export) takes the
format the export's other date columns show, and is marked for the user to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

EXCEL = "excel"  # a date column holding Excel's serial day numbers (days since 1899-12-30)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_RANGE = (3653, 73051)  # 1910-01-01 to 2100-01-01: what a study date can be
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%d.%m.%Y", "%Y/%m/%d",
                "%d-%b-%Y", "%d %b %Y", "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S",
                "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")
SHOWN_FORMAT = {"%Y-%m-%d": "YYYY-MM-DD (ISO)", "%d/%m/%Y": "DD/MM/YYYY", "%m/%d/%Y": "MM/DD/YYYY",
                "%d-%m-%Y": "DD-MM-YYYY", "%m-%d-%Y": "MM-DD-YYYY", "%d.%m.%Y": "DD.MM.YYYY",
                EXCEL: "Excel serial day numbers"}


@dataclass
class DateProposal:
    format: str
    evidence: str


_FIELD = {"%Y": r"\d{4}", "%y": r"\d{2}", "%m": r"\d{1,2}", "%d": r"\d{1,2}", "%b": r"[A-Za-z]{3}",
          "%H": r"\d{1,2}", "%M": r"\d{2}", "%S": r"\d{2}"}
_SHAPE = {fmt: re.sub(r"%[A-Za-z]", lambda m: _FIELD[m.group()], re.escape(fmt))
          for fmt in DATE_FORMATS}


def shaped(filled: pd.Series, fmt: str, share: float = 1.0) -> bool:
    """A quick look before the parse: do (enough of) the values have the format's shape?"""
    return filled.str.fullmatch(_SHAPE[fmt]).mean() >= share


def date_formats(filled: pd.Series, numbers: pd.Series | None = None) -> list[str]:
    """Every format that reads all values as dates from 1900 to 2100 (Excel serials included)."""
    if filled.empty:
        return []
    found = []
    for fmt in DATE_FORMATS:
        if not shaped(filled, fmt):
            continue
        parsed = pd.to_datetime(filled, format=fmt, errors="coerce")
        if parsed.notna().all() and parsed.dt.year.between(1900, 2100).all():
            found.append(fmt)
    numbers = pd.to_numeric(filled, errors="coerce") if numbers is None else numbers
    if numbers.notna().all() and numbers.between(*EXCEL_RANGE).all() and (numbers == np.floor(numbers)).all():
        found.append(EXCEL)
    return found


def shown(fmt: str) -> str:
    return SHOWN_FORMAT.get(fmt, fmt)


def date_proposals(profiles: dict) -> dict[str, DateProposal]:
    """One format per date column (``profiles``: variable -> the profile of its column, with its
    ``values`` and the ``date_formats`` that read them all); a column that two formats fit takes
    the one the others show."""
    sure = [p.date_formats[0] for p in profiles.values() if len(p.date_formats) == 1]
    preference = {fmt: sure.count(fmt) for fmt in set(sure)}
    out = {}
    for var, prof in profiles.items():
        fits = prof.date_formats
        if not fits:
            out[var] = DateProposal("", "no date format reads every value: give the format")
            continue
        fmt = max(fits, key=lambda f: (preference.get(f, 0), -fits.index(f)))
        if len(fits) == 1:
            evidence = f"every value reads as {shown(fmt)}" + _decisive(prof.values, fmt)
        else:
            others = ", ".join(shown(f) for f in fits if f != fmt)
            evidence = (f"ambiguous: the values also read as {others}; taken as {shown(fmt)}, the format of "
                        f"{preference.get(fmt, 0)} other date column(s)")
        if fmt.endswith("%y"):
            evidence += "; two-digit years 00-68 are read as 2000-2068"
        out[var] = DateProposal(fmt, evidence)
    return out


def _decisive(values: pd.Series, fmt: str) -> str:
    """Why day and month are not swapped: how many values have a day above 12."""
    if not re.match(r"%[dm][/.-]%[dm]", fmt):
        return ""
    parts = values.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-]").dropna().astype(int)
    above = int((parts[0 if fmt.startswith("%d") else 1] > 12).sum())
    return f" ({above} with a day above 12)" if above else ""


def excel_dates(col: pd.Series) -> pd.Series:
    """Excel's serial day numbers (days since 1899-12-30; a fraction is the time of day) as dates."""
    days = pd.to_numeric(col.where(col != ""), errors="coerce")
    days = days.where((days >= 1) & (days < 2958466))  # Excel's own range: 1900-01-01 to 9999-12-31
    return EXCEL_EPOCH + pd.to_timedelta(np.floor(days), unit="D")

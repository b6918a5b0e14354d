"""Nothing a spreadsheet would execute: the compendium's CSVs (and any XLSX or DOCX) are opened in Excel.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice Calc and Google Sheets as a formula (``=HYPERLINK(...)``, ``+1+1``, DDE payloads). OWASP's
guidance on CSV injection (https://owasp.org/www-community/attacks/CSV_Injection) lists those six
characters and says to prefix such a cell with a single quote, which the spreadsheet shows as text;
OWASP ASVS 1.2.10 asks the same of XLSX and other spreadsheet formats. The identifier columns of an
input are refused outright when they start so (:mod:`compendium.data.loading`); every text cell the
compendium writes goes through :func:`neutralise_frame`, and every CSV through :func:`to_csv`
(``paths.write_csv`` calls it; tests/test_cells.py checks that no other writer exists in the package).

A number is not a formula: ``-0.5`` or ``-1e-05`` (as a float column, or as text that is exactly a
decimal number) is written unchanged, so numeric columns round-trip exactly.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd

#: OWASP's list of the first characters that make a spreadsheet evaluate a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What a spreadsheet reads as a plain number (a sign, digits, a decimal point, an exponent) and nothing else.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_QUOTE = "'"


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet would evaluate this text as a formula (a plain number is not one)."""
    return text[:1] in FORMULA_STARTS and _NUMBER.fullmatch(text) is None


def neutralise(value):
    """The value as it is safe to write: text that starts a formula gets a leading single quote.

    Idempotent (the quote is not a formula start), and anything that is not text passes unchanged.
    """
    return _QUOTE + value if isinstance(value, str) and starts_formula(value) else value


def _text_column(values: pd.Series) -> pd.Series:
    # Checked on the distinct values: a cohort's text columns are codes and dates that repeat, so
    # this costs one hash pass per column, and a column with nothing to change is not copied at all.
    distinct = pd.unique(values)
    if not any(isinstance(v, str) and starts_formula(v) for v in distinct):
        return values
    return values.map(neutralise, na_action="ignore")


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as it is safe to write: every text cell and header neutralised, numeric columns untouched.

    Returns ``frame`` itself when nothing needed changing (the usual case), else a copy.
    """
    changed = {}
    for position, column in enumerate(frame.columns):
        values = frame.iloc[:, position]
        if isinstance(values.dtype, pd.CategoricalDtype):
            categories = values.cat.categories
            if any(isinstance(c, str) and starts_formula(c) for c in categories):
                changed[position] = values.cat.rename_categories([neutralise(c) for c in categories])
        elif values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            safe = _text_column(values)
            if safe is not values:
                changed[position] = safe
    names = [neutralise(c) for c in frame.columns]
    if not changed and names == list(frame.columns):
        return frame
    out = frame.copy()
    for position, values in changed.items():
        out.isetitem(position, values)
    out.columns = names
    return out


def _holds_carriage_return(frame: pd.DataFrame) -> bool:
    if any(isinstance(c, str) and "\r" in c for c in frame.columns):
        return True
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            if any(isinstance(v, str) and "\r" in v for v in pd.unique(values)):
                return True
    return False


def to_csv(frame: pd.DataFrame, target=None, **options):
    """``frame.to_csv(target, index=False, ...)`` with every text cell neutralised: the text when
    ``target`` is None, else written to it (a path or an open file).

    Rows end in ``\n``; a frame with a carriage return inside a text cell gets ``\r\n`` (RFC 4180's
    own line end) instead, because Python's csv writer quotes a field only for the characters of its
    line terminator: an unquoted ``\r`` is a row break to a spreadsheet, and the text after it (a
    ``=...``) would start a cell of its own, past any neutralising quote.
    """
    safe = neutralise_frame(frame)
    terminator = "\r\n" if _holds_carriage_return(safe) else "\n"
    float_format = options.get("float_format")
    if (isinstance(float_format, str) and options.get("decimal", ".") == "."
            and options.get("quoting", csv.QUOTE_MINIMAL) == csv.QUOTE_MINIMAL):  # other quoting tells floats apart
        safe = _floats_formatted(safe, float_format, options.get("na_rep", ""))
    return safe.to_csv(target, index=False, lineterminator=terminator, **options)


def _floats_formatted(frame: pd.DataFrame, float_format: str, na_rep: str) -> pd.DataFrame:
    """The frame with its float columns as the text pandas writes for them (``float_format % value``,
    ``na_rep`` for a missing value), formatting each distinct value once instead of every cell.

    Distinct means the same bits (``-0.0`` is not ``0.0``: ``%g`` writes ``-0``). Returns ``frame``
    itself when it has no float column, else a shallow copy: the caller's frame is not modified.
    """
    floats = [i for i in range(frame.shape[1])
              if isinstance(frame.dtypes.iloc[i], np.dtype) and frame.dtypes.iloc[i].kind == "f"]
    if not floats:
        return frame
    out = frame.copy(deep=False)
    for position in floats:
        values = frame.iloc[:, position].to_numpy()
        bits = np.ascontiguousarray(values).view(f"u{values.dtype.itemsize}")
        codes, distinct = pd.factorize(bits)
        distinct = distinct.view(values.dtype)
        shown = np.array([na_rep if missing else float_format % value
                          for value, missing in zip(distinct, pd.isna(distinct))], dtype=object)
        out.isetitem(position, pd.Series(shown[codes], index=frame.index, dtype=object))
    return out

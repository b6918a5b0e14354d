"""The input validated once per run: the typed frame kept beside the run's cache, keyed by what made it.

``python -m compendium run`` validates the input before anything is executed (so that a bad file is
refused before a notebook starts); notebook 01 then needs the same typed frame. At 10^6 patients
validation takes over a minute, so the runner stores the frame it validated
(``<out>/.compendium-cache/validated-<key>.npz``) and notebook 01 reads it back instead of
validating again. The key is the sha256 of everything the typed frame depends on: the input file's
bytes, the mapping file's bytes (if any), the data dictionary, and the source of the modules that
read and validate (``compendium/data/{inputs,loading,mapping*}.py``) with pandas' version. Any change
to one of them gives another key, so a stored frame is never read for another input or another rule.

The store is a NumPy archive read with ``allow_pickle=False``: a folder of results can be shared
without a file in it being able to run code when the frame is read back. Columns are kept as their
values plus a mask of the missing ones (dates as int64 nanoseconds, numbers as float64, integers
and flags as int64, text as fixed-width Unicode), so the frame comes back with the dtypes
``loading.typed`` gives, cell for cell.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from compendium import paths

#: the modules whose code decides what a validated frame is
MODULES = ("compendium/data/inputs.py", "compendium/data/loading.py", "compendium/data/mapping.py",
           "compendium/data/mapping_dates.py", "compendium/report/cells.py")
CACHE_DIR = ".compendium-cache"  # the runner's (compendium.run.cache.CACHE_DIR)


def key(input_sha256: str, mapping_path: Path | None) -> str:
    digest = hashlib.sha256(input_sha256.encode())
    digest.update(b"\0mapping\0" + (Path(mapping_path).read_bytes() if mapping_path else b""))
    digest.update(b"\0dictionary\0" + paths.DICTIONARY.read_bytes())
    for module in MODULES:
        source = paths.ROOT / module
        digest.update(f"\0{module}\0".encode() + (source.read_bytes() if source.exists() else b""))
    digest.update(f"\0pandas {pd.__version__}".encode())
    return digest.hexdigest()[:32]


def location(out: Path, input_sha256: str, mapping_path: Path | None) -> Path:
    return Path(out) / CACHE_DIR / f"validated-{key(input_sha256, mapping_path)}.npz"


def save(frame: pd.DataFrame, notices: tuple[str, ...], where: Path) -> bool:
    """Write the typed frame atomically (a reader never sees half a file); older stores are removed.

    A text that ends in a NUL character (which fixed-width Unicode arrays drop) is not stored: notebook
    01 then validates the input itself. Returns whether the frame was stored."""
    arrays, kinds = {}, {}
    for i, col in enumerate(frame.columns):
        values = frame[col]
        missing = values.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(values):
            data, kind = values.to_numpy("datetime64[ns]").astype("int64"), "date"
        elif isinstance(values.dtype, pd.Int64Dtype):
            data, kind = values.fillna(0).to_numpy("int64"), "Int64"
        elif pd.api.types.is_float_dtype(values):
            data, kind = values.to_numpy("float64"), "float"
        else:
            text = values.fillna("").astype(str)
            if text.str.endswith("\0").any():
                return False
            data, kind = np.asarray(text.to_numpy(), dtype=str), "string"
        arrays[f"v{i}"], arrays[f"m{i}"] = data, missing
        kinds[col] = kind
    meta = json.dumps({"columns": list(frame.columns), "kinds": kinds, "notices": list(notices)})
    arrays["meta"] = np.array(meta)
    where.parent.mkdir(parents=True, exist_ok=True)
    for old in where.parent.glob("validated-*.npz"):
        if old != where:
            old.unlink(missing_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".validated-", suffix=".npz", dir=where.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(tmp, where)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def load(where: Path) -> tuple[pd.DataFrame, tuple[str, ...]] | None:
    """The stored frame and its notices, or None when there is none (or it cannot be read)."""
    if not where.exists():
        return None
    try:
        with np.load(where, allow_pickle=False) as store:
            meta = json.loads(str(store["meta"]))
            columns = {}
            for i, col in enumerate(meta["columns"]):
                data, missing = store[f"v{i}"], store[f"m{i}"]
                kind = meta["kinds"][col]
                if kind == "date":
                    series = pd.Series(data.view("datetime64[ns]"))
                    series[missing] = pd.NaT
                elif kind == "Int64":
                    series = pd.Series(pd.arrays.IntegerArray(data, missing))
                elif kind == "float":
                    series = pd.Series(data)
                else:
                    series = pd.Series(data.astype(object), dtype="string")
                    series[missing] = pd.NA
                columns[col] = series
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:  # a damaged store is validated again, not trusted
        import sys

        print(f"notice: {paths.relative(where)} could not be read ({err}); validating the input again",
              file=sys.stderr)
        return None
    return pd.DataFrame(columns), tuple(meta["notices"])

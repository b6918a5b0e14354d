"""A raw-format cohort of any size, by resampling the committed synthetic cohort.

    python benchmarks/make_cohort.py --n 10000 --seed 1 --out cohort.csv [--no-validate]

A stand-in for ``python -m compendium synthetic --n N`` (which the benchmark prefers
when it accepts ``--n``): each new patient is a row of
``data/synthetic/daravd_synthetic_cohort.csv`` drawn with replacement, given a new
unique id, its calendar moved back by up to a year (all dates together, so ages
and date order are kept), and every interval measured from the start of DaraVd
stretched by one factor in [0.85, 1] drawn per patient, so that times are not all
tied copies of 85 values. The stretch is monotone, so every date-order rule of the
data dictionary still holds; the result is validated with
``compendium.data.loading.load_raw`` unless ``--no-validate``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "data" / "synthetic" / "daravd_synthetic_cohort.csv"
ANCHOR = "daravd_start_date"


def resample(n: int, seed: int, source: Path = SOURCE) -> pd.DataFrame:
    """n patients drawn with replacement from ``source``, re-identified and jittered."""
    base = pd.read_csv(source, dtype=str, keep_default_na=False)
    dictionary = pd.read_csv(ROOT / "data" / "dictionary.csv", dtype=str, keep_default_na=False)
    date_cols = [c for c in dictionary.loc[dictionary["type"] == "date", "name"] if c in base.columns]
    rng = np.random.default_rng(seed)
    out = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    width = max(6, len(str(n)))
    out["patient_id"] = [f"R{i:0{width}d}" for i in range(1, n + 1)]
    shift = pd.to_timedelta(rng.integers(-365, 1, n), unit="D")
    stretch = rng.uniform(0.85, 1.0, n)
    anchor = pd.to_datetime(out[ANCHOR])
    for col in date_cols:
        dates = pd.to_datetime(out[col].replace("", None))
        if col != "birth_date":
            days = np.round((dates - anchor).dt.days.to_numpy(float) * stretch)
            with np.errstate(invalid="ignore", over="ignore"):  # pandas casts the NaN of empty dates
                dates = anchor + pd.to_timedelta(days, unit="D")
        out[col] = (dates + shift).dt.strftime("%Y-%m-%d").fillna("")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="number of patients")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--no-validate", action="store_true", help="skip compendium.data.loading.load_raw")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    resample(args.n, args.seed).to_csv(args.out, index=False)
    if not args.no_validate:
        from compendium.data.loading import DataValidationError, load_raw

        try:
            load_raw(args.out)
        except DataValidationError as err:
            print(err, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where everything lives: the one module that knows the layout.

Inputs (dictionary, synthetic cohort, claims registry, notebooks) are read from
the repository. Outputs (derived data, results, figures, executed notebooks)
go under an output root, which is the repository itself for the canonical run
and any directory given with ``python -m compendium run --out DIR``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DICTIONARY = DATA / "dictionary.csv"
MAPPING_ALIASES = DATA / "mapping_aliases.toml"  # names and labels `map --template` proposes from
RAW_DIR = DATA / "raw"
SYNTHETIC_DIR = DATA / "synthetic"
SYNTHETIC_COHORT = SYNTHETIC_DIR / "daravd_synthetic_cohort.csv"
SYNTHETIC_META = SYNTHETIC_DIR / "daravd_synthetic_cohort.meta.json"  # seeds, dates, sha256 of each file below
SYNTHETIC_SEARCH = SYNTHETIC_DIR / "calibration_search.csv"
SYNTHETIC_TRUTH = SYNTHETIC_DIR / "daravd_synthetic_truth.csv"
SYNTHETIC_SIMULATION = SYNTHETIC_DIR / "daravd_response_simulation.csv"
CLAIMS_REGISTRY = DATA / "claims"  # one CSV per notebook, concatenated
EXTERNAL = DATA / "external"  # other studies' published results (notebook 07)
EXTERNAL_CURVES = EXTERNAL / "curves"  # digitised trial curves
NOTEBOOKS = ROOT / "notebooks"

RAW_SUFFIXES = (".csv", ".xlsx")

#: Output root when none is given (default: the repository). The test suite points it at a
#: temporary folder while nbval re-executes the committed notebooks, so that `make test`
#: writes nothing into the working tree.
OUT_ENV = "COMPENDIUM_OUT"


@dataclass(frozen=True)
class Paths:
    """Output locations of one run, all below ``out``."""

    out: Path

    @classmethod
    def for_run(cls, out_dir: str | os.PathLike | None = None) -> "Paths":
        out_dir = out_dir or os.environ.get(OUT_ENV)
        return cls(Path(out_dir).resolve() if out_dir else ROOT)

    @property
    def derived(self) -> Path:
        return self.out / "data" / "derived"

    @property
    def analysis_csv(self) -> Path:
        return self.derived / "analysis.csv"

    @property
    def analysis_meta(self) -> Path:
        return self.derived / "analysis.meta.json"

    @property
    def results(self) -> Path:
        return self.out / "results"

    @property
    def claims_dir(self) -> Path:
        """One file per notebook with the values it recorded for the registry."""
        return self.results / "claims"

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    @property
    def notebooks(self) -> Path:
        return self.out / "notebooks"

    def result(self, name: str) -> Path:
        return self.results / name

    def figure(self, stem: str) -> Path:
        """Figure path without suffix: plots write ``stem.png`` and ``stem.svg``."""
        return self.figures / stem


def default_input() -> Path:
    """The file a run analyses when none is named.

    A real export dropped into ``data/raw/`` wins; otherwise the committed
    synthetic cohort. More than one candidate in ``data/raw/`` is ambiguous and
    refused rather than guessed.
    """
    candidates = sorted(
        p for p in RAW_DIR.glob("*") if p.suffix.lower() in RAW_SUFFIXES and p.is_file()
    )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise FileExistsError(
            f"data/raw/ holds more than one data file ({names}); keep one, or name it with --data"
        )
    return candidates[0] if candidates else SYNTHETIC_COHORT


def relative(path: Path) -> str:
    """A path as recorded in outputs: relative to the repository when inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: Significant digits of floats in results CSVs: far beyond any reported precision, and short of
#: the last bits, which differ between CPUs (vectorised sums), so that reruns on any machine are
#: byte-identical.
CSV_DIGITS = 12


def write_csv(frame, path: Path) -> Path:
    """Results CSVs at 12 significant digits, written atomically, with no cell a spreadsheet would run."""
    from compendium.report import cells

    atomic_write_text(path, cells.to_csv(frame, float_format=f"%.{CSV_DIGITS}g"))
    return path

"""Shared fixtures: the committed synthetic cohort as text, and a writable copy of it."""

import pandas as pd
import pytest

from compendium.data import loading
from compendium import paths


@pytest.fixture(scope="session")
def synthetic_text() -> pd.DataFrame:
    return loading.read_text_table(paths.SYNTHETIC_COHORT)


@pytest.fixture
def write_csv(tmp_path):
    """Write a text frame as a CSV in a temporary folder and return its path."""
    def _write(frame: pd.DataFrame, name: str = "export.csv"):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return path
    return _write

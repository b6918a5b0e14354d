"""nbval re-executes the committed notebooks, whose parameters default to ``out_dir = None``: the
repository. Left alone, `make test` would rewrite results/, figures/ and data/derived/ in the
working tree. While an nbval item runs, ``COMPENDIUM_OUT`` (honoured by
``paths.Paths.for_run(None)``) points the notebooks at a temporary copy of the committed outputs
instead; the copy lets a notebook be checked alone (04 reads 01's dataset, 08 every notebook's
claims). The notebooks checked stay the committed files themselves, unmodified, which is why this
is an environment variable rather than rewritten copies of the notebooks. It is set only around
nbval items (a kernel keeps the environment it started with), so in-process tests never see it.

This file sits at the root so that it applies however pytest is called (`pytest notebooks/04_survival.ipynb`).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from compendium import paths

_sandbox: list[Path] = []


def nbval_output_dir() -> Path:
    if not _sandbox:
        root = Path(tempfile.mkdtemp(prefix="compendium-nbval-"))
        for sub in ("data/derived", "results"):
            if (paths.ROOT / sub).is_dir():
                shutil.copytree(paths.ROOT / sub, root / sub)
        _sandbox.append(root)
    return _sandbox[0]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.path.suffix == ".ipynb":
        os.environ[paths.OUT_ENV] = str(nbval_output_dir())


def pytest_runtest_teardown(item):
    os.environ.pop(paths.OUT_ENV, None)


def pytest_unconfigure(config):
    for root in _sandbox:
        shutil.rmtree(root, ignore_errors=True)

"""Holm's adjustment and the whole-factor LR test against R (p.adjust, anova(coxph))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.data import spec as specs
from compendium.stats import models, multiplicity
from referee_reference import analysis_or_skip, assert_close, check_inputs, r_out

SCRIPT = "tests/reference/methods_reference.R"


@pytest.fixture(scope="module")
def manifest():
    return check_inputs("methods_manifest.csv", SCRIPT)


def test_holm_fixed_vector(manifest):
    r = r_out("holm.csv").query("dataset == 'fixed'")
    assert_close(multiplicity.holm(r["p"]), r["holm"], rtol=1e-12, what="holm")


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.03 x (3, 2, 1) = 0.03, 0.04, 0.03 -> running max 0.03, 0.04, 0.04
    np.testing.assert_allclose(multiplicity.holm([0.03, 0.01, np.nan, 0.02]), [0.04, 0.03, np.nan, 0.04])
    assert multiplicity.holm([0.6, 0.7]).tolist() == [1.0, 1.0]


def test_analysis_screen_and_factor_test(manifest):
    analysis = analysis_or_skip(manifest, SCRIPT)
    factor = pd.DataFrame([multiplicity.factor_test(analysis, e, "dex_dose_group", "full") for e in ("pfs", "os")])
    r = r_out("factor_lr.csv")
    assert (factor["df"].to_numpy() == r["df"].to_numpy()).all()
    assert_close(factor[["chisq", "p"]], r[["chisq", "p"]], rtol=1e-6, what="anova LR of the dex factor")
    screen = multiplicity.screen(models.univariate_results(analysis, specs.load()), factor)
    rs = r_out("holm.csv").query("dataset == 'analysis'")
    assert screen["covariate"].tolist() == rs["covariate"].tolist()
    assert_close(screen["p"], rs["p"], rtol=1e-4, what="screen p")
    assert_close(screen["holm"], rs["holm"], rtol=1e-4, what="screen Holm")

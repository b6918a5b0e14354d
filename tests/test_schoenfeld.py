"""R's plot.cox.zph smooth, against R (splines::ns) and by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compendium.data import spec as specs
from compendium.stats import schoenfeld
from compendium.stats import survival as sv
from referee_reference import REF, analysis_or_skip, assert_close, check_inputs, r_out

SCRIPT = "tests/reference/methods_reference.R"


@pytest.fixture(scope="module")
def manifest():
    return check_inputs("methods_manifest.csv", SCRIPT)


def compare(fit, r):
    ours = schoenfeld.zph_smooth(fit)
    assert ours["coefficient"].tolist() == r["coefficient"].tolist()
    for c in ("x", "fit", "lower", "upper"):
        assert_close(ours[c], r[c], atol=1e-9, what=c)


def test_lung_against_r(manifest):
    lung = pd.read_csv(REF / "lung.csv").rename(columns={"time": "os_months", "status": "os_event"})
    compare(sv.cox_fit(lung, "os", ["female", "age"]), r_out("zph_smooth.csv").query("dataset == 'lung'"))


def test_analysis_against_r(manifest):
    analysis = analysis_or_skip(manifest, SCRIPT)
    r = r_out("zph_smooth.csv").query("dataset == 'analysis'")
    for endpoint, rows in r.groupby("endpoint"):
        compare(sv.cox_fit(analysis, endpoint, list(specs.load().model("paper").covariates)), rows)


def test_basis_spans_cubics_and_is_linear_beyond_the_boundary():
    knots = np.array([0.0, 0.3, 0.7, 1.0])
    x = np.linspace(0, 1, 50)
    basis = schoenfeld.natural_spline_basis(x, knots)
    assert basis.shape == (50, 4)
    # a straight line is in the space and is fitted exactly
    coef, *_ = np.linalg.lstsq(basis, 2 - 3 * x, rcond=None)
    np.testing.assert_allclose(basis @ coef, 2 - 3 * x, atol=1e-10)
    # natural: second differences vanish beyond the last knot
    far = schoenfeld.natural_spline_basis(np.array([1.5, 2.0, 2.5]), knots)
    np.testing.assert_allclose(far[0] - 2 * far[1] + far[2], 0, atol=1e-9)

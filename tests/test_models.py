"""Presentation of the paper's models: orientation, formatting, and the rows each table needs."""

import math

import numpy as np
import pandas as pd
import pytest

from compendium.report import claims
from compendium.data import dataset
from compendium.data import spec as specs
from compendium.stats import models
from compendium import paths


def _results(hr, lcl, ucl, p=0.01):
    return pd.DataFrame([{"endpoint": "pfs", "covariate": "emd_relapse", "level": "1", "reference": "0",
                          "hr": hr, "lcl": lcl, "ucl": ucl, "p": p, "n": 68, "events": 40}])


def test_absence_rows_invert_the_ratio_and_swap_the_limits():
    row = models.PaperRow("T2_no_emd", "Absence of EMD", "pfs", "emd_relapse", "1", invert=True)
    got = models.oriented(_results(4.0, 2.0, 8.0), row)
    assert (got["hr"], got["lcl"], got["ucl"]) == (0.25, 0.125, 0.5)
    assert got["p"] == 0.01 and got["n"] == 68 and got["events"] == 40
    # the Wald interval of -beta: log-symmetric around the inverted ratio
    assert math.log(got["hr"]) - math.log(got["lcl"]) == pytest.approx(math.log(got["ucl"]) - math.log(got["hr"]))


def test_formatting_as_clinical_tables_print():
    assert models.format_p(0.0004) == "<0.001"
    assert models.format_p(0.0454) == "0.045"
    assert models.format_hr(0.2612, 0.1488, 0.4561) == "0.26 (0.15–0.46)"
    assert models.format_hr(1e-9, 0.0, np.inf) == "not estimable (monotone likelihood: one level has no events)"
    assert models.format_hr(np.nan, np.nan, np.nan).startswith("not estimable")
    assert models.format_median(np.nan, 20.1, np.nan) == "NR (20.1–NR)"


def test_every_published_row_has_its_claims_and_an_estimate():
    registry = set(claims.load_registry()["claim_id"])
    analysis = dataset.read_analysis(paths.Paths.for_run())
    paper = specs.load()
    uni = models.univariate_results(analysis, paper)
    mv = models.multivariable_results(analysis, paper)
    rows_of = lambda *ids: [r for i in ids for r in paper.table(i).rows]  # noqa: E731
    for rows, results in ((rows_of("T2", "T3", "R_pfs"), uni), (rows_of("T4", "T5"), mv)):
        for row in rows:
            assert {f"{row.claim}_{k}" for k in ("hr", "lcl", "ucl", "p")} <= registry
            assert np.isfinite(models.oriented(results, row)["p"])


def test_km_results_cover_the_contract():
    analysis = dataset.read_analysis(paths.Paths.for_run())
    km = models.km_results(analysis, specs.load())
    assert set(km["endpoint"]) == {"pfs", "os", "ttnt", "pfs2", "followup"}
    assert set(km["conf_type"]) == {"log", "log-log"}
    assert {"all", "vgpr_or_better=0", "vgpr_or_better=1"} <= set(km["group"])
    committed = pd.read_csv(paths.ROOT / "results" / "survival_km.csv")
    committed["reason"] = committed["reason"].fillna("")  # an empty reason (estimable) reads back as NaN
    pd.testing.assert_frame_equal(km.reset_index(drop=True), committed, check_dtype=False)

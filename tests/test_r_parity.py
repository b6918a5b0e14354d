"""Parity of compendium.stats.survival with R's survival package.

The reference answers in tests/reference/r_out/ are written by
``Rscript tests/reference/survival_reference.R`` (run from the repository
root); r_out/manifest.csv records the md5 of every input R read, so these
tests first check that the inputs we use are the ones R saw.

Tolerances: medians and limits 1e-6 months; HR, CI and p 1e-4 relative
(in practice the differences are at rounding level, ~1e-12).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compendium.stats import survival as sv

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "tests" / "reference"
OUT = REF / "r_out"
ANALYSIS = ROOT / "data" / "derived" / "analysis.csv"
RERUN = "rerun `Rscript tests/reference/survival_reference.R` from the repository root"

MEDIAN_ATOL = 1e-6
RTOL = 1e-4


def r_out(name: str) -> pd.DataFrame:
    return pd.read_csv(OUT / name, keep_default_na=False, na_values=[""],
                       dtype={"group": str, "level": str, "reference": str, "covariate": str})


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def assert_close(ours, theirs, *, rtol=0.0, atol=0.0, what=""):
    """NaN must meet NaN and inf must meet inf; otherwise within tolerance."""
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaN pattern")
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)


def as_endpoint(df: pd.DataFrame, endpoint: str, time: str, event: str) -> pd.DataFrame:
    return df.rename(columns={time: f"{endpoint}_months", event: f"{endpoint}_event"})


@pytest.fixture(scope="module")
def manifest() -> pd.DataFrame:
    return r_out("manifest.csv").set_index("input")


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    return as_endpoint(pd.read_csv(REF / "lung.csv", dtype={"ecog_cat": str}), "os", "time", "status")


# ------------------------------------------------------------------ provenance


@pytest.mark.parametrize("name", ["lung", "heart", "km_cases", "ties", "separation"])
def test_fixture_is_what_r_read(manifest, name):
    path = ROOT / manifest.loc[name, "path"]
    assert md5(path) == manifest.loc[name, "md5"], f"{path.name} changed since R ran: {RERUN}"


def test_r_outputs_are_committed():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = [p.relative_to(ROOT).as_posix() for p in sorted(OUT.glob("*.csv"))]
    files += [f"tests/reference/{n}" for n in ("survival_reference.R", "lung.csv", "heart.csv",
                                                "km_cases.csv", "ties.csv", "separation.csv")]
    tracked = subprocess.run(["git", "ls-files", "--", *files], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert sorted(set(files) - set(tracked)) == []


def test_reference_made_by_r4_survival3(manifest):
    assert manifest["r_version"].astype(str).str.startswith("4.").all()
    assert manifest["survival_version"].astype(str).str.startswith("3.").all()


# ------------------------------------------------------------------ Kaplan-Meier


def check_km_rows(r: pd.DataFrame, medians):
    """Compare R rows (conf_type, rule) with ``medians(conf_type, rule) -> dict``."""
    for _, row in r.iterrows():
        ours = medians(row["conf_type"], row["rule"])
        what = f"{row['dataset']} {row['endpoint']} {row['group']} {row['conf_type']} {row['rule']}"
        assert (ours["n"], ours["events"]) == (row["n"], row["events"]), what
        assert_close([ours["median"], ours["lcl"], ours["ucl"]], [row["median"], row["lcl"], row["ucl"]],
                     atol=MEDIAN_ATOL, what=what)


def test_km_medians_lung(lung):
    r = r_out("km_medians.csv").query("dataset == 'lung'")
    for (endpoint, group), rows in r.groupby(["endpoint", "group"]):
        sub = lung if group == "all" else lung[lung[group.split("=")[0]].map(sv._fmt_level) == group.split("=")[1]]
        fun = sv.followup_reverse_km if endpoint == "followup" else sv.km_median
        check_km_rows(rows, lambda ct, rule: fun(sub["os_months"], sub["os_event"], ct, rule=rule))


def test_km_summary_rows_lung(lung):
    """The results/survival_km.csv builder itself, for log and log-log."""
    r = r_out("km_medians.csv").query("dataset == 'lung' and rule == 'quantile' and conf_type != 'plain'")
    ours = pd.concat([sv.km_summary(lung, "os"), sv.km_summary(lung, "os", "female"),
                      sv.km_summary(lung, "os", "ecog_cat"), sv.km_summary(lung, "followup"),
                      sv.km_summary(lung, "followup", "female")])
    merged = r.merge(ours, on=["endpoint", "group", "conf_type"], suffixes=("_r", ""))
    assert len(merged) == len(r) == len(ours)
    for c in ("median", "lcl", "ucl"):
        assert_close(merged[c], merged[f"{c}_r"], atol=MEDIAN_ATOL, what=c)
    assert (merged["n"] == merged["n_r"]).all() and (merged["events"] == merged["events_r"]).all()


def test_km_medians_edge_cases():
    cases = pd.read_csv(REF / "km_cases.csv")
    r = r_out("km_medians.csv").query("dataset == 'km_cases'")
    assert set(r["endpoint"]) == set(cases["case"])
    for case, rows in r.groupby("endpoint"):
        d = cases[cases["case"] == case]
        check_km_rows(rows, lambda ct, rule: sv.km_median(d["time"], d["event"], ct, rule=rule))


def test_km_curve_lung(lung):
    r = r_out("km_curve_lung.csv")
    for ct, rows in r.groupby("conf_type"):
        ours = sv.km_table(lung["os_months"], lung["os_event"], ct)
        assert len(ours) == len(rows)
        for c in ("time", "n_risk", "n_event", "n_censor"):
            assert (ours[c].to_numpy() == rows[c].to_numpy()).all(), c
        for c in ("surv", "std_err", "lower", "upper"):
            assert_close(ours[c], rows[c], rtol=1e-10, what=f"{ct} {c}")


# ------------------------------------------------------------------ log-rank


def test_logrank_lung(lung):
    for _, row in r_out("logrank.csv").query("dataset == 'lung'").iterrows():
        ours = sv.logrank_test(lung, "os", row["group"])
        assert (ours["n"], ours["df"]) == (row["n"], row["df"])
        assert_close([ours["chisq"], ours["p"]], [row["chisq"], row["p"]], rtol=1e-8, what=row["group"])


# ------------------------------------------------------------------ Cox


def read_analysis() -> pd.DataFrame:
    return pd.read_csv(ANALYSIS, dtype={"dex_dose_group": str})


DATASETS = {  # how each R dataset maps onto our endpoint columns: (frame, start column)
    "lung": lambda: (as_endpoint(pd.read_csv(REF / "lung.csv", dtype={"ecog_cat": str}), "os", "time",
                                 "status"), None),
    "ties": lambda: (as_endpoint(pd.read_csv(REF / "ties.csv"), "ties", "time", "event"), None),
    "separation": lambda: (as_endpoint(pd.read_csv(REF / "separation.csv"), "separation", "time", "event"),
                           None),
    "heart": lambda: (as_endpoint(pd.read_csv(REF / "heart.csv"), "heart", "stop", "event"), "start"),
    "analysis": lambda: (read_analysis(), None),
    "analysis_landmark3": lambda: (sv.landmark(read_analysis(), "pfs", 3, "response_months",
                                               "vgpr_or_better"), None),
    "analysis_tv": lambda: (sv.time_dependent_response(read_analysis(), "pfs", "response_months",
                                                       "vgpr_or_better"), "tstart"),
}


def fit_like_r(rows: pd.DataFrame) -> sv.CoxFit:
    first = rows.iloc[0]
    data, start = DATASETS[first["dataset"]]()
    covariates = list(dict.fromkeys(rows["covariate"]))
    refs = {c: g["reference"].iloc[0] for c, g in rows.groupby("covariate")
            if g["level"].iloc[0] not in ("1", "per unit")}
    return sv.cox_fit(data, first["endpoint"], covariates, refs, ties=first["ties"], start=start)


def check_cox(r: pd.DataFrame):
    for key, rows in r.groupby(["dataset", "endpoint", "model", "ties"], sort=False):
        fit = fit_like_r(rows)
        ours = fit.table()
        what = " ".join(key)
        assert ours[["covariate", "level", "reference"]].values.tolist() == \
            rows[["covariate", "level", "reference"]].fillna("").values.tolist(), what
        assert (fit.n, fit.events) == (rows["n"].iloc[0], rows["events"].iloc[0]), what
        assert_close(fit.coef, rows["coef"], rtol=1e-6, atol=1e-9, what=f"{what} coef")
        assert_close(np.sqrt(np.diag(fit.var)), rows["se"], rtol=1e-6, what=f"{what} se")
        for c in ("hr", "lcl", "ucl", "p"):
            assert_close(ours[c], rows[c], rtol=RTOL, what=f"{what} {c}")
        g = sv.cox_global_tests(fit)
        cols = ["loglik_null", "loglik", "lr_chisq", "wald_chisq", "score_chisq"]
        assert_close([g[c] for c in cols], rows[cols].iloc[0], rtol=1e-6, atol=1e-9,
                     what=f"{what} global tests")
        # R counts iter.max + 1 when it runs out of iterations
        r_iter = rows["iter"].iloc[0]
        assert (fit.iterations, fit.converged) == ((r_iter, True) if r_iter <= 20 else (20, False)), what


@pytest.mark.parametrize("dataset", ["lung", "ties", "separation", "heart"])
def test_cox_fixtures(dataset):
    check_cox(r_out("cox.csv").query("dataset == @dataset"))


def check_zph(r_tab: pd.DataFrame, r_res: pd.DataFrame) -> int:
    """Compare cox.zph tables, and residuals where R wrote them; count residual sets."""
    n_resid = 0
    for key, rows in r_tab.groupby(["dataset", "endpoint", "model", "transform"], sort=False):
        cox_rows = r_out("cox.csv").query("dataset == @key[0] and endpoint == @key[1] and model == @key[2]"
                                          " and ties == 'efron'")
        fit = fit_like_r(cox_rows)
        ours = sv.cox_zph(fit, key[3])
        assert ours["covariate"].tolist() == rows["covariate"].tolist()
        assert (ours["df"].to_numpy() == rows["df"].to_numpy()).all()
        assert_close(ours["chisq"], rows["chisq"], rtol=1e-6, atol=1e-10, what=" ".join(key))
        assert_close(ours["p"], rows["p"], rtol=RTOL, what=" ".join(key))
        res = r_res.query("dataset == @key[0] and endpoint == @key[1] and model == @key[2]")
        if key[3] == "km" and len(res):
            n_resid += 1
            wide = res.pivot(index="row", columns="coefficient", values="value")
            wide = wide[list(dict.fromkeys(res["coefficient"]))]
            ours_res = sv.scaled_schoenfeld(fit)
            assert_close(ours_res["time"], res.drop_duplicates("row")["time"], rtol=1e-12)
            assert_close(ours_res["gtime"], res.drop_duplicates("row")["gtime"], rtol=1e-10, atol=1e-12)
            assert_close(ours_res.iloc[:, 2:].to_numpy(), wide.to_numpy(), rtol=1e-6, atol=1e-9,
                         what=f"{' '.join(key)} scaled Schoenfeld")
    return n_resid


def test_cox_zph_lung_ties_separation():
    tab, res = r_out("cox_zph.csv"), r_out("zph_resid.csv")
    tab = tab[tab["dataset"].isin(["lung", "ties", "separation"])]
    assert check_zph(tab, res) == 4  # the multivariable models


# ------------------------------------------------------------------ the project's data


@pytest.fixture(scope="module")
def analysis(manifest) -> pd.DataFrame:
    if not ANALYSIS.exists():
        pytest.skip("data/derived/analysis.csv does not exist yet (notebook 01 builds it)")
    assert "analysis" in manifest.index, f"R has not seen data/derived/analysis.csv: {RERUN}"
    assert md5(ANALYSIS) == manifest.loc["analysis", "md5"], \
        f"data/derived/analysis.csv changed since R ran: {RERUN}"
    return read_analysis()


def test_analysis_km(analysis):
    r = r_out("km_medians.csv").query("dataset == 'analysis'")
    for (endpoint, group), rows in r.groupby(["endpoint", "group"]):
        sub = analysis if group == "all" else \
            analysis[analysis[group.split("=")[0]].map(sv._fmt_level) == group.split("=")[1]]
        tcol, ecol = sv.endpoint_columns(endpoint)
        fun = sv.followup_reverse_km if endpoint == "followup" else sv.km_median
        check_km_rows(rows, lambda ct, rule: fun(sub[tcol], sub[ecol], ct, rule=rule))


def test_analysis_logrank(analysis):
    for _, row in r_out("logrank.csv").query("dataset == 'analysis'").iterrows():
        ours = sv.logrank_test(analysis, row["endpoint"], row["group"])
        assert_close([ours["chisq"], ours["p"]], [row["chisq"], row["p"]], rtol=1e-8)


def test_analysis_cox(analysis):
    r = r_out("cox.csv").query("dataset == 'analysis'")
    assert len(r) > 0
    check_cox(r)
    # the contract builders give the same rows
    uni = r[r["model"] == r["covariate"]]
    for (endpoint, cov), rows in uni.groupby(["endpoint", "covariate"]):
        ours = sv.cox_univariate(analysis, endpoint, cov, reference="full" if cov == "dex_dose_group" else None)
        assert_close(ours["hr"], rows["hr"], rtol=RTOL, what=f"{endpoint} {cov}")


def test_analysis_landmark_and_time_dependent(analysis):
    """The landmark and counting-process builders, fitted, against R's own construction."""
    r = r_out("cox.csv").query("dataset in ['analysis_landmark3', 'analysis_tv']")
    if "response_months" not in analysis.columns:
        pytest.skip("analysis.csv has no response_months column")
    assert set(r["dataset"]) == {"analysis_landmark3", "analysis_tv"}
    check_cox(r)


def test_cox_zph_counting_process_heart():
    """cox.zph and its residuals on (start, stop] data: Stanford heart, transplant time-dependent."""
    tab = r_out("cox_zph.csv").query("dataset == 'heart'")
    assert len(tab) == 16  # four transforms x (three covariates + GLOBAL)
    assert check_zph(tab, r_out("zph_resid.csv")) == 1


def test_analysis_time_dependent_cox_zph(analysis):
    assert len(r_out("cox_zph.csv").query("dataset == 'analysis_tv'")) == 8
    check_zph(r_out("cox_zph.csv").query("dataset == 'analysis_tv'"), r_out("zph_resid.csv"))


def test_analysis_cox_zph(analysis):
    assert check_zph(r_out("cox_zph.csv").query("dataset == 'analysis'"), r_out("zph_resid.csv")) == 2

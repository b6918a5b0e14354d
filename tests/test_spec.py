"""The analysis specification: the paper's by default, a user's by --spec, checked before anything runs."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compendium.data import dataset
from compendium import paths
from compendium.data import spec as specs


def test_paper_spec_declares_the_papers_tables():
    spec = specs.load()
    assert [t.id for t in spec.tables] == ["T2", "T3", "T4", "T5", "R_pfs"]
    assert spec.model("paper").covariates == ("vgpr_or_better", "emd_relapse", "age_ge65")
    assert spec.references == {"dex_dose_group": "full"}
    assert specs.load().table("T4").rows[1] == specs.PaperRow("T4_no_emd", "Absence of EMD at relapse", "pfs", "emd_relapse", "1", True)
    # every row's claims exist in the registry
    from compendium.report import claims
    ids = set(claims.load_registry()["claim_id"])
    assert all(f"{r.claim}_hr" in ids for r in spec.rows())


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('column = "amp1q"', 'column = "amp1q"\nrefernce = "1"'), "unknown key"),
    (lambda t: t.replace('covariates = ["vgpr_or_better", "emd_relapse", "age_ge65"]',
                         'covariates = ["vgpr_or_better", "ldh_high"]'), "ldh_high.*not declared"),
    (lambda t: t.replace('endpoint = "pfs"\nrows', 'endpoint = "efs"\nrows', 1), "unknown endpoint.*efs"),
    (lambda t: t.replace("[[factors]]", "[[factors]\n", 1), "not valid TOML"),
])
def test_bad_specs_are_named(tmp_path, edit, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(edit(specs.DEFAULT.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(specs.SpecError, match=message):
        specs.load(bad)


def test_missing_column_fails_before_anything_runs(tmp_path):
    user = tmp_path / "user.toml"
    user.write_text(specs.DEFAULT.read_text(encoding="utf-8").replace(
        'column = "amp1q"\nlabel = "amp1q"', 'column = "ldh_high"\nlabel = "LDH above normal"'), encoding="utf-8")
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "compendium", "run", "--spec", str(user), "--out", str(out)],
                          cwd=paths.ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert "ldh_high" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir())


README = (paths.ROOT / "README.md").read_text(encoding="utf-8")
COPY = "cp data/spec/paper.toml my-spec.toml"
RUN = ".venv/bin/python -m compendium run --spec my-spec.toml --out my-run/"


def test_a_users_spec_changes_the_analysis_without_code(tmp_path):
    """The README's two commands: another reference level and another model, through the spec file only."""
    assert COPY in README and RUN in README
    subprocess.run(COPY.replace("data/spec/paper.toml", str(specs.DEFAULT)).split(), cwd=tmp_path, check=True)
    user = tmp_path / "my-spec.toml"
    text = user.read_text(encoding="utf-8")
    text = text.replace('reference = "full"', 'reference = "20"')
    text = text.replace('''rows = [
  { claim = "T2_vgpr"''', '''rows = [
  { label = "Best response ≥CR", covariate = "cr_or_better", level = "1" },
  { claim = "T2_vgpr"''')
    text += '''
[[models]]
name = "depth"
endpoints = ["pfs"]
covariates = ["cr_or_better", "age_ge65"]
'''
    # a table row that needs dex 'full' against '20' no longer exists: drop the dex rows
    text = "\n".join(line for line in text.splitlines() if "dex_dose_group\", level" not in line) + "\n"
    user.write_text(text, encoding="utf-8")
    out = tmp_path / "my-run"
    argv = RUN.split()
    argv[0] = sys.executable
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    uni = pd.read_csv(out / "results" / "cox_univariate.csv", dtype={"level": str, "reference": str})
    dex = uni[uni.covariate == "dex_dose_group"]
    assert set(dex.reference) == {"20"} and "full" in set(dex.level)
    mv = pd.read_csv(out / "results" / "cox_multivariable.csv")
    depth = mv[mv.model == "depth"]
    assert list(depth.covariate) == ["cr_or_better", "age_ge65"] and set(depth.endpoint) == {"pfs"}
    # the new model's estimate is the one a direct fit gives
    analysis = dataset.read_analysis(paths.Paths(out))
    from compendium.stats import survival as sv
    direct = sv.cox_multivariable(analysis, "pfs", ["cr_or_better", "age_ge65"], "depth")
    assert depth.hr.tolist() == pytest.approx(direct.hr.tolist(), rel=1e-10)
    nb = (out / "notebooks" / "04_survival.ipynb").read_text()
    assert "Best response ≥CR" in nb and "my-spec.toml" in nb and str(tmp_path) not in nb


# --- [response] (notebook 03) ------------------------------------------------------------------

RESPONSE_EDITS = [
    (lambda t: t.replace('outcome = "vgpr_or_better"', 'outcome = "vgpr_or_better"\nlandmark = 3'),
     r"paper-edit.toml \[response\]: unknown key\(s\) \['landmark'\]"),
    (lambda t: t.replace('test = "wilcoxon"', 'test = "wilcoxon"\nlevel = "1"', 1),
     r"\[response\] predictors #1: unknown key\(s\) \['level'\]"),
    (lambda t: t.replace('test = "fisher"', 'test = "chisq"', 1),
     r"\[response\] predictors #4: test 'chisq' is not known"),
    (lambda t: t.replace('outcome = "vgpr_or_better"', 'outcome = "pr_or_better"'),
     r"\[response\]: outcome 'pr_or_better' is not one of the rates declared"),
    (lambda t: t.replace('name = "len_dose_pd"', 'name = "len_dose_start"'),
     r"\[response\] predictors: name\(s\) \['len_dose_start'\] used twice"),
    (lambda t: t.replace('by_level = true\nlevel_name', 'by_level = "yes"\nlevel_name', 1),
     r"\[response\] predictors #2: 'by_level' must be true or false"),
    (lambda t: t.replace('rates = { orr', 'rates = [ "orr" ]\nunused = { orr', 1), r"\[response\]"),
]


@pytest.mark.parametrize("edit, message", RESPONSE_EDITS)
def test_bad_response_tables_are_named_by_file_entry_and_key(tmp_path, edit, message):
    bad = tmp_path / "paper-edit.toml"
    text = specs.DEFAULT.read_text(encoding="utf-8")
    assert edit(text) != text
    bad.write_text(edit(text), encoding="utf-8")
    with pytest.raises(specs.SpecError, match=message):
        specs.load(bad)


def test_paper_spec_declares_the_response_analyses():
    response = specs.load().response
    assert response.outcome == "vgpr_or_better" and dict(response.rates).keys() == {"orr", "vgpr_or_better", "cr_or_better"}
    assert [p.name for p in response.predictors] == ["len_exposure", "len_dose_start", "len_dose_pd",
                                                    "bortezomib_exposed", "carfilzomib_exposed"]
    from compendium.data import endpoints
    assert response.columns() <= set(endpoints.ANALYSIS_COLUMNS)
    specs.check_columns(specs.load(), endpoints.ANALYSIS_COLUMNS)


@pytest.mark.parametrize("edit, entry", [
    (lambda t: t.replace('column = "len_dose_pd_mg"', 'column = "len_dose_pd"'),
     r"\[response\] predictors #3 \(len_dose_pd\) column: 'len_dose_pd' is not a column of the analysis dataset"),
    (lambda t: t.replace('vgpr_or_better = ">= VGPR"', 'vgpr_or_better = ">= VGPR", pr_or_better = ">= PR"'),
     r"\[response\] rates: 'pr_or_better' is not a column of the analysis dataset"),
])
def test_response_columns_the_data_lack_are_named_before_anything_runs(tmp_path, edit, entry):
    from compendium.data import endpoints
    user = tmp_path / "user.toml"
    user.write_text(edit(specs.DEFAULT.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(specs.SpecError, match=r"user.toml " + entry):
        specs.check_columns(specs.load(user), endpoints.ANALYSIS_COLUMNS)


def _response_toml(rates, outcome, predictors) -> str:
    lines = ["[response]", f'outcome = "{outcome}"',
             "rates = { " + ", ".join(f'{r} = "{r.upper()}"' for r in rates) + " }"]
    for name, column, test, by_level in predictors:
        lines += ["[[response.predictors]]", f'name = "{name}"', f'column = "{column}"', f'test = "{test}"',
                  f"by_level = {'true' if by_level else 'false'}"]
    return "\n".join(lines) + "\n"


PREDICTOR_COLUMNS = ["len_exposure_months", "len_dose_start_mg", "len_dose_pd_mg", "bortezomib_exposed",
                     "carfilzomib_exposed", "age_years", "sex", "emd_relapse"]


@settings(max_examples=40, deadline=None, database=None)
@given(rates=st.lists(st.sampled_from(["orr", "vgpr_or_better", "cr_or_better"]), min_size=1, max_size=3, unique=True),
       data=st.data())
def test_drawn_response_tables_load_as_written_or_are_refused_naming_the_key(rates, data):
    """Any well-formed [response] either loads as written or is refused with the entry and key named."""
    outcome = data.draw(st.sampled_from(rates + ["pfs_event"]))
    columns = data.draw(st.lists(st.sampled_from(PREDICTOR_COLUMNS + [outcome]), max_size=5, unique=True))
    predictors = [(f"p_{c}", c, data.draw(st.sampled_from(["wilcoxon", "fisher", "t_test"])), data.draw(st.booleans()))
                  for c in columns]
    text = specs.DEFAULT.read_text(encoding="utf-8").split("\n[response]")[0] + "\n" + _response_toml(rates, outcome, predictors)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "drawn.toml"
        path.write_text(text, encoding="utf-8")
        bad_test = next((i for i, p in enumerate(predictors, 1) if p[2] == "t_test"), None)
        if outcome not in rates:
            with pytest.raises(specs.SpecError, match=r"drawn.toml \[response\]: outcome"):
                specs.load(path)
        elif bad_test is not None:
            with pytest.raises(specs.SpecError, match=rf"drawn.toml \[response\] predictors #{bad_test}: test 't_test'"):
                specs.load(path)
        elif outcome in columns:
            with pytest.raises(specs.SpecError, match=r"is the outcome itself"):
                specs.load(path)
        else:
            response = specs.load(path).response
            assert response.outcome == outcome and [f for f, _ in response.rates] == rates
            assert [(p.name, p.column, p.test, p.by_level) for p in response.predictors] == predictors


def test_a_spec_without_response_runs_notebook_03_with_reasons(tmp_path):
    from compendium.chapters import response
    from compendium.chapters.base import Context
    import dataclasses
    ctx = Context.for_run()
    user = tmp_path / "no-response.toml"
    user.write_text(specs.DEFAULT.read_text(encoding="utf-8").split("\n# Response (notebook 03)")[0], encoding="utf-8")
    ch = response.compute(dataclasses.replace(ctx, spec=specs.load(user)))
    assert set(ch.section("rates")) | set(ch.section("associations")) <= set(ch.reasons)
    assert ch.reasons["R_orr_pct"] == response.NO_RESPONSE_SPEC
    assert "R_disc_pd_n" in ch.values  # what does not depend on [response] is still computed

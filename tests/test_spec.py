"""The analysis specification: the paper's by default, a user's by --spec, checked before anything runs."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

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

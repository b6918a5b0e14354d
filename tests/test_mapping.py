"""Mapping a re-labelled export onto the dictionary: Italian names and labels, DD/MM/YYYY dates."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from compendium.data import loading, mapping
from compendium import paths
from foreign_export import relabel

RENAMED = {"patient_id": "ID paziente", "center": "Centro", "sex": "Sesso", "isotype": "Isotipo",
           "birth_date": "Data di nascita", "daravd_start_date": "Data inizio DaraVd",
           "best_response": "Migliore risposta", "death_date": "Data decesso",
           "emd_relapse": "Malattia extramidollare"}
SEX = {"M": "Maschio", "F": "Femmina"}
RESPONSE = {"sCR": "RCs", "CR": "RC", "VGPR": "MBRP", "PR": "RP", "MR": "RM", "SD": "MS", "PD": "PM", "NE": "NV"}
FLAG = {"0": "No", "1": "Sì"}


def italian_export(path):
    """The synthetic cohort as an Italian centre might export it."""
    raw = pd.read_csv(paths.SYNTHETIC_COHORT, dtype=str, keep_default_na=False)
    dictionary = loading.load_dictionary()
    out = raw.copy()
    out["sex"] = out["sex"].map(SEX)
    out["best_response"] = out["best_response"].map(RESPONSE)
    out["emd_relapse"] = out["emd_relapse"].map(lambda v: FLAG.get(v, v))
    # IgG kappa / IgG lambda: two export labels for one dictionary code
    out["isotype"] = [f"{v} {'kappa' if i % 2 else 'lambda'}" if v in ("IgG", "IgA") else v
                      for i, v in enumerate(out["isotype"])]
    for col in dictionary.loc[dictionary["type"] == "date", "name"]:
        out[col] = pd.to_datetime(out[col].replace("", None)).dt.strftime("%d/%m/%Y").fillna("")
    out = out.rename(columns=RENAMED)
    out.to_csv(path, index=False)
    return path


def edited_mapping(path):
    """What a user writes after editing the template."""
    lines = ["[columns]"] + [f'{var} = "{col}"' for var, col in RENAMED.items()]
    lines += ["", "[values.sex]"] + [f'{it} = "{code}"' for code, it in SEX.items()]
    lines += ["", "[values.best_response]"] + [f'{it} = "{code}"' for code, it in RESPONSE.items()]
    lines += ["", "[values.emd_relapse]"] + [f'"{it}" = "{code}"' for code, it in FLAG.items()]
    lines += ["", "[values.isotype]"] + [f'"{iso} {light}" = "{iso}"' for iso in ("IgG", "IgA") for light in ("kappa", "lambda")]
    lines += ['IgD = "IgD"', 'IgM = "IgM"', 'BJ = "BJ"']
    lines += ["", "[dates]", 'format = "%d/%m/%Y"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def export(tmp_path):
    return italian_export(tmp_path / "export_centro.csv")


def test_mapped_export_equals_the_unmapped_file(export, tmp_path):
    mapped = loading.load_raw(export, mapping.load(edited_mapping(tmp_path / "m.toml")))
    original = loading.load_raw(paths.SYNTHETIC_COHORT)
    pd.testing.assert_frame_equal(mapped.frame, original.frame)


def test_template_proposes_columns_and_codes(export, tmp_path):
    out = mapping.write_template(export, tmp_path / "template.toml")
    text = out.read_text(encoding="utf-8")
    doc = tomllib.loads(text)  # the template is valid TOML as written
    assert doc["template"]["confirmed"] is False       # proposals, until the user confirms them
    assert doc["columns"]["sex"] == "Sesso"
    assert doc["columns"]["progression_date"] == "progression_date"  # unchanged names map to themselves
    assert doc["dates"]["format"] == "%d/%m/%Y"
    assert doc["values"]["sex"] == {"Maschio": "M", "Femmina": "F"}
    assert doc["values"]["isotype"]["IgG kappa"] == "IgG" and doc["values"]["isotype"]["IgA lambda"] == "IgA"
    assert doc["values"]["emd_relapse"] == {"No": "0", "Sì": "1"}
    assert "dara_route_start" not in doc.get("values", {})  # every value is already a code
    assert 'sex = "Sesso"   # PROPOSED' in text
    with pytest.raises(FileExistsError):
        mapping.write_template(export, out)


def test_unmapped_value_and_bad_date_are_named(export, tmp_path):
    m = edited_mapping(tmp_path / "m.toml")
    m.write_text(m.read_text(encoding="utf-8").replace('Maschio = "M"\n', ""), encoding="utf-8")
    with pytest.raises(mapping.MappingError, match=r"\[values.sex\].*'Maschio'.*Sesso"):
        loading.load_raw(export, mapping.load(m))
    m2 = edited_mapping(tmp_path / "m2.toml")
    m2.write_text(m2.read_text(encoding="utf-8").replace("%d/%m/%Y", "%Y-%m-%d %H"), encoding="utf-8")
    with pytest.raises(mapping.MappingError, match=r"does not follow the format"):
        loading.load_raw(export, mapping.load(m2))


def test_unmapped_required_variable_is_named(export, tmp_path):
    m = edited_mapping(tmp_path / "m.toml")
    m.write_text(m.read_text(encoding="utf-8").replace('sex = "Sesso"\n', ""), encoding="utf-8")
    with pytest.raises(mapping.MappingError, match=r"required variable\(s\): sex"):
        loading.load_raw(export, mapping.load(m))


def test_raw_export_is_never_modified(export, tmp_path):
    before = loading.sha256(export)
    loading.load_raw(export, mapping.load(edited_mapping(tmp_path / "m.toml")))
    assert loading.sha256(export) == before


README = (paths.ROOT / "README.md").read_text(encoding="utf-8")
MAP = ".venv/bin/python -m compendium map export.xlsx --template mapping.toml"
VALIDATE = ".venv/bin/python -m compendium validate export.xlsx --mapping mapping.toml"
RUN = ".venv/bin/python -m compendium run --data export.xlsx --mapping mapping.toml --out my-run/"


def _readme(command, folder):
    """A README command as written, run in ``folder`` (where the user keeps export and mapping)."""
    assert command in README, f"the README no longer shows `{command}`"
    argv = command.split()
    argv[0] = sys.executable
    return subprocess.run(argv, cwd=folder, capture_output=True, text=True)


def _readme_template_excerpt() -> list[str]:
    """The lines of the template the README shows (its ```toml block of the mapping section)."""
    section = README[README.index("### An export with its own column names"):]
    block = section[section.index("```toml") + len("```toml"):]
    return [line for line in block[:block.index("```")].splitlines() if line.strip()]


def test_readme_map_validate_and_run_as_written(tmp_path):
    """The README's path from an e-CRF export whose every header is Italian to a run: map, validate,
    confirm, run; the run reproduces the canonical results."""
    raw = pd.read_csv(paths.SYNTHETIC_COHORT, dtype=str, keep_default_na=False)
    export = relabel(raw, loading.load_dictionary(), "italian", None)  # ID paziente, Sesso, Maschio, RC, Sì ...
    assert export.columns["patient_id"] == "ID paziente" and export.columns["ae_pn_grade"] == \
        "Neuropatia periferica (grado CTCAE)"
    export.frame.to_excel(tmp_path / "export.xlsx", index=False)
    done = _readme(MAP, tmp_path)
    assert done.returncode == 0, done.stderr
    template = (tmp_path / "mapping.toml").read_text(encoding="utf-8")
    missing = [line for line in _readme_template_excerpt() if line not in template.splitlines()]
    assert not missing, f"the README shows template lines `map` no longer writes: {missing}"
    unconfirmed = _readme(VALIDATE, tmp_path)  # validate reads the proposals as they are
    assert unconfirmed.returncode == 0, unconfirmed.stderr
    assert "85 rows follow the dictionary" in unconfirmed.stdout and "not confirmed" in unconfirmed.stderr
    refused = _readme(RUN, tmp_path)  # run does not, before anything is written
    assert refused.returncode == 2 and "not confirmed" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "my-run").exists()
    # the user checks every line (here every proposal is right) and confirms
    (tmp_path / "mapping.toml").write_text(template.replace("confirmed = false", "confirmed = true", 1),
                                           encoding="utf-8")
    ok = _readme(VALIDATE, tmp_path)
    assert ok.returncode == 0 and "not confirmed" not in ok.stderr, ok.stderr
    run = _readme(RUN, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    out = tmp_path / "my-run"
    assert (out / "data" / "derived" / "analysis.csv").read_bytes() == \
        (paths.ROOT / "data" / "derived" / "analysis.csv").read_bytes()
    for csv in sorted((paths.ROOT / "results").glob("*.csv")):
        if csv.name == "claims.csv":
            continue  # its basis column says observed on a file that is not the committed cohort
        ours = pd.read_csv(out / "results" / csv.name)
        pd.testing.assert_frame_equal(ours, pd.read_csv(csv), check_exact=False, rtol=1e-12, obj=csv.name)
    provenance = (out / "results" / "provenance.json").read_text()
    assert "export.xlsx" in provenance and "mapping.toml" in provenance
    assert str(tmp_path) not in (out / "notebooks" / "04_survival.ipynb").read_text()

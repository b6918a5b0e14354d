"""Mapping a re-labelled export onto the dictionary: Italian names and labels, DD/MM/YYYY dates."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from compendium.data import loading, mapping
from compendium import paths

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


def test_template_guesses_columns_and_lists_values(export, tmp_path):
    out = mapping.write_template(export, tmp_path / "template.toml")
    text = out.read_text(encoding="utf-8")
    doc = tomllib.loads(text)  # the skeleton is valid TOML as written
    assert doc["columns"]["sex"] == "Sesso"            # by the dictionary's description
    assert doc["columns"]["progression_date"] == "progression_date"  # unchanged names map to themselves
    assert doc["dates"]["format"] == "%d/%m/%Y"
    assert set(doc["values"]["sex"]) == {"Maschio", "Femmina"}
    assert doc["values"]["sex"]["Maschio"] == ""      # to be filled in by the user
    assert doc["values"]["dara_route_start"]["IV"] == "IV"  # a value that is already a code maps to itself
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


def test_readme_map_validate_and_run_as_written(tmp_path):
    """The README's three commands on an Italian XLSX export; the run reproduces the canonical results."""
    frame = pd.read_csv(italian_export(tmp_path / "export.csv"), dtype=str, keep_default_na=False)
    frame.to_excel(tmp_path / "export.xlsx", index=False)
    done = _readme(MAP, tmp_path)
    assert done.returncode == 0, done.stderr
    unfilled = _readme(VALIDATE, tmp_path)  # the skeleton as written still has codes to fill in
    assert unfilled.returncode == 2 and "Traceback" not in unfilled.stderr
    assert "no code" in unfilled.stderr or "not given a code" in unfilled.stderr
    edited_mapping(tmp_path / "mapping.toml")  # what the user writes after editing it
    ok = _readme(VALIDATE, tmp_path)
    assert ok.returncode == 0, ok.stderr
    run = _readme(RUN, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    out = tmp_path / "my-run"
    for csv in sorted((paths.ROOT / "results").glob("*.csv")):
        if csv.name == "claims.csv":
            continue  # its basis column says observed on a file that is not the committed cohort
        ours = pd.read_csv(out / "results" / csv.name)
        pd.testing.assert_frame_equal(ours, pd.read_csv(csv), check_exact=False, rtol=1e-12, obj=csv.name)
    provenance = (out / "results" / "provenance.json").read_text()
    assert "export.xlsx" in provenance and "mapping.toml" in provenance
    assert str(tmp_path) not in (out / "notebooks" / "04_survival.ipynb").read_text()

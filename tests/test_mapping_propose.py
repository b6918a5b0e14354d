"""`map --template` on exports whose every header is foreign: how many proposals are right.

The exports are the synthetic cohort fully relabelled (tests/foreign_export.py): Italian and English
e-CRF headers, columns shuffled, extra columns, codes relabelled, dates reformatted, drawn from
several seeds. A proposal is right when it names the column that holds the variable (or no column
when the export lacks it); codes and date formats are scored the same way. The template, corrected
where it is wrong as a user would and confirmed, must give exactly the dictionary-format file's data.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from compendium import paths
from compendium.data import inputs, loading, mapping, mapping_dates, mapping_propose
from compendium.data.mapping_template import toml_string
from foreign_export import STYLES, fold, relabel

SEEDS = range(6)  # per style; every third export is written as XLSX
REQUIRED_SHARE = 0.90


def dump_toml(doc: dict) -> str:
    """Enough of a TOML writer for a mapping file: tables of strings, booleans and lists of strings."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(toml_string(x) for x in v) + "]"
        return toml_string(v)

    def table(prefix: str, body: dict) -> list[str]:
        lines = [f"[{prefix}]"] + [f"{toml_string(k)} = {value(v)}" for k, v in body.items() if not isinstance(v, dict)]
        for k, v in body.items():
            if isinstance(v, dict):
                lines += table(f"{prefix}.{toml_string(k)}", v)
        return lines

    lines = []
    for section, body in doc.items():
        lines += table(section, body)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def cohort():
    return pd.read_csv(paths.SYNTHETIC_COHORT, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def dictionary():
    return loading.load_dictionary()


def write_export(export, folder, name: str, xlsx: bool):
    """As a centre saves it: CSV, or XLSX with numbers (Excel's serial dates among them) as numbers."""
    if not xlsx:
        path = folder / f"{name}.csv"
        export.frame.to_csv(path, index=False)
        return path
    frame = export.frame.copy()
    for column in frame:
        numeric = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        if frame[column].ne("").any() and numeric[frame[column] != ""].notna().all():
            frame[column] = numeric.astype(object).where(frame[column] != "", None)
    path = folder / f"{name}.xlsx"
    frame.to_excel(path, index=False)
    return path


def effective_format(doc: dict, var: str) -> str:
    dates = doc.get("dates", {})
    return dates.get("columns", {}).get(var, dates.get("format", mapping.ISO))


def score(doc: dict, export, dictionary) -> dict:
    """Right and total, for columns, codes and date formats, of one template against the truth."""
    columns = doc.get("columns", {})
    right = {v: columns.get(v) == export.columns.get(v) for v in dictionary["name"]}
    codes = [(doc.get("values", {}).get(v, {}).get(label, label) == code)
             for v, truth in export.codes.items() if right[v] for label, code in truth.items()]
    dates = [effective_format(doc, v) == fmt for v, fmt in export.dates.items() if right[v]]
    return {"columns": right, "codes": codes, "dates": dates}


def confirm(doc: dict, export, dictionary) -> tuple[dict, int]:
    """What the user does: correct each wrong entry (the test knows the truth), then confirm.

    Returns the confirmed mapping and the number of entries that had to be corrected."""
    fixed = 0
    columns = doc.setdefault("columns", {})
    for var in dictionary["name"]:
        truth = export.columns.get(var)
        if columns.get(var) != truth:
            fixed += 1
            if truth is None:
                columns.pop(var)
            else:
                columns[var] = truth
    values = doc.setdefault("values", {})
    for var in list(values):
        if var not in export.codes:
            fixed += any(k != v for k, v in values[var].items())
            values.pop(var)
    for var, truth in export.codes.items():
        fixed += sum(values.get(var, {}).get(label, label) != code for label, code in truth.items())
        values[var] = dict(truth)
    dates = doc.setdefault("dates", {"format": mapping.ISO})
    per_column = dates.setdefault("columns", {})
    for var, fmt in export.dates.items():
        if effective_format(doc, var) != fmt:
            fixed += 1
            per_column[var] = fmt
    numbers = doc.setdefault("numbers", {})
    if numbers.get("decimal", ".") != export.decimal:
        fixed += 1
        numbers["decimal"] = export.decimal
    missing = doc.setdefault("missing", {})
    if export.missing and export.missing not in missing.get("values", []):
        fixed += 1
        missing["values"] = [export.missing]
    doc["template"]["confirmed"] = True
    return doc, fixed


@pytest.fixture(scope="module")
def measured(cohort, dictionary, tmp_path_factory):
    """Every export drawn, its template, and what the confirmed template gives."""
    folder = tmp_path_factory.mktemp("foreign")
    aliases = {fold(a) for names in mapping_propose.load_aliases().names.values() for a, _ in names}
    out = []
    for style in STYLES:
        for seed in SEEDS:
            export = relabel(cohort, dictionary, style, seed)
            path = write_export(export, folder, f"{style}-{seed}", xlsx=seed % 3 == 0)
            template = mapping.write_template(path, folder / f"{style}-{seed}.toml")
            doc = tomllib.loads(template.read_text(encoding="utf-8"))  # valid TOML as written
            result = score(doc, export, dictionary)
            confirmed, fixed = confirm(doc, export, dictionary)
            confirmed_path = folder / f"{style}-{seed}-confirmed.toml"
            confirmed_path.write_text(dump_toml(confirmed), encoding="utf-8")
            out.append({"style": style, "seed": seed, "export": export, "path": path, "template": template,
                        "confirmed": confirmed_path, "fixed": fixed, "in_aliases": export.in_aliases(aliases),
                        **result})
    return out


def _share(items) -> float:
    items = list(items)
    return sum(items) / len(items)


def test_at_least_90_percent_of_the_columns_are_proposed_right(measured):
    for style in STYLES:
        runs = [m for m in measured if m["style"] == style]
        columns = [ok for m in runs for ok in m["columns"].values()]
        unlisted = [ok for m in runs for v, ok in m["columns"].items() if v in m["in_aliases"]
                    and not m["in_aliases"][v]]
        codes = [ok for m in runs for ok in m["codes"]]
        dates = [ok for m in runs for ok in m["dates"]]
        print(f"\n{style}: columns {_share(columns):.1%} right ({sum(columns)}/{len(columns)}, {len(runs)} exports, "
              f"worst {min(_share(m['columns'].values()) for m in runs):.1%}); headers not in the alias file "
              f"{_share(unlisted):.1%} ({sum(unlisted)}/{len(unlisted)}); codes {_share(codes):.1%} "
              f"({len(codes)}); date formats {_share(dates):.1%} ({len(dates)}); corrections per export "
              f"{[m['fixed'] for m in runs]}")
        assert _share(columns) >= REQUIRED_SHARE
        assert all(_share(m["columns"].values()) >= 0.85 for m in runs), "one export far below the others"
        assert _share(unlisted) >= 0.8, "the matching must not be a look-up of the alias file"
        assert _share(codes) >= REQUIRED_SHARE and _share(dates) >= REQUIRED_SHARE


def test_each_export_column_is_proposed_for_one_variable_at_most(measured):
    for m in measured:
        doc = tomllib.loads(m["template"].read_text(encoding="utf-8"))
        proposed = list(doc["columns"].values())
        assert len(proposed) == len(set(proposed))
        assert set(proposed) <= set(m["export"].frame.columns)


def test_the_confirmed_template_gives_the_dictionary_files_data(measured, cohort):
    original = loading.load_raw(paths.SYNTHETIC_COHORT).frame
    for m in measured:
        mapped = loading.load_raw(m["path"], mapping.load(m["confirmed"])).frame
        expected = original.copy()
        if "vgpr_first_date" not in m["export"].columns:  # an export without the optional column
            expected["vgpr_first_date"] = pd.NaT
        pd.testing.assert_frame_equal(mapped, expected, obj=f"{m['style']} export, seed {m['seed']}")


def test_unconfirmed_template_is_refused_by_run_and_read_by_validate(measured, tmp_path):
    template = measured[0]["template"]
    with pytest.raises(mapping.MappingError, match="not confirmed"):
        mapping.load(template)
    assert mapping.load(template, unconfirmed_ok=True).confirmed is False
    out = tmp_path / "never"
    done = subprocess.run([sys.executable, "-m", "compendium", "run", "--only", "01", "--data",
                           str(measured[0]["path"]), "--mapping", str(template), "--out", str(out)],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert done.returncode == 2 and "not confirmed" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("style", STYLES)
def test_run_01_with_the_confirmed_template_gives_the_same_analysis_dataset(measured, style, tmp_path):
    m = next(m for m in measured if m["style"] == style and "vgpr_first_date" in m["export"].columns
             and m["path"].suffix == (".xlsx" if style == "italian" else ".csv"))
    done = subprocess.run([sys.executable, "-m", "compendium", "run", "--only", "01", "--no-progress", "--data",
                           str(m["path"]), "--mapping", str(m["confirmed"]), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    ours = (tmp_path / "run" / "data" / "derived" / "analysis.csv").read_bytes()
    assert ours == (paths.ROOT / "data" / "derived" / "analysis.csv").read_bytes()


# --- the parts, on hand-made values ----------------------------------------------------------------

@pytest.mark.parametrize("variable, label, code", [
    ("sex", "Maschio", "M"), ("sex", "Femmina", "F"), ("sex", "female", "F"),
    ("best_response", "RC", "CR"), ("best_response", "RP", "PR"), ("best_response", "MBRP", "VGPR"),
    ("best_response", "VGPR", "VGPR"), ("best_response", "RCs", "sCR"), ("best_response", "Stable disease", "SD"),
    ("isotype", "IgG kappa", "IgG"), ("isotype", "IgA lambda", "IgA"), ("isotype", "Micromolecolare kappa", "BJ"),
    ("emd_relapse", "Sì", "1"), ("emd_relapse", "No", "0"), ("emd_relapse", "SI", "1"),
    ("dara_route_start", "endovena", "IV"), ("dara_route_start", "sc", "SC"),
    ("dex_start_group", "80 mg/settimana", "80"), ("dex_start_group", "dose piena", "full"),
    ("iss_dx", "2", "II"), ("riss_dx", "Stage III", "III"), ("chr1_dx", "gain(1q)", "gain1q"),
    ("daravd_end_reason", "tossicità", "toxicity"), ("death_cause", "evento avverso", "adverse_event"),
])
def test_codes_proposed_for_labels(variable, label, code, dictionary):
    spec = dictionary.set_index("name").loc[variable]
    allowed = ["0", "1"] if spec["type"] == "flag" else spec["allowed"].split("|")
    assert mapping_propose.propose_code(label, variable, allowed, mapping_propose.load_aliases())[0] == code


def test_no_code_is_invented(dictionary):
    aliases = mapping_propose.load_aliases()
    assert mapping_propose.propose_code("VRd", "first_line_class", ["bortezomib", "lenalidomide", "carfilzomib"],
                                        aliases)[0] == ""  # two backbones: the centre decides
    assert mapping_propose.propose_code("infezione", "death_cause", ["myeloma", "adverse_event", "other", "unknown"],
                                        aliases)[0] == ""


def _dates(values):
    return mapping_dates.date_proposals({f"d{i}": mapping_propose.profile(pd.Series(v), mapping_propose.load_aliases())
                                            for i, v in enumerate(values)})


def test_date_format_by_values_above_12():
    found = _dates([["13/01/2020", "02/03/2021"], ["01/13/2020", "03/02/2021"], ["2020-01-13"], ["43845", "44000"],
                    ["13-Jan-2020"]])
    assert [d.format for d in found.values()] == ["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "excel", "%d-%b-%Y"]
    assert "1 with a day above 12" in found["d0"].evidence


def test_ambiguous_date_column_follows_the_others():
    found = _dates([["13/01/2020"], ["25/12/2019", "14/02/2021"], ["01/02/2020", "03/04/2021"]])
    assert found["d2"].format == "%d/%m/%Y" and found["d2"].evidence.startswith("ambiguous")
    us = _dates([["01/13/2020"], ["01/02/2020"]])
    assert us["d1"].format == "%m/%d/%Y"


def test_excel_serial_numbers_are_read_as_dates(tmp_path, dictionary):
    m = mapping.Mapping(tmp_path / "m.toml", {}, date_columns={"birth_date": "excel"})
    frame = pd.read_csv(paths.SYNTHETIC_COHORT, dtype=str, keep_default_na=False).head(3)
    serial = (pd.to_datetime(frame["birth_date"]) - pd.Timestamp("1899-12-30")).dt.days.astype(str)
    out = m.apply(frame.assign(birth_date=serial), "x.csv", dictionary)
    assert list(out["birth_date"]) == list(frame["birth_date"])
    with pytest.raises(mapping.MappingError, match="Excel's serial day numbers"):
        m.apply(frame.assign(birth_date=["02/07/1937"] * 3), "x.csv", dictionary)


# --- reading an export whose header is foreign -----------------------------------------------------

def test_any_header_is_read_for_the_template(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("ID paziente,Sesso,Neuropatia periferica (grado CTCAE)\nP1,Maschio,0\nP2,Femmina,2\n",
                    encoding="utf-8")
    frame = inputs.read_table(path, None).frame
    assert list(frame.columns) == ["ID paziente", "Sesso", "Neuropatia periferica (grado CTCAE)"]


@pytest.mark.parametrize("text, message", [
    ("ID paziente;Sesso;Creatinina\nP1;Maschio;0,91\nP2;Femmina;1,2\n", "separates its fields with semicolons"),
    ("Export e-CRF\nID paziente,Sesso,Creatinina\nP1,Maschio,0.9\n", "the header is not on the first row"),
    ("P1,12/01/2020,0.9\nP2,13/01/2020,1.2\n", "the first row holds values, not column names"),
])
def test_a_first_row_that_is_no_header_is_refused(tmp_path, text, message):
    path = tmp_path / "e.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(inputs.InputFileError, match=message):
        mapping.write_template(path, tmp_path / "m.toml")
    assert not (tmp_path / "m.toml").exists()


def test_alias_file_names_dictionary_variables_and_codes(dictionary):
    aliases = mapping_propose.load_aliases()
    spec = dictionary.set_index("name")
    assert set(aliases.names) == set(dictionary["name"])  # every variable has its aliases, no stray ones
    for var, vocab in aliases.vocabulary.items():
        assert set(aliases.labels[vocab].values()) <= set(spec.loc[var, "allowed"].split("|")), var
    assert set(aliases.labels["flag"].values()) == {"0", "1"}


def test_headers_with_quotes_line_breaks_and_comment_signs_survive_the_template(cohort, dictionary, tmp_path):
    export = relabel(cohort, dictionary, "italian", None)
    nasty = {"patient_id": 'ID "paziente"', "center": "Centro # sede", "sex": "Sesso\n(M/F)",
             "isotype": "Isotipo = CM \\ tipo", "creatinine_mg_dl": "Creatinina\t(mg/dL) \x7f"}
    export.frame = export.frame.rename(columns={export.columns[v]: h for v, h in nasty.items()})
    export.columns.update(nasty)
    path = tmp_path / "export.csv"
    export.frame.to_csv(path, index=False)
    doc = tomllib.loads(mapping.write_template(path, tmp_path / "m.toml").read_text(encoding="utf-8"))
    assert {v: doc["columns"][v] for v in nasty} == {v: h.strip() for v, h in nasty.items()}
    assert doc["values"]["sex"] == {"Maschio": "M", "Femmina": "F"}


def test_a_column_is_proposed_by_its_values_alone_and_marked_check(dictionary, tmp_path):
    path = tmp_path / "e.csv"
    pd.DataFrame({"Colonna 7": ["EV", "SC", "EV"] * 5, "Colonna 8": ["Maschio", "Femmina", "Maschio"] * 5,
                  "Colonna 9": ["1", "2", "3"] * 5}).to_csv(path, index=False)
    text = mapping.write_template(path, tmp_path / "m.toml").read_text(encoding="utf-8")
    assert 'dara_route_start = "Colonna 7"   # CHECK 0.50: by its values only' in text
    assert 'sex = "Colonna 8"   # CHECK 0.50: by its values only' in text
    assert "Colonna 9" not in tomllib.loads(text)["columns"].values()  # 1, 2, 3: no variable by values alone


def test_a_broken_alias_file_is_named(tmp_path):
    bad = tmp_path / "aliases.toml"
    bad.write_text("[columns.sex\nit = [\"sesso\"]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="aliases.toml: not valid TOML"):
        mapping_propose.load_aliases(bad)
    twice = tmp_path / "twice.toml"
    twice.write_text('[labels.sex]\nM = ["uomo"]\nF = ["uomo"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="gives 'uomo' two codes"):
        mapping_propose.load_aliases(twice)

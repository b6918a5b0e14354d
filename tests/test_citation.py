"""Citation and archive metadata: LICENSE, CITATION.cff and .zenodo.json agree with each other and with
pyproject.toml, and CITATION.cff follows the Citation File Format 1.2.0.

The schema is the format's own (tests/schemas/cff-1.2.0.schema.json: `schema.json` of
github.com/citation-file-format/citation-file-format at tag 1.2.0, commit 396f738f, CC BY 4.0), read
with a YAML loader that keeps dates as text, as the format's own schema tests do (the schema wants
strings where YAML would build a date).
"""

import copy
import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

import compendium
from compendium import paths
from compendium.data import fetch

ROOT = paths.ROOT
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "cff-1.2.0.schema.json").read_text())
DATA_DOI = "10.5281/zenodo.16091434"  # the paper's data availability section
# DataCite relation types Zenodo accepts in related_identifiers (Zenodo REST API, deposition metadata)
RELATIONS = {"isCitedBy", "cites", "isSupplementTo", "isSupplementedBy", "references", "isReferencedBy",
             "isDerivedFrom", "isSourceOf", "requires", "isRequiredBy", "isDocumentedBy", "documents",
             "isPartOf", "hasPart", "isNewVersionOf", "isPreviousVersionOf", "isIdenticalTo",
             "isAlternateIdentifier", "describes", "isDescribedBy"}


class _TextDates(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: `2025-01-01` stays the string the schema wants."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _cff() -> dict:
    return yaml.load((ROOT / "CITATION.cff").read_text(encoding="utf-8"), Loader=_TextDates)


def _zenodo() -> dict:
    return json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _errors(instance) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in validator.iter_errors(instance)]


def test_citation_cff_follows_the_cff_1_2_0_schema():
    assert SCHEMA["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    cff = _cff()
    assert cff["cff-version"] == "1.2.0"
    assert _errors(cff) == []


@pytest.mark.parametrize("break_it", [
    lambda c: c.pop("authors"),
    lambda c: c.pop("message"),
    lambda c: c.update({"cff-version": "1.1.0"}),
    lambda c: c["references"][1].update({"doi": "zenodo.16091434"}),
    lambda c: c.update({"license": "MIT License"}),
    lambda c: c.update({"sponsor": "not a CFF key"}),
], ids=["no authors", "no message", "old version", "malformed doi", "not an SPDX id", "unknown key"])
def test_the_schema_check_refuses_a_broken_citation_file(break_it):
    cff = copy.deepcopy(_cff())
    break_it(cff)
    assert _errors(cff), "a check that accepts this accepts anything"


def test_license_is_mit_as_pyproject_says():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert re.search(r"^Copyright \(c\) \d{4} the daravd-compendium contributors$", text, re.M)
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text
    assert _project()["license"] == {"text": "MIT"}
    assert _cff()["license"] == _zenodo()["license"] == "MIT"


def test_title_version_and_license_agree_across_the_three_files():
    project, cff, zenodo = _project(), _cff(), _zenodo()
    title = f"{project['name']}: {project['description']}"
    assert cff["title"] == zenodo["title"] == title
    assert cff["version"] == zenodo["version"] == project["version"] == compendium.__version__
    assert cff["type"] == zenodo["upload_type"] == "software"


def test_the_paper_and_the_data_are_referenced():
    cff, zenodo = _cff(), _zenodo()
    kinds = {r["type"]: r for r in cff["references"]}
    paper, data = kinds["article"], kinds["data"]
    assert paper["journal"] == "Annals of Hematology" and paper["year"] == 2025
    assert paper["authors"][0]["family-names"] == "Rizzello"
    assert data["doi"] == DATA_DOI
    # every DOI CITATION.cff gives is a related identifier of the deposit, with a relation Zenodo knows
    dois = {r["doi"] for r in cff["references"] if "doi" in r}
    related = {r["identifier"]: r for r in zenodo["related_identifiers"]}
    assert dois <= set(related)
    assert all(r["scheme"] == "doi" and r["relation"] in RELATIONS for r in related.values())
    assert related[DATA_DOI]["resource_type"] == "dataset"
    # the paper, which has no DOI here, is cited in full among the deposit's references
    assert any(paper["title"] in ref and "Annals of Hematology" in ref for ref in zenodo["references"])
    assert DATA_DOI in (ROOT / "site" / "references.bib").read_text()
    assert DATA_DOI == f"10.5281/zenodo.{fetch.DEFAULT_RECORD}", "`fetch` downloads the deposit cited here"


def test_zenodo_metadata_has_what_a_deposit_needs():
    zenodo = _zenodo()
    assert {"title", "upload_type", "description", "creators", "license", "version", "access_right"} <= set(zenodo)
    assert zenodo["access_right"] == "open"
    assert all(c["name"] for c in zenodo["creators"])
    assert zenodo["keywords"] == _cff()["keywords"]


def test_readme_says_how_to_cite():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How to cite", 1)[1].split("\n## ", 1)[0]
    assert "CITATION.cff" in section and DATA_DOI in section and "Annals of Hematology" in section

"""pyproject.toml, environment.yml and requirements.lock name the same packages."""

import re
import tomllib

from compendium import paths


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> set[str]:
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    return {_norm(re.split(r"[<>=!\[ ;]", n)[0]) for n in names}


def _conda() -> set[str]:
    names = set()
    text = (paths.ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)\s*(?:[=<>].*)?$", line)
        if m and m.group(1) not in ("python", "pip"):
            names.add(_norm(m.group(1)))
    return names


def test_conda_and_pip_list_the_same_packages():
    assert _conda() == _pyproject()


def test_every_dependency_is_pinned_in_the_lock():
    pinned = {_norm(line.split("==")[0]) for line in (paths.ROOT / "requirements.lock").read_text().splitlines()
              if "==" in line}
    assert _pyproject() <= pinned

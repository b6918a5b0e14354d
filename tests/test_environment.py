"""One set of dependencies, pinned once: pyproject.toml, requirements.lock, environment.yml, .binder/.

- pyproject.toml declares exactly what the code imports (plus two packages used without an
  import, each with its reason);
- requirements.lock pins every declared package;
- environment.yml and .binder/environment.yml carry the lock's versions, package for package;
- .binder/postBuild installs the package and registers the kernel the notebooks name.
"""

import ast
import json
import re
import sys
import tomllib
from importlib import metadata

from compendium.run import environment
from compendium import paths

#: declared, but used without an import statement
USED_WITHOUT_IMPORT = {
    "openpyxl": "pandas' engine for XLSX input (loading.py names it)",
    "jupyterlab": "the interface the notebooks are opened and edited in",
}
#: test extra used without an import
TEST_PLUGINS = {"nbval": "pytest plugin named in pyproject's addopts"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _norm(re.split(r"[<>=!\[ ;]", spec)[0])


def _project() -> dict:
    return tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]


def _declared(group: str | None = None) -> set[str]:
    project = _project()
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {_requirement_name(s) for s in specs}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (paths.ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.strip().split("==")
            pins[_norm(name)] = version
    return pins


def _conda_pins(path) -> dict[str, str]:
    text = path.read_text()
    pins = {}
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.-]+)==(\S+)$", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def _third_party_imports(files) -> set[str]:
    """Distributions providing the top-level modules these files import (stdlib and ours left out)."""
    modules = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    local = {f.stem for file in files for f in file.parent.glob("*.py")}  # helpers beside the files
    modules -= set(sys.stdlib_module_names) | local | {"compendium", "__future__"}
    providers = metadata.packages_distributions()
    unknown = sorted(m for m in modules if m not in providers)
    assert not unknown, f"imported but not installed: {unknown}"
    return {_norm(providers[m][0]) for m in modules}


def test_declared_dependencies_are_exactly_what_the_code_imports():
    code = sorted((paths.ROOT / "compendium").rglob("*.py")) + sorted(paths.NOTEBOOKS.glob("*.py"))
    imported = _third_party_imports(code)
    assert _declared() == imported | set(USED_WITHOUT_IMPORT)
    assert not imported & set(USED_WITHOUT_IMPORT), "an exception that is imported needs no exception"


def test_the_test_extra_is_what_the_tests_import_beyond_the_package():
    imported = _third_party_imports(sorted((paths.ROOT / "tests").glob("*.py")))
    assert imported - _declared() - _declared("site") == _declared("test") - set(TEST_PLUGINS)
    addopts = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "--nbval" in addopts.split()


def test_the_site_extra_is_what_the_site_configuration_loads():
    conf = (paths.ROOT / "site" / "conf.py").read_text()
    extensions = set(ast.literal_eval(re.search(r"^extensions = (\[.*\])$", conf, re.M).group(1)))
    theme = re.search(r'^html_theme = "(\w+)"$', conf, re.M).group(1)
    modules = {e.split(".")[0] for e in extensions - {"site_tables"}} | {theme, "sphinx"}
    providers = metadata.packages_distributions()
    needed = {_norm(providers[m][0]) for m in modules if m != "sphinxcontrib"}
    needed |= {_norm(e.replace(".", "-")) for e in extensions if e.startswith("sphinxcontrib.")}
    needed |= _third_party_imports(sorted((paths.ROOT / "site").glob("*.py")))  # the local extension
    needed |= {"weasyprint"}  # the site as one PDF: compendium/report/pdf.py runs `python -m weasyprint`
    assert _declared("site") == needed


def test_every_declared_dependency_is_pinned_in_the_lock():
    declared = _declared() | _declared("test") | _declared("site")
    assert declared <= set(_lock()), sorted(declared - set(_lock()))


def test_environment_yml_pins_the_locked_versions():
    lock = _lock()
    for path in environment.TARGETS:
        assert _conda_pins(path) == lock, f"{paths.relative(path)} differs from requirements.lock: run `make lock`"
        assert path.read_text() == environment.render((paths.ROOT / "requirements.lock").read_text())
    python = re.search(r"- python=(\S+)", (paths.ROOT / "environment.yml").read_text()).group(1)
    assert _project()["requires-python"] == f">={python}"


def test_the_environment_file_renders_pins_and_nothing_else():
    text = environment.render("# comment\nb-pkg==2.0\nA_pkg==1.0\n\n", python="3.12")
    assert "  - python=3.12" in text and "-e ." not in text
    assert text.index("A_pkg==1.0") < text.index("b-pkg==2.0")
    assert _conda_pins_from(text) == {"a-pkg": "1.0", "b-pkg": "2.0"}


def _conda_pins_from(text: str) -> dict[str, str]:
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "environment.yml"
        file.write_text(text)
        return _conda_pins(file)


def test_binder_installs_the_package_and_registers_the_notebooks_kernel():
    post = paths.ROOT / ".binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    script = post.read_text()
    assert re.search(r"pip install --no-deps -e \.", script)
    kernels = {json.loads(nb.read_text())["metadata"]["kernelspec"]["name"] for nb in paths.NOTEBOOKS.glob("*.ipynb")}
    assert kernels == {"daravd"}
    assert "ipykernel install --user --name daravd" in script

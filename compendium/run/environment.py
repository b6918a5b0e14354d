"""environment.yml (and Binder's copy) generated from requirements.lock: one source of versions.

``make lock`` pins every installed package in requirements.lock and then runs
``python -m compendium.run.environment``, which writes the conda environment with the same pins
(installed by pip inside conda, so that names and versions are PyPI's, exactly as locked).
The package itself is installed by .binder/postBuild, which also registers the ``daravd``
kernel the notebooks name; an editable install cannot be part of an environment file, because
repo2docker builds the environment before it copies the repository.
"""

from __future__ import annotations

from compendium import paths

PYTHON = "3.11"  # what CI uses; pyproject.toml requires >= 3.11
TARGETS = [paths.ROOT / "environment.yml", paths.ROOT / ".binder" / "environment.yml"]


def render(lock_text: str, python: str = PYTHON) -> str:
    pins = sorted((line.strip() for line in lock_text.splitlines() if "==" in line and not line.startswith("#")),
                  key=str.lower)
    lines = ["# Generated from requirements.lock by `make lock` (python -m compendium.run.environment): do not edit.",
             "# The conda environment for Binder and conda users, with exactly the locked versions.",
             "name: daravd-compendium", "channels:", "  - conda-forge", "dependencies:",
             f"  - python={python}", "  - pip", "  - pip:"]
    lines += [f"      - {pin}" for pin in pins]
    return "\n".join(lines) + "\n"


def main() -> None:
    text = render((paths.ROOT / "requirements.lock").read_text())
    for target in TARGETS:
        paths.atomic_write_text(target, text)
        print(f"wrote {paths.relative(target)}")


if __name__ == "__main__":
    main()

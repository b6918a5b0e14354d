# The README's two commands: `make all` (build everything) and `make test` (prove it).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all test install run synthetic site lock clean

all: install
	$(BIN)/python -m compendium run

test: install
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name daravd --display-name "DaraVd compendium" >/dev/null
	touch $(STAMP)

# Regenerate the committed synthetic cohort (byte-identical unless the generator changed).
synthetic: install
	$(BIN)/python -m compendium synthetic

# The executed notebooks as a static site in _site/ (git-ignored).
site: install
	$(BIN)/python -m compendium site

# Refresh the pinned versions after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | LC_ALL=C sort > requirements.lock

clean:
	rm -rf $(VENV)

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
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,site]'
	$(BIN)/python -m ipykernel install --sys-prefix --name daravd --display-name "DaraVd compendium" >/dev/null
	touch $(STAMP)

# Regenerate the committed synthetic cohort (byte-identical unless the generator changed).
synthetic: install
	$(BIN)/python -m compendium synthetic

# The canonical run's executed notebooks as a site in _site/ (git-ignored), built offline with
# Sphinx + MyST-NB + sphinx-book-theme; a user's run: `python -m compendium site --run DIR`.
site: install
	$(BIN)/python -m compendium site

# Refresh the pinned versions after changing dependencies in pyproject.toml: a fresh venv with
# exactly the declared packages (the benchmark's peers too, so that they are pinned; `make install` leaves them out) (earlier pins kept where still valid), frozen; environment.yml
# and .binder/environment.yml are generated from the lock.
lock: install
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,site,bench]'
	.lock-venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check | LC_ALL=C sort > requirements.lock
	rm -rf .lock-venv
	$(BIN)/python -m compendium.run.environment

clean:
	rm -rf $(VENV)

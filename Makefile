# The two commands: `make run` (the gateway on this machine) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install run test faults bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

run: install
	scripts/run.sh

test: install
	$(BIN)/python -m pytest

# The fault matrix (docs/faults.md): needs redis-server and PostgreSQL's server binaries, not their services.
faults: install
	$(BIN)/python -m tests.faults

bench: install
	$(BIN)/python -m bench.costs --db sqlite
	$(BIN)/python -m bench.costs --db postgresql
	$(BIN)/python -m bench.ingest --db sqlite
	$(BIN)/python -m bench.ingest --db postgresql
	$(BIN)/python -m bench.e2e --db sqlite
	$(BIN)/python -m bench.e2e --db postgresql
	$(BIN)/python -m bench.inbox --db sqlite
	$(BIN)/python -m bench.inbox --db postgresql

clean:
	rm -rf $(VENV) instance test-output *.egg-info

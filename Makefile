# The two commands: `make run` (the gateway on this machine) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test faults bench lock clean

install: $(VENV)/.installed

# The exact versions are those of requirements.lock (make lock); pyproject.toml keeps the ranges.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

run: install
	HOST=$(HOST) PORT=$(PORT) scripts/run.sh

test: install
	$(BIN)/python -m pytest

# The fault matrix (docs/faults.md): needs redis-server and PostgreSQL's server binaries, not their services.
faults: install
	$(BIN)/python -m tests.faults

# The benchmarks (bench/README.md): Redis and PostgreSQL as for make test, and wrk for bench.ingest.
bench: install
	scripts/bench.sh

# Resolve the dependencies again after a change to pyproject.toml, keeping the pins that still fit;
# `make lock LOCK_ARGS=--upgrade` takes the newest releases the ranges allow.
lock:
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip-tools
	$(BIN)/pip-compile --quiet --extra test --extra postgresql --strip-extras --no-emit-index-url \
	  --no-emit-find-links $(LOCK_ARGS) -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) instance test-output *.egg-info

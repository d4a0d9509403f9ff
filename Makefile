# Two commands on a fresh machine: `make run` and `make test`.  Everything they need is
# installed here, into .venv, from the package index.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup system-runtime system-all run cluster test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "CEU Ledger needs Python 3.11, got " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

setup: $(STAMP)

# The Debian packages of debian-packages.txt (PDF libraries for the service; Chromium and
# poppler for the tests), installed when missing: as root by apt-get, else a line naming them.
system-runtime:
	@scripts/system-setup runtime

system-all:
	@scripts/system-setup all

run: setup system-runtime
	$(BIN)/ceu-ledger serve --demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# SPEC 8 fail-over on this machine: etcd, two Patroni nodes (a primary and a synchronous
# standby of the wheel's PostgreSQL 18) and `ceu-ledger serve --demo` against both; it prints
# the addresses; Ctrl-C (or SIGTERM) stops all.  CLUSTER_DIR=path keeps the cluster there.
CLUSTER_DIR ?=
cluster: setup system-all
	$(BIN)/python -m ledger.infra.cluster $(if $(CLUSTER_DIR),--dir $(CLUSTER_DIR)) --demo

# One worker per core, at most 4: each starts its own embedded PostgreSQL (docs/testing.md).
test: lint system-all
	$(BIN)/pytest -n auto --maxprocesses 4

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every row of SPEC 10 (bench/spec10.py): the service as `make run` starts it on the lived-in
# ledger of 1,000,000 events (built by COPY on first use and kept in ~/.cache/ceu-ledger),
# against the bare app, driven by wrk (debian-packages.txt, installed by system-setup).
# ROWS=post,status,roster,hot,rebuild,verify,append picks rows; ROUNDS=n, WRK_SECONDS=s a wrk run.
# BENCH_ARGS='--profile 10' adds py-spy profiles of the API process (py-spy: the dev extras).
# bench.gap measures the causes of the old benches' gap apart (docs/performance.md).
# The eventsourcing library (the append row's comparison) goes into bench/.venv-es, never .venv.
ROWS    ?=
ROUNDS  ?= 3
WRK_SECONDS ?= 8
BENCH_ARGS ?=
bench: setup system-all
	$(BIN)/python -m bench.spec10 --rounds $(ROUNDS) --seconds $(WRK_SECONDS) $(if $(ROWS),--rows $(ROWS)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

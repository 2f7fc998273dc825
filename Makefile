# One command to set up and open the course, one to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
# Stamps: torch, then the learner's install (.[lab]), then the test tools (.[dev]).
TORCH_STAMP := $(VENV)/.installed-torch
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup setup-test lab test lint unit notebooks browser sync lock bench mutation clean

# The learner's install: the package, JupyterLab, jupytext, the Triton interpreter.
setup: $(LAB_STAMP)
# The learner's install plus the test tools (pytest, nbval, ruff, hypothesis, playwright).
setup-test: $(TEST_STAMP)

# scripts/install_torch.py picks the build (CUDA with an NVIDIA driver, else CPU) and says
# in one line which build it installed and why.
$(TORCH_STAMP): scripts/install_torch.py constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python scripts/install_torch.py --version $(TORCH_VERSION) --constraints constraints.txt
	@touch $@

# The venv is updated when the pins or the package metadata change.
$(LAB_STAMP): $(TORCH_STAMP) pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e ".[lab]"
	@touch $@

$(TEST_STAMP): $(LAB_STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

# --allow-root only when run as root (containers, Binder-like boxes).
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

# The notebooks' kernel is "python3" of this venv: JUPYTER_PREFER_ENV_PATH makes the venv's
# kernels and configuration win over any user-level ones, so nothing outside the clone counts.
lab: setup
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --no-browser --ip=$(LAB_IP) --port=$(LAB_PORT) \
	  --notebook-dir=. --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

# The README's test command. pytest's exit code 5 (nothing collected) is a setup failure.
test: setup-test lint
	$(BIN)/python -m course_lib.notebook_sync --check
	@set -o pipefail; COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest \
	  --nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the set-up is broken" >&2; exit 1; fi; exit $$rc

lint: setup-test
	$(BIN)/ruff check course_lib tests benchmarks notebooks solutions scripts
	$(BIN)/ruff format --check course_lib tests benchmarks notebooks solutions scripts

unit: setup-test
	COURSE_FAST=1 $(BIN)/python -m pytest tests -m "not browser" $(PYTEST_ARGS)

notebooks: setup-test
	COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env notebooks solutions $(PYTEST_ARGS)

browser: setup-test
	COURSE_FAST=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# Regenerate each .ipynb from its .py twin (the .py is the source) with outputs stripped.
sync: setup
	$(BIN)/python -m course_lib.notebook_sync

lock: setup-test
	$(BIN)/pip freeze --exclude-editable | sed 's/+cpu//' \
	  | (echo "# Exact versions for every install of the course (make setup, CI, environment.yml)."; \
	     echo "# Regenerate with: make lock"; cat) > constraints.txt

# Every benchmark prints JSON lines; GPU parts run only where CUDA is present.
bench: setup-test
	@set -e; for script in benchmarks/*.py; do echo "# $$script"; $(BIN)/python $$script; done

# Mutation testing of the formula modules (slow; not part of make test). MODULE=randomwalk/genfun.py
# runs one module; MUTATION_JOBS sets the parallel workers (default: the CPU count).
MODULE ?=
MUTATION_JOBS ?=
mutation: setup-test
	$(BIN)/python scripts/mutation.py $(if $(MODULE),--module $(MODULE)) \
	  $(if $(MUTATION_JOBS),--max-children $(MUTATION_JOBS))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .course_cache

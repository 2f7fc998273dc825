# One command to set up and open the course, one to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
# Where the CPU build of PyTorch lives (used only when no CUDA driver is found).
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
KERNEL_NAME ?= course
LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
STAMP := $(VENV)/.installed

.PHONY: setup lab test lint unit notebooks browser sync lock bench clean

setup: $(STAMP)

# The venv is rebuilt when the pins or the package metadata change.
$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
	  echo "CUDA driver found: installing the default (CUDA) build of torch $(TORCH_VERSION)"; \
	  $(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"; \
	else \
	  echo "No CUDA driver: installing the CPU build of torch $(TORCH_VERSION)"; \
	  $(BIN)/pip install --quiet --timeout 20 --retries 0 -c constraints.txt "torch==$(TORCH_VERSION)" --index-url $(TORCH_CPU_INDEX) \
	  || $(BIN)/pip install --quiet -c constraints.txt "torch==$(TORCH_VERSION)"; \
	fi
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --user --name $(KERNEL_NAME) --display-name "Python (course)" >/dev/null
	@touch $(STAMP)

# --allow-root only when run as root (containers, Binder-like boxes).
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup
	$(BIN)/jupyter lab --no-browser --ip=$(LAB_IP) --port=$(LAB_PORT) --notebook-dir=. \
	  --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

# The README's test command. pytest's exit code 5 (nothing collected) is a setup failure.
test: setup lint
	$(BIN)/python -m course_lib.notebook_sync --check
	@set -o pipefail; COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest \
	  --nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the set-up is broken" >&2; exit 1; fi; exit $$rc

lint: setup
	$(BIN)/ruff check course_lib tests benchmarks notebooks solutions
	$(BIN)/ruff format --check course_lib tests benchmarks notebooks solutions

unit: setup
	COURSE_FAST=1 $(BIN)/python -m pytest tests -m "not browser" $(PYTEST_ARGS)

notebooks: setup
	COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax --nbval-current-env notebooks solutions $(PYTEST_ARGS)

browser: setup
	COURSE_FAST=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# Regenerate each .ipynb from its .py twin (the .py is the source) with outputs stripped.
sync: setup
	$(BIN)/python -m course_lib.notebook_sync

lock: setup
	$(BIN)/pip freeze --exclude-editable | sed 's/+cpu//' \
	  | (echo "# Exact versions for every install of the course (make setup, CI, environment.yml)."; \
	     echo "# Regenerate with: make lock"; cat) > constraints.txt

# Every benchmark prints JSON lines; GPU parts run only where CUDA is present.
bench: setup
	@set -e; for script in benchmarks/*.py; do echo "# $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .course_cache

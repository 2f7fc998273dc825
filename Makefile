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

.PHONY: setup setup-test lab test lint unit notebooks browser sync lock bench mutation clean site slides warm

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
# jupyterlab-rise pulls in jupyterlab-mathjax3, a JupyterLab 3 extension whose MathJax 3 is
# built into JupyterLab 4: it is switched off in this venv so only the built-in one loads.
# RISE's default reveal theme ("simple") loads web fonts from Google; the course's settings
# (scripts/lab_overrides.json, JupyterLab's overrides for this venv) pick "white", whose
# fonts ship with RISE, so live slides work offline.
$(LAB_STAMP): $(TORCH_STAMP) pyproject.toml constraints.txt scripts/lab_overrides.json
	$(BIN)/pip install --quiet -c constraints.txt -e ".[lab]"
	@$(BIN)/jupyter labextension disable --level=sys_prefix @jupyterlab/mathjax3-extension >/dev/null 2>&1
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp scripts/lab_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
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
# runs one module; MUTATION_JOBS sets the parallel workers (default: the CPU count); RESUME=1
# keeps the earlier run and re-tests only its survivors (after adding tests).
MODULE ?=
MUTATION_JOBS ?=
RESUME ?=
mutation: setup-test
	$(BIN)/python scripts/mutation.py $(if $(MODULE),--module $(MODULE)) \
	  $(if $(MUTATION_JOBS),--max-children $(MUTATION_JOBS)) $(if $(filter 1,$(RESUME)),--resume)

# The executed website (chapter pages, worked solutions, slides, index) in build/site: fast
# sizes by default, FULL=1 for full sizes; ONLY="01 04a" limits it to some notebooks.
# Opens offline: MathJax 3 and reveal.js from npm (pinned, sha512-checked, fetched once).
PUBLISH_ARGS = $(if $(filter 1,$(FULL)),--full) $(if $(ONLY),--only $(ONLY))
site: setup
	$(BIN)/python -m course_lib.publish site $(PUBLISH_ARGS)

# Static reveal.js slides of every notebook, executed in lecture mode (one line per check).
slides: setup
	$(BIN)/python -m course_lib.publish slides $(PUBLISH_ARGS)

# Before a lecture: run every notebook once in this machine's mode so caches are warm
# (Chapter 05 trains its toy models once and caches them in .course_cache/).
warm: setup
	$(BIN)/python -m course_lib.publish warm $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .course_cache build

# Segment Studio developer tasks. Run `make help` for the list.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.stamp
REQS   := $(wildcard requirements*.txt)

# Where `make run` keeps numba's JIT cache (persists across runs, outside the repo).
RUN_NUMBA_CACHE := $(HOME)/.cache/segment-studio/numba
RUN_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 NUMBA_CACHE_DIR="$(RUN_NUMBA_CACHE)"

# Tests: repo-local caches and a throwaway workspace that is wiped before every run.
TEST_NUMBA_CACHE := $(CURDIR)/.cache/numba
TEST_WORKSPACE   := $(CURDIR)/.cache/test-workspace
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 NUMBA_CACHE_DIR="$(TEST_NUMBA_CACHE)" \
	SEGMENT_STUDIO_HOME="$(TEST_WORKSPACE)" PYTHONHASHSEED=0
# make itself exits 2 when any recipe fails; .ci/run reads pytest's own exit status from here.
PYTEST_RC := $(CURDIR)/.cache/pytest.rc
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-m 'not e2e' -x"`.
PYTEST_ARGS ?=

.PHONY: help setup run test chromium lint bench demo-data clean

help:
	@echo "make setup      create .venv and install requirements-dev.txt (skipped when up to date)"
	@echo "make run        start the app on http://localhost:8501"
	@echo "make test       run the test suite (installs Debian chromium for e2e tests if missing)"
	@echo "make lint       ruff check ."
	@echo "make bench      how to run the benchmarks"
	@echo "make demo-data  regenerate the demo data set in assets/"

setup: $(STAMP) $(WARM_STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when a requirements file is newer than the stamp.
# The tests need everything (browser driver, Ray for the scale-out scoring tests);
# the app itself needs only requirements.txt.
$(STAMP): $(REQS) | $(VPY)
	$(VPY) -m pip install -r requirements-dev.txt
	touch $@

APP_STAMP := $(VENV)/.app-stamp
$(APP_STAMP): requirements.txt | $(VPY)
	$(VPY) -m pip install -r requirements.txt
	touch $@

# Once per machine after installing, and again when the packages, the warm-up or the demo data change: the
# model's export, the embedding calibration, UMAP's compiled code and the demo's embeddings, so the first demo
# run does not wait for them (never fails the install).
WARM_STAMP := $(VENV)/.warm-stamp
$(WARM_STAMP): requirements.txt segmentation/warmup.py assets/demo_customers.csv | $(VPY)
	mkdir -p "$(RUN_NUMBA_CACHE)"
	-$(RUN_ENV) $(VPY) -m segmentation.warmup
	touch $@

run: $(APP_STAMP) $(WARM_STAMP)
	mkdir -p "$(RUN_NUMBA_CACHE)"
	$(RUN_ENV) $(VENV)/bin/streamlit run app.py --server.port 8501 --server.address localhost

chromium:
	bash scripts/install_chromium.sh

test: setup chromium
	rm -rf "$(TEST_WORKSPACE)"
	mkdir -p "$(TEST_WORKSPACE)" "$(TEST_NUMBA_CACHE)"
	rm -f "$(PYTEST_RC)"
	$(TEST_ENV) $(VPY) -m pytest $(PYTEST_ARGS); rc=$$?; echo $$rc > "$(PYTEST_RC)"; exit $$rc

lint: setup
	$(VENV)/bin/ruff check .

bench:
	@echo "Benchmarks are not part of CI: run the scripts in bench/ by hand, e.g."
	@echo "  $(VPY) bench/<script>.py   (results go to bench/out/)"

demo-data: setup
	$(VPY) assets/make_demo_data.py

clean:
	rm -rf .cache .pytest_cache .ruff_cache

# Two commands: `make run` sets up and starts the hotline; `make test` sets up and runs
# the whole suite. Everything else here is a step of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOTLINE := $(BIN)/hotline
SYSTEM_TOOLS := debootstrap espeak-ng sox chromium
APT_PACKAGES := debootstrap espeak-ng sox chromium fonts-wqy-microhei
# the console's Chinese text in the browser test's screenshots
SYSTEM_FILES := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: run test setup system-deps settings secrets sandbox prompts unit integration lint bench clean

run: setup settings secrets sandbox
	$(HOTLINE) run

# The suite in parallel: integration tests mostly wait on real calls, so more workers than
# cores pays; each worker runs its own sandbox pair on its own ports. Tests marked
# `exclusive` load every core on purpose and run alone afterwards.
TEST_WORKERS ?= 3

test: setup sandbox prompts
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not exclusive"
	$(BIN)/pytest -m exclusive

setup: system-deps $(VENV)/.installed

system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	for file in $(SYSTEM_FILES); do test -e $$file || missing="$$missing $$file"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

settings:
	@test -f hotline.yaml || { cp hotline.example.yaml hotline.yaml; echo "created hotline.yaml from hotline.example.yaml"; }

secrets: $(VENV)/.installed
	@test -f var/secrets.yaml || $(HOTLINE) secrets init

sandbox: $(VENV)/.installed system-deps
	$(HOTLINE) sandbox install

# Built once here, not by every test worker at once (unchanged prompts are kept).
prompts: sandbox
	$(HOTLINE) prompts build

unit: setup
	$(BIN)/pytest -n $(TEST_WORKERS) tests/unit

integration: setup sandbox
	$(BIN)/pytest tests/integration

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup sandbox
	$(BIN)/python bench/agi_roundtrip.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache

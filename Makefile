# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# setuptools warns about every editable install in a checkout ("folders with the same
# name as your package"): expected here, and it reads like an error.
PIP    := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip

.PHONY: run test bench install bytecode clean

$(BIN)/python:
	@echo "atb-tui: creating the virtual environment in $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "atb-tui: installing atb-tui and its dependencies into $(VENV)"
	@echo "         (the first time takes 2-3 minutes and about 900 MB on disk; later runs skip this) ..."
	@$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	@$(PIP) install --quiet --disable-pip-version-check -e ".[test]"
	@$(MAKE) --no-print-directory bytecode
	@touch $(STAMP)
	@echo "atb-tui: installed."

install: $(STAMP)

# An editable install leaves our own modules uncompiled, and with PYTHONDONTWRITEBYTECODE
# set every start compiles them again (~0.1 s of a headless run): compile them once, as
# `pip install .` does. Stale files are only ever recompiled, never trusted.
bytecode:
	@$(BIN)/python -m compileall -q -j 0 atb_tui engine screens > /dev/null

run: $(STAMP) bytecode
	@$(BIN)/atb-tui

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(STAMP) bytecode
	@$(PIP) install --quiet --disable-pip-version-check -e ".[test,bench]"
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) build *.egg-info

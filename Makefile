# Two commands for a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# On the course's own machines these wheels lie on local disk; Colab and conda keep their own torch.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
STAMP  := $(VENV)/.installed

# Colab ships ipywidgets 7.7: the dashboard's tests also run against it, from a side folder.
WIDGETS7 := $(VENV)/ipywidgets7

.PHONY: lab test setup lint unit gpu-smoke notebooks check-notebooks widgets7 e2e clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PINS)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gancourse)" >/dev/null
	touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab notebooks/

# Byte-compile everything (a syntax error anywhere fails fast) and lint package, tests and notebooks.
lint: setup
	$(BIN)/python -m compileall -q gancourse tests benchmarks e2e
	$(BIN)/ruff check .

check-notebooks: setup
	$(BIN)/python -m gancourse.notebook_check notebooks/

unit: setup
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules gancourse --ignore=gancourse/__main__.py

# The one-command GPU check (benchmarks/gpu_check.py) run on the CPU with tiny models: the script itself works.
gpu-smoke: setup
	$(BIN)/python benchmarks/gpu_check.py --device cpu --smoke

notebooks: setup
	GANCOURSE_QUICK=1 GANCOURSE_OFFLINE=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks/

$(WIDGETS7)/.installed: $(STAMP)
	$(BIN)/python -m pip install --quiet --target $(WIDGETS7) --no-deps ipywidgets==7.7.1 ipython_genutils
	touch $@

widgets7: $(WIDGETS7)/.installed
	GANCOURSE_EXPECT_IPYWIDGETS=7 PYTHONPATH=$(WIDGETS7) $(BIN)/python -m pytest -q -p no:cacheprovider \
		-W "ignore::DeprecationWarning" tests/test_widgets.py

# JupyterLab in headless Chromium (Debian's package, driven by Playwright): every notebook run in the
# browser, the dashboard's slider / Train / Stop. Screenshots go to test-artifacts/e2e/.
CHROMIUM ?= /usr/bin/chromium
e2e: setup
	CHROMIUM=$(CHROMIUM) tools/ensure_chromium.sh
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -p no:cacheprovider e2e

test: lint check-notebooks unit gpu-smoke widgets7 notebooks e2e

clean-venv:
	rm -rf $(VENV)

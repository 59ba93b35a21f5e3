# make lab  : set up .venv (if missing or requirements changed) and open the course in JupyterLab
# make test : set up .venv the same way and run every test (pytest over tests/, nbval over notebooks/)
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.stamp

.PHONY: lab test export bench venv

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/00_tour.ipynb

test: $(STAMP)
	$(PY) -m pytest

export: $(STAMP)
	$(PY) -m course_lib._export

bench: $(STAMP)
	$(PY) benchmarks/run.py

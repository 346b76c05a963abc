# Thin wrappers over the command line tools. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

MODULE      ?= 01_foundations
SUBMISSIONS ?= workspace/submissions
OUT         ?= workspace/graded

.PHONY: demo test lab release publish grade bench clean

# torch first, pinned to the CPU build: any other torch requirement would pull the CUDA wheels.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# every module's demo cohort into one course folder; `make demo MODULE=02_transformer` regrades one
demo: $(STAMP)
	$(PY) -m autograde demo $(if $(filter command line,$(origin MODULE)),$(MODULE))

# lint, then the suite on two workers (each test file on one worker, so that a file's costly
# fixtures run once), slowest tests listed
test: $(STAMP)
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m pytest -n 2 --dist loadfile --durations=30

lab: $(STAMP)
	$(VENV)/bin/jupyter lab release/

release: $(STAMP)
	$(PY) -m autograde release $(MODULE)

# The student repository; OUT defaults to workspace/student-repo here (make publish OUT=../student-repo).
publish: OUT = workspace/student-repo
publish: $(STAMP)
	$(PY) -m autograde publish $(OUT)

grade: $(STAMP)
	$(PY) -m autograde grade $(MODULE) $(SUBMISSIONS) --out $(OUT)

bench: $(STAMP)
	$(PY) -m autograde bench

clean:
	rm -rf workspace

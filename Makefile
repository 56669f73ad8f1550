# Two entry points, both self-contained on a fresh machine:
#   make demo  - create .venv, install, run the main job on built-in sample inputs
#   make test  - create .venv, install, run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/steadymotion demo --out demo_output

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pose.py
	$(BIN)/python benchmarks/bench_drift.py
	$(BIN)/python benchmarks/bench_animate.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache

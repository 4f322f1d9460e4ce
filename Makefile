# The book's commands. Every target creates or reuses the virtual environment in .venv by itself.
#   make book       build the HTML book (warnings are errors) and print where it is
#   make test       the whole test suite, fast to slow
#   make test-portability  the notebooks again, under a second arithmetic configuration (CI runs it)
#   make test-install      book/setup.md's install without make, in a fresh copy (CI runs it)
#   make notebooks  re-execute every notebook in place, in a fresh kernel (for authors)
#   make lab        open JupyterLab on the book
#   make exercises  blank copies of the exercises for learners, in my_exercises/
#   make course     write an nbgrader course directory to $(COURSE_DIR)
#                   (PRIVATE=dir merges private tests; COURSE_ID=..., COURSE_OPTS="--due ...")
#   make student    a student's light install (notebooks' runtime and JupyterLab, no book tools)
#   make bench      run the benchmarks and print their tables
#   make clean      remove the build outputs (keeps .venv; `make distclean` removes it too)

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# The stamp records a successful install; it is rebuilt only when the dependency files change.
STAMP := $(VENV)/.installed
COURSE_DIR ?= _build/course
PRIVATE ?=
COURSE_ID ?=
COURSE_OPTS ?=
COURSE_ARGS := $(if $(PRIVATE),--private $(PRIVATE)) $(if $(COURSE_ID),--course-id $(COURSE_ID)) $(COURSE_OPTS)
# An extra package index for pip, e.g. the CPU-only torch wheels on Linux:
#   make student TORCH_INDEX=https://download.pytorch.org/whl/cpu
# (pip's own PIP_INDEX_URL / PIP_EXTRA_INDEX_URL environment variables pass through as well).
# Empty by default, so CI installs exactly as before.
TORCH_INDEX ?=
PIP_INDEX_ARGS := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
STUDENT_STAMP := $(VENV)/.installed-student
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test test-unit test-notebooks test-portability test-install test-site test-grading notebooks lab exercises course student bench lint clean distclean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: '$(PYTHON)' was not found. The book needs Python 3.11: install it" ; \
	  echo "       (e.g. 'apt-get install python3.11 python3.11-venv' or pyenv) or run 'make PYTHON=/path/to/python3.11'." ; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "error: '$(PYTHON)' is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); the book needs 3.11." ; \
	  echo "       Run 'make PYTHON=/path/to/python3.11'." ; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "error: could not create $(VENV): is the venv module installed (python3.11-venv)?"; exit 1; }
	@echo "Installing the book's dependencies into $(VENV) (pinned in constraints.txt)..."
	$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet $(PIP_INDEX_ARGS) -c constraints.txt -e '.[dev]' || { \
	  echo "error: installing the dependencies failed (see pip's message above)."; \
	  echo "       Check your network or proxy, then run 'make' again; 'make distclean' starts afresh."; exit 1; }
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The book is at file://$(abspath _build/html/index.html)"

test: test-unit test-notebooks test-site test-grading

test-unit: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks conftest.py
	$(PY) -m pytest tests/unit

# Two notebooks at a time, one per core; loadfile keeps the cells of a notebook on one worker.
NBVAL := $(PY) -m pytest -n 2 --dist loadfile --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
  --nbval-cell-timeout 600

test-notebooks: $(STAMP)
	$(NBVAL) $$($(PY) tools/toc_notebooks.py)

# A second arithmetic configuration that every x86-64 CPU from the last fifteen years supports
# (x86-64-v2): PyTorch's ATen kernels without vector extensions, MKL and oneDNN held to SSE4.2 and
# SSE4.1, OpenBLAS's Nehalem kernels, NumPy's own loops (exp, tanh, ...) at their SSE4.2 baseline.
# The stored outputs must hold under it as under the machine's own best kernels; see
# CONTRIBUTING.md, "Portable outputs". An OPENBLAS_CORETYPE already set for this machine is kept:
# some machines set it because OpenBLAS misdetects their CPU.
PORTABLE_ARITHMETIC := ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
  ONEDNN_MAX_CPU_ISA=SSE41 OPENBLAS_CORETYPE=$(or $(OPENBLAS_CORETYPE),Nehalem) \
  NPY_DISABLE_CPU_FEATURES=X86_V3,X86_V4,AVX512_ICL,AVX512_SPR

# Trained models are cached apart and afresh, so that they are trained under this arithmetic too.
test-portability: $(STAMP)
	rm -rf _build/cache-portability
	env $(PORTABLE_ARITHMETIC) $(PY) tools/arithmetic.py
	env $(PORTABLE_ARITHMETIC) RNNBOOK_CACHE=_build/cache-portability \
	  $(NBVAL) $$($(PY) tools/toc_notebooks.py)

test-install: $(STAMP)
	$(PY) -m pytest tests/install

test-site: book
	$(PY) -m pytest tests/site

test-grading: $(STAMP)
	$(PY) -m pytest tests/grading

notebooks: $(STAMP)
	$(PY) tools/run_notebooks.py $$($(PY) tools/toc_notebooks.py)

# JupyterLab and the exercises from whichever install is there: the full one, or else a
# student's light one (`make student`), which these targets must not turn into the full install.
ANY_STAMP := $(if $(wildcard $(STAMP)),$(STAMP),$(STUDENT_STAMP))

lab: $(ANY_STAMP)
	$(BIN)/jupyter lab

# Blank copies of every chapter's exercises in my_exercises/ (kept if they exist already).
exercises: $(ANY_STAMP)
	$(PY) -m rnnbook.exercise_copies

course: $(STAMP)
	$(PY) -m rnnbook.course $(COURSE_DIR) $(COURSE_ARGS)

# A student's install: the notebooks' runtime (numpy, torch, matplotlib, ...) and JupyterLab.
student: $(STUDENT_STAMP)
	@echo "Ready: run '$(BIN)/jupyter lab' and open chapters/ (see book/setup.md)."

$(STUDENT_STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: '$(PYTHON)' was not found: install Python 3.11 or run 'make student PYTHON=/path/to/python3.11'."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "error: could not create $(VENV): is the venv module installed (python3.11-venv)?"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet $(PIP_INDEX_ARGS) -c constraints.txt -e '.[student]' || { \
	  echo "error: installing the student dependencies failed (see pip's message above)."; exit 1; }
	touch $@

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks conftest.py

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

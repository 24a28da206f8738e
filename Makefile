# `make run` and `make test` bootstrap everything from a fresh clone: system
# libraries (Debian packages, installed only when missing), the .venv, then run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Shared libraries that OpenCV and MediaPipe load (present on most desktops).
APT_PACKAGES := libgl1 libglib2.0-0 libegl1
# Tests drive a real browser (Debian's chromium; Playwright never downloads one) and
# watch for network system calls with strace (tests/test_privacy.py).
TEST_APT_PACKAGES := chromium strace
# Rendering synthetic humans for the accuracy benchmark (Mesa, offscreen).
SYNTH_APT_PACKAGES := libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6

.PHONY: run test lint typecheck format bench bench-live accuracy sysdeps test-sysdeps synth install lock clean

run: install
	$(BIN)/posture dashboard

test: install test-sysdeps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

install: sysdeps $(STAMP)

sysdeps:
	@$(MAKE) --no-print-directory apt PKGS="$(APT_PACKAGES)"

test-sysdeps:
	@$(MAKE) --no-print-directory apt PKGS="$(TEST_APT_PACKAGES)"

apt:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

# constraints.txt pins every version installed (make lock regenerates it; README, Pinned versions).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip -c constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Re-pin after changing pyproject.toml or upgrading a package in .venv on purpose: installs
# what pyproject.toml asks for with the fewest changes (no constraints, so a new or raised
# requirement can move its pin), then rewrites constraints.txt from .venv. Then run make test.
lock:
	@test -x $(BIN)/pip || { echo "No $(VENV) yet: run make install first."; exit 1; }
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python tools/lock.py --write
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .

# mypy --strict on posture/ ([tool.mypy] in pyproject.toml); make test runs it too.
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python benchmarks/speed.py

# 500 damaged copies of real videos and photos through posture analyze, 2 at a time (about
# 5 min on 2 idle cores; docs/fuzzing.md). make test runs a 24-case slice, one of each kind (tests/test_fuzz.py).
.PHONY: fuzz
fuzz: install
	$(BIN)/python benchmarks/fuzz.py --cases 500 --jobs 2

# Live webcam speed: the frame callback in-process, then the dashboard in chromium with a
# fake 640x480 camera (needs chromium; take figures on an idle machine).
bench-live: install test-sysdeps
	$(BIN)/python benchmarks/live_speed.py

# pyrender 0.1.45 must come first, then PyOpenGL 3.1.7 without its pins, then a
# networkx that works on Python 3.11 (a naive resolve picks versions that break).
synth: install
	@$(MAKE) --no-print-directory apt PKGS="$(SYNTH_APT_PACKAGES)"
	$(BIN)/pip install -q pyrender==0.1.45
	$(BIN)/pip install -q --no-deps pyopengl==3.1.7
	$(BIN)/pip install -q -U networkx -c constraints.txt

# One accuracy table, every row naming its split (bodies some correction was fitted on vs
# held out, real data). Renders whatever is missing into /tmp/posture-bench first (stills,
# ROM videos, full-range videos, camera-height stills: over 1 h on 2 cores from an empty
# cache), then measures through the pipeline (~20 min) and prints the table and wall time.
accuracy: synth
	PYOPENGL_PLATFORM=egl $(BIN)/python benchmarks/accuracy.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

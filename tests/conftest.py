from __future__ import annotations

import copy
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """Validation data outside the repository: $POSTURE_SHARED_DATA or ../shared/data."""
    return Path(os.environ.get("POSTURE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"validation data not found at {d} (set POSTURE_SHARED_DATA)")
    return d


# -- the bundled sample clips, analysed once per run -------------------------------------
# Analysing rom_front.mp4 (26.6 s, 798 frames) takes ~10 s on 2 cores, and several test
# files only read its report. Each (clip, options) combination is analysed here once per
# run, and the pytest-xdist workers share that one result (``once_per_run``). Every test
# gets its own deep copy, so none can change what another reads. A test that must run
# another code path on purpose (the CLI under strace, --workers 2, the dashboard, the live
# protocol) keeps its own run and says why.

SAMPLES = REPO / "sample_videos"
ROM_FRONT = SAMPLES / "rom_front.mp4"
ROM_FULL_RANGE = SAMPLES / "rom_full_range.mp4"


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, compute: Callable[[], Any]):
    """``compute()`` (JSON-able) once per test run, however many xdist workers ask: the
    first to ask computes it under a file lock and leaves it as JSON beside the workers'
    temp folders (a fresh folder each run); the others wait for it and read it. Always
    through JSON, so a single-process run gives the same types."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return json.loads(json.dumps(compute()))
    root = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    path = root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not path.is_file():
            tmp = root / f"{name}.json.part"
            tmp.write_text(json.dumps(compute()))
            tmp.replace(path)
        return json.loads(path.read_text())


def _analysed(path: Path) -> dict:
    from posture.pipeline import analyze

    return analyze(path).to_dict()


def _sample_report(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> dict:
    if not clip.exists():
        pytest.skip(f"{clip.relative_to(REPO)} not present")
    return once_per_run(tmp_path_factory, f"report-{clip.stem}", lambda: _analysed(clip))


@pytest.fixture(scope="session")
def _rom_front_report_once(tmp_path_factory) -> dict:
    return _sample_report(tmp_path_factory, ROM_FRONT)


@pytest.fixture
def rom_front_report(_rom_front_report_once) -> dict:
    """sample_videos/rom_front.mp4, default options, the one-process path: the report dict."""
    return copy.deepcopy(_rom_front_report_once)


@pytest.fixture(scope="session")
def _rom_full_range_report_once(tmp_path_factory) -> dict:
    return _sample_report(tmp_path_factory, ROM_FULL_RANGE)


@pytest.fixture
def rom_full_range_report(_rom_full_range_report_once) -> dict:
    """sample_videos/rom_full_range.mp4, default options: the report dict."""
    return copy.deepcopy(_rom_full_range_report_once)


def _strace_problem() -> str | None:
    """Why the kernel's view of system calls cannot be had here, or None."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (make test installs it)"
    probe = subprocess.run([strace, "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.decode().strip()}"
    return None


def _seccomp_filter() -> list[str]:
    """``--seccomp-bpf`` where strace can use it: the kernel then stops the traced
    processes only at the network calls traced, not at every system call (the run takes
    ~20% less time; the trace is the same)."""
    probe = subprocess.run(
        ["strace", "-f", "--seccomp-bpf", "-e", "trace=network", "-o", os.devnull, "true"],
        capture_output=True,
    )
    return ["--seccomp-bpf"] if probe.returncode == 0 else []


def _cli_in_two_processes(clip: Path, folder: Path) -> dict:
    problem = _strace_problem()
    trace = folder / "trace.txt"
    cli = [sys.executable, "-m", "posture.cli", "analyze", str(clip),
           "--json", str(folder / "r.json"), "--workers", "2", "--quiet"]  # fmt: skip
    strace = ["strace", "-f", *_seccomp_filter(), "-e", "trace=network", "-o", str(trace)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("ORT_DISABLE_TELEMETRY", None)  # onnxruntime as a user would have it
    subprocess.run(cli if problem else strace + cli, env=env, cwd=folder, check=True, timeout=600)
    return {
        "report": json.loads((folder / "r.json").read_text()),
        "trace": None if problem else trace.read_text(),
        "no_trace_because": problem,
    }


@pytest.fixture(scope="session")
def cli_full_range_in_two_processes(tmp_path_factory) -> dict:
    """``posture analyze rom_full_range.mp4 --workers 2`` run once, as a user runs it (its own
    process, the library's chunked path with a worker process), under strace when it can
    trace: ``report`` (the JSON written), ``trace`` (strace -f -e trace=network of the CLI
    and every process it started, or None) and ``no_trace_because``. Shared by the privacy
    test (nothing leaves the machine) and the chunked-analysis test (same report as one
    process): one run of the whole clip for both. The 12 s clip, not the 26 s one: it is
    split in two chunks all the same, and its one-process report is shared already."""
    if not ROM_FULL_RANGE.exists():
        pytest.skip("sample_videos/rom_full_range.mp4 not present")
    folder = tmp_path_factory.mktemp("cli-full-range")
    return once_per_run(
        tmp_path_factory,
        "cli-full-range-2",
        lambda: _cli_in_two_processes(ROM_FULL_RANGE, folder),
    )


@pytest.fixture
def private_system_temp(tmp_path, monkeypatch) -> Path:
    """The system temp folder (tempfile.gettempdir()) as a fresh folder of this test's own,
    so that counting what is left there sees nothing of another test running at the same
    time (pytest-xdist's other worker, or another pytest on this machine)."""
    d = tmp_path / "system-temp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


# -- the order files are handed to the xdist workers --------------------------------------
# With --dist loadfile each file runs on one worker, so a long file started last leaves
# the other workers idle at the end. The longest files go first (what they took in a
# `pytest --durations=0` run, 2026-12-08; only the order matters, and a file not listed
# goes after these in collection order). pyproject.toml turns off xdist's own reordering
# (by number of tests per file). The file that computes the shared sample-clip reports
# (test_accuracy_guard) starts before those that wait for them (test_parallel).
FILE_SECONDS = {
    "tests/e2e/test_browser.py": 85,
    "tests/e2e/test_live_browser.py": 55,
    "tests/test_accuracy_guard.py": 120,
    "tests/test_cli.py": 80,
    "tests/test_parallel.py": 75,
    "tests/test_app_live.py": 46,
    "tests/test_batch_ray.py": 37,
    "tests/e2e/test_private.py": 33,
    "tests/test_fuzz.py": 32,
    "tests/test_wheel.py": 24,
    "tests/test_app.py": 22,
    "tests/test_landmarks.py": 21,
    "tests/e2e/test_session_files.py": 20,
    "tests/test_batch.py": 18,
    "tests/test_privacy.py": 18,
    "tests/test_outputs_atomic.py": 14,
    "tests/e2e/test_sessions.py": 10,
    "tests/test_calibration.py": 10,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def cost(item: pytest.Item) -> int:
        return -FILE_SECONDS.get(item.nodeid.split("::", 1)[0], 0)

    items.sort(key=cost)  # stable: the tests of a file keep their order

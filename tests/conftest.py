from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

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


# -- the bundled sample clips, analysed once per session -------------------------------------
# Analysing rom_front.mp4 (26.6 s, 798 frames) takes ~10 s on 2 cores, and several test
# files only read its report. Each (clip, options) combination is analysed here once per
# session (once per xdist worker: the tests that read it share one xdist_group, so one
# worker runs them all). Every test gets its own deep copy, so none can change another's.
# A test that must run another code path on purpose (the CLI under strace, --workers 2,
# the dashboard, the live protocol) keeps its own run and says why.

SAMPLES = REPO / "sample_videos"
ROM_FRONT = SAMPLES / "rom_front.mp4"
ROM_FULL_RANGE = SAMPLES / "rom_full_range.mp4"
SAMPLE_REPORTS_GROUP = pytest.mark.xdist_group("sample_reports")


def _analysed(path: Path) -> dict:
    from posture.pipeline import analyze

    if not path.exists():
        pytest.skip(f"{path.relative_to(REPO)} not present")
    return analyze(path).to_dict()


@pytest.fixture(scope="session")
def _rom_front_report_once() -> dict:
    return _analysed(ROM_FRONT)


@pytest.fixture
def rom_front_report(_rom_front_report_once) -> dict:
    """sample_videos/rom_front.mp4, default options, the one-process path: the report dict."""
    return copy.deepcopy(_rom_front_report_once)


@pytest.fixture(scope="session")
def _rom_full_range_report_once() -> dict:
    return _analysed(ROM_FULL_RANGE)


@pytest.fixture
def rom_full_range_report(_rom_full_range_report_once) -> dict:
    """sample_videos/rom_full_range.mp4, default options: the report dict."""
    return copy.deepcopy(_rom_full_range_report_once)


@pytest.fixture
def private_system_temp(tmp_path, monkeypatch) -> Path:
    """The system temp folder (tempfile.gettempdir()) as a fresh folder of this test's own,
    so that counting what is left there sees nothing of another test running at the same
    time (pytest-xdist's other worker, or another pytest on this machine)."""
    d = tmp_path / "system-temp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d

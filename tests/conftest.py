from __future__ import annotations

import os
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

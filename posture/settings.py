"""Settings read from the environment, validated so that a typo never lifts a limit."""

from __future__ import annotations

import math
import os

MAX_UPLOAD_ENV = "POSTURE_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 500  # also the dashboard's server.maxUploadSize (posture dashboard)
HIGHEST_UPLOAD_MB = 10_000.0


def env_number(name: str, default: float, highest: float) -> float:
    """A positive, finite number from environment variable ``name``, at most ``highest``;
    ``default`` when it is unset or not such a number ('abc', 'nan', 'inf', '-1', '0' would
    otherwise crash a page or lift a limit)."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and 0.0 < value <= highest else default


def max_upload_mb() -> float:
    """The largest upload the dashboard accepts, in MB (``POSTURE_MAX_UPLOAD_MB``)."""
    return env_number(MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD_MB, HIGHEST_UPLOAD_MB)


RED_FLAGS_ENV = "POSTURE_RED_FLAGS"


def red_flag_screen_by() -> str:
    """Who answers the dashboard's red-flag screen in Clinic mode (``POSTURE_RED_FLAGS``):
    'therapist' (the therapist asks and records the answers with the session) or 'patient'
    (the default, also for any other value: the patient answers it before anything else)."""
    value = os.environ.get(RED_FLAGS_ENV, "").strip().lower()
    return "therapist" if value == "therapist" else "patient"

"""posture: posture and neck range of motion from a camera.

The pipeline reads in folder order: ``io`` (frames with timestamps) ->
``landmarks`` (MediaPipe behind one adapter) -> ``geometry`` (angles per frame)
-> ``signals`` (filtering, neutral, range of motion) -> ``report``.
"""

from __future__ import annotations

import os

# onnxruntime's official Linux wheels (1.32) carry Microsoft's 1DS telemetry: a session
# file in the temp folder, a device id, and uploads to mobile.events.data.microsoft.com.
# ORT_DISABLE_TELEMETRY=1, set before onnxruntime starts, turns all of it off; it is set
# here, on importing posture, so that no caller can forget it (tests/test_privacy.py).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
SCHEMA_VERSION = 1

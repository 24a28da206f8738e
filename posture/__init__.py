"""posture: posture and neck range of motion from a camera.

The pipeline reads in folder order: ``io`` (frames with timestamps) ->
``landmarks`` (MediaPipe behind one adapter) -> ``geometry`` (angles per frame)
-> ``signals`` (filtering, neutral, range of motion) -> ``report``.
"""

from __future__ import annotations

__version__ = "0.1.0"
SCHEMA_VERSION = 1

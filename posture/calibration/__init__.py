"""Calibration: the printable board, camera lens and level, and each subject's neutral.

Modules: ``board`` (the ChArUco target), ``detect`` (finding it), ``pictures``
(frames and photos in), ``lens`` (intrinsics and distortion), ``level`` (roll and
pitch against gravity), ``neutral`` (a subject's neutral head angles),
``profiles`` (the JSON files), ``options`` (profiles -> AnalysisOptions),
``synthetic`` (pictures of the board through a known camera, for validation) and
``cli`` (``posture calibrate ...``). See docs/calibration.md.
"""

from __future__ import annotations

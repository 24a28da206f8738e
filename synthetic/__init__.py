"""Synthetic ground truth: an Anny body rendered at exact neck angles (see docs/synthetic.md).

Test and benchmark code, outside the installed package (the wheel does not carry it):
``calibration_boards`` renders calibration boards through known cameras.

``rig`` needs numpy only; ``render`` imports pyrender lazily (PYOPENGL_PLATFORM=egl/osmesa).
"""

from __future__ import annotations

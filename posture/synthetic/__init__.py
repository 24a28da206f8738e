"""Synthetic ground truth: an Anny body rendered at exact neck angles (see docs/synthetic.md).

``rig`` needs numpy only; ``render`` imports pyrender lazily (PYOPENGL_PLATFORM=egl/osmesa).
"""

from __future__ import annotations

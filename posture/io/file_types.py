"""The one table of file types posture reads and writes (no imports: the CLI's help uses it)."""

from __future__ import annotations

import os
from pathlib import Path

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS
# An annotated video is H.264 in MP4; an annotated photo a JPEG or PNG.
ANNOTATED_VIDEO_EXTENSIONS = frozenset({".mp4"})
ANNOTATED_IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})


def _listed(extensions: frozenset[str], sep: str) -> str:
    return sep.join(sorted(e.lstrip(".") for e in extensions if e != ".jpeg"))


def supported_types_sentence() -> str:
    """'a video (avi, m4v, ...) or an image (jpg, png, webp)', for messages."""
    videos, images = _listed(VIDEO_EXTENSIONS, ", "), _listed(IMAGE_EXTENSIONS, ", ")
    return f"a video ({videos}) or an image ({images})"


def supported_types_help() -> str:
    """'video (avi m4v ...) or image (jpg png webp)', for command-line help."""
    return f"video ({_listed(VIDEO_EXTENSIONS, ' ')}) or image ({_listed(IMAGE_EXTENSIONS, ' ')})"


def upload_types(extensions: frozenset[str] = MEDIA_EXTENSIONS) -> list[str]:
    """Extensions without the dot, for a file picker."""
    return sorted(e.lstrip(".") for e in extensions)


def is_image_name(name: str | os.PathLike[str]) -> bool:
    """Whether a file name says photo (else video, when posture can read it)."""
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS

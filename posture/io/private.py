"""Folders and files that hold patient data: readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; folders that already
    existed are left as they are (the caller restricts its own). Returns ``path``."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(d, DIR_MODE)  # mkdir's mode is narrowed by the umask, never widened
    return path


def restrict(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` when it is ours and allows more than that."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid == os.getuid() and st.st_mode & 0o777 & ~mode:
        os.chmod(path, mode)


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists with mode 0600 (created empty if missing)."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    restrict(path, FILE_MODE)
    return path

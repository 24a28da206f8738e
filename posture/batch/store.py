"""The output folder: one result folder per input, written atomically, and resume.

A result is written into a hidden temporary folder inside the output folder and
renamed into place when complete, with ``job.json`` (the job's key, the source
file's size, time and hash, and its summary values) inside. A folder whose key
matches is finished work. Every file is fsync'd before the rename, and a failed
write (a full disk) removes the temporary folder: a result folder is complete or
absent. Temporary folders left by an interrupted run (``.tmp-*``, ``.old-*``
holding only result files) are removed when the next run starts; nothing else is
touched. A lock keeps two runs out of one folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO, Any

from posture.errors import OutputError
from posture.io.atomic import fsync_folder, write_file_durably

MARKER_NAME = "job.json"
TMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
LOCK_NAME = ".posture-batch.lock"


class ResultStore:
    """Result folders under ``root``; use as a context manager (takes the lock)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock: IO[str] | None = None

    def __enter__(self) -> ResultStore:
        self._make_root()
        self._lock = _acquire_lock(self.root)
        self.clean_stale()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()  # closing releases the lock
            self._lock = None

    def _make_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(
                f"Cannot create the output folder {self.root} ({err.strerror}): choose another."
            ) from err
        if not os.access(self.root, os.W_OK):
            raise OutputError(f"The output folder {self.root} is not writable: choose another.")

    def clean_stale(self) -> list[str]:
        """Remove temporary folders an interrupted run left behind; their names.

        Only this tool's own work folders go: a real folder (not a link) named
        ``.tmp-*`` or ``.old-*`` that holds nothing but result files
        (:func:`is_result_file`). Anything else, whatever its name, is left alone.
        """
        stale = [p for p in self.root.iterdir() if _is_work_folder(p)]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return sorted(p.name for p in stale)

    def marker(self, name: str) -> dict[str, Any] | None:
        """The finished result's ``job.json``, or None when there is no complete result."""
        path = self.root / name / MARKER_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def clash(self, name: str) -> str | None:
        """The sentence refusing result name ``name`` when something that is not a result
        of this tool (a file, a link, a folder without its ``job.json``) already has that
        name in the output folder; None when the name is free or holds a result of ours."""
        path = self.root / name
        if not os.path.lexists(path):
            return None
        ours = path.is_dir() and not path.is_symlink() and "key" in (self.marker(name) or {})
        if ours:
            return None
        return (
            f"{path} already exists and is not a posture result: it was left as it is; move "
            "it, or choose another --out."
        )

    def commit(self, name: str, files: dict[str, bytes], marker: dict[str, Any]) -> Path:
        """Write ``files`` and the marker as result folder ``name``, replacing an old result
        of this tool; anything else of that name is refused (OutputError), never touched.

        All or nothing: the files are written and fsync'd in a temporary folder that is
        renamed into place; on any failure (OSError, e.g. a full disk) the temporary
        folder is removed, an old result of that name is put back, and the error raised.
        """
        refused = self.clash(name)
        if refused:
            raise OutputError(refused)
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name[:80]}-", dir=self.root))
        final = self.root / name
        old: Path | None = None
        try:
            for file_name, data in files.items():
                write_file_durably(tmp / file_name, data)
            marker_bytes = json.dumps(marker, indent=1).encode("utf-8")
            write_file_durably(tmp / MARKER_NAME, marker_bytes)
            fsync_folder(tmp)
            if final.exists():
                old = self.root / f"{OLD_PREFIX}{uuid.uuid4().hex}"
                os.rename(final, old)
            try:
                os.rename(tmp, final)
            except BaseException:
                if old is not None:  # put the old result back
                    with contextlib.suppress(OSError):
                        os.rename(old, final)
                        old = None
                raise
            fsync_folder(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final


_WORK_PREFIXES = (TMP_PREFIX, OLD_PREFIX)
RESULT_FILE_NAMES = frozenset({MARKER_NAME, "report.json", "frames.csv"})


def is_result_file(name: str) -> bool:
    """A file name this tool writes in a result folder (annotated output included)."""
    return name in RESULT_FILE_NAMES or name.startswith("annotated.")


def _is_work_folder(path: Path) -> bool:
    """A temporary or replaced result folder of this tool: never a user's folder or file."""
    if not path.name.startswith(_WORK_PREFIXES) or path.is_symlink() or not path.is_dir():
        return False
    try:
        entries = list(os.scandir(path))
    except OSError:
        return False
    return all(e.is_file(follow_symlinks=False) and is_result_file(e.name) for e in entries)


def _acquire_lock(root: Path) -> IO[str]:
    """An exclusive lock on ``root`` for this process (POSIX; elsewhere no lock is taken)."""
    fh = open(root / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
    try:
        import fcntl
    except ImportError:  # Windows: one run per folder is then up to the user
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        fh.close()
        raise OutputError(
            f"Another batch is writing to {root}: wait for it to finish or choose another --out."
        ) from err
    with contextlib.suppress(OSError):
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
    return fh

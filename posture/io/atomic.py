"""All-or-nothing output files: the outputs of one run appear complete, or not at all.

An :class:`OutputSet` holds the files of one run. Each file is written to a hidden
temporary file beside its target (``.NAME.RANDOM.tmpEXT``: same folder, so the same
file system and an atomic rename), flushed to the disk with ``fsync``, and renamed
into place only by :meth:`OutputSet.commit`, once every file was written. On any
failure (a full disk included) every temporary file is removed and files already
renamed are taken back: a new file is deleted, a replaced one gets its old content
back. A run therefore leaves all of its outputs or none, and never a temporary file.

    >>> with OutputSet(["r.json", "r.csv"]) as outputs:           # doctest: +SKIP
    ...     outputs.add_text("r.csv", write_rows)
    ...     outputs.add_text("r.json", lambda fh: json.dump(data, fh))
    ...     outputs.commit()          # leaving the block without commit writes nothing

Write errors are raised as :class:`~posture.errors.OutputError` with one sentence,
e.g. "The disk is full: nothing was written to /data/out. Free some space and run
again."
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from posture.errors import OutputError

PathLike = str | os.PathLike[str]

DISK_FULL_ERRNOS = frozenset(
    e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None
)
_CHUNK = 1 << 20


def is_disk_full(err: BaseException | None) -> bool:
    """True when ``err`` (or an error it was raised from) says the disk or quota is full."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS:
            return True
        err = err.__cause__ or err.__context__
    return False


def _where(folders: Iterable[Path]) -> str:
    names = list(dict.fromkeys(os.path.abspath(f) for f in folders)) or [os.path.abspath(".")]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def write_error_sentence(err: BaseException, folders: Iterable[Path]) -> str:
    """The one sentence for a failed all-or-nothing write into ``folders``."""
    where = _where(folders)
    if is_disk_full(err):
        return f"The disk is full: nothing was written to {where}. Free some space and run again."
    reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return (
        f"Writing to {where} failed ({reason}): nothing was written. "
        "Check the folder and run again."
    )


def exists_sentence(path: PathLike) -> str:
    """The one sentence for an output that already exists and may not be replaced."""
    return f"{path} already exists: give another file name, or add --overwrite to replace it."


def refuse_existing(paths: Iterable[PathLike | None]) -> None:
    """Raise OutputError when one of ``paths`` already exists (a dangling link too)."""
    for p in paths:
        if p and os.path.lexists(p):
            raise OutputError(exists_sentence(p))


def file_error_sentence(err: BaseException, path: PathLike) -> str:
    """The one sentence for one file that could not be written (it was left unchanged)."""
    if is_disk_full(err):
        return f"The disk is full: {path} was not written. Free some space and run again."
    reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return f"{path} could not be written ({reason}): check the folder and run again."


class _FdSink(io.RawIOBase):
    """A raw stream writing to a file descriptor with ``os.write``; after :meth:`release`
    it discards, so a text wrapper finalised later never writes to a reused descriptor."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd: int | None = fd

    def writable(self) -> bool:
        return True

    # ``data``: any buffer (RawIOBase.write); BufferedWriter hands it sized ones (len()).
    def write(self, data: Any) -> int:
        if self._fd is None:
            return len(data)
        return os.write(self._fd, data)

    def release(self) -> None:
        self._fd = None


def write_text_fd(fd: int, write: Callable[[TextIO], None]) -> None:
    """Let ``write`` fill the open descriptor ``fd`` (UTF-8, no newline translation)."""
    sink = _FdSink(fd)
    text = io.TextIOWrapper(io.BufferedWriter(sink, _CHUNK), encoding="utf-8", newline="")
    try:
        write(text)
        text.flush()
    finally:
        sink.release()


def write_bytes_fd(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (a short write is continued, an error raised)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view[:_CHUNK]) :]


def fsync_path(path: PathLike) -> None:
    """Flush a finished file (written by other code) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: PathLike) -> None:
    """Make renames in ``folder`` durable (best effort: not every system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_file_durably(path: PathLike, data: bytes) -> None:
    """Create ``path`` (which must not exist) with ``data`` and fsync it; on failure it
    is removed. For files inside a temporary folder that is renamed as a whole."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            write_bytes_fd(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


@dataclass
class _Pending:
    target: Path
    tmp: Path
    external: bool  # filled by other code (see OutputSet.reserve)


class OutputSet:
    """The output files of one run, renamed into place together by :meth:`commit`.

    ``targets``: every output the run means to write (used to name the folders in the
    error sentence; files may also be added that are not listed). As a context manager,
    leaving the block without :meth:`commit` removes everything (:meth:`abort`).
    ``overwrite=False``: a target that exists at commit (made by someone else while the
    run worked) is refused with OutputError and nothing is written.
    """

    def __init__(self, targets: Iterable[PathLike | None] = (), overwrite: bool = True) -> None:
        self._planned = [Path(t) for t in targets if t]
        self._overwrite = overwrite
        self._pending: list[_Pending] = []
        self._committed = False

    # -- reporting --------------------------------------------------------------------

    @property
    def folders(self) -> list[Path]:
        paths = self._planned + [p.target for p in self._pending]
        return list(dict.fromkeys(_folder(p) for p in paths))

    def error(self, err: BaseException) -> OutputError:
        """The OutputError (one sentence) for ``err`` raised while writing this run."""
        return OutputError(write_error_sentence(err, self.folders))

    def _fail(self, err: BaseException) -> None:
        """Remove this run's files; an OSError is raised again as an OutputError sentence."""
        sentence = self.error(err) if isinstance(err, OSError) else None
        self.abort()
        if sentence is not None:
            raise sentence from err

    # -- writing ----------------------------------------------------------------------

    def _temp(self, target: PathLike, external: bool) -> tuple[int, Path]:
        if self._committed:
            raise RuntimeError("this OutputSet is already committed")
        t = Path(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{t.name}.", suffix=f".tmp{t.suffix}", dir=_folder(t))
        self._pending.append(_Pending(t, Path(tmp), external))
        return fd, Path(tmp)

    def _write(self, target: PathLike, fill: Callable[[int], None]) -> Path:
        try:
            fd, tmp = self._temp(target, external=False)
            try:
                fill(fd)
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException as err:
            self._fail(err)
            raise
        return tmp

    def add_text(self, target: PathLike, write: Callable[[TextIO], None]) -> Path:
        """Write ``target``'s content now (``write(fh)``, UTF-8) to its temporary file."""
        return self._write(target, lambda fd: write_text_fd(fd, write))

    def add_bytes(self, target: PathLike, data: bytes) -> Path:
        """Write ``data`` as ``target``'s content to its temporary file."""
        return self._write(target, lambda fd: write_bytes_fd(fd, data))

    def reserve(self, target: PathLike) -> Path:
        """A temporary path (same extension) that other code fills, in place or by renaming
        its own temporary file onto it; if it is still empty at commit, nothing is written
        for ``target``."""
        try:
            fd, tmp = self._temp(target, external=True)
            os.close(fd)
        except OSError as err:
            self._fail(err)
            raise
        return tmp

    # -- all or nothing ---------------------------------------------------------------

    def commit(self) -> list[Path]:
        """Rename every written file into place; on failure leave none of them (and raise
        OutputError). Returns the targets written."""
        if self._committed:
            return [p.target for p in self._pending]
        try:
            for p in list(self._pending):
                if p.external:
                    if not os.path.exists(p.tmp) or os.path.getsize(p.tmp) == 0:
                        self._pending.remove(p)  # not produced: nothing for this target
                        with contextlib.suppress(OSError):
                            os.unlink(p.tmp)
                        continue
                    fsync_path(p.tmp)
            self._rename_all()
        except BaseException as err:
            self._fail(err)
            raise
        self._committed = True
        for folder in {_folder(p.target) for p in self._pending}:
            fsync_folder(folder)
        return [p.target for p in self._pending]

    def _rename_all(self) -> None:
        if not self._overwrite:  # before any rename: nothing to take back
            refuse_existing(p.target for p in self._pending)
        done: list[tuple[_Pending, Path | None]] = []
        try:
            for p in self._pending:
                backup, linked = _keep_old(p.target)
                try:
                    os.replace(p.tmp, p.target)
                except BaseException:
                    if backup is not None and linked:  # the target was not touched
                        with contextlib.suppress(OSError):
                            os.unlink(backup)
                    elif backup is not None:
                        _restore(backup, p.target)
                    raise
                done.append((p, backup))
        except BaseException:
            for p, backup in reversed(done):  # take back what this run already put in place
                if backup is not None:
                    _restore(backup, p.target)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(p.target)
            raise
        for _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)

    def abort(self) -> None:
        """Remove every temporary file of this run (nothing is renamed into place)."""
        if self._committed:
            return
        for p in self._pending:
            with contextlib.suppress(OSError):
                os.unlink(p.tmp)
        self._pending.clear()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


def _keep_old(target: Path) -> tuple[Path | None, bool]:
    """A hidden name for the file ``target`` replaces, so a failed commit can put it back:
    (backup or None when there is no such file, True when it is a hard link and
    ``target`` itself stays in place; where links are not supported it is renamed aside)."""
    if not os.path.lexists(target):
        return None, False
    backup = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError as err:
        if err.errno in DISK_FULL_ERRNOS:
            raise
        os.rename(target, backup)
        return backup, False
    return backup, True


def _restore(backup: Path, target: Path) -> None:
    with contextlib.suppress(OSError):
        os.replace(backup, target)

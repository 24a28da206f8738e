"""Where a browser session's files live, and when they go.

Uploads, annotated videos and photos of one browser session are written under one
folder, ``<temp>/posture-server-<pid>-*/session-*`` (mode 0700). The folder is removed
when the session ends (its browser tab closed or disconnected for longer than
``POSTURE_SESSION_FILES_GRACE_S``, default 120 s, Streamlit's own time to keep a
disconnected session), and the whole server folder when the server stops. A folder left
by a server that was killed is removed when the next one starts.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import streamlit as st

from posture.settings import env_number

ROOT_PREFIX = "posture-server-"
GRACE_ENV = "POSTURE_SESSION_FILES_GRACE_S"
DEFAULT_GRACE_S = 120.0
_KEY = "_posture_session_folder"

_lock = threading.Lock()
_root: Path | None = None
_pending: dict[str, threading.Timer] = {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_roots(temp_dir: Path | None = None) -> list[Path]:
    """Remove the session folders of posture servers that are no longer running."""
    removed = []
    for p in Path(temp_dir or tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*"):
        pid_text = p.name[len(ROOT_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def server_root() -> Path:
    """This server's folder for session files (created on first use, removed at exit)."""
    global _root
    with _lock:
        if _root is None or not _root.is_dir():
            remove_stale_roots()
            _root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-"))
            atexit.register(shutil.rmtree, _root, True)
        return _root


def _remove_later(path: str) -> None:
    """on_release of the session-scoped hold: the session disconnected. Remove its folder
    after the grace time unless the same session comes back first."""
    grace_s = env_number(GRACE_ENV, DEFAULT_GRACE_S, 24 * 3600.0)
    timer = threading.Timer(grace_s, _remove_now, args=(path,))
    timer.daemon = True
    with _lock:
        old = _pending.pop(path, None)
        _pending[path] = timer
    if old is not None:
        old.cancel()
    timer.start()


def _remove_now(path: str) -> None:
    with _lock:
        _pending.pop(path, None)
    shutil.rmtree(path, ignore_errors=True)


@st.cache_resource(scope="session", on_release=_remove_later, show_spinner=False)
def _hold(path: str) -> str:
    """Kept for as long as the session is connected; a reconnect cancels the removal."""
    with _lock:
        timer = _pending.pop(path, None)
    if timer is not None:
        timer.cancel()
    return path


def session_folder() -> Path:
    """This browser session's folder (created on first use)."""
    path = st.session_state.get(_KEY)
    if not path or not Path(path).is_dir():
        path = tempfile.mkdtemp(dir=server_root(), prefix="session-")
        st.session_state[_KEY] = path
    _hold(path)
    return Path(path)


@contextlib.contextmanager
def scratch_folder(prefix: str):
    """A temporary folder inside the session folder, removed on leaving the block."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir=session_folder()) as tmp:
        yield Path(tmp)

"""History: subjects, sessions, results and answers in an embedded SQLite file.

The default file lives in the user's data directory (``platformdirs``); the environment
variable ``POSTURE_DB`` (a path, or ``:memory:``) overrides it. Every write is one
transaction, so a failure leaves nothing half-saved; deleting a subject deletes
everything about them (foreign keys with ``ON DELETE CASCADE``).

Example:
    >>> store = Store(":memory:")
    >>> store.add_subject("P-001", age_band="50-69", sex="female")
    >>> sid = store.save_session("P-001", {"summary": {"cva_deg": 48.0, "rom": {}}})
    >>> store.history("P-001")[0]["cva_deg"]
    48.0
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from posture.clinical.change import number_or_none
from posture.measures import ROM_KEYS

DB_ENV = "POSTURE_DB"
AGE_BANDS: tuple[str, ...] = ("not given", "under 18", "18-49", "50-69", "70+")
SEXES: tuple[str, ...] = ("not given", "female", "male", "other")
# The norms take an age in years; a band stands for an age inside it.
_AGE_FOR_BAND: dict[str, int | None] = {
    "not given": None,
    "under 18": 16,
    "18-49": 35,
    "50-69": 60,
    "70+": 75,
}
RESULT_METRICS: tuple[str, ...] = ("cva_deg", "head_tilt_deg", "shoulder_tilt_deg", *ROM_KEYS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
    id TEXT PRIMARY KEY,            -- pseudonymous id chosen by the clinic, never a name
    age_band TEXT NOT NULL,
    sex TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    mode TEXT NOT NULL,             -- 'clinic', 'self-check', 'upload'
    source TEXT NOT NULL,           -- 'webcam', a file name, ...
    notes TEXT NOT NULL DEFAULT '',
    report_json TEXT NOT NULL       -- the whole report (measurement contract v1)
);
CREATE TABLE IF NOT EXISTS results (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    value_deg REAL,                 -- NULL = not measured (never 0)
    PRIMARY KEY (session_id, metric)
);
CREATE TABLE IF NOT EXISTS answers (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (session_id, question_id)
);
CREATE INDEX IF NOT EXISTS sessions_by_subject ON sessions(subject_id, created_at);
"""


def _private_database_file(path: Path, is_default: bool) -> None:
    """The database file at 0600 in a folder created at 0700 (the default data folder is
    made 0700 even if it existed: it holds nothing but this tool's data)."""
    from posture.io.private import DIR_MODE, private_dir, private_file, restrict

    private_dir(path.parent)
    if is_default:
        restrict(path.parent, DIR_MODE)
    private_file(path)
    for suffix in ("-journal", "-wal", "-shm"):
        restrict(path.with_name(path.name + suffix), 0o600)


class StoreError(Exception):
    """A history operation that cannot be done; ``str(err)`` is one sentence for the user."""


def default_db_path() -> Path:
    """``$POSTURE_DB`` if set, else ``posture/history.sqlite3`` in the user data directory."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("posture", appauthor=False)) / "history.sqlite3"


def age_for_band(age_band: str) -> int | None:
    """A representative age (years) for the norms; None when not given."""
    return _AGE_FOR_BAND.get(age_band)


def sex_for_norms(sex: str) -> str | None:
    return sex if sex in ("female", "male") else None


@dataclass(frozen=True)
class Subject:
    id: str
    age_band: str
    sex: str
    created_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """The history database. One connection per Store; use one Store per thread."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        target = str(path) if path is not None else str(default_db_path())
        self.path = target
        try:
            if target != ":memory:":
                _private_database_file(
                    Path(target), is_default=path is None and not os.environ.get(DB_ENV)
                )
            self._conn = sqlite3.connect(target, check_same_thread=False)
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"Cannot open the history database {target}: {err}.") from err
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten with zeros, not left in free pages of the file.
        self._conn.execute("PRAGMA secure_delete = ON")
        with self._tx() as c:
            c.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed on success, rolled back on any error."""
        try:
            with self._conn:
                yield self._conn
        except sqlite3.Error as err:
            raise StoreError(f"The history database could not be updated: {err}.") from err

    # -- subjects -------------------------------------------------------------------

    def add_subject(
        self, subject_id: str, age_band: str = "not given", sex: str = "not given"
    ) -> None:
        """Create a subject, or update the age band and sex of an existing one."""
        sid = subject_id.strip()
        if not sid:
            raise StoreError("Give a pseudonymous id for the subject (not their name).")
        if age_band not in AGE_BANDS:
            raise StoreError(f"Age band must be one of {', '.join(AGE_BANDS)}.")
        if sex not in SEXES:
            raise StoreError(f"Sex must be one of {', '.join(SEXES)}.")
        with self._tx() as c:
            c.execute(
                "INSERT INTO subjects (id, age_band, sex, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET age_band = excluded.age_band, sex = excluded.sex",
                (sid, age_band, sex, _now()),
            )

    def subjects(self) -> list[Subject]:
        rows = self._conn.execute("SELECT * FROM subjects ORDER BY id").fetchall()
        return [Subject(r["id"], r["age_band"], r["sex"], r["created_at"]) for r in rows]

    def subject(self, subject_id: str) -> Subject | None:
        r = self._conn.execute("SELECT * FROM subjects WHERE id = ?", (subject_id,)).fetchone()
        return None if r is None else Subject(r["id"], r["age_band"], r["sex"], r["created_at"])

    def delete_subject(self, subject_id: str) -> list[Path]:
        """Delete a subject, every session, result and answer about them, and their
        calibration neutral (``subjects/<ID>.json``); returns the files removed."""
        from posture.calibration.profiles import delete_subject_files

        with self._tx() as c:
            c.execute("DELETE FROM subjects WHERE id = ?", (subject_id,))
        return delete_subject_files(subject_id)

    # -- sessions -------------------------------------------------------------------

    def save_session(
        self,
        subject_id: str,
        report: Mapping[str, Any],
        *,
        mode: str = "clinic",
        source: str = "",
        notes: str = "",
        answers: Mapping[str, str] | None = None,
        created_at: str | None = None,
    ) -> int:
        """Save one session (report, its summary values and answers) in one transaction."""
        if self.subject(subject_id) is None:
            raise StoreError(f"No subject {subject_id!r}: add the subject first.")
        summary = report.get("summary") or {}
        rom = summary.get("rom") or {}
        values = {k: number_or_none(summary.get(k)) for k in RESULT_METRICS if k not in rom}
        values.update({k: number_or_none(rom.get(k)) for k in ROM_KEYS})
        report_json = json.dumps(report, allow_nan=False)
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO sessions (subject_id, created_at, mode, source, notes, report_json) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (subject_id, created_at or _now(), mode, source, notes, report_json),
            )
            session_id = int(cast(int, cur.lastrowid))  # set by the INSERT
            c.executemany(
                "INSERT INTO results (session_id, metric, value_deg) VALUES (?, ?, ?)",
                [(session_id, k, values.get(k)) for k in RESULT_METRICS],
            )
            c.executemany(
                "INSERT INTO answers (session_id, question_id, answer) VALUES (?, ?, ?)",
                [(session_id, q, a) for q, a in (answers or {}).items()],
            )
        return session_id

    def update_notes(self, session_id: int, notes: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE sessions SET notes = ? WHERE id = ?", (notes, session_id))

    def sessions(self, subject_id: str) -> list[dict[str, Any]]:
        """Sessions of a subject, oldest first (without the report)."""
        rows = self._conn.execute(
            "SELECT id, created_at, mode, source, notes FROM sessions WHERE subject_id = ? "
            "ORDER BY created_at, id",
            (subject_id,),
        ).fetchall()
        return [dict(r) for r in rows]

    def report(self, session_id: int) -> dict[str, Any] | None:
        r = self._conn.execute(
            "SELECT report_json FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return None if r is None else json.loads(r["report_json"])

    def answers(self, session_id: int) -> dict[str, str]:
        rows = self._conn.execute(
            "SELECT question_id, answer FROM answers WHERE session_id = ?", (session_id,)
        ).fetchall()
        return {r["question_id"]: r["answer"] for r in rows}

    def latest_report(
        self, subject_id: str, before_session: int | None = None
    ) -> dict[str, Any] | None:
        """The most recent report of a subject (before a session, when given), or None."""
        sessions = [s for s in self.sessions(subject_id) if s["id"] != before_session]
        if before_session is not None:
            sessions = [s for s in sessions if s["id"] < before_session]
        return self.report(sessions[-1]["id"]) if sessions else None

    def history(self, subject_id: str) -> list[dict[str, Any]]:
        """One row per session, oldest first: id, created_at, mode and each metric (or None)."""
        out = []
        for s in self.sessions(subject_id):
            rows = self._conn.execute(
                "SELECT metric, value_deg FROM results WHERE session_id = ?", (s["id"],)
            ).fetchall()
            row = {"session_id": s["id"], "created_at": s["created_at"], "mode": s["mode"]}
            row.update({k: None for k in RESULT_METRICS})
            row.update({r["metric"]: r["value_deg"] for r in rows})
            out.append(row)
        return out

    def counts(self) -> dict[str, int]:
        """Rows per table (for tests and the history page)."""
        return {
            t: int(self._conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in ("subjects", "sessions", "results", "answers")
        }

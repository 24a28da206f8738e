"""History store: subjects, sessions, results, answers; transactions and cascading deletes."""

from __future__ import annotations

import math

import pytest

from posture.store import DB_ENV, RESULT_METRICS, Store, StoreError, age_for_band, default_db_path


def _report(cva: float | None = 47.0, rot_left: float | None = 60.0) -> dict:
    return {
        "summary": {
            "cva_deg": cva,
            "head_tilt_deg": None,
            "shoulder_tilt_deg": 1.5,
            "rom": {"rotation_left_deg": rot_left, "rotation_right_deg": None},
        },
        "quality": {"valid_frame_fraction": 1.0, "warnings": []},
        "findings": [],
    }


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "h.sqlite3")
    yield s
    s.close()


def test_default_path_comes_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv(DB_ENV)
    assert default_db_path().name == "history.sqlite3"


def test_session_round_trip_keeps_none_as_not_measured(store):
    store.add_subject("P-001", "50-69", "female")
    sid = store.save_session("P-001", _report(), answers={"stress": "yes"}, notes="first")
    assert store.report(sid)["summary"]["cva_deg"] == 47.0
    assert store.answers(sid) == {"stress": "yes"}
    row = store.history("P-001")[0]
    assert row["cva_deg"] == 47.0 and row["rotation_left_deg"] == 60.0
    assert row["rotation_right_deg"] is None and row["head_tilt_deg"] is None
    assert store.sessions("P-001")[0]["notes"] == "first"


def test_latest_report_is_the_previous_visit(store):
    store.add_subject("P-1")
    first = store.save_session("P-1", _report(cva=44.0), created_at="2024-01-01T00:00:00")
    second = store.save_session("P-1", _report(cva=49.0), created_at="2024-02-01T00:00:00")
    assert store.latest_report("P-1")["summary"]["cva_deg"] == 49.0
    assert store.latest_report("P-1", before_session=second)["summary"]["cva_deg"] == 44.0
    assert store.latest_report("P-1", before_session=first) is None


def test_delete_subject_removes_everything_about_them(store):
    store.add_subject("A")
    store.add_subject("B")
    store.save_session("A", _report(), answers={"stress": "no"})
    store.save_session("B", _report())
    store.delete_subject("A")
    assert [s.id for s in store.subjects()] == ["B"]
    assert store.counts() == {
        "subjects": 1,
        "sessions": 1,
        "results": len(RESULT_METRICS),
        "answers": 0,
    }


def test_failed_write_leaves_nothing_half_saved(store):
    store.add_subject("A")
    bad = _report()
    bad["summary"]["cva_deg"] = math.nan  # NaN is refused by the JSON encoder
    with pytest.raises(ValueError):
        store.save_session("A", bad)
    # A NULL question id violates NOT NULL after the session and results rows went in.
    with pytest.raises(StoreError):
        store.save_session("A", _report(), answers={"stress": "yes", None: "y"})  # type: ignore[dict-item]
    assert store.counts()["sessions"] == 0
    assert store.counts()["results"] == 0


def test_unknown_subject_and_bad_fields_are_refused(store):
    with pytest.raises(StoreError, match="add the subject"):
        store.save_session("nobody", _report())
    with pytest.raises(StoreError, match="pseudonymous"):
        store.add_subject("  ")
    with pytest.raises(StoreError, match="Age band"):
        store.add_subject("X", age_band="42")


def test_age_band_maps_to_an_age_inside_it():
    assert age_for_band("not given") is None
    assert 50 <= age_for_band("50-69") < 70
    assert age_for_band("70+") >= 70


def test_database_is_private_to_its_owner(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        db = tmp_path / "new" / "deeper" / "history.sqlite3"
        s = Store(db)
        s.add_subject("P-1")
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(db.parent.parent.stat().st_mode) == 0o700
        assert s._conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        s.close()
        # A database left readable by an earlier version is narrowed when opened.
        os.chmod(db, 0o644)
        Store(db).close()
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def _raw_after_delete(db, secure_delete_off: bool = False) -> bytes:
    s = Store(db)
    if secure_delete_off:  # the control: what a database without secure_delete keeps
        s._conn.execute("PRAGMA secure_delete = OFF")
    s.add_subject("P-TRACE")
    for _ in range(3):
        s.save_session("P-TRACE", {"summary": {"cva_deg": 48.0, "rom": {}}}, notes=TRACER)
    s.add_subject("P-KEEP")
    s.delete_subject("P-TRACE")
    s.close()
    return db.read_bytes()


TRACER = "Tracer-note-7f3a9 lives at 12 Unique Lane"


def test_deleted_subject_leaves_no_trace_in_the_database_file(tmp_path):
    raw = _raw_after_delete(tmp_path / "history.sqlite3")
    assert TRACER.encode() not in raw and b"P-TRACE" not in raw
    assert b"P-KEEP" in raw
    # The check can fail: with secure_delete off, the deleted note stays in the file.
    assert TRACER.encode() in _raw_after_delete(tmp_path / "control.sqlite3", True)


def test_deleting_a_subject_removes_their_calibration_neutral(tmp_path, monkeypatch):
    from posture.calibration.profiles import ENV_DIR, SubjectNeutral, save_subject

    monkeypatch.setenv(ENV_DIR, str(tmp_path / "calibration"))
    s = Store(tmp_path / "h.sqlite3")
    for sid in ("P-1", "P-2"):
        s.add_subject(sid)
        save_subject(SubjectNeutral(sid, {"rotation_deg": 1.0}, {}, "front", None, "2026-12-07"))
    neutral = tmp_path / "calibration" / "subjects" / "P-1.json"
    assert neutral.is_file()
    assert s.delete_subject("P-1") == [neutral]
    assert not neutral.exists()
    assert (tmp_path / "calibration" / "subjects" / "P-2.json").is_file()
    s.add_subject("odd id with spaces")  # cannot name a file, so it has none
    assert s.delete_subject("odd id with spaces") == []

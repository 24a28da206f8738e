"""All or nothing (issue #15): every output appears complete or not at all, a full disk too.

ENOSPC is faked at each stage (a write, the fsync, a rename, PyAV's mux and close, the
batch's result folder and summary), and, where mounting is allowed (root), a real
small tmpfs is filled. Each case checks: no output, no temporary file, one sentence
and the exit code of write failures (2, an OutputError like every refused output).
"""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.batch.jobs import Outcome
from posture.batch.store import ResultStore
from posture.cli import main
from posture.errors import OutputError
from posture.io.atomic import OutputSet, is_disk_full, refuse_existing
from tests.media_fixtures import person_image, write_video

SMALL_PX = (256, 256)
DISK_FULL = "Free some space and run again."


def _enospc(what: str = "fake") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), what)


def _fd_name(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _fail_fd_call(monkeypatch, name: str, needle: str) -> list[str]:
    """``os.<name>(fd, ...)`` raises ENOSPC for a file whose path contains ``needle``."""
    real = getattr(os, name)
    hits: list[str] = []

    def fake(fd, *args, **kwargs):
        path = _fd_name(fd)
        if needle in Path(path).name:
            hits.append(path)
            raise _enospc(path)
        return real(fd, *args, **kwargs)

    monkeypatch.setattr(os, name, fake)
    return hits


def _fail_replace_onto(monkeypatch, target_name: str) -> list[str]:
    """``os.replace(src, dst)`` raises ENOSPC when ``dst`` is named ``target_name``."""
    real = os.replace
    hits: list[str] = []

    def fake(src, dst, *args, **kwargs):
        if Path(dst).name == target_name:
            hits.append(str(dst))
            raise _enospc(str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", fake)
    return hits


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    photo = d / "photo.png"
    cv2.imwrite(str(photo), person_image(SMALL_PX)[:, :, ::-1])
    clip = write_video(d / "clip.mp4", [person_image(SMALL_PX)] * 6)
    return {"photo": photo, "clip": clip}


def _run(capfd, *argv: str) -> tuple[int, list[str]]:
    capfd.readouterr()
    code = main(["analyze", *argv, "--quiet"])
    err = capfd.readouterr().err
    return code, [ln for ln in err.splitlines() if ln.strip()]


def _assert_disk_full(code: int, lines: list[str], folder: Path) -> None:
    assert code == 2, lines
    assert lines == [
        f"posture: The disk is full: nothing was written to {folder}. Free some space and "
        "run again."
    ], lines


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _outputs_args(out: Path, annotated: str | None = "a.mp4") -> list[str]:
    args = ["--json", str(out / "r.json"), "--csv", str(out / "r.csv")]
    return args + (["--annotated", str(out / annotated)] if annotated else [])


# -- the CLI: faked ENOSPC at each stage -------------------------------------------------


def test_csv_written_then_json_write_fails_leaves_neither(media, tmp_path, capfd, monkeypatch):
    hits = _fail_fd_call(monkeypatch, "write", ".r.json.")
    code, lines = _run(capfd, str(media["photo"]), *_outputs_args(tmp_path, None))
    assert hits, "the JSON was never written"
    _assert_disk_full(code, lines, tmp_path)
    assert _entries(tmp_path) == []


def test_json_fsync_fails_leaves_nothing(media, tmp_path, capfd, monkeypatch):
    hits = _fail_fd_call(monkeypatch, "fsync", ".r.json.")
    code, lines = _run(capfd, str(media["clip"]), *_outputs_args(tmp_path))
    assert hits
    _assert_disk_full(code, lines, tmp_path)
    assert _entries(tmp_path) == []


def test_last_rename_fails_and_the_outputs_already_renamed_are_taken_back(
    media, tmp_path, capfd, monkeypatch
):
    hits = _fail_replace_onto(monkeypatch, "r.json")  # renamed last: video and CSV are in place
    code, lines = _run(capfd, str(media["clip"]), *_outputs_args(tmp_path))
    assert hits
    _assert_disk_full(code, lines, tmp_path)
    assert _entries(tmp_path) == []


def test_a_failed_run_gives_existing_outputs_their_old_content_back(
    media, tmp_path, capfd, monkeypatch
):
    # Existing outputs are replaced with --overwrite; a failed run must not lose them.
    for name in ("r.json", "r.csv", "a.mp4"):
        (tmp_path / name).write_bytes(f"old {name}".encode())
    _fail_replace_onto(monkeypatch, "r.json")
    code, lines = _run(capfd, str(media["clip"]), *_outputs_args(tmp_path), "--overwrite")
    _assert_disk_full(code, lines, tmp_path)
    assert _entries(tmp_path) == ["a.mp4", "r.csv", "r.json"]
    for name in ("r.json", "r.csv", "a.mp4"):
        assert (tmp_path / name).read_bytes() == f"old {name}".encode()


class _FailingContainer:
    """A PyAV output container whose ``fail`` call ("mux" or "close") raises ENOSPC; the
    real close still runs first, so the partial file is really on disk."""

    def __init__(self, real, fail: str) -> None:
        self._real, self._fail = real, fail

    def __getattr__(self, name):
        return getattr(self._real, name)

    def mux(self, packets):
        if self._fail == "mux":
            raise _enospc("mux")
        return self._real.mux(packets)

    def close(self):
        self._real.close()
        if self._fail == "close":
            raise _enospc("close")


@pytest.mark.parametrize("fail", ["mux", "close"])
def test_annotated_video_failing_while_finished_leaves_no_mp4_at_all(
    media, tmp_path, capfd, monkeypatch, fail
):
    import av

    real_open = av.open
    opened: list[str] = []

    def fake_open(file, mode="r", *args, **kwargs):
        container = real_open(file, mode, *args, **kwargs)
        if mode != "w":
            return container
        opened.append(str(file))
        return _FailingContainer(container, fail)

    monkeypatch.setattr(av, "open", fake_open)
    code, lines = _run(capfd, str(media["clip"]), *_outputs_args(tmp_path))
    assert opened, "the annotated video was never opened"
    _assert_disk_full(code, lines, tmp_path)
    assert _entries(tmp_path) == []  # no a.mp4 and no hidden partial .a.mp4.*.mp4


def test_annotated_photo_write_fails_leaves_nothing(media, tmp_path, capfd, monkeypatch):
    hits = _fail_fd_call(monkeypatch, "write", ".a.png.")
    code, lines = _run(capfd, str(media["photo"]), *_outputs_args(tmp_path, "a.png"))
    assert hits
    _assert_disk_full(code, lines, tmp_path)
    assert _entries(tmp_path) == []


def test_outputs_in_two_folders_are_named_and_neither_gets_a_file(
    media, tmp_path, capfd, monkeypatch
):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _fail_fd_call(monkeypatch, "write", ".r.json.")
    code, lines = _run(
        capfd, str(media["photo"]), "--csv", str(a / "r.csv"), "--json", str(b / "r.json")
    )
    assert code == 2
    assert lines == [
        f"posture: The disk is full: nothing was written to {b} or {a}. {DISK_FULL}"
    ], lines
    assert _entries(a) == [] and _entries(b) == []


def test_pdf_write_fails_leaves_nothing(tmp_path, monkeypatch):
    from posture.export import write_pdf

    report = _report_dict()
    real_fdopen = os.fdopen

    class _Full:
        def __init__(self, fh):
            self._fh = fh

        def write(self, data):
            raise _enospc("pdf")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    def fake_fdopen(fd, *args, **kwargs):
        fh = real_fdopen(fd, *args, **kwargs)
        return _Full(fh) if ".r.pdf." in Path(_fd_name(fd)).name else fh

    monkeypatch.setattr(os, "fdopen", fake_fdopen)
    with pytest.raises(OSError) as exc:
        write_pdf(report, tmp_path / "r.pdf")
    assert is_disk_full(exc.value)
    assert _entries(tmp_path) == []


def _report_dict() -> dict:
    from tests.reports import tiny_report

    return tiny_report(kind="image").to_dict()


# -- the transactional writer itself -----------------------------------------------------


def test_output_set_left_without_commit_writes_nothing(tmp_path):
    with OutputSet([tmp_path / "x.txt"]) as outputs:
        outputs.add_text(tmp_path / "x.txt", lambda fh: fh.write("x"))
        outputs.add_bytes(tmp_path / "y.bin", b"y")
        reserved = outputs.reserve(tmp_path / "z.mp4")
        reserved.write_bytes(b"z")
        assert len(_entries(tmp_path)) == 3  # only hidden temporary files so far
        assert all(n.startswith(".") for n in _entries(tmp_path))
    assert _entries(tmp_path) == []


def test_output_set_commit_renames_all_and_drops_a_reserved_file_never_filled(tmp_path):
    with OutputSet() as outputs:
        outputs.add_text(tmp_path / "x.txt", lambda fh: fh.write("héllo\n"))
        outputs.reserve(tmp_path / "never.mp4")
        filled = outputs.reserve(tmp_path / "v.mp4")
        filled.write_bytes(b"video")
        assert outputs.commit() == [tmp_path / "x.txt", tmp_path / "v.mp4"]
    assert _entries(tmp_path) == ["v.mp4", "x.txt"]
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "héllo\n"


def test_a_write_error_other_than_a_full_disk_is_one_sentence_too(tmp_path, monkeypatch):
    real = os.write

    def fake(fd, data):
        if ".x.txt." in Path(_fd_name(fd)).name:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd, data)

    monkeypatch.setattr(os, "write", fake)
    with pytest.raises(OutputError) as exc, OutputSet() as outputs:
        outputs.add_text(tmp_path / "x.txt", lambda fh: fh.write("x"))
    assert str(exc.value) == (
        f"Writing to {tmp_path} failed (Input/output error): nothing was written. "
        "Check the folder and run again."
    )
    assert _entries(tmp_path) == []


# -- batch: result folders and the summary -----------------------------------------------


def test_result_folder_write_fails_leaves_no_folder_and_keeps_the_old_result(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with ResultStore(out) as store:
        store.commit("a.mp4", {"report.json": b"old", "frames.csv": b"old"}, {"key": "k1"})
        hits = _fail_fd_call(monkeypatch, "write", "frames.csv")
        with pytest.raises(OSError) as exc:
            store.commit("a.mp4", {"report.json": b"new", "frames.csv": b"new"}, {"key": "k2"})
        assert hits and is_disk_full(exc.value)
        with pytest.raises(OSError):
            store.commit("b.mp4", {"report.json": b"new", "frames.csv": b"new"}, {"key": "k"})
    assert _entries(out) == [".posture-batch.lock", "a.mp4"]
    assert store.marker("a.mp4") == {"key": "k1"}
    assert (out / "a.mp4" / "report.json").read_bytes() == b"old"


def test_result_rename_fails_after_the_old_result_moved_aside_and_it_is_put_back(
    tmp_path, monkeypatch
):
    out = tmp_path / "out"
    with ResultStore(out) as store:
        store.commit("a.mp4", {"report.json": b"old"}, {"key": "k1"})
        real = os.rename

        def fake(src, dst):
            if Path(src).name.startswith(".tmp-") and Path(dst).name == "a.mp4":
                raise _enospc(str(dst))
            return real(src, dst)

        monkeypatch.setattr(os, "rename", fake)
        with pytest.raises(OSError):
            store.commit("a.mp4", {"report.json": b"new"}, {"key": "k2"})
    assert _entries(out) == [".posture-batch.lock", "a.mp4"]
    assert (out / "a.mp4" / "report.json").read_bytes() == b"old"


def _fake_jobs(files: dict[str, bytes]):
    """``run_jobs`` without workers: every job 'finishes' with ``files``."""
    from posture import __version__

    def run_jobs(jobs, on_outcome, *args, **kwargs):
        for job in jobs:
            on_outcome(job, Outcome(True, None, dict(files), {"view": "front"}, 0.1, __version__))

    return run_jobs


def _batch_inputs(tmp_path: Path, n: int = 3) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(n):
        (src / f"{'abc'[i]}.mp4").write_bytes(f"video {i}".encode())
    return src


def _summary(out: Path) -> dict[str, str]:
    with open(out / "summary.csv", encoding="utf-8") as fh:
        return {Path(r["path"]).name: r["status"] for r in csv.DictReader(fh)}


def test_batch_disk_full_stops_with_one_sentence_result_absent_summary_whole(tmp_path, monkeypatch):
    from posture.batch import runner

    src, out = _batch_inputs(tmp_path), tmp_path / "out"
    monkeypatch.setattr(runner, "run_jobs", _fake_jobs({"report.json": b"{}"}))
    real = os.write

    def fake(fd, data):  # the second result's files do not fit
        if Path(_fd_name(fd)).parent.name.startswith(".tmp-b.mp4-"):
            raise _enospc()
        return real(fd, data)

    monkeypatch.setattr(os, "write", fake)
    with pytest.raises(OutputError) as exc:
        runner.run_batch(src, out, workers=1)
    assert str(exc.value) == (
        f"The disk is full: {out / 'b.mp4'} was not written (results finished before it are "
        "kept). Free some space and run the batch again: finished inputs are skipped."
    )
    assert _entries(out) == [".posture-batch.lock", "a.mp4", "summary.csv"]
    assert _entries(out / "a.mp4") == ["job.json", "report.json"]
    assert _summary(out) == {"a.mp4": "ok", "b.mp4": "failed"}  # c.mp4 was not reached


def test_batch_summary_that_does_not_fit_is_absent_and_says_so(tmp_path, monkeypatch):
    from posture.batch import runner

    src, out = _batch_inputs(tmp_path, 1), tmp_path / "out"
    monkeypatch.setattr(runner, "run_jobs", _fake_jobs({"report.json": b"{}"}))
    _fail_fd_call(monkeypatch, "write", ".summary.csv.")
    with pytest.raises(OutputError) as exc:
        runner.run_batch(src, out, workers=1)
    assert str(exc.value) == (
        f"The disk is full: {out / 'summary.csv'} was not written. Free some space and run again."
    )
    assert _entries(out) == [".posture-batch.lock", "a.mp4"]


def test_batch_disk_full_is_not_hidden_by_a_summary_that_does_not_fit_either(tmp_path, monkeypatch):
    from posture.batch import runner

    src, out = _batch_inputs(tmp_path, 2), tmp_path / "out"
    monkeypatch.setattr(runner, "run_jobs", _fake_jobs({"report.json": b"{}"}))
    _fail_fd_call(monkeypatch, "write", "")  # nothing fits at all
    with pytest.raises(runner.DiskFull):
        runner.run_batch(src, out, workers=1)
    assert _entries(out) == [".posture-batch.lock"]


def test_clean_stale_removes_only_its_own_work_folders(tmp_path):
    out = tmp_path / "out"
    ours = {
        f".old-{uuid.uuid4().hex}": ["job.json", "report.json"],
        ".tmp-a.mp4-x1y2z3": ["report.json", "frames.csv", "annotated.mp4"],
        ".tmp-b.mp4-empty": [],
    }
    users = {
        ".tmp-notes": ["notes.txt"],
        ".old-photos": ["holiday.jpg"],
        ".tmp-mixed": ["report.json", "thesis.docx"],
    }
    for folder, names in {**ours, **users}.items():
        (out / folder).mkdir(parents=True)
        for n in names:
            (out / folder / n).write_bytes(b"x")
    (out / ".tmp-a-file").write_bytes(b"a user's file")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "report.json").write_bytes(b"x")
    (out / ".tmp-link").symlink_to(tmp_path / "elsewhere")
    with ResultStore(out) as store:
        assert store.clean_stale() == []  # already cleaned on entry
    left = set(_entries(out))
    assert left.isdisjoint(ours)
    assert set(users) | {".tmp-a-file", ".tmp-link", ".posture-batch.lock"} == left
    assert (tmp_path / "elsewhere" / "report.json").exists()
    assert _entries(out / ".tmp-mixed") == ["report.json", "thesis.docx"]


# -- a real full disk: a small tmpfs (needs root, skipped otherwise) --------------------


@pytest.fixture
def small_disk(tmp_path):
    """A mounted 512 KiB tmpfs, and ``fill(free_bytes)`` to leave that much space."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")

    def fill(free_bytes: int) -> None:
        for p in mnt.iterdir():
            p.unlink()
        filler = mnt / "filler"
        with open(filler, "wb") as fh:
            room = os.statvfs(mnt)
            fh.write(b"\0" * max(0, room.f_bavail * room.f_frsize - free_bytes))

    try:
        yield mnt, fill
    finally:
        subprocess.run(["umount", "--lazy", str(mnt)], check=False)


def test_real_full_disk_gives_all_outputs_or_none(media, small_disk, capfd):
    mnt, fill = small_disk
    fill(1 << 30)  # no filler: measure what a run writes
    code, lines = _run(capfd, str(media["clip"]), *_outputs_args(mnt))
    assert code == 0, lines
    need = sum((mnt / n).stat().st_size for n in ("r.json", "r.csv", "a.mp4"))
    outcomes = []
    for free in (0, 4096, need // 4, need // 2, 3 * need // 4, need - 4096, need + 65536):
        fill(free)
        code, lines = _run(capfd, str(media["clip"]), *_outputs_args(mnt))
        left = [n for n in _entries(mnt) if n != "filler"]
        if code == 0:
            assert left == ["a.mp4", "r.csv", "r.json"], (free, left)
            assert json.loads((mnt / "r.json").read_text())["input"]["frame_count"] == 6
            import av

            with av.open(str(mnt / "a.mp4")) as video:
                assert sum(1 for _ in video.decode(video=0)) == 6
        else:
            _assert_disk_full(code, lines, mnt)
            assert left == [], (free, left)
        outcomes.append(code)
    assert 0 in outcomes and 2 in outcomes, outcomes  # both sides of the edge were tried
    # A failed video keeps no deleted file open (its space would stay used until exit).
    assert _open_files_in(mnt) == []


def _open_files_in(folder: Path) -> list[str]:
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if link.startswith(f"{folder}/"):
            found.append(link)
    return found


def test_real_full_disk_pdf_and_batch_leave_nothing_half_written(small_disk, tmp_path, monkeypatch):
    from posture.batch import runner
    from posture.export import write_pdf

    mnt, fill = small_disk
    fill(8192)
    with pytest.raises(OSError) as exc:
        write_pdf(_report_dict(), mnt / "r.pdf")
    assert is_disk_full(exc.value)
    assert _entries(mnt) == ["filler"]

    src, out = _batch_inputs(tmp_path), mnt / "out"
    big = np.random.default_rng(0).integers(0, 255, 96 * 1024, np.uint8).tobytes()
    monkeypatch.setattr(runner, "run_jobs", _fake_jobs({"report.json": big}))
    fill(260 * 1024)  # two results fit, the third does not
    with pytest.raises(runner.DiskFull):
        runner.run_batch(src, out, workers=1)
    results = [n for n in _entries(out) if not n.startswith(".posture")]
    assert all(not n.startswith((".tmp-", ".old-")) for n in _entries(out)), _entries(out)
    for name in results:
        if name != "summary.csv":
            assert (out / name / "report.json").read_bytes() == big
            assert json.loads((out / name / "job.json").read_text())["values"]
    assert "c.mp4" not in results and "a.mp4" in results


def test_without_overwrite_a_target_made_during_the_run_is_kept_and_nothing_written(tmp_path):
    first, second = tmp_path / "r.json", tmp_path / "r.csv"
    with OutputSet([first, second], overwrite=False) as outputs:
        outputs.add_text(first, lambda fh: fh.write("{}"))
        outputs.add_text(second, lambda fh: fh.write("t\n"))
        second.write_text("made by someone else meanwhile")
        with pytest.raises(OutputError, match="r.csv already exists.*--overwrite"):
            outputs.commit()
    assert second.read_text() == "made by someone else meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]  # r.json taken back


def test_refuse_existing_names_the_first_existing_path(tmp_path):
    (tmp_path / "b").write_text("x")
    refuse_existing([None, tmp_path / "a"])  # nothing there: no error
    with pytest.raises(OutputError, match="b already exists"):
        refuse_existing([tmp_path / "a", tmp_path / "b"])

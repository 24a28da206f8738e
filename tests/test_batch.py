"""Batch runs: inputs, keys, atomic result folders and resume, a failing file among good ones."""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.batch.cli import register
from posture.batch.inputs import find_inputs, load_inputs, read_manifest, unique_names
from posture.batch.jobs import BatchSettings, file_sha256, job_key
from posture.batch.runner import run_batch
from posture.batch.store import ResultStore
from posture.errors import OutputError, PostureError
from posture.io.media import StridedVideoSource
from posture.report_schema import validate_report
from tests.media_fixtures import no_person_image, person_image, write_video

SMALL_PX = (256, 256)


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posture")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", encoding="utf-8") as fh:
        return {Path(r["path"]).name: r for r in csv.DictReader(fh)}


# -- inputs ------------------------------------------------------------------------------


def test_folder_inputs_are_recursive_and_skip_hidden_files_and_the_output_folder(tmp_path):
    _touch(tmp_path / "a.mp4")
    _touch(tmp_path / "p1" / "visit.MOV")
    _touch(tmp_path / "p1" / "photo.jpg")
    _touch(tmp_path / "._a.mp4")  # macOS companion file, not a video
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / "out" / "a.mp4" / "annotated.mp4")
    items = find_inputs(tmp_path, exclude=tmp_path / "out")
    assert [i.name for i in items] == ["a.mp4", "p1__photo.jpg", "p1__visit.MOV"]
    assert all(i.path.is_absolute() for i in items)


def test_empty_folder_is_refused_with_one_sentence(tmp_path):
    _touch(tmp_path / "notes.txt")
    with pytest.raises(PostureError, match="No videos or images were found"):
        load_inputs(tmp_path)


def test_manifest_paths_are_relative_to_the_manifest_and_views_apply(tmp_path):
    _touch(tmp_path / "clips" / "a.mp4")
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "path,view,subject\nclips/a.mp4,left,P01\n\n/elsewhere/b.mp4,,P02\n", encoding="utf-8"
    )
    items = read_manifest(manifest, default_view="front")
    assert [(i.path, i.view, i.subject) for i in items] == [
        ((tmp_path / "clips" / "a.mp4").resolve(), "left", "P01"),
        (Path("/elsewhere/b.mp4"), "front", "P02"),
    ]
    assert [i.name for i in items] == ["clips__a.mp4", "b.mp4"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("file,view\na.mp4,front\n", "no 'path' column"),
        ("path,view\na.mp4,top\n", "Row 2 of m.csv has view 'top'"),
        ("path\na.mp4\nb.mp4\na.mp4\n", "Row 4 of m.csv lists a.mp4 again (first on row 2)"),
        ("path,subject\n,P01\n", "Row 2 of m.csv has no path"),
        ("path\n", "lists no files"),
    ],
)
def test_bad_manifest_is_refused_with_one_sentence(tmp_path, text, needle):
    manifest = tmp_path / "m.csv"
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(PostureError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        read_manifest(manifest)


def test_result_names_that_would_repeat_get_a_stable_hash(tmp_path):
    paths = [tmp_path / "a" / "x.mp4", Path("/other/x.mp4"), Path("/third/x.mp4")]
    names = unique_names(paths, tmp_path)
    assert names[0] == "a__x.mp4"
    assert names[1] != names[2]
    assert all(n.startswith("x-") and n.endswith(".mp4") for n in names[1:])
    assert unique_names(paths, tmp_path) == names


# -- keys, store -------------------------------------------------------------------------


def test_key_changes_with_content_settings_view_and_subject(tmp_path):
    f = _touch(tmp_path / "a.mp4", b"video bytes")
    (item,) = find_inputs(tmp_path)
    sha = file_sha256(f)
    base = job_key(sha, item, BatchSettings())
    assert base == job_key(sha, item, BatchSettings())
    changed = [
        job_key(file_sha256(_touch(tmp_path / "b.mp4", b"other bytes")), item, BatchSettings()),
        job_key(sha, item, BatchSettings(frame_stride=2)),
        job_key(sha, item, BatchSettings(annotated=True)),
        job_key(sha, type(item)(item.path, item.name, "left"), BatchSettings()),
        job_key(sha, type(item)(item.path, item.name, None, "P01"), BatchSettings()),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_commit_replaces_a_result_whole_and_stale_temp_folders_are_removed(tmp_path):
    out = tmp_path / "out"
    _touch(out / ".tmp-a.mp4-abc" / "report.json", b"half written")
    _touch(out / ".old-123" / "report.json", b"old")
    with ResultStore(out) as store:
        assert not (out / ".tmp-a.mp4-abc").exists() and not (out / ".old-123").exists()
        store.commit("a.mp4", {"report.json": b"{}", "extra.txt": b"1"}, {"key": "k1"})
        store.commit("a.mp4", {"report.json": b"[]"}, {"key": "k2"})
        assert store.marker("a.mp4") == {"key": "k2"}
    assert sorted(p.name for p in (out / "a.mp4").iterdir()) == ["job.json", "report.json"]
    assert [p.name for p in out.iterdir() if p.name.startswith((".tmp", ".old"))] == []


def test_a_second_batch_into_the_same_folder_is_refused_while_one_runs(tmp_path):
    with ResultStore(tmp_path), pytest.raises(OutputError, match="Another batch is writing"):
        ResultStore(tmp_path).__enter__()


# -- arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--workers", "0"], "--workers 0"),
        (["--stride", "0"], "--stride 0"),
        (["--address", "1.2.3.4:6379"], "add --engine ray"),
    ],
)
def test_bad_arguments_raise_one_sentence(tmp_path, argv, needle):
    _touch(tmp_path / "a.mp4")
    args = _parser().parse_args(["batch", str(tmp_path), "--out", str(tmp_path / "o"), *argv])
    with pytest.raises(PostureError, match=needle):
        args.handler(args)


def test_output_folder_equal_to_the_input_folder_is_refused(tmp_path):
    _touch(tmp_path / "a.mp4")
    with pytest.raises(PostureError, match="--out is the input folder"):
        run_batch(tmp_path, tmp_path)


def test_unknown_engine_is_an_argparse_error_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["batch", str(tmp_path), "--out", "o", "--engine", "spark"])
    assert exc.value.code == 2


# -- stride ------------------------------------------------------------------------------


def test_stride_keeps_every_nth_frame_with_container_times(tmp_path):
    times_s = [0.0, 0.04, 0.07, 0.1, 0.15, 0.2, 0.22, 0.3]  # irregular on purpose
    frames = [np.full((64, 64, 3), 10 * i, np.uint8) for i in range(len(times_s))]
    path = write_video(tmp_path / "v.mp4", frames, times_s)
    src = StridedVideoSource(path, frame_stride=3)
    try:
        got = [f.t_s for f in src.frames()]
    finally:
        src.close()
    assert got == pytest.approx([times_s[0], times_s[3], times_s[6]], abs=1e-3)
    assert src.info.frame_count == 3
    assert src.status.warnings == []  # frames left out are not "missing"


# -- whole batches (MediaPipe) -----------------------------------------------------------


def _good_video(path: Path, n_frames: int = 20) -> Path:
    return write_video(path, [person_image(SMALL_PX)] * n_frames)


@pytest.mark.slow
def test_batch_with_a_corrupt_file_finishes_the_others_and_exits_1(tmp_path, capsys):
    src = tmp_path / "in"
    (src / "p2").mkdir(parents=True)
    _good_video(src / "a.mp4")
    _good_video(src / "p2" / "b.mp4")
    _touch(src / "broken.mp4", b"hello, not a video\n" * 50)
    write_video(src / "cup.mp4", [no_person_image()] * 6)
    cv2.imwrite(str(src / "photo.png"), person_image(SMALL_PX)[:, :, ::-1])
    out = tmp_path / "out"
    argv = ["batch", str(src), "--out", str(out), "--workers", "2", "--annotated"]
    args = _parser().parse_args(argv)

    assert args.handler(args) == 1

    rows = _summary(out)
    assert {n: r["status"] for n, r in rows.items()} == {
        "a.mp4": "ok", "b.mp4": "ok", "broken.mp4": "failed", "cup.mp4": "failed",
        "photo.png": "ok",
    }  # fmt: skip
    assert "broken.mp4 is not a readable video" in rows["broken.mp4"]["error"]
    assert rows["cup.mp4"]["error"].startswith("No person was found in cup.mp4")
    assert float(rows["a.mp4"]["valid_frame_fraction"]) > 0.5
    for name in ("a.mp4", "p2__b.mp4"):
        report = json.loads((out / name / "report.json").read_text())
        assert validate_report(report) == []
        assert report["settings"]["frame_stride"] == 1
        assert (out / name / "frames.csv").read_text().startswith("t,valid,view")
    assert (out / "a.mp4" / "annotated.mp4").stat().st_size > 0
    assert (out / "photo.png" / "annotated.png").stat().st_size > 0
    assert json.loads((out / "photo.png" / "report.json").read_text())["input"]["kind"] == "image"
    assert not (out / "broken.mp4").exists()
    err = capsys.readouterr().err
    assert "2 of 5 inputs failed" in err


@pytest.mark.slow
def test_resume_redoes_only_the_missing_result_and_removes_stale_temp_folders(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    _good_video(src / "a.mp4")
    _good_video(src / "b.mp4", 24)
    out = tmp_path / "out"
    first = run_batch(src, out, workers=2)
    assert [r.status for r in first.rows] == ["ok", "ok"]
    kept_marker = out / "a.mp4" / "job.json"
    kept_mtime_ns = kept_marker.stat().st_mtime_ns

    # An interrupted run: one result never renamed into place, a half-written temp folder.
    for p in (out / "b.mp4").iterdir():
        p.unlink()
    (out / "b.mp4").rmdir()
    _touch(out / ".tmp-b.mp4-x1y2" / "report.json", b'{"half": ')
    os.utime(src / "a.mp4")  # touched, not changed: the content hash decides

    second = run_batch(src, out, workers=2)

    assert [(Path(r.path).name, r.status) for r in second.rows] == [
        ("a.mp4", "skipped"),
        ("b.mp4", "ok"),
    ]
    assert kept_marker.stat().st_mtime_ns == kept_mtime_ns
    assert second.rows[0].values == first.rows[0].values
    assert not (out / ".tmp-b.mp4-x1y2").exists()
    assert json.loads((out / "b.mp4" / "report.json").read_text())["input"]["frame_count"] == 24
    assert _summary(out)["a.mp4"]["status"] == "skipped"


def test_unknown_calibration_profile_stops_the_batch_before_work(tmp_path, monkeypatch):
    import argparse

    from posture.batch.cli import register
    from posture.errors import PostureError

    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(tmp_path / "profiles"))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    (tmp_path / "in").mkdir()
    args = parser.parse_args(
        ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--calibration", "nope"]
    )
    with pytest.raises(PostureError, match="camera profile 'nope'"):
        args.handler(args)
    assert not (tmp_path / "out").exists()


def test_calibration_scales_the_profile_to_each_input(tmp_path, monkeypatch):
    from posture.batch.jobs import BatchSettings
    from posture.calibration.profiles import CameraProfile, save_camera

    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(tmp_path / "profiles"))
    profile = CameraProfile("desk")
    save_camera(profile)
    options = BatchSettings(calibration="desk").analysis_options(None, (1920, 1080))
    assert options.calibration is not None and "desk" in options.calibration


def test_a_result_name_taken_by_the_users_own_file_or_folder_is_refused_and_left_alone(
    tmp_path,
):
    out = tmp_path / "out"
    _touch(out / "a.mp4" / "notes.txt", b"my own notes")  # a folder of the user's
    _touch(out / "b.mp4", b"my own video")  # a file of the user's
    with ResultStore(out) as store:
        for name in ("a.mp4", "b.mp4"):
            assert "is not a posture result" in (store.clash(name) or "")
            with pytest.raises(OutputError, match="left as it is"):
                store.commit(name, {"report.json": b"{}"}, {"key": "k"})
        assert store.clash("c.mp4") is None
        store.commit("c.mp4", {"report.json": b"{}"}, {"key": "k"})
        assert store.clash("c.mp4") is None  # a result of ours may be replaced
    assert (out / "a.mp4" / "notes.txt").read_bytes() == b"my own notes"
    assert sorted(p.name for p in (out / "a.mp4").iterdir()) == ["notes.txt"]
    assert (out / "b.mp4").read_bytes() == b"my own video"
    assert [p.name for p in out.iterdir() if p.name.startswith((".tmp", ".old"))] == []


def test_batch_refuses_an_input_whose_result_name_is_taken_and_finishes_the_rest(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "photo.png"), person_image(SMALL_PX)[:, :, ::-1])
    cv2.imwrite(str(src / "other.png"), person_image(SMALL_PX)[:, :, ::-1])
    out = tmp_path / "out"
    _touch(out / "photo.png", b"the user's own picture")
    args = _parser().parse_args(["batch", str(src), "--out", str(out)])
    assert args.handler(args) == 1
    rows = _summary(out)
    assert rows["photo.png"]["status"] == "failed"
    assert "already exists and is not a posture result" in rows["photo.png"]["error"]
    assert rows["other.png"]["status"] == "ok"
    assert (out / "photo.png").read_bytes() == b"the user's own picture"

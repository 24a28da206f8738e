"""The CLI end to end: real inputs give contract reports; bad inputs one sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.report_schema import validate_report
from tests.media_fixtures import no_person_image, person_image, set_mp4_rotation, write_video

pytestmark = pytest.mark.e2e


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-m", "posture.cli", *args],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def assert_refused(result: subprocess.CompletedProcess, out_dir: Path, needle: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr  # one sentence, no traceback, no model logs
    assert lines[0].startswith("posture: ") and needle in lines[0]
    assert "Traceback" not in result.stderr
    left = [p.name for p in out_dir.iterdir() if p.name.startswith(("r.", ".r."))]
    assert left == [], f"files left behind: {left}"


# Findings that draw no clinical conclusion from the camera.
NO_CONCLUSION = {"not_measured", "not_judged", "could_not_measure", "red_flags_reminder"}


def assert_no_clinical_finding(report: dict) -> None:
    ids = {f["id"] for f in report["findings"]}
    assert ids <= NO_CONCLUSION, ids
    assert "not_judged" in ids or "could_not_measure" in ids


def _save_rgb(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    return path


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _horse() -> np.ndarray:
    from skimage import data

    return np.repeat(np.where(data.horse(), 255, 0).astype(np.uint8)[:, :, None], 3, axis=2)


def _truncated_mp4(d: Path) -> Path:
    full = write_video(d / "full.mp4", [person_image()] * 10)
    return _file(d / "trunc.mp4", full.read_bytes()[: len(full.read_bytes()) // 3])


BAD_INPUTS = {
    "text renamed mp4": (lambda d: _file(d / "a.mp4", b"hello, not a video\n" * 50),
                         "not a readable video"),
    "truncated mp4": (_truncated_mp4, "not a readable video"),
    "zero bytes": (lambda d: _file(d / "z.mp4", b""), "empty"),
    "missing path": (lambda d: d / "nope.mov", "not found"),
    "directory": (lambda d: d, "is a folder"),
    "unsupported extension": (lambda d: _file(d / "clip.gif", b"GIF89a..."), "cannot read"),
    "image with no person": (lambda d: _save_rgb(d / "cup.png", no_person_image()),
                             "No person was found"),
    "video with no person": (lambda d: write_video(d / "cup.mp4", [no_person_image()] * 8),
                             "No person was found"),
    # MediaPipe fits a person lying on its side to this silhouette: no upright person.
    "horse silhouette": (lambda d: _save_rgb(d / "horse.png", _horse()), "No person was found"),
    "corrupt jpeg": (lambda d: _file(d / "x.jpg", b"\xff\xd8\xff\xe0broken"),
                     "not a readable image"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_cleanly(tmp_path, case):
    make, needle = BAD_INPUTS[case]
    src = make(tmp_path)
    result = run_cli("analyze", str(src), "--json", "r.json", "--csv", "r.csv", cwd=tmp_path)
    assert_refused(result, tmp_path, needle)


def test_unwritable_output_folder_is_refused_before_work(tmp_path):
    img = _save_rgb(tmp_path / "p.png", person_image())
    result = run_cli("analyze", str(img), "--json", "no/such/dir/r.json", cwd=tmp_path)
    assert_refused(result, tmp_path, "does not exist")


def test_output_may_not_overwrite_input(tmp_path):
    img = _save_rgb(tmp_path / "r.png", person_image())
    result = run_cli("analyze", str(img), "--json", "r.png", cwd=tmp_path)
    assert result.returncode == 2 and "overwrite the input" in result.stderr
    assert img.stat().st_size > 1000


@pytest.mark.parametrize("existing", ["r.json", "r.csv", "a.png"])
def test_an_existing_output_is_refused_and_kept_until_overwrite(tmp_path, existing):
    img = _save_rgb(tmp_path / "p.png", person_image())
    mine = tmp_path / existing
    mine.write_bytes(b"the user's own file")
    argv = ["analyze", str(img), "--json", "r.json", "--csv", "r.csv", "--annotated", "a.png"]
    result = run_cli(*argv, "--quiet", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines == [
        f"posture: {existing} already exists: give another file name, "
        "or add --overwrite to replace it."
    ]
    assert mine.read_bytes() == b"the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"p.png", existing})
    result = run_cli(*argv, "--quiet", "--overwrite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert validate_report(json.loads((tmp_path / "r.json").read_text())) == []
    assert mine.read_bytes() != b"the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "p.png", "r.csv", "r.json"]


def test_a_dangling_link_as_output_is_refused_too(tmp_path):
    img = _save_rgb(tmp_path / "p.png", person_image())
    (tmp_path / "r.json").symlink_to(tmp_path / "elsewhere.json")
    result = run_cli("analyze", str(img), "--json", "r.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 2 and "r.json already exists" in result.stderr
    assert (tmp_path / "r.json").is_symlink() and not (tmp_path / "elsewhere.json").exists()


def test_photo_of_a_person_gives_a_contract_report(tmp_path):
    img = _save_rgb(tmp_path / "astronaut.png", person_image())
    result = run_cli(
        "analyze", str(img), "--json", "r.json", "--csv", "r.csv", "--annotated", "a.png",
        "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert validate_report(report) == []
    assert report["input"]["kind"] == "image" and report["view"] == "front"
    f = report["frames"][0]
    # The astronaut faces the camera with her head slightly turned and tilted.
    assert abs(f["head_rotation_deg"]) < 25 and abs(f["head_lateral_flexion_deg"]) < 15
    assert report["summary"]["rom"]["rotation_left_deg"] is None  # no ROM from a photo
    assert (tmp_path / "r.csv").read_text().startswith("t,valid,view,reference,cva_deg")
    assert cv2.imread(str(tmp_path / "a.png")) is not None


def _upright_person_video(d: Path, n: int = 6) -> Path:
    return write_video(d / "p.mp4", [person_image()] * n)


def test_one_frame_video_works_and_says_rom_needs_more(tmp_path):
    src = write_video(tmp_path / "one.mp4", [person_image()])
    result = run_cli("analyze", str(src), "--json", "r.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert validate_report(report) == []
    assert len(report["frames"]) == 1
    assert all(v is None for v in report["summary"]["rom"].values())


def test_portrait_phone_clip_with_rotation_metadata_comes_out_upright(tmp_path):
    upright = person_image((360, 480))  # portrait 360x480
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # what the phone stored
    src = write_video(tmp_path / "phone.mp4", [stored] * 5)
    set_mp4_rotation(src, 90)  # turn 90 deg clockwise to display upright
    result = run_cli(
        "analyze", str(src), "--json", "r.json", "--annotated", "a.mp4", "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["input"]["width"], report["input"]["height"]) == (360, 480)
    assert report["quality"]["valid_frame_fraction"] == 1.0  # a person, so upright
    cap = cv2.VideoCapture(str(tmp_path / "a.mp4"))
    ok, frame = cap.read()
    assert ok and frame.shape[:2] == (480, 360)


def test_4k_video_is_streamed_and_annotated_as_h264(tmp_path):
    frames = [person_image((2160, 2160))] * 4
    big = [np.ascontiguousarray(np.pad(f, ((0, 0), (840, 840), (0, 0)))) for f in frames]
    src = write_video(tmp_path / "uhd.mp4", big)
    result = run_cli(
        "analyze", str(src), "--json", "r.json", "--annotated", "a.mp4", "--quiet", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["input"]["width"], report["input"]["height"]) == (3840, 2160)
    assert report["quality"]["valid_frame_fraction"] == 1.0
    import av

    with av.open(str(tmp_path / "a.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"


def test_wrong_annotated_extension_is_refused(tmp_path):
    src = _upright_person_video(tmp_path)
    result = run_cli("analyze", str(src), "--json", "r.json", "--annotated", "r.avi", cwd=tmp_path)
    assert_refused(result, tmp_path, "--annotated needs an .mp4")


@pytest.mark.slow
def test_real_clip_with_several_people(shared_data, tmp_path):
    src = shared_data / "sports2d_demo" / "demo.mp4"
    result = run_cli("analyze", str(src), "--json", "r.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert validate_report(report) == []
    assert report["input"]["frame_count"] == 230
    assert report["input"]["fps"] == pytest.approx(30, abs=0.1)
    assert report["quality"]["people_in_view_max"] >= 2
    assert any("Several people" in w for w in report["quality"]["warnings"])
    assert report["quality"]["valid_frame_fraction"] > 0.8
    # A man walking and jumping, no ROM protocol: the values stay in the report, but no
    # clinical finding is drawn from them (it once said "your head sat clearly forward"
    # and "bending the head back: much less than usual").
    assert report["summary"]["cva_deg"] is not None
    assert_no_clinical_finding(report)


@pytest.mark.slow
def test_real_portrait_clip_with_masked_face(shared_data, tmp_path):
    src = shared_data / "pose2sim_portrait" / "cam01.mp4"
    result = run_cli("analyze", str(src), "--json", "r.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert validate_report(report) == []
    assert (report["input"]["width"], report["input"]["height"]) == (1080, 1920)
    # The subject bends far sideways mid-clip; those frames read as side views without a CVA.
    assert report["quality"]["valid_frame_fraction"] >= 0.75
    # The face is hidden by a disc: no head angle may be invented.
    assert all(f["head_rotation_deg"] is None for f in report["frames"])
    assert any("face was not found" in w for w in report["quality"]["warnings"])
    # Walking toward the camera: its tilts (about 40 deg) are no finding.
    assert report["summary"]["head_tilt_deg"] is not None
    assert_no_clinical_finding(report)


def test_absent_webcam_is_refused_cleanly(tmp_path):
    result = run_cli("analyze", "--camera", "7", "--json", "r.json", cwd=tmp_path)
    assert_refused(result, tmp_path, "Camera 7 could not be opened")


def test_input_and_camera_together_are_refused(tmp_path):
    img = _save_rgb(tmp_path / "p.png", person_image())
    result = run_cli("analyze", str(img), "--camera", "0", "--json", "r.json", cwd=tmp_path)
    assert_refused(result, tmp_path, "either an INPUT file or --camera")


def test_findings_and_answers_are_in_the_report(tmp_path):
    img = _save_rgb(tmp_path / "p.png", person_image())
    answers = {"history_of_cancer": "yes", "sudden_severe_headache": "no"}
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    result = run_cli(
        "analyze", str(img), "--json", "r.json", "--answers", "answers.json", "--age", "40",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["questionnaire"]["history_of_cancer"] == "yes"
    assert report["findings"][0]["id"] == "red_flag.doctor_soon"
    # The red flag is printed before any measured value.
    lines = result.stdout.splitlines()
    assert lines[0].startswith("IMPORTANT: ") and "See a doctor" in lines[0], lines[:3]
    assert lines.index("Posture:") > 0


@pytest.mark.parametrize("input_kind", ["photo", "video", "missing file"])
def test_an_emergency_red_flag_prints_no_measurement_and_writes_nothing(tmp_path, input_kind):
    """With an emergency sign in --answers nothing is analysed: the emergency instruction is
    all that is printed, whatever the input (even one that would be refused), exit 4."""
    inputs = {
        "photo": lambda: str(_save_rgb(tmp_path / "p.png", person_image())),
        "video": lambda: str(_upright_person_video(tmp_path)),
        "missing file": lambda: str(tmp_path / "nowhere.mp4"),
    }
    (tmp_path / "answers.json").write_text(json.dumps({"trouble_speaking_or_swallowing": "yes"}))
    result = run_cli(
        "analyze", inputs[input_kind](), "--json", "r.json", "--csv", "r.csv",
        "--answers", "answers.json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    out = result.stdout
    assert out.startswith("EMERGENCY: ") and "9-1-1" in out and "trouble speaking" in out
    assert "deg" not in out and "Posture" not in out and "Range of motion" not in out
    assert result.stderr.strip().startswith("posture: stopped before measuring")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [("not json", "not readable JSON"), ('{"no_such_question": "yes"}', "does not match")],
)
def test_bad_answers_file_is_refused(tmp_path, content, needle):
    img = _save_rgb(tmp_path / "p.png", person_image())
    (tmp_path / "answers.json").write_text(content)
    result = run_cli("analyze", str(img), "--json", "r.json", "--answers", "answers.json",
                     cwd=tmp_path)  # fmt: skip
    assert_refused(result, tmp_path, needle)


@pytest.mark.parametrize("flag", ["--answers", "--previous"])
def test_an_endless_or_huge_side_file_is_refused_without_reading_it_all(tmp_path, flag):
    # /dev/zero used to be read until memory ran out; a file past its limit is refused
    # after reading one byte more than the limit.
    img = _save_rgb(tmp_path / "p.png", person_image())
    result = run_cli("analyze", str(img), "--json", "r.json", flag, "/dev/zero", cwd=tmp_path)
    assert_refused(result, tmp_path, "far more than such a file holds")


def test_bounded_reading_of_manifests_and_profiles(tmp_path):
    from posture.batch.inputs import read_manifest
    from posture.calibration.profiles import _read
    from posture.errors import PostureError
    from posture.io.bounded import FileTooLarge, read_text_at_most

    small = tmp_path / "small.txt"
    small.write_text("x" * 10)
    assert read_text_at_most(small, 10) == "x" * 10
    with pytest.raises(FileTooLarge):
        read_text_at_most(small, 9)
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(25_000_000)  # sparse: 25 MB of zeros on no disk
    with pytest.raises(PostureError, match="far more than such a file holds"):
        read_manifest(big)
    with pytest.raises(PostureError, match="far more than such a file holds"):
        _read(big, "camera", "camera profile", "run posture calibrate")


def test_a_symlink_loop_as_input_or_output_is_one_sentence_not_a_crash(tmp_path, capsys):
    from posture.cli import main

    loop = tmp_path / "x.mp4"
    loop.symlink_to(tmp_path / "x.mp4")
    assert main(["analyze", str(loop), "--json", str(tmp_path / "r.json"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert not (tmp_path / "r.json").exists()

"""Subject neutral: stored from a still recording, then used as the ROM reference."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from posture.calibration.cli import register
from posture.calibration.neutral import neutral_from_report
from posture.calibration.options import calibrated_options
from posture.calibration.profiles import load_subject, subject_path
from posture.errors import InputError
from posture.options import AnalysisOptions

REPO = Path(__file__).resolve().parent.parent
ROM_CLIP = REPO / "sample_videos" / "rom_front.mp4"


@pytest.fixture(autouse=True)
def profiles_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "profiles"
    monkeypatch.setenv("POSTURE_CALIBRATION_DIR", str(d))
    return d


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="posture")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def fake_report(kind: str = "video", source: str | None = "still period") -> dict:
    neutral = None
    if source is not None:
        neutral = {
            "source": source,
            "t_start_s": 0.1,
            "t_end_s": 0.9,
            "head_rotation_deg": 3.0,
            "head_flexion_deg": -2.0,
            "head_lateral_flexion_deg": 1.5,
        }
    return {
        "input": {"kind": kind},
        "view": "front",
        "summary": {"cva_deg": None, "head_tilt_deg": 1.0, "shoulder_tilt_deg": -0.5},
        "neutral": neutral,
    }


def test_neutral_is_taken_from_the_still_period():
    n = neutral_from_report(fake_report(), "P1", "desk")
    assert n.neutral_deg == {
        "head_rotation_deg": 3.0,
        "head_flexion_deg": -2.0,
        "head_lateral_flexion_deg": 1.5,
    }
    assert n.posture_deg["head_tilt_deg"] == 1.0
    assert n.camera == "desk"


@pytest.mark.parametrize(
    ("report", "needle"),
    [
        (fake_report(kind="image"), "not a photo"),
        (fake_report(source=None), "No neutral head position"),
        (fake_report(source="start of recording"), "did not keep still"),
    ],
)
def test_neutral_refusals(report, needle):
    with pytest.raises(InputError, match=needle):
        neutral_from_report(report, "P1", None)


class _FakeReport:
    def __init__(self, d: dict) -> None:
        self._d = d

    def to_dict(self) -> dict:
        return self._d


def test_neutral_command_stores_the_subject(tmp_path, monkeypatch, capsys):
    import posture.pipeline

    seen = {}

    def fake_analyze(path, options, progress=None):
        seen["options"] = options
        return _FakeReport(fake_report())

    monkeypatch.setattr(posture.pipeline, "analyze", fake_analyze)
    clip = tmp_path / "still.mp4"
    clip.write_bytes(b"x")
    assert run(["calibrate", "neutral", str(clip), "--subject", "P017", "--quiet"]) == 0
    assert "P017" in capsys.readouterr().out
    assert seen["options"].neutral_deg is None  # measured from this recording itself
    assert load_subject("P017").neutral_deg["head_rotation_deg"] == 3.0
    options = calibrated_options(AnalysisOptions(), subject="P017")
    assert options.neutral_deg["head_flexion_deg"] == -2.0


@pytest.mark.parametrize("damaged", [False, True])
def test_a_stored_neutral_is_kept_until_overwrite(tmp_path, monkeypatch, damaged):
    import posture.pipeline

    monkeypatch.setattr(posture.pipeline, "analyze", lambda *a, **k: _FakeReport(fake_report()))
    clip = tmp_path / "still.mp4"
    clip.write_bytes(b"x")
    path = subject_path("P017")
    path.parent.mkdir(parents=True)
    path.write_text("{not json" if damaged else "")
    if not damaged:
        assert run(["calibrate", "neutral", str(clip), "--subject", "P017", "--quiet",
                    "--overwrite"]) == 0  # fmt: skip
    before = path.read_bytes()
    when = "" if damaged else r" \(measured 20\d\d-\d\d-\d\d\)"
    with pytest.raises(InputError, match=rf"A neutral for subject 'P017' is already stored{when}:"
                       " give another --subject, or add --overwrite to replace it"):  # fmt: skip
        run(["calibrate", "neutral", str(clip), "--subject", "P017", "--quiet"])
    assert path.read_bytes() == before
    assert run(["calibrate", "neutral", str(clip), "--subject", "P017", "--quiet",
                "--overwrite"]) == 0  # fmt: skip
    assert load_subject("P017").neutral_deg["head_rotation_deg"] == 3.0


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["photo.jpg", "--subject", "P1"], "not a photo"),
        (["clip.mp4", "--subject", "Jane Doe"], "cannot be used as a subject ID"),
        (["missing.mp4", "--subject", "P1"], "not found"),
        (["clip.mp4", "--subject", "P1", "--calibration", "nope"], "No camera profile 'nope'"),
    ],
)
def test_neutral_command_refusals(tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clip.mp4").write_bytes(b"not really a video")
    with pytest.raises(InputError, match=needle):
        run(["calibrate", "neutral", *argv, "--quiet"])
    assert not subject_path("P1").exists()


@pytest.mark.slow
def test_neutral_from_a_rendered_still_start_then_used_for_rom(tmp_path):
    """rom_front.mp4 starts with 1.5 s of neutral (true head angles 0)."""
    from posture.io.media import open_media
    from posture.pipeline import analyze
    from tests.media_fixtures import write_video

    if not ROM_CLIP.exists():
        pytest.skip("sample_videos/rom_front.mp4 not present")
    source = open_media(ROM_CLIP)
    frames = [f.rgb for f, _ in zip(source.frames(), range(60), strict=False)]
    source.close()
    clip = write_video(tmp_path / "neutral.mp4", frames, fps=30)
    assert run(["calibrate", "neutral", str(clip), "--subject", "S1", "--quiet"]) == 0
    neutral = load_subject("S1")
    for value in neutral.neutral_deg.values():
        assert abs(value) < 6.0
    options = calibrated_options(AnalysisOptions(), subject="S1")
    report = analyze(clip, options).to_dict()
    assert report["neutral"]["source"] == "calibration profile"
    assert report["settings"]["calibration"] == "subject S1"
    assert np.isclose(
        report["neutral"]["head_rotation_deg"], neutral.neutral_deg["head_rotation_deg"]
    )

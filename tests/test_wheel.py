"""The wheel ships every file the library reads, and a missing model file is an error.

The slow tests build the wheel from a copy of the sources (nothing is written into
the checkout), install it into a new venv that cannot see the repository's editable
install, and analyse two short cuts of the bundled sample clips from there: the
front cut reads the face model (head angles), the side cut the CVA model.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from posture.errors import PostureError
from posture.geometry import head, posture_angles

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_videos"
# The fitted files the measurements need; every other data file in posture/ is checked too.
MODEL_FILES = ("posture/geometry/data/face_model.npz", "posture/geometry/data/cva_model.json")
CUT_FRAMES = 45  # 1.5 s of each sample clip: enough for head angles and a CVA


# -- fast: the loaders ------------------------------------------------------------------


def test_missing_face_model_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "face_model.npz"
    with pytest.raises(PostureError, match="installation is incomplete") as err:
        head.load_face_model(missing)
    assert str(missing) in str(err.value) and "reinstall" in str(err.value)


def test_unreadable_face_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "face_model.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(PostureError, match="cannot be read.*reinstall"):
        head.load_face_model(bad)


def test_missing_cva_model_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "cva_model.json"
    with pytest.raises(PostureError, match="installation is incomplete") as err:
        posture_angles._load_c7_fractions(missing)
    assert str(missing) in str(err.value) and "reinstall" in str(err.value)


def test_unreadable_cva_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "cva_model.json"
    bad.write_text('{"c7_back_fraction": 0.3}')  # no up fraction: never a default
    with pytest.raises(PostureError, match="cannot be read.*reinstall"):
        posture_angles._load_c7_fractions(bad)


def test_cva_fractions_come_from_the_model_file() -> None:
    model = json.loads(posture_angles.CVA_MODEL_PATH.read_text())
    fractions = (posture_angles.C7_BACK_FRACTION, posture_angles.C7_UP_FRACTION)
    assert fractions == (model["c7_back_fraction"], model["c7_up_fraction"])


# -- slow: the wheel in a clean venv ----------------------------------------------------


@dataclass(frozen=True)
class Installed:
    wheel: Path
    python: Path
    posture: Path  # the console script
    package_dir: Path  # site-packages/posture of the clean venv
    front: Path  # short clips (cut from sample_videos/)
    side: Path
    work: Path  # cwd for the runs, outside the repository


def _venv_can_build_offline() -> bool:
    """Setuptools here builds wheels without fetching the build requirements."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    import setuptools

    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2])
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _build_wheel(root: Path) -> Path:
    src, dist = root / "src", root / "dist"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(
        REPO / "posture", src / "posture", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    if _venv_can_build_offline():
        cmd.insert(5, "--no-build-isolation")
    # Otherwise pip fetches setuptools and wheel for an isolated build (from the index).
    subprocess.run(cmd, check=True, cwd=root, env=_clean_env(), timeout=300)
    (wheel,) = dist.glob("posture-*.whl")
    return wheel


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _clean_venv(root: Path, wheel: Path) -> tuple[Path, Path]:
    """(python, site-packages) of a new venv holding the wheel. The dependencies come from
    this venv's site-packages, added as a plain path line: the .pth files there (the
    editable install's finder among them) are not run, so ``posture`` is the wheel's."""
    venv = root / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, env=_clean_env())
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
            env=_clean_env(),
        ).stdout.strip()
    )
    (site / "dev-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
        + ["--no-index", "-q", str(wheel)],
        check=True,
        env=_clean_env(),
        timeout=120,
    )
    return python, site


def _cut(src: Path, dst: Path, n_frames: int) -> Path:
    """The first ``n_frames`` of a clip, re-encoded (H.264, same size and rate)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        enc = out.add_stream("libx264", rate=stream.average_rate)
        enc.width, enc.height, enc.pix_fmt = stream.width, stream.height, "yuv420p"
        for i, frame in enumerate(inp.decode(stream)):
            if i >= n_frames:
                break
            for packet in enc.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in enc.encode():
            out.mux(packet)
    return dst


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(root)
    python, site = _clean_venv(root, wheel)
    work = root / "work"
    work.mkdir()
    front = _cut(SAMPLES / "rom_front.mp4", work / "front.mp4", CUT_FRAMES)
    side = _cut(SAMPLES / "sitting_side.mp4", work / "side.mp4", CUT_FRAMES)
    return Installed(wheel, python, python.parent / "posture", site / "posture", front, side, work)


def _analyze(inst: Installed, clip: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(inst.posture), "analyze", str(clip), "--json", str(out), "--quiet"],
        cwd=inst.work,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_wheel_ships_every_data_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    data_files = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "posture").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert set(MODEL_FILES) <= data_files
    assert not data_files - names, f"missing from the wheel: {sorted(data_files - names)}"
    # Test and benchmark code (the renderer, its 3 MB of bodies) is not shipped.
    assert not [n for n in names if n.startswith(("synthetic/", "tests/", "benchmarks/"))]
    assert any(n.startswith("posture/") for n in names)
    for name in data_files:
        assert (installed.package_dir.parent / name).is_file(), f"{name} not installed"
    where = subprocess.run(
        [str(installed.python), "-c", "import posture; print(posture.__file__)"],
        cwd=installed.work,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).parent == installed.package_dir  # the wheel's, not the checkout's


@pytest.mark.slow
@pytest.mark.e2e
def test_installed_wheel_measures_head_angles_and_cva(installed: Installed) -> None:
    front_out, side_out = installed.work / "front.json", installed.work / "side.json"
    for clip, out in ((installed.front, front_out), (installed.side, side_out)):
        run = _analyze(installed, clip, out)
        assert run.returncode == 0, run.stderr
    front = json.loads(front_out.read_text())
    assert front["view"] == "front"
    head_frames = [f for f in front["frames"] if f["head_rotation_deg"] is not None]
    assert len(head_frames) > CUT_FRAMES // 2
    for f in head_frames:
        for key in ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg"):
            assert math.isfinite(f[key]), (key, f)
    side = json.loads(side_out.read_text())
    assert side["view"] in ("left", "right")
    assert math.isfinite(side["summary"]["cva_deg"])
    assert 40.0 < side["summary"]["cva_deg"] < 70.0


@pytest.mark.slow
@pytest.mark.e2e
def test_installed_wheel_without_a_model_file_says_so(installed: Installed) -> None:
    """Runs last on the fixture: it removes the model files from the clean venv."""
    cases = (
        ("geometry/data/face_model.npz", installed.front, "head-pose model file"),
        ("geometry/data/cva_model.json", installed.side, "CVA model file"),
    )
    for name, clip, what in cases:
        (installed.package_dir / name).unlink()
        out = installed.work / "broken.json"
        run = _analyze(installed, clip, out)
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
        assert lines[0].startswith(f"posture: The {what} ") and "reinstall" in lines[0]
        assert str(installed.package_dir / name) in lines[0]
        assert not out.exists()

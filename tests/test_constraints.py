"""constraints.txt pins every installed version and agrees with pyproject.toml and .venv.

Offline: it reads the two files and the running environment's metadata (tools/lock.py).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("posture_lock", REPO / "tools" / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)

PYPROJECT = (REPO / "pyproject.toml").read_text()
CONSTRAINTS = (REPO / "constraints.txt").read_text()


@pytest.fixture(scope="module")
def dists():
    return lock.installed_distributions()


@pytest.fixture(scope="module")
def locked(dists):
    """What make lock writes from this environment: the base the failure cases edit."""
    return lock.lock_text(PYPROJECT, dists)[0]


def _repin(text: str, name: str, version: str) -> str:
    new, count = re.subn(rf"(?mi)^{re.escape(name)}==.*$", f"{name}=={version}", text)
    assert count == 1, f"{name} is not pinned once in the text"
    return new


def test_constraints_agree_with_pyproject_and_environment(dists):
    problems = lock.check(CONSTRAINTS, PYPROJECT, dists)
    assert not problems, "\n".join(problems) + "\nRun make lock (README, Pinned versions)."


def test_constraints_file_is_what_lock_writes(locked):
    assert locked == CONSTRAINTS, "constraints.txt is not what make lock writes from .venv"


def test_check_command_passes_offline():
    run = subprocess.run(
        [sys.executable, str(REPO / "tools" / "lock.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr


def test_make_synth_extras_are_not_pinned():
    pinned = set(lock.parse_constraints(CONSTRAINTS)[0])
    assert not pinned & {"pyrender", "pyopengl", "trimesh", "pyglet", "freetype-py", "six"}


def test_missing_direct_dependency_fails(locked, dists):
    text = re.sub(r"(?mi)^streamlit-webrtc==.*\n", "", locked)
    problems = lock.check(text, PYPROJECT, dists)
    assert any(
        "streamlit-webrtc is required by pyproject.toml but has no pin" in p for p in problems
    )


def test_pin_outside_pyproject_specifier_fails(locked, dists):
    problems = lock.check(_repin(locked, "starlette", "1.5.0"), PYPROJECT, dists)
    assert any("starlette==1.5.0, which pyproject.toml's starlette<1.5" in p for p in problems)


def test_pin_that_differs_from_installed_fails(locked, dists):
    installed = dists["numpy"].version
    other = "1.26.3" if installed != "1.26.3" else "1.26.2"  # both inside numpy>=1.26,<2
    problems = lock.check(_repin(locked, "numpy", other), PYPROJECT, dists)
    assert problems == [f"constraints.txt pins numpy=={other} but the environment has {installed}."]


def test_missing_transitive_pin_and_stale_pin_fail(locked, dists):
    text = re.sub(r"(?mi)^tzdata==.*\n", "", locked) + "pyrender==0.1.45\n"
    problems = lock.check(text, PYPROJECT, dists)
    assert any(p.startswith("tzdata ") and "has no pin" in p for p in problems)
    assert any("pins pyrender, which posture[dev] does not need" in p for p in problems)


def test_malformed_line_fails(locked, dists):
    problems = lock.check(locked + "ruff>=0.6\n", PYPROJECT, dists)
    assert any("is not a name==version pin" in p for p in problems)


def test_check_command_fails_on_tmp_file(tmp_path, locked):
    bad = tmp_path / "constraints.txt"
    bad.write_text(_repin(locked, "starlette", "1.5.0"))
    run = subprocess.run(
        [sys.executable, str(REPO / "tools" / "lock.py"), "--check", "--constraints", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "starlette==1.5.0" in run.stderr


def test_write_to_tmp_file(tmp_path, locked):
    out = tmp_path / "constraints.txt"
    assert lock.main(["--write", "--constraints", str(out)]) == 0
    assert out.read_text() == locked

"""The ray engine on a private local Ray instance gives the same results as the process pool."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from posture.batch.runner import run_batch
from posture.errors import PostureError
from tests.media_fixtures import person_image, write_video

ray = pytest.importorskip("ray")

TIMING_COLUMNS = ("seconds_taken",)


@pytest.fixture
def no_ray_left_running():
    yield
    ray.shutdown()


def _folder(d: Path) -> Path:
    d.mkdir()
    img = person_image((256, 256))
    write_video(d / "a.mp4", [img] * 20)
    write_video(d / "b.mp4", [img[:, ::-1].copy()] * 16)
    (d / "broken.mp4").write_bytes(b"not a video\n" * 40)
    return d


def _summary_without_timing(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


@pytest.mark.slow
def test_ray_engine_on_a_local_instance_matches_the_local_engine(tmp_path, no_ray_left_running):
    src = _folder(tmp_path / "in")
    local = run_batch(src, tmp_path / "local", engine="local", workers=2)
    on_ray = run_batch(src, tmp_path / "ray", engine="ray", workers=2)

    assert not ray.is_initialized()  # the engine shut down the instance it started
    assert [r.status for r in on_ray.rows] == ["ok", "ok", "failed"]
    assert [r.error for r in on_ray.rows] == [r.error for r in local.rows]
    assert _summary_without_timing(tmp_path / "ray") == _summary_without_timing(tmp_path / "local")
    for name in ("a.mp4", "b.mp4"):
        for file_name in ("report.json", "frames.csv"):
            got = (tmp_path / "ray" / name / file_name).read_bytes()
            assert got == (tmp_path / "local" / name / file_name).read_bytes(), file_name
        report = json.loads((tmp_path / "ray" / name / "report.json").read_text())
        assert report["batch"]["input_sha256"]


def test_an_unreachable_cluster_address_is_refused_quickly(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.mp4").write_bytes(b"bytes")  # never opened: the connection fails first
    with pytest.raises(PostureError, match="Could not connect to the Ray cluster at 127.0.0.1:1"):
        run_batch(src, tmp_path / "out", engine="ray", address="127.0.0.1:1")
    assert not ray.is_initialized()

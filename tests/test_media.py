"""Reading media: rotation metadata, container timestamps, streaming, refusals."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posture.errors import InputError
from posture.io.media import open_media
from tests.media_fixtures import set_mp4_rotation, write_video


def _marked_frames(n: int, w: int = 64, h: int = 48) -> list[np.ndarray]:
    frames = []
    for _ in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[:12, :20] = (255, 0, 0)  # a red block in the top-left corner
        frames.append(img)
    return frames


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_metadata_is_applied_like_opencv(tmp_path, degrees):
    path = write_video(tmp_path / "phone.mp4", _marked_frames(3))
    set_mp4_rotation(path, degrees)
    src = open_media(path)
    ours = next(src.frames()).rgb
    src.close()
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, bgr = cap.read()
    assert ok
    assert ours.shape == bgr.shape
    assert (src.info.width, src.info.height) == (bgr.shape[1], bgr.shape[0])
    # Same picture up to codec noise: the red block lands in the same corner.
    assert np.mean(np.abs(ours.astype(int) - bgr[:, :, ::-1].astype(int))) < 4


def test_timestamps_come_from_the_container_not_the_frame_rate(tmp_path):
    times = [0.0, 0.040, 0.070, 0.150, 0.160, 0.300]  # variable frame rate
    path = write_video(tmp_path / "vfr.mp4", _marked_frames(len(times)), times_s=times)
    src = open_media(path)
    got = [f.t_s for f in src.frames()]
    src.close()
    assert got == pytest.approx(times, abs=0.002)


def test_large_frames_are_scaled_down_while_streaming(tmp_path):
    big = [np.zeros((2160, 3840, 3), np.uint8) for _ in range(2)]
    src = open_media(write_video(tmp_path / "4k.mp4", big), max_side_px=1920)
    assert (src.info.width, src.info.height) == (3840, 2160)
    shapes = {f.rgb.shape for f in src.frames()}
    src.close()
    assert shapes == {(1080, 1920, 3)}


def test_scaling_a_video_while_converting_matches_converting_first(tmp_path):
    # Large yuv420p frames are scaled as YUV planes, then converted to RGB; the
    # picture must match FFmpeg's conversion of the full frame, scaled after.
    import av

    from tests.media_fixtures import person_image

    frames = [person_image((1768, 994)), person_image((1768, 994))[::-1].copy()]
    path = write_video(tmp_path / "big.mp4", frames)
    src = open_media(path, max_side_px=1280)
    ours = [f.rgb for f in src.frames()]
    src.close()
    assert len(ours) == 2 and src.status.warnings == []  # a two-frame clip is whole
    with av.open(str(path)) as container:
        decoded = list(container.decode(video=0))
    assert decoded[0].format.name == "yuv420p"
    for got, frame in zip(ours, decoded, strict=True):
        want = cv2.resize(frame.to_ndarray(format="rgb24"), (1280, 720))
        assert got.shape == want.shape == (720, 1280, 3)
        diff = np.abs(got.astype(int) - want.astype(int))
        # Within codec noise except along sharp colour edges, where the two place the
        # half-resolution colour samples slightly differently (measured: mean 1.2,
        # 99th percentile 5, worst 0.1% up to 13 of 255).
        assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 6


def _text_as_mp4(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 20)
    return p


def _file(tmp_path, name: str, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _truncated_header(tmp_path):
    full = write_video(tmp_path / "full.mp4", _marked_frames(30))
    p = tmp_path / "cut.mp4"
    p.write_bytes(full.read_bytes()[:200])
    return p


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.mp4", "not found"),
        (lambda d: d, "is a folder"),
        (lambda d: _file(d, "empty.mp4", b""), "empty"),
        (lambda d: _file(d, "clip.gif", b"GIF89a"), "cannot read"),
        (lambda d: _file(d, "noext", b"x"), "without an extension"),
        (_text_as_mp4, "not a readable video"),
        (_truncated_header, "not a readable video"),
        (lambda d: _file(d, "photo.jpg", b"\xff\xd8garbage"), "not a readable image"),
    ],
)  # fmt: skip
def test_bad_inputs_are_refused_with_one_sentence(tmp_path, make, needle):
    with pytest.raises(InputError) as err:
        open_media(make(tmp_path))
    msg = str(err.value)
    assert needle in msg
    assert "\n" not in msg and msg.endswith(".")


def test_video_cut_short_keeps_the_frames_before_the_damage(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(30)]
    full = write_video(tmp_path / "full.mp4", frames).read_bytes()
    cut = tmp_path / "cut.mp4"
    # Keep the header (moov at the end is lost by cutting, so move it first).
    import av

    faststart = tmp_path / "fast.mp4"
    with (
        av.open(str(tmp_path / "full.mp4")) as inp,
        av.open(str(faststart), "w", options={"movflags": "faststart"}) as out,
    ):
        s_in = inp.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        for packet in inp.demux(s_in):
            if packet.dts is None:
                continue
            packet.stream = s_out
            out.mux(packet)
    data = faststart.read_bytes()
    assert len(data) < len(full) + 4096
    cut.write_bytes(data[: int(len(data) * 0.6)])
    src = open_media(cut)
    n = sum(1 for _ in src.frames())
    src.close()
    assert 0 < n < 30
    assert any("ends early" in w for w in src.status.warnings)


def _png_header_only(path, width: int, height: int):
    """A small PNG whose header says ``width`` x ``height`` (its pixel data is cut short):
    what a hostile upload looks like."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress((b"\x00" + b"\x00" * 3 * width) * 50, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows)
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


@pytest.mark.parametrize(("width", "height"), [(8000, 7000), (30000, 30000), (60000, 60000)])
def test_huge_image_is_refused_from_its_header_before_decoding(
    tmp_path, monkeypatch, width, height
):
    p = _png_header_only(tmp_path / "huge.png", width, height)
    assert p.stat().st_size < 2_000_000
    decoded = []
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decoded.append(1))
    with pytest.raises(InputError) as err:
        open_media(p)
    msg = str(err.value)
    assert "50 megapixels" in msg and "\n" not in msg and msg.endswith(".")
    assert decoded == []  # refused before any pixel was decoded


def test_image_exactly_at_the_limit_is_read_and_one_pixel_over_is_not(tmp_path, monkeypatch):
    import posture.io.media as media

    p = tmp_path / "photo.png"
    cv2.imwrite(str(p), np.zeros((40, 60, 3), np.uint8))
    monkeypatch.setattr(media, "MAX_FRAME_PIXELS", 40 * 60)
    src = open_media(p)
    assert (src.info.width, src.info.height) == (60, 40)
    src.close()
    monkeypatch.setattr(media, "MAX_FRAME_PIXELS", 40 * 60 - 1)
    with pytest.raises(InputError, match="60x40 pixels"):
        open_media(p)


def test_video_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    import posture.io.media as media

    p = write_video(tmp_path / "clip.mp4", _marked_frames(3, 64, 48))
    monkeypatch.setattr(media, "MAX_FRAME_PIXELS", 64 * 48 - 1)
    peeked = []
    monkeypatch.setattr(media.VideoSource, "_peek_first_frame", lambda self: peeked.append(1))
    with pytest.raises(InputError, match=r"64x48 pixels"):
        open_media(p)
    assert peeked == []
    monkeypatch.undo()
    monkeypatch.setattr(media, "MAX_FRAME_PIXELS", 64 * 48)
    src = open_media(p)
    assert src.info.width == 64
    src.close()


def test_cli_and_dashboard_refuse_a_huge_photo_with_one_sentence(
    tmp_path, capsys, private_system_temp
):
    import tempfile
    from pathlib import Path

    from app.analysis import analyze_upload
    from posture.cli import main

    p = _png_header_only(tmp_path / "huge.png", 30000, 30000)
    out = tmp_path / "r.json"
    assert main(["analyze", str(p), "--json", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "50 megapixels" in err
    assert not out.exists()
    before = set(Path(tempfile.gettempdir()).glob("posture-result-*"))
    with pytest.raises(InputError, match="50 megapixels"):
        analyze_upload(p, "huge.png")
    assert set(Path(tempfile.gettempdir()).glob("posture-result-*")) == before


@pytest.mark.parametrize("stride", [0, -2])
def test_a_frame_stride_below_one_is_refused(stride):
    from posture.options import AnalysisOptions
    from posture.pipeline import analyze

    with pytest.raises(ValueError, match="frame_stride must be 1 or more"):
        clip = Path(__file__).resolve().parent.parent / "sample_videos" / "rom_full_range.mp4"
        analyze(clip, AnalysisOptions(frame_stride=stride))

"""A fixed 24-case slice of benchmarks/fuzz.py (issue #15 item 8), through the same code.

Cases 0-23 of seed 15 are one of each mutation kind (case N is kind N % 24), among them
truncation inside the moov atom, bit flips, huge PNG/JPEG/WebP headers, a symlink to
/dev/zero and a folder named x.mp4. Each must end with exit 0 or 2 within the time limit,
with one sentence on stderr and no file left behind. The full run (500 cases) is
``python benchmarks/fuzz.py``; docs/fuzzing.md has its figures.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SLICE_SEED = 15
SLICE = range(24)


def _load_fuzz():
    name = "posture_fuzz_benchmark"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


def test_slice_covers_every_mutation_kind():
    assert {fuzz.KINDS[n % len(fuzz.KINDS)] for n in SLICE} == set(fuzz.KINDS)


def test_cases_are_reproducible(tmp_path):
    seeds = fuzz.make_seeds(tmp_path / "seeds")
    for n in (1, 2, 13, 16, 23):  # truncate, moov cut, huge PNG, atom size, stacked
        a = fuzz.build_case(n, SLICE_SEED, seeds, tmp_path / f"a{n}")
        b = fuzz.build_case(n, SLICE_SEED, seeds, tmp_path / f"b{n}")
        assert (a.kind, a.seed, a.detail) == (b.kind, b.seed, b.detail)
        assert Path(a.input).read_bytes() == Path(b.input).read_bytes()


def _fake(tmp_path, **kw) -> object:
    case = fuzz.Case(
        0, "truncate", "sitting_side.mp4", "test", str(tmp_path / "x.mp4"), "annotated.mp4"
    )
    values = dict(
        case=case,
        command=["posture"],
        returncode=2,
        seconds=0.5,
        max_rss_mb=150.0,
        stderr="posture: x.mp4 is not a readable video.\n",
    )
    values.update(kw)
    return fuzz.Result(**values)


def test_checker_passes_a_clean_refusal_and_a_clean_success(tmp_path):
    assert fuzz.check(_fake(tmp_path)) == []
    ok = _fake(
        tmp_path,
        returncode=0,
        stderr="",
        json_ok=True,
        out_files=[fuzz.OUT_JSON, fuzz.OUT_CSV, "annotated.mp4"],
    )
    assert fuzz.check(ok) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"returncode": 3, "stderr": "posture: internal error (KeyError: 1); ...\n"}, "exit 3"),
        ({"returncode": -11, "stderr": ""}, "signal 11"),
        ({"returncode": None, "seconds": 61.0}, "timeout"),
        ({"stderr": "Traceback (most recent call last):\n  File x\nValueError\n"}, "traceback"),
        ({"stderr": "posture: a\nb.mp4 is damaged.\n"}, "2 lines"),
        ({"stderr": ""}, "0 lines"),
        ({"out_files": [".report.json.abc.tmp"]}, "files left after a failure"),
        ({"tmp_files": ["posture-chunk-1"]}, "TMPDIR"),
        ({"in_extra": ["x.mp4.part"]}, "beside the input"),
        ({"input_changed": True}, "input file was changed"),
        ({"leftover_processes": True}, "processes left"),
        ({"max_rss_mb": 5000.0}, "peak memory"),
        (
            {
                "returncode": 0,
                "stderr": "",
                "json_ok": False,
                "out_files": [fuzz.OUT_JSON, fuzz.OUT_CSV, "annotated.mp4"],
            },
            "does not parse",
        ),
        ({"returncode": 0, "stderr": "", "json_ok": True, "out_files": [fuzz.OUT_JSON]}, "without"),
        (
            {
                "returncode": 0,
                "stderr": "[h264 @ 0x1] error\n",
                "json_ok": True,
                "out_files": [fuzz.OUT_JSON, fuzz.OUT_CSV, "annotated.mp4"],
            },
            "stderr not empty",
        ),
    ],
)
def test_checker_flags_a_failing_case(tmp_path, changes, expected):
    problems = fuzz.check(_fake(tmp_path, **changes))
    assert any(expected in p for p in problems), problems


def test_table_counts_failures(tmp_path):
    results = [_fake(tmp_path), _fake(tmp_path, returncode=3, stderr="Traceback\n")]
    for r in results:
        r.problems = fuzz.check(r)
    table = fuzz.format_table(results)
    total = table.splitlines()[-1].split()
    # kind cases exit0 exit2 other timeout stray stderr failed
    assert total[:9] == ["total", "2", "0", "1", "1", "0", "0", "1", "1"]
    assert "--start 0 --cases 1 --seed 15" in fuzz.format_failures(results, 15)


# What the fuzzer found (fixed in posture/io/media.py), pinned without running the models.


def _refusal(path) -> str:
    from posture.errors import InputError
    from posture.io.media import open_media

    with pytest.raises(InputError) as err:
        open_media(path).close()
    return str(err.value)


def test_found_name_too_long_is_a_refusal_not_an_internal_error(tmp_path):
    message = _refusal(tmp_path / ("x" * 300 + ".mp4"))  # was OSError ENAMETOOLONG: exit 3
    assert "cannot be opened (File name too long)" in message
    assert "x" * 41 not in message


def test_found_line_break_in_a_name_stays_one_line(tmp_path):
    bad = tmp_path / "line\nbreak\u202e.webp"
    bad.write_bytes(b"RIFF")
    message = _refusal(bad)
    assert message.splitlines() == [message]
    assert "line\\x0abreak\\u202e.webp is not a readable image" in message


def test_found_png_chunk_claiming_gigabytes_is_refused_at_once(tmp_path, monkeypatch):
    import cv2

    seeds = fuzz.make_seeds(tmp_path / "seeds")
    png, jpg = (
        next(s for s in seeds if s.name == n) for n in ("astronaut.png", "sitting_side.jpg")
    )
    body = jpg.path.read_bytes()
    bad = tmp_path / "swap.jpg"  # PNG header, JPEG body: a chunk length of ~4.29e9 bytes
    bad.write_bytes(png.path.read_bytes()[:33] + body[fuzz.header_length(body, ".jpg") :])
    decoded = []  # OpenCV 4.11 reserves what the chunk claims: 14 s and 4.1 GB, then refuses
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: decoded.append(a))  # returns None
    assert "is not a readable image" in _refusal(bad)
    assert decoded == []  # refused from the chunk lengths, before any decoding
    good = tmp_path / "good.png"
    good.write_bytes(png.path.read_bytes())
    _refusal(good)  # the stand-in decoder reads nothing: the sound PNG gets that far
    assert len(decoded) == 1


def test_found_unknown_codec_track_is_a_refusal(tmp_path):
    import struct

    seed = next(s for s in fuzz.make_seeds(tmp_path / "seeds") if s.name == "sitting_side.mp4")
    data = bytearray(seed.path.read_bytes())
    vmhd = next(b for b in fuzz.mp4_boxes(data) if b.type == b"vmhd")
    struct.pack_into(">I", data, vmhd.offset, 7)  # was AttributeError on codec_context None
    bad = tmp_path / "vmhd.mp4"
    bad.write_bytes(bytes(data))
    assert "is not a readable video" in _refusal(bad)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_found_device_is_not_called_empty(tmp_path, target):
    link = tmp_path / "x.mp4"
    link.symlink_to(target)
    assert "is not a regular file" in _refusal(link)


@pytest.mark.slow
@pytest.mark.e2e
def test_fuzz_slice_has_no_failures():
    jobs = min(2, os.cpu_count() or 1)
    results = fuzz.run_cases(SLICE, master_seed=SLICE_SEED, jobs=jobs)
    failed = [r for r in results if r.problems]
    assert len(results) == len(SLICE)
    assert not failed, fuzz.format_table(results) + "\n" + fuzz.format_failures(failed, SLICE_SEED)

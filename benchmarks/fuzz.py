"""Fuzz ``posture analyze`` with damaged copies of real videos and photos (issue #15 item 8).

Seeds are made fresh in a temporary folder at every run: short, small re-encodings of the
sample videos (the first 1.5 s at 320x240, 15 fps, as mp4 with the index at the end, mp4
with the index first, mov, webm and an mp4 carrying a 90 deg display rotation), a frame
of sitting_side.mp4 saved as jpg, png and webp, and skimage's astronaut photo (a real
person). Case N applies mutation kind ``KINDS[N % len(KINDS)]`` with parameters drawn
from ``random.Random(f"{seed}:{N}")``, so one case is reproduced on its own with
``--start N --cases 1 --seed S``.

Each case runs ``posture analyze CASE --json --csv --annotated --quiet --workers 1`` in a
child process with a time limit, its own empty output folder and its own TMPDIR, and
passes when: the exit code is 0 or 2; stderr holds no traceback, is one line starting
``posture:`` on exit 2 and is empty on exit 0 (--quiet); exit 2 leaves no file at all in
the output folder; exit 0 leaves exactly the three outputs and the JSON parses; nothing is
left in its TMPDIR, beside the input, or as a process; the input is unchanged; peak memory
(ru_maxrss, read by a small wrapper process: see _MEASURE_PEAK) stays under the bound.

Usage:
    python benchmarks/fuzz.py [--cases 500] [--start 0] [--jobs 2] [--seed 15]
        [--timeout 60] [--max-memory-mb 2048] [--keep-failures DIR] [--shared-data DIR]

Prints a table by mutation kind and each failing case with its reproducer; exit 1 when
any case fails. See docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_videos"
DEFAULT_SEED = 15
DEFAULT_TIMEOUT_S = 30.0  # cases took at most 4.2 s on 2 idle cores, 8.5 s under load
# Linux counts the RSS a child inherits at fork() (before exec) in its ru_maxrss, so a
# case started from a big process (pytest after many tests: 2.5 GB) would read as big as
# it. Each case is started from this small wrapper instead, which writes its own child's
# peak (kB) to a file and exits with the child's code.
_MEASURE_PEAK = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
if code < 0:  # die of the same signal, so the caller sees it as the case's own
    import signal
    try:
        signal.signal(-code, signal.SIG_DFL)
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), -code)
sys.exit(code if code >= 0 else 128 - code)
"""
DEFAULT_MAX_MEMORY_MB = 2048
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")
VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")
OUT_JSON, OUT_CSV = "report.json", "frames.csv"

KINDS = (
    "control",  # the seed unchanged: must be exit 0
    "truncate",  # cut at a random offset
    "truncate_header",  # cut inside the first bytes, or inside an mp4's moov atom
    "bitflip_1",
    "bitflip_10",
    "bitflip_1000",
    "zero_range",  # a byte range set to zero
    "chunk_duplicate",  # a byte range repeated in place
    "chunk_shuffle",  # the file cut in 2-8 pieces put back in another order
    "wrong_extension",  # mp4 bytes named .jpg, photo bytes named .mp4, ...
    "not_media",  # text, HTML, JSON, random bytes, zeros named as media
    "empty",  # 0 bytes
    "header_swap",  # the header of one format, the body of another
    "huge_png",  # IHDR claiming e.g. 30000x30000, 65535x65535, 1x10^6
    "huge_jpeg",  # SOF claiming e.g. 65535x65535
    "huge_webp",  # VP8 / VP8X canvas claiming up to 16777216 x 16777216
    "mp4_box_size",  # one atom's size field set to 0, 1, 7, +-1, 2^31-1, 2^32-1, 2^64-1
    "mp4_table_count",  # an entry count of stts/stsz/stco/... set huge
    "mp4_moov",  # zero-length, zeroed, renamed, removed or doubled moov
    "mp4_rotation",  # garbage in the track header's display matrix
    "mp4_dimensions",  # huge or zero width/height in tkhd / the sample entry
    "odd_name",  # 255-byte names, unicode, control characters, non-UTF-8 bytes, ...
    "special_file",  # symlink to /dev/zero, fifo, a folder named x.mp4, dangling link
    "stacked",  # 2-3 byte-level mutations in a row
)


# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    name: str  # file name, its extension is the format
    path: Path

    @property
    def ext(self) -> str:
        return self.path.suffix.lower()

    @property
    def is_image(self) -> bool:
        return self.ext in IMAGE_EXTS

    @property
    def is_mp4(self) -> bool:
        return self.ext in (".mp4", ".mov")


def _cut_clip(
    src: Path,
    dst: Path,
    seconds: float = 1.5,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    container_format: str | None = None,
    options: dict[str, str] | None = None,
    transpose: bool = False,
) -> Path:
    """The first ``seconds`` of ``src``, every other frame (15 fps), scaled to ``size``."""
    from fractions import Fraction

    import av
    import cv2

    w, h = (size[1], size[0]) if transpose else size
    with (
        av.open(str(src)) as inp,
        av.open(str(dst), "w", format=container_format, options=options or {}) as out,
    ):
        stream = out.add_stream(codec, rate=15)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.thread_count = 1  # the same bytes on any machine
        stream.codec_context.time_base = Fraction(1, 15)
        n = 0
        for i, frame in enumerate(inp.decode(video=0)):
            if frame.time is not None and frame.time >= seconds:
                break
            if i % 2:
                continue
            rgb = cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA)
            if transpose:  # stored turned 90 deg; the rotation tag turns it back upright
                rgb = rgb.transpose(1, 0, 2)[::-1].copy()
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            vf.pts, vf.time_base = n, Fraction(1, 15)
            n += 1
            for packet in stream.encode(vf):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def _set_rotation(path: Path, degrees: int) -> None:
    """Display rotation in the first tkhd (clockwise ``degrees``, as phones write it)."""
    import math

    data = bytearray(path.read_bytes())
    box = next(b for b in mp4_boxes(data) if b.type == b"tkhd")
    a = math.radians(degrees)
    c, s = round(math.cos(a)), round(math.sin(a))
    one = 0x10000
    at = _tkhd_matrix_at(data, box)
    data[at : at + 36] = struct.pack(
        ">9i", c * one, s * one, 0, -s * one, c * one, 0, 0, 0, 1 << 30
    )
    path.write_bytes(bytes(data))


def make_seeds(folder: Path, shared_data: Path | None = None) -> list[Seed]:
    """Write the seed files into ``folder``; the list's order is fixed (cases index it)."""
    import cv2
    import numpy as np
    from skimage import data as skdata

    folder.mkdir(parents=True, exist_ok=True)
    sit, front, full = (
        SAMPLES / f"{n}.mp4" for n in ("sitting_side", "rom_front", "rom_full_range")
    )
    paths = [
        _cut_clip(sit, folder / "sitting_side.mp4"),
        _cut_clip(front, folder / "rom_front_faststart.mp4", options={"movflags": "faststart"}),
        _cut_clip(full, folder / "rom_full_range.mov", container_format="mov"),
        _cut_clip(sit, folder / "sitting_side.webm", codec="libvpx-vp9"),
        _cut_clip(front, folder / "rom_front_rot90.mp4", transpose=True),
    ]
    _set_rotation(paths[-1], 90)
    import av

    with av.open(str(sit)) as c:
        frame = next(f for f in c.decode(video=0) if f.time is not None and f.time >= 1.0)
        bgr = frame.to_ndarray(format="bgr24")
    astronaut = np.ascontiguousarray(skdata.astronaut()[:, :, ::-1])
    for name, img in (
        ("sitting_side.jpg", bgr),
        ("sitting_side.png", bgr),
        ("sitting_side.webp", bgr),
        ("astronaut.jpg", astronaut),
        ("astronaut.png", astronaut),
    ):
        params = [cv2.IMWRITE_WEBP_QUALITY, 90] if name.endswith(".webp") else []  # lossy VP8
        if not cv2.imwrite(str(folder / name), img, params):
            raise RuntimeError(f"could not write seed {name}")
        paths.append(folder / name)
    if shared_data is not None:  # read in place, never copied into the repository
        for rel in ("side_photo_markers", "fhp_frontal", "aflw2000_subset"):
            found = sorted(
                p for p in (shared_data / rel).glob("*") if p.suffix.lower() in IMAGE_EXTS
            )
            if found:
                paths.append(found[0])
    return [Seed(p.name, p) for p in paths]


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class Box:
    offset: int
    size: int
    type: bytes
    header: int  # 8, or 16 with a 64-bit size
    depth: int


_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"udta"}
_SAMPLE_ENTRIES = {b"avc1", b"avc3", b"hvc1", b"hev1", b"mp4v", b"vp09"}


def mp4_boxes(data: bytes | bytearray, start: int = 0, end: int | None = None, depth: int = 0):
    """Every ISO-BMFF box (atom) that parses, depth first."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size, typ, header = struct.unpack_from(">I", data, i)[0], bytes(data[i + 4 : i + 8]), 8
        if size == 1 and i + 16 <= end:
            size, header = struct.unpack_from(">Q", data, i + 8)[0], 16
        elif size == 0:
            size = end - i
        if size < header or i + size > end:
            return
        yield Box(i, size, typ, header, depth)
        if typ in _CONTAINER_BOXES:
            yield from mp4_boxes(data, i + header, i + size, depth + 1)
        elif typ == b"stsd":
            yield from mp4_boxes(data, i + header + 8, i + size, depth + 1)
        elif typ in _SAMPLE_ENTRIES:
            yield from mp4_boxes(data, i + header + 78, i + size, depth + 1)
        i += size


def _tkhd_matrix_at(data: bytes | bytearray, box: Box) -> int:
    version = data[box.offset + box.header]
    return box.offset + box.header + 4 + (20 if version == 0 else 32) + 8 + 8


def png_set_size(data: bytes, width: int, height: int, fix_crc: bool = True) -> bytes:
    out = bytearray(data)
    struct.pack_into(">II", out, 16, width, height)
    if fix_crc:
        struct.pack_into(">I", out, 29, zlib.crc32(bytes(out[12:29])) & 0xFFFFFFFF)
    return bytes(out)


def jpeg_sof_offset(data: bytes) -> int | None:
    """Offset of the frame header's height field (SOFn), or None."""
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        length = struct.unpack_from(">H", data, i + 2)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return i + 5
        if marker == 0xDA:
            return None
        i += 2 + length
    return None


def jpeg_set_size(data: bytes, width: int, height: int) -> bytes:
    at = jpeg_sof_offset(data)
    if at is None:
        raise ValueError("no SOF marker")
    out = bytearray(data)
    struct.pack_into(">HH", out, at, height, width)
    return bytes(out)


def webp_set_size(data: bytes, width: int, height: int, extended: bool) -> bytes:
    """A lossy WebP claiming ``width`` x ``height``: in the VP8 frame header (14 bits each)
    or, ``extended``, in a VP8X canvas chunk put in front (24 bits each)."""
    if data[12:16] not in (b"VP8 ", b"VP8L"):
        raise ValueError("not a simple WebP")
    if not extended:
        out = bytearray(data)
        if data[12:16] == b"VP8 ":
            struct.pack_into("<HH", out, 26, width & 0x3FFF, height & 0x3FFF)
        else:  # lossless: 14 bits each of width - 1 and height - 1 after the 0x2f byte
            bits = struct.unpack_from("<I", out, 21)[0] & ~0x0FFFFFFF
            bits |= ((width - 1) & 0x3FFF) | (((height - 1) & 0x3FFF) << 14)
            struct.pack_into("<I", out, 21, bits)
        return bytes(out)
    w1, h1 = (width - 1) & 0xFFFFFF, (height - 1) & 0xFFFFFF
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + w1.to_bytes(3, "little")
    vp8x += h1.to_bytes(3, "little")
    body = b"WEBP" + vp8x + data[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def header_length(data: bytes, ext: str) -> int:
    """Bytes of the format's header: up to the first frame data (a rough cut)."""
    if ext == ".png":
        return 33  # signature + IHDR
    if ext in (".jpg", ".jpeg"):
        at = data.find(b"\xff\xda")
        return at if at > 0 else 20
    if ext == ".webp":
        return 30
    if ext in (".mp4", ".mov"):
        first = next(mp4_boxes(data), None)
        return first.size if first else 32
    return 64  # webm: the EBML header and more


# --------------------------------------------------------------------------- mutations


def _flip_bits(data: bytes, rng: random.Random, n: int) -> tuple[bytes, str]:
    out = bytearray(data)
    for _ in range(n):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out), f"{n} bit(s) flipped"


def _truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(1, len(data))
    return data[:at], f"cut at {at} of {len(data)} bytes"


def _zero_range(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    n = min(len(data) - 1, int(rng.choice((16, 256, 4096, 0.1 * len(data), 0.5 * len(data)))))
    at = rng.randrange(0, len(data) - n)
    return data[:at] + bytes(n) + data[at + n :], f"bytes {at}..{at + n} zeroed"


def _duplicate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    n = max(1, min(len(data), int(rng.choice((8, 512, 8192, 0.25 * len(data))))))
    at = rng.randrange(0, len(data) - n + 1)
    copies = rng.choice((1, 2, 5))
    chunk = data[at : at + n]
    return data[: at + n] + chunk * copies + data[at + n :], f"{n} bytes at {at} repeated x{copies}"


def _shuffle(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    k = min(rng.randrange(2, 9), len(data))
    cuts = sorted(rng.sample(range(1, len(data)), k - 1))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    order = list(range(k))
    while order == sorted(order):
        rng.shuffle(order)
    return b"".join(pieces[i] for i in order), f"{k} pieces in order {order}"


BYTE_MUTATIONS: dict[str, Callable[[bytes, random.Random], tuple[bytes, str]]] = {
    "truncate": _truncate,
    "bitflip_1": lambda d, r: _flip_bits(d, r, 1),
    "bitflip_10": lambda d, r: _flip_bits(d, r, 10),
    "bitflip_1000": lambda d, r: _flip_bits(d, r, 1000),
    "zero_range": _zero_range,
    "chunk_duplicate": _duplicate,
    "chunk_shuffle": _shuffle,
}


@dataclass
class Case:
    number: int
    kind: str
    seed: str
    detail: str
    input: str | bytes  # path given to posture (bytes: a name that is not UTF-8)
    annotated: str  # file name of --annotated in the output folder
    special: bool = False  # a symlink, fifo or folder: not copied by --keep-failures

    @property
    def input_path(self) -> Path:
        return Path(os.fsdecode(self.input))


def _text_payload(rng: random.Random) -> tuple[bytes, str]:
    choice = rng.randrange(6)
    if choice == 0:
        return b"This is not a video.\n" * rng.choice((1, 100, 10000)), "plain text"
    if choice == 1:
        return b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n", "an HTML page"
    if choice == 2:
        return json.dumps({"frames": [1, 2, 3], "fps": 30}).encode(), "JSON"
    if choice == 3:
        return rng.randbytes(rng.choice((1, 100, 100_000))), "random bytes"
    if choice == 4:
        return bytes(rng.choice((1, 4096, 1_000_000))), "zeros"
    return b"\xff" * rng.choice((2, 3, 1000)), "0xff bytes"


def _huge_sizes(rng: random.Random) -> tuple[int, int]:
    return rng.choice(
        (
            (30000, 30000),
            (65535, 65535),
            (1, 1_000_000),
            (1_000_000, 1),
            (2**31 - 1, 2**31 - 1),
            (0, 0),
            (7072, 7072),  # just over 50 MP
            (7071, 7071),  # just under: decoding is attempted on too little data
        )
    )


def _odd_names(rng: random.Random, ext: str) -> tuple[str | bytes, str]:
    choices: list[tuple[str | bytes, str]] = [
        ("n" * (255 - len(ext)) + ext, "255-byte name"),
        ("é" * ((255 - len(ext)) // 2) + ext, "long two-byte unicode name"),
        ("Zoë 名前 🎥 видео" + ext, "unicode name"),
        ("\u202e" + "gpj" + ext, "right-to-left override"),
        ("my video 'final' (1) $HOME" + ext, "spaces, quotes, $"),
        ("-rf --json" + ext, "leading dash"),
        ("line\nbreak" + ext, "newline in the name"),
        ("esc\x1b[31mred\ttab" + ext, "escape and tab in the name"),
        (b"bad\xff\xfename" + ext.encode(), "not UTF-8"),
        (".hidden" + ext, "hidden file"),
        ("CLIP" + ext.upper(), "upper-case extension"),
        ("photo.png" + ext, "double extension"),
        ("x" * 300 + ext, "name over 255 bytes (cannot exist)"),
        (("d" * 200 + "/") * 21 + "deep" + ext, "path over 4096 bytes (cannot exist)"),
    ]
    return rng.choice(choices)


def build_case(number: int, master_seed: int, seeds: Sequence[Seed], case_dir: Path) -> Case:
    """Write case ``number``'s input into ``case_dir / "in"``; the same number and seed
    always give the same bytes and name."""
    rng = random.Random(f"{master_seed}:{number}")
    kind = KINDS[number % len(KINDS)]
    in_dir = case_dir / "in"
    in_dir.mkdir(parents=True)
    mp4s = [s for s in seeds if s.is_mp4]
    images = [s for s in seeds if s.is_image]
    seed = rng.choice(
        {
            "huge_png": [s for s in images if s.ext == ".png"],
            "huge_jpeg": [s for s in images if s.ext in (".jpg", ".jpeg")],
            "huge_webp": [s for s in images if s.ext == ".webp"],
        }.get(kind, mp4s if kind.startswith("mp4_") else list(seeds))
    )
    data = seed.path.read_bytes()
    name, detail, special = seed.name, "", False

    if kind == "control":
        detail = "unchanged"
    elif kind in BYTE_MUTATIONS:
        data, detail = BYTE_MUTATIONS[kind](data, rng)
    elif kind == "truncate_header":
        moov = next((b for b in mp4_boxes(data) if b.type == b"moov"), None)
        if moov is not None and rng.random() < 0.6:
            at = rng.randrange(moov.offset, moov.offset + moov.size)
            detail = f"cut inside moov (bytes {moov.offset}..{moov.offset + moov.size}) at {at}"
        else:
            at = rng.randrange(1, max(2, min(len(data), header_length(data, seed.ext) + 16)))
            detail = f"cut inside the header at {at}"
        data = data[:at]
    elif kind == "wrong_extension":
        ext = rng.choice(VIDEO_EXTS if seed.is_image else IMAGE_EXTS)
        name = Path(seed.name).stem + ext
        detail = f"{seed.ext} content named {ext}"
    elif kind == "not_media":
        data, what = _text_payload(rng)
        name = "not_media" + rng.choice((*VIDEO_EXTS, *IMAGE_EXTS))
        detail = f"{what} ({len(data)} bytes)"
    elif kind == "empty":
        data, detail = b"", "0 bytes"
        name = "empty" + rng.choice((".mp4", ".jpg", ".png", ".webm"))
    elif kind == "header_swap":
        other = rng.choice([s for s in seeds if s.ext != seed.ext])
        body = other.path.read_bytes()
        head = data[: header_length(data, seed.ext)]
        data = head + body[header_length(body, other.ext) :]
        name = Path(seed.name).stem + rng.choice((seed.ext, other.ext))
        detail = f"{seed.ext} header + {other.ext} body ({other.name}), named {Path(name).suffix}"
    elif kind == "huge_png":
        w, h = _huge_sizes(rng)
        fix = rng.random() < 0.8
        data = png_set_size(data, w, h, fix_crc=fix)
        detail = f"IHDR {w}x{h}" + ("" if fix else ", CRC left wrong")
    elif kind == "huge_jpeg":
        w, h = rng.choice(((65535, 65535), (30000, 30000), (65535, 1), (1, 65535), (0, 0)))
        w, h = rng.choice(((w, h), (7072, 7072), (7070, 7070))) if rng.random() < 0.3 else (w, h)
        data = jpeg_set_size(data, w, h)
        detail = f"SOF {w}x{h}"
    elif kind == "huge_webp":
        extended = rng.random() < 0.5
        if extended:
            w, h = rng.choice(((16_777_216, 16_777_216), (30000, 30000), (7072, 7072), (1, 1)))
        else:
            w, h = rng.choice(((16383, 16383), (16383, 1), (8000, 7000), (0, 0)))
        data = webp_set_size(data, w, h, extended)
        detail = f"{'VP8X canvas' if extended else 'VP8 frame'} {w}x{h}"
    elif kind == "mp4_box_size":
        boxes = list(mp4_boxes(data))
        box = rng.choice(boxes)
        new = rng.choice((0, 1, 7, box.size + 1, box.size - 1, 2**31 - 1, 2**32 - 1, 2**64 - 1))
        out = bytearray(data)
        if new >= 2**32:
            if box.header == 16:
                struct.pack_into(">Q", out, box.offset + 8, new)
            else:
                struct.pack_into(">I", out, box.offset, 1)
                if box.offset + 16 <= len(out):
                    struct.pack_into(">Q", out, box.offset + 8, new)
        else:
            struct.pack_into(">I", out, box.offset, new)
        data = bytes(out)
        detail = f"{box.type.decode('latin-1')} at {box.offset} (depth {box.depth}) size {new}"
    elif kind == "mp4_table_count":
        tables = [
            b
            for b in mp4_boxes(data)
            if b.type
            in (b"stts", b"stsc", b"stsz", b"stco", b"co64", b"stss", b"ctts", b"elst", b"stsd")
        ]
        box = rng.choice(tables)
        at = box.offset + box.header + (8 if box.type == b"stsz" else 4)
        new = rng.choice((0, 2**31 - 1, 2**32 - 1, 0x10000000, 3))
        out = bytearray(data)
        struct.pack_into(">I", out, at, new)
        data = bytes(out)
        detail = f"{box.type.decode()} entry count {new}"
    elif kind == "mp4_moov":
        moov = next(b for b in mp4_boxes(data) if b.type == b"moov")
        a, b = moov.offset, moov.offset + moov.size
        how = rng.choice(
            (
                "zero-length",
                "size 8",
                "payload zeroed",
                "renamed free",
                "removed",
                "doubled",
                "moved to the end twice",
            )
        )
        if how == "zero-length":
            data = data[:a] + struct.pack(">I", 0) + b"moov" + data[b:]
        elif how == "size 8":
            data = data[:a] + struct.pack(">I", 8) + b"moov" + data[a + 8 :]
        elif how == "payload zeroed":
            data = data[: a + 8] + bytes(moov.size - 8) + data[b:]
        elif how == "renamed free":
            data = data[: a + 4] + b"free" + data[a + 8 :]
        elif how == "removed":
            data = data[:a] + data[b:]
        elif how == "doubled":
            data = data[:b] + data[a:b] + data[b:]
        else:
            data = data + data[a:b] + data[a:b]
        detail = f"moov {how}"
    elif kind == "mp4_rotation":
        box = next(b for b in mp4_boxes(data) if b.type == b"tkhd")
        at = _tkhd_matrix_at(data, box)
        out = bytearray(data)
        how = rng.randrange(5)
        if how == 0:
            out[at : at + 36] = rng.randbytes(36)
            detail = "random display matrix"
        elif how == 1:
            out[at : at + 36] = bytes(36)
            detail = "all-zero display matrix"
        elif how == 2:  # 45 degrees
            c = int(0x10000 * 0.7071)
            struct.pack_into(">9i", out, at, c, c, 0, -c, c, 0, 0, 0, 1 << 30)
            detail = "45 deg display matrix"
        elif how == 3:  # a mirror
            struct.pack_into(">9i", out, at, -0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 1 << 30)
            detail = "mirrored display matrix"
        else:
            v = rng.choice((2**31 - 1, -(2**31)))
            struct.pack_into(">9i", out, at, v, v, v, v, v, v, v, v, v)
            detail = f"display matrix of {v}"
        data = bytes(out)
    elif kind == "mp4_dimensions":
        out = bytearray(data)
        w, h = rng.choice(((65535, 65535), (0, 0), (1, 65535), (30000, 30000), (7072, 7072)))
        where = rng.choice(("tkhd", "sample entry", "both"))
        if where in ("tkhd", "both"):
            box = next(b for b in mp4_boxes(data) if b.type == b"tkhd")
            struct.pack_into(">II", out, _tkhd_matrix_at(data, box) + 36, w << 16, h << 16)
        if where in ("sample entry", "both"):
            box = next(b for b in mp4_boxes(data) if b.type in _SAMPLE_ENTRIES)
            struct.pack_into(">HH", out, box.offset + box.header + 24, w, h)
        data = bytes(out)
        detail = f"{where} says {w}x{h}"
    elif kind == "odd_name":
        name, detail = _odd_names(rng, seed.ext)
        if rng.random() < 0.5:
            data = data[: rng.randrange(1, min(len(data), 200))]
            detail += ", content cut to a few bytes"
    elif kind == "special_file":
        how = rng.choice(
            (
                "dev_zero_mp4",
                "dev_zero_jpg",
                "dev_null",
                "fifo",
                "folder",
                "dangling",
                "link_to_folder",
                "link_loop",
            )
        )
        special = True
        target = in_dir / ("x.mp4" if how != "dev_zero_jpg" else "x.jpg")
        detail = how
        if how.startswith("dev_zero"):
            target.symlink_to("/dev/zero")
        elif how == "dev_null":
            target.symlink_to("/dev/null")
        elif how == "fifo":
            try:
                os.mkfifo(target)
            except (OSError, AttributeError):
                target.symlink_to("/dev/zero")
                detail = "fifo not possible here: symlink to /dev/zero"
        elif how == "folder":
            target.mkdir()
            (target / "inner.mp4").write_bytes(data)
        elif how == "dangling":
            target.symlink_to(in_dir / "missing.mp4")
        elif how == "link_to_folder":
            (in_dir / "folder").mkdir()
            target.symlink_to(in_dir / "folder")
        else:
            target.symlink_to(in_dir / "y.mp4")
            (in_dir / "y.mp4").symlink_to(target)
        ann = "annotated.png" if target.suffix in IMAGE_EXTS else "annotated.mp4"
        return Case(number, kind, seed.name, detail, str(target), ann, special)
    elif kind == "stacked":
        steps = rng.sample(sorted(BYTE_MUTATIONS), rng.randrange(2, 4))
        parts = []
        for step in steps:
            if len(data) < 2:
                break
            data, d = BYTE_MUTATIONS[step](data, rng)
            parts.append(f"{step}: {d}")
        detail = "; ".join(parts)
    else:  # pragma: no cover - KINDS and this chain are kept in step
        raise ValueError(kind)

    if isinstance(name, bytes):
        target_b = os.fsencode(in_dir) + b"/" + name
        with open(target_b, "wb") as fh:
            fh.write(data)
        path: str | bytes = target_b
        suffix = os.fsdecode(name).rsplit(".", 1)[-1]
    else:
        target = in_dir / name
        path = str(target)
        suffix = name.rsplit(".", 1)[-1]
        if "/" not in name and len(name.encode()) <= 255:  # else no file system takes it:
            target.write_bytes(data)  # posture is given the path all the same
    ann = "annotated.png" if f".{suffix.lower()}" in IMAGE_EXTS else "annotated.mp4"
    return Case(number, kind, seed.name, detail, path, ann, special)


# --------------------------------------------------------------------------- running


@dataclass
class Result:
    case: Case
    command: list[str]
    returncode: int | None  # None: killed at the time limit
    seconds: float
    max_rss_mb: float
    stderr: str
    out_files: list[str] = field(default_factory=list)  # in the output folder, hidden too
    tmp_files: list[str] = field(default_factory=list)  # in the child's TMPDIR
    in_extra: list[str] = field(default_factory=list)  # new entries beside the input
    input_changed: bool = False
    json_ok: bool | None = None  # exit 0: the JSON report parses as an object
    leftover_processes: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def posture_command() -> list[str]:
    exe = Path(sys.executable).with_name("posture")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "posture.cli"]


def _listing(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _entries(folder: Path) -> list[bytes]:
    return sorted(os.listdir(os.fsencode(folder)))


def _digest(path: str | bytes) -> str | None:
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def run_case(case: Case, case_dir: Path, timeout_s: float) -> Result:
    """Run posture on the case in a child process; its outputs are checked by :func:`check`."""
    out_dir, tmp_dir = case_dir / "out", case_dir / "tmp"
    out_dir.mkdir()
    tmp_dir.mkdir()
    in_before = _entries(case_dir / "in")
    digest_before = _digest(case.input)
    cmd: list = [
        *posture_command(),
        "analyze",
        case.input,
        "--json",
        str(out_dir / OUT_JSON),
        "--csv",
        str(out_dir / OUT_CSV),
        "--annotated",
        str(out_dir / case.annotated),
        "--quiet",
        "--workers",
        "1",
    ]
    env = {**os.environ, "TMPDIR": str(tmp_dir), "PYTHONUNBUFFERED": "1"}
    err_path = case_dir / "stderr.txt"
    t0 = time.monotonic()
    rss_path = case_dir / "maxrss.txt"
    with open(err_path, "wb") as err, open(case_dir / "stdout.txt", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURE_PEAK, str(rss_path), *cmd],
            cwd=case_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - t0 > timeout_s:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.02)
    seconds = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    leftover = False
    try:
        os.killpg(proc.pid, 0)  # anything the child started still running
        leftover = True
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    result = Result(
        case=case,
        command=[os.fsdecode(c) for c in cmd],
        returncode=None if timed_out else proc.returncode,
        seconds=seconds,
        max_rss_mb=_peak_kb(rss_path, usage.ru_maxrss) / 1024,
        stderr=err_path.read_bytes().decode("utf-8", "backslashreplace"),
        out_files=_listing(out_dir),
        tmp_files=_listing(tmp_dir),
        in_extra=[os.fsdecode(e) for e in _entries(case_dir / "in") if e not in in_before],
        input_changed=_digest(case.input) != digest_before,
        leftover_processes=leftover,
    )
    if result.returncode == 0 and (out_dir / OUT_JSON).is_file():
        try:
            result.json_ok = isinstance(json.loads((out_dir / OUT_JSON).read_text("utf-8")), dict)
        except (UnicodeDecodeError, json.JSONDecodeError):
            result.json_ok = False
    return result


def _peak_kb(rss_path: Path, fallback_kb: int) -> int:
    try:
        return int(rss_path.read_text())
    except (OSError, ValueError):
        return fallback_kb


def check(result: Result, max_memory_mb: float = DEFAULT_MAX_MEMORY_MB) -> list[str]:
    """What is wrong with one run (empty: the case passes)."""
    problems: list[str] = []
    rc, err = result.returncode, result.stderr
    lines = err.splitlines()
    if result.timed_out:
        problems.append(f"timeout after {result.seconds:.0f} s")
    elif rc not in (0, 2):
        problems.append(f"exit {rc}" if rc >= 0 else f"killed by signal {-rc}")
    if "Traceback" in err:
        problems.append("traceback on stderr")
    if rc == 2 and (len(lines) != 1 or not lines[0].startswith("posture: ")):
        problems.append(f"stderr is {len(lines)} lines, not one 'posture: ...' sentence")
    if rc == 0 and err.strip():
        problems.append(f"stderr not empty on success with --quiet ({len(lines)} lines)")
    if rc == 0:
        expected = {OUT_JSON, OUT_CSV, result.case.annotated}
        missing = sorted(expected - set(result.out_files))
        extra = sorted(set(result.out_files) - expected)
        if missing:
            problems.append(f"exit 0 without {', '.join(missing)}")
        if extra:
            problems.append(f"stray output files: {', '.join(extra)}")
        if result.json_ok is False:
            problems.append("the JSON report does not parse")
    elif result.out_files:
        problems.append(f"files left after a failure: {', '.join(result.out_files)}")
    if result.tmp_files:
        problems.append(f"stray files in TMPDIR: {', '.join(result.tmp_files[:5])}")
    if result.in_extra:
        problems.append(f"stray files beside the input: {', '.join(result.in_extra[:5])}")
    if result.input_changed:
        problems.append("the input file was changed")
    if result.leftover_processes:
        problems.append("processes left running")
    if result.max_rss_mb > max_memory_mb:
        problems.append(f"peak memory {result.max_rss_mb:.0f} MB over {max_memory_mb:.0f} MB")
    return problems


STRAY_WORDS = ("stray", "files left", "input file was changed", "processes left")
STDERR_WORDS = ("traceback", "stderr")


def _keep(result: Result, case_dir: Path, keep_dir: Path) -> None:
    dest = keep_dir / f"case-{result.case.number:04d}"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in ("stderr.txt", "stdout.txt"):
        shutil.copy2(case_dir / name, dest / name)
    if result.case.special:
        (dest / "input.txt").write_text(f"{result.case.detail}: rebuilt by the reproducer\n")
    else:
        src = os.fsencode(result.case.input)
        if os.path.isfile(src):
            safe = os.fsdecode(os.path.basename(src)).encode("ascii", "backslashreplace").decode()
            shutil.copyfile(src, dest / ("input_" + safe.replace("/", "_")[-120:]))
    if (case_dir / "out").exists():
        shutil.copytree(case_dir / "out", dest / "out", symlinks=True)
    (dest / "case.json").write_text(
        json.dumps(
            {
                "number": result.case.number,
                "kind": result.case.kind,
                "seed_file": result.case.seed,
                "detail": result.case.detail,
                "returncode": result.returncode,
                "problems": result.problems,
                "command": shlex.join(result.command),
            },
            indent=1,
        )
    )


def run_cases(
    numbers: Sequence[int],
    master_seed: int = DEFAULT_SEED,
    jobs: int = 2,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_memory_mb: float = DEFAULT_MAX_MEMORY_MB,
    keep_failures: Path | None = None,
    shared_data: Path | None = None,
    progress: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Build, run and check the given case numbers; results in case order."""
    work = Path(tempfile.mkdtemp(prefix="fuzz-posture-"))
    try:
        seeds = make_seeds(work / "seeds", shared_data)

        def one(number: int) -> Result:
            case_dir = work / f"case-{number:04d}"
            case = build_case(number, master_seed, seeds, case_dir)
            result = run_case(case, case_dir, timeout_s)
            result.problems = check(result, max_memory_mb)
            if result.problems and keep_failures is not None:
                _keep(result, case_dir, keep_failures)
            shutil.rmtree(case_dir, ignore_errors=True)
            if progress is not None:
                progress(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, numbers))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def reproducer(result: Result, master_seed: int, shared_data: Path | None = None) -> str:
    n = result.case.number
    shared = f" --shared-data {shlex.quote(str(shared_data))}" if shared_data else ""
    return (
        f"python benchmarks/fuzz.py --start {n} --cases 1 --seed {master_seed}{shared} "
        f"--keep-failures /tmp/fuzz-case-{n}"
    )


def format_table(results: Sequence[Result]) -> str:
    cols = (
        "kind",
        "cases",
        "exit 0",
        "exit 2",
        "other",
        "timeout",
        "stray",
        "stderr",
        "failed",
        "max s",
        "max MB",
    )
    rows = []

    def row(kind: str, rs: Sequence[Result]) -> list[str]:
        def count(pred: Callable[[Result], bool]) -> str:
            return str(sum(1 for r in rs if pred(r)))

        return [
            kind,
            str(len(rs)),
            count(lambda r: r.returncode == 0),
            count(lambda r: r.returncode == 2),
            count(lambda r: not r.timed_out and r.returncode not in (0, 2)),
            count(lambda r: r.timed_out),
            count(lambda r: any(w in p for p in r.problems for w in STRAY_WORDS)),
            count(lambda r: any(w in p for p in r.problems for w in STDERR_WORDS)),
            count(lambda r: bool(r.problems)),
            f"{max((r.seconds for r in rs), default=0):.1f}",
            f"{max((r.max_rss_mb for r in rs), default=0):.0f}",
        ]

    for kind in KINDS:
        rs = [r for r in results if r.case.kind == kind]
        if rs:
            rows.append(row(kind, rs))
    rows.append(row("total", results))
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*cols), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*r) for r in rows[:-1]]
    lines += ["  ".join("-" * w for w in widths), fmt.format(*rows[-1])]
    return "\n".join(lines)


def format_failures(
    results: Sequence[Result], master_seed: int, shared_data: Path | None = None
) -> str:
    out = []
    for r in results:
        if not r.problems:
            continue
        first = r.stderr.strip().splitlines()[:3]
        out.append(
            f"case {r.case.number} [{r.case.kind}] {r.case.seed}: {r.case.detail}\n"
            f"  problems: {'; '.join(r.problems)}\n"
            f"  stderr: {' | '.join(first)[:400] or '(empty)'}\n"
            f"  reproduce: {reproducer(r, master_seed, shared_data)}\n"
            f"  command: {shlex.join(r.command)[:600]}"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=500, help="how many cases (500)")
    ap.add_argument("--start", type=int, default=0, help="first case number (0)")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once (2)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"master seed ({DEFAULT_SEED})")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per case")
    ap.add_argument("--max-memory-mb", type=float, default=DEFAULT_MAX_MEMORY_MB)
    ap.add_argument(
        "--keep-failures",
        type=Path,
        metavar="DIR",
        help="copy each failing case's input, stderr and outputs here",
    )
    ap.add_argument(
        "--shared-data",
        type=Path,
        metavar="DIR",
        help="also use photos from ../shared/data (renumbers the cases)",
    )
    ap.add_argument("--verbose", action="store_true", help="one line per case as it ends")
    args = ap.parse_args(argv)
    done = [0]

    def progress(r: Result) -> None:
        done[0] += 1
        if args.verbose:
            fail = " FAIL " + "; ".join(r.problems) if r.problems else ""
            print(
                f"[{done[0]}/{args.cases}] case {r.case.number} {r.case.kind}: exit "
                f"{r.returncode} {r.seconds:.1f} s {r.max_rss_mb:.0f} MB{fail}",
                flush=True,
            )
        elif done[0] % 25 == 0:
            print(f"... {done[0]}/{args.cases}", file=sys.stderr, flush=True)

    system_tmp = Path(tempfile.gettempdir())
    posture_tmp_before = set(system_tmp.glob("posture-*"))
    t0 = time.monotonic()
    results = run_cases(
        range(args.start, args.start + args.cases),
        master_seed=args.seed,
        jobs=args.jobs,
        timeout_s=args.timeout,
        max_memory_mb=args.max_memory_mb,
        keep_failures=args.keep_failures,
        shared_data=args.shared_data,
        progress=progress,
    )
    wall = time.monotonic() - t0
    print(format_table(results))
    failed = [r for r in results if r.problems]
    times = sorted(r.seconds for r in results)
    print(
        f"\n{len(results)} cases (numbers {args.start}..{args.start + args.cases - 1}, seed "
        f"{args.seed}, {args.jobs} job(s), limit {args.timeout:.0f} s / "
        f"{args.max_memory_mb:.0f} MB): {len(failed)} failed; median "
        f"{times[len(times) // 2]:.1f} s a case; wall time {wall:.0f} s"
    )
    new_tmp = sorted(set(system_tmp.glob("posture-*")) - posture_tmp_before)
    print(
        f"Each case had its own TMPDIR (checked empty above); new posture-* entries in "
        f"{system_tmp} meanwhile, from any process on this machine: {len(new_tmp)}"
        + (f" ({', '.join(p.name for p in new_tmp[:5])})" if new_tmp else "")
    )
    if failed:
        print("\nFailing cases:\n" + format_failures(failed, args.seed, args.shared_data))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

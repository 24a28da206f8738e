"""Nothing leaves the machine from the library either: no telemetry from onnxruntime
(its Linux wheels carry Microsoft's 1DS telemetry) and no network system call at all
while a video is analysed, seen by the kernel (strace), not only by Python."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "sample_videos" / "rom_front.mp4"
START_NET = (
    "from posture.landmarks.head_pose_net import HeadPoseNet\n"
    "import numpy as np\n"
    "net = HeadPoseNet()\n"
)
START_ORT_ALONE = (
    "import glob, onnxruntime\n"
    "path = sorted(glob.glob('posture/landmarks/data/*.onnx'))[0]\n"
    "onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])\n"
)


def _run_python(code: str, tmp_path: Path) -> list[str]:
    """Run ``code`` with a private temp folder and home; return what it left in them."""
    temp, home = tmp_path / "temp", tmp_path / "home"
    temp.mkdir()
    home.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), HOME=str(home), PYTHONPATH=str(ROOT))
    env.pop("ORT_DISABLE_TELEMETRY", None)
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, timeout=120)
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())


def test_the_head_pose_network_starts_with_onnxruntime_telemetry_off(tmp_path):
    assert _run_python(START_NET, tmp_path) == []


def test_the_guard_sees_onnxruntime_telemetry_when_it_is_on(tmp_path):
    left = _run_python(START_ORT_ALONE, tmp_path)
    if not left:
        pytest.skip("this onnxruntime build writes no telemetry session file: nothing to see")
    assert any(name.endswith(".ses") for name in left)


_INET = re.compile(
    r"sa_family=AF_INET6?, .*?(?:inet_addr\(\"([^\"]+)\"\)|inet_pton\(AF_INET6, \"([^\"]+)\")"
)


def _foreign_addresses(trace: str) -> list[str]:
    out = []
    for line in trace.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg)\(", line):
            continue
        m = _INET.search(line)
        if m:
            addr = m.group(1) or m.group(2)
            if not (addr.startswith("127.") or addr in ("::1", "0.0.0.0", "::")):
                out.append(line.strip())
    return out


def test_foreign_address_parser_flags_an_outside_connection():
    head = "123 connect(3, {sa_family=AF_INET, sin_port=htons(443), "
    line = head + 'sin_addr=inet_addr("13.69.109.130")}, 16) = -1'
    local = head + 'sin_addr=inet_addr("127.0.0.1")}, 16) = 0'
    assert _foreign_addresses(line + "\n" + local) == [line]


@pytest.mark.slow
def test_analysing_a_video_makes_no_network_system_call(tmp_path, rom_front_report):
    """Its own run on purpose: the whole CLI in a process of its own, seen by strace.
    The full clip, not a cut: anything sent on a timer would have 26 s to show."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (make test installs it)")
    probe = subprocess.run([strace, "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here: {probe.stderr.decode().strip()}")
    trace = tmp_path / "trace.txt"
    cmd = [strace, "-f", "-e", "trace=network", "-o", str(trace),
           sys.executable, "-m", "posture.cli", "analyze", str(CLIP),
           "--json", str(tmp_path / "r.json"), "--quiet"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("ORT_DISABLE_TELEMETRY", None)
    subprocess.run(cmd, env=env, cwd=tmp_path, check=True, timeout=600)
    text = trace.read_text()
    assert "socket(" in text or "+++ exited" in text  # the trace really ran
    assert _foreign_addresses(text) == []
    # The traced run really analysed the clip: its report is the in-process one's.
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"] == rom_front_report["summary"]
    assert len(report["frames"]) == len(rom_front_report["frames"]) == 798

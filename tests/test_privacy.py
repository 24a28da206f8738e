"""Nothing leaves the machine from the library either: no telemetry from onnxruntime
(its Linux wheels carry Microsoft's 1DS telemetry) and no network system call at all
while a video is analysed, seen by the kernel (strace), not only by Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
def test_analysing_a_video_makes_no_network_system_call(cli_full_range_in_two_processes):
    """The whole CLI in a process of its own, with a worker process (--workers 2), seen
    by strace -f: the shared run of tests/conftest.py (test_parallel compares its report).
    The whole 12 s clip, not a cut, from start to exit; the dashboard's own run with every
    outside connection refused is tests/e2e/test_private.py."""
    run = cli_full_range_in_two_processes
    if run["trace"] is None:
        pytest.skip(run["no_trace_because"])
    text = run["trace"]
    assert "socket(" in text or "+++ exited" in text  # the trace really ran
    # It followed the worker processes too (the CLI, the fork server, a worker at least).
    assert len({line.split(None, 1)[0] for line in text.splitlines() if line.strip()}) >= 3
    assert _foreign_addresses(text) == []
    # The traced run really analysed the whole clip, in two processes.
    report = run["report"]
    assert len(report["frames"]) == 362 and report["settings"]["workers"] == 2

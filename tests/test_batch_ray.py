"""The ray engine on a private local Ray instance gives the same results as the process pool."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from posture.batch.runner import run_batch
from posture.errors import PostureError
from tests.media_fixtures import person_image, write_video

ray = pytest.importorskip("ray")

TIMING_COLUMNS = ("seconds_taken",)
# Each node of the two-node test cluster: Ray's minimum object store is 75 MiB.
CLUSTER_NODE = {"num_cpus": 1, "num_gpus": 0, "object_store_memory": 100 * 1024**2}


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


def _assert_same_results(got: Path, expected: Path) -> None:
    assert _summary_without_timing(got) == _summary_without_timing(expected)
    for name in ("a.mp4", "b.mp4"):
        for file_name in ("report.json", "frames.csv"):
            assert (got / name / file_name).read_bytes() == (
                expected / name / file_name
            ).read_bytes(), file_name


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory) -> tuple[Path, Path, list]:
    """The inputs and what the local engine (process pool) makes of them, once for both
    comparisons: (input folder, output folder, summary rows). Read it, never write to it."""
    root = tmp_path_factory.mktemp("ray-inputs")
    src = _folder(root / "in")
    local = run_batch(src, root / "local", engine="local", workers=2)
    assert [r.status for r in local.rows] == ["ok", "ok", "failed"]
    return src, root / "local", local.rows


@pytest.mark.slow
def test_ray_engine_on_a_local_instance_matches_the_local_engine(
    tmp_path, local_batch, no_ray_left_running
):
    src, local_out, local_rows = local_batch
    on_ray = run_batch(src, tmp_path / "ray", engine="ray", workers=2)

    assert not ray.is_initialized()  # the engine shut down the instance it started
    assert [r.status for r in on_ray.rows] == ["ok", "ok", "failed"]
    assert [r.error for r in on_ray.rows] == [r.error for r in local_rows]
    _assert_same_results(tmp_path / "ray", local_out)
    for name in ("a.mp4", "b.mp4"):
        report = json.loads((tmp_path / "ray" / name / "report.json").read_text())
        assert report["batch"]["input_sha256"]


def test_an_unreachable_cluster_address_is_refused_quickly(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.mp4").write_bytes(b"bytes")  # never opened: the connection fails first
    with pytest.raises(PostureError, match="Could not connect to the Ray cluster at 127.0.0.1:1"):
        run_batch(src, tmp_path / "out", engine="ray", address="127.0.0.1:1")
    assert not ray.is_initialized()


# -- a real two-node cluster on this machine ----------------------------------------------


def _processes() -> dict[tuple[int, str], tuple[int, str]]:
    """Every live process: (pid, start time) -> (parent pid, command line); zombies left out."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
        if fields[0] != "Z":
            found[(int(entry.name), fields[19])] = (
                int(fields[1]),
                cmdline.decode(errors="replace"),
            )
    return found


def _ray_processes_started_by_this_test() -> dict[tuple[int, str], list[str]]:
    """Ray's processes (nodes, agents, workers) among this process's descendants: their argv."""
    procs = _processes()
    children: dict[int, list[tuple[int, str]]] = {}
    for key, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(key)
    ray_dir = os.path.dirname(ray.__file__)
    found, todo = {}, [os.getpid()]
    while todo:
        for key in children.get(todo.pop(), []):
            todo.append(key[0])
            argv = procs[key][1].split("\0")
            # Workers and agents rename themselves "ray::..."; Ray's binaries and
            # scripts live in its package (but a multiprocessing forkserver may
            # carry Ray's folders in its sys.path argument: not Ray's).
            if argv[0].startswith("ray::") or any(a.startswith(ray_dir) for a in argv[:3]):
                found[key] = argv
    return found


def _alive_node_ids(cluster) -> set[str]:
    return {n["NodeID"] for n in cluster.global_state.node_table() if n["Alive"]}


def _nodes_that_ran(cluster, task_name: str, tasks: int, timeout_s: float = 15.0) -> set[str]:
    """The nodes where ``tasks`` tasks named ``task_name`` ran, from the GCS's task events.

    Read from the GCS directly: the state API (ray.util.state) needs the dashboard,
    which the cluster runs without.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        ran = [
            e.state_updates.node_id.hex()
            for e in cluster.global_state._get_all_task_events()
            if e.task_info.name == task_name and e.state_updates.node_id
        ]
        if len(ran) >= tasks or time.monotonic() > deadline:
            return set(ran)
        time.sleep(0.2)


@pytest.fixture
def two_node_cluster(monkeypatch):
    """A head node and one more node (1 CPU each) on this machine, in a private temp dir.

    Everything stays on this machine: no dashboard, no usage statistics, and
    RAY_TMPDIR keeps the cluster's files (and its address file, which a plain
    ``ray.init()`` would otherwise find in /tmp/ray) in a folder of its own.
    """
    from ray.cluster_utils import Cluster

    temp_root = tempfile.mkdtemp(prefix="posture-rayc-")  # short: Ray's socket paths
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv("RAY_TMPDIR", temp_root)
    cluster = Cluster()
    try:
        head_dir = os.path.join(temp_root, "ray")
        cluster.add_node(include_dashboard=False, temp_dir=head_dir, **CLUSTER_NODE)
        cluster.add_node(**CLUSTER_NODE)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if cluster.head_node is not None:  # the test failed before shutting it down
            cluster.shutdown()
        shutil.rmtree(temp_root, ignore_errors=True)


@pytest.mark.slow
def test_ray_engine_on_a_two_node_cluster_matches_the_local_engine(
    tmp_path, local_batch, two_node_cluster, no_ray_left_running
):
    cluster = two_node_cluster
    nodes = _alive_node_ids(cluster)
    assert len(nodes) == 2
    src, local_out, local_rows = local_batch
    on_ray = run_batch(src, tmp_path / "ray", engine="ray", address=cluster.address)

    assert not ray.is_initialized()  # the engine disconnected from the cluster
    assert [r.status for r in on_ray.rows] == ["ok", "ok", "failed"]
    assert [r.error for r in on_ray.rows] == [r.error for r in local_rows]
    _assert_same_results(tmp_path / "ray", local_out)
    # One task per input, spread over both nodes (1 CPU each), which stayed alive.
    assert _nodes_that_ran(cluster, "run_job", tasks=3) == nodes
    assert _alive_node_ids(cluster) == nodes

    ray_processes = _ray_processes_started_by_this_test()
    raylets = [argv for argv in ray_processes.values() if argv[0].endswith("/raylet")]
    assert len(raylets) == 2  # the check below looks at the real processes
    cluster.shutdown()
    deadline = time.monotonic() + 15
    while (left := ray_processes.keys() & _processes().keys()) and time.monotonic() < deadline:
        time.sleep(0.2)  # workers exit on their own once their raylet is gone
    assert not left, [_processes().get(key, (0, "(ended)"))[1][:80] for key in left]
    assert not os.path.exists(os.path.join(os.environ["RAY_TMPDIR"], "ray", "ray_current_cluster"))

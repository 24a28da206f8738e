"""Where jobs run: a local process pool, or Ray (a local instance or a cluster).

Both run the same :func:`posture.batch.worker.run_job` in a fresh process per
worker, one landmarker per video, and hand each outcome to ``on_outcome`` in
the driver as soon as it is ready; the driver writes every file.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from posture.batch.choices import Engine
from posture.batch.jobs import Job, Outcome
from posture.batch.worker import internal_error_sentence, run_job
from posture.errors import PostureError

OnOutcome = Callable[[Job, Outcome], None]
# Ray's shared-memory object store for a local instance: outcomes are a few MB
# (more with annotated videos, which then spill to disk); Ray's default would
# reserve 30% of RAM on a machine other programs share.
RAY_OBJECT_STORE_BYTES = 300 * 1024**2
RAY_CONNECT_TIMEOUT_S = 5.0
WORKER_DIED = (
    "The worker process analysing this file stopped unexpectedly (out of memory or a crash): "
    "run the batch again to retry it."
)


def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_jobs(
    jobs: Sequence[Job],
    on_outcome: OnOutcome,
    engine: Engine = "local",
    workers: int | None = None,
    address: str | None = None,
) -> None:
    """Run every job on ``engine``; ``workers`` parallel jobs (local Ray: its CPUs)."""
    if not jobs:
        return
    n = workers or default_workers()
    if engine == "ray":
        run_ray(jobs, on_outcome, n, address)
    else:
        run_local(jobs, on_outcome, min(n, len(jobs)))


# -- local process pool ------------------------------------------------------------------


def _pool_context() -> Any:
    # Never fork: the driver may hold threads (progress bar, decoders) and model state.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_local(jobs: Sequence[Job], on_outcome: OnOutcome, workers: int) -> None:
    """A process pool of ``workers`` processes; each job is one task."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context())
    futures: dict[Future[Outcome], Job] = {pool.submit(run_job, job): job for job in jobs}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                on_outcome(futures[fut], _local_outcome(fut))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _local_outcome(fut: Future[Outcome]) -> Outcome:
    try:
        return fut.result()
    except BrokenProcessPool:
        return Outcome(False, WORKER_DIED)
    except Exception as err:  # noqa: BLE001 - e.g. a result that cannot be sent back
        return Outcome(False, internal_error_sentence(err))


# -- Ray ---------------------------------------------------------------------------------


def run_ray(jobs: Sequence[Job], on_outcome: OnOutcome, workers: int, address: str | None) -> None:
    """One Ray task per job (1 CPU each) on a local Ray instance or the cluster at ``address``."""
    ray = _import_ray()
    started, temp_dir = _init_ray(ray, address, workers)
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(run_job)
        pending = {task.remote(job): job for job in jobs}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    on_outcome(pending.pop(ref), _ray_outcome(ray, ref))
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _import_ray() -> Any:
    # Before Ray is imported: no usage statistics leave the machine.
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        import ray
    except ImportError as err:
        raise PostureError(
            "The ray engine needs Ray: install it with pip install 'posture[ray]', "
            "or use --engine local."
        ) from err
    return ray


def _init_ray(ray: Any, address: str | None, workers: int) -> tuple[bool, str | None]:
    """Connect to ``address`` or start a private local instance; (started by us, temp dir)."""
    if ray.is_initialized():
        return False, None
    common = {"log_to_driver": False, "logging_level": "ERROR"}
    if address:
        unreachable = PostureError(
            f"Could not connect to the Ray cluster at {address}: check that "
            "'ray start --head' runs there and that the address and port are right."
        )
        if not _reachable(address):
            raise unreachable  # Ray itself would retry for minutes
        try:
            ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise unreachable from err
        return True, None
    # A short path: Ray's socket names must stay under ~107 characters.
    temp_dir = tempfile.mkdtemp(prefix="posture-ray-")
    ray.init(
        num_cpus=workers,
        include_dashboard=False,
        object_store_memory=RAY_OBJECT_STORE_BYTES,
        _temp_dir=temp_dir,
        **common,
    )
    return True, temp_dir


def _reachable(address: str, timeout_s: float = RAY_CONNECT_TIMEOUT_S) -> bool:
    """Whether a ``HOST:PORT`` address accepts TCP connections (other forms: assume so)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return True  # 'auto', 'ray://...': left to Ray
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except OSError:
        return False


def _ray_outcome(ray: Any, ref: Any) -> Outcome:
    try:
        outcome: Outcome = ray.get(ref)
        return outcome
    except Exception as err:  # noqa: BLE001 - a lost worker or node fails this file only
        cause = getattr(err, "cause", None) or err
        if type(cause).__name__ in ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError"):
            return Outcome(False, WORKER_DIED)
        return Outcome(False, internal_error_sentence(cause))

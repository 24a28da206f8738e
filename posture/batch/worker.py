"""The function a worker process (or Ray task) runs: analyse one input, return its files.

Kept free of heavy imports at module level: a spawned worker imports this module
to receive the job, and loads the pipeline (and MediaPipe) only when it runs one.
Each job creates its own landmarker (MediaPipe's video mode needs one per stream).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from posture import __version__
from posture.batch.jobs import Job, Outcome, annotated_name
from posture.errors import PostureError

REPORT_NAME = "report.json"
FRAMES_NAME = "frames.csv"


def run_job(job: Job) -> Outcome:
    """Analyse ``job``; never raises for a bad input (the outcome carries the sentence)."""
    # MediaPipe's C++ log lines go to the worker's stderr; keep them to warnings.
    os.environ.setdefault("GLOG_minloglevel", "2")
    t0 = time.perf_counter()
    try:
        files, values = _analyse(job)
    except PostureError as err:
        return Outcome(False, str(err), seconds_taken=time.perf_counter() - t0)
    except Exception as err:  # noqa: BLE001 - one file's failure must not stop the batch
        return Outcome(False, internal_error_sentence(err), seconds_taken=time.perf_counter() - t0)
    return Outcome(True, None, files, values, time.perf_counter() - t0, __version__)


def internal_error_sentence(err: BaseException) -> str:
    return (
        f"Internal error ({type(err).__name__}: {err}): run 'posture --debug analyze' on "
        "this file and report the output."
    )


def _input_size(path: Path) -> tuple[int, int]:
    """(width, height) of an input as the container gives it (upright)."""
    from posture.io.media import open_media

    source = open_media(path)
    try:
        return source.info.width, source.info.height
    finally:
        source.close()


def _analyse(job: Job) -> tuple[dict[str, bytes], dict[str, Any]]:
    from posture.batch.summary import report_values
    from posture.pipeline import analyze
    from posture.report import BatchRecord, attach_findings, write_csv, write_json

    item, settings = job.input, job.settings
    with tempfile.TemporaryDirectory(prefix="posture-job-") as tmp:
        out = Path(tmp)
        annotated = out / annotated_name(item.path) if settings.annotated else None
        size = _input_size(item.path) if settings.calibration else None
        options = settings.analysis_options(item.view, size)
        report = analyze(item.path, options, annotated_path=annotated)
        report = attach_findings(report).with_batch(BatchRecord(item.subject, job.content_sha256))
        write_json(report, out / REPORT_NAME)
        write_csv(report, out / FRAMES_NAME)
        files = {
            p.name: p.read_bytes()
            for p in sorted(out.iterdir())
            if p.is_file() and not p.name.startswith(".")
        }
    return files, report_values(report.to_dict())

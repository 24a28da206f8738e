"""Run a batch: plan (skip finished work), run the jobs, write results and the summary."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from posture import __version__
from posture.batch.choices import Engine
from posture.batch.engines import run_jobs
from posture.batch.inputs import BatchInput, load_inputs
from posture.batch.jobs import BatchSettings, Job, Outcome, file_sha256, job_key
from posture.batch.store import ResultStore
from posture.batch.summary import SUMMARY_NAME, SummaryRow, write_summary
from posture.errors import OutputError, PostureError
from posture.geometry.trunk import View
from posture.io.atomic import is_disk_full
from posture.io.media import check_input_path
from posture.progress import NullProgress, Progress


@dataclass(frozen=True)
class BatchResult:
    """Rows in input order (inputs not reached after an interruption have none)."""

    rows: list[SummaryRow]
    summary_path: Path

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def failed(self) -> list[SummaryRow]:
        return [r for r in self.rows if r.status == "failed"]


def run_batch(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    settings: BatchSettings | None = None,
    engine: Engine = "local",
    workers: int | None = None,
    address: str | None = None,
    default_view: View | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Analyse every input of a folder or manifest into ``out_dir``; see docs/batch.md.

    Raises PostureError for bad arguments (no inputs, bad manifest, unusable
    output folder); a file that cannot be analysed becomes a 'failed' row. A full
    disk stops the batch with :class:`DiskFull` (an OutputError): the result being
    written is left out whole, finished ones are kept, the summary is written when
    it fits (whole or not at all).
    """
    settings = settings or BatchSettings()
    if settings.frame_stride < 1:
        raise PostureError(f"The frame stride must be 1 or more, not {settings.frame_stride}.")
    out = Path(out_dir).expanduser().resolve()
    if Path(source).expanduser().resolve() == out:
        raise PostureError(
            "--out is the input folder itself: give a separate output folder (it may lie inside)."
        )
    inputs = load_inputs(source, default_view, exclude=out)
    progress = progress or NullProgress()
    rows: dict[str, SummaryRow] = {}
    with ResultStore(out) as store:
        progress.start(len(inputs), "Batch")
        try:
            jobs = []
            for item in inputs:
                planned = _plan(store, item, settings)
                if isinstance(planned, Job):
                    jobs.append(planned)
                else:
                    rows[item.name] = planned
                    progress.advance()

            def on_outcome(job: Job, outcome: Outcome) -> None:
                try:
                    rows[job.input.name] = _finish(store, job, outcome)
                except DiskFull as err:  # stops the batch: listed as failed in the summary
                    rows[job.input.name] = err.row
                    raise
                finally:
                    progress.advance()

            run_jobs(jobs, on_outcome, engine, workers, address)
        except BaseException:
            progress.close()
            # Best effort on the way out: the summary is written whole or not at all, and
            # its own failure (the disk is likely still full) must not hide the first one.
            with contextlib.suppress(Exception):
                write_summary(out / SUMMARY_NAME, _ordered(inputs, rows))
            raise
        progress.close()
        ordered = _ordered(inputs, rows)
        write_summary(out / SUMMARY_NAME, ordered)  # OutputError when it cannot be written
    return BatchResult(ordered, out / SUMMARY_NAME)


class DiskFull(OutputError):
    """A result could not be written for lack of space: the batch stops (every further
    result would fail too). ``row`` is the input's 'failed' line for the summary."""

    def __init__(self, sentence: str, row: SummaryRow) -> None:
        super().__init__(sentence)
        self.row = row


def _ordered(inputs: list[BatchInput], rows: dict[str, SummaryRow]) -> list[SummaryRow]:
    return [rows[i.name] for i in inputs if i.name in rows]


def _plan(store: ResultStore, item: BatchInput, settings: BatchSettings) -> Job | SummaryRow:
    """A job to run, or the row of an input that is finished or cannot be read at all."""
    refused = store.clash(item.name)
    if refused:
        return SummaryRow(str(item.path), item.subject, "failed", refused)
    marker = store.marker(item.name)
    try:
        check_input_path(item.path)
        stat = item.path.stat()
        content_sha256 = _content_sha256(item.path, stat, marker)
    except PostureError as err:
        return SummaryRow(str(item.path), item.subject, "failed", str(err))
    except OSError as err:
        sentence = f"{item.path} cannot be read ({err.strerror}): check its permissions."
        return SummaryRow(str(item.path), item.subject, "failed", sentence)
    key = job_key(content_sha256, item, settings)
    if marker is not None and marker.get("key") == key:
        return SummaryRow(
            str(item.path),
            item.subject,
            "skipped",
            values=marker.get("values", {}),
            seconds_taken=marker.get("seconds_taken"),
            result_dir=item.name,
        )
    return Job(item, settings, content_sha256, key, stat.st_size, stat.st_mtime_ns)


def _content_sha256(path: Path, stat: os.stat_result, marker: dict[str, Any] | None) -> str:
    """The file's hash; reused from the last result when size and modification time match."""
    source = (marker or {}).get("source", {})
    same_file = (
        source.get("path") == str(path)
        and source.get("size_bytes") == stat.st_size
        and source.get("mtime_ns") == stat.st_mtime_ns
    )
    sha256 = source.get("sha256")
    if same_file and isinstance(sha256, str):
        return sha256
    return file_sha256(path)


def _finish(store: ResultStore, job: Job, outcome: Outcome) -> SummaryRow:
    """Commit a finished job's result folder and return its summary row."""
    item = job.input
    if outcome.ok and outcome.posture_version != __version__:
        outcome = Outcome(
            False,
            f"The worker runs posture {outcome.posture_version} and this computer "
            f"{__version__}: install the same version on every node.",
        )
    if not outcome.ok:
        return SummaryRow(str(item.path), item.subject, "failed", outcome.error)
    try:
        store.commit(item.name, outcome.files, _marker(job, outcome))
    except OutputError as err:  # the name was taken while the job ran: nothing touched
        return SummaryRow(str(item.path), item.subject, "failed", str(err))
    except OSError as err:  # nothing of this result was left (see ResultStore.commit)
        folder = store.root / item.name
        if is_disk_full(err):
            sentence = (
                f"The disk is full: {folder} was not written (results finished before it are "
                "kept). Free some space and run the batch again: finished inputs are skipped."
            )
            raise DiskFull(
                sentence, SummaryRow(str(item.path), item.subject, "failed", sentence)
            ) from err
        sentence = f"{folder} could not be written ({err.strerror or err}): nothing of it was kept."
        return SummaryRow(str(item.path), item.subject, "failed", sentence)
    return SummaryRow(
        str(item.path),
        item.subject,
        "ok",
        values=outcome.values,
        seconds_taken=outcome.seconds_taken,
        result_dir=item.name,
    )


def _marker(job: Job, outcome: Outcome) -> dict[str, Any]:
    return {
        "key": job.key,
        "posture_version": __version__,
        "source": {
            "path": str(job.input.path),
            "size_bytes": job.size_bytes,
            "mtime_ns": job.mtime_ns,
            "sha256": job.content_sha256,
        },
        "subject": job.input.subject,
        "view": job.input.view or "auto",
        "settings": asdict(job.settings),
        "values": outcome.values,
        "seconds_taken": round(outcome.seconds_taken, 3),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }

"""The report (measurement contract v1): building, JSON and CSV, written atomically."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from posture import SCHEMA_VERSION, __version__
from posture.clinical import DISCLAIMER, Questionnaire, build_findings
from posture.errors import OutputError
from posture.geometry.measure import ANGLE_KEYS
from posture.io.atomic import OutputSet, file_error_sentence
from posture.io.text_safety import csv_safe_cell

CSV_COLUMNS = ("t", "valid", "view", "reference", *ANGLE_KEYS)


@dataclass
class Report:
    """A whole analysis, in the contract's shape (``to_dict``)."""

    input: dict[str, Any]
    view: str
    frames: list[dict[str, Any]]
    summary: dict[str, Any]
    quality: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "posture", "version": __version__},
            "input": self.input,
            "view": self.view,
            "frames": self.frames,
            "summary": self.summary,
            "quality": self.quality,
            "findings": self.findings,
            "disclaimer": DISCLAIMER,
        }
        d.update(self.extra)
        return _nan_to_none(d)


def attach_findings(
    report: Report,
    answers: Questionnaire | None = None,
    *,
    age_years: int | None = None,
    sex: str | None = None,
    previous: dict[str, Any] | None = None,
) -> Report:
    """Fill ``report.findings`` from the clinical layer; store the answers given."""
    report.findings = build_findings(
        report.to_dict(), answers, age_years=age_years, sex=sex, previous=previous
    )
    if answers is not None:
        report.extra["questionnaire"] = answers.to_dict()
    report.extra["subject"] = {"age_years": age_years, "sex": sex}
    return report


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Refuse an output path whose folder is missing or read-only, before any work is done."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p} is a folder: give a file name for the output.")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"Cannot write {p}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"Cannot write {p}: the folder {parent} is not writable.")
    return p


def write_atomic(path: str | os.PathLike[str], write: Callable[[TextIO], None]) -> None:
    """Write a text file through a temporary file, fsync and rename: never a half-written
    file; on a write error (a full disk too) the old file is left as it was and
    OutputError says so in one sentence."""
    p = check_writable(path)
    with OutputSet([p]) as outputs:
        try:
            outputs.add_text(p, write)
            outputs.commit()
        except OutputError as err:
            cause = err.__cause__
            if cause is None:
                raise
            raise OutputError(file_error_sentence(cause, p)) from cause


def _write_text(
    path: str | os.PathLike[str], write: Callable[[TextIO], None], outputs: OutputSet | None
) -> None:
    if outputs is None:
        write_atomic(path, write)
    else:  # one file of a run's outputs, renamed into place with the others
        outputs.add_text(check_writable(path), write)


def write_json(
    report: Report, path: str | os.PathLike[str], outputs: OutputSet | None = None
) -> None:
    """The report JSON; with ``outputs``, into that run's all-or-nothing set."""
    _write_text(
        path, lambda fh: json.dump(report.to_dict(), fh, indent=1, allow_nan=False), outputs
    )


def write_csv(
    report: Report, path: str | os.PathLike[str], outputs: OutputSet | None = None
) -> None:
    """The per-frame table; with ``outputs``, into that run's all-or-nothing set."""

    def _write(fh: TextIO) -> None:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for f in report.frames:
            w.writerow([csv_safe_cell(f.get(k)) for k in CSV_COLUMNS])

    _write_text(path, _write, outputs)

"""The report (measurement contract v1): building, JSON and CSV, written atomically."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TextIO

from posture import SCHEMA_VERSION, __version__
from posture.clinical import DISCLAIMER, Questionnaire, build_findings
from posture.errors import OutputError
from posture.geometry.measure import ANGLE_KEYS
from posture.io.atomic import OutputSet, file_error_sentence
from posture.io.text_safety import csv_safe_cell

CSV_COLUMNS = ("t", "valid", "view", "reference", *ANGLE_KEYS)

ReportView = Literal["front", "left", "right", "mixed", "unknown"]
# Ranges for the generated JSON Schema (posture.report_schema), in field metadata.
ANGLE: dict[str, Any] = {"json_schema": {"minimum": -180, "maximum": 180}}
RANGE_OF_MOTION: dict[str, Any] = {"json_schema": {"minimum": 0, "maximum": 180}}
FRACTION: dict[str, Any] = {"json_schema": {"minimum": 0, "maximum": 1}}
FrameView = Literal["front", "left", "right", "unknown"]


@dataclass(frozen=True)
class FrameRow:
    """One frame's record: its time (s from the first frame) and filtered angles (deg)."""

    t: float
    valid: bool
    view: FrameView
    reference: Literal["trunk", "camera"]
    cva_deg: float | None = field(default=None, metadata=ANGLE)
    head_rotation_deg: float | None = field(default=None, metadata=ANGLE)
    head_flexion_deg: float | None = field(default=None, metadata=ANGLE)
    head_lateral_flexion_deg: float | None = field(default=None, metadata=ANGLE)
    head_tilt_deg: float | None = field(default=None, metadata=ANGLE)
    shoulder_tilt_deg: float | None = field(default=None, metadata=ANGLE)


@dataclass(frozen=True)
class InputInfo:
    """What was analysed: the file (or "webcam") as the report names it."""

    path: str
    kind: Literal["image", "video"]
    width: int
    height: int
    fps: float | None
    frame_count: int
    duration_s: float


@dataclass(frozen=True)
class Summary:
    """Posture medians (deg), range of motion from neutral (deg) and what bounds them."""

    cva_deg: float | None = field(metadata=ANGLE)
    head_tilt_deg: float | None = field(metadata=ANGLE)
    shoulder_tilt_deg: float | None = field(metadata=ANGLE)
    rom: Mapping[str, float | None] = field(metadata=RANGE_OF_MOTION)  # every ROM_KEYS key
    cva_uncertainty_deg: float | None
    rom_at_least: tuple[str, ...]  # directions whose value is only a lower bound


@dataclass(frozen=True)
class Quality:
    """How far the recording supports its numbers."""

    valid_frame_fraction: float = field(metadata=FRACTION)
    people_in_view_max: int | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class NeutralRecord:
    """The head position range of motion is measured from, and where it came from."""

    source: str
    t_start_s: float | None
    t_end_s: float | None
    values_deg: Mapping[str, float]  # head angle key -> deg, written flat in the JSON


@dataclass(frozen=True)
class Settings:
    """The analysis settings that shaped the numbers (``frame_stride`` and ``workers``
    only when given)."""

    view: str
    calibration: str | None
    camera_roll_deg: float
    camera_pitch_deg: float
    focal_px: float | None
    cutoff_hz: float
    workers: int | None = None
    frame_stride: int | None = None


@dataclass(frozen=True)
class Subject:
    age_years: int | None
    sex: str | None


@dataclass(frozen=True)
class BatchRecord:
    """Which batch input this report is: its subject and the content's SHA-256."""

    subject: str | None
    input_sha256: str


@dataclass(frozen=True)
class Report:
    """A whole analysis; ``to_dict`` gives the contract's JSON (docs/measurement.md,
    ``report_json_schema``). Frozen: a later layer adds what it knows with
    :meth:`with_findings` or :meth:`with_batch`, which return a new report."""

    input: InputInfo
    view: ReportView
    frames: tuple[FrameRow, ...]
    summary: Summary
    quality: Quality
    neutral: NeutralRecord | None
    settings: Settings
    findings: tuple[Mapping[str, Any], ...] = ()
    questionnaire: Mapping[str, Any] | None = None
    subject: Subject | None = None
    batch: BatchRecord | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "posture", "version": __version__},
            "input": asdict(self.input),
            "view": self.view,
            "frames": [asdict(f) for f in self.frames],
            "summary": asdict(self.summary),  # tuples become lists in _nan_to_none
            "quality": asdict(self.quality),
            "findings": [dict(f) for f in self.findings],
            "disclaimer": DISCLAIMER,
            "neutral": None if self.neutral is None else _neutral_dict(self.neutral),
            "settings": _settings_dict(self.settings),
        }
        if self.questionnaire is not None:
            d["questionnaire"] = dict(self.questionnaire)
        if self.subject is not None:
            d["subject"] = asdict(self.subject)
        if self.batch is not None:
            d["batch"] = asdict(self.batch)
        return _nan_to_none(d)  # type: ignore[no-any-return]

    def with_findings(
        self,
        findings: Iterable[Mapping[str, Any]],
        questionnaire: Mapping[str, Any] | None,
        subject: Subject,
    ) -> Report:
        return replace(self, findings=tuple(findings), questionnaire=questionnaire, subject=subject)

    def with_batch(self, batch: BatchRecord) -> Report:
        return replace(self, batch=batch)


def _settings_dict(settings: Settings) -> dict[str, Any]:
    d = asdict(settings)
    for optional in ("workers", "frame_stride"):
        if d[optional] is None:
            del d[optional]
    return d


def _neutral_dict(n: NeutralRecord) -> dict[str, Any]:
    return {"source": n.source, "t_start_s": n.t_start_s, "t_end_s": n.t_end_s,
            **dict(n.values_deg)}  # fmt: skip


def attach_findings(
    report: Report,
    answers: Questionnaire | None = None,
    *,
    age_years: int | None = None,
    sex: str | None = None,
    previous: dict[str, Any] | None = None,
) -> Report:
    """The report with its findings from the clinical layer, and the answers given."""
    findings = build_findings(
        report.to_dict(), answers, age_years=age_years, sex=sex, previous=previous
    )
    questionnaire = answers.to_dict() if answers is not None else None
    return report.with_findings(findings, questionnaire, Subject(age_years, sex))


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

    rows = [asdict(f) for f in report.frames]
    _write_text(path, lambda fh: write_frame_rows(fh, rows), outputs)


def write_frame_rows(fh: TextIO, frames: Iterable[Mapping[str, Any]]) -> None:
    """The per-frame table (CSV_COLUMNS) of frames in the report's JSON form: the one
    CSV writer (files, downloads). Cells a spreadsheet would run as formulas are quoted."""
    w = csv.writer(fh)
    w.writerow(CSV_COLUMNS)
    for f in frames:
        w.writerow([csv_safe_cell(f.get(k)) for k in CSV_COLUMNS])

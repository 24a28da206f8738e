"""The batch's summary CSV: one row per input with its status, error and key results."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from posture.io.text_safety import csv_safe_cell
from posture.measures import ROM_KEYS
from posture.report import write_atomic

SUMMARY_NAME = "summary.csv"
STATIC_KEYS = ("cva_deg", "head_tilt_deg", "shoulder_tilt_deg")
VALUE_COLUMNS = (
    "view",
    "valid_frame_fraction",
    *STATIC_KEYS,
    *(f"rom_{k}" for k in ROM_KEYS),
    "rom_at_least",
    "duration_s",
)
SUMMARY_COLUMNS = (
    "path",
    "subject",
    "status",
    "error",
    *VALUE_COLUMNS,
    "seconds_taken",
    "result_dir",
)

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class SummaryRow:
    """One input's line in the summary.

    ``status`` is 'ok' (analysed in this run), 'skipped' (finished in an earlier
    run; values and ``seconds_taken`` come from that run) or 'failed' (``error``
    says why). ``result_dir`` is relative to the output folder.
    """

    path: str
    subject: str | None
    status: Status
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    seconds_taken: float | None = None
    result_dir: str | None = None

    def cells(self) -> list[Any]:
        fixed = {
            "path": self.path,
            "subject": self.subject,
            "status": self.status,
            "error": self.error,
            "seconds_taken": None if self.seconds_taken is None else round(self.seconds_taken, 2),
            "result_dir": self.result_dir,
        }
        # Paths, subjects and errors come from the manifest and the file system: a text
        # such as =HYPERLINK(...) must stay text in a spreadsheet (csv_safe_cell).
        return [csv_safe_cell(fixed.get(c, self.values.get(c))) for c in SUMMARY_COLUMNS]


def report_values(report: dict[str, Any]) -> dict[str, Any]:
    """The summary's values from a report dict (measurement contract v1)."""
    summary = report.get("summary", {})
    rom = summary.get("rom") or {}
    return {
        "view": report.get("view"),
        "valid_frame_fraction": report.get("quality", {}).get("valid_frame_fraction"),
        **{k: summary.get(k) for k in STATIC_KEYS},
        **{f"rom_{k}": rom.get(k) for k in ROM_KEYS},
        # Directions whose value is only a lower bound (the head went past the camera).
        "rom_at_least": " ".join(summary.get("rom_at_least") or []),
        "duration_s": report.get("input", {}).get("duration_s"),
    }


def write_summary(path: Path, rows: Iterable[SummaryRow]) -> None:
    """Write the summary CSV atomically (temporary file, then rename)."""

    def _write(fh: TextIO) -> None:
        w = csv.writer(fh)
        w.writerow(SUMMARY_COLUMNS)
        for row in rows:
            w.writerow(row.cells())

    write_atomic(path, _write)

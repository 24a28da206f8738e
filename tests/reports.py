"""Small typed reports for tests that need a Report without analysing anything."""

from __future__ import annotations

from typing import Literal

from posture.measures import ROM_KEYS
from posture.report import FrameRow, InputInfo, Quality, Report, Settings, Summary


def tiny_report(
    kind: Literal["image", "video"] = "image", frames: tuple[FrameRow, ...] | None = None
) -> Report:
    """A one-frame report of nothing measured (every value None), in the contract's shape."""
    rows = frames or (FrameRow(t=0.0, valid=False, view="unknown", reference="camera"),)
    return Report(
        input=InputInfo("p.png", kind, 640, 480, None, len(rows), 0.0),
        view="unknown",
        frames=rows,
        summary=Summary(None, None, None, dict.fromkeys(ROM_KEYS), None, ()),
        quality=Quality(1.0, None, ()),
        neutral=None,
        settings=Settings("auto", None, 0.0, 0.0, None, 3.0),
    )

"""The clinic's table of exact values: the FRT rows and the 'not judged' labels."""

from __future__ import annotations

import json

from app.view_clinic import values_table
from tests.test_fitness import _bending, _report
from tests.test_frt import _frames, _frt
from tests.test_frt import _report as frt_report


def _rows(report: dict) -> dict[str, tuple[str, str]]:
    table = values_table(report, None, None)
    return {r["Measure"]: (r["Value (deg)"], r["Label"]) for _, r in table.iterrows()}


def test_a_recorded_flexion_rotation_test_gets_its_rows():
    rows = _rows(frt_report(_frames(_frt(28.0, 44.0))))
    assert rows["FRT rotation left (approximation)"] == ("28.0", "positive")
    assert rows["FRT rotation right (approximation)"] == ("44.0", "negative")


def test_values_from_a_recording_that_cannot_support_them_are_shown_not_judged():
    rows = _rows(_report(10.0, cva_at=_bending))
    value, label = rows["Craniovertebral angle"]
    assert value != "not measured" and label == "not judged: moving throughout"
    assert not [m for m in rows if m.startswith("FRT")]  # no test in this recording
    json.dumps(rows)  # plain text only

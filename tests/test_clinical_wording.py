"""Questionnaire round trip, red-flag screen, and the wording policy of patient text."""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import fields
from typing import Any

import pytest

from posture.clinical import (
    QUESTIONS,
    FrtResult,
    Questionnaire,
    build_findings,
    screen_red_flags,
)
from posture.measures import ROM_KEYS

# Diagnostic claims the patient text must never make (see docs/clinical.md, wording policy).
FORBIDDEN = [
    r"\byou have\b",
    r"\byou've got\b",
    r"diagnos",  # diagnosis, diagnosed, diagnose, diagnostic
    r"\bdisease",
    r"\bdisorder",
    r"confirm",
    r"\byou suffer",
    r"\bdefinitely\b",
    r"\bproves?\b",
    r"\bcaused by\b",
    r"\bis the cause\b",
]


def report(
    cva: float | None, rom_deg: float | None, fraction: float = 1.0, tilt: float | None = None
) -> dict[str, Any]:
    rom = {k: rom_deg for k in ROM_KEYS}
    if rom_deg is not None:
        rom["rotation_right_deg"] = rom_deg + 25.0
    return {
        "input": {"kind": "video"},
        # A still recording whose head goes out each way and back (posture.clinical.fitness).
        "frames": [
            {
                "t": float(i),
                "valid": True,
                "cva_deg": 55.0 - i / 10,
                **dict.fromkeys(HEAD_ANGLES, 60.0 * math.sin(2 * math.pi * i / 60)),
            }
            for i in range(121)
        ],  # fmt: skip
        "neutral": {"source": "still period", **dict.fromkeys(HEAD_ANGLES, 0.0)},
        "summary": {"cva_deg": cva, "head_tilt_deg": tilt, "shoulder_tilt_deg": tilt, "rom": rom},
        "quality": {"valid_frame_fraction": fraction, "warnings": ["a warning"]},
    }


HEAD_ANGLES = ("head_rotation_deg", "head_flexion_deg", "head_lateral_flexion_deg")
REPORTS = [
    report(None, None),
    report(40.0, 30.0, tilt=8.0),
    report(47.0, 50.0),
    report(55.0, 80.0, tilt=-1.0),
    report(55.0, 80.0, fraction=0.2),
]
ANSWERS = [
    None,
    Questionnaire(),
    Questionnaire(
        **{q.id: "left" if q.sides else "yes" for q in QUESTIONS if q.group != "red_flag"}
    ),
    Questionnaire(**{q.id: "right" if q.sides else "no" for q in QUESTIONS}),
    Questionnaire(sudden_severe_headache="yes"),
    Questionnaire(**{q.id: "both" if q.sides else "yes" for q in QUESTIONS}),
]
FRTS = [None, FrtResult(25.0, 45.0), FrtResult(40.0, 40.0), FrtResult(None, 20.0)]


def all_findings() -> list[dict[str, Any]]:
    out = []
    for r, a, frt in itertools.product(REPORTS, ANSWERS, FRTS):
        for age, sex in ((None, None), (72, "female"), (15, "other")):
            out += build_findings(r, a, age_years=age, sex=sex, previous=REPORTS[2], frt=frt)
    return out


def test_no_patient_text_uses_diagnostic_language() -> None:
    findings = all_findings()
    ids = {f["id"] for f in findings}
    # the scan covers every kind of finding the layer can produce
    assert {
        "red_flag",
        "could_not_measure",
        "not_measured",
        "cva",
        "rom.rotation_left",
        "asymmetry.rotation",
        "frt",
        "contributor.posture",
        "symptoms.side",
        "contributor.muscle",
        "contributor.trauma",
        "contributor.stress",
        "symptoms",
        "red_flags_reminder",
    } <= ids
    assert any(i.startswith("change.") for i in ids)
    for f in findings:
        for text in (f["patient_text"], f["disclaimer"]):
            for pattern in FORBIDDEN:
                assert not re.search(pattern, text, re.IGNORECASE), (f["id"], pattern, text)


def test_every_output_carries_a_disclaimer() -> None:
    assert all(f["disclaimer"].strip() for f in all_findings())


def test_non_emergency_attention_findings_point_to_a_physical_therapist() -> None:
    for f in all_findings():
        if f["severity"] == "attention":
            assert "physical therapist" in f["patient_text"], f["id"]


def test_question_texts_are_wordfree_of_diagnosis_too() -> None:
    for q in QUESTIONS:
        assert q.text.strip().endswith("?")
        for pattern in FORBIDDEN:
            assert not re.search(pattern, q.text, re.IGNORECASE), q.id


# -- questionnaire ------------------------------------------------------------------------------

# Words that tie a question to a time: "in the past week", "at any time", "right now"...
TIME_FRAME = re.compile(
    r"\b(in the past|over the past|at any time|right now|at present)\b", re.IGNORECASE
)


def test_every_red_flag_has_a_time_frame_an_urgency_and_a_source() -> None:
    red_flags = [q for q in QUESTIONS if q.group == "red_flag"]
    for q in red_flags:
        assert TIME_FRAME.search(q.text), q.id
        assert q.urgency in ("emergency", "doctor_soon", "tell_therapist"), q.id
        assert q.sources and all(s.strip() for s in q.sources), q.id
    for q in QUESTIONS:
        if q.group != "red_flag":
            assert q.urgency is None and not q.sources, q.id
    every_source = " ".join(s for q in red_flags for s in q.sources)
    for screen in ("seed handout", "SNNOOP10", "IFOMPT"):
        assert screen in every_source
    assert {q.urgency for q in red_flags} == {"emergency", "doctor_soon", "tell_therapist"}


@pytest.mark.parametrize(
    ("words", "urgency"),
    [
        # the seed handout's five: call emergency services
        ("severe headache come on suddenly", "emergency"),
        ("high fever", "emergency"),
        ("blow to the head", "emergency"),
        ("steadily worse", "emergency"),
        ("double vision", "emergency"),
        # the wider screens' items the issue names
        ("numbness or weakness", "emergency"),
        ("speaking", "emergency"),
        ("fell without", "emergency"),  # drop attacks
        ("50 or older", "doctor_soon"),
        ("cancer", "doctor_soon"),
    ],
)
def test_the_screen_asks_the_cited_items_with_their_urgency(words: str, urgency: str) -> None:
    found = [q for q in QUESTIONS if q.group == "red_flag" and words in q.text]
    assert len(found) == 1, words
    assert found[0].urgency == urgency


def test_glasses_are_no_red_flag() -> None:
    (vision,) = [q for q in QUESTIONS if "vision" in q.text]
    assert "glasses" in vision.text and "new" in vision.text


def test_every_question_is_a_field_and_every_field_a_question() -> None:
    assert [q.id for q in QUESTIONS] == [f.name for f in fields(Questionnaire)]
    groups = [q.group for q in QUESTIONS]
    assert groups.index("symptom") > max(i for i, g in enumerate(groups) if g == "red_flag")


def test_questionnaire_json_round_trip() -> None:
    q = Questionnaire(stress="yes", nausea="no", sudden_severe_headache="no")
    assert Questionnaire.from_dict(json.loads(json.dumps(q.to_dict()))) == q
    assert Questionnaire.from_dict({}) == Questionnaire()


@pytest.mark.parametrize("bad", ["maybe", True, None, 1, "YES"])
def test_invalid_answers_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError):
        Questionnaire(stress=bad)


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValueError):
        Questionnaire.from_dict({"stres": "yes"})


@pytest.mark.parametrize(
    ("answers", "stop"),
    [
        (None, False),
        (Questionnaire(), False),
        (Questionnaire(sudden_severe_headache="no"), False),
        (Questionnaire(sudden_severe_headache="yes"), True),
        (Questionnaire(vision_problems_or_severe_dizziness="yes", stress="no"), True),
        (Questionnaire(lightheaded_or_dizzy="yes"), False),  # mild dizziness is a symptom
    ],
)
def test_red_flag_screen_stops_the_self_check(answers: Questionnaire | None, stop: bool) -> None:
    screen = screen_red_flags(answers)
    assert screen.stop_self_check == stop
    if answers is None:
        assert screen.unanswered == tuple(q for q in QUESTIONS if q.group == "red_flag")

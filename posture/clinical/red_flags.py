"""Red-flag screen: the seed handout's emergency signs and the wider screens it points to.

Every question has a time frame and an urgency (posture.clinical.questionnaire):

- ``emergency``: call emergency services now. The self-check stops; nothing is measured,
  and no mode shows a measured value or anything reassuring.
- ``doctor_soon``: see a doctor within the next few days. Shown before any result.
- ``tell_therapist``: tell the therapist before the neck is examined or treated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posture.clinical.norms import SOURCES
from posture.clinical.questionnaire import (
    IFOMPT,
    QUESTIONS,
    SNNOOP10,
    Question,
    Questionnaire,
    Urgency,
)

EMERGENCY_INSTRUCTION = (
    "Stop the self-check and get emergency care now: call your local emergency number "
    "(9-1-1 in the US) or go to the nearest emergency department."
)
EMERGENCY_DISCLAIMER = "Do not wait for a physical therapist appointment for these symptoms."
DOCTOR_SOON_INSTRUCTION = (
    "See a doctor within the next few days, before relying on this check or starting neck "
    "exercises, and tell them what you reported."
)
TELL_THERAPIST_INSTRUCTION = (
    "Tell your physical therapist before your neck is examined or treated: it changes what "
    "is safe for your neck."
)
LATER_DISCLAIMER = (
    "This check cannot tell what causes these symptoms; a doctor or your physical therapist can."
)
RED_FLAG_SOURCES = (SOURCES["seed"], SNNOOP10, IFOMPT)
RED_FLAG_QUESTIONS: tuple[Question, ...] = tuple(q for q in QUESTIONS if q.group == "red_flag")

# The finding each urgency gives when at least one of its questions is answered 'yes'.
_FINDING = {
    "emergency": ("red_flag", "emergency"),
    "doctor_soon": ("red_flag.doctor_soon", "attention"),
    "tell_therapist": ("red_flag.tell_therapist", "attention"),
}


@dataclass(frozen=True)
class RedFlagScreen:
    """Outcome of the screen: which red flags were answered 'yes' and whether to stop."""

    flags: tuple[Question, ...]
    unanswered: tuple[Question, ...]

    def with_urgency(self, urgency: Urgency) -> tuple[Question, ...]:
        return tuple(q for q in self.flags if q.urgency == urgency)

    @property
    def stop_self_check(self) -> bool:
        """An emergency sign was reported: nothing is measured and no result is shown."""
        return bool(self.with_urgency("emergency"))


def screen_red_flags(answers: Questionnaire | None) -> RedFlagScreen:
    """Screen the answers; no answers = nothing flagged, every red flag unanswered."""
    if answers is None:
        answers = Questionnaire()
    return RedFlagScreen(answers.yes("red_flag"), answers.unanswered("red_flag"))


def _evidence(questions: tuple[Question, ...]) -> list[dict[str, Any]]:
    return [
        {"metric": f"answer.{q.id}", "value": "yes", "reference": "; ".join(q.sources)}
        for q in questions
    ]


def _emergency_finding(flags: tuple[Question, ...]) -> dict[str, Any]:
    reported = "; ".join(q.short for q in flags)
    return {
        "id": "red_flag",
        "severity": "emergency",
        "stop_self_check": True,
        "evidence": _evidence(flags),
        "patient_text": (
            f"You reported: {reported}. {EMERGENCY_INSTRUCTION} These symptoms need a "
            "doctor to check them right away."
        ),
        "clinician_text": (
            f"Red flag(s) answered yes: {reported}. Self-check stopped before measurement; "
            "patient told to seek emergency care. Screen further (SNNOOP10, IFOMPT "
            "cervical framework) before any neck assessment."
        ),
        "sources": list(RED_FLAG_SOURCES),
        "disclaimer": EMERGENCY_DISCLAIMER,
    }


def _later_finding(urgency: Urgency, flags: tuple[Question, ...]) -> dict[str, Any]:
    reported = "; ".join(q.short for q in flags)
    finding_id, severity = _FINDING[urgency]
    if urgency == "doctor_soon":
        patient = f"You reported: {reported}. {DOCTOR_SOON_INSTRUCTION}"
        clinician = (
            f"Red flag(s) for medical review within days answered yes: {reported}. Refer "
            "for medical assessment before a neck assessment or treatment."
        )
    else:
        patient = f"You reported: {reported}. {TELL_THERAPIST_INSTRUCTION}"
        clinician = (
            f"Precaution(s) answered yes: {reported}. Take into account before examining "
            "or treating the neck (IFOMPT cervical framework)."
        )
    return {
        "id": finding_id,
        "severity": severity,
        "urgency": urgency,
        "stop_self_check": False,
        "evidence": _evidence(flags),
        "patient_text": patient,
        "clinician_text": clinician,
        "sources": sorted({s for q in flags for s in q.sources}),
        "disclaimer": LATER_DISCLAIMER,
    }


def red_flag_findings(answers: Questionnaire | None) -> list[dict[str, Any]]:
    """The red-flag findings, most urgent first: [] when no red flag is answered 'yes'.

    With an emergency sign, only the emergency finding comes back (the caller shows
    nothing else). Otherwise one finding for the 'see a doctor within days' signs and one
    for the 'tell your therapist' precautions, each only when one was answered 'yes'."""
    screen = screen_red_flags(answers)
    emergency = screen.with_urgency("emergency")
    if emergency:
        return [_emergency_finding(emergency)]
    out = []
    for urgency in ("doctor_soon", "tell_therapist"):
        flags = screen.with_urgency(urgency)
        if flags:
            out.append(_later_finding(urgency, flags))
    return out

"""Red-flag screen (seed handout): any 'yes' means emergency care now and the self-check stops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posture.clinical.norms import SOURCES
from posture.clinical.questionnaire import Question, Questionnaire

EMERGENCY_INSTRUCTION = (
    "Stop the self-check and get emergency care now: call your local emergency number "
    "(9-1-1 in the US) or go to the nearest emergency department."
)
EMERGENCY_DISCLAIMER = "Do not wait for a physical therapist appointment for these symptoms."
RED_FLAG_SOURCES = (
    SOURCES["seed"],
    "SNNOOP10 headache red flags (Do 2019)",
    "IFOMPT cervical framework (Rushton 2023)",
)


@dataclass(frozen=True)
class RedFlagScreen:
    """Outcome of the screen: which red flags were answered 'yes' and whether to stop."""

    flags: tuple[Question, ...]
    unanswered: tuple[Question, ...]

    @property
    def stop_self_check(self) -> bool:
        return bool(self.flags)


def screen_red_flags(answers: Questionnaire | None) -> RedFlagScreen:
    """Screen the answers; no answers = nothing flagged, every red flag unanswered."""
    if answers is None:
        answers = Questionnaire()
    return RedFlagScreen(answers.yes("red_flag"), answers.unanswered("red_flag"))


def red_flag_findings(answers: Questionnaire | None) -> list[dict[str, Any]]:
    """One 'emergency' finding listing every red flag answered 'yes'; [] when there is none."""
    screen = screen_red_flags(answers)
    if not screen.stop_self_check:
        return []
    reported = "; ".join(q.short for q in screen.flags)
    return [
        {
            "id": "red_flag",
            "severity": "emergency",
            "stop_self_check": True,
            "evidence": [
                {"metric": f"answer.{q.id}", "value": "yes", "reference": "red flag (seed)"}
                for q in screen.flags
            ],
            "patient_text": (
                f"You reported: {reported}. {EMERGENCY_INSTRUCTION} These symptoms need a "
                "doctor to check them right away."
            ),
            "clinician_text": (
                f"Red flag(s) answered yes: {reported}. Self-check stopped before measurement; "
                "patient told to seek emergency care. Screen further (e.g. SNNOOP10, IFOMPT "
                "cervical framework) before any neck assessment."
            ),
            "sources": list(RED_FLAG_SOURCES),
            "disclaimer": EMERGENCY_DISCLAIMER,
        }
    ]

"""Symptom, history and red-flag questionnaire: question texts and structured answers.

The questions follow the seed handout (symptoms, possible causes, red flags). The red-flag
questions come first: the patient flow asks them before any measurement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

Answer = Literal["yes", "no", "unknown"]
ANSWERS: tuple[str, ...] = ("yes", "no", "unknown")
Group = Literal["red_flag", "symptom", "history"]


@dataclass(frozen=True)
class Question:
    """One question as the dashboard renders it; ``id`` is the :class:`Questionnaire` field."""

    id: str
    group: Group
    text: str
    short: str  # a few words, for evidence lists and summaries


# The one place the question texts live; order = display order.
QUESTIONS: tuple[Question, ...] = (
    # red flags (seed: call 9-1-1 for immediate medical attention)
    Question(
        "headache_progressively_worse",
        "red_flag",
        "Are your headaches getting progressively worse over time?",
        "headaches getting progressively worse",
    ),
    Question(
        "sudden_severe_headache",
        "red_flag",
        "Have you had a sudden, severe headache?",
        "sudden severe headache",
    ),
    Question(
        "headache_with_fever_stiff_neck_or_rash",
        "red_flag",
        "Does your headache come with a high fever, a stiff neck or a rash?",
        "headache with high fever, stiff neck or rash",
    ),
    Question(
        "headache_after_head_injury",
        "red_flag",
        "Did this headache start after a head injury?",
        "headache that started after a head injury",
    ),
    Question(
        "vision_problems_or_severe_dizziness",
        "red_flag",
        "Are there problems with your vision, or severe dizziness?",
        "vision problems or severe dizziness",
    ),
    # symptoms (seed: common symptoms)
    Question(
        "one_sided_neck_pain_with_headache",
        "symptom",
        "Do you get neck pain, usually on one side, with a headache that wraps from the base "
        "of the skull, up the back of the head, to the front?",
        "one-sided neck pain with a headache from the back to the front of the head",
    ),
    Question(
        "headache_comes_and_goes",
        "symptom",
        "Does the headache come and go (it is not constant)?",
        "headache that comes and goes",
    ),
    Question(
        "headache_from_neck_movement_or_position",
        "symptom",
        "Is the headache brought on or made worse by certain neck movements, or by staying "
        "in the same position for a long time (such as driving or sitting at a computer)?",
        "headache brought on by neck movement or long positions",
    ),
    Question(
        "tender_base_of_skull",
        "symptom",
        "Is the base of your head or upper neck tender when you press on it firmly?",
        "tenderness at the base of the head or upper neck",
    ),
    Question(
        "arm_discomfort_same_side",
        "symptom",
        "Do you feel discomfort in the arm on the same side as the head or neck pain?",
        "arm discomfort on the same side",
    ),
    Question(
        "lightheaded_or_dizzy",
        "symptom",
        "Do you feel light-headed or mildly dizzy with the headache?",
        "light-headedness or mild dizziness",
    ),
    Question("nausea", "symptom", "Do you feel sick (nausea) with the headache?", "nausea"),
    Question(
        "ringing_in_ears",
        "symptom",
        "Do you hear ringing in your ears with the headache?",
        "ringing in the ears",
    ),
    Question(
        "poor_concentration",
        "symptom",
        "Is it harder to concentrate with the headache?",
        "harder to concentrate",
    ),
    # history (seed: possible causes)
    Question(
        "previous_neck_or_head_injury",
        "history",
        "Have you ever injured your neck or head (for example whiplash or a concussion)?",
        "previous neck or head injury",
    ),
    Question(
        "stress",
        "history",
        "Have you been under a lot of stress lately?",
        "stress",
    ),
    Question(
        "sustained_postures",
        "history",
        "Do you spend long periods in one position at work or at home (for example at a "
        "computer, driving, looking down at a phone)?",
        "long periods in one position (work, driving, screens)",
    ),
)
QUESTIONS_BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}


@dataclass(frozen=True)
class Questionnaire:
    """Structured answers, each 'yes', 'no' or 'unknown' (not asked / not sure).

    JSON round trip: ``Questionnaire.from_dict(json.loads(json.dumps(q.to_dict()))) == q``.
    """

    headache_progressively_worse: Answer = "unknown"
    sudden_severe_headache: Answer = "unknown"
    headache_with_fever_stiff_neck_or_rash: Answer = "unknown"
    headache_after_head_injury: Answer = "unknown"
    vision_problems_or_severe_dizziness: Answer = "unknown"
    one_sided_neck_pain_with_headache: Answer = "unknown"
    headache_comes_and_goes: Answer = "unknown"
    headache_from_neck_movement_or_position: Answer = "unknown"
    tender_base_of_skull: Answer = "unknown"
    arm_discomfort_same_side: Answer = "unknown"
    lightheaded_or_dizzy: Answer = "unknown"
    nausea: Answer = "unknown"
    ringing_in_ears: Answer = "unknown"
    poor_concentration: Answer = "unknown"
    previous_neck_or_head_injury: Answer = "unknown"
    stress: Answer = "unknown"
    sustained_postures: Answer = "unknown"

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v not in ANSWERS:
                raise ValueError(f"{f.name}: answer must be one of {ANSWERS}, got {v!r}")

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Questionnaire:
        """Answers from JSON; missing keys are 'unknown', unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        extra = set(d) - names
        if extra:
            raise ValueError(f"unknown questionnaire keys: {sorted(extra)}")
        return cls(**d)

    def yes(self, group: Group) -> tuple[Question, ...]:
        """Questions of a group answered 'yes', in display order."""
        return tuple(q for q in QUESTIONS if q.group == group and getattr(self, q.id) == "yes")

    def unanswered(self, group: Group) -> tuple[Question, ...]:
        """Questions of a group still 'unknown' (the dashboard should ask red flags first)."""
        return tuple(q for q in QUESTIONS if q.group == group and getattr(self, q.id) == "unknown")

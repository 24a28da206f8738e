"""Symptom, history and red-flag questionnaire: question texts and structured answers.

The questions follow the seed handout (symptoms, possible causes, red flags). The red-flag
questions come first: the patient flow asks them before any measurement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

Answer = Literal["yes", "no", "unknown"]
ANSWERS: tuple[str, ...] = ("yes", "no", "unknown")
# The answer to a "which side" question ('unknown': not asked, not sure, or no such pain).
Side = Literal["left", "right", "both", "unknown"]
SIDES: tuple[str, ...] = ("left", "right", "both", "unknown")
Group = Literal["red_flag", "symptom", "history"]
# What a red flag answered 'yes' asks the person to do (posture.clinical.red_flags).
Urgency = Literal["emergency", "doctor_soon", "tell_therapist"]
URGENCIES: tuple[Urgency, ...] = ("emergency", "doctor_soon", "tell_therapist")

# The screens a red-flag question comes from (each question names its own).
SEED = "seed handout"
SNNOOP10 = "SNNOOP10 (Do 2019)"
IFOMPT = "IFOMPT cervical framework (Rushton 2023)"


@dataclass(frozen=True)
class Question:
    """One question as the dashboard renders it; ``id`` is the :class:`Questionnaire` field.

    A red-flag question also carries its ``urgency`` and the ``sources`` it comes from, and
    its ``text`` names a time frame ("in the past week", "at any time"), so that an old,
    settled event or a pair of glasses does not send someone to the emergency department.
    """

    id: str
    group: Group
    text: str
    short: str  # a few words, for evidence lists and summaries
    urgency: Urgency | None = None
    sources: tuple[str, ...] = ()
    sides: bool = False  # answered with a side (:data:`SIDES`) instead of yes / no


def _flag(id_: str, urgency: Urgency, text: str, short: str, *sources: str) -> Question:
    return Question(id_, "red_flag", text, short, urgency, sources)


# The one place the question texts live; order = display order.
QUESTIONS: tuple[Question, ...] = (
    # red flags: call emergency services now (seed: "call 9-1-1 for immediate medical
    # attention"; the wider screens' signs of a bleed, infection, stroke or artery injury)
    _flag(
        "sudden_severe_headache",
        "emergency",
        "In the past 4 weeks, has a severe headache come on suddenly, reaching its worst "
        "within a minute or so?",
        "sudden severe headache in the past 4 weeks",
        SEED,
        SNNOOP10 + ": onset sudden",
    ),
    _flag(
        "headache_with_fever_stiff_neck_or_rash",
        "emergency",
        "Right now or in the past week, has your headache come with a high fever, a stiff "
        "neck that will not bend your chin to your chest, or a new rash?",
        "headache with high fever, stiff neck or rash in the past week",
        SEED,
        SNNOOP10 + ": systemic symptoms",
    ),
    _flag(
        "headache_after_head_injury",
        "emergency",
        "Did this headache start in the past 4 weeks, after a blow to the head, a fall or "
        "an accident?",
        "headache that started after a head injury in the past 4 weeks",
        SEED,
        SNNOOP10 + ": posttraumatic onset",
    ),
    _flag(
        "headache_progressively_worse",
        "emergency",
        "Over the past weeks, have your headaches been getting steadily worse, stronger or "
        "more often week after week?",
        "headaches getting steadily worse over the past weeks",
        SEED,
        SNNOOP10 + ": progressive headache",
    ),
    _flag(
        "vision_problems_or_severe_dizziness",
        "emergency",
        "In the past week, have you had new double vision, lost some or all of the sight "
        "of an eye, or had sudden severe dizziness or spinning (not blur that your glasses "
        "correct)?",
        "new double vision, loss of sight or sudden severe dizziness in the past week",
        SEED,
        IFOMPT + ": diplopia, dizziness",
    ),
    _flag(
        "numbness_or_weakness",
        "emergency",
        "In the past week, have you had new numbness or weakness of the face, an arm or a "
        "leg, or of one side of the body?",
        "new numbness or weakness of the face, a limb or one side in the past week",
        IFOMPT + ": numbness",
        SNNOOP10 + ": neurological deficit",
    ),
    _flag(
        "trouble_speaking_or_swallowing",
        "emergency",
        "In the past week, have you had new trouble speaking (slurred or muddled words) or "
        "swallowing?",
        "new trouble speaking or swallowing in the past week",
        IFOMPT + ": dysarthria, dysphagia",
    ),
    _flag(
        "drop_attacks_or_unsteady",
        "emergency",
        "In the past 4 weeks, have your legs suddenly given way so that you fell without "
        "warning, or have you become unsteady on your feet or clumsy when walking?",
        "sudden falls or new unsteadiness in the past 4 weeks",
        IFOMPT + ": drop attacks, ataxia",
    ),
    # red flags: see a doctor within days (a new or changed headache that needs a medical
    # check before a neck assessment)
    _flag(
        "new_headache_after_50",
        "doctor_soon",
        "Are you 50 or older, and did these headaches start for the first time in the past "
        "6 months?",
        "new headaches in the past 6 months at 50 or older",
        SNNOOP10 + ": older age (new onset after 50)",
    ),
    _flag(
        "history_of_cancer",
        "doctor_soon",
        "Have you had cancer at any time?",
        "cancer at any time",
        SNNOOP10 + ": neoplasm history",
        IFOMPT,
    ),
    _flag(
        "weight_loss_or_night_sweats",
        "doctor_soon",
        "In the past 3 months, have you lost weight without trying, or had night sweats or fevers?",
        "weight loss, night sweats or fevers in the past 3 months",
        SNNOOP10 + ": systemic symptoms",
        IFOMPT,
    ),
    _flag(
        "headache_from_cough_or_strain",
        "doctor_soon",
        "In the past 4 weeks, has a headache been set off by coughing, sneezing, straining "
        "or exercise?",
        "headache set off by coughing, straining or exercise in the past 4 weeks",
        SNNOOP10 + ": precipitated by sneezing, coughing or exercise",
    ),
    _flag(
        "headache_with_posture_change",
        "doctor_soon",
        "In the past 4 weeks, has a headache come on, or become much worse, within minutes "
        "of standing up or of lying down?",
        "headache that changes with standing up or lying down in the past 4 weeks",
        SNNOOP10 + ": positional headache",
    ),
    _flag(
        "pregnant_with_new_headache",
        "doctor_soon",
        "Are you pregnant, or have you had a baby in the past 6 weeks, and is this headache new?",
        "new headache in pregnancy or within 6 weeks of a birth",
        SNNOOP10 + ": pregnancy or puerperium",
    ),
    _flag(
        "both_hands_clumsy_or_numb",
        "doctor_soon",
        "In the past 3 months, have both hands become clumsy or numb, or both arms tingly?",
        "both hands clumsy or numb in the past 3 months",
        IFOMPT + ": signs of spinal cord compression",
    ),
    # red flags: tell your therapist before the neck is examined or treated
    _flag(
        "blood_thinning_medicine",
        "tell_therapist",
        "Do you take blood-thinning medicine (an anticoagulant) at present?",
        "takes blood-thinning medicine",
        IFOMPT + ": risk factors",
    ),
    _flag(
        "neck_instability_risk",
        "tell_therapist",
        "At any time, has a doctor found rheumatoid arthritis or Down syndrome, or have you "
        "had surgery on your neck?",
        "rheumatoid arthritis, Down syndrome or neck surgery at any time",
        IFOMPT + ": upper cervical instability",
    ),
    _flag(
        "frequent_painkillers",
        "tell_therapist",
        "In the past 3 months, have you taken painkillers for headache on 10 or more days a month?",
        "painkillers on 10 or more days a month in the past 3 months",
        SNNOOP10 + ": painkiller overuse",
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
        "pain_side",
        "symptom",
        "On which side is your neck pain or headache mostly?",
        "pain mostly on one side",
        sides=True,
    ),
    Question(
        "arm_discomfort_same_side",
        "symptom",
        "Do you feel discomfort in the arm on the same side as the head or neck pain?",
        "arm discomfort on the same side",
    ),
    Question(
        "arm_symptoms_side",
        "symptom",
        "If you feel pain, tingling or numbness in an arm, in which arm?",
        "arm symptoms on one side",
        sides=True,
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

    sudden_severe_headache: Answer = "unknown"
    headache_with_fever_stiff_neck_or_rash: Answer = "unknown"
    headache_after_head_injury: Answer = "unknown"
    headache_progressively_worse: Answer = "unknown"
    vision_problems_or_severe_dizziness: Answer = "unknown"
    numbness_or_weakness: Answer = "unknown"
    trouble_speaking_or_swallowing: Answer = "unknown"
    drop_attacks_or_unsteady: Answer = "unknown"
    new_headache_after_50: Answer = "unknown"
    history_of_cancer: Answer = "unknown"
    weight_loss_or_night_sweats: Answer = "unknown"
    headache_from_cough_or_strain: Answer = "unknown"
    headache_with_posture_change: Answer = "unknown"
    pregnant_with_new_headache: Answer = "unknown"
    both_hands_clumsy_or_numb: Answer = "unknown"
    blood_thinning_medicine: Answer = "unknown"
    neck_instability_risk: Answer = "unknown"
    frequent_painkillers: Answer = "unknown"
    one_sided_neck_pain_with_headache: Answer = "unknown"
    headache_comes_and_goes: Answer = "unknown"
    headache_from_neck_movement_or_position: Answer = "unknown"
    tender_base_of_skull: Answer = "unknown"
    pain_side: Side = "unknown"
    arm_discomfort_same_side: Answer = "unknown"
    arm_symptoms_side: Side = "unknown"
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
            allowed = SIDES if QUESTIONS_BY_ID[f.name].sides else ANSWERS
            if v not in allowed:
                raise ValueError(f"{f.name}: answer must be one of {allowed}, got {v!r}")

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

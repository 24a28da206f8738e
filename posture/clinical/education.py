"""What the dashboard's "Learn" page tells patients, in our own words.

Drawn from the seed handout (what a cervicogenic headache is, its symptoms and causes,
what a physical therapist does, when to call emergency services) and from the clinical
reference (docs/clinical.md). Plain text, no diagnosis: the page explains and points to a
therapist or doctor. The emergency signs are the red-flag screen's own questions
(posture.clinical.red_flags), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.clinical.norms import SOURCES
from posture.clinical.red_flags import RED_FLAG_QUESTIONS


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    points: tuple[str, ...] = ()


def _emergency_points() -> tuple[str, ...]:
    return tuple(q.short[:1].upper() + q.short[1:] for q in RED_FLAG_QUESTIONS
                 if q.urgency == "emergency")  # fmt: skip


SECTIONS: tuple[Section, ...] = (
    Section(
        "What is a headache that comes from the neck?",
        (
            "Doctors call it a cervicogenic headache: a headache whose source is in the "
            "neck (the cervical spine), felt in the head. The nerves of the upper neck also "
            "serve parts of the head, so a strained or irritated joint, muscle or ligament "
            "in the neck can be felt as a headache. This is called referred pain.",
            "Such headaches often come on with certain neck movements or after a long time "
            "in one position. An injury to the head or neck in the recent past, such as "
            "whiplash or a concussion, can also start them.",
        ),
    ),
    Section(
        "Signs that often go with it",
        (),
        (
            "Neck pain, usually on one side, with a headache that spreads from the base of "
            "the skull over the back of the head to the front",
            "A headache that comes and goes rather than staying all the time",
            "A headache brought on by neck movements or by long positions, such as driving "
            "or working at a computer",
            "Tenderness at the base of the head or the top of the neck when pressed",
            "Discomfort in the arm on the same side as the pain",
            "Sometimes light-headedness, mild dizziness, nausea, ringing in the ears or "
            "trouble concentrating",
        ),
    ),
    Section(
        "What can play a part",
        (
            "These are common contributors, not a cause that this tool can find. Other kinds "
            "of headache share many of the same signs, so only a professional examination "
            "can tell them apart.",
        ),
        (
            "Muscles that are weak, tight or out of balance",
            "Posture: long or repeated positions at work, at home or in bed, such as the "
            "head held forward of the shoulders",
            "An earlier injury to the neck or head",
            "Stress",
        ),
    ),
    Section(
        "What a physical therapist does",
        (),
        (
            "Examines how far and how well your neck moves, its strength and your posture, "
            "and the regions around it (shoulders, upper back)",
            "Uses hands-on techniques (stretching, pressing, positioning) to check and help "
            "the movement of your neck",
            "Gives exercises that wake up, strengthen and build endurance in the muscles "
            "that support the neck",
            "Explains what is going on, what they can do, and what you can do at home",
        ),
    ),
    Section(
        "Day to day",
        (),
        (
            "Desk and screens: put the top of the screen at eye level and close enough to "
            "read without leaning in; keep your feet supported and your back against the "
            "chair. A laptop on a desk makes you look down: raise it and use a separate "
            "keyboard.",
            "Breaks: change position every 30 to 45 minutes; stand, roll your shoulders, "
            "gently turn your head each way within comfort.",
            "Phones: bring the phone up toward eye level rather than bending your head down "
            "to it for long periods.",
            "Sleep: a pillow that keeps your head in line with your body, neither pushed up "
            "nor dropping; sleeping on your front twists the neck for hours.",
            "Stress: it tightens the neck and shoulder muscles and makes pain feel worse. "
            "Regular exercise, sleep, and a few minutes of slow breathing help.",
            "Stay active: walking and gentle movement are better for most neck pain than rest.",
        ),
    ),
    Section(
        "When to get help",
        (
            "Call your local emergency number (9-1-1 in the US) or go to an emergency "
            "department now for any of these:",
        ),
        _emergency_points(),
    ),
    Section(
        "",
        (
            "See a doctor within a few days for a new headache after the age of 50, a "
            "history of cancer, weight loss you cannot explain, or a headache set off by "
            "coughing or straining. See a physical therapist when neck pain or headaches "
            "keep coming back or get in the way of work, sleep or daily life.",
            "This page explains; it cannot tell what causes your symptoms. Every body is "
            "different and everyone feels pain differently.",
        ),
    ),
)
EDUCATION_SOURCES: tuple[str, ...] = (SOURCES["seed"], "docs/clinical.md")

"""From a report (and answers) to findings: what each value means, in patient and clinician words.

A finding is a JSON-ready dict::

    {"id", "severity": "info" | "attention" | "emergency",
     "evidence": [{"metric", "value", "reference"}], "patient_text", "clinician_text",
     "sources": [...], "disclaimer"}            # red flags add "stop_self_check": True

Patient text never names a diagnosis: it says what was measured, what it "is associated
with" or "may contribute" to, and that "a physical therapist can check" it.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from posture.clinical.change import (
    DEFAULT_MEASURED_ERROR_DEG,
    LITERATURE_MDC_DEG,
    MDC_SOURCES,
    Asymmetry,
    Change,
    ErrorDeg,
    asymmetry,
    at_least_values,
    change_threshold_deg,
    compare_reports,
    error_for,
    number_or_none,
    summary_values,
)
from posture.clinical.fitness import has_detected_neutral, unfit_measures
from posture.clinical.norms import (
    FRT_HEALTHY_DEG,
    FRT_POSITIVE_BELOW_DEG,
    FRT_SIDE_DIFFERENCE_DEG,
    FRT_SOURCES,
    SOURCES,
    Classification,
    FrtResult,
    classify_cva,
    classify_rom,
)
from posture.clinical.questionnaire import Questionnaire
from posture.clinical.red_flags import EMERGENCY_DISCLAIMER, red_flag_findings
from posture.measures import DESCRIPTIONS, ROM_KEYS
from posture.signals.frt import measure_frt

Severity = Literal["info", "attention", "emergency"]

DISCLAIMER = (
    "This self-check measures and explains; it cannot tell what causes your symptoms. "
    "Discuss the results with a physical therapist or doctor."
)
# Below this share of frames with a person measured, nothing from the camera is claimed.
MIN_VALID_FRAME_FRACTION = 0.5
# Product rule (no published cut-off): head or shoulder tilt at rest from this size (deg) is
# reported; it is above the camera's head-pose error (~3-4 deg).
TILT_AT_REST_MIN_DEG = 5.0
# Posture drift is judged only on recordings at least this long (s), comparing the median CVA
# of the first and last quarter of the measured time span, each with enough samples.
SUSTAINED_RECORDING_MIN_S = 60.0
DRIFT_WINDOW_FRACTION = 0.25
DRIFT_MIN_SAMPLES = 5
# This tool's figures: README and docs/accuracy.md, held-out rendered bodies (make accuracy).
CAMERA_ERROR_NOTE = (
    "Camera head-pose error in the literature: MAE 3.6 deg rotation, 5.7 deg flexion/"
    "extension (Ritthipravat 2024). This tool's, on rendered bodies it was not tuned on "
    "(docs/accuracy.md): range-of-motion peaks MAE 3.1-6.1 deg rotation, 2.9-3.9 flexion, "
    "4.7 extension (10.5 with a laptop camera below the face, where extension is reported "
    "only as 'at least'), 0.3-0.4 lateral flexion. Its repeatability (MDC) between "
    "sessions is not measured yet."
)
PT_CHECK = "A physical therapist can check this."


# -- building blocks ------------------------------------------------------------------------


def _ev(metric: str, value: Any, reference: str) -> dict[str, Any]:
    return {"metric": metric, "value": value, "reference": reference}


def _finding(
    id_: str,
    severity: Severity,
    evidence: list[dict[str, Any]],
    patient_text: str,
    clinician_text: str,
    source_keys: tuple[str, ...] | list[str],
) -> dict[str, Any]:
    sources = list(dict.fromkeys(SOURCES[k] for k in source_keys))
    return {
        "id": id_,
        "severity": severity,
        "evidence": evidence,
        "patient_text": patient_text,
        "clinician_text": clinician_text,
        "sources": sources,
        "disclaimer": DISCLAIMER,
    }


def _deg(v: float) -> str:
    return f"{v:.0f} deg"


def _near_cutoff(value: float, cutoffs: tuple[float, ...], error_deg: float) -> str:
    near = [c for c in cutoffs if abs(value - c) < error_deg]
    if not near:
        return ""
    return f" Within measurement error (+-{error_deg:g} deg) of the {near[0]:g} deg cut-off."


def _answer(answers: Questionnaire | None, qid: str) -> bool:
    return answers is not None and getattr(answers, qid) == "yes"


# -- data quality ---------------------------------------------------------------------------


def measurable(report: Mapping[str, Any]) -> bool:
    """True when enough frames had a person measured to say anything from the camera."""
    fraction = number_or_none((report.get("quality") or {}).get("valid_frame_fraction"))
    return fraction is not None and fraction >= MIN_VALID_FRAME_FRACTION


def _could_not_measure(report: Mapping[str, Any]) -> dict[str, Any]:
    quality = report.get("quality") or {}
    fraction = number_or_none(quality.get("valid_frame_fraction"))
    share = "an unknown share" if fraction is None else f"only {100 * fraction:.0f}%"
    warnings = [str(w) for w in quality.get("warnings") or []]
    return _finding(
        "could_not_measure",
        "info",
        [_ev("quality.valid_frame_fraction", fraction, f">= {MIN_VALID_FRAME_FRACTION} needed")],
        f"We could not measure reliably in this recording: a person was found in {share} of "
        "the frames, so no result is given. Please record again with your whole head and "
        "shoulders in view and good light.",
        f"Valid frame fraction {fraction} < {MIN_VALID_FRAME_FRACTION}: no camera-based "
        "claims made." + (" Warnings: " + " ".join(warnings) if warnings else ""),
        ["product_rule"],
    )


_NOT_MEASURED_REASONS = {
    "cva_deg": "the head-posture angle needs a side view",
    "head_tilt_deg": "head and shoulder tilt need a front view",
    "shoulder_tilt_deg": "head and shoulder tilt need a front view",
    "rom": "range of motion needs a video in which you do each movement",
}


def _not_measured(values: dict[str, float | None], kind: str | None) -> dict[str, Any] | None:
    missing = [k for k, v in values.items() if v is None]
    photo = kind == "image"
    if photo:  # a photo never has ROM: say so once instead of listing six values
        missing = [k for k in missing if k not in ROM_KEYS]
    if not missing and not photo:
        return None
    names = [DESCRIPTIONS[k] for k in missing] + (["range of motion"] if photo else [])
    reasons = list(
        dict.fromkeys(_NOT_MEASURED_REASONS["rom" if k in ROM_KEYS else k] for k in missing)
    )
    if photo:
        reasons.append(_NOT_MEASURED_REASONS["rom"])
    return _finding(
        "not_measured",
        "info",
        [_ev(k, None, "not measured") for k in missing],
        f"Not measured in this recording, so nothing is said about it: {', '.join(names)}. "
        f"({'; '.join(reasons).capitalize()}.)",
        "Null in the report (not measured, not zero): "
        + ", ".join(missing + (["rom (photo)"] if photo else []))
        + ".",
        ["product_rule"],
    )


def _not_judged(unfit: Mapping[str, str]) -> dict[str, Any]:
    """Measured, but from a recording that cannot support a finding: say why, once."""
    by_reason: dict[str, list[str]] = {}
    for key, reason in unfit.items():
        by_reason.setdefault(reason, []).append(key)
    parts = [
        f"{', '.join(DESCRIPTIONS[k] for k in keys)}: {reason}"
        for reason, keys in by_reason.items()
    ]
    return _finding(
        "not_judged",
        "info",
        [_ev(k, None, "measured; recording not fit for a finding") for k in unfit],
        "Measured, but nothing is concluded about these, because this recording cannot "
        "support it. " + "; ".join(p[:1].upper() + p[1:] for p in parts) + ".",
        "Values kept in the report, no finding drawn (posture.clinical.fitness): "
        + "; ".join(f"{k} ({r})" for k, r in unfit.items())
        + ".",
        ["product_rule"],
    )


# -- norms ----------------------------------------------------------------------------------


def _cva_finding(c: Classification, error_deg: float) -> dict[str, Any]:
    v = c.value_deg
    if c.label == "borderline":
        patient = (
            f"Your head posture seen from the side (craniovertebral angle, CVA) was {_deg(v)}: "
            f"borderline. That is within this tool's error (about {error_deg:g} deg) of the "
            "50 deg line between upright and forward head posture, so this check cannot say "
            f"which side of it you are. {PT_CHECK}"
        )
    elif c.label == "upright":
        patient = (
            f"Your head posture seen from the side (craniovertebral angle, CVA) was {_deg(v)}, "
            "in the upright range (50 deg or more)."
        )
    else:
        how = "somewhat" if c.label == "forward head" else "clearly"
        patient = (
            f"Your head posture seen from the side (craniovertebral angle, CVA) was {_deg(v)}: "
            f"your head sat {how} forward of your shoulders (upright is 50 deg or more). "
            "Forward head posture is associated with neck pain and headaches and may "
            f"contribute to them. {PT_CHECK}"
        )
    clinician = (
        f"CVA {v:.1f} deg (camera estimate of C7 and tragus): {c.label}. Cut-offs: < 50 deg "
        "forward head (common practice), < 45.5 deg moderate-severe (Mostafaee 2024). Groups: "
        "chronic neck pain 43.9+-3.6 vs controls 50.6+-2.1 (Lau 2009); chronic TTH 45.3+-7.6 "
        "vs 54.1+-6.3 (Fernandez-de-las-Penas 2006). Posture discriminates cervicogenic "
        "headache weakly (Farmer 2015): a contributor, not proof."
        + _near_cutoff(v, (c.norm.reduced_below_deg, c.norm.markedly_reduced_below_deg), error_deg)
    )
    return _finding(
        "cva",
        "info" if c.is_normal else "attention",
        [_ev("cva_deg", v, c.norm.describe())],
        patient,
        clinician,
        (*c.norm.sources, "farmer2015"),
    )


def _rom_finding(c: Classification, error_deg: float) -> dict[str, Any]:
    v, n = c.value_deg, c.norm
    what = DESCRIPTIONS[c.metric]
    who = f"adults {n.age_band}" + (f", {n.sex}" if n.sex else "")
    # The patient sees only the assumption that changes the reference (age); sex does not.
    assumed = "; age not given" if any(a.startswith("age not") for a in c.assumptions) else ""
    ref = f"usual: about {n.reference_deg:.0f} deg for {who}{assumed}"
    if c.label == "within normal":
        patient = f"{what.capitalize()}: {_deg(v)}, within the usual range ({ref})."
    elif c.label == "borderline":
        patient = (
            f"{what.capitalize()}: {_deg(v)}, at the low edge of the usual range ({ref}). It "
            f"is within this camera's error (about {error_deg:g} deg) of the "
            f"{n.reduced_below_deg:g} deg line, so it is not called reduced."
        )
    else:
        how = "less" if c.label == "reduced" else "much less"
        patient = (
            f"{what.capitalize()}: {_deg(v)}, {how} than usual ({ref}). Reduced neck movement "
            f"is associated with neck pain and neck-related headaches. {PT_CHECK}"
        )
    clinician = (
        f"{c.metric} {v:.1f} deg: {c.label} vs {n.describe()}. {n.note} "
        + (f"Assumptions: {'; '.join(c.assumptions)}. " if c.assumptions else "")
        + CAMERA_ERROR_NOTE
        + _near_cutoff(v, (n.reduced_below_deg, n.markedly_reduced_below_deg), error_deg)
        + (
            " Normal global ROM does not exclude a neck contribution (Hall & Robinson 2004)."
            if c.is_normal
            else ""
        )
    )
    return _finding(
        f"rom.{c.metric.removesuffix('_deg')}",
        "info" if c.is_normal else "attention",
        [_ev(c.metric, v, n.describe())],
        patient,
        " ".join(clinician.split()),
        (*n.sources, "ritthipravat2024", "hall_robinson2004"),
    )


def _rom_at_least_finding(
    metric: str, bound_deg: float, age_years: int | None, sex: str | None
) -> dict[str, Any]:
    """A direction the camera lost before its end: a lower bound, never called reduced."""
    c = classify_rom(metric, bound_deg, age_years, sex)
    assert c is not None
    what = DESCRIPTIONS[metric]
    n = c.norm
    if c.is_normal:
        patient = (
            f"{what.capitalize()}: at least {_deg(bound_deg)}, within the usual range (usual: "
            f"about {n.reference_deg:.0f} deg). Your head moved further than the camera could "
            "follow, so the full range was not measured."
        )
    else:
        patient = (
            f"{what.capitalize()}: at least {_deg(bound_deg)}. Your head moved further than "
            "the camera could follow, so the full range is not known and is not judged. To "
            "measure it, face the camera squarely and keep your shoulders still."
        )
    clinician = (
        f"{metric} >= {bound_deg:.1f} deg (lower bound): the head was lost near the end of "
        "this movement (face past what the models follow), so the peak was not seen. Not "
        f"classified against {n.describe()}; not used for asymmetry or change."
    )
    return _finding(
        f"rom.{metric.removesuffix('_deg')}",
        "info",
        [_ev(metric, bound_deg, f"at least; {n.describe()}")],
        patient,
        clinician,
        (*n.sources, "product_rule"),
    )


def _asymmetry_finding(a: Asymmetry) -> dict[str, Any]:
    name = "turning" if a.movement == "rotation" else "tilting (ear toward shoulder)"
    metric_l, metric_r = f"{a.movement}_left_deg", f"{a.movement}_right_deg"
    evidence = [
        _ev(f"{a.movement}_asymmetry_deg", abs(a.difference_deg), f">= {a.threshold_deg:g} deg"),
        _ev(metric_l, a.left_deg, "left side"),
        _ev(metric_r, a.right_deg, "right side"),
    ]
    if a.asymmetric:
        patient = (
            f"Head {name}: left {_deg(a.left_deg)}, right {_deg(a.right_deg)}. The "
            f"{a.smaller_side} side moved {abs(a.difference_deg):.0f} deg less. A left-right "
            "difference like this is associated with muscle tightness or joint stiffness in "
            f"the neck. {PT_CHECK}"
        )
    else:
        patient = (
            f"Head {name}: left {_deg(a.left_deg)}, right {_deg(a.right_deg)}; the two sides "
            "were similar (the difference is within measurement error)."
        )
    clinician = (
        f"{a.movement} L {a.left_deg:.1f} / R {a.right_deg:.1f} deg, difference "
        f"{abs(a.difference_deg):.1f} deg (threshold {a.threshold_deg:g} deg: product rule, "
        ">= top of CROM MDC 9.6 deg, Audette 2008)."
        + (f" {a.smaller_side.capitalize()} side more limited." if a.smaller_side else "")
    )
    return _finding(
        f"asymmetry.{a.movement}",
        "attention" if a.asymmetric else "info",
        evidence,
        patient,
        clinician,
        ("product_rule", "audette2008"),
    )


def _frt_finding(frt: FrtResult) -> dict[str, Any] | None:
    sides = {"left": frt.rotation_left_deg, "right": frt.rotation_right_deg}
    measured = {s: v for s, v in sides.items() if v is not None}
    if not measured:
        return None
    positive = frt.positive_sides()
    ref = f"positive below {FRT_POSITIVE_BELOW_DEG:g} deg; healthy about {FRT_HEALTHY_DEG:g}"
    evidence = [_ev(f"frt_rotation_{s}_deg", v, ref) for s, v in measured.items()]
    values = ", ".join(f"{s} {_deg(v)}" for s, v in measured.items())
    missing = [s for s in sides if s not in measured]
    intro = (
        "Chin-to-chest turning check (a camera approximation of the Flexion-Rotation Test "
        f"that a physical therapist does by hand): {values}"
        + (f" ({' and '.join(missing)} not measured)" if missing else "")
        + "."
    )
    if positive:
        patient = (
            f"{intro} Turning to the {' and '.join(positive)} was below "
            f"{FRT_POSITIVE_BELOW_DEG:g} deg, the cut-off clinics use; people without "
            f"neck-related headaches reach about {FRT_HEALTHY_DEG:g} deg. Less turning in this "
            "position is associated with stiffness at the top of the neck, which may "
            "contribute to headaches. A physical therapist can check this with the hands-on "
            "test."
        )
    else:
        patient = (
            f"{intro} Measured sides were at or above {FRT_POSITIVE_BELOW_DEG:g} deg, the "
            "cut-off clinics use. This camera version is less accurate than the hands-on test "
            "a physical therapist does."
        )
    diff = ""
    if len(measured) == 2:
        d = abs(measured["left"] - measured["right"])
        diff = (
            f" Side difference {d:.1f} deg"
            + (f" (>= {FRT_SIDE_DIFFERENCE_DEG:g}: cited only in secondary sources)." if
               d >= FRT_SIDE_DIFFERENCE_DEG else ".")
        )  # fmt: skip
    clinician = (
        "FRT approximation (active, self-held full flexion, camera; not the passive supine "
        f"examiner-applied test): {values}. Positive < 32 deg (Hall 2010: sens 75%, spec 92%; "
        "Ogince 2007, Hall 2008: sens 90-91%, spec 88-90%); healthy ~44, cervicogenic headache "
        f"~28 toward the headache side (Hall & Robinson 2004). Positive side(s): "
        f"{', '.join(positive) or 'none'}.{diff} Verify with the manual test."
    )
    return _finding(
        "frt",
        "attention" if positive else "info",
        evidence,
        patient,
        clinician,
        FRT_SOURCES,
    )


# -- posture drift --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostureDrift:
    """CVA at the start vs the end of a sustained recording (medians, deg)."""

    duration_s: float
    start_cva_deg: float
    end_cva_deg: float
    threshold_deg: float

    @property
    def change_deg(self) -> float:
        return round(self.end_cva_deg - self.start_cva_deg, 1)

    @property
    def drifted_forward(self) -> bool:
        return self.change_deg <= -self.threshold_deg


def posture_drift(
    report: Mapping[str, Any], measured_error_deg: ErrorDeg = DEFAULT_MEASURED_ERROR_DEG
) -> PostureDrift | None:
    """Start vs end CVA from per-frame values; None when the recording is too short or sparse."""
    pts = []
    for f in report.get("frames") or []:
        t, cva = number_or_none(f.get("t")), number_or_none(f.get("cva_deg"))
        if f.get("valid") and t is not None and cva is not None:
            pts.append((t, cva))
    if len(pts) < 2 * DRIFT_MIN_SAMPLES:
        return None
    t0, t1 = pts[0][0], pts[-1][0]
    span = t1 - t0
    if span < SUSTAINED_RECORDING_MIN_S:
        return None
    window = DRIFT_WINDOW_FRACTION * span
    start = [c for t, c in pts if t <= t0 + window]
    end = [c for t, c in pts if t >= t1 - window]
    if len(start) < DRIFT_MIN_SAMPLES or len(end) < DRIFT_MIN_SAMPLES:
        return None
    return PostureDrift(
        round(span, 1),
        round(statistics.median(start), 1),
        round(statistics.median(end), 1),
        change_threshold_deg("cva_deg", measured_error_deg),
    )


# -- contributors (seed: possible causes) ---------------------------------------------------


def _posture_contributor(
    cva: Classification | None, drift: PostureDrift | None, answers: Questionnaire | None
) -> dict[str, Any] | None:
    evidence, seen, camera = [], [], False
    if cva is not None and not cva.is_normal:
        evidence.append(_ev("cva_deg", cva.value_deg, cva.norm.describe()))
        seen.append(f"your head sat forward of your shoulders (CVA {_deg(cva.value_deg)})")
        camera = True
    if drift is not None and drift.drifted_forward:
        evidence.append(
            _ev(
                "cva_drift_deg",
                drift.change_deg,
                f"<= -{drift.threshold_deg:g} deg over >= {SUSTAINED_RECORDING_MIN_S:g} s",
            )
        )
        seen.append(
            f"your head drifted forward during the {drift.duration_s / 60:.0f}-minute recording "
            f"(CVA {_deg(drift.start_cva_deg)} at the start, {_deg(drift.end_cva_deg)} at the end)"
        )
        camera = True
    if _answer(answers, "sustained_postures"):
        evidence.append(_ev("answer.sustained_postures", "yes", "questionnaire"))
        seen.append("you reported long periods in one position")
    if not evidence:
        return None
    return _finding(
        "contributor.posture",
        "attention" if camera else "info",
        evidence,
        "Poor posture and long periods in one position may contribute to neck-related "
        f"headaches. What we found: {'; '.join(seen)}. A physical therapist can check your "
        "posture and suggest exercises and changes to how you sit, work or drive.",
        "Possible contributor (seed: poor posture, prolonged positions): "
        + "; ".join(f"{e['metric']}={e['value']}" for e in evidence)
        + ". Contributor, not proof (Farmer 2015).",
        ("seed", "cva_practice", "mostafaee2024", "farmer2015"),
    )


def _muscle_contributor(
    rom: dict[str, Classification],
    asymmetries: list[Asymmetry],
    head_tilt_deg: float | None,
    shoulder_tilt_deg: float | None,
) -> dict[str, Any] | None:
    evidence, seen = [], []
    for a in asymmetries:
        if a.asymmetric:
            evidence.append(
                _ev(
                    f"{a.movement}_asymmetry_deg",
                    abs(a.difference_deg),
                    f">= {a.threshold_deg:g} deg",
                )
            )
            seen.append(
                f"{'turning' if a.movement == 'rotation' else 'tilting'} to the {a.smaller_side} "
                f"was {abs(a.difference_deg):.0f} deg less than to the other side"
            )
    for metric, c in rom.items():
        if metric.startswith(("rotation", "lateral_flexion")) and not c.is_normal:
            evidence.append(_ev(metric, c.value_deg, c.norm.describe()))
            seen.append(f"{DESCRIPTIONS[metric]} was {c.label}")
    if head_tilt_deg is not None and abs(head_tilt_deg) >= TILT_AT_REST_MIN_DEG:
        side = "left" if head_tilt_deg > 0 else "right"
        evidence.append(
            _ev("head_tilt_deg", head_tilt_deg, f"|tilt| >= {TILT_AT_REST_MIN_DEG:g} deg")
        )
        seen.append(f"your head tilted toward the {side} at rest ({_deg(abs(head_tilt_deg))})")
    if shoulder_tilt_deg is not None and abs(shoulder_tilt_deg) >= TILT_AT_REST_MIN_DEG:
        higher = "right" if shoulder_tilt_deg > 0 else "left"
        evidence.append(
            _ev("shoulder_tilt_deg", shoulder_tilt_deg, f"|tilt| >= {TILT_AT_REST_MIN_DEG:g} deg")
        )
        seen.append(f"your {higher} shoulder sat higher at rest ({_deg(abs(shoulder_tilt_deg))})")
    if not evidence:
        return None
    return _finding(
        "contributor.muscle",
        "attention",
        evidence,
        "Muscle imbalance, weakness or tightness may contribute to neck-related headaches. "
        f"What we found: {'; '.join(seen)}. A physical therapist can check the strength and "
        "flexibility of your neck and shoulders.",
        "Possible contributor (seed: muscle imbalance, weakness, tightness): "
        + "; ".join(f"{e['metric']}={e['value']}" for e in evidence)
        + f". Tilt threshold {TILT_AT_REST_MIN_DEG:g} deg is a product rule.",
        ("seed", "product_rule", "textbook"),
    )


def _history_contributors(answers: Questionnaire | None) -> list[dict[str, Any]]:
    out = []
    if _answer(answers, "previous_neck_or_head_injury"):
        out.append(
            _finding(
                "contributor.trauma",
                "info",
                [_ev("answer.previous_neck_or_head_injury", "yes", "questionnaire")],
                "You reported a previous neck or head injury. Past injuries such as whiplash "
                "or a concussion may contribute to neck-related headaches; tell your physical "
                "therapist about it.",
                "History of neck/head trauma (questionnaire only; the camera cannot show it). "
                "Red flag 'headache began after a head injury' was answered "
                f"{answers.headache_after_head_injury if answers else 'unknown'}.",
                ("seed",),
            )
        )
    if _answer(answers, "stress"):
        out.append(
            _finding(
                "contributor.stress",
                "info",
                [_ev("answer.stress", "yes", "questionnaire")],
                "You reported a lot of stress lately. Stress may contribute to neck-related "
                "headaches; a physical therapist can suggest ways to manage its effect on "
                "your neck.",
                "Reported stress (questionnaire only; the camera cannot show it).",
                ("seed",),
            )
        )
    return out


def _symptoms_finding(answers: Questionnaire | None) -> dict[str, Any] | None:
    if answers is None or not answers.yes("symptom"):
        return None
    qs = answers.yes("symptom")
    return _finding(
        "symptoms",
        "info",
        [_ev(f"answer.{q.id}", "yes", "questionnaire") for q in qs],
        f"You reported: {'; '.join(q.short for q in qs)}. These are among the symptoms "
        "associated with headaches that come from the neck (cervicogenic headaches), and "
        "also with other kinds of headache. A physical therapist can check whether your neck "
        "contributes.",
        f"Seed symptom list: {len(qs)} answered yes ({', '.join(q.id for q in qs)}).",
        ("seed",),
    )


_MOVING = {"rotation": "turning your head", "lateral_flexion": "tilting your head"}


def frt_from_recording(report: Mapping[str, Any]) -> FrtResult | None:
    """The flexion-rotation test measured in this recording (posture.signals.frt), when it
    holds one and has a detected neutral; None otherwise."""
    if (report.get("input") or {}).get("kind") != "video" or not has_detected_neutral(report):
        return None
    m = measure_frt(report.get("frames") or [])
    return None if m is None else FrtResult(m.rotation_left_deg, m.rotation_right_deg)


def _painful_side_finding(
    answers: Questionnaire | None, asymmetries: list[Asymmetry], frt: FrtResult | None
) -> dict[str, Any] | None:
    """The side of one-sided pain next to the more limited side of each movement and the
    FRT: what was reported and measured, side by side, with no conclusion drawn."""
    side = answers.pain_side if answers is not None else "unknown"
    if side not in ("left", "right"):
        return None
    parts, evidence = [], [_ev("answer.pain_side", side, "questionnaire")]
    for a in asymmetries:
        moving = _MOVING.get(a.movement, a.movement.replace("_", " "))
        evidence.append(_ev(f"asymmetry.{a.movement}", a.difference_deg, f">= {a.threshold_deg:g}"))
        if a.smaller_side is None:
            parts.append(
                f"{moving} went about as far to each side ({_deg(a.left_deg)} left, "
                f"{_deg(a.right_deg)} right, within {a.threshold_deg:g} deg)"
            )
        else:
            where = "the same side" if a.smaller_side == side else "the other side"
            parts.append(
                f"{moving} was more limited to the {a.smaller_side}, {where} as your pain "
                f"({_deg(a.left_deg)} left, {_deg(a.right_deg)} right)"
            )
    if frt is not None:
        for frt_side in frt.positive_sides():
            where = "the same side" if frt_side == side else "the other side"
            parts.append(
                f"turning with the chin on the chest was limited to the {frt_side}, {where}"
            )
    if not parts:
        return None
    arm = answers.arm_symptoms_side if answers is not None else "unknown"
    arm_text = f" You also reported arm symptoms on the {arm}." if arm in ("left", "right") else ""
    return _finding(
        "symptoms.side",
        "info",
        evidence,
        f"You said your pain is mostly on the {side}. In this recording, "
        + "; ".join(parts)
        + f".{arm_text} A physical therapist can examine whether and how the two relate.",
        f"Pain side reported: {side}; arm symptoms: {arm}. "
        + "; ".join(
            f"{a.movement} L {a.left_deg:.1f} / R {a.right_deg:.1f} (smaller: "
            f"{a.smaller_side or 'none'})"
            for a in asymmetries
        )
        + (f"; FRT positive: {', '.join(frt.positive_sides()) or 'none'}" if frt else "")
        + ". Side agreement is reported, not interpreted.",
        ("seed", "product_rule"),
    )


def _red_flag_reminder() -> dict[str, Any]:
    return _finding(
        "red_flags_reminder",
        "info",
        [],
        "Get emergency care now (call your local emergency number, 9-1-1 in the US) for any "
        "of these: a sudden severe headache, headaches getting steadily worse, a headache "
        "with high fever, stiff neck or rash, a headache that started after a head injury, "
        "new double vision, loss of sight or severe dizziness, new numbness or weakness, "
        "trouble speaking or swallowing, or sudden falls.",
        "Red-flag questions not (fully) answered for this analysis.",
        ("seed",),
    )


# -- change since a previous session --------------------------------------------------------


def _change_findings(
    report: Mapping[str, Any], previous: Mapping[str, Any], measured_error_deg: ErrorDeg
) -> list[dict[str, Any]]:
    if not measurable(previous):
        return [
            _finding(
                "change.not_compared",
                "info",
                [
                    _ev(
                        "previous.quality.valid_frame_fraction",
                        number_or_none((previous.get("quality") or {}).get("valid_frame_fraction")),
                        f">= {MIN_VALID_FRAME_FRACTION} needed",
                    )
                ],  # fmt: skip
                "The previous recording was not measured reliably, so no comparison is made.",
                "Previous report below the valid-frame threshold: no change computed.",
                ("product_rule",),
            )
        ]
    out, same = [], []
    for c in compare_reports(report, previous, measured_error_deg):
        if c.status == "within measurement error":
            same.append(c)
        else:
            out.append(_change_finding(c, measured_error_deg))
    if same:
        names = "; ".join(
            f"{DESCRIPTIONS[c.metric]} {_deg(c.previous_deg)} -> {_deg(c.current_deg)}"
            for c in same
        )
        out.append(
            _finding(
                "change.within_error",
                "info",
                [_change_ev(c) for c in same],
                f"No real change since last time in: {names}. Differences this small can come "
                "from the measurement itself.",
                "Within max(literature MDC, our error): "
                + ", ".join(f"{c.metric} {c.delta_deg:+.1f} (< {c.threshold_deg:g})" for c in same)
                + ".",
                ("audette2008", "anwar2022", "cva_app_mdc"),
            )
        )
    return out


def _change_ev(c: Change) -> dict[str, Any]:
    return _ev(
        f"change.{c.metric}",
        c.delta_deg,
        f"real change >= {c.threshold_deg:g} deg (previous {c.previous_deg:g}, now "
        f"{c.current_deg:g})",
    )


def _change_finding(c: Change, measured_error_deg: ErrorDeg) -> dict[str, Any]:
    what = DESCRIPTIONS[c.metric]
    better = c.status == "improved"
    patient = (
        f"{what.capitalize()}: {_deg(c.previous_deg)} last time, {_deg(c.current_deg)} now "
        f"({c.delta_deg:+.0f} deg), more than the measurement error (about "
        f"{c.threshold_deg:.0f} deg): {'improved' if better else 'worse'}."
        + ("" if better else f" {PT_CHECK}")
    )
    mdc, ours = LITERATURE_MDC_DEG[c.metric], error_for(c.metric, measured_error_deg)
    clinician = (
        f"{c.metric} {c.previous_deg:.1f} -> {c.current_deg:.1f} deg ({c.delta_deg:+.1f}): "
        f"{c.status}; threshold max(literature MDC {mdc:g}, our error {ours:g}) = "
        f"{c.threshold_deg:g} deg. Healthy day-to-day ROM variation can reach 12-20 deg "
        "(Christensen 1998)."
    )
    return _finding(
        f"change.{c.metric.removesuffix('_deg')}",
        "info" if better else "attention",
        [_change_ev(c)],
        patient,
        clinician,
        (*MDC_SOURCES[c.metric], "christensen1998"),
    )


# -- public entry points --------------------------------------------------------------------


def build_findings(
    report: Mapping[str, Any],
    answers: Questionnaire | None = None,
    *,
    age_years: int | None = None,
    sex: str | None = None,
    previous: Mapping[str, Any] | None = None,
    frt: FrtResult | None = None,
    measured_error_deg: ErrorDeg = DEFAULT_MEASURED_ERROR_DEG,
) -> list[dict[str, Any]]:
    """Findings for a report dict (measurement contract v1) and optional answers.

    An emergency red flag answered 'yes' returns ONLY the red-flag finding: no measurement
    result, and nothing reassuring, is shown. The other red flags (see a doctor within days,
    tell the therapist) come first, before the measurement findings. A null metric yields
    no claim; a recording with too few measured frames yields one 'could_not_measure'
    finding instead of camera-based claims.

    Example:
        >>> report = {"quality": {"valid_frame_fraction": 1.0}, "summary": {"cva_deg": 44.0,
        ...     "rom": {"rotation_left_deg": 55.0, "rotation_right_deg": 75.0}}}
        >>> [f["id"] for f in build_findings(report)][:4]
        ['cva', 'rom.rotation_left', 'rom.rotation_right', 'asymmetry.rotation']
    """
    red_flags = red_flag_findings(answers)
    if any(f["severity"] == "emergency" for f in red_flags):
        return red_flags
    if frt is None:
        frt = frt_from_recording(report)
    out: list[dict[str, Any]] = list(red_flags)  # see a doctor / tell the therapist: first
    camera_ok = measurable(report)
    cva: Classification | None = None
    rom: dict[str, Classification] = {}
    asymmetries: list[Asymmetry] = []
    drift: PostureDrift | None = None
    summary = report.get("summary") or {}
    head_tilt = shoulder_tilt = None
    if not camera_ok:
        out.append(_could_not_measure(report))
    else:
        values = summary_values(report)  # None where the recording cannot support a finding
        unfit = unfit_measures(report)
        head_tilt = (
            None if "head_tilt_deg" in unfit else number_or_none(summary.get("head_tilt_deg"))
        )
        shoulder_tilt = (
            None
            if "shoulder_tilt_deg" in unfit
            else number_or_none(summary.get("shoulder_tilt_deg"))
        )
        kind = (report.get("input") or {}).get("kind")
        cva_error_deg = error_for("cva_deg", measured_error_deg)
        cva = classify_cva(values["cva_deg"], cva_error_deg)
        if cva is not None:
            out.append(_cva_finding(cva, cva_error_deg))
        bounded = at_least_values(report)
        for metric in ROM_KEYS:
            if metric in unfit:
                continue
            if metric in bounded:
                out.append(_rom_at_least_finding(metric, bounded[metric], age_years, sex))
                continue
            error_deg = error_for(metric, measured_error_deg)
            c = classify_rom(metric, values[metric], age_years, sex, error_deg)
            if c is not None:
                rom[metric] = c
                out.append(_rom_finding(c, error_deg))
        for movement in ("rotation", "lateral_flexion"):
            a = asymmetry(
                movement,
                values[f"{movement}_left_deg"],
                values[f"{movement}_right_deg"],
                measured_error_deg,
            )
            if a is not None:
                asymmetries.append(a)
                out.append(_asymmetry_finding(a))
        missing = _not_measured(
            {
                k: v
                for k, v in {
                    **values,
                    "head_tilt_deg": head_tilt,
                    "shoulder_tilt_deg": shoulder_tilt,
                }.items()
                if k not in bounded and k not in unfit
            },
            kind,
        )
        if missing:
            out.append(missing)
        if unfit:
            out.append(_not_judged(unfit))
        if "cva_deg" not in unfit:
            drift = posture_drift(report, measured_error_deg)
    if frt is not None:
        f = _frt_finding(frt)
        if f is not None:
            out.append(f)
    for f in (
        _posture_contributor(cva, drift, answers),
        _muscle_contributor(rom, asymmetries, head_tilt, shoulder_tilt),
        _painful_side_finding(answers, asymmetries, frt),
        *_history_contributors(answers),
        _symptoms_finding(answers),
    ):
        if f is not None:
            out.append(f)
    if previous is not None and camera_ok:
        out += _change_findings(report, previous, measured_error_deg)
    if answers is None or answers.unanswered("red_flag"):
        out.append(_red_flag_reminder())
    return out


_TAGS = {"emergency": "EMERGENCY", "attention": "attention", "info": "info"}


def findings_summary_lines(findings: list[dict[str, Any]]) -> list[str]:
    """Readable lines for the CLI: one per finding, then the disclaimer."""
    if not findings:
        return ["Findings: none.", DISCLAIMER]
    lines = ["Findings:"]
    lines += [
        f"  [{_TAGS.get(f['severity'], f['severity'])}] {f['patient_text']}" for f in findings
    ]
    emergency = any(f["severity"] == "emergency" for f in findings)
    lines.append(EMERGENCY_DISCLAIMER if emergency else DISCLAIMER)
    return lines

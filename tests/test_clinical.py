"""Clinical layer: norms, asymmetry, real change, findings, missing data, FRT, drift."""

from __future__ import annotations

import doctest
import json
import math
from typing import Any

import pytest

from posture.clinical import (
    QUESTIONS,
    FrtResult,
    Questionnaire,
    asymmetry,
    build_findings,
    classify_cva,
    classify_rom,
    findings_summary_lines,
    posture_drift,
    real_change,
    rom_norm,
)
from posture.clinical import findings as findings_module
from posture.clinical.change import compare_reports
from posture.clinical.norms import norms_table
from posture.clinical.questionnaire import QUESTIONS_BY_ID
from posture.measures import ROM_KEYS

ROM_NONE: dict[str, float | None] = dict.fromkeys(ROM_KEYS)


def make_report(
    cva: float | None = None,
    rom: dict[str, float | None] | None = None,
    *,
    fraction: float | None = 1.0,
    head_tilt: float | None = None,
    shoulder_tilt: float | None = None,
    frames: list[dict[str, Any]] | None = None,
    kind: str = "video",
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "input": {"kind": kind},
        "view": "mixed",
        "frames": frames or [],
        "summary": {
            "cva_deg": cva,
            "head_tilt_deg": head_tilt,
            "shoulder_tilt_deg": shoulder_tilt,
            "rom": {**ROM_NONE, **(rom or {})},
        },
        "quality": {"valid_frame_fraction": fraction, "warnings": []},
    }


def by_id(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in findings}


SAMPLE = make_report(44.0, {"rotation_left_deg": 55.0, "rotation_right_deg": 75.0})


# -- norms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cva_deg", "label"),
    [
        (60.0, "upright"),
        (50.0, "upright"),
        (49.9, "forward head"),
        (45.5, "forward head"),
        (45.4, "marked forward head"),
        (30.0, "marked forward head"),
    ],
)
def test_cva_is_classified_at_the_50_and_45_5_deg_cut_offs(cva_deg: float, label: str) -> None:
    c = classify_cva(cva_deg)
    assert c is not None and c.label == label
    assert c.norm.reduced_below_deg == 50.0 and c.norm.markedly_reduced_below_deg == 45.5


# (metric, age, reference, reduced below, markedly reduced below), hand-computed:
# textbook ideal x (1 - Swinkels 70+ loss x share), share 0 / 0.5 / 1; cut-offs 80% / 60%.
ROM_ROWS = [
    ("rotation_left_deg", 30, 80.0, 64.0, 48.0),
    ("rotation_right_deg", 60, 70.0, 56.0, 42.0),
    ("rotation_left_deg", 80, 60.0, 48.0, 36.0),
    ("flexion_deg", 30, 50.0, 40.0, 30.0),
    ("flexion_deg", 60, 47.0, 37.6, 28.2),
    ("flexion_deg", 75, 44.0, 35.2, 26.4),
    ("extension_deg", 30, 60.0, 48.0, 36.0),
    ("extension_deg", 55, 50.4, 40.3, 30.2),
    ("extension_deg", 90, 40.8, 32.6, 24.5),
    ("lateral_flexion_left_deg", 25, 45.0, 36.0, 27.0),
    ("lateral_flexion_right_deg", 65, 40.0, 32.0, 24.0),
    ("lateral_flexion_right_deg", 70, 35.1, 28.1, 21.1),
]


@pytest.mark.parametrize(("metric", "age", "ref", "reduced", "marked"), ROM_ROWS)
def test_rom_norm_per_direction_and_age_band(
    metric: str, age: int, ref: float, reduced: float, marked: float
) -> None:
    n = rom_norm(metric, age)
    assert (n.reference_deg, n.reduced_below_deg, n.markedly_reduced_below_deg) == (
        ref,
        reduced,
        marked,
    )
    assert n.sources, "every norm row cites a source"
    assert ("swinkels2014" in n.sources) == (age >= 50)


@pytest.mark.parametrize(("metric", "age", "ref", "reduced", "marked"), ROM_ROWS)
@pytest.mark.parametrize(
    ("offset_deg", "which", "label"),
    [
        (0.0, "reduced", "within normal"),
        (-0.1, "reduced", "reduced"),
        (0.0, "marked", "reduced"),
        (-0.1, "marked", "markedly reduced"),
    ],
)
def test_rom_labels_just_above_and_below_each_cut_off(
    metric: str,
    age: int,
    ref: float,
    reduced: float,
    marked: float,
    offset_deg: float,
    which: str,
    label: str,
) -> None:
    value = (reduced if which == "reduced" else marked) + offset_deg
    c = classify_rom(metric, value, age)
    assert c is not None and c.label == label
    assert c.norm.reference_deg == ref


@pytest.mark.parametrize(
    ("age", "band", "assumed"),
    [
        (None, "18-49", True),
        (17, "18-49", True),
        (18, "18-49", False),
        (49, "18-49", False),
        (50, "50-69", False),
        (69, "50-69", False),
        (70, "70+", False),
    ],
)
def test_age_band_boundaries_and_defaults_are_said(
    age: int | None, band: str, assumed: bool
) -> None:
    c = classify_rom("rotation_left_deg", 70.0, age)
    assert c is not None and c.norm.age_band == band
    assert any("age" in a or "adult" in a for a in c.assumptions) == assumed


@pytest.mark.parametrize(
    ("sex", "stored", "assumed"),
    [("female", "female", False), ("M", "male", False), ("other", None, True), (None, None, True)],
)
def test_sex_is_cited_but_does_not_move_thresholds(
    sex: str | None, stored: str | None, assumed: bool
) -> None:
    n = rom_norm("rotation_left_deg", 30, sex)
    assert n.sex == stored
    assert n.reduced_below_deg == 64.0
    assert ("pan2018" in n.sources) == (stored is not None)
    c = classify_rom("rotation_left_deg", 70.0, 30, sex)
    assert c is not None and any("sex" in a for a in c.assumptions) == assumed


def test_norms_table_has_cva_and_every_direction_in_three_age_bands() -> None:
    rows = norms_table()
    assert rows[0].metric == "cva_deg"
    assert len(rows) == 1 + 6 * 3
    assert all(r.sources for r in rows)


def test_unknown_rom_metric_is_an_error() -> None:
    with pytest.raises(ValueError):
        rom_norm("cva_deg")


@pytest.mark.parametrize("metric", ["cva_deg", *ROM_KEYS])
def test_null_value_is_not_classified(metric: str) -> None:
    c = classify_cva(None) if metric == "cva_deg" else classify_rom(metric, None)
    assert c is None


def test_zero_is_a_value_not_missing() -> None:
    c = classify_rom("rotation_left_deg", 0.0)
    assert c is not None and c.label == "markedly reduced" and c.value_deg == 0.0


# -- asymmetry and real change ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "asym", "smaller"),
    [
        (70.0, 80.0, True, "left"),
        (80.0, 70.0, True, "right"),
        (70.1, 80.0, False, None),
        (80.0, 70.1, False, None),
        (60.0, 60.0, False, None),
    ],
)
def test_asymmetry_at_the_10_deg_threshold_both_sides(
    left: float, right: float, asym: bool, smaller: str | None
) -> None:
    for movement in ("rotation", "lateral_flexion"):
        a = asymmetry(movement, left, right)
        assert a is not None and a.asymmetric == asym and a.smaller_side == smaller


def test_asymmetry_threshold_grows_with_our_measured_error() -> None:
    a = asymmetry("rotation", 70.0, 81.0, measured_error_deg=12.0)
    assert a is not None and a.threshold_deg == 12.0 and not a.asymmetric


@pytest.mark.parametrize(("left", "right"), [(None, 70.0), (70.0, None), (None, None)])
def test_asymmetry_needs_both_sides(left: float | None, right: float | None) -> None:
    assert asymmetry("rotation", left, right) is None


@pytest.mark.parametrize(
    ("metric", "before", "after", "error", "status", "threshold"),
    [
        ("rotation_left_deg", 50.0, 55.4, 5.0, "improved", 5.4),
        ("rotation_left_deg", 50.0, 55.3, 5.0, "within measurement error", 5.4),
        ("rotation_left_deg", 55.4, 50.0, 5.0, "worse", 5.4),
        ("rotation_left_deg", 55.3, 50.0, 5.0, "within measurement error", 5.4),
        ("cva_deg", 45.0, 50.0, 5.0, "improved", 5.0),
        ("cva_deg", 45.0, 49.9, 5.0, "within measurement error", 5.0),
        ("cva_deg", 50.0, 45.0, 5.0, "worse", 5.0),
        ("flexion_deg", 40.0, 47.0, 8.0, "within measurement error", 8.0),
        ("flexion_deg", 40.0, 48.0, 8.0, "improved", 8.0),
        ("flexion_deg", 40.0, 45.0, 2.0, "within measurement error", 5.4),
    ],
)
def test_real_change_uses_max_of_literature_mdc_and_our_error(
    metric: str, before: float, after: float, error: float, status: str, threshold: float
) -> None:
    c = real_change(metric, before, after, error)
    assert c is not None and c.status == status and c.threshold_deg == threshold


def test_measured_error_can_be_given_per_metric() -> None:
    c = real_change("flexion_deg", 40.0, 47.0, {"flexion_deg": 7.5})
    assert c is not None and c.threshold_deg == 7.5 and c.status == "within measurement error"


@pytest.mark.parametrize(("before", "after"), [(None, 50.0), (50.0, None)])
def test_change_needs_both_values(before: float | None, after: float | None) -> None:
    assert real_change("rotation_left_deg", before, after) is None


def test_compare_reports_skips_metrics_missing_in_either() -> None:
    prev = make_report(None, {"rotation_left_deg": 50.0, "flexion_deg": 40.0})
    now = make_report(47.0, {"rotation_left_deg": 60.0, "flexion_deg": None})
    changes = compare_reports(now, prev)
    assert [c.metric for c in changes] == ["rotation_left_deg"]


# -- findings: sample, structure, precedence ----------------------------------------------------

KEYS = {"id", "severity", "evidence", "patient_text", "clinician_text", "sources", "disclaimer"}


def test_sample_report_findings() -> None:
    f = by_id(build_findings(SAMPLE))
    assert f["cva"]["severity"] == "attention"
    assert "44 deg" in f["cva"]["patient_text"]
    assert f["rom.rotation_left"]["severity"] == "attention"
    assert f["rom.rotation_right"]["severity"] == "info"
    assert f["asymmetry.rotation"]["severity"] == "attention"
    assert "left side moved 20 deg less" in f["asymmetry.rotation"]["patient_text"]
    assert f["contributor.posture"]["evidence"][0]["metric"] == "cva_deg"
    muscle = {e["metric"] for e in f["contributor.muscle"]["evidence"]}
    assert muscle == {"rotation_asymmetry_deg", "rotation_left_deg"}
    assert "contributor.trauma" not in f and "contributor.stress" not in f
    assert "red_flags_reminder" in f


def test_every_finding_has_the_contract_keys() -> None:
    for f in build_findings(SAMPLE, Questionnaire(stress="yes"), frt=FrtResult(30.0, 40.0)):
        assert set(f) >= KEYS
        assert f["severity"] in ("info", "attention", "emergency")
        assert f["sources"] and f["disclaimer"]
        for e in f["evidence"]:
            assert set(e) == {"metric", "value", "reference"}


RED_FLAG_IDS = [q.id for q in QUESTIONS if q.urgency == "emergency"]
ALL_RED_FLAG_IDS = [q.id for q in QUESTIONS if q.group == "red_flag"]


@pytest.mark.parametrize("flag", RED_FLAG_IDS)
def test_any_red_flag_returns_only_the_emergency_finding(flag: str) -> None:
    answers = Questionnaire(**{flag: "yes"}, stress="yes", previous_neck_or_head_injury="yes")
    out = build_findings(
        SAMPLE,
        answers,
        age_years=40,
        previous=make_report(55.0, {"rotation_left_deg": 80.0}),
        frt=FrtResult(45.0, 45.0),
    )
    assert [f["id"] for f in out] == ["red_flag"]
    (f,) = out
    assert f["severity"] == "emergency" and f["stop_self_check"] is True
    assert "9-1-1" in f["patient_text"] and "emergency" in f["patient_text"]
    assert [e["metric"] for e in f["evidence"]] == [f"answer.{flag}"]


def test_red_flag_takes_precedence_over_a_reassuring_result() -> None:
    healthy = make_report(55.0, {k: 90.0 for k in ROM_KEYS})
    out = build_findings(healthy, Questionnaire(sudden_severe_headache="yes"))
    assert [f["severity"] for f in out] == ["emergency"]
    text = " ".join(f["patient_text"] for f in out)
    assert "within the usual range" not in text and "upright" not in text


def test_red_flag_takes_precedence_over_could_not_measure() -> None:
    out = build_findings(make_report(fraction=0.1), Questionnaire(headache_after_head_injury="yes"))
    assert [f["id"] for f in out] == ["red_flag"]


def test_several_red_flags_make_one_emergency_finding_listing_all() -> None:
    out = build_findings(SAMPLE, Questionnaire(**dict.fromkeys(ALL_RED_FLAG_IDS, "yes")))
    assert len(out) == 1 and len(out[0]["evidence"]) == len(RED_FLAG_IDS)  # emergency ones


def test_red_flags_all_no_drop_the_reminder() -> None:
    out = by_id(build_findings(SAMPLE, Questionnaire(**dict.fromkeys(ALL_RED_FLAG_IDS, "no"))))
    assert not [k for k in out if k.startswith("red_flag")]


def test_some_red_flags_unanswered_keep_the_reminder() -> None:
    out = by_id(build_findings(SAMPLE, Questionnaire(**dict.fromkeys(RED_FLAG_IDS, "no"))))
    assert "red_flags_reminder" in out


@pytest.mark.parametrize(
    ("flag", "finding_id", "words"),
    [
        ("history_of_cancer", "red_flag.doctor_soon", "See a doctor within the next few days"),
        ("new_headache_after_50", "red_flag.doctor_soon", "See a doctor within"),
        ("blood_thinning_medicine", "red_flag.tell_therapist", "Tell your physical therapist"),
        ("frequent_painkillers", "red_flag.tell_therapist", "Tell your physical therapist"),
    ],
)
def test_a_later_red_flag_comes_first_and_the_measurement_findings_follow(
    flag: str, finding_id: str, words: str
) -> None:
    out = build_findings(SAMPLE, Questionnaire(**{flag: "yes"}))
    assert out[0]["id"] == finding_id and words in out[0]["patient_text"]
    assert out[0]["stop_self_check"] is False and out[0]["severity"] == "attention"
    assert out[0]["evidence"] == [
        {
            "metric": f"answer.{flag}",
            "value": "yes",
            "reference": "; ".join(QUESTIONS_BY_ID[flag].sources),
        }
    ]
    assert "cva" in by_id(out)  # the measurement findings are still there, after it
    assert not any(f["severity"] == "emergency" for f in out)


def test_an_emergency_flag_hides_the_later_ones_too() -> None:
    answers = Questionnaire(history_of_cancer="yes", trouble_speaking_or_swallowing="yes")
    out = build_findings(SAMPLE, answers)
    assert [f["id"] for f in out] == ["red_flag"]
    assert [e["metric"] for e in out[0]["evidence"]] == ["answer.trouble_speaking_or_swallowing"]


def test_later_flags_of_both_kinds_give_one_finding_each_most_urgent_first() -> None:
    answers = Questionnaire(
        blood_thinning_medicine="yes", history_of_cancer="yes", weight_loss_or_night_sweats="yes"
    )
    out = build_findings(SAMPLE, answers)
    assert [f["id"] for f in out[:2]] == ["red_flag.doctor_soon", "red_flag.tell_therapist"]
    assert len(out[0]["evidence"]) == 2 and len(out[1]["evidence"]) == 1


# -- missing and bad data -----------------------------------------------------------------------


def test_all_null_report_makes_no_claim_about_any_metric() -> None:
    out = build_findings(make_report())
    ids = [f["id"] for f in out]
    assert ids == ["not_measured", "red_flags_reminder"]
    assert all(e["value"] is None for e in out[0]["evidence"])
    assert len(out[0]["evidence"]) == 9


@pytest.mark.parametrize("missing", ["rotation_left_deg", "rotation_right_deg"])
def test_one_null_side_is_not_treated_as_zero(missing: str) -> None:
    rom = {"rotation_left_deg": 75.0, "rotation_right_deg": 75.0, missing: None}
    f = by_id(build_findings(make_report(52.0, rom)))
    assert f"rom.{missing.removesuffix('_deg')}" not in f
    assert "asymmetry.rotation" not in f
    assert "contributor.muscle" not in f
    assert missing in [e["metric"] for e in f["not_measured"]["evidence"]]


def test_nan_is_treated_as_not_measured() -> None:
    f = by_id(build_findings(make_report(math.nan, {"flexion_deg": math.nan})))
    assert "cva" not in f and "rom.flexion" not in f
    assert {"cva_deg", "flexion_deg"} <= {e["metric"] for e in f["not_measured"]["evidence"]}


def test_photo_does_not_list_rom_as_six_missing_values() -> None:
    f = by_id(build_findings(make_report(48.0, head_tilt=1.0, shoulder_tilt=1.0, kind="image")))
    assert f["not_measured"]["evidence"] == []
    assert "video" in f["not_measured"]["patient_text"]


@pytest.mark.parametrize(("fraction", "measured"), [(0.49, False), (0.5, True), (None, False)])
def test_low_quality_gives_could_not_measure_and_no_guess(
    fraction: float | None, measured: bool
) -> None:
    report = make_report(40.0, {"rotation_left_deg": 30.0, "rotation_right_deg": 80.0})
    report["quality"]["valid_frame_fraction"] = fraction
    f = by_id(build_findings(report, previous=SAMPLE))
    assert ("could_not_measure" in f) != measured
    for camera_id in ("cva", "rom.rotation_left", "asymmetry.rotation", "contributor.posture"):
        assert (camera_id in f) == measured
    assert any(k.startswith("change.") for k in f) == measured
    if not measured:
        assert f["could_not_measure"]["severity"] == "info"


def test_questionnaire_contributors_survive_a_bad_recording() -> None:
    f = by_id(build_findings(make_report(fraction=0.2), Questionnaire(stress="yes")))
    assert {"could_not_measure", "contributor.stress"} <= set(f)


# -- contributors -------------------------------------------------------------------------------


def test_trauma_and_stress_come_only_from_answers() -> None:
    worst = make_report(
        35.0,
        {k: 20.0 for k in ROM_KEYS} | {"rotation_right_deg": 70.0},
        head_tilt=12.0,
        shoulder_tilt=-12.0,
    )
    assert not {"contributor.trauma", "contributor.stress"} & set(by_id(build_findings(worst)))
    answers = Questionnaire(previous_neck_or_head_injury="yes", stress="yes")
    f = by_id(build_findings(make_report(52.0), answers))
    assert f["contributor.trauma"]["evidence"][0]["metric"] == "answer.previous_neck_or_head_injury"
    assert f["contributor.stress"]["evidence"][0]["metric"] == "answer.stress"


@pytest.mark.parametrize(("answer", "present"), [("yes", True), ("no", False), ("unknown", False)])
def test_history_answers_other_than_yes_add_nothing(answer: str, present: bool) -> None:
    f = by_id(build_findings(make_report(52.0), Questionnaire(stress=answer)))
    assert ("contributor.stress" in f) == present


def test_sustained_postures_answer_alone_is_an_info_posture_contributor() -> None:
    f = by_id(build_findings(make_report(55.0), Questionnaire(sustained_postures="yes")))
    assert f["contributor.posture"]["severity"] == "info"
    assert [e["metric"] for e in f["contributor.posture"]["evidence"]] == [
        "answer.sustained_postures"
    ]


# The error (5 deg by default) makes 45-55 deg borderline: no contributor from it.
@pytest.mark.parametrize(
    ("cva_deg", "present"), [(44.9, True), (45.1, False), (49.9, False), (50.0, False)]
)
def test_forward_head_triggers_posture_contributor(cva_deg: float, present: bool) -> None:
    assert ("contributor.posture" in by_id(build_findings(make_report(cva_deg)))) == present


@pytest.mark.parametrize(
    ("cva_deg", "error_deg", "label"),
    [
        (55.0, 5.0, "upright"),
        (54.9, 5.0, "borderline"),
        (50.0, 5.0, "borderline"),
        (45.1, 5.0, "borderline"),
        (45.0, 5.0, "borderline"),  # 45 + 5 reaches the line
        (44.9, 5.0, "forward head"),  # 44.9 + 5: never worse than it may be
        (40.4, 5.0, "marked forward head"),
        (49.0, 0.5, "forward head"),
    ],
)
def test_cva_within_its_error_of_the_cut_off_is_borderline(
    cva_deg: float, error_deg: float, label: str
) -> None:
    c = classify_cva(cva_deg, error_deg)
    assert c is not None and c.label == label


def test_a_borderline_cva_says_so_with_the_error_and_is_no_deficit() -> None:
    f = by_id(build_findings(make_report(48.0), measured_error_deg=4.0))["cva"]
    assert f["severity"] == "info"
    assert "borderline" in f["patient_text"] and "about 4 deg" in f["patient_text"]
    assert "sat" not in f["patient_text"]  # no "your head sat forward" claim


@pytest.mark.parametrize("key", ["head_tilt", "shoulder_tilt"])
@pytest.mark.parametrize(
    ("tilt_deg", "present"), [(5.0, True), (-5.0, True), (4.9, False), (-4.9, False)]
)
def test_tilt_at_rest_triggers_muscle_contributor(key: str, tilt_deg: float, present: bool) -> None:
    f = by_id(build_findings(make_report(52.0, **{key: tilt_deg})))
    assert ("contributor.muscle" in f) == present


@pytest.mark.parametrize(
    ("metric", "value", "present"),
    [
        # below the 36 / 64 deg lines by more than the default error of 5 deg
        ("lateral_flexion_left_deg", 30.9, True),
        ("lateral_flexion_left_deg", 31.0, False),  # borderline: not a deficit
        ("lateral_flexion_left_deg", 36.0, False),
        ("rotation_right_deg", 58.9, True),
        ("rotation_right_deg", 59.0, False),
        ("flexion_deg", 20.0, False),  # flexion/extension are not in the seed's muscle evidence
    ],
)
def test_reduced_rotation_or_lateral_flexion_triggers_muscle_contributor(
    metric: str, value: float, present: bool
) -> None:
    f = by_id(build_findings(make_report(52.0, {metric: value})))
    assert ("contributor.muscle" in f) == present


def test_symptoms_are_reported_without_a_label() -> None:
    f = by_id(build_findings(SAMPLE, Questionnaire(nausea="yes", tender_base_of_skull="yes")))
    assert f["symptoms"]["severity"] == "info"
    assert len(f["symptoms"]["evidence"]) == 2


# -- posture drift ------------------------------------------------------------------------------


def drift_frames(duration_s: float, start_deg: float, end_deg: float) -> list[dict[str, Any]]:
    n = int(duration_s) + 1
    return [
        {"t": float(i), "valid": True, "cva_deg": start_deg + (end_deg - start_deg) * i / (n - 1)}
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("duration_s", "start", "end", "drifted"),
    [
        (120.0, 54.0, 44.0, True),  # medians of quarters: ~52.7 vs ~45.2 -> -7.5
        (120.0, 50.0, 56.0, False),  # drifting back (more upright) is not forward drift
        (120.0, 52.0, 48.0, False),  # ~3 deg between quarter medians: within error
        (59.0, 60.0, 40.0, False),  # too short to call sustained
    ],
)
def test_posture_drift_over_a_sustained_recording(
    duration_s: float, start: float, end: float, drifted: bool
) -> None:
    report = make_report(50.0, frames=drift_frames(duration_s, start, end))
    d = posture_drift(report)
    assert (d is not None and d.drifted_forward) == drifted
    f = by_id(build_findings(report))
    metrics = [e["metric"] for e in f.get("contributor.posture", {}).get("evidence", [])]
    assert ("cva_drift_deg" in metrics) == drifted


def test_posture_drift_skips_null_and_invalid_frames() -> None:
    frames = drift_frames(120.0, 54.0, 44.0)
    for fr in frames[:40]:
        fr["cva_deg"] = None
    for fr in frames[-40:]:
        fr["valid"] = False
    # what is left (t 40-80) spans 40 s: not a sustained recording any more
    assert posture_drift(make_report(50.0, frames=frames)) is None


# -- FRT ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "severity", "positive"),
    [
        (31.9, 44.0, "attention", ["left"]),
        (44.0, 31.9, "attention", ["right"]),
        (32.0, 32.0, "info", []),
        (25.0, 28.0, "attention", ["left", "right"]),
        (None, 30.0, "attention", ["right"]),
        (40.0, None, "info", []),
    ],
)
def test_frt_cut_off_32_deg_both_sides(
    left: float | None, right: float | None, severity: str, positive: list[str]
) -> None:
    frt = FrtResult(left, right)
    assert list(frt.positive_sides()) == positive
    f = by_id(build_findings(make_report(52.0), frt=frt))["frt"]
    assert f["severity"] == severity
    assert "approximation" in f["patient_text"] and "approximation" in f["clinician_text"]
    assert all(e["value"] is not None for e in f["evidence"])


def test_frt_without_values_makes_no_finding() -> None:
    assert "frt" not in by_id(build_findings(make_report(52.0), frt=FrtResult()))


# -- change findings ----------------------------------------------------------------------------


def test_change_findings_against_a_previous_report() -> None:
    prev = make_report(44.0, {"rotation_left_deg": 45.0, "rotation_right_deg": 76.0})
    now = make_report(45.0, {"rotation_left_deg": 60.0, "rotation_right_deg": 68.0})
    f = by_id(build_findings(now, previous=prev))
    assert f["change.rotation_left"]["severity"] == "info"
    assert "improved" in f["change.rotation_left"]["patient_text"]
    assert f["change.rotation_right"]["severity"] == "attention"
    assert "worse" in f["change.rotation_right"]["patient_text"]
    assert [e["metric"] for e in f["change.within_error"]["evidence"]] == ["change.cva_deg"]


def test_change_is_not_computed_against_a_bad_previous_recording() -> None:
    f = by_id(build_findings(SAMPLE, previous=make_report(60.0, fraction=0.3)))
    assert "change.not_compared" in f
    assert not [k for k in f if k.startswith("change.") and k != "change.not_compared"]


def test_change_uses_our_error_when_larger() -> None:
    prev = make_report(None, {"rotation_left_deg": 50.0})
    now = make_report(None, {"rotation_left_deg": 57.0})
    assert "change.rotation_left" in by_id(build_findings(now, previous=prev))
    f = by_id(build_findings(now, previous=prev, measured_error_deg=8.0))
    assert "change.rotation_left" not in f and "change.within_error" in f


# -- output -------------------------------------------------------------------------------------


def test_findings_are_json_serialisable_without_nan() -> None:
    out = build_findings(
        SAMPLE,
        Questionnaire(stress="yes", nausea="yes"),
        age_years=55,
        sex="female",
        previous=make_report(40.0, {"rotation_left_deg": 40.0}),
        frt=FrtResult(30.0, None),
    )
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_summary_lines_end_with_a_disclaimer() -> None:
    lines = findings_summary_lines(build_findings(SAMPLE))
    assert lines[0] == "Findings:" and "[attention]" in lines[1]
    assert "physical therapist" in lines[-1]
    answers = Questionnaire(nausea="no", sudden_severe_headache="yes")
    emergency = findings_summary_lines(build_findings(SAMPLE, answers))
    assert "[EMERGENCY]" in emergency[1] and len(emergency) == 3
    assert findings_summary_lines([])[-1]


def test_build_findings_docstring_example_runs() -> None:
    result = doctest.testmod(findings_module)
    assert result.attempted >= 1 and result.failed == 0


def test_rom_at_least_is_never_called_reduced_nor_compared() -> None:
    report = {
        "input": {"kind": "video"},
        "quality": {"valid_frame_fraction": 1.0},
        "summary": {
            "rom": {"rotation_left_deg": 57.0, "rotation_right_deg": 80.0},
            "rom_at_least": ["rotation_left_deg"],
        },
    }
    findings = build_findings(report, age_years=35)
    left = next(f for f in findings if f["id"] == "rom.rotation_left")
    assert left["severity"] == "info"
    assert "at least 57 deg" in left["patient_text"]
    assert "less than usual" not in left["patient_text"]
    ids = {f["id"] for f in findings}
    assert "asymmetry.rotation" not in ids  # 57 vs 80 would otherwise be a 23 deg asymmetry
    # The same value without the bound is called reduced: the flag is what changes it.
    report["summary"]["rom_at_least"] = []
    plain = next(f for f in build_findings(report, age_years=35) if f["id"] == "rom.rotation_left")
    assert plain["severity"] == "attention"


@pytest.mark.parametrize(
    ("below_cut_deg", "which", "label"),
    [
        (0.1, "reduced", "borderline"),  # on the line, as a healthy neck may read
        (4.9, "reduced", "borderline"),
        (5.1, "reduced", "reduced"),  # below it by more than the error
        (0.1, "marked", "reduced"),
        (5.1, "marked", "markedly reduced"),
    ],
)
def test_a_reading_is_called_reduced_only_below_its_line_by_more_than_the_error(
    below_cut_deg: float, which: str, label: str
) -> None:
    norm = classify_rom("lateral_flexion_right_deg", 40.0).norm
    cut = norm.reduced_below_deg if which == "reduced" else norm.markedly_reduced_below_deg
    c = classify_rom("lateral_flexion_right_deg", cut - below_cut_deg, error_deg=5.0)
    assert c is not None and c.label == label
    exact = classify_rom("lateral_flexion_right_deg", cut - below_cut_deg)
    assert exact is not None and exact.label == ("reduced" if which == "reduced" else
                                                 "markedly reduced")  # fmt: skip


def test_a_healthy_neck_read_on_the_line_is_not_told_it_is_stiff() -> None:
    # A held-out rendered body's lateral flexion: true 36.0, on the 36 deg line; read 35.6.
    cut = classify_rom("lateral_flexion_right_deg", 40.0).norm.reduced_below_deg
    on_line = by_id(build_findings(make_report(rom={"lateral_flexion_right_deg": cut - 0.4})))
    f = on_line["rom.lateral_flexion_right"]
    assert f["severity"] == "info"
    assert "not called reduced" in f["patient_text"] and "less than usual" not in f["patient_text"]
    assert "borderline" in f["clinician_text"]
    assert "contributor.muscle" not in on_line
    clearly = by_id(build_findings(make_report(rom={"lateral_flexion_right_deg": cut - 6.0})))
    assert clearly["rom.lateral_flexion_right"]["severity"] == "attention"
    assert "less than usual" in clearly["rom.lateral_flexion_right"]["patient_text"]


def test_rom_clinician_text_gives_this_tools_own_measured_error() -> None:
    f = by_id(build_findings(make_report(rom={"rotation_left_deg": 60.0})))["rom.rotation_left"]
    text = f["clinician_text"]
    assert "This tool's" in text and "3.1-6.1 deg rotation" in text
    assert "not benchmarked" not in text


# -- symptoms meet measurements: the painful side next to the more limited side -----------


def _side_finding(answers: Questionnaire, report=SAMPLE, frt=None) -> dict | None:
    return by_id(build_findings(report, answers, frt=frt)).get("symptoms.side")


def test_pain_on_the_more_limited_side_is_put_side_by_side_without_a_conclusion() -> None:
    f = _side_finding(Questionnaire(pain_side="left", arm_symptoms_side="left"))
    assert f is not None and f["severity"] == "info"
    text = f["patient_text"]
    assert "mostly on the left" in text and "more limited to the left, the same side" in text
    assert "55 deg left, 75 deg right" in text and "arm symptoms on the left" in text
    assert "can examine whether and how the two relate" in text
    assert f["evidence"][0] == {"metric": "answer.pain_side", "value": "left",
                                "reference": "questionnaire"}  # fmt: skip


def test_pain_on_the_other_side_says_so() -> None:
    f = _side_finding(Questionnaire(pain_side="right"))
    assert f is not None and "more limited to the left, the other side" in f["patient_text"]


def test_no_side_no_side_finding() -> None:
    for side in ("both", "unknown"):
        assert _side_finding(Questionnaire(pain_side=side)) is None
    assert _side_finding(Questionnaire(pain_side="left"), make_report(50.0)) is None  # no ROM


def test_equal_sides_are_said_to_be_equal() -> None:
    even = make_report(50.0, {"rotation_left_deg": 70.0, "rotation_right_deg": 72.0})
    f = _side_finding(Questionnaire(pain_side="left"), even)
    assert f is not None and "about as far to each side" in f["patient_text"]


def test_a_limited_flexion_rotation_side_is_put_next_to_the_pain() -> None:
    f = _side_finding(Questionnaire(pain_side="right"), frt=FrtResult(44.0, 25.0))
    assert f is not None
    assert "chin on the chest was limited to the right, the same side" in f["patient_text"]


def test_a_side_question_takes_a_side_only() -> None:
    with pytest.raises(ValueError):
        Questionnaire(pain_side="yes")
    with pytest.raises(ValueError):
        Questionnaire(stress="left")

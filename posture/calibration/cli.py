"""``posture calibrate board|camera|level|neutral``: the calibration commands.

Registered into ``posture`` by ``register(subparsers)``. Each handler takes the
parsed arguments and returns an exit code; bad input raises PostureError with
one sentence, which the main CLI prints.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from posture.calibration.board import DEFAULT_SQUARE_MM, PAPERS_MM, BoardLayout
from posture.errors import InputError

if TYPE_CHECKING:
    from posture.calibration.profiles import CameraProfile, Intrinsics

EXIT_OK = 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``calibrate`` and its four sub-commands."""
    cal = subparsers.add_parser(
        "calibrate",
        help="print the board; calibrate a camera's lens and level; store a subject's neutral",
        description="Calibration profiles are stored under $POSTURE_CALIBRATION_DIR "
        "(default: the user's data folder, posture/calibration).",
    )
    sub = cal.add_subparsers(dest="calibrate_command", required=True)
    _register_board(sub)
    _register_camera(sub)
    _register_level(sub)
    _register_neutral(sub)


def _overwrite_argument(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace {what} that already exists (default: refuse, change nothing)",
    )


def _refuse_stored(what: str, when: str | None, how: str) -> None:
    """One sentence for a calibration that is already stored and may not be replaced."""
    measured = f" (measured {when[:10]})" if when else ""
    raise InputError(
        f"{what} is already stored{measured}: {how}, or add --overwrite to replace it."
    )


def _square_mm_argument(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--square-mm", type=float, default=None, metavar="MM", help=help_text)


def _register_board(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("board", help="write the printable ChArUco board (PDF or PNG)")
    p.add_argument("--out", required=True, metavar="FILE", help="board.pdf (true scale) or .png")
    p.add_argument("--paper", choices=sorted(PAPERS_MM), default="a4", help="paper (a4)")
    _square_mm_argument(p, f"side of a chess square in mm ({DEFAULT_SQUARE_MM:g})")
    _overwrite_argument(p, "a --out file")
    p.set_defaults(handler=board_command)


def _register_camera(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("camera", help="measure the lens from a video or photos of the board")
    p.add_argument("input", nargs="+", help="a short video, photos, or a folder of photos")
    p.add_argument("--name", required=True, help="camera profile name, e.g. clinic-webcam")
    _square_mm_argument(p, "measured side of one printed square in mm (recorded in the profile)")
    p.add_argument("--samples", type=int, default=60, metavar="N",
                   help="frames sampled from a video (60)")  # fmt: skip
    _overwrite_argument(p, "a lens calibration")
    p.set_defaults(handler=camera_command)


def _register_level(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "level", help="measure the camera's roll (and pitch) from a plumb board or a vertical line"
    )
    p.add_argument("input", help="photo or short video from the camera in its recording place")
    p.add_argument("--name", required=True, help="camera profile to store the level in")
    p.add_argument(
        "--line",
        metavar="X1,Y1,X2,Y2",
        help="instead of the board: two points (pixels) on a true vertical in the photo",
    )
    _overwrite_argument(p, "a level")
    p.set_defaults(handler=level_command)


def _register_neutral(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("neutral", help="store a subject's neutral head position from a video")
    p.add_argument("input", help="3-5 s video: subject sitting still, looking straight ahead")
    p.add_argument("--subject", required=True, metavar="ID", help="subject code (not a name)")
    p.add_argument("--calibration", metavar="NAME", help="camera profile to apply")
    p.add_argument("--view", choices=["auto", "front", "left", "right"], default="auto",
                   help="which side of the subject faces the camera (default: detect)")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _overwrite_argument(p, "the subject's neutral")
    p.set_defaults(handler=neutral_command)


def _layout(args: argparse.Namespace) -> BoardLayout:
    square_mm = getattr(args, "square_mm", None)
    if square_mm is None:
        return BoardLayout()
    if not 5.0 <= square_mm <= 200.0:
        raise InputError(
            f"--square-mm {square_mm:g} is not a printed square size: measure one black "
            "square of the board in millimetres (about 30)."
        )
    return BoardLayout(square_mm)


# -- handlers --------------------------------------------------------------------------------


def board_command(args: argparse.Namespace) -> int:
    from posture.calibration.board import instructions, write_board

    layout = _layout(args)
    path = write_board(args.out, args.paper, layout.square_mm, overwrite=args.overwrite)
    print(f"Board written to {path} ({args.paper.upper()}, squares of {layout.square_mm:g} mm).")
    for line in instructions(layout):
        print(f"- {line}")
    return EXIT_OK


def camera_command(args: argparse.Namespace) -> int:
    from posture.calibration.detect import BoardDetector
    from posture.calibration.lens import calibrate_lens, reprojection_advice
    from posture.calibration.pictures import detect_in_inputs
    from posture.calibration.profiles import check_name, load_camera_or_new, now_iso, save_camera

    check_name(args.name, "camera name")
    if args.samples < 6:
        raise InputError(f"--samples {args.samples} is too few: sample at least 6 frames.")
    layout = _layout(args)
    old = load_camera_or_new(args.name)
    if old.lens is not None and not args.overwrite:
        _refuse_stored(
            f"A lens calibration for camera '{args.name}'",
            old.lens.calibrated_at,
            "give another --name",
        )
    detections = detect_in_inputs(args.input, BoardDetector(layout), args.samples)
    lens = calibrate_lens(detections, layout)
    level = old.level
    if level is not None and (level.width_px > level.height_px) != (
        lens.intrinsics.width_px > lens.intrinsics.height_px
    ):
        level = None  # held the other way now: that level no longer applies
    path = save_camera(replace(old, lens=lens, level=level))
    k = lens.intrinsics
    print(f"Camera '{args.name}' calibrated from {lens.views_used} views ({now_iso()[:10]}).")
    print(f"  picture {k.width_px}x{k.height_px} px; fx {k.fx_px:.1f}, fy {k.fy_px:.1f}, "
          f"cx {k.cx_px:.1f}, cy {k.cy_px:.1f} px")  # fmt: skip
    print("  distortion k1 k2 p1 p2 k3: " + " ".join(f"{v:.4f}" for v in k.distortion))
    print(f"  reprojection error {lens.reprojection_error_px:.3f} px (good below 0.5-1 px)")
    advice = reprojection_advice(lens)
    if advice:
        print(f"  Note: {advice}")
    print(f"Saved to {path}")
    return EXIT_OK


def level_command(args: argparse.Namespace) -> int:
    from posture.calibration.detect import BoardDetector
    from posture.calibration.level import level_from_board, level_from_line
    from posture.calibration.pictures import detect_in_inputs, iter_pictures
    from posture.calibration.profiles import check_name, load_camera_or_new, save_camera

    check_name(args.name, "camera name")
    profile = load_camera_or_new(args.name)
    if profile.level is not None and not args.overwrite:
        _refuse_stored(
            f"A level for camera '{args.name}'", profile.level.measured_at, "give another --name"
        )
    if args.line:
        picture = next(iter_pictures([args.input], video_samples=1))
        size = picture.size_px
        lens, calibrated = _lens_for_level(profile, size)
        level = level_from_line(args.line, lens, size)
    else:
        detections = detect_in_inputs([args.input], BoardDetector(), video_samples=30)
        size = detections.size_px
        lens, calibrated = _lens_for_level(profile, size)
        level = level_from_board(detections.views, lens, calibrated, size)
    path = save_camera(replace(profile, level=level))
    side = "clockwise" if level.roll_deg >= 0 else "counter-clockwise"
    print(f"Camera '{args.name}' roll: {level.roll_deg:+.2f} deg "
          f"({side} as seen from behind the camera).")  # fmt: skip
    if level.pitch_deg is not None:
        updown = "down" if level.pitch_deg >= 0 else "up"
        print(f"  pitch: {level.pitch_deg:+.2f} deg (looking {updown})")
    elif not calibrated:
        print("  pitch not stored: calibrate the lens first ('posture calibrate camera').")
    elif not args.line:
        print("  pitch not stored: the board must fill at least a fifth of the picture with "
              "three of its rows and columns in view; take the picture closer, whole board "
              "inside it.")  # fmt: skip
    if abs(level.roll_deg) > 3.0:
        print("  Tip: levelling the camera is better still; the roll is corrected either way.")
    print(f"Saved to {path}")
    return EXIT_OK


def _lens_for_level(profile: CameraProfile, size_px: tuple[int, int]) -> tuple[Intrinsics, bool]:
    """(lens, calibrated): the profile's lens at this picture size, or the default lens."""
    from posture.calibration.profiles import default_intrinsics, lens_for_frame

    try:
        lens = lens_for_frame(profile, *size_px)
    except InputError:
        lens = None  # another camera mode than the lens calibration: roll is still fine
    if lens is None:
        return default_intrinsics(*size_px), False
    return lens, True


def _refuse_stored_neutral(args: argparse.Namespace) -> None:
    from posture.calibration.profiles import load_subject, subject_path

    if args.overwrite or not subject_path(args.subject).is_file():
        return
    try:
        when: str | None = load_subject(args.subject).recorded_at
    except InputError:
        when = None  # a damaged file is still the user's: refused the same way
    _refuse_stored(f"A neutral for subject '{args.subject}'", when, "give another --subject")


def neutral_command(args: argparse.Namespace) -> int:
    from posture.calibration.neutral import measure_neutral
    from posture.calibration.options import apply_to_options
    from posture.calibration.profiles import check_name, save_subject
    from posture.options import AnalysisOptions
    from posture.progress import NullProgress, TqdmProgress

    check_name(args.subject, "subject ID")
    _refuse_stored_neutral(args)
    if Path(args.input).suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}:
        raise InputError(
            "A neutral needs a short video (3-5 s of the subject sitting still, looking "
            "ahead), not a photo."
        )
    view = None if args.view == "auto" else args.view
    options = AnalysisOptions(view=view)
    camera_args = argparse.Namespace(input=args.input, calibration=args.calibration, subject=None)
    options = apply_to_options(camera_args, options)
    progress = NullProgress() if args.quiet else TqdmProgress()
    neutral = measure_neutral(args.input, args.subject, options, progress)
    path = save_subject(neutral)
    angles = ", ".join(f"{k.removesuffix('_deg')} {v:+.1f}" for k, v in neutral.neutral_deg.items())
    print(f"Neutral for subject '{args.subject}' (deg): {angles}.")
    print(f"Saved to {path}. Use 'posture analyze VIDEO --subject {args.subject}'.")
    return EXIT_OK

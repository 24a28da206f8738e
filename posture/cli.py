"""Command line: ``posture analyze INPUT --json OUT [--csv OUT] [--annotated OUT] [--view ...]``.

Bad input ends with exit code 2 and one sentence on stderr; no traceback and no
half-written output. The outputs of one run appear together or not at all: each is
written to a temporary name beside it and all are renamed at the end, so a full disk
(exit code 2, "The disk is full: nothing was written to ...") leaves none of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any


class _InterruptSeen:
    """Whether Ctrl-C (SIGINT) arrived. A KeyboardInterrupt raised while a compiled module
    initialises comes out as another error (``ImportError: initialization failed`` from a
    model library), or can be swallowed by one: the flag tells the user's stop apart from
    a real internal error, and keeps a run whose stop was swallowed from writing outputs.
    Before ``main()`` runs (still importing), a Ctrl-C ends the process at once: nothing
    has been written yet."""

    def __init__(self) -> None:
        self.seen = False
        self.in_main = False
        self.stderr: Any = None  # the real stderr, once the stop has silenced the other one

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.in_main and not self.seen:
            # From the stop on, only our one sentence: a KeyboardInterrupt that lands in
            # an import or a callback can be printed with a traceback by whatever catches
            # it. The sentence is written to the real stderr (:func:`_stopped_by_user`).
            self.stderr = sys.stderr
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit
        self.seen = True
        if not self.in_main:
            sys.stderr.write(
                "posture: stopped by the user before it started; nothing was written.\n"
            )
            os._exit(130)
        signal.default_int_handler(signum, frame)


_INTERRUPT = _InterruptSeen()
# Run as a program (python -m posture.cli, or the posture command), not imported.
_AS_PROGRAM = __name__ == "__main__" or Path(sys.argv[0]).name == "posture"


def _quiet_lost_interrupts() -> None:
    """A Ctrl-C that lands where Python cannot raise it (a weakref or import-lock callback,
    a thread) is printed as "Exception ignored in ..." with a traceback. The stop is
    noted all the same (:class:`_InterruptSeen`); only our one sentence is printed."""
    import threading

    unraisable, in_thread = sys.unraisablehook, threading.excepthook

    def drop_unraisable(info: Any) -> None:
        if not isinstance(info.exc_value, KeyboardInterrupt):
            unraisable(info)

    def drop_in_thread(args: Any) -> None:
        if not issubclass(args.exc_type, KeyboardInterrupt):
            in_thread(args)

    sys.unraisablehook = drop_unraisable
    threading.excepthook = drop_in_thread


if _AS_PROGRAM and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _INTERRUPT)  # from here on
    _quiet_lost_interrupts()

from posture import __version__  # noqa: E402
from posture.errors import OutputError, PostureError  # noqa: E402
from posture.io.bounded import MAX_ANSWERS_BYTES, MAX_REPORT_BYTES  # noqa: E402
from posture.io.file_types import (  # noqa: E402
    ANNOTATED_IMAGE_EXTENSIONS,
    ANNOTATED_VIDEO_EXTENSIONS,
    is_image_name,
    supported_types_help,
)

if TYPE_CHECKING:
    from posture.clinical import Questionnaire
    from posture.io.media import Frame, MediaSource

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_RED_FLAG = 4  # an emergency red flag in --answers: nothing measured, nothing written
EXIT_INTERRUPTED = 130


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posture",
        description="Posture and neck range of motion from a video, a photo or a webcam.",
    )
    parser.add_argument("--version", action="version", version=f"posture {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and model logs")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="measure one video, photo or webcam session")
    a.set_defaults(handler=_analyze)
    a.add_argument("input", nargs="?", help=supported_types_help())
    a.add_argument("--camera", type=int, metavar="INDEX", help="use webcam INDEX instead of a file")
    a.add_argument("--duration", type=float, default=30.0, metavar="S", help="webcam seconds (30)")
    a.add_argument(
        "--json", required=True, metavar="OUT", help="report JSON (measurement contract)"
    )
    a.add_argument("--csv", metavar="OUT", help="per-frame table")
    a.add_argument(
        "--annotated", metavar="OUT", help="annotated H.264 .mp4 (or .jpg/.png for a photo)"
    )
    a.add_argument("--view", choices=["auto", "front", "left", "right"], default="auto",
                   help="which side of the subject faces the camera (default: detect)")  # fmt: skip
    a.add_argument("--age", type=int, metavar="YEARS", help="age, for age-banded norms")
    a.add_argument("--sex", choices=["female", "male"], help="for norms that differ by sex")
    a.add_argument("--answers", metavar="JSON", help="symptom and red-flag answers (questionnaire)")
    a.add_argument("--previous", metavar="JSON", help="an earlier report: say what changed")
    a.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    a.add_argument(
        "--overwrite",
        action="store_true",
        help="replace output files that already exist (default: refuse, change nothing)",
    )
    a.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes for one video, in time chunks (default 1; each needs ~450 MB)",
    )
    from posture.calibration.options import add_analyze_arguments

    add_analyze_arguments(a)
    for register in _other_commands():
        register(sub)
    return parser


def _other_commands() -> list[Callable[[Subparsers], None]]:
    """``register(subparsers)`` of each further command; each sets ``handler`` to a
    function ``(args) -> exit code`` that raises PostureError for bad input."""
    from posture.batch.cli import register as register_batch
    from posture.calibration.cli import register as register_calibrate
    from posture.dashboard import register as register_dashboard

    return [register_calibrate, register_batch, register_dashboard]


@contextlib.contextmanager
def _quiet_native_logs(enabled: bool, until_exit: bool = False) -> Iterator[None]:
    """Send MediaPipe/TensorFlow Lite's C++ log lines to /dev/null, keep Python's stderr.

    The native libraries write to file descriptor 2 directly; the user should see
    only our own sentence or progress bar there. ``until_exit``: descriptor 2 stays on
    /dev/null afterwards (the program is about to end, and a model thread stopped by
    Ctrl-C may still log while it winds down); Python's stderr stays the real one.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_stderr = sys.stderr
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(os.dup(saved_fd), "w", buffering=1, encoding="utf-8")
    try:
        yield
    finally:
        sys.stderr.flush()
        if not until_exit:
            sys.stderr.close()
            sys.stderr = old_stderr
            os.dup2(saved_fd, 2)
        os.close(saved_fd)


def _check_outputs(args: argparse.Namespace) -> None:
    from posture.io.atomic import refuse_existing
    from posture.report import check_writable

    outputs = [p for p in (args.json, args.csv, args.annotated) if p]
    resolved = [Path(os.path.realpath(p)) for p in outputs]
    if len(set(resolved)) != len(resolved):
        raise OutputError("Two outputs have the same file name: give each output its own file.")
    if args.input and Path(os.path.realpath(args.input)) in resolved:
        raise OutputError("An output would overwrite the input: choose another output name.")
    for p in outputs:
        check_writable(p)
    if not args.overwrite:
        refuse_existing(outputs)
    if args.annotated:
        ext = Path(args.annotated).suffix.lower()
        is_image = is_image_name(args.input or "")
        allowed = ANNOTATED_IMAGE_EXTENSIONS if is_image else ANNOTATED_VIDEO_EXTENSIONS
        if ext not in allowed:
            want = "a .jpg or .png" if is_image else "an .mp4"
            raise OutputError(f"--annotated needs {want} file name for this input, not '{ext}'.")


def _analyze(args: argparse.Namespace) -> int:
    from posture.geometry.trunk import View
    from posture.io.media import CameraSource, open_media
    from posture.options import AnalysisOptions
    from posture.pipeline import analyze_source
    from posture.progress import NullProgress, TqdmProgress
    from posture.report import attach_findings, write_csv, write_json
    from posture.summary_text import summary_lines

    answers = _read_answers(args.answers) if args.answers else None
    if answers is not None and _stopped_for_red_flags(answers):
        return EXIT_RED_FLAG
    previous = (
        _read_json(args.previous, "earlier report", MAX_REPORT_BYTES) if args.previous else None
    )
    if args.age is not None and not 0 < args.age < 120:
        raise PostureError(f"--age {args.age} is not an age in years: give a number from 1 to 119.")
    if (args.input is None) == (args.camera is None):
        raise PostureError("Give either an INPUT file or --camera INDEX (one of the two).")
    if args.workers < 1:
        raise PostureError(
            f"--workers {args.workers} is not a number of processes: give 1 or more."
        )
    _check_outputs(args)
    view: View | None = None if args.view == "auto" else args.view
    options = AnalysisOptions(view=view)
    source: MediaSource
    if args.camera is not None:
        camera = CameraSource(args.camera, options.max_side_px)
        frames = camera.frames

        def limited() -> Iterator[Frame]:  # stop the webcam after --duration seconds
            for f in frames():
                if f.t_s > args.duration:
                    break
                yield f

        camera.frames = limited  # type: ignore[method-assign]
        source = camera
    else:
        source = open_media(args.input, options.max_side_px)
    progress = NullProgress() if args.quiet else TqdmProgress()
    if args.workers > 1 and args.annotated and not args.quiet:
        print(
            "posture: an annotated video needs the frames in order: analysing in one process.",
            file=sys.stderr,
        )
    from posture.calibration.options import apply_to_options
    from posture.io.atomic import OutputSet, is_disk_full

    # All or nothing: every output goes to a temporary file beside it and is renamed
    # into place only when all of them were written (see posture.io.atomic).
    with OutputSet([args.json, args.csv, args.annotated], overwrite=args.overwrite) as outputs:
        try:
            try:
                annotated = outputs.reserve(args.annotated) if args.annotated else None
                options = apply_to_options(args, options, (source.info.width, source.info.height))
                report = analyze_source(source, options, progress, annotated, workers=args.workers)
            finally:
                source.close()
            report = attach_findings(
                report, answers, age_years=args.age, sex=args.sex, previous=previous
            )
            if args.csv:
                write_csv(report, args.csv, outputs)
            write_json(report, args.json, outputs)
            if _INTERRUPT.seen:  # a Ctrl-C that a library swallowed: still the user's stop
                raise KeyboardInterrupt
            outputs.commit()
        except OSError as err:  # the annotated video's writer, while the frames are analysed
            if is_disk_full(err):
                raise outputs.error(err) from err
            raise
    if not args.quiet:
        print("\n".join(summary_lines(report.to_dict())))
    return EXIT_OK


def _stopped_for_red_flags(answers: Questionnaire) -> bool:
    """An emergency red flag answered 'yes': print the emergency instruction and nothing
    else (no value is measured, shown or written), and say so. The answers come first."""
    from posture.clinical import red_flag_findings, screen_red_flags
    from posture.clinical.red_flags import EMERGENCY_DISCLAIMER

    if not screen_red_flags(answers).stop_self_check:
        return False
    for f in red_flag_findings(answers):
        print(f"EMERGENCY: {f['patient_text']}")
    print(EMERGENCY_DISCLAIMER)
    print(
        "posture: stopped before measuring because of the red-flag answers; nothing was "
        "analysed or written.",
        file=sys.stderr,
    )
    return True


def _read_json(path: str, what: str, limit_bytes: int) -> dict[str, Any]:
    import json

    from posture.io.bounded import FileTooLarge, read_text_at_most, too_large_sentence

    try:
        data = json.loads(read_text_at_most(path, limit_bytes))
    except FileTooLarge as err:
        raise PostureError(too_large_sentence(what, path, err.limit_bytes)) from err
    except FileNotFoundError as err:
        raise PostureError(f"The {what} file {path} was not found: check the path.") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PostureError(
            f"The {what} file {path} is not readable JSON: check its contents."
        ) from err
    if not isinstance(data, dict):
        raise PostureError(f"The {what} file {path} does not hold a JSON object.")
    return data


def _read_answers(path: str) -> Questionnaire:
    from posture.clinical import Questionnaire

    try:
        return Questionnaire.from_dict(_read_json(path, "answers", MAX_ANSWERS_BYTES))
    except (TypeError, ValueError) as err:
        raise PostureError(
            f"The answers file {path} does not match the questionnaire ({err}): "
            "use the keys and 'yes'/'no'/'unknown' values in docs/clinical.md."
        ) from err


def _stopped_by_user() -> int:
    out = _INTERRUPT.stderr or sys.stderr
    print(
        "posture: stopped by the user; finished files are kept and nothing half-written is left.",
        file=out,
        flush=True,
    )
    return EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    interrupt = _INTERRUPT
    interrupt.seen, interrupt.in_main = False, True
    before = signal.getsignal(signal.SIGINT)
    if before in (signal.default_int_handler, interrupt):  # where Ctrl-C would interrupt
        signal.signal(signal.SIGINT, interrupt)
    try:
        with _quiet_native_logs(not args.debug, until_exit=_AS_PROGRAM):
            return int(args.handler(args))
    except PostureError as err:
        print(f"posture: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return _stopped_by_user()
    except Exception as err:  # noqa: BLE001 - the user gets one sentence, --debug the rest
        if interrupt.seen:
            return _stopped_by_user()
        if args.debug:
            raise
        print(
            f"posture: internal error ({type(err).__name__}: {err}); nothing was written. "
            "Run again with --debug and report the output.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        interrupt.in_main = False
        if interrupt.stderr is not None and not _AS_PROGRAM:  # called in-process: give it back
            sys.stderr.close()
            sys.stderr, interrupt.stderr = interrupt.stderr, None
        if before in (signal.default_int_handler, interrupt):
            signal.signal(signal.SIGINT, before)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

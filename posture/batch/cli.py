"""``posture batch FOLDER_OR_MANIFEST.csv --out DIR [--workers N] [--engine local|ray] ...``.

Exit codes: 0 when every input is analysed (or was already), 1 when some failed
(they are listed in DIR/summary.csv with one sentence each), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from posture.batch.choices import ENGINES, MAX_FRAME_STRIDE, VIEW_CHOICES
from posture.errors import PostureError
from posture.progress import TqdmProgress

EXIT_OK = 0
EXIT_SOME_FAILED = 1


def register(subparsers: Any) -> None:
    """Add the ``batch`` command to the ``posture`` parser's subcommands."""
    p = subparsers.add_parser(
        "batch",
        help="analyse a folder of recordings (or a manifest CSV) into one folder per input",
        description=(
            "Analyse every video and image in a folder (recursively) or listed in a manifest "
            "CSV (column 'path', optional 'view' and 'subject'). Writes DIR/NAME/report.json "
            "and frames.csv per input and DIR/summary.csv; finished inputs are skipped when "
            "run again. Exit code 1 when some inputs failed."
        ),
    )
    p.set_defaults(handler=batch_command)
    p.add_argument("source", metavar="FOLDER_OR_MANIFEST", help="a folder or a manifest .csv")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument(
        "--workers", type=int, metavar="N", help="videos analysed at once (default: cores)"
    )
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: a process pool (default); ray: one Ray task per video")  # fmt: skip
    p.add_argument(
        "--address",
        metavar="RAY_ADDRESS",
        help="with --engine ray: a running cluster (e.g. 10.0.0.5:6379); default: a local one",
    )
    p.add_argument("--stride", type=int, default=1, metavar="N",
                   help="analyse every Nth frame of long recordings (default 1: all)")  # fmt: skip
    p.add_argument("--view", choices=VIEW_CHOICES, default="auto",
                   help="view of inputs without a manifest view (default: detect)")  # fmt: skip
    p.add_argument("--annotated", action="store_true", help="also write annotated videos/photos")
    p.add_argument("--calibration", metavar="NAME",
                   help="camera profile ('posture calibrate') applied to every input")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")


def batch_command(args: argparse.Namespace) -> int:
    """Handler of ``posture batch``: 0 all done, 1 some failed; PostureError for bad arguments."""
    from posture.batch.jobs import BatchSettings
    from posture.batch.runner import run_batch
    from posture.progress import NullProgress

    _check_args(args)
    settings = BatchSettings(
        frame_stride=args.stride, annotated=args.annotated, calibration=args.calibration
    )
    result = run_batch(
        args.source,
        args.out,
        settings,
        engine=args.engine,
        workers=args.workers,
        address=args.address,
        default_view=None if args.view == "auto" else args.view,
        progress=NullProgress() if args.quiet else TqdmProgress(unit="file", leave=True),
    )
    failed = result.failed
    if not args.quiet:
        print(
            f"{len(result.rows)} inputs: {result.count('ok')} analysed, "
            f"{result.count('skipped')} already done, {len(failed)} failed. "
            f"Summary: {result.summary_path}"
        )
    if failed:
        first = failed[0]
        print(
            f"posture: {len(failed)} of {len(result.rows)} inputs failed (listed in "
            f"{result.summary_path}); first: {first.path}: {first.error}",
            file=sys.stderr,
        )
        return EXIT_SOME_FAILED
    return EXIT_OK


def _check_args(args: argparse.Namespace) -> None:
    if args.workers is not None and args.workers < 1:
        raise PostureError(f"--workers {args.workers} is not a number of workers: give 1 or more.")
    if not 1 <= args.stride <= MAX_FRAME_STRIDE:
        raise PostureError(
            f"--stride {args.stride} is out of range: give 1 (every frame) to {MAX_FRAME_STRIDE}."
        )
    if args.address and args.engine != "ray":
        raise PostureError("--address is the address of a Ray cluster: add --engine ray.")
    if args.calibration:
        from posture.calibration.profiles import load_camera

        load_camera(args.calibration)  # a missing or damaged profile stops the batch here

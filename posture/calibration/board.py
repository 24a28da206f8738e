"""The printable ChArUco calibration board: its layout, and PDF/PNG pages at true scale.

A ChArUco board is a chessboard whose white squares carry ArUco markers: every
corner has an identity, so a board seen partly, tilted or at an angle still
gives matched 3D-2D points. One fixed layout is used everywhere (printing,
detection, benchmark), so nothing has to be configured twice.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posture.arrays import Array
from posture.errors import OutputError
from posture.report import check_writable

if TYPE_CHECKING:
    import cv2
    from fpdf import FPDF

# 7 x 5 squares of 30 mm (210 x 150 mm) fit A4 and US Letter in landscape with
# room for a scale bar and the instructions; 24 inner corners. 5x5-bit markers
# with 100 ids are robust to blur and far apart in code space (few false ids).
SQUARES_X = 7
SQUARES_Y = 5
DEFAULT_SQUARE_MM = 30.0
MARKER_FRACTION = 0.75  # marker side / square side
DICTIONARY = "DICT_5X5_100"

PAPERS_MM: dict[str, tuple[float, float]] = {  # landscape width x height
    "a4": (297.0, 210.0),
    "letter": (279.4, 215.9),
}
SCALE_BAR_MM = 100.0
PRINT_PX_PER_MM = 12.0  # ~305 dpi: marker cells are ~40 px, sharp on any printer
TOP_MARGIN_MM = 15.0  # clear of the unprintable edge of most printers
LINE_MM = 3.4


@dataclass(frozen=True)
class BoardLayout:
    """The board as printed; ``square_mm`` is the measured side of one chess square."""

    square_mm: float = DEFAULT_SQUARE_MM
    squares_x: int = SQUARES_X
    squares_y: int = SQUARES_Y

    @property
    def marker_mm(self) -> float:
        return self.square_mm * MARKER_FRACTION

    @property
    def size_mm(self) -> tuple[float, float]:
        return self.squares_x * self.square_mm, self.squares_y * self.square_mm

    def cv_board(self) -> cv2.aruco.CharucoBoard:
        """OpenCV's board, in metres (object points z = 0, x right, y down as printed)."""
        import cv2

        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY))
        return cv2.aruco.CharucoBoard(
            (self.squares_x, self.squares_y),
            self.square_mm / 1000.0,
            self.marker_mm / 1000.0,
            dictionary,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "dictionary": DICTIONARY,
            "squares_x": self.squares_x,
            "squares_y": self.squares_y,
            "square_mm": self.square_mm,
            "marker_mm": round(self.marker_mm, 3),
        }


def board_image(layout: BoardLayout, px_per_mm: float = PRINT_PX_PER_MM) -> Array:
    """The board alone (no margin), uint8 grey, ``px_per_mm`` pixels per millimetre."""
    w_mm, h_mm = layout.size_mm
    size_px = (int(round(w_mm * px_per_mm)), int(round(h_mm * px_per_mm)))
    return layout.cv_board().generateImage(size_px, marginSize=0, borderBits=1)


def instructions(layout: BoardLayout) -> list[str]:
    """Printing and use instructions, one line each (printed on the page and in the CLI)."""
    return [
        "Print this page at 100% ('Actual size'; switch off 'Fit to page'), on matte paper.",
        f"Check the print: the scale bar must be {SCALE_BAR_MM:.0f} mm and one black square "
        f"{layout.square_mm:.0f} mm.",
        "Measure one square with a ruler; if it differs, give the size with --square-mm.",
        "Glue or tape the sheet flat on stiff card: a bent board spoils the calibration.",
        "Lens: film the board from 10-15 angles (tilted 20-40 deg, near the image edges too).",
        "Level: hang the board flat and plumb on a wall or door frame, filling 1/4 of the picture.",
    ]


def write_board(
    path: str | os.PathLike[str],
    paper: str = "a4",
    square_mm: float | None = None,
    overwrite: bool = True,
) -> Path:
    """Write the board page as PDF (true scale) or PNG (300 dpi) to ``path``; with
    ``overwrite=False`` an existing ``path`` is refused (OutputError) and left as it is."""
    from posture.io.atomic import refuse_existing

    p = check_writable(path)
    if not overwrite:
        refuse_existing([p])
    ext = p.suffix.lower()
    if ext not in (".pdf", ".png"):
        raise OutputError(f"The board can be written as .pdf or .png, not '{ext or p.name}'.")
    layout = BoardLayout(square_mm or DEFAULT_SQUARE_MM)
    page_mm = PAPERS_MM[paper]
    if layout.square_mm > _max_square_mm(page_mm):
        raise OutputError(
            f"Squares of {layout.square_mm:g} mm do not fit on {paper.upper()} paper: "
            f"use at most {_max_square_mm(page_mm):.0f} mm."
        )
    data = _pdf_bytes(layout, paper) if ext == ".pdf" else _png_bytes(layout, paper)
    _write_bytes_atomic(p, data, overwrite)
    return p


def _max_square_mm(page_mm: tuple[float, float]) -> float:
    text_mm = 10 + LINE_MM * (len(instructions(BoardLayout())) + 1)
    return min(
        (page_mm[0] - 20) / SQUARES_X, (page_mm[1] - TOP_MARGIN_MM - 5 - text_mm) / SQUARES_Y
    )


def _board_origin_mm(layout: BoardLayout, page_mm: tuple[float, float]) -> tuple[float, float]:
    """Top-left corner of the board on the page: centred across, near the top."""
    return (page_mm[0] - layout.size_mm[0]) / 2, TOP_MARGIN_MM


def _pdf_bytes(layout: BoardLayout, paper: str) -> bytes:
    from fpdf import FPDF
    from PIL import Image

    page_mm = PAPERS_MM[paper]
    pdf = FPDF(orientation="L", unit="mm", format=page_mm[::-1])
    pdf.set_auto_page_break(False)
    pdf.add_page()
    x0, y0 = _board_origin_mm(layout, page_mm)
    w_mm, h_mm = layout.size_mm
    pdf.image(Image.fromarray(board_image(layout)), x=x0, y=y0, w=w_mm, h=h_mm)
    pdf.set_font("helvetica", size=7.5)
    _pdf_scale_bar(pdf, x0, y0 + h_mm + 5)
    pdf.set_xy(x0, y0 + h_mm + 8)
    for line in [_title(layout), *instructions(layout)]:
        pdf.cell(w_mm, LINE_MM, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(x0)
    return bytes(pdf.output())


def _title(layout: BoardLayout) -> str:
    return (
        f"posture calibration board: {DICTIONARY}, {SQUARES_X} x {SQUARES_Y} squares of "
        f"{layout.square_mm:g} mm. This side up."
    )


def _pdf_scale_bar(pdf: FPDF, x_mm: float, y_mm: float) -> None:
    pdf.set_line_width(0.3)
    pdf.line(x_mm, y_mm, x_mm + SCALE_BAR_MM, y_mm)
    for tick_mm in range(0, int(SCALE_BAR_MM) + 1, 10):
        tick_len = 2.0 if tick_mm % 50 else 3.0
        pdf.line(x_mm + tick_mm, y_mm - tick_len, x_mm + tick_mm, y_mm)
    pdf.set_xy(x_mm + SCALE_BAR_MM + 2, y_mm - 2.5)
    pdf.cell(30, 3, f"{SCALE_BAR_MM:.0f} mm")


def _png_bytes(layout: BoardLayout, paper: str) -> bytes:
    """The page as a 300 dpi PNG (dpi recorded in the file) with a scale bar and instructions."""
    import io

    import cv2
    from PIL import Image

    page_mm = PAPERS_MM[paper]
    dpi = 300
    px_per_mm = dpi / 25.4
    page = np.full(
        (int(round(page_mm[1] * px_per_mm)), int(round(page_mm[0] * px_per_mm))), 255, np.uint8
    )
    x0, y0 = (int(round(v * px_per_mm)) for v in _board_origin_mm(layout, page_mm))
    board = board_image(layout, px_per_mm)
    page[y0 : y0 + board.shape[0], x0 : x0 + board.shape[1]] = board
    bar_y = y0 + board.shape[0] + int(5 * px_per_mm)
    bar_px = int(round(SCALE_BAR_MM * px_per_mm))
    cv2.line(page, (x0, bar_y), (x0 + bar_px, bar_y), (0,), 3)
    for tick_mm in range(0, int(SCALE_BAR_MM) + 1, 10):
        x = x0 + int(round(tick_mm * px_per_mm))
        cv2.line(page, (x, bar_y - int(2 * px_per_mm)), (x, bar_y), (0,), 3)
    lines = [f"{SCALE_BAR_MM:.0f} mm scale bar. {_title(layout)}", *instructions(layout)]
    for i, line in enumerate(lines):
        y = bar_y + int((6 + LINE_MM * i) * px_per_mm)
        cv2.putText(page, line, (x0, y), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0,), 2, cv2.LINE_AA)
    buf = io.BytesIO()
    Image.fromarray(page).save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def _write_bytes_atomic(p: Path, data: bytes, overwrite: bool) -> None:
    from posture.io.atomic import OutputSet

    with OutputSet([p], overwrite=overwrite) as outputs:
        tmp = outputs.add_bytes(p, data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a printout is not
        outputs.commit()

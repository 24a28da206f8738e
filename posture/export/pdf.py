"""The PDF report (fpdf2): values with norms, charts, key frames, findings; disclaimer on
every page.

Text is set in DejaVu Sans (Latin, Greek, Cyrillic) with the bundled Noto Sans CJK
(``posture/export/fonts``) as a fallback for Chinese, Japanese and Korean. A character that
neither font has (most emoji) is printed as ``?`` and named in a last section, "Characters
not shown", and in a logged warning: never dropped silently.

Example:
    >>> data = pdf_bytes(report_dict)            # doctest: +SKIP
    >>> write_pdf(report_dict, "report.pdf")     # atomic: never a half-written file
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from posture.arrays import Array
from posture.clinical import DISCLAIMER, classify_cva, classify_rom, rom_norm
from posture.clinical.change import DEFAULT_MEASURED_ERROR_DEG, at_least_values
from posture.export.figures import angles_chart_png, rom_chart_png
from posture.measures import ROM_KEYS, posture_labels, rom_labels

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    class _ReportPdf(FPDF):
        """What ``_new_pdf`` makes: an FPDF that lists the characters no font has."""

        not_shown: dict[str, None]


Audience = Literal["patient", "clinician"]
_FONT_DIR = Path(__import__("matplotlib").get_data_path()) / "fonts" / "ttf"
# Bundled with the package (see fonts/SOURCE.md): loaded only for a text that needs it.
CJK_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansCJKsc-Regular-subset.otf"
_FALLBACK_FAMILY = "NotoSansCJK"
MISSING_MARK = "?"
_MAX_NAMED = 40  # characters named in the "not shown" section; the rest are counted
_LOG = logging.getLogger(__name__)


def _invisible(ch: str) -> bool:
    """A format character or variation selector (ZWJ, VS16, bidi marks): nothing to draw."""
    cp = ord(ch)
    return unicodedata.category(ch) == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def describe_characters(chars: Sequence[str]) -> str:
    """ASCII names for characters, e.g. ``U+1F916 ROBOT FACE``, for a note or a log line."""
    names = [f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed character')}" for c in chars]
    more = len(names) - _MAX_NAMED
    return "; ".join(names[:_MAX_NAMED]) + (f"; and {more} more" if more > 0 else "")


def _fmt(v: float | None) -> str:
    return "not measured" if v is None else f"{v:.1f}°"


def _new_pdf(footer_text: str) -> _ReportPdf:
    from fpdf import FPDF

    class _Pdf(FPDF):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Characters that no font here has, in order of appearance (printed as "?").
            self.not_shown: dict[str, None] = {}
            self._fallback_cmap: dict[int, Any] | None = None

        def _fallback_glyphs(self) -> dict[int, Any]:
            if self._fallback_cmap is None:
                try:
                    self.add_font(_FALLBACK_FAMILY, "", str(CJK_FONT))
                except Exception as err:  # noqa: BLE001 - e.g. an incomplete installation: the
                    # characters are then named instead of drawn
                    _LOG.warning("the PDF's CJK font cannot be read (%s): %s", CJK_FONT, err)
                    self._fallback_cmap = {}
                else:
                    self.set_fallback_fonts([_FALLBACK_FAMILY], exact_match=False)
                    # add_font of a font file makes a TTFFont
                    font = cast("TTFFont", self.fonts[_FALLBACK_FAMILY.lower()])
                    self._fallback_cmap = font.cmap
            return self._fallback_cmap

        def normalize_text(self, text: str) -> str:
            """Every text passes here (fpdf2): what no font has becomes a visible "?"."""
            if not self.is_ttf_font:
                return super().normalize_text(text)
            glyphs = cast("TTFFont", self.current_font).cmap  # is_ttf_font
            out = []
            for ch in text:
                if ch in "\r\n" or ord(ch) in glyphs:
                    out.append(ch)
                elif ch == "\t":
                    out.append(" ")
                elif _invisible(ch):
                    continue
                elif ord(ch) in self._fallback_glyphs():
                    out.append(ch)
                else:
                    self.not_shown.setdefault(ch)
                    out.append(MISSING_MARK)
            return super().normalize_text("".join(out))

        def footer(self) -> None:  # called by fpdf2 on every page
            self.set_y(-18)
            self.set_font("DejaVu", size=7)
            self.set_text_color(90, 90, 90)
            self.multi_cell(0, 3.5, footer_text, align="C")
            self.cell(0, 3.5, f"page {self.page_no()}/{{nb}}", align="C")

    pdf = _Pdf(format="A4")
    # DejaVu ships with matplotlib: Unicode text (°, ±) without a system font.
    pdf.add_font("DejaVu", "", str(_FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.alias_nb_pages()
    return cast("_ReportPdf", pdf)  # _Pdf, declared for the type checker as _ReportPdf


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 12)
    pdf.set_text_color(20, 40, 80)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", size=9)


def _table(pdf: FPDF, rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
    with pdf.table(col_widths=tuple(widths), text_align="LEFT", line_height=5) as table:
        for row in rows:
            r = table.row()
            for cell in row:
                r.cell(cell)


def _image(pdf: FPDF, png: bytes, width_mm: float) -> None:
    pdf.image(io.BytesIO(png), w=width_mm)


def _rgb_png(rgb: Array) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise ValueError("could not encode a key frame")
    return buf.tobytes()


def build_pdf(
    report: Mapping[str, Any],
    *,
    audience: Audience = "patient",
    age_years: int | None = None,
    sex: str | None = None,
    subject_id: str | None = None,
    notes: str = "",
    key_frames: Sequence[tuple[str, Array]] = (),
    created: datetime | None = None,
) -> _ReportPdf:
    """An ``FPDF`` document for a report dict (measurement contract v1).

    Its ``not_shown`` lists the characters that no font has (printed as ``?`` and named in
    the last section); empty when every character was drawn.
    """
    pdf = _new_pdf(DISCLAIMER)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 9, "posture: neck posture and range of motion", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    inp, quality, summary = report.get("input", {}), report.get("quality", {}), report["summary"]
    when = (created or datetime.now()).strftime("%Y-%m-%d %H:%M")
    who = f"Subject {subject_id} · " if subject_id else ""
    pdf.multi_cell(
        0, 5,
        f"{who}{when} · {inp.get('kind', '?')} {os.path.basename(str(inp.get('path', '')))} · "
        f"view: {report.get('view')} · measured in "
        f"{100 * float(quality.get('valid_frame_fraction') or 0):.0f}% of frames",
    )  # fmt: skip

    _heading(pdf, "Posture")
    rows: list[tuple[str, ...]] = [("Measure", "Value", "Reference")]
    for key, label in posture_labels(audience).items():
        v = summary.get(key)
        ref = ""
        if key == "cva_deg" and v is not None:
            c = classify_cva(v, DEFAULT_MEASURED_ERROR_DEG)
            ref = f"{c.label}; {c.norm.describe()}" if c else ""
        rows.append((label, _fmt(v), ref))
    _table(pdf, rows, (55, 25, 100))

    rom = summary.get("rom") or {}
    if inp.get("kind") == "video" or any(rom.get(k) is not None for k in ROM_KEYS):
        _heading(pdf, "Range of motion (from neutral)")
        rows = [("Direction", "Value", "Reference", "Label")]
        bounded = at_least_values(report)
        for k in ROM_KEYS:
            norm = rom_norm(k, age_years, sex)
            error_deg = DEFAULT_MEASURED_ERROR_DEG
            c = None if k in bounded else classify_rom(k, rom.get(k), age_years, sex, error_deg)
            rows.append(
                (
                    rom_labels(audience)[k],
                    f">= {_fmt(rom.get(k))}" if k in bounded else _fmt(rom.get(k)),
                    f"{norm.reference_deg:g}° (reduced < {norm.reduced_below_deg:g}°)",
                    "not judged: past the camera" if k in bounded else (c.label if c else ""),
                )
            )
        _table(pdf, rows, (55, 25, 60, 40))
        chart = rom_chart_png(report, age_years, sex, audience)
        if chart:
            _image(pdf, chart, 175)
        angles = angles_chart_png(report, audience)
        if angles:
            _heading(pdf, "Angles over time (▼ = peak of a movement)")
            _image(pdf, angles, 175)

    findings = report.get("findings") or []
    if findings:
        _heading(pdf, "Findings")
        text_key = "patient_text" if audience == "patient" else "clinician_text"
        for f in findings:
            tag = {"emergency": "EMERGENCY", "attention": "Attention"}.get(f["severity"], "Note")
            pdf.set_font("DejaVu", "B", 9)
            pdf.multi_cell(0, 5, tag, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", size=9)
            pdf.multi_cell(0, 5, f[text_key], new_x="LMARGIN", new_y="NEXT")
            if audience == "clinician" and f.get("sources"):
                pdf.set_font("DejaVu", size=7)
                pdf.multi_cell(0, 4, "Sources: " + "; ".join(f["sources"]),
                               new_x="LMARGIN", new_y="NEXT")  # fmt: skip
                pdf.set_font("DejaVu", size=9)
            pdf.ln(1)

    warnings = quality.get("warnings") or []
    if warnings:
        _heading(pdf, "Recording quality")
        for w in warnings:
            pdf.multi_cell(0, 5, f"• {w}", new_x="LMARGIN", new_y="NEXT")

    if notes.strip():
        _heading(pdf, "Notes")
        pdf.multi_cell(0, 5, notes.strip(), new_x="LMARGIN", new_y="NEXT")

    if key_frames:
        pdf.add_page()
        _heading(pdf, "Key frames")
        col_w, gap = 88.0, 4.0
        for i, (label, rgb) in enumerate(key_frames):
            h_mm = col_w * rgb.shape[0] / rgb.shape[1]
            if i % 2 == 0:
                if pdf.get_y() + h_mm + 8 > pdf.h - 24:
                    pdf.add_page()
                y0 = pdf.get_y()
            x = pdf.l_margin + (i % 2) * (col_w + gap)
            pdf.image(io.BytesIO(_rgb_png(rgb)), x=x, y=y0, w=col_w)
            pdf.set_xy(x, y0 + h_mm + 0.5)
            pdf.cell(col_w, 5, label)
            if i % 2 == 1 or i == len(key_frames) - 1:
                pdf.set_xy(pdf.l_margin, y0 + h_mm + 7)

    if pdf.not_shown:
        missing = describe_characters(list(pdf.not_shown))
        _heading(pdf, "Characters not shown")
        pdf.multi_cell(
            0, 5, f"No font in this report has these characters; each is printed as "
            f"{MISSING_MARK}: {missing}.", new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
        _LOG.warning("PDF report: characters printed as %s: %s", MISSING_MARK, missing)
    return pdf


def pdf_bytes(report: Mapping[str, Any], **kwargs: Any) -> bytes:
    """The PDF as bytes (for a download button); keyword arguments as :func:`build_pdf`."""
    return bytes(build_pdf(report, **kwargs).output())


def write_pdf(report: Mapping[str, Any], path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Write the PDF through a temporary file and rename: never a half-written file."""
    data = pdf_bytes(report, **kwargs)
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

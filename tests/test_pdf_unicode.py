"""The PDF prints names and notes in any script the bundled fonts cover, and names what
it cannot print instead of dropping it."""

from __future__ import annotations

import logging

import pypdfium2
import pytest

from posture.export import pdf_bytes
from posture.export.pdf import CJK_FONT, build_pdf, describe_characters
from tests.test_export import synthetic_report

NAME = "李小龍 Ωμέγα Жуков"
NOTES = "김민준 said: 首が痛い. Ωμέγα Жуков 🦄 again 🦄, 👍🏽 ok"


def _text(data: bytes) -> str:
    """The PDF's text, line breaks and runs of spaces as one space."""
    doc = pypdfium2.PdfDocument(data)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    return " ".join(text.split())


def test_the_cjk_font_ships_with_its_licence_and_source():
    folder = CJK_FONT.parent
    assert CJK_FONT.is_file() and CJK_FONT.stat().st_size < 5_000_000  # no tracked file over 5 MB
    assert "SIL OPEN FONT LICENSE Version 1.1" in (folder / "OFL.txt").read_text()
    source = (folder / "SOURCE.md").read_text()
    assert CJK_FONT.name in source and "fonts-noto-cjk" in source


def test_cjk_greek_and_cyrillic_are_printed_and_an_emoji_is_named(caplog):
    with caplog.at_level(logging.WARNING, logger="posture.export.pdf"):
        pdf = build_pdf(synthetic_report(), audience="clinician", subject_id=NAME, notes=NOTES)
        text = _text(bytes(pdf.output()))
    for word in ("李小龍", "Ωμέγα", "Жуков", "김민준", "首が痛い"):
        assert word in text
    assert "🦄" not in text and "? again ?" in text  # a visible mark where it was
    assert "Characters not shown" in text
    assert "U+1F984 UNICORN FACE" in text
    assert "U+1F44D THUMBS UP SIGN" in text and "U+1F3FD" in text
    assert list(pdf.not_shown) == ["🦄", "👍", "🏽"]  # each once, in order
    assert "U+1F984 UNICORN FACE" in caplog.text


def test_a_report_in_latin_script_names_nothing_and_loads_no_cjk_font():
    pdf = build_pdf(synthetic_report(), subject_id="P-007", notes="Müller, café, 10° ±2")
    text = _text(bytes(pdf.output()))
    assert "Müller, café, 10° ±2" in text and "Characters not shown" not in text
    assert not pdf.not_shown and "notosanscjk" not in pdf.fonts


def test_a_file_name_in_cjk_is_printed():
    report = synthetic_report()
    report["input"]["path"] = "/videos/患者-01.mp4"
    assert "患者-01.mp4" in _text(pdf_bytes(report))


def test_invisible_joiners_and_selectors_are_not_named():
    pdf = build_pdf(synthetic_report(), notes="a\u200db\ufe0fc\u2066d\u2069\r\ne\tf")
    bytes(pdf.output())
    assert not pdf.not_shown


def test_without_the_cjk_font_the_characters_are_named(monkeypatch, tmp_path):
    from posture.export import pdf as pdf_mod

    monkeypatch.setattr(pdf_mod, "CJK_FONT", tmp_path / "missing.otf")
    pdf = build_pdf(synthetic_report(), subject_id="李")
    assert "U+674E CJK UNIFIED IDEOGRAPH-674E" in _text(bytes(pdf.output()))


def test_describe_characters_counts_past_the_limit():
    many = [chr(0x1F600 + i) for i in range(45)]
    text = describe_characters(many)
    assert text.startswith("U+1F600 GRINNING FACE; ") and text.endswith("; and 5 more")


@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_both_audiences_build_with_cjk(audience):
    data = pdf_bytes(synthetic_report(), audience=audience, subject_id="李")
    assert data.startswith(b"%PDF-")
    text = _text(data)
    assert "Subject 李 ·" in text and "Characters not shown" not in text  # printed, not named

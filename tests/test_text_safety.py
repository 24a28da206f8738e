"""Text from users and files stays text: CSV cells, Streamlit markdown, HTML."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from posture.io.text_safety import csv_safe_cell, escape_html, escape_markdown

HOSTILE = (
    '=HYPERLINK("http://x","y")',
    "**bold**",
    "<img src=x onerror=alert(1)>",
    "[link](javascript:alert(1))",
    "$x$",
)


# -- CSV ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x","y")',
        "+SUM(A1:A9)",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",  # leading spaces: some spreadsheets drop them
        "\uff1d1+1",  # full-width equals sign
    ],
)
def test_a_formula_becomes_text(value):
    assert csv_safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [-12.5, 0, 3, 0.25, -0.0, True, "-12.5", "+3", "-1e-3", "P01"])
def test_numbers_and_plain_text_are_kept(value):
    assert csv_safe_cell(value) == value
    assert type(csv_safe_cell(value)) is type(value)


def test_none_is_an_empty_cell_and_an_empty_string_stays_empty():
    assert csv_safe_cell(None) == "" and csv_safe_cell("") == ""


def test_a_negative_angle_is_still_a_number_in_the_file(tmp_path):
    path = tmp_path / "x.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow([csv_safe_cell(v) for v in (-12.5, "=1+1", None, "-3")])
    assert path.read_text(encoding="utf-8").strip() == "-12.5,'=1+1,,-3"


def test_batch_summary_writes_manifest_values_as_text(tmp_path):
    from posture.batch.summary import SUMMARY_COLUMNS, SummaryRow, write_summary

    row = SummaryRow(
        path='=HYPERLINK("http://x","y").mp4',
        subject="@P01",
        status="failed",
        error="-1 frames",
        values={"head_tilt_deg": -12.5, "view": "front"},
    )
    out = tmp_path / "summary.csv"
    write_summary(out, [row])
    with open(out, encoding="utf-8", newline="") as fh:
        (rec,) = csv.DictReader(fh)
    assert list(rec) == list(SUMMARY_COLUMNS)
    assert rec["path"] == '\'=HYPERLINK("http://x","y").mp4'
    assert rec["subject"] == "'@P01" and rec["error"] == "'-1 frames"
    assert rec["head_tilt_deg"] == "-12.5" and rec["view"] == "front"
    assert row.cells()[SUMMARY_COLUMNS.index("head_tilt_deg")] == -12.5  # still a float


def test_report_csv_cells_are_safe(tmp_path):
    from posture.report import FrameRow, write_csv
    from tests.reports import tiny_report

    # A hostile cell: the model types views, but nothing at run time stops a bad string.
    frame = FrameRow(t=0.0, valid=True, view="=cmd|'/C calc'!A0", reference="trunk",  # type: ignore[arg-type]
                     head_tilt_deg=-4.25)  # fmt: skip
    report = tiny_report(frames=(frame,))
    path = tmp_path / "frames.csv"
    write_csv(report, path)
    with open(path, encoding="utf-8", newline="") as fh:
        (rec,) = csv.DictReader(fh)
    assert rec["view"] == "'=cmd|'/C calc'!A0"
    assert rec["head_tilt_deg"] == "-4.25" and rec["cva_deg"] == ""


# -- markdown -------------------------------------------------------------------------

# Unescaped markdown specials: a character of this set not preceded by a backslash.
_UNESCAPED = re.compile(r"(?<!\\)[*_`\[\]~|#$<>]")


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_specials_are_escaped(text):
    shown = escape_markdown(text)
    assert not _UNESCAPED.search(shown.replace("\\\\", "")), shown
    # What the reader sees is the text itself: undo the escapes and the entities.
    unescaped = re.sub(r"\\(.)", r"\1", shown)
    assert unescaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_markdown_examples():
    assert escape_markdown("**bold**") == r"\*\*bold\*\*"
    assert escape_markdown("$x$") == r"\$x\$"
    assert escape_markdown("[link](javascript:alert(1))") == r"\[link\](javascript\:alert(1))"
    assert escape_markdown("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape_markdown("a & b") == "a &amp; b"
    assert escape_markdown("&lt;b&gt;") == "&amp;lt;b&amp;gt;"  # an entity stays as typed
    assert escape_markdown(":red[x] and :material/home:") == r"\:red\[x\] and \:material/home:"
    assert escape_markdown("C:\\video") == r"C\:\\video"


def test_plain_text_is_unchanged():
    for text in ("P-042", "Age band 50-69", "clip 2.mp4", "Note: fine (really).", "李小龍"):
        assert escape_markdown(text) == text


def test_no_block_can_start_inside_the_text():
    assert escape_markdown("P01\n# heading\n- item") == r"P01 \# heading - item"
    assert escape_markdown("a\r\n===") == "a ==="
    assert escape_markdown("# h") == r"\# h"
    assert escape_markdown("- item") == r"\- item"
    assert escape_markdown("+ item") == r"\+ item"
    assert escape_markdown("= x") == r"\= x"
    assert escape_markdown("12. x") == r"12\. x"
    assert escape_markdown("3) x") == r"3\) x"
    assert escape_markdown("> quote") == "&gt; quote"


def test_non_strings_are_shown_as_their_text():
    assert escape_markdown(3) == "3"
    assert escape_markdown(ValueError("bad *id*")) == r"bad \*id\*"
    assert escape_markdown(Path("/tmp/a_b")) == r"/tmp/a\_b"


def test_escape_html():
    assert escape_html("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape_html("\"a\" & 'b'") == "&quot;a&quot; &amp; &#x27;b&#x27;"
    assert escape_html(5) == "5"


# -- the dashboard --------------------------------------------------------------------


def test_live_status_escapes_a_profile_name_and_a_problem():
    pytest.importorskip("streamlit")
    from app.webcam import _status_md
    from posture.live import LiveStatus

    def status(**kw):
        base = dict(step="neutral", step_index=1, n_steps=8, prompt="Hold still",
                    quality_hint=None, peaks_deg={}, frames=10, fps=20.0, done=False)  # fmt: skip
        return type("P", (), {"status": lambda self: LiveStatus(**{**base, **kw})})()

    md = _status_md(status(calibration="<img src=x onerror=alert(1)>"))
    assert "<img" not in md and "Camera calibration applied: &lt;img src=x" in md
    assert "<small>" in md  # the page's own tag stays
    md = _status_md(status(calibration_problem="The camera profile '**[x](javascript:1)**' ..."))
    assert r"'\*\*\[x\](javascript\:1)\*\*'" in md and "**[x]" not in md


def test_a_hostile_subject_id_is_shown_as_text(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("POSTURE_DB", str(tmp_path / "history.sqlite3"))
    app = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60).run()
    from tests.test_app import _answer_red_flags

    at = _answer_red_flags(at, set())  # the red-flag screen comes first
    at.sidebar.radio(key="mode").set_value("Clinic").run()
    sid = "**P1**<img src=x onerror=alert(1)>$x$"
    at.text_input(key="cl_new_id").input(sid)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="cl_subject").value == sid  # stored as typed
    at.sidebar.radio(key="mode").set_value("History").run()
    shown = escape_markdown(sid)
    assert shown in at.warning[0].value and sid not in at.warning[0].value
    assert at.checkbox(key="hi_sure").label == f"Yes, delete {shown} permanently"
    at.checkbox(key="hi_sure").check().run()
    next(b for b in at.button if b.label == "Delete subject").click().run()
    assert not at.exception, at.exception
    assert any("No subjects yet" in i.value for i in at.info)

"""The dashboard in a real browser (Debian chromium + Playwright) against `streamlit run`.

Screenshots of every step go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from posture.clinical import QUESTIONS
from tests.e2e.conftest import ROOT, launch
from tests.e2e.helpers import answer_radio, choose_mode, pass_safety_screen, shot, upload, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SAMPLES = ROOT / "sample_videos"
RED_FLAGS = [q for q in QUESTIONS if q.group == "red_flag"]
MODES = ["Analyse a recording", "Self-check", "Clinic", "History"]


def _download(page, label: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=label).click()
    dl = info.value
    path = folder / dl.suggested_filename
    dl.save_as(str(path))
    return path


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def _render_pdf_page(pdf: Path, png: Path) -> None:
    """First PDF page as an image for the artifacts, when pypdfium2 is installed."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return
    doc = pdfium.PdfDocument(str(pdf))
    doc[0].render(scale=1.5).to_pil().save(png)
    doc.close()


def test_upload_a_sample_video_gives_results_and_downloads(
    page, artifacts, tmp_path, rom_full_range_report
):
    """Its own analysis on purpose (the dashboard server's); the report downloaded must
    carry the library's numbers for this clip (``rom_full_range_report``: 12 s, a full
    turn each way)."""
    pass_safety_screen(page)
    shot(page, artifacts, "01-upload-start")
    upload(page, SAMPLES / "rom_full_range.mp4")
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_role("heading", name="Results").wait_for(timeout=400_000)
    wait_idle(page)
    for label in ("Report (JSON)", "Per-frame values (CSV)", "Annotated video (MP4)", "PDF report"):
        page.get_by_role("button", name=label).wait_for(timeout=30_000)
    assert page.get_by_text("Turning your head to the left").first.is_visible()
    metrics = page.locator('[data-testid="stMetric"]')  # plain words for patients
    assert metrics.filter(has_text="Craniovertebral").count() == 0
    assert metrics.filter(has_text="Lateral flexion").count() == 0
    assert page.get_by_text("Key frames").first.is_visible()
    # Every image (key frames) actually loaded from the server's media endpoint.
    page.wait_for_function(
        "() => [...document.images].filter(i => i.src.includes('/media/'))"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=30_000,
    )
    shot(page, artifacts, "02-upload-results")

    report = json.loads(_download(page, "Report (JSON)", tmp_path).read_text())
    assert report["schema_version"] == 1
    assert report["summary"] == rom_full_range_report["summary"]
    expected_times = [f["t"] for f in rom_full_range_report["frames"]]
    assert [f["t"] for f in report["frames"]] == expected_times
    assert report["input"]["path"] == "rom_full_range.mp4"
    csv_text = _download(page, "Per-frame values (CSV)", tmp_path).read_text()
    assert csv_text.startswith("t,valid,view,reference")
    video = _download(page, "Annotated video (MP4)", tmp_path).read_bytes()
    assert video[4:8] == b"ftyp"
    pdf = _download(page, "PDF report", tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and _pdf_pages(data) >= 2
    _render_pdf_page(pdf, artifacts / "03-report-pdf-page1.png")
    # The result links to the education page.
    page.get_by_role("button", name="Read more").click()
    page.get_by_role("heading", name="When to get help").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_text("referred pain").first.is_visible()
    shot(page, artifacts, "12-education")


def test_wrong_file_type_is_refused_and_the_page_keeps_working(page, artifacts, tmp_path):
    pass_safety_screen(page)
    bad = tmp_path / "notes.txt"
    bad.write_text("not a video")
    upload(page, bad)
    page.wait_for_timeout(1500)
    # Streamlit refuses the type in the browser; the page stays usable.
    assert page.get_by_role("button", name="Analyse", exact=True).count() == 0
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    upload(page, corrupt)
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.locator('[data-testid="stAlertContentError"]').first.wait_for(timeout=60_000)
    shot(page, artifacts, "04-upload-corrupt-file")
    choose_mode(page, "Self-check")  # still working
    first_symptom = next(q for q in QUESTIONS if q.group == "symptom")
    page.get_by_text(first_symptom.text).wait_for(timeout=30_000)


def test_the_red_flag_screen_is_the_first_screen_of_every_mode(
    playwright_instance, server, artifacts
):
    """A new browser session, in each mode: the safety questions and nothing else."""
    browser = launch(playwright_instance)
    try:
        for i, mode in enumerate(MODES):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(server)
            page.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
            choose_mode(page, mode, "Safety questions")
            page.get_by_text(RED_FLAGS[-1].text).wait_for(timeout=30_000)
            wait_idle(page)
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert all(q.text in main for q in RED_FLAGS), mode
            for later in ("Analyse sample", "Results", "Pseudonymous id", "Subject", "START"):
                assert later not in main, (mode, later)
            shot(page, artifacts, f"00-first-screen-{i + 1}-{mode.lower().replace(' ', '-')}")
            context.close()
    finally:
        browser.close()


def test_red_flag_answer_stops_every_mode(page, artifacts):
    emergency = next(q for q in RED_FLAGS if q.id == "numbness_or_weakness")
    for q in RED_FLAGS:
        answer_radio(page, q.text, "Yes" if q is emergency else "No")
    shot(page, artifacts, "05-red-flag-screen-answered")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Get emergency care now").wait_for(timeout=60_000)
    wait_idle(page)
    shot(page, artifacts, "06-red-flag-stop")
    for mode in MODES:  # no mode gets past it in this session, and nothing can be redone
        choose_mode(page, mode, "Get emergency care now")
        wait_idle(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "9-1-1" in main and "numbness" in main, mode
        assert "Continue" not in main and "Start over" not in main and "START" not in main
        assert page.locator('[data-testid="stMain"] button').count() == 0, mode


def test_clinic_side_photo_saved_to_history(page, artifacts, tmp_path, server_db):
    """What is saved is what was measured: the history's values are the report's, the
    report the history page gives back is the one shown, and both match an analysis of
    the same photo here; the red-flag answers are saved with the session."""
    pass_safety_screen(page, yes=("blood_thinning_medicine",))
    import av

    from posture.pipeline import analyze
    from posture.store import Store

    with av.open(str(SAMPLES / "sitting_side.mp4")) as c:
        frame = next(c.decode(video=0))
    photo = tmp_path / "side.png"
    frame.to_image().save(photo)
    choose_mode(page, "Clinic")
    page.get_by_label("Pseudonymous id (never a name)").fill("P-001")
    page.get_by_role("button", name="Add subject").click()
    page.get_by_text("Age band not given").wait_for(timeout=30_000)
    upload(page, photo)
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_text("Exact values with norms").wait_for(timeout=120_000)
    page.get_by_role("button", name="Save to history").click()
    page.get_by_text("Saved to history").wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, artifacts, "07-clinic-results")
    shown = json.loads(_download(page, "Report (JSON)", tmp_path / "shown").read_text())
    choose_mode(page, "History")
    page.get_by_text("Delete this subject").wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, artifacts, "08-history")
    given_back = json.loads(
        _download(page, "Download this session's report (JSON)", tmp_path / "back").read_text()
    )

    summary = shown["summary"]
    expected = {k: summary[k] for k in ("cva_deg", "head_tilt_deg", "shoulder_tilt_deg")}
    expected.update(summary["rom"])  # the six directions
    store = Store(server_db)  # the server's own history file
    try:
        rows = store.history("P-001")
        saved_report = store.report(rows[0]["session_id"]) if rows else None
        saved_answers = store.answers(rows[0]["session_id"]) if rows else {}
    finally:
        store.close()
    assert len(rows) == 1 and rows[0]["mode"] == "clinic"
    assert saved_answers["blood_thinning_medicine"] == "yes"  # the screen's answers
    assert saved_answers["sudden_severe_headache"] == "no" and len(saved_answers) == len(RED_FLAGS)
    assert shown["questionnaire"]["blood_thinning_medicine"] == "yes"
    assert shown["findings"][0]["id"] == "red_flag.tell_therapist"  # first, before the values
    assert {k: rows[0][k] for k in expected} == expected
    assert saved_report == given_back
    assert given_back["summary"] == summary and given_back["frames"] == shown["frames"]
    assert given_back["input"]["path"] == "side.png"
    # A side photo: a CVA (61.6 here; true 57.3), no tilts (a front-view measure), no range
    # of motion; the numbers are this photo's, as analysed in this process.
    here = analyze(photo).to_dict()["summary"]
    assert shown["view"] == "left"
    assert expected["cva_deg"] is not None and expected["cva_deg"] == here["cva_deg"]
    assert expected["head_tilt_deg"] is None and here["head_tilt_deg"] is None
    assert expected["shoulder_tilt_deg"] is None and here["shoulder_tilt_deg"] is None
    assert len(summary["rom"]) == 6 and all(v is None for v in summary["rom"].values())


def _self_check_with_a_side_photo_named(page, photo: Path, record: str) -> None:
    """Symptoms skipped, a side photo measured, the result saved under ``record``."""
    page.get_by_role("button", name="Continue to the measurement").click()
    page.locator('[data-testid="stRadio"] label').filter(
        has_text="Upload a recording instead"
    ).click()
    page.get_by_text("Bundled sample").first.wait_for(timeout=60_000)  # that rerun is done
    wait_idle(page)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Side photo")
    measured = page.get_by_text("Side photo measured")
    for _ in range(3):  # a file set while the page reruns can be dropped: set it again
        uploader.locator('input[type="file"]').set_input_files(str(photo))
        try:
            measured.wait_for(timeout=60_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; retried
            wait_idle(page)
    measured.wait_for(timeout=60_000)
    page.get_by_role("button", name="Show my results").click()
    page.get_by_role("heading", name="Results").wait_for(timeout=60_000)
    page.get_by_label("A name for your record (a nickname is fine)").fill(record)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save this self-check").click()
    page.get_by_text("Saved to your record").wait_for(timeout=30_000)


def test_self_checks_saved_on_this_computer_give_a_trend(page, artifacts, tmp_path, server_db):
    from posture.store import Store
    from tests.e2e.helpers import sample_still

    pass_safety_screen(page)
    choose_mode(page, "Self-check")
    record = "me-trend-test"
    first = sample_still("sitting_side.mp4", tmp_path / "first.png", 0)
    second = sample_still("sitting_side.mp4", tmp_path / "second.png", 300)
    page.get_by_role("button", name="Continue to the measurement").wait_for(timeout=30_000)
    _self_check_with_a_side_photo_named(page, first, record)
    page.get_by_role("button", name="Start a new self-check").click()
    _self_check_with_a_side_photo_named(page, second, record)
    page.get_by_text("Your trend").wait_for(timeout=30_000)
    page.get_by_text("Since your last saved self-check").wait_for(timeout=30_000)
    wait_idle(page)
    shot(page, artifacts, "13-selfcheck-trend")
    store = Store(server_db)
    try:
        rows = store.history(record)
    finally:
        store.close()
    assert [r["mode"] for r in rows] == ["self-check", "self-check"]
    assert all(r["cva_deg"] is not None for r in rows)  # each photo's own value

"""Live soak (issue #15): a long live session in chromium with a fake camera; the
dashboard server's memory at the start and the end, and every minute in between.

The dashboard runs on a free localhost port with its own database; chromium (Debian's,
through Playwright) plays a 640x480 30 fps clip of the bundled sample as its camera,
looped: Self-check -> red flags "No" -> Continue -> START. With the step time-out set long
(600 s) the protocol takes neutral and rotation left, then waits; it keeps at most
``posture.live.MAX_LIVE_FRAMES`` measurements and then stops keeping any, while frames are
still processed and sent back for the rest of the session: the test of "what a session
keeps per frame is bounded".

Memory is the server process's resident set (VmRSS, /proc). "start" is taken once the
first minute of frames has been processed (models loaded, buffers warm). Target: growth
from start to end < 50 MB.

Usage: python benchmarks/live_soak.py [--minutes 30] [--every-s 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import live_speed as ls  # noqa: E402

TARGET_GROWTH_MB = 50.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_live(page) -> None:
    from tests.e2e.helpers import answer_radio, choose_mode

    page.get_by_text("posture: neck posture and range of motion").wait_for(timeout=60_000)
    choose_mode(page, "Self-check")
    for q in ls._red_flag_questions():
        answer_radio(page, q, "No")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue to the measurement").click()
    frame = page.frame_locator('iframe[title*="webrtc"]').first
    frame.get_by_role("button", name="START").click(timeout=60_000)


def _frames(page) -> tuple[int, float] | None:
    try:
        return ls._status(page)
    except Exception:  # noqa: BLE001 - the page re-rendering
        return None


def run(minutes: float, every_s: float) -> int:
    from playwright.sync_api import sync_playwright

    from tests.e2e.fake_camera import fake_camera_args, make_y4m
    from tests.e2e.helpers import CHROMIUM, CHROMIUM_ARGS

    rows: list[tuple[float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="live_soak_") as tmp_name:
        tmp = Path(tmp_name)
        clip = make_y4m(ls.SAMPLE, tmp / "camera.y4m", ls.SIZE_PX, ls.CAMERA_FPS,
                        ls.CLIP_MAX_S, ls.CLIP_HOLD_S)  # fmt: skip
        with ls.dashboard(None, tmp) as (url, server), sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*CHROMIUM_ARGS, *fake_camera_args(clip)],
            )
            page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
            page.goto(url)
            print(f"server pid {server.pid}, before the session: {rss_mb(server.pid):.0f} MB")
            _start_live(page)
            t0 = time.monotonic()
            end = t0 + minutes * 60
            next_sample = t0 + 60.0
            while time.monotonic() < end:
                page.wait_for_timeout(1000)
                now = time.monotonic()
                if now >= next_sample or now >= end:
                    status = _frames(page)
                    shown = "-" if status is None else f"{status[0]} kept, {status[1]:.0f}/s"
                    body = page.locator("body").inner_text()
                    if "Stopped:" in body:
                        shown += ", stopped keeping frames"
                    rows.append(((now - t0) / 60, rss_mb(server.pid), shown))
                    print(f"  {rows[-1][0]:5.1f} min  {rows[-1][1]:7.1f} MB  {shown}", flush=True)
                    next_sample += every_s
            browser.close()
    if len(rows) < 2:
        print("too short: need at least two samples")
        return 1
    start_mb, end_mb = rows[0][1], rows[-1][1]
    growth = end_mb - start_mb
    peak = max(r[1] for r in rows)
    print()
    print("| minutes | server RSS start (1 min) | end | growth | peak | target |")
    print("|---|---|---|---|---|---|")
    verdict = "met" if growth < TARGET_GROWTH_MB else "MISSED"
    print(f"| {rows[-1][0]:.1f} | {start_mb:.1f} MB | {end_mb:.1f} MB | {growth:+.1f} MB | "
          f"{peak:.1f} MB | < {TARGET_GROWTH_MB:.0f} MB: {verdict} |")  # fmt: skip
    return 0 if growth < TARGET_GROWTH_MB else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every-s", type=float, default=60.0)
    args = parser.parse_args()
    sys.exit(run(args.minutes, args.every_s))


if __name__ == "__main__":
    main()

"""Small helpers for the real-browser tests and benchmarks/live_speed.py: Debian
chromium's settings, a `streamlit run` server on a free port, Playwright page helpers."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STREAMLIT_ARGS = [
    "--server.address", "127.0.0.1", "--server.headless", "true",
    "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_server(
    cmd: list[str], cwd: Path, env: dict[str, str], port: int, log_path: Path
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``cmd`` (a `streamlit run` on ``port``) until its health check answers; yield
    (url, process); stop it afterwards. RuntimeError, with the log, if it does not start."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start: {log_path.read_text()}")
                time.sleep(0.5)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def choose_mode(page, mode: str, heading_text: str | None = None) -> None:
    """Pick ``mode`` in the sidebar and wait for its page: the heading ``heading_text``
    (the mode's own name unless given: "Safety questions" before the red-flag screen)."""
    radio = page.locator('[data-testid="stSidebar"] [data-testid="stRadio"] label')
    heading = page.get_by_role("heading", name=heading_text or mode, exact=True).first
    for _ in range(6):  # a click before the page is fully live can be lost: click again
        radio.filter(has_text=mode).click()
        try:
            heading.wait_for(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; retried
            continue
    heading.wait_for(timeout=10_000)


def answer_radio(page, question: str, answer: str) -> None:
    """Click the option ``answer`` of the radio ``question``. The option's whole text must
    match: a substring would also find the question's own label ("not" holds "No")."""
    group = page.locator('[data-testid="stRadio"]').filter(has_text=question)
    option = re.compile(rf"^\s*{re.escape(answer)}\s*$")
    group.locator('[role="radiogroup"] label').filter(has_text=option).first.click()


def shot(page, folder: Path, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport first."""
    size = page.viewport_size
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], '
        "section, main')].map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, 600), 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Until Streamlit has finished running the script (no 'Running...' status widget)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout_ms)


def upload(page, path: Path) -> None:
    """Choose 'Upload a video or photo' and put a file into the uploader."""
    page.locator('[data-testid="stRadio"] label').filter(has_text="Upload a video or photo").click()
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.wait_for(state="attached", timeout=30_000)
    uploader.set_input_files(str(path))


SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"


def sample_still(video: str, out: Path, index: int = 0) -> Path:
    """Frame ``index`` of a bundled sample video, saved as the image ``out``."""
    import av

    with av.open(str(SAMPLES / video)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i == index:
                frame.to_image().save(out)
                return out
    raise AssertionError(f"{video} has fewer than {index + 1} frames")


def red_flag_questions() -> list:
    from posture.clinical.red_flags import RED_FLAG_QUESTIONS

    return list(RED_FLAG_QUESTIONS)


def pass_safety_screen(page, yes: tuple[str, ...] = ()) -> None:
    """Answer the red-flag screen (every mode's first page): 'Yes' to the question ids in
    ``yes``, 'No' to the rest, then Continue; waits until the screen has gone."""
    page.get_by_role("heading", name="Safety questions").wait_for(timeout=60_000)
    for q in red_flag_questions():
        answer_radio(page, q.text, "Yes" if q.id in yes else "No")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Safety questions").wait_for(state="detached", timeout=60_000)

"""Small Playwright helpers for Streamlit pages."""

from __future__ import annotations

from pathlib import Path


def choose_mode(page, mode: str) -> None:
    radio = page.locator('[data-testid="stSidebar"] [data-testid="stRadio"] label')
    heading = page.get_by_role("heading", name=mode, exact=True).first
    for _ in range(6):  # a click before the page is fully live can be lost: click again
        radio.filter(has_text=mode).click()
        try:
            heading.wait_for(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; retried
            continue
    heading.wait_for(timeout=10_000)


def answer_radio(page, question: str, answer: str) -> None:
    group = page.locator('[data-testid="stRadio"]').filter(has_text=question)
    group.locator("label").filter(has_text=answer).first.click()


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

"""Progress reporting that works in a terminal, in Streamlit, or not at all."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress from long library calls; the UI decides how to show it."""

    def start(self, total: int | None, description: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """Progress sink for tests and library use: does nothing."""

    def start(self, total: int | None, description: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class TqdmProgress:
    """Terminal progress bar on stderr (``unit``: what is counted, e.g. frames or files)."""

    def __init__(self, unit: str = "frame", leave: bool = False) -> None:
        self._bar = None
        self._unit = unit
        self._leave = leave

    def start(self, total: int | None, description: str) -> None:
        from tqdm import tqdm

        # disable=None: no bar when stderr is not a terminal (pipes, CI, tests).
        self._bar = tqdm(
            total=total, desc=description, unit=self._unit, leave=self._leave, disable=None
        )

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

"""Reading a small text file without letting a huge one (or ``/dev/zero``) fill memory."""

from __future__ import annotations

import os
from pathlib import Path

# Largest files the tool reads whole (bytes): a questionnaire's answers and a calibration
# profile are a few kB, a batch manifest lists at most some 100 000 files, an earlier
# report of an hour's video at 30 fps is about 40 MB.
MAX_ANSWERS_BYTES = 1_000_000
MAX_PROFILE_BYTES = 1_000_000
MAX_MANIFEST_BYTES = 20_000_000
MAX_REPORT_BYTES = 256_000_000


class FileTooLarge(ValueError):
    """The file holds more than the limit; ``limit_bytes`` says how much is allowed."""

    def __init__(self, path: str | os.PathLike[str], limit_bytes: int) -> None:
        super().__init__(f"{path} is larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


def read_text_at_most(
    path: str | os.PathLike[str], limit_bytes: int, encoding: str = "utf-8"
) -> str:
    """The file's text; FileTooLarge past ``limit_bytes`` (read no further than one byte
    past it, so a device or a pipe that never ends costs nothing), OSError and
    UnicodeDecodeError as ``open`` and ``decode`` raise them."""
    with open(Path(path), "rb") as fh:
        data = fh.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        raise FileTooLarge(path, limit_bytes)
    return data.decode(encoding)


def too_large_sentence(what: str, path: str | os.PathLike[str], limit_bytes: int) -> str:
    return (
        f"The {what} file {path} is larger than {limit_bytes / 1e6:g} MB, far more than such a "
        "file holds: check the path."
    )

"""What a batch analyses: every video and image under a folder, or the rows of a manifest CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from posture.batch.choices import VIEW_CHOICES
from posture.errors import PostureError
from posture.geometry.trunk import View
from posture.io.bounded import (
    MAX_MANIFEST_BYTES,
    FileTooLarge,
    read_text_at_most,
    too_large_sentence,
)
from posture.io.file_types import MEDIA_EXTENSIONS

MANIFEST_COLUMNS = ("path", "view", "subject")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BatchInput:
    """One file to analyse.

    Attributes:
        path: absolute path of the video or image.
        name: its result folder's name under --out (unique within the batch).
        view: forced view for this input; None detects it.
        subject: free-text subject identifier from the manifest (kept in the report).
    """

    path: Path
    name: str
    view: View | None = None
    subject: str | None = None


def load_inputs(
    source: str | os.PathLike[str], default_view: View | None = None, exclude: Path | None = None
) -> list[BatchInput]:
    """Inputs of a folder (recursive) or a manifest CSV; PostureError when there are none."""
    p = Path(source).expanduser()
    if not p.exists():
        raise PostureError(
            f"{p} was not found: give a folder of recordings or a manifest .csv file."
        )
    if p.is_dir():
        return find_inputs(p, default_view, exclude)
    if p.suffix.lower() == ".csv":
        return read_manifest(p, default_view)
    raise PostureError(
        f"{p.name} is neither a folder nor a .csv manifest: give a folder of recordings "
        "or a CSV file with a 'path' column."
    )


def find_inputs(
    folder: Path, default_view: View | None = None, exclude: Path | None = None
) -> list[BatchInput]:
    """Videos and images under ``folder``, sorted; hidden files and ``exclude`` are skipped.

    Hidden files are skipped because copies from macOS carry ``._clip.mp4``
    companions that are not videos; ``exclude`` is the output folder, whose
    annotated videos must not become inputs of the next run.
    """
    root = folder.resolve()
    skip = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if skip is not None and (f == skip or skip in f.parents):
            continue
        if f.suffix.lower() in MEDIA_EXTENSIONS and f.is_file():
            found.append(f)
    if not found:
        raise PostureError(
            f"No videos or images were found in {folder}: put recordings "
            f"({', '.join(sorted(e.lstrip('.') for e in MEDIA_EXTENSIONS))}) in it or its "
            "subfolders."
        )
    names = unique_names(found, root)
    return [BatchInput(f, n, default_view) for f, n in zip(found, names, strict=True)]


def read_manifest(manifest: Path, default_view: View | None = None) -> list[BatchInput]:
    """Rows of a CSV with a ``path`` column (relative paths are relative to the CSV's
    folder) and optional ``view`` (auto/front/left/right) and ``subject`` columns."""
    rows = _manifest_rows(manifest)
    base = manifest.resolve().parent
    seen: dict[Path, int] = {}
    items: list[tuple[Path, View | None, str | None]] = []
    for row_no, row in rows:
        raw_path = row.get("path", "")
        if not raw_path:
            raise PostureError(
                f"Row {row_no} of {manifest.name} has no path: give each row a file path."
            )
        path = Path(raw_path).expanduser()
        path = (path if path.is_absolute() else base / path).resolve()
        if path in seen:
            raise PostureError(
                f"Row {row_no} of {manifest.name} lists {raw_path} again (first on row "
                f"{seen[path]}): list each file once."
            )
        seen[path] = row_no
        items.append((path, _row_view(row, row_no, manifest, default_view), row.get("subject")))
    if not items:
        raise PostureError(
            f"The manifest {manifest.name} lists no files: add one file path per row "
            "under a 'path' header."
        )
    names = unique_names([p for p, _, _ in items], base)
    return [
        BatchInput(p, n, view, subject or None)
        for (p, view, subject), n in zip(items, names, strict=True)
    ]


def _manifest_rows(manifest: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet shows it, cells by lower-case column) of non-empty rows."""
    try:
        text = read_text_at_most(manifest, MAX_MANIFEST_BYTES, encoding="utf-8-sig")
    except FileTooLarge as err:
        raise PostureError(too_large_sentence("manifest", manifest, err.limit_bytes)) from err
    except (OSError, UnicodeDecodeError) as err:
        raise PostureError(
            f"The manifest {manifest} is not readable UTF-8 text: save it as CSV (UTF-8)."
        ) from err
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "path" not in header:
        raise PostureError(
            f"The manifest {manifest.name} has no 'path' column: start it with a header row "
            "such as path,view,subject."
        )
    rows = []
    for row_no, cells in enumerate(reader, start=2):
        values = {h: c.strip() for h, c in zip(header, cells, strict=False) if h}
        if any(values.values()):
            rows.append((row_no, values))
    return rows


def _row_view(
    row: dict[str, str], row_no: int, manifest: Path, default_view: View | None
) -> View | None:
    view = row.get("view", "").lower()
    if not view:
        return default_view
    if view not in VIEW_CHOICES:
        raise PostureError(
            f"Row {row_no} of {manifest.name} has view '{row['view']}': use one of "
            f"{', '.join(VIEW_CHOICES)} (or leave it empty)."
        )
    return None if view == "auto" else view  # type: ignore[return-value]


def unique_names(paths: Iterable[Path], root: Path) -> list[str]:
    """Result folder names: the path under ``root`` with '/' as '__', made filesystem-safe.

    Files outside ``root`` use their own name; a name that would repeat gets a
    short hash of the full path, so names stay the same from one run to the next.
    """
    paths = list(paths)
    plain = [_safe_name(_relative_or_name(p, root)) for p in paths]
    counts: dict[str, int] = {}
    for n in plain:
        counts[n] = counts.get(n, 0) + 1
    out = []
    for p, n in zip(paths, plain, strict=True):
        if counts[n] > 1:
            digest = hashlib.sha1(str(p).encode()).hexdigest()[:8]
            stem, dot, ext = n.rpartition(".")
            n = f"{stem}-{digest}.{ext}" if dot else f"{n}-{digest}"
        out.append(n)
    return out


def _relative_or_name(path: Path, root: Path) -> str:
    try:
        return "__".join(path.relative_to(root).parts)
    except ValueError:
        return path.name


def _safe_name(name: str) -> str:
    safe = _UNSAFE_NAME_CHARS.sub("_", name).lstrip(".")
    return safe or "input"

"""Batch analysis: a folder or a manifest of recordings, one result folder per input.

The layers read in order: ``inputs`` (what to analyse) -> ``jobs`` (content keys
and settings) -> ``worker`` (one analysis, run in a worker process) ->
``engines`` (a local process pool or Ray) -> ``store`` (atomic result folders,
resume) -> ``summary`` (one CSV across inputs); ``runner`` ties them together
and ``cli`` is the ``posture batch`` command. ``stride`` analyses every Nth frame
of long recordings.
"""

from __future__ import annotations

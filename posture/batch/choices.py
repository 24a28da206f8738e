"""Values the batch command offers, kept free of heavy imports (the CLI reads them at start)."""

from __future__ import annotations

from typing import Literal

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")
VIEW_CHOICES = ("auto", "front", "left", "right")
# At 30 fps a stride of 30 still leaves one frame a second; beyond that neck
# movements (about 1 s each way) would be missed altogether.
MAX_FRAME_STRIDE = 30
